"""Training a chosen subset of a network's parameters (claim 5.3): BatchNorm only, or random weights."""
from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from claimcheck.seeds import derive


@dataclasses.dataclass(frozen=True)
class SubsetTraining:
    """Which parameters are trained and how (Adam, learning rate `lr` decayed to 0 by `cosine`). Every field
    changes the trained model, so the whole spec keys its cache entry."""

    which: str            # "bn" (BatchNorm gamma and beta) or "random-weights"
    epochs: int
    lr: float
    batch_size: int
    per_channel: int = 0  # random-weights only: trainable conv weights per output channel
    labels: str = "true"  # "true" or "shuffled" (training labels permuted: nothing to learn)

    def __post_init__(self):
        if self.which not in ("bn", "random-weights"):
            raise ValueError(f"which must be 'bn' or 'random-weights', got {self.which!r}")
        if (self.which == "random-weights") != (self.per_channel > 0):
            raise ValueError(f"per_channel must be positive exactly for random weights, got {self}")


@dataclasses.dataclass(frozen=True)
class TrainableSubset:
    """A Recipe's `trainable`: BatchNorm's gamma and beta, or `per_channel` random conv weights per output
    channel (the mask drawn from the seed)."""

    which: str
    per_channel: int = 0

    def select(self, model: nn.Module, seed: int) -> list[nn.Parameter]:
        if self.which == "bn":
            return bn_parameters(model)
        return random_weight_subset(model, self.per_channel, derive(seed, "mask"))


def bn_parameters(model: nn.Module) -> list[nn.Parameter]:
    """BatchNorm scale (gamma) and shift (beta) of every BN layer."""
    return [p for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) for p in m.parameters()]


def random_weight_subset(model: nn.Module, per_channel: int, seed: int) -> list[nn.Parameter]:
    """Make only `per_channel` random weights per output channel of each conv trainable: gradient-mask
    hooks zero the other entries' gradients, which Adam without weight decay then leaves unchanged.
    Returns the conv weights (to hand to the optimizer)."""
    gen = torch.Generator().manual_seed(seed)
    params = []
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d)):
            weight = module.weight
            fan_in = weight[0].numel()
            if per_channel > fan_in:
                raise ValueError(f"cannot choose {per_channel} of {fan_in} weights per channel")
            keep = torch.stack([torch.randperm(fan_in, generator=gen)[:per_channel] for _ in range(weight.shape[0])])
            mask = torch.zeros(weight.shape[0], fan_in).scatter_(1, keep, 1.0).view_as(weight)
            weight.requires_grad_(True)
            weight.register_hook(lambda grad, mask=mask: grad * mask.to(grad.device))
            params.append(weight)
    return params


@dataclasses.dataclass(frozen=True)
class CosineToZero:
    """Learning rate at a global step: cosine decay from lr to 0 over `steps` steps (a Recipe's lr_schedule)."""

    lr: float
    steps: int

    def __post_init__(self):
        if self.steps < 1:
            raise ValueError(f"steps must be positive, got {self.steps}")

    def __call__(self, step: int) -> float:
        return self.lr * 0.5 * (1 + math.cos(math.pi * min(step, self.steps) / self.steps))


def cosine(lr: float, steps: int) -> CosineToZero:
    return CosineToZero(lr, steps)


