"""Unit tests of models/powers_mlp.py (2.1)."""
from __future__ import annotations

import pytest
import torch

from models.mlp import parameter_count
from models.powers_mlp import PowersMLPConfig, expected_parameters, powers_mlp


def test_widths_and_parameters_of_a_hand_example():
    model = powers_mlp(in_features=3, n=3, k=2, num_classes=4)
    assert [b[0].out_features for b in model.hidden] == [2, 4, 8]
    assert parameter_count(model) == (3 + 1) * 2 + (2 + 1) * 4 + (4 + 1) * 8 + (8 + 1) * 4 == 96
    assert expected_parameters(3, (2, 4, 8), 4) == 96
    assert model(torch.zeros(7, 3)).shape == (7, 4)


@pytest.mark.parametrize("n, k, what", [(0, 2, "n must"), (-1, 2, "n must"), (2, 0, "k must"), (2, -3, "k must"),
                                        (2.0, 2, "n must"), (2, True, "k must"), ("2", 2, "n must")])
def test_invalid_n_or_k_raise_a_value_error_naming_the_argument(n, k, what):
    with pytest.raises(ValueError, match=what):
        powers_mlp(in_features=4, n=n, k=k, num_classes=3)


def test_too_wide_a_network_is_refused_before_it_is_built():
    with pytest.raises(ValueError, match="max_width"):
        PowersMLPConfig(4, 10, 10, 3)
    assert PowersMLPConfig(4, 2, 10, 3, max_width=100).widths == (10, 100)


def test_other_arguments_are_validated():
    with pytest.raises(ValueError, match="in_features"):
        PowersMLPConfig(0, 2, 2, 3)
    with pytest.raises(ValueError, match="activation"):
        PowersMLPConfig(4, 2, 2, 3, activation="swish")
