"""5.2's stacked reference CNNs and input windows: each member computes its own network on its own input."""
from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from claims.section5.conv_members import CNNMembersConfig, MemberCNN, ReferenceCNNConfig, _Windows
from claims.section5.deficits import MemberWindows, Window, pool_blur, random_shift
from fixtures.datasets import Split
from fixtures.training import TrainSpec, train
from fixtures.training.stacked_members import stacked_cross_entropy


def test_the_reference_cnn_has_the_mnist1d_packages_size():
    assert sum(p.numel() for p in ReferenceCNNConfig().build().parameters()) == 5210


def test_each_member_computes_its_own_network_on_its_own_input():
    torch.manual_seed(0)
    nets = [ReferenceCNNConfig(channels=6).build() for _ in range(3)]
    stack = MemberCNN(nets)
    x, xm = torch.randn(4, 40), torch.randn(3, 4, 40)
    for i, net in enumerate(nets):
        torch.testing.assert_close(stack(x)[i], net(x))
        torch.testing.assert_close(stack(xm)[i], net(xm[i]))
    torch.testing.assert_close(stack(xm[[2, 0]], members=[2, 0]), stack(xm)[[2, 0]])
    with pytest.raises(ValueError, match="expected x"):
        stack(torch.randn(2, 4, 40))


@pytest.mark.parametrize("length", [19, 10, 7])
def test_the_windows_gradient_is_unfolds_bit_for_bit(length):
    """The stacked convolutions' windows (conv2 and conv3: kernel 3) pass back exactly the gradient that F.pad +
    unfold's own backward gives."""
    gen = torch.Generator().manual_seed(length)
    h = torch.randn(3, 8, length, 5, generator=gen, requires_grad=True)
    windows = _Windows.apply(h, 3)
    expected = F.pad(h, (0, 0, 1, 1)).unfold(2, 3, 2)
    assert torch.equal(windows, expected.reshape(windows.shape))
    g = torch.randn(windows.shape, generator=gen)
    (mine,) = torch.autograd.grad(windows, h, g)
    (theirs,) = torch.autograd.grad(expected, h, g.reshape(expected.shape))
    assert torch.equal(mine, theirs)


def test_training_the_stack_trains_each_member_as_if_alone():
    torch.manual_seed(1)
    nets = [ReferenceCNNConfig(channels=4).build() for _ in range(2)]
    gen = torch.Generator().manual_seed(0)
    data = Split("toy", torch.randn(32, 40, generator=gen), torch.randint(0, 10, (32,), generator=gen),
                 torch.randn(8, 40), torch.randint(0, 10, (8,)), 10)
    spec = TrainSpec(epochs=2, lr=1e-2, batch_size=8)
    stack = MemberCNN(nets)
    train(stack, data, spec, seed=3, loss_fn=stacked_cross_entropy)
    for i, net in enumerate(nets):
        train(net, data, spec, seed=3)
        for a, b in zip(stack.member(i, net).state_dict().values(), net.state_dict().values()):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_members_with_the_same_initialization_start_identical():
    torch.manual_seed(0)
    model = CNNMembersConfig(ReferenceCNNConfig(channels=3), (0, 0, 1)).build()
    for p in model.parameters():
        assert torch.equal(p[0], p[1]) and not torch.equal(p[0], p[2])


def test_the_pool_blur_keeps_the_coarse_shape_and_removes_the_detail():
    x = torch.randn(5, 40)
    blurred = pool_blur(x, 4)
    torch.testing.assert_close(blurred.mean(-1), x.mean(-1), atol=0.05, rtol=0)   # coarse level kept
    assert pool_blur(blurred, 4).sub(blurred).abs().max() < blurred.std()       # nearly a fixed point
    assert (x - blurred).var() > 0.5 * x.var()                                   # the fine detail is gone
    torch.testing.assert_close(pool_blur(torch.ones(2, 40), 4), torch.ones(2, 40))


def test_a_shift_is_a_circular_roll_of_at_most_max_shift():
    x = torch.arange(40.0).expand(50, 40)
    shifted = random_shift(x, 4, torch.Generator().manual_seed(0))
    rolls = {next(k for k in range(-4, 5) if torch.equal(torch.roll(x[0], k), row)) for row in shifted}
    assert rolls <= set(range(-4, 5)) and len(rolls) > 3


def test_each_member_sees_its_deficit_only_in_its_window():
    windows = (Window(), Window("blur", 2, 4), Window("shift", 0, 2), Window("shift", 3, 9))
    apply = MemberWindows(windows, blur_factor=4, max_shift=4).transform(seed=0)
    x = torch.randn(6, 40)
    for epoch in range(6):
        xm = apply(epoch, x)
        assert xm.shape == (4, 6, 40)
        torch.testing.assert_close(xm[0], x)
        torch.testing.assert_close(xm[1], pool_blur(x, 4) if 2 <= epoch < 4 else x)
        assert torch.equal(xm[2], x) == (epoch >= 2)
        assert torch.equal(xm[3], x) == (epoch < 3)
    with pytest.raises(ValueError, match="blur, shift or clean"):
        Window("noise", 0, 1)
