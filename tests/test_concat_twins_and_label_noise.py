"""Unit tests of 7.4's residual-sum and He-initialized twins (models/dense_concat.py) and of 2.3's partially
corrupted labels (fixtures/zoo.py: DataSpec labels "noisy-P")."""
from __future__ import annotations

import pytest
import torch

from fixtures.datasets import Split
from fixtures.zoo import DataSpec, noise_percent, noisy_labels
from models.dense_concat import ConcatMLPConfig


def test_residual_twin_adds_the_identity_from_layer_two_on():
    torch.manual_seed(0)
    model = ConcatMLPConfig(6, 4, 3, 2, concat=False, residual=True, activation="relu").build()
    x = torch.randn(5, 6)
    y1 = model.hidden[0](x)
    y2 = y1 + model.hidden[1](y1)
    y3 = y2 + model.hidden[2](y2)
    torch.testing.assert_close(model(x), model.head(y3))


def test_he_init_batchnorm_and_invalid_combinations():
    torch.manual_seed(0)
    model = ConcatMLPConfig(64, 256, 2, 10, activation="relu", init="he", batchnorm=True).build()
    first = model.hidden[0][0]
    assert abs(first.weight.std().item() - (2 / 64) ** 0.5) < 0.01 and not first.bias.any()
    assert isinstance(model.hidden[0][1], torch.nn.BatchNorm1d)
    with pytest.raises(ValueError):
        ConcatMLPConfig(6, 4, 3, 2, concat=True, residual=True)
    with pytest.raises(ValueError):
        ConcatMLPConfig(6, 4, 3, 2, init="xavier")


def test_noisy_labels_corrupt_about_the_share_asked_and_leave_the_test_split():
    n = 20_000
    y = torch.arange(n) % 10
    split = Split("toy", torch.zeros(n, 1), y, torch.zeros(3, 1), torch.tensor([1, 2, 3]), 10)
    noisy = noisy_labels(split, 40, seed=1)
    changed = (noisy.y_train != y).float().mean().item()
    assert abs(changed - 0.4 * 0.9) < 0.02         # a drawn class equals the true one 1 time in 10
    assert torch.equal(noisy.y_test, split.y_test) and noisy.y_train.max() < 10
    assert torch.equal(noisy_labels(split, 40, seed=1).y_train, noisy.y_train)


@pytest.mark.parametrize("labels", ["noisy-0", "noisy-101", "noisy-x", "noisy", "noise-40"])
def test_data_spec_rejects_bad_label_specs(labels):
    assert noise_percent(labels) is None
    with pytest.raises(ValueError):
        DataSpec("digits", labels=labels)
    assert DataSpec("digits", labels="noisy-40").labels == "noisy-40"
