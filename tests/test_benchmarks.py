"""Benchmarks of the engine (pytest-benchmark), for `--benchmark-compare` across changes.

They time only in the serial benchmark pass (see README: Latency and benchmarks); in ordinary runs
benchmarking is disabled and each function runs once as a smoke test.
"""
from __future__ import annotations

import pytest
import torch

from fixtures import datasets
from fixtures.training import TrainSpec, train, train_stacked
from models.mlp import MLPConfig

SEEDS = list(range(8))           # the pilot: 8 seeds of a 64-128-128-10 MLP
CONFIG = MLPConfig(64, (128, 128), 10)
SPEC = TrainSpec(epochs=1, lr=1e-3, batch_size=64)


@pytest.fixture(scope="module")
def splits():
    return [datasets.digits(s) for s in SEEDS]


def models() -> list[torch.nn.Module]:
    out = []
    for seed in SEEDS:
        torch.manual_seed(seed)
        out.append(CONFIG.build())
    return out


@pytest.mark.benchmark(group="engine-training-8-seeds")
def test_benchmark_sequential_training_of_8_seeds(benchmark, splits):
    def run():
        return [train(m, d, SPEC, seed=s) for m, d, s in zip(models(), splits, SEEDS)]
    histories = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    assert len(histories) == len(SEEDS)


@pytest.mark.benchmark(group="engine-training-8-seeds")
def test_benchmark_stacked_training_of_8_seeds(benchmark, splits):
    histories = benchmark.pedantic(lambda: train_stacked(models(), splits, SPEC, seeds=SEEDS), rounds=3,
                                   warmup_rounds=1,
                                   iterations=1)
    assert len(histories) == len(SEEDS)


@pytest.fixture(scope="module")
def features():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 128, generator=gen, dtype=torch.float64)
    return x.numpy(), (x @ torch.randn(128, 64, generator=gen, dtype=torch.float64)).tanh().numpy()


@pytest.mark.benchmark(group="engine-cka-2000x128")
def test_benchmark_linear_cka(benchmark, features):
    from claims.section4.representations import linear_cka

    assert 0 < benchmark(linear_cka, *features) <= 1


@pytest.mark.benchmark(group="engine-cka-2000x128")
def test_benchmark_debiased_cka_in_minibatches(benchmark, features):
    from claims.section4.representations import debiased_cka

    assert benchmark(debiased_cka, *features, batch_size=500) <= 1


GRID = 11  # an 11 x 11 grid of a 2-D landscape


def landscape_setup():
    from claims.section6.landscape import random_direction

    data = datasets.digits(0)
    torch.manual_seed(0)
    model = MLPConfig(64, (64, 64), 10).build().eval()
    alphas = torch.linspace(-1, 1, GRID, dtype=torch.float64)
    coords = torch.cartesian_prod(alphas, alphas).numpy()
    return model, [random_direction(model, s) for s in (1, 2)], coords, data.x_train, data.y_train


def loss_grid_vmapped(model, directions, coords, x, y):
    """The batched alternative: every grid point's parameters stacked, one vmapped forward."""
    from torch.func import functional_call, vmap
    from torch.nn import functional as F

    c = torch.as_tensor(coords, dtype=torch.float32)                                  # (P, k)
    params = {n: p.detach() + sum(c[:, j].view(-1, *[1] * p.dim()) * d[n] for j, d in enumerate(directions))
              for n, p in model.named_parameters()}                                    # name -> (P, ...)
    with torch.no_grad():
        return vmap(lambda p: F.cross_entropy(functional_call(model, p, (x,)), y))(params).numpy()


@pytest.mark.benchmark(group="engine-landscape-11x11")
def test_benchmark_landscape_grid_per_point_loop(benchmark):
    from claims.section6.landscape import loss_grid

    model, directions, coords, x, y = landscape_setup()
    losses = benchmark.pedantic(loss_grid, args=(model, directions, coords, x, y), rounds=3, iterations=1)
    assert losses.shape == (GRID * GRID,)


@pytest.mark.benchmark(group="engine-landscape-11x11")
def test_benchmark_landscape_grid_vmapped(benchmark):
    from claims.section6.landscape import loss_grid

    model, directions, coords, x, y = landscape_setup()
    losses = benchmark.pedantic(loss_grid_vmapped, args=(model, directions, coords, x, y), rounds=3, iterations=1)
    assert losses == pytest.approx(loss_grid(model, directions, coords, x, y), rel=1e-4)
