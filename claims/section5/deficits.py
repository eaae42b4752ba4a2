"""5.2's input deficits and regularizers, per member, during a window of epochs.

`MemberWindows` (a Recipe augmentation, fixtures/zoo.py, or a `train` batch transform) gives each member of a stacked
model its own copy of the batch, blurred (`pool_blur`) or randomly shifted (`random_shift`) while its window is
active; `StepDecay` is the learning-rate schedule; `deficit_mask` says which deep-linear members are blanked.
"""
from __future__ import annotations

import dataclasses

import torch
from torch.nn import functional as F

from claimcheck.seeds import derive


def deficit_mask(conditions: list[str], start: int, length: int, late_start: int):
    """blanked(epoch) -> (M,) bool: which members are in their deficit window at `epoch`."""
    early = torch.tensor([c == "early" for c in conditions])
    late = torch.tensor([c == "late" for c in conditions])
    return lambda epoch: ((early & (start <= epoch < start + length))
                          | (late & (late_start <= epoch < late_start + length)))


@dataclasses.dataclass(frozen=True)
class StepDecay:
    """Learning rate lr x factor^epoch, with the epoch counted from the global step."""

    lr: float
    factor: float
    steps_per_epoch: int

    def __call__(self, step: int) -> float:
        return self.lr * self.factor ** (step // self.steps_per_epoch)


def pool_blur(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Achille et al.'s blur for 1-D signals (..., L): average-pool by `factor`, then linear upsampling back to L
    (the detail finer than `factor` samples is gone, the coarse shape stays)."""
    flat = x.reshape(-1, 1, x.shape[-1])
    coarse = F.avg_pool1d(flat, factor)
    return F.interpolate(coarse, size=x.shape[-1], mode="linear", align_corners=False).reshape(x.shape)


def random_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Each signal of x (B, L) rolled circularly by its own shift, uniform in [-max_shift, max_shift]."""
    shifts = torch.randint(-max_shift, max_shift + 1, (x.shape[0],), generator=gen)
    index = (torch.arange(x.shape[-1])[None, :] - shifts[:, None]) % x.shape[-1]
    return torch.gather(x, 1, index.to(x.device))


@dataclasses.dataclass(frozen=True)
class Window:
    """What one member sees: `kind` ("blur", "shift" or "clean") during epochs [start, stop), clean otherwise."""

    kind: str = "clean"
    start: int = 0
    stop: int = 0

    def __post_init__(self):
        if self.kind not in ("blur", "shift", "clean") or not 0 <= self.start <= self.stop:
            raise ValueError(f"a window is blur, shift or clean over 0 <= start <= stop: {self}")

    def active(self, epoch: int) -> bool:
        return self.kind != "clean" and self.start <= epoch < self.stop


@dataclasses.dataclass(frozen=True)
class MemberWindows:
    """Each batch becomes one copy per member (M, B, L); member m's copy is blurred (pool_blur by
    `blur_factor`) or randomly shifted (by at most `max_shift`) while its window is active.

    Each member draws its shifts from its own generator (seeded from the run's seed and its index), so one
    member's draws never depend on another's windows."""

    windows: tuple[Window, ...]
    blur_factor: int = 4
    max_shift: int = 4

    def transform(self, seed: int):
        gens = [torch.Generator().manual_seed(derive(seed, "member", m)) for m in range(len(self.windows))]

        def apply(epoch: int, x: torch.Tensor) -> torch.Tensor:
            xm = x.expand(len(self.windows), *x.shape).clone()
            blurred = None
            for m, window in enumerate(self.windows):
                if window.active(epoch) and window.kind == "blur":
                    blurred = pool_blur(x, self.blur_factor) if blurred is None else blurred
                    xm[m] = blurred
                elif window.active(epoch):
                    xm[m] = random_shift(x, self.max_shift, gens[m])
            return xm
        return apply
