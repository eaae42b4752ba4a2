"""Exact parameter counts, splits and storage of claim 4.1's architectures."""
from __future__ import annotations

import pytest
import torch

from claims.section4.width_depth import mlp_parameters, serialized_bytes, split_widths
from models.mlp import MLPConfig, parameter_count


def test_split_widths_spreads_the_neurons_evenly():
    assert split_widths(4096, 2) == (2048, 2048)
    assert split_widths(4096, 8) == (512,) * 8


@pytest.mark.parametrize("neurons, layers, message", [(4096, 3, "evenly"), (0, 2, "positive"), (8, 0, "positive")])
def test_split_widths_rejects_impossible_splits(neurons, layers, message):
    with pytest.raises(ValueError, match=message):
        split_widths(neurons, layers)


def test_parameter_formula_of_the_course_architectures():
    # (784 + 1) 2048 + (2048 + 1) 2048 + (2048 + 1) 10
    assert mlp_parameters(784, (2048, 2048), 10) == 785 * 2048 + 2049 * 2048 + 2049 * 10
    for k in (2, 4, 8):
        w = 4096 // k
        assert mlp_parameters(784, (w,) * k, 10) == 785 * w + (k - 1) * (w + 1) * w + (w + 1) * 10


def test_parameter_formula_matches_torch_without_hidden_layers():
    assert mlp_parameters(7, (), 3) == parameter_count(MLPConfig(7, (), 3).build()) == 24


@pytest.mark.parametrize("args", [(0, (4,), 2), (3, (0,), 2), (3, (4,), 0), (3, (2.5,), 2)])
def test_parameter_formula_rejects_invalid_sizes(args):
    with pytest.raises(ValueError, match="positive integers"):
        mlp_parameters(*args)


def test_serialized_bytes_are_four_per_float32_parameter_plus_a_small_overhead():
    model = MLPConfig(20, (30, 30), 5).build()
    size, params = serialized_bytes(model), parameter_count(model)
    assert 4 * params < size < 4 * params + 1024 * len(model.state_dict())
    assert serialized_bytes(model.to(torch.float64)) > size
