"""Linear CKA, its debiased minibatch form, CCA similarity, probes and ranks (claims 4.2-4.4)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from claims.shared.representations import (
    cka_matrix,
    debiased_cka,
    layer_outputs,
    linear_cka,
    mean_cca_similarity,
    mlp_layer_nodes,
    numerical_rank,
    ridge_probe_accuracy,
    unit_matched_similarity,
)
from models.mlp import MLPConfig

TOL = 1e-9
matrices = st.tuples(st.integers(5, 30), st.integers(1, 10), st.integers(1, 10), st.integers(0, 2**32 - 1))


def draw(n, p, q, seed):
    rng = np.random.default_rng(seed)
    return rng, rng.normal(size=(n, p)), rng.normal(size=(n, q))


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(matrices, st.floats(1e-3, 1e3))
def test_cka_is_invariant_to_orthogonal_maps_and_isotropic_scaling(shape, scale):
    rng, x, y = draw(*shape)
    q = np.linalg.qr(rng.normal(size=(x.shape[1], x.shape[1])))[0]
    assert linear_cka(x @ q * scale, y) == pytest.approx(linear_cka(x, y), abs=TOL)
    assert linear_cka(x, y @ np.linalg.qr(rng.normal(size=(y.shape[1],) * 2))[0]) == pytest.approx(
        linear_cka(x, y), abs=TOL)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(matrices)
def test_cka_of_a_representation_with_itself_is_one_and_cka_is_symmetric_in_0_1(shape):
    _, x, y = draw(*shape)
    assert linear_cka(x, x) == pytest.approx(1.0, abs=TOL)
    assert linear_cka(x, y) == pytest.approx(linear_cka(y, x), abs=TOL)
    assert -TOL <= linear_cka(x, y) <= 1 + TOL


def test_cka_is_not_invariant_to_an_arbitrary_invertible_map():
    rng, x, y = draw(40, 6, 6, 3)
    a = rng.normal(size=(6, 6)) + np.diag([10, 1, 1, 1, 1, 0.1])
    assert abs(linear_cka(x @ a, y) - linear_cka(x, y)) > 1e-3


def test_cka_accepts_tensors_and_compares_different_widths():
    x = torch.randn(50, 3)
    assert linear_cka(x, torch.cat([x, x], 1)) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("bad", [np.zeros((10,)), np.zeros((10, 2, 2))])
def test_cka_rejects_non_matrices(bad):
    with pytest.raises(ValueError, match="2-D"):
        linear_cka(bad, np.ones((10, 2)))


def test_cka_rejects_mismatched_samples_and_constant_representations():
    with pytest.raises(ValueError, match="same samples"):
        linear_cka(np.random.rand(10, 2), np.random.rand(9, 2))
    with pytest.raises(ValueError, match="constant"):
        linear_cka(np.ones((10, 2)), np.random.rand(10, 2))


def test_debiased_cka_in_one_batch_equals_the_full_data_estimate_and_is_one_for_identical_inputs():
    _, x, y = draw(60, 5, 7, 11)
    assert debiased_cka(x, y) == pytest.approx(debiased_cka(x, y, batch_size=60), abs=TOL)
    assert debiased_cka(x, x, batch_size=20) == pytest.approx(1.0, abs=TOL)


def test_debiased_cka_is_near_zero_where_the_plug_in_cka_is_inflated():
    # independent representations with p >> n: plug-in CKA ~0.9 (pilot), debiased ~0 +/- 0.02
    _, x, y = draw(100, 1000, 1000, 5)
    assert linear_cka(x, y) > 0.8
    assert abs(debiased_cka(x, y, batch_size=50)) < 0.1


def test_debiased_cka_rejects_tiny_batches_and_samples():
    with pytest.raises(ValueError, match="batch_size"):
        debiased_cka(np.random.rand(20, 2), np.random.rand(20, 2), batch_size=3)
    with pytest.raises(ValueError, match="at least 4"):
        debiased_cka(np.random.rand(3, 2), np.random.rand(3, 2))


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(st.integers(4, 20), st.integers(0, 2**32 - 1))
def test_cca_similarity_is_one_for_unrelated_representations_once_dimension_reaches_n(n, seed):
    _, x, y = draw(n, n + 3, n - 1, seed)
    assert mean_cca_similarity(x, y) == pytest.approx(1.0, abs=1e-8)


def test_cca_similarity_is_below_one_for_unrelated_low_dimensional_representations():
    _, x, y = draw(200, 3, 3, 0)
    assert mean_cca_similarity(x, y) < 0.2
    assert mean_cca_similarity(x, x @ np.random.default_rng(1).normal(size=(3, 3))) == pytest.approx(1.0)


def test_cka_matrix_has_one_row_per_layer_of_the_first_network():
    _, x, y = draw(30, 4, 5, 2)
    m = cka_matrix([x, y, x], [y, x])
    assert m.shape == (3, 2) and m[0, 1] == pytest.approx(1.0)


def test_unit_matched_similarity_depends_on_the_order_of_units_and_cka_does_not():
    rng, x, _ = draw(200, 6, 1, 3)
    x[:, 5] = 0.0                                     # a dead unit correlates with nothing
    shuffled = x[:, [1, 2, 3, 4, 0, 5]]
    assert unit_matched_similarity(x, 2 * x + 1) == pytest.approx(5 / 6)
    assert unit_matched_similarity(x, shuffled) < 0.3
    assert linear_cka(x, shuffled) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="equal widths"):
        unit_matched_similarity(x, x[:, :3])


def test_layer_outputs_are_the_mlp_hidden_activations():
    torch.manual_seed(0)
    model = MLPConfig(6, (5, 4, 3), 2).build().eval()
    nodes = mlp_layer_nodes(model)
    assert nodes == ["hidden.0.1", "hidden.1.1", "hidden.2.1"]
    x = torch.randn(8, 6)
    outs = layer_outputs(model, x, nodes)
    h = x
    for block, out in zip(model.hidden, outs):
        h = block(h)
        torch.testing.assert_close(out, h)


def test_ridge_probe_separates_separable_classes_and_numerical_rank_counts_directions():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    f = np.eye(3)[y] * 5 + rng.normal(scale=0.1, size=(300, 3))
    assert ridge_probe_accuracy(f[:200], y[:200], f[200:], y[200:], alpha=1e-3, num_classes=3) == 1.0
    low_rank = rng.normal(size=(100, 2)) @ rng.normal(size=(2, 10))
    assert numerical_rank(low_rank, rel_tol=1e-6) == 2
    assert numerical_rank(np.ones((5, 3)), rel_tol=1e-2) == 0
