"""Unit tests of the section-7 architectures (models/blocks.py, course_code3.py, dense_concat.py) and of
test-time block deletion (claims/section7/deletion.py)."""
from __future__ import annotations

import pytest
import torch

from claims.section7.deletion import deletion_accuracies, forward_masked, greedy_removable
from models.blocks import BLOCK_COMPONENTS, BlockNetConfig, Skip, block_parameters, building_block
from models.course_code3 import Code3Config
from models.dense_concat import ConcatMLPConfig, hidden_grad_norms
from models.mlp import MLPConfig, parameter_count
from models.residual import ConvNetConfig, ResMLPConfig


def test_building_block_has_seven_components_and_the_closed_form_parameter_count():
    block = building_block(5, 0.1)
    assert tuple(type(m) for m in block) == BLOCK_COMPONENTS
    assert parameter_count(block) == block_parameters(5) == 2 * 9 * 25 + 4 * 5


def test_block_net_with_skips_adds_the_input_to_each_block():
    net = BlockNetConfig(1, 3, channels=4, n_blocks=2, skip=True).build().eval()
    assert all(isinstance(b, Skip) for b in net.blocks) and len(net.inner_blocks()) == 2
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        assert torch.allclose(net.blocks[0](x), x + net.inner_blocks()[0](x))


@pytest.mark.parametrize("kwargs", [dict(channels=0), dict(n_blocks=-1), dict(dropout=1.0)])
def test_block_net_config_rejects_invalid_sizes(kwargs):
    with pytest.raises(ValueError):
        BlockNetConfig(1, 3, **kwargs)


def test_code3_literal_raises_and_fixes_run():
    x = torch.randn(3, 5)
    with pytest.raises(RuntimeError, match="must match the size"):
        Code3Config(5, 4, n_blocks=1, d=2).build()(x)
    assert Code3Config(5, 4, n_blocks=0, d=2).build()(x).shape == (3, 4)   # no block, no sum
    for fix in ("match", "project"):
        out = Code3Config(5, 4, n_blocks=3, d=2, fix=fix).build()(x)
        assert out.shape == (3, 4) and torch.allclose(out.sum(1), torch.ones(3))
    assert Code3Config(5, 4, n_blocks=1, d=1).build()(x).shape == (3, 4)   # (B, 2) + (B, 1) broadcasts


def test_code3_widths_double_per_block_like_the_keras_code():
    net = Code3Config(5, 4, n_blocks=2, d=2, fix="project").build()
    assert [b.after[0].out_features for b in net.blocks] == [4, 8]
    assert net.blocks[0].shortcut.in_features == 2 and net.blocks[0].shortcut.out_features == 4
    assert net.blocks[1].body[0][0].in_features == 4


@pytest.mark.parametrize("kwargs", [dict(d=0), dict(n_blocks=-1), dict(fix="sum")])
def test_code3_config_rejects_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        Code3Config(5, 4, **{"n_blocks": 1, **kwargs})


def test_concat_mlp_head_width_and_gradients():
    concat = ConcatMLPConfig(6, 4, 3, 2, concat=True).build()
    plain = ConcatMLPConfig(6, 4, 3, 2, concat=False).build()
    assert concat.head.in_features == 12 and plain.head.in_features == 4
    x, y = torch.randn(5, 6), torch.tensor([0, 1, 0, 1, 1])
    assert concat(x).shape == (5, 2)
    norms = hidden_grad_norms(concat, x, y)
    assert len(norms) == 3 and all(n > 0 for n in norms)
    assert all(p.grad is None for p in concat.parameters())
    with pytest.raises(ValueError):
        ConcatMLPConfig(6, 4, 0, 2)
    with pytest.raises(ValueError):
        ConcatMLPConfig(6, 4, 3, 2, activation="swish")


@pytest.mark.parametrize("residual", [True, False])
@pytest.mark.parametrize("make", [lambda r: ResMLPConfig(6, 8, 4, 3, residual=r).build(),
                                  lambda r: ConvNetConfig(1, 3, channels=4, blocks=4, residual=r).build()])
def test_forward_masked_equals_forward_with_skip(make, residual):
    torch.manual_seed(0)
    model = make(residual).eval()
    x = torch.randn(5, 6) if isinstance(model.stem[0], torch.nn.Linear) else torch.randn(5, 1, 6, 6)
    keep = torch.ones(5, 4, dtype=torch.bool)
    keep[:, 2] = False
    assert torch.allclose(forward_masked(model, x, keep), model(x, skip={2}), atol=1e-6)
    keep[0] = True                                                  # per-sample masks: row 0 keeps everything
    assert torch.allclose(forward_masked(model, x, keep)[0], model(x[:1])[0], atol=1e-6)


def test_deletion_helpers_validate_and_restore_mode():
    torch.manual_seed(0)
    model = ResMLPConfig(6, 8, 4, 3).build().train()
    x, y = torch.randn(20, 6), torch.randint(0, 3, (20,))
    full, deleted = deletion_accuracies(model, x, y)
    assert 0 <= full <= 1 and len(deleted) == 4 and model.training
    removable = greedy_removable(model, x, [3, 2, 1, 0])
    assert removable.shape == (20,) and removable.min() >= 0 and removable.max() <= 4 and model.training
    with pytest.raises(ValueError, match="permutation"):
        greedy_removable(model, x, [0, 1])
    with pytest.raises(ValueError, match="bool tensor"):
        forward_masked(model, x, torch.ones(20, 3, dtype=torch.bool))
    with pytest.raises(TypeError):
        forward_masked(MLPConfig(6, (4,), 3).build(), x, torch.ones(20, 1, dtype=torch.bool))
