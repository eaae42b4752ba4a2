"""Unit tests of claims/section3/hparam_search.py and models/init_mlp.py (3.6)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from claimcheck.lazy import LazyModule
from claims.section3.hparam_search import Space, leave_one_out
from models.init_mlp import SMALL_STD, InitMLPConfig, initialize, xavier_std

linear_model = LazyModule("sklearn.linear_model")  # imported on use (~1.5 s), not when collected

SPACE = Space(("sgd", "adam"), ("a", "b", "c"), (1e-3, 1e-1))


def test_grid_and_encoding():
    grid = SPACE.grid()
    assert len(grid) == 12 and grid[0] == ("sgd", "a", 1e-3)
    assert SPACE.encode(("adam", "c", 1e-1)).tolist() == [0, 1, 0, 0, 1, -1]
    with pytest.raises(ValueError, match="outside the space"):
        SPACE.encode(("rmsprop", "a", 1e-3))


@pytest.mark.parametrize("axes, message", [
    ((("sgd",), ("a", "b"), (1e-3, 1e-2)), "optimizers needs at least two"),
    ((("sgd", "adam"), ("a", "a"), (1e-3, 1e-2)), "inits needs at least two distinct"),
    ((("sgd", "adam"), ("a", "b"), (1e-3, -1.0)), "learning rates"),
])
def test_every_axis_needs_two_valid_options(axes, message):
    with pytest.raises(ValueError, match=message):
        Space(*axes)


def test_leave_one_out_never_sees_the_held_out_row():
    x = np.arange(6.0)[:, None]
    y = 2 * x[:, 0] + 1
    pred, mean = leave_one_out(x, y, linear_model.LinearRegression)
    assert np.allclose(pred, y)                          # a line is recovered from the other five points
    assert np.allclose(mean, (y.sum() - y) / 5)          # the mean of the others
    with pytest.raises(ValueError, match="n >= 3"):
        leave_one_out(x[:2], y[:2], linear_model.LinearRegression)


def test_initialization_schemes():
    torch.manual_seed(0)
    model = InitMLPConfig(200, (300,), 10, "small-normal").build()
    w = model.hidden[0][0].weight
    assert abs(w.std().item() - SMALL_STD) < 1e-3 and torch.all(model.hidden[0][0].bias == 0)
    torch.manual_seed(0)
    model = InitMLPConfig(200, (300,), 10, "xavier-normal").build()
    assert abs(model.hidden[0][0].weight.std().item() - xavier_std(200, 300)) < 2e-3
    with pytest.raises(ValueError, match="init must be"):
        InitMLPConfig(4, (3,), 2, "orthogonal")
    with pytest.raises(ValueError, match="init must be"):
        initialize(model, "zeros")
