"""Confidence and calibration of a classifier's softmax outputs (3.5)."""
from __future__ import annotations

import torch

ECE_BINS = 15  # Guo et al. (2017)'s equal-width confidence bins


def expected_calibration_error(logits: torch.Tensor, y: torch.Tensor, bins: int = ECE_BINS) -> float:
    """ECE = sum_b (n_b / n) |accuracy_b - confidence_b| over equal-width bins of the max probability."""
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    if logits.ndim != 2 or y.shape != logits.shape[:1] or len(y) == 0:
        raise ValueError(f"need logits (n, C) and labels (n,) with n >= 1, got {tuple(logits.shape)}, {tuple(y.shape)}")
    conf, pred = torch.softmax(logits.double(), dim=1).max(dim=1)
    correct = (pred == y).double()
    which = torch.clamp((conf * bins).ceil().long() - 1, 0, bins - 1)    # bin b holds conf in (b/B, (b+1)/B]
    ece = torch.zeros((), dtype=torch.float64)
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.double().mean() * (correct[mask].mean() - conf[mask].mean()).abs()
    return float(ece)


def mean_confidence(logits: torch.Tensor) -> float:
    """Mean over samples of the largest softmax probability."""
    return float(torch.softmax(logits.double(), dim=1).max(dim=1).values.mean())
