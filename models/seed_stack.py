"""S models of one architecture as one module: every Linear and BatchNorm1d holds the S seeds' parameters.

`stack_seeds(models)` copies the first model and replaces each `nn.Linear` with a `SeedLinear` (weights
(S, out, in), one batched matmul for all seeds) and each `nn.BatchNorm1d` with a `SeedBatchNorm1d`
(per-seed statistics: one batch norm over S x C channels). Activations flow as one batch of S x B rows, seed
by seed (rows s*B .. s*B+B-1 belong to seed s), so the model's own forward code runs unchanged: flatten,
residual additions, concatenations and elementwise activations act row by row.

On a CPU this is the cheap way to train many small models: a stacked step costs one set of kernel launches and
Python calls for all seeds, where torch.func's vmap over `functional_call` costs more than the seeds it saves.
Each seed's arithmetic is that of its own model: a slice of `torch.baddbmm` is the matmul `F.linear` does
(measured bit-identical on this machine; another processor may round batched and single matmuls differently),
and a batch norm's channel statistics do not depend on the other channels.

Only modules whose parameters and buffers all live in Linear and BatchNorm1d layers can be stacked
(`can_stack`); convolutions are compute-bound on a CPU and gain nothing from stacking.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

STACKABLE = (nn.Linear, nn.BatchNorm1d)


class SeedLinear(nn.Module):
    """S linear layers: (S*B, in) -> (S*B, out), rows of seed s through layer s."""

    def __init__(self, layers: list[nn.Linear]):
        super().__init__()
        self.seeds = len(layers)
        self.weight = nn.Parameter(torch.stack([layer.weight.detach() for layer in layers]))       # (S, out, in)
        has_bias = layers[0].bias is not None
        self.bias = nn.Parameter(torch.stack([layer.bias.detach() for layer in layers])) if has_bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2:
            raise ValueError(f"SeedLinear takes (S*B, features) rows, got shape {tuple(x.shape)}")
        rows = x.reshape(self.seeds, -1, x.shape[1])                                             # (S, B, in)
        weight_t = self.weight.transpose(1, 2)
        out = torch.bmm(rows, weight_t) if self.bias is None else torch.baddbmm(self.bias.unsqueeze(1), rows,
                                                                                 weight_t)
        return out.reshape(-1, out.shape[2])


class SeedBatchNorm1d(nn.Module):
    """S BatchNorm1d layers over (S*B, C) rows: batch statistics and running statistics per seed and channel."""

    def __init__(self, layers: list[nn.BatchNorm1d]):
        super().__init__()
        first = layers[0]
        if not _stackable_batchnorm(first):
            raise ValueError("SeedBatchNorm1d stacks affine BatchNorm1d layers with running statistics and a "
                             "momentum")
        self.seeds, self.channels = len(layers), first.num_features
        self.eps, self.momentum = first.eps, first.momentum
        self.weight = nn.Parameter(torch.stack([layer.weight.detach() for layer in layers]))       # (S, C)
        self.bias = nn.Parameter(torch.stack([layer.bias.detach() for layer in layers]))
        self.register_buffer("running_mean", torch.stack([layer.running_mean for layer in layers]).clone())
        self.register_buffer("running_var", torch.stack([layer.running_var for layer in layers]).clone())
        self.register_buffer("num_batches_tracked",
                             torch.stack([layer.num_batches_tracked for layer in layers]).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.channels:
            raise ValueError(f"SeedBatchNorm1d takes (S*B, {self.channels}) rows, got shape {tuple(x.shape)}")
        s, c = self.seeds, self.channels
        wide = x.reshape(s, -1, c).transpose(0, 1).reshape(-1, s * c)                            # (B, S*C)
        if self.training:
            self.num_batches_tracked.add_(1)
        out = F.batch_norm(wide, self.running_mean.view(-1), self.running_var.view(-1), self.weight.view(-1),
                           self.bias.view(-1), self.training, self.momentum, self.eps)
        return out.reshape(-1, s, c).transpose(0, 1).reshape(-1, c)


def _stackable_batchnorm(module: nn.BatchNorm1d) -> bool:
    return module.momentum is not None and module.affine and module.track_running_stats


def can_stack(model: nn.Module) -> bool:
    """Whether every parameter and buffer of `model` belongs to a Linear or BatchNorm1d layer that
    `stack_seeds` can replace, and no layer draws random numbers (dropout would draw one seed's masks from
    a stream shared with the others, so a seed would not train as it does alone). A parameter-free module
    that mixes the rows of a batch would break the row-per-seed layout: none of the project's models has one."""
    for module in model.modules():
        if isinstance(module, nn.modules.dropout._DropoutNd):
            return False
        if isinstance(module, nn.BatchNorm1d):
            if not _stackable_batchnorm(module):
                return False
        elif not isinstance(module, STACKABLE):
            if any(True for _ in module.parameters(recurse=False)) or any(True for _ in module.buffers(recurse=False)):
                return False
    return True


def stack_seeds(models: list[nn.Module]) -> nn.Module:
    """One module computing all `models` (same architecture) on S*B rows; its state_dict has the models'
    keys, each tensor with a leading seed dimension."""
    if not models:
        raise ValueError("stack_seeds needs at least one model")
    if not can_stack(models[0]):
        raise ValueError(f"{type(models[0]).__name__} has parameters or buffers outside Linear and BatchNorm1d "
                         "layers: it cannot be stacked")
    keys = [list(m.state_dict()) for m in models]
    if any(k != keys[0] for k in keys):
        raise ValueError("stack_seeds needs models of one architecture")
    if isinstance(models[0], STACKABLE):
        return SeedLinear(models) if isinstance(models[0], nn.Linear) else SeedBatchNorm1d(models)
    stacked = copy.deepcopy(models[0])
    for name, module in list(stacked.named_modules()):
        if isinstance(module, STACKABLE):
            layers = [m.get_submodule(name) for m in models]
            seed_layer = SeedLinear(layers) if isinstance(module, nn.Linear) else SeedBatchNorm1d(layers)
            parent, _, child = name.rpartition(".")
            setattr(stacked.get_submodule(parent), child, seed_layer)
    return stacked


def seed_state(stacked: nn.Module, index: int) -> dict[str, torch.Tensor]:
    """Seed `index`'s state dict (a copy), in the keys of the models that were stacked."""
    return {k: v[index].detach().clone() for k, v in stacked.state_dict().items()}


def unstack_into(stacked: nn.Module, models: list[nn.Module]) -> None:
    """Load seed i's slice of the stacked state into models[i]."""
    for i, model in enumerate(models):
        model.load_state_dict(seed_state(stacked, i))
