"""Unit tests of claims/section3/hparam_search.py and models/init_mlp.py (3.6)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from claimcheck.lazy import LazyModule
from claims.section3.hparam_search import Fold, Space, fold_predictions, held_out_sets, nearest_configuration
from models.init_mlp import SMALL_STD, InitMLPConfig, initialize, xavier_std

linear_model = LazyModule("sklearn.linear_model")  # imported on use (~1.5 s), not when collected

SPACE = Space(("sgd", "adam"), ("a", "b", "c"), (1e-3, 1e-1))


def test_grid_and_encoding():
    grid = SPACE.grid()
    assert len(grid) == 12 and grid[0] == ("sgd", "a", 1e-3)
    assert SPACE.encode(("adam", "c", 1e-1)).tolist() == [0, 1, 0, 0, 1, -1]
    assert SPACE.encode(("sgd", "a", 1e-2)).tolist() == [1, 0, 1, 0, 0, -2]      # a learning rate off the grid
    assert SPACE.grid((1e-2,)) == [(o, i, 1e-2) for o in ("sgd", "adam") for i in ("a", "b", "c")]
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


GRID4 = Space(("sgd", "adam"), ("a", "b", "c"), (1e-4, 1e-3, 1e-2, 1e-1))


def test_held_out_sets_never_fit_a_predicted_value():
    folds = held_out_sets(GRID4, between=(3e-3,), beyond=(3e-5, 1.0))
    assert list(folds) == ["between", "beyond", "end left out", "inner left out", "init left out"]
    assert [len(folds[k]) for k in folds] == [1, 1, 2, 2, 3]
    for name, axis in (("between", 2), ("beyond", 2), ("end left out", 2), ("inner left out", 2),
                       ("init left out", 1)):
        for fold in folds[name]:
            assert {c[axis] for c in fold.predicted}.isdisjoint(c[axis] for c in fold.fitted)   # a whole value
    assert {c[2] for f in folds["end left out"] for c in f.predicted} == {1e-4, 1e-1}
    assert {c[2] for f in folds["inner left out"] for c in f.predicted} == {1e-3, 1e-2}
    assert len(folds["between"][0].fitted) == 24 and len(folds["beyond"][0].predicted) == 12
    with pytest.raises(ValueError, match="strictly inside"):
        held_out_sets(GRID4, between=(1e-3,), beyond=(1.0,))          # on the grid
    with pytest.raises(ValueError, match="outside"):
        held_out_sets(GRID4, between=(3e-3,), beyond=(3e-2,))
    with pytest.raises(ValueError, match="among the fitted"):
        Fold((("sgd", "a", 1e-3),), (("sgd", "a", 1e-3),))


def test_nearest_configuration_interpolates_in_log_lr_and_holds_the_ends():
    fitted = [("sgd", "a", 1e-4), ("sgd", "a", 1e-2), ("adam", "a", 1e-2), ("sgd", "b", 1e-3)]
    y = [0.2, 0.8, 0.5, 0.4]
    got = nearest_configuration(fitted, y, [("sgd", "a", 1e-3), ("sgd", "a", 1e-6), ("sgd", "a", 1.0),
                                            ("adam", "a", 1e-4), ("sgd", "c", 1e-2)])
    # halfway in log10 lr; constant below and above the fitted range; the one fitted rate of adam/a;
    # init c never fitted: the mean of sgd at 1e-2 over the other inits (only a)
    assert np.allclose(got, [0.5, 0.2, 0.8, 0.5, 0.8])
    with pytest.raises(ValueError, match="no fitted configuration near"):
        nearest_configuration(fitted, y, [("adam", "c", 1e-3)])
    with pytest.raises(ValueError, match="one accuracy per fitted"):
        nearest_configuration(fitted, y[:3], [("sgd", "a", 1e-3)])


def test_fold_predictions_fit_only_the_fitted_rows():
    def accuracy(config):   # linear in log10 lr, shifted by the optimizer
        return 1.0 + 0.1 * np.log10(config[2]) + (0.05 if config[0] == "adam" else 0.0)

    fold = held_out_sets(GRID4, between=(3e-3,), beyond=(3e-5,))["between"][0]
    out = fold_predictions(GRID4, fold, accuracy, {"ols": linear_model.LinearRegression})
    assert np.allclose(out["measured"], [accuracy(c) for c in fold.predicted])
    assert np.allclose(out["ols"], out["measured"])                   # a plane is recovered from the grid
    assert np.allclose(out["nearest"], out["measured"])               # and linear interpolation is exact
    assert np.allclose(out["mean"], np.mean([accuracy(c) for c in fold.fitted]))


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
