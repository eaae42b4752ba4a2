"""7.1: a seven-component building block repeated n times, without and with skips."""
from __future__ import annotations

import torch
from hypothesis import given

from claimcheck import stats
from claimcheck.evidence import Card, claim
from claims.shared.block_net import BLOCK_NET_SIZES
from models.blocks import BLOCK_COMPONENTS, BlockNetConfig, block_parameters
from models.mlp import parameter_count

CARD = Card(
    id="7.1",
    budget_s=1,
    title="A seven-component building block repeated n times builds a network",
    question="Propose a building block with at least 6 components, then build a network by repeating it n times.",
    answer="Block = conv3x3 - BN - ReLU - conv3x3 - BN - ReLU - Dropout2d (7 components, shape-preserving, "
           "models/blocks.py); network = conv stem, n blocks, global average pooling, linear head. Because the "
           "block keeps (C, H, W), any n composes, the parameter count is P(0) + n (18 C^2 + 4 C), and "
           "the global pooling makes the head independent of the input size.",
    method="Hypothesis draws n in [0, 6], channels, input channels, classes, image size and batch; asserted for "
           "every draw: n blocks, each with exactly the seven components in order; parameters equal "
           "P(0) + n * block_parameters(C) (closed form); every block maps (B, C, H, W) to itself; the output is "
           "(B, classes).",
)


def _block_shapes(net, x: torch.Tensor) -> list[tuple[tuple, tuple]]:
    """(input shape, output shape) of every block in a forward pass, through forward hooks."""
    seen = []
    hooks = [b.register_forward_hook(lambda m, i, o: seen.append((tuple(i[0].shape), tuple(o.shape))))
             for b in net.blocks]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in hooks:
            h.remove()
    return seen


@claim(CARD, control=False)
def test_a_seven_component_block_repeated_n_times_has_linear_parameters_and_fixed_shapes(arm, evidence):
    examples = evidence.profile.examples

    @stats.property_settings(examples)
    @given(**BLOCK_NET_SIZES)
    def check(n, channels, in_channels, classes, side, batch):
        net = BlockNetConfig(in_channels, classes, channels, n).build().eval()
        blocks = net.inner_blocks()
        assert len(blocks) == n, f"{len(blocks)} blocks for n={n}"
        for block in blocks:
            kinds = tuple(type(m) for m in block)
            assert kinds == BLOCK_COMPONENTS and len(kinds) >= 6, f"block components {kinds}"
        empty = parameter_count(BlockNetConfig(in_channels, classes, channels, 0).build())
        assert parameter_count(net) == empty + n * block_parameters(channels), "parameters not P(0) + n P_block"
        x = torch.randn(batch, in_channels, side, side)
        assert all(i == o == (batch, channels, side, side) for i, o in _block_shapes(net, x)), "a block changed shape"
        assert net(x).shape == (batch, classes)

    evidence.check(stats.property_holds(
        check, examples=examples,
        name="n blocks of 7 components; parameters P(0) + n P_block; blocks keep (B, C, H, W); output (B, classes)"))
