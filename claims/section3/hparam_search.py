"""Hyper-parameter search as supervised learning (3.6): configurations are rows of X, accuracies are Y.

A grid over optimizer x initialization x initial learning rate is trained and measured; each
configuration is encoded as a feature vector (one-hot categorical axes, log10 of the learning rate), and
a regressor fitted on the observed rows predicts the accuracy of configurations it has not seen.

"Not seen" means hyper-parameter VALUES never tried, not new combinations of tried values: `held_out_sets`
names the folds (which configurations are fitted, which predicted) in which a whole value is absent from
the fitted rows: learning rates between the grid's points or beyond them (trained as extra configurations,
never fitted), one of the grid's learning rates left out, one initialization left out.
`nearest_configuration` is the trivial baseline a regressor has to beat besides the mean: the accuracy of
the nearest observed configuration, interpolated in log learning rate.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np

Config = tuple[str, str, float]   # (optimizer, initialization, initial learning rate)


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
        _check_lrs(self.lrs)

    def grid(self, lrs: Sequence[float] | None = None) -> list[Config]:
        """optimizer x init x lr over the grid's learning rates, or over `lrs` (e.g. values off the grid)."""
        return list(itertools.product(self.optimizers, self.inits, self.lrs if lrs is None else _check_lrs(lrs)))

    def encode(self, config: Config) -> np.ndarray:
        """[one-hot optimizer | one-hot init | log10 lr]; any learning rate > 0, on the grid or not."""
        opt, init, lr = config
        if opt not in self.optimizers or init not in self.inits or not lr > 0:
            raise ValueError(f"configuration {config!r} is outside the space {self}")
        return np.array([o == opt for o in self.optimizers] + [i == init for i in self.inits] + [math.log10(lr)],
                        dtype=float)


def _check_lrs(lrs: Sequence[float]) -> tuple[float, ...]:
    if any(not (math.isfinite(lr) and lr > 0) for lr in lrs):
        raise ValueError(f"learning rates must be finite and > 0, got {tuple(lrs)!r}")
    return tuple(lrs)


@dataclasses.dataclass(frozen=True)
class Fold:
    """One fit: the configurations whose accuracies are fitted, and those predicted (none of them fitted)."""

    fitted: tuple[Config, ...]
    predicted: tuple[Config, ...]

    def __post_init__(self):
        if set(self.fitted) & set(self.predicted):
            raise ValueError("a predicted configuration is among the fitted ones")


def held_out_sets(space: Space, between: Sequence[float], beyond: Sequence[float]) -> dict[str, list[Fold]]:
    """The ways a value is held out, each a list of folds. `between`: learning rates strictly inside the
    grid's range and not on it; `beyond`: learning rates outside it (both predicted from the whole grid).

    - between:        the grid fitted, the `between` configurations predicted (interpolation);
    - beyond:         the grid fitted, the `beyond` configurations predicted (extrapolation);
    - end left out:   the lowest or the highest grid learning rate left out (extrapolation), one fold each;
    - inner left out: each other grid learning rate left out (interpolation across a wider gap);
    - init left out:  each initialization left out (a category never seen), one fold each.
    """
    lo, hi = min(space.lrs), max(space.lrs)
    if any(not lo < lr < hi or lr in space.lrs for lr in between):
        raise ValueError(f"'between' learning rates must lie strictly inside ({lo:g}, {hi:g}) and off the grid")
    if any(lo <= lr <= hi for lr in beyond):
        raise ValueError(f"'beyond' learning rates must lie outside [{lo:g}, {hi:g}]")
    grid = tuple(space.grid())

    def leave_out(keep: Callable[[Config], bool]) -> Fold:
        return Fold(tuple(c for c in grid if keep(c)), tuple(c for c in grid if not keep(c)))
    return {
        "between": [Fold(grid, tuple(space.grid(between)))],
        "beyond": [Fold(grid, tuple(space.grid(beyond)))],
        "end left out": [leave_out(lambda c, v=v: c[2] != v) for v in (lo, hi)],
        "inner left out": [leave_out(lambda c, v=v: c[2] != v) for v in sorted(space.lrs) if lo < v < hi],
        "init left out": [leave_out(lambda c, v=v: c[1] != v) for v in space.inits],
    }


def nearest_configuration(fitted: Sequence[Config], y: Sequence[float], predicted: Sequence[Config]) -> np.ndarray:
    """The trivial baseline: for each predicted configuration, the accuracies of the fitted ones with the same
    optimizer and initialization, linearly interpolated in log10 lr between the two nearest learning rates, and
    the nearest one's accuracy beyond the fitted range (constant extrapolation). An initialization never fitted:
    the mean accuracy of the fitted configurations with the same optimizer and learning rate."""
    y = np.asarray(y, dtype=float)
    if y.shape != (len(fitted),):
        raise ValueError(f"need one accuracy per fitted configuration, got {y.shape} for {len(fitted)}")
    out = []
    for opt, init, lr in predicted:
        same = sorted((math.log10(c[2]), v) for c, v in zip(fitted, y) if c[:2] == (opt, init))
        if same:
            xs, ys = zip(*same)
            out.append(float(np.interp(math.log10(lr), xs, ys)))   # constant beyond the ends
            continue
        other_inits = [v for c, v in zip(fitted, y) if c[0] == opt and c[2] == lr]
        if not other_inits:
            raise ValueError(f"no fitted configuration near {(opt, init, lr)!r}")
        out.append(float(np.mean(other_inits)))
    return np.array(out)


def fold_predictions(space: Space, fold: Fold, accuracy: Callable[[Config], float],
                     regressors: dict[str, Callable[[], object]]) -> dict[str, np.ndarray]:
    """Predictions for `fold.predicted` of the mean of the fitted accuracies ("mean"), `nearest_configuration`
    ("nearest") and each regressor (a fresh model from its factory, fitted on the encoded fitted rows), with
    the measured accuracies under "measured"."""
    y = np.array([accuracy(c) for c in fold.fitted])
    x_fit = np.stack([space.encode(c) for c in fold.fitted])
    x_new = np.stack([space.encode(c) for c in fold.predicted])
    out = {"measured": np.array([accuracy(c) for c in fold.predicted]),
           "mean": np.full(len(fold.predicted), y.mean()),
           "nearest": nearest_configuration(fold.fitted, y, fold.predicted)}
    for name, make in regressors.items():
        out[name] = np.ravel(make().fit(x_fit, y).predict(x_new)).astype(float)
    return out


def pooled_predictions(space: Space, folds: Sequence[Fold], accuracy: Callable[[Config], float],
                       regressors: dict[str, Callable[[], object]]) -> dict[str, np.ndarray]:
    """`fold_predictions` of every fold, concatenated (each configuration predicted once, by the fold that
    left it out)."""
    parts = [fold_predictions(space, f, accuracy, regressors) for f in folds]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
