"""Layer resets (claim 4.5) and training a chosen subset of parameters (claim 5.3)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from claims.section4.layer_surgery import layer_names, layer_verdict, with_layer_from
from claims.section5.subset_training import bn_parameters, cosine, random_weight_subset
from models.residual import ConvNetConfig


def small_cnn(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return ConvNetConfig(in_channels=1, num_classes=3, channels=4, blocks=1).build()


def test_layer_names_list_conv_and_linear_layers_in_order():
    assert layer_names(small_cnn(0)) == ["stem.0", "blocks.0.f.0.0", "blocks.0.f.1.0", "head"]


def test_with_layer_from_replaces_one_layer_and_nothing_else():
    model, source = small_cnn(0), small_cnn(1).state_dict()
    clone = with_layer_from(model, "blocks.0.f.0.0", source)
    for name, value in clone.state_dict().items():
        expected = source[name] if name.startswith("blocks.0.f.0.0.") else model.state_dict()[name]
        torch.testing.assert_close(value, expected)
    with pytest.raises(ValueError, match="no parameters"):
        with_layer_from(model, "nope", source)


def test_layer_verdict_needs_every_seed():
    thresholds = dict(robust_max=0.03, critical_min=0.2)
    assert layer_verdict([0.0, 0.01], **thresholds) == "robust"
    assert layer_verdict([0.5, 0.3], **thresholds) == "critical"
    assert layer_verdict([0.0, 0.5], **thresholds) == "mixed"


def test_random_weight_subset_updates_only_the_chosen_entries():
    model = small_cnn(2)
    for p in model.parameters():
        p.requires_grad_(False)
    params = random_weight_subset(model, 2, seed=0)
    before = [p.detach().clone() for p in params]
    opt = torch.optim.Adam(params, lr=0.1)
    for _ in range(3):
        loss = model(torch.randn(5, 1, 6, 6)).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    for b, p in zip(before, params):
        changed = (b != p).flatten(1).sum(1)
        assert bool((changed <= 2).all()) and changed.sum() > 0
    with pytest.raises(ValueError, match="cannot choose"):
        random_weight_subset(small_cnn(3), 100, seed=0)


def test_bn_parameters_and_cosine_schedule():
    model = small_cnn(4)
    assert sum(p.numel() for p in bn_parameters(model)) == 2 * 4 * 3
    lr = cosine(0.1, 10)
    assert lr(0) == pytest.approx(0.1) and lr(5) == pytest.approx(0.05) and lr(10) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="steps"):
        cosine(0.1, 0)
