"""Unit tests of models/proposals.py: the 3.3 schedule, the 3.4 activation and the 3.5 loss."""
from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from models.proposals import (
    ActivationMLPConfig,
    ConfidencePenalizedCE,
    Sine,
    StopAfterFirstStep,
    Swish,
    WarmupCosine,
    make_activation,
)


def test_warmup_cosine_hand_values():
    s = WarmupCosine(peak=1.0, total_steps=10, warmup_steps=2, floor=0.0)
    assert [s(0), s(1)] == [0.5, 1.0]
    assert s(2) == 1.0 and math.isclose(s(6), 0.5) and s(10) == 0.0 == s(50)
    assert s.max_increment() == 0.5


@pytest.mark.parametrize("kwargs, message", [
    (dict(peak=0.0, total_steps=10, warmup_steps=1), "peak"),
    (dict(peak=1.0, total_steps=10, warmup_steps=1, floor=2.0), "floor"),
    (dict(peak=1.0, total_steps=0, warmup_steps=0), "total_steps"),
    (dict(peak=1.0, total_steps=10, warmup_steps=10), "warmup_steps"),
    (dict(peak=1.0, total_steps=10, warmup_steps=-1), "warmup_steps"),
])
def test_warmup_cosine_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WarmupCosine(**kwargs)


def test_warmup_cosine_rejects_a_negative_step_and_the_control_stops():
    with pytest.raises(ValueError, match="step"):
        WarmupCosine(1.0, 10, 0)(-1)
    assert [StopAfterFirstStep(0.1)(t) for t in range(3)] == [0.1, 0.0, 0.0]


@pytest.mark.parametrize("beta", [0.0, -1.0, float("inf"), float("nan")])
def test_swish_needs_a_positive_finite_beta(beta):
    with pytest.raises(ValueError, match="beta"):
        Swish(beta)


def test_swish_with_beta_1_is_silu_and_activations_are_named():
    x = torch.linspace(-5, 5, 11)
    assert torch.allclose(Swish(1.0)(x), F.silu(x))
    assert isinstance(make_activation("sine", 3.0), Sine)
    assert torch.equal(make_activation("identity", 1.0)(x), x)   # 3.4's control: a linear MLP
    with pytest.raises(ValueError, match="omega"):
        Sine(0.0)
    with pytest.raises(ValueError, match="activation"):
        make_activation("tanh", 1.0)
    with pytest.raises(ValueError, match="activation"):
        ActivationMLPConfig(4, (3,), 2, "elu")


def test_activation_mlps_share_their_initial_weights():
    torch.manual_seed(0)
    relu = ActivationMLPConfig(4, (8, 8), 3, "relu").build()
    torch.manual_seed(0)
    swish = ActivationMLPConfig(4, (8, 8), 3, "swish").build()
    assert all(torch.equal(a, b) for a, b in zip(relu.state_dict().values(), swish.state_dict().values()))
    assert isinstance(swish.hidden[0][-1], Swish)


def test_confidence_penalty_hand_values():
    uniform = torch.zeros(2, 4)
    target = torch.tensor([0, 3])
    assert torch.allclose(ConfidencePenalizedCE(0.7).per_sample(uniform, target), torch.full((2,), math.log(4)))
    confident = torch.tensor([[20.0, 0.0, 0.0, 0.0]])
    loss = ConfidencePenalizedCE(1.0)(confident, torch.tensor([0]))
    assert math.isclose(loss.item(), math.log(4), rel_tol=1e-3)  # CE ~ 0, KL(one-hot || u) ~ log 4


def test_confidence_penalty_validates_beta_and_shapes():
    with pytest.raises(ValueError, match="beta"):
        ConfidencePenalizedCE(-0.1)
    with pytest.raises(ValueError, match="logits"):
        ConfidencePenalizedCE(0.1)(torch.zeros(3), torch.zeros(3, dtype=torch.long))
