"""2.1: an MLP with n hidden layers in which layer i (i = 1..n) has k**i neurons."""
from __future__ import annotations

import dataclasses

from models.mlp import ACTIVATIONS, MLP, MLPConfig

MAX_WIDTH = 2 ** 16  # a layer of k**i neurons grows fast: 10**5 neurons is a 10**10-weight matrix


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class PowersMLPConfig:
    """in_features -> k -> k**2 -> ... -> k**n -> num_classes (n hidden layers plus a linear head)."""

    in_features: int
    n: int                      # number of hidden layers, >= 1
    k: int                      # layer i has k**i neurons, k >= 1
    num_classes: int
    activation: str = "relu"
    max_width: int = MAX_WIDTH  # refuse configurations whose widest layer exceeds this

    def __post_init__(self):
        for name in ("in_features", "n", "k", "num_classes", "max_width"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if self.k ** self.n > self.max_width:
            raise ValueError(f"layer n = {self.n} would have k**n = {self.k}**{self.n} = {self.k ** self.n} "
                             f"neurons, more than max_width = {self.max_width}")

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(self.k ** i for i in range(1, self.n + 1))

    def build(self) -> MLP:
        return MLP(MLPConfig(self.in_features, self.widths, self.num_classes, activation=self.activation))


def powers_mlp(*, in_features: int, n: int, k: int, num_classes: int, activation: str = "relu") -> MLP:
    """Build the MLP whose i-th hidden layer has k**i neurons (keyword-only, validated)."""
    return PowersMLPConfig(in_features, n, k, num_classes, activation).build()


def expected_parameters(in_features: int, widths: tuple[int, ...], num_classes: int) -> int:
    """sum_i (w_{i-1} + 1) w_i over the hidden layers and the head, with w_0 = in_features."""
    sizes = (in_features, *widths, num_classes)
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
