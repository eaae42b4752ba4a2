"""Deleting residual blocks at test time (Veit et al. 2016): y_i = y_{i-1} instead of f_i(y_{i-1}) + y_{i-1}.

`ResMLP` and `ConvNet` (models/residual.py) delete whole blocks for a batch with forward(x, skip=...).
`forward_masked` deletes a different set of blocks for each sample (keep[b, i] False: sample b skips
block i), which the per-sample question needs; neither touches a weight, so nothing has to be restored.
"""
from __future__ import annotations

import numpy as np
import torch

from models.residual import ConvNet, ResMLP


@torch.no_grad()
def forward_masked(model: ResMLP | ConvNet, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Logits with block i applied to sample b only where keep[b, i] (a (B, blocks) bool tensor)."""
    if not isinstance(model, (ResMLP, ConvNet)):
        raise TypeError(f"forward_masked needs a ResMLP or ConvNet, got {type(model).__name__}")
    if keep.shape != (len(x), len(model.blocks)) or keep.dtype != torch.bool:
        raise ValueError(f"keep must be a bool tensor of shape {(len(x), len(model.blocks))}, "
                         f"got {tuple(keep.shape)} {keep.dtype}")
    h = model.stem(x.flatten(1) if isinstance(model, ResMLP) else x)
    for i, block in enumerate(model.blocks):
        mask = keep[:, i].view(-1, *([1] * (h.dim() - 1)))
        h = torch.where(mask, block(h), h)
    if isinstance(model, ConvNet):
        h = model.pool(h).flatten(1)
    return model.head(h)


@torch.no_grad()
def deletion_accuracies(model: ResMLP | ConvNet, x: torch.Tensor, y: torch.Tensor) -> tuple[float, list[float]]:
    """(accuracy of the whole model, [accuracy with block i deleted for i in blocks]), eval mode."""
    was_training = model.training
    model.eval()
    try:
        full = (model(x).argmax(1) == y).float().mean().item()
        deleted = [(model(x, skip={i}).argmax(1) == y).float().mean().item() for i in range(len(model.blocks))]
    finally:
        model.train(was_training)
    return full, deleted


@torch.no_grad()
def greedy_removable(model: ResMLP | ConvNet, x: torch.Tensor, order: list[int]) -> np.ndarray:
    """Per sample, how many blocks can be deleted together without changing its predicted class.

    Greedy: blocks are tried in `order` (e.g. least harmful first); block i is deleted for sample b
    when the prediction with all of b's deletions so far plus i still equals the full model's.
    Returns an int array (B,): a lower bound on the largest removable set of each sample.
    """
    was_training = model.training
    model.eval()
    try:
        n_blocks = len(model.blocks)
        if sorted(order) != list(range(n_blocks)):
            raise ValueError(f"order must be a permutation of range({n_blocks}), got {order}")
        keep = torch.ones(len(x), n_blocks, dtype=torch.bool, device=x.device)
        reference = forward_masked(model, x, keep).argmax(1)
        for i in order:
            trial = keep.clone()
            trial[:, i] = False
            same = forward_masked(model, x, trial).argmax(1) == reference
            keep = torch.where(same[:, None], trial, keep)
    finally:
        model.train(was_training)
    return (~keep).sum(1).cpu().numpy()
