"""Core-set selection (1.6): choose k << n training samples that cover the data better than chance.

k-center greedy (Gonzalez 1985; Sener & Savarese 2018): start from one sample, then repeatedly add the
sample farthest from every chosen one. Its covering radius is at most twice the optimal k-center
radius. The class-balanced variant runs k-center greedy inside each class with an equal share of the
budget (diverse within classes, balanced across them, in the spirit of Mahabadi & Trajanovski 2023).
"""
from __future__ import annotations

import numpy as np

from claimcheck.lazy import LazyModule

distance = LazyModule("scipy.spatial.distance")  # scipy.spatial: imported on use, not at collection


def _check(x: np.ndarray, k: int) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"x must be a non-empty 2-D array (n, m), got shape {x.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(x):
        raise ValueError(f"k must be an integer with 1 <= k <= n = {len(x)}, got {k!r}")
    return x


def k_center_greedy(x: np.ndarray, k: int, *, first: int = 0) -> np.ndarray:
    """Indices of k samples chosen by farthest-first traversal, starting from sample `first`."""
    x = _check(x, k)
    if not 0 <= first < len(x):
        raise ValueError(f"first must index a sample (0 <= first < {len(x)}), got {first}")
    chosen = [int(first)]
    nearest = _squared_distances(x, x[first])          # (n,) squared distance to the closest chosen sample
    for _ in range(k - 1):
        nxt = int(np.argmax(nearest))
        chosen.append(nxt)
        nearest = np.minimum(nearest, _squared_distances(x, x[nxt]))
    return np.asarray(chosen)


def _squared_distances(x: np.ndarray, center: np.ndarray) -> np.ndarray:
    """||x_i - center||^2 for every row (the farthest sample is the same as by distance, without the square root)."""
    diff = x - center
    return np.einsum("ij,ij->i", diff, diff)


def class_balanced_k_center(x: np.ndarray, y: np.ndarray, k: int, *, seed: int) -> np.ndarray:
    """k-center greedy inside each class, the budget split as evenly as the classes allow."""
    x = _check(x, k)
    y = np.asarray(y)
    if y.shape != (len(x),):
        raise ValueError(f"y must have shape ({len(x)},), got {y.shape}")
    classes = np.unique(y)
    if k < len(classes):
        raise ValueError(f"k = {k} is smaller than the number of classes ({len(classes)})")
    rng = np.random.default_rng(seed)
    shares = np.full(len(classes), k // len(classes))
    shares[rng.permutation(len(classes))[: k % len(classes)]] += 1
    chosen = []
    for c, share in zip(classes, shares):
        members = np.flatnonzero(y == c)
        share = min(int(share), len(members))
        local = k_center_greedy(x[members], share, first=int(rng.integers(len(members))))
        chosen.append(members[local])
    return np.concatenate(chosen)


def random_subset(n: int, k: int, *, seed: int) -> np.ndarray:
    """k distinct indices drawn uniformly from range(n)."""
    if not 1 <= k <= n:
        raise ValueError(f"k must satisfy 1 <= k <= n = {n}, got {k}")
    return np.random.default_rng(seed).choice(n, size=k, replace=False)


def covering_radius(x: np.ndarray, centers: np.ndarray) -> float:
    """max_i min_j ||x_i - x_centers[j]||: the largest distance from a sample to its nearest center."""
    x = np.asarray(x, dtype=float)
    centers = np.asarray(centers)
    if centers.ndim != 1 or len(centers) == 0:
        raise ValueError("centers must be a non-empty 1-D array of sample indices")
    return float(distance.cdist(x, x[centers]).min(axis=1).max())   # (n, k) -> nearest -> max


def separation_lower_bound(x: np.ndarray, centers: np.ndarray) -> float:
    """A lower bound on the optimal k-center radius: half the smallest pairwise distance among the
    k centers plus the sample farthest from them (k + 1 points, so an optimal solution puts two of them
    in one ball of radius OPT: OPT >= their distance / 2)."""
    x = np.asarray(x, dtype=float)
    far = int(distance.cdist(x, x[centers]).min(axis=1).argmax())
    points = x[np.append(centers, far)]
    d = distance.cdist(points, points)
    return float(d[np.triu_indices(len(points), 1)].min() / 2)


def one_nn_accuracy(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """Test accuracy of the 1-nearest-neighbour classifier (Euclidean) on the given training samples."""
    nearest = distance.cdist(x_test, x_train).argmin(axis=1)
    return float((np.asarray(y_train)[nearest] == np.asarray(y_test)).mean())
