"""Unit tests of claims/section1/sample_size.py (1.5 remedies)."""
from __future__ import annotations

import numpy as np
import pytest

from claims.section1.sample_size import fit_centred, min_norm, min_norm_dual, pca_ols, ridge

RNG = np.random.default_rng(0)
X, Y = RNG.normal(size=(5, 12)), RNG.normal(size=5)


@pytest.mark.parametrize("lam", [0.0, -1.0, float("nan")])
def test_ridge_needs_a_positive_lambda(lam):
    with pytest.raises(ValueError, match="lam > 0"):
        ridge(X, Y, lam)


def test_ridge_dual_and_primal_forms_agree_in_both_regimes():
    for x in (X, X.T[:, :3]):  # m > n (dual) and n > m (primal)
        y = RNG.normal(size=len(x))
        primal = np.linalg.solve(x.T @ x + 0.5 * np.eye(x.shape[1]), x.T @ y)
        assert np.allclose(ridge(x, y, 0.5), primal)


def test_min_norm_dual_refuses_dependent_rows():
    x = np.vstack([X, X[:1]])
    with pytest.raises(ValueError, match="singular"):
        min_norm_dual(x, np.append(Y, 0.0))
    assert np.allclose(min_norm_dual(X, Y), min_norm(X, Y))


@pytest.mark.parametrize("k", [0, 6, 2.0, True])
def test_pca_ols_needs_k_between_1_and_min_n_m(k):
    with pytest.raises(ValueError, match="k must be an integer"):
        pca_ols(X, Y, k)


def test_shapes_and_names_are_checked():
    with pytest.raises(ValueError, match="rows"):
        min_norm(X, Y[:4])
    with pytest.raises(ValueError, match="2-D"):
        min_norm(X[0], Y)
    with pytest.raises(ValueError, match="unknown remedy"):
        fit_centred("lasso", X, Y)


def test_fit_centred_predicts_the_training_mean_at_the_mean_input():
    w, b = fit_centred("min-norm (pinv)", X, Y)
    assert np.isclose(X.mean(0) @ w + b, Y.mean())
    assert np.allclose(X @ w + b, Y)  # interpolates when m > n
