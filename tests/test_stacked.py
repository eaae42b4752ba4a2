"""StackedMembers: M independent networks trained as one module (claim 5.2)."""
from __future__ import annotations

import copy

import pytest
import torch

from fixtures.datasets import Split
from fixtures.training import TrainSpec, train
from fixtures.training.stacked_members import StackedMembers, stacked_cross_entropy
from models.mlp import MLPConfig


def members(count=3, seed=0):
    torch.manual_seed(seed)
    return [MLPConfig(5, (7, 6), 3).build() for _ in range(count)]


def test_shared_and_per_member_inputs_give_each_members_own_output():
    nets = members()
    stack = StackedMembers(nets)
    x, xm = torch.randn(4, 5), torch.randn(3, 4, 5)
    out, out_m = stack(x), stack(xm)
    assert out.shape == (3, 4, 3)
    for i, net in enumerate(nets):
        torch.testing.assert_close(out[i], net(x))
        torch.testing.assert_close(out_m[i], net(xm[i]))


def test_stacked_cross_entropy_is_the_sum_of_member_losses():
    logits, y = torch.randn(3, 8, 4), torch.randint(0, 4, (8,))
    expected = sum(torch.nn.functional.cross_entropy(logits[m], y) for m in range(3))
    torch.testing.assert_close(stacked_cross_entropy(logits, y), expected)


@pytest.mark.parametrize("batchnorm", [False, True])
def test_training_the_stack_trains_each_member_as_if_alone(batchnorm):
    """Measured bit-identical here, BatchNorm included; another processor may round a batched and a single
    matmul differently, and a bias that feeds a BatchNorm has a zero true gradient, so Adam turns such rounding
    into steps of up to lr (tests/test_training.py): it and the running means it shifts get a wider bound."""
    torch.manual_seed(1)
    nets = [MLPConfig(5, (7, 6), 3, batchnorm=batchnorm).build() for _ in range(2)]
    alone = [copy.deepcopy(n) for n in nets]
    gen = torch.Generator().manual_seed(0)
    data = Split("toy", torch.randn(40, 5, generator=gen), torch.randint(0, 3, (40,), generator=gen),
                 torch.randn(10, 5), torch.randint(0, 3, (10,)), 3)
    spec = TrainSpec(epochs=3, lr=1e-2, batch_size=8)
    stack = StackedMembers(nets)
    train(stack, data, spec, seed=7, loss_fn=stacked_cross_entropy)
    steps = spec.epochs * len(data.y_train) // spec.batch_size
    for i, net in enumerate(alone):
        train(net, data, spec, seed=7)
        trained = stack.member(i, net)
        for (name, a), b in zip(trained.state_dict().items(), net.state_dict().values()):
            noisy = batchnorm and (name.startswith("hidden.") and name.endswith(".0.bias") or "running_mean" in name)
            assert (a.double() - b.double()).abs().max() <= (2 * spec.lr * steps if noisy else 1e-5), name
    if batchnorm:   # each member's statistics are its own
        means = [stack.member(i, alone[i]).state_dict()["hidden.0.1.running_mean"] for i in range(2)]
        assert not torch.allclose(means[0], means[1])


def test_stack_rejects_empty_lists_unstackable_layers_and_wrong_input_shapes():
    with pytest.raises(ValueError, match="at least one"):
        StackedMembers([])
    with pytest.raises(ValueError, match="cannot be stacked"):
        StackedMembers([torch.nn.Sequential(torch.nn.Conv1d(1, 2, 3))])
    stack = StackedMembers(members())
    with pytest.raises(ValueError, match="expected x"):
        stack(torch.randn(2, 4, 5))
    with pytest.raises(ValueError, match="member index"):
        stack.member(3, members(1)[0])
    with pytest.raises(ValueError, match="sample_dims"):
        StackedMembers(members(), sample_dims=0)
