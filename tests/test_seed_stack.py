"""fixtures.training.seed_stack: S models as one module of stacked Linear and BatchNorm1d layers."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from fixtures.training.seed_stack import SeedBatchNorm1d, SeedLinear, can_stack, stack_seeds, unstack_into
from models.mlp import MLPConfig
from models.residual import ConvNetConfig, ResMLPConfig

# A slice of a batched matmul is the matmul F.linear does: measured bit-identical here; another processor may
# pick different kernels for the two, hence a float tolerance.
TOL = 1e-5


def seeded_models(config, seeds=(0, 1, 2)) -> list[nn.Module]:
    out = []
    for seed in seeds:
        torch.manual_seed(seed)
        out.append(config.build())
    return out


@pytest.mark.parametrize("config", [MLPConfig(6, (5, 4), 3), ResMLPConfig(6, 5, 2, 3),
                                    MLPConfig(6, (5,), 3, batchnorm=True)])
@pytest.mark.parametrize("training", [True, False])
def test_each_seed_rows_get_that_seeds_model_output(config, training):
    models = seeded_models(config)
    for m in models:                       # running statistics that differ between seeds
        m.train()
        m(torch.randn(16, 6))
    stacked = stack_seeds(models).train(training)
    x = torch.randn(3, 8, 6)
    out = stacked(x.reshape(24, 6)).reshape(3, 8, -1)
    for i, model in enumerate(models):
        torch.testing.assert_close(out[i], model.train(training)(x[i]), atol=TOL, rtol=TOL)


def test_stacking_and_unstacking_keeps_every_tensor_and_batch_norm_updates_its_own_seed():
    models = seeded_models(ResMLPConfig(6, 5, 2, 3))
    stacked = stack_seeds(models)
    assert set(stacked.state_dict()) == set(models[0].state_dict())
    copies = seeded_models(ResMLPConfig(6, 5, 2, 3), seeds=(7, 8, 9))
    unstack_into(stacked, copies)
    for a, b in zip(models, copies):
        assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    x = torch.randn(3, 8, 6)
    x[1] += 5.0                            # seed 1's rows only
    stacked.train()(x.reshape(24, 6))
    unstack_into(stacked, copies)
    means = [m.state_dict()["blocks.0.f.1.running_mean"] for m in copies]
    for i, m in enumerate(models):
        m.train()(x[i])
        torch.testing.assert_close(means[i], m.state_dict()["blocks.0.f.1.running_mean"], atol=TOL, rtol=TOL)
        assert int(copies[i].state_dict()["blocks.0.f.1.num_batches_tracked"]) == 1
    assert not torch.allclose(means[0], means[1])


def test_only_linear_and_batchnorm1d_state_can_be_stacked():
    assert can_stack(MLPConfig(6, (5,), 3, batchnorm=True).build())
    assert not can_stack(ConvNetConfig(1, 10, channels=4, blocks=1).build())
    assert not can_stack(nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3, momentum=None)))
    assert not can_stack(nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5)))        # masks from a shared stream
    with pytest.raises(ValueError, match="cannot be stacked"):
        stack_seeds([ConvNetConfig(1, 10, channels=4, blocks=1).build()])
    with pytest.raises(ValueError, match="one architecture"):
        stack_seeds([MLPConfig(6, (5,), 3).build(), MLPConfig(6, (5, 5), 3).build()])
    with pytest.raises(ValueError, match="at least one"):
        stack_seeds([])
    assert isinstance(stack_seeds([nn.Linear(3, 2), nn.Linear(3, 2)]), SeedLinear)
    assert isinstance(stack_seeds([nn.BatchNorm1d(3), nn.BatchNorm1d(3)]), SeedBatchNorm1d)
    with pytest.raises(ValueError, match="rows"):
        stack_seeds([nn.Linear(3, 2)] * 2)(torch.randn(2, 4, 3))
