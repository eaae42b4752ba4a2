"""Hyper-parameter search as supervised learning (3.6): configurations are rows of X, accuracies are Y.

A grid over optimizer x initialization x initial learning rate is trained and measured; each
configuration is encoded as a feature vector (one-hot categorical axes, log10 of the learning rate), and
a regressor fitted on the observed rows predicts the accuracy of a configuration it has not seen.
`leave_one_out` measures that honestly: each configuration is predicted by a model fitted on all others.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class Space:
    """The axes of the grid; every axis needs at least two options."""

    optimizers: tuple[str, ...]
    inits: tuple[str, ...]
    lrs: tuple[float, ...]

    def __post_init__(self):
        for name in ("optimizers", "inits", "lrs"):
            options = getattr(self, name)
            if len(options) < 2 or len(set(options)) != len(options):
                raise ValueError(f"{name} needs at least two distinct options, got {options!r}")
        if any(not (math.isfinite(lr) and lr > 0) for lr in self.lrs):
            raise ValueError(f"learning rates must be finite and > 0, got {self.lrs!r}")

    def grid(self) -> list[tuple[str, str, float]]:
        return list(itertools.product(self.optimizers, self.inits, self.lrs))

    def encode(self, config: tuple[str, str, float]) -> np.ndarray:
        """[one-hot optimizer | one-hot init | log10 lr]."""
        opt, init, lr = config
        if opt not in self.optimizers or init not in self.inits or not lr > 0:
            raise ValueError(f"configuration {config!r} is outside the space {self}")
        return np.array([o == opt for o in self.optimizers] + [i == init for i in self.inits] + [math.log10(lr)],
                        dtype=float)


def leave_one_out(x: np.ndarray, y: Sequence[float], make_model: Callable[[], object]) -> tuple[np.ndarray, np.ndarray]:
    """(model predictions, mean-predictor predictions) for every row, each fitted without that row."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 2 or y.shape != (len(x),) or len(x) < 3:
        raise ValueError(f"need X (n, d) and y (n,) with n >= 3, got {x.shape} and {y.shape}")
    pred, mean = np.empty(len(y)), np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        pred[i] = float(np.ravel(make_model().fit(x[keep], y[keep]).predict(x[i:i + 1]))[0])
        mean[i] = y[keep].mean()
    return pred, mean
