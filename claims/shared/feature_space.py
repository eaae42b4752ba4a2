"""Sample means, class means and the farthest sample (1.2), and feature-space figures (1.3, 1.4).

Definitions, for samples x_1..x_n in R^m with labels y_i in {1..k}:
    mu     = (1/n) sum_i x_i
    mu_c   = (1/n_c) sum_{i: y_i = c} x_i                      (n_c = #{i: y_i = c})
    far_c  = argmax_{i: y_i = c} ||x_i - mu_c||_2              (the lowest index on ties)
The functions below are vectorized; the claims compare them with these definitions written as loops.
"""
from __future__ import annotations

import numpy as np

OVERALL_MEAN_GID = "overall-mean"
CLASS_MEAN_GID = "class-means"


def _check(x: np.ndarray, y: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"x must be a non-empty 2-D array (n samples, m features), got shape {x.shape}")
    if y is None:
        return x, None
    y = np.asarray(y)
    if y.shape != (len(x),):
        raise ValueError(f"y must be a 1-D array of {len(x)} labels, got shape {y.shape}")
    return x, y


def sample_mean(x: np.ndarray) -> np.ndarray:
    """mu, shape (m,)."""
    x, _ = _check(x)
    return x.sum(axis=0) / len(x)


def class_means(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(classes, means): the sorted labels present and mu_c for each, shape (k, m)."""
    x, y = _check(x, y)
    classes, idx, counts = np.unique(y, return_inverse=True, return_counts=True)
    onehot = np.zeros((len(classes), len(x)))
    onehot[idx, np.arange(len(x))] = 1.0                       # (k, n)
    return classes, (onehot @ x) / counts[:, None]             # (k, m)


def farthest_per_class(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(classes, indices): for each class the index of its sample farthest from the class mean."""
    x, y = _check(x, y)
    classes, means = class_means(x, y)
    idx = np.searchsorted(classes, y)
    dist = np.linalg.norm(x - means[idx], axis=1)              # (n,) distance to own class mean
    order = np.lexsort((np.arange(len(x)), -dist, idx))        # by class, then farthest, then index
    first = np.flatnonzero(np.r_[True, np.diff(idx[order]) != 0])
    return classes, order[first]


def labelled_blobs(n: int, m: int, k: int, *, seed: int, spread: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Random data for the exercises: k Gaussian classes in R^m, centres ~ N(0, spread^2 I), unit noise,
    labels drawn uniformly (every class present when n >= k)."""
    if n < 1 or m < 1 or k < 1:
        raise ValueError(f"n, m and k must be positive, got n={n}, m={m}, k={k}")
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % k)
    centres = rng.normal(scale=spread, size=(k, m))
    return centres[y] + rng.normal(size=(n, m)), y


def plot_feature_space(ax, x2: np.ndarray, y: np.ndarray, *, title: str, xlabel: str = "feature 1",
                       ylabel: str = "feature 2", farthest: bool = False) -> None:
    """Samples coloured by class, every class mean (large marker, same colour) and the overall mean;
    farthest=True also rings each class's sample farthest from its class mean.

    The mean markers carry gids so that a test can read back what was drawn.
    """
    x2, y = _check(x2, y)
    if x2.shape[1] != 2:
        raise ValueError(f"plot_feature_space draws 2-D points, got {x2.shape[1]} columns")
    classes, means = class_means(x2, y)
    colors = [f"C{i % 10}" for i in range(len(classes))]
    for c, color in zip(classes, colors):
        pts = x2[y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=10, alpha=0.45, color=color, label=f"class {c}")
    ax.scatter(means[:, 0], means[:, 1], s=160, marker="X", c=colors, edgecolors="black", linewidths=1.2,
               gid=CLASS_MEAN_GID, label="class means", zorder=3)
    if farthest:
        far = x2[farthest_per_class(x2, y)[1]]
        ax.scatter(far[:, 0], far[:, 1], s=90, facecolors="none", edgecolors=colors, linewidths=1.5,
                   label="farthest from class mean")
    mu = sample_mean(x2)
    ax.scatter([mu[0]], [mu[1]], s=260, marker="*", color="black", gid=OVERALL_MEAN_GID,
               label="overall mean", zorder=4)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, markerscale=0.6)


def plotted_points(ax, gid: str) -> np.ndarray:
    """The (x, y) offsets of the scatter artist drawn with `gid`."""
    found = [c for c in ax.collections if c.get_gid() == gid]
    if len(found) != 1:
        raise LookupError(f"expected one artist with gid {gid!r}, found {len(found)}")
    return np.asarray(found[0].get_offsets(), dtype=float)
