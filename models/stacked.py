"""Independent networks evaluated as one module: M members' layers stacked (models.seed_stack).

Training M small networks one by one is overhead-bound on a CPU; stacking them into one module that
`fixtures.training.train` optimizes with a summed loss trains each member exactly as alone (Adam and
SGD act elementwise and the members share no parameter), for a fraction of the cost. Unlike the zoo's
stacked training, each member may see its own input (x of shape (M, B, ...)), e.g. an input deficit
applied to some members only.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from models.seed_stack import seed_state, stack_seeds


class StackedMembers(nn.Module):
    """Members of one architecture of Linear and BatchNorm1d layers: forward(x) -> (M, B, outputs).

    sample_dims: dimensions of one input sample (1 for vectors, 3 for images). x of shape (B, *sample)
    is shared by every member; x of shape (M, B, *sample) gives member m its own x[m]. Each member's
    BatchNorm statistics are its own.
    """

    def __init__(self, members: list[nn.Module], *, sample_dims: int = 1):
        super().__init__()
        if not members:
            raise ValueError("StackedMembers needs at least one member")
        if sample_dims < 1:
            raise ValueError(f"sample_dims must be >= 1, got {sample_dims}")
        self.net = stack_seeds(members)
        self.members = len(members)
        self.sample_dims = sample_dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == self.sample_dims + 1:
            x = x.unsqueeze(0).expand(self.members, *x.shape)
        elif x.dim() != self.sample_dims + 2 or x.shape[0] != self.members:
            raise ValueError(f"expected x of shape (B, ...) or ({self.members}, B, ...) with {self.sample_dims} "
                             f"sample dimension(s), got {tuple(x.shape)}")
        out = self.net(x.reshape(-1, *x.shape[2:]))                       # (M*B, outputs), member by member
        return out.reshape(self.members, x.shape[1], -1)

    def member(self, index: int, like: nn.Module) -> nn.Module:
        """Member `index` as a plain module (a copy of `like` with that member's weights and buffers)."""
        if not 0 <= index < self.members:
            raise ValueError(f"member index must be in [0, {self.members}), got {index}")
        module = copy.deepcopy(like)
        module.load_state_dict(seed_state(self.net, index))
        return module


def stacked_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sum over members of each member's mean cross-entropy: logits (M, B, C), y (B,)."""
    members, batch, classes = logits.shape
    return F.cross_entropy(logits.reshape(-1, classes), y.repeat(members), reduction="sum") / batch


@dataclasses.dataclass(frozen=True)
class MembersConfig:
    """Members of one architecture trained as one StackedMembers module (a Recipe's arch).

    init_of[m]: which initialization member m starts from. Distinct initializations are drawn in order from
    torch's generator (the zoo seeds it per seed), so members with the same index start identical."""

    member: Any
    init_of: tuple[int, ...]

    def __post_init__(self):
        if not self.init_of or sorted(set(self.init_of)) != list(range(max(self.init_of) + 1)):
            raise ValueError(f"init_of must name initializations 0..k without gaps, got {self.init_of}")

    def members(self) -> list:
        """One module per member, each a copy of the initialization it starts from."""
        inits = [self.member.build() for _ in range(max(self.init_of) + 1)]
        return [copy.deepcopy(inits[i]) for i in self.init_of]

    def build(self) -> StackedMembers:
        return StackedMembers(self.members())


@dataclasses.dataclass(frozen=True)
class StackedCrossEntropy:
    """stacked_cross_entropy as a Recipe's loss."""

    def __call__(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return stacked_cross_entropy(logits, y)
