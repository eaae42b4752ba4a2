"""5.2's input deficits for an MLP: a Gaussian blur of the input during a window of epochs, per member.

Both are Recipe components (fixtures/zoo.py): `MemberBlur` as the augmentation of a StackedMembers model whose
members are conditions (no blur, early, late, ...), `StepDecay` as its learning-rate schedule.
"""
from __future__ import annotations

import dataclasses

import torch
from torch.nn import functional as F


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur along the last axis (zero padding), for signals of shape (..., L)."""
    radius = int(3 * sigma)
    taps = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-taps ** 2 / (2 * sigma ** 2))
    kernel = (kernel / kernel.sum()).view(1, 1, -1)
    return F.conv1d(x.reshape(-1, 1, x.shape[-1]), kernel, padding=radius).reshape(x.shape)


def deficit_mask(conditions: list[str], start: int, length: int, late_start: int):
    """blanked(epoch) -> (M,) bool: which members are in their deficit window at `epoch`."""
    early = torch.tensor([c == "early" for c in conditions])
    late = torch.tensor([c == "late" for c in conditions])
    return lambda epoch: ((early & (start <= epoch < start + length))
                          | (late & (late_start <= epoch < late_start + length)))


@dataclasses.dataclass(frozen=True)
class MemberBlur:
    """Each batch becomes one copy per member; "early" members see it blurred during epochs [0, deficit),
    "late" members during [late_start, late_start + deficit), the others never."""

    conditions: tuple[str, ...]
    sigma: float
    deficit: int
    late_start: int

    def transform(self, seed: int):
        blanked = deficit_mask(list(self.conditions), 0, self.deficit, self.late_start)

        def apply(epoch: int, x: torch.Tensor) -> torch.Tensor:
            xm = x.expand(len(self.conditions), *x.shape).clone()
            xm[blanked(epoch)] = blur(x, self.sigma)
            return xm
        return apply


@dataclasses.dataclass(frozen=True)
class StepDecay:
    """Learning rate lr x factor^epoch, with the epoch counted from the global step."""

    lr: float
    factor: float
    steps_per_epoch: int

    def __call__(self, step: int) -> float:
        return self.lr * self.factor ** (step // self.steps_per_epoch)
