"""Unit tests of the loss-landscape helpers (claims/section6/landscape.py, claims/shared/model_state.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from claims.section6 import landscape as ls
from claims.shared.model_state import same_state, state_snapshot
from models.residual import ResMLPConfig


def small_model(train_mode: bool = False):
    torch.manual_seed(0)
    model = ResMLPConfig(6, 8, 3, 4).build()
    with torch.no_grad():
        model(torch.randn(32, 6))          # BN running statistics away from their defaults
    return model.train(train_mode)


def data():
    gen = torch.Generator().manual_seed(1)
    return torch.randn(20, 6, generator=gen), torch.randint(0, 4, (20,), generator=gen)


def test_filter_normalized_direction_has_the_filter_norms_of_theta_and_no_bias_or_bn_part():
    model = small_model()
    direction = ls.random_direction(model, seed=3)
    for name, p in model.named_parameters():
        d = direction[name]
        assert d.shape == p.shape
        if p.dim() <= 1:
            assert torch.count_nonzero(d) == 0
        else:
            assert torch.allclose(d.flatten(1).norm(dim=1), p.detach().flatten(1).norm(dim=1), rtol=1e-5)


def test_directions_are_reproducible_and_raw_ones_are_not_normalized():
    model = small_model()
    a, b = ls.random_direction(model, seed=5), ls.random_direction(model, seed=5)
    assert all(torch.equal(a[k], b[k]) for k in a)
    raw = ls.random_direction(model, seed=5, filter_normalize=False)
    weight = "stem.0.weight"
    assert not torch.allclose(raw[weight].flatten(1).norm(dim=1), model.stem[0].weight.flatten(1).norm(dim=1))


@pytest.mark.parametrize("train_mode", [False, True])
def test_loss_grid_never_mutates_the_model(train_mode):
    model = small_model(train_mode)
    snapshot = state_snapshot(model)
    x, y = data()
    dirs = [ls.random_direction(model, seed=s) for s in (1, 2)]
    ls.surface_2d(model, *dirs, np.linspace(-1, 1, 5), x, y)
    assert same_state(model, snapshot)
    assert model.training is train_mode


def test_loss_at_the_origin_is_the_models_eval_loss():
    model = small_model()
    x, y = data()
    loss = ls.curve_1d(model, ls.random_direction(model, seed=1), np.array([0.0]), x, y)[0]
    with torch.no_grad():
        assert loss == pytest.approx(F.cross_entropy(model.eval()(x), y).item(), rel=1e-6)


def test_loss_grid_rejects_bad_coordinates_and_directions():
    model = small_model()
    x, y = data()
    d = ls.random_direction(model, seed=1)
    with pytest.raises(ValueError, match="coords"):
        ls.loss_grid(model, [d], np.zeros((3, 2)), x, y)
    with pytest.raises(ValueError, match="parameter names"):
        ls.loss_grid(model, [{"w": torch.zeros(1)}], np.zeros((1, 1)), x, y)


def test_curvature_minimum_and_nonconvexity_on_known_functions():
    alphas = np.arange(-5, 6) / 5
    assert ls.curvature(alphas, 3 * alphas ** 2 + alphas) == pytest.approx(6.0)
    assert ls.log_rise_from_zero(alphas, 1 + alphas ** 2) == pytest.approx(np.log(1.04))
    assert ls.log_rise_from_zero(alphas, 1 + (alphas - 0.4) ** 2) < 0
    with pytest.raises(ValueError, match="exactly once"):
        ls.log_rise_from_zero(alphas + 0.1, alphas ** 2)
    a, b = np.meshgrid(alphas, alphas, indexing="ij")
    assert ls.nonconvex_fraction(a ** 2 + b ** 2, 0.2) == 0.0
    assert ls.nonconvex_fraction(a ** 2 - b ** 2, 0.2) == 1.0
    assert ls.nonconvex_fraction(a + 2 * b, 0.2) == 0.0          # a plane: zero curvature, not negative
    with pytest.raises(ValueError):
        ls.nonconvex_fraction(np.zeros((2, 5)), 0.2)


def test_rescaled_copy_keeps_the_function_and_the_original():
    model = small_model()
    snapshot = state_snapshot(model)
    scaled = ls.rescaled_copy(model, [0.3, 4.0, 2.0])
    x, _ = data()
    with torch.no_grad():
        assert torch.allclose(scaled(x), model(x), rtol=1e-3, atol=1e-3)
    assert same_state(model, snapshot)
    assert not torch.equal(scaled.blocks[1].f[0].weight, model.blocks[1].f[0].weight)
    with pytest.raises(ValueError):
        ls.rescaled_copy(model, [1.0, 2.0])
