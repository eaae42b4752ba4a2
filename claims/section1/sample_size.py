"""Linear least squares when m > n (the sample size problem, 1.5), solved without gradient descent.

With n samples and m > n features, X^T X (m x m) has rank <= n < m and is singular, so the normal
equations' (X^T X)^-1 X^T Y does not exist. Three closed-form remedies:
    ridge:      W = (X^T X + lam I)^-1 X^T Y                       (lam > 0 makes it invertible)
    min-norm:   W = X^+ Y  (Moore-Penrose)  = X^T (X X^T)^-1 Y       (when the rows are independent)
    PCA + OLS:  project X on its first k principal components (k <= n), then ordinary least squares.
Every `fit_*` centres X and Y with the training means and returns (W, b) for the predictor x W + b.
"""
from __future__ import annotations

import numpy as np


def _check(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 2 or x.size == 0:
        raise ValueError(f"X must be a non-empty 2-D array (n, m), got shape {x.shape}")
    if y.ndim not in (1, 2) or len(y) != len(x):
        raise ValueError(f"Y must have {len(x)} rows (one per sample of X), got shape {y.shape}")
    return x, y


def ridge(x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """(X^T X + lam I)^-1 X^T Y, lam > 0 (no centring: the formula as written).

    When m > n it is computed as X^T (X X^T + lam I)^-1 Y (the same matrix by the push-through
    identity), which solves an n x n system instead of an m x m one.
    """
    x, y = _check(x, y)
    if not lam > 0:
        raise ValueError(f"ridge needs lam > 0 (lam = 0 is the singular normal equations), got {lam}")
    n, m = x.shape
    if m > n:
        return x.T @ np.linalg.solve(x @ x.T + lam * np.eye(n), y)
    return np.linalg.solve(x.T @ x + lam * np.eye(m), x.T @ y)


def min_norm(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """X^+ Y: the least-squares solution of smallest norm (it interpolates when rank X = n)."""
    x, y = _check(x, y)
    return np.linalg.pinv(x) @ y


def min_norm_dual(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """X^T (X X^T)^-1 Y: the same solution through the n x n Gram matrix (needs independent rows)."""
    x, y = _check(x, y)
    if np.linalg.matrix_rank(x) < len(x):
        raise ValueError("X X^T is singular (the rows of X are linearly dependent); use min_norm (pinv)")
    return x.T @ np.linalg.solve(x @ x.T, y)


def pca_ols(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """OLS on the first k principal components of (uncentred) X, mapped back: W = V_k (Z^T Z)^-1 Z^T Y."""
    x, y = _check(x, y)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= min(x.shape):
        raise ValueError(f"k must be an integer in [1, min(n, m) = {min(x.shape)}], got {k!r}")
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    v = vt[:k].T                                                   # (m, k)
    z = x @ v                                                      # (n, k) scores
    return v @ np.linalg.lstsq(z, y, rcond=None)[0]


REMEDIES = {"ridge": lambda x, y, cfg: ridge(x, y, cfg["lam"]),
            "min-norm (pinv)": lambda x, y, cfg: min_norm(x, y),
            "PCA + OLS": lambda x, y, cfg: pca_ols(x, y, cfg["k"])}


def fit_centred(name: str, x: np.ndarray, y: np.ndarray, **cfg) -> tuple[np.ndarray, np.ndarray]:
    """Fit remedy `name` on training-centred data; returns (W, b) with prediction x W + b."""
    if name not in REMEDIES:
        raise ValueError(f"unknown remedy {name!r}; valid: {', '.join(REMEDIES)}")
    x, y = _check(x, y)
    mx, my = x.mean(0), y.mean(0)
    w = REMEDIES[name](x - mx, y - my, cfg)
    return w, my - mx @ w
