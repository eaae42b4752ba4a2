"""Benchmarks of the engine (pytest-benchmark), for `--benchmark-compare` across changes, and a test that 4.1's
latency pass (`-m latency`, claims/section4/test_width_depth.py) writes pytest-benchmark's JSON and compares.

They time only in the serial benchmark pass (see README: The latency pass); in ordinary runs
benchmarking is disabled and each function runs once as a smoke test.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from fixtures import datasets
from fixtures.training import TrainSpec, train, train_stacked
from fixtures.training.seed_stack import can_stack
from models.mlp import MLPConfig
from models.residual import ConvNetConfig, ResMLPConfig

SEEDS = list(range(5))           # a standard first look
SMOKE_N_TRAIN = 256              # ordinary runs (benchmarks disabled) train on a fifth of each split, once
SPEC = TrainSpec(epochs=1, lr=1e-3, batch_size=64)
# One architecture per kind of model family the claims train (what `ModelZoo.stackable` decides on). Measured on the
# full splits, one thread, one epoch after a warm-up, sequential time / stacked time (stacked layers,
# fixtures/training/seed_stack.py), 5 and 10 seeds: 64-128-128-10 MLP 1.7-1.9x, 16-block BN residual MLP 1.4-2.0x,
# 12 x 64 MLP 1.8-2.0x, 6-block BN plain MLP 2.2-3.2x, 64-512-512-10 MLP 0.95-1.04x. The 32-channel residual CNN is
# timed one seed at a time only: its convolutions are compute-bound (stacked with vmap, 0.88-1.0x), and train_stacked
# takes conv-free models only.
FAMILIES = {
    "mlp-128x128": (MLPConfig(64, (128, 128), 10), False),
    "bn-residual-mlp-16x64": (ResMLPConfig(64, 64, 16, 10), False),
    "residual-cnn-32ch": (ConvNetConfig(1, 10, channels=32, blocks=3), True),
}
STACKABLE = [family for family, (config, _) in FAMILIES.items() if can_stack(config.build())]


def splits(images: bool, benchmark) -> list[datasets.Split]:
    """Each seed's digits split; whole when benchmarking (a few steps per model would time set-up costs that a
    real epoch amortizes), a fifth of it in the smoke test."""
    data = [datasets.digits(s, images=images) for s in SEEDS]
    return data if not benchmark.disabled else [d.subset_train(SMOKE_N_TRAIN) for d in data]


def models(config) -> list[torch.nn.Module]:
    out = []
    for seed in SEEDS:
        torch.manual_seed(seed)
        out.append(config.build())
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_benchmark_sequential_training_of_5_seeds(benchmark, family):
    config, images = FAMILIES[family]
    benchmark.group = f"engine-training-5-seeds-{family}"
    data = splits(images, benchmark)

    def run():
        return [train(m, d, SPEC, seed=s) for m, d, s in zip(models(config), data, SEEDS)]
    histories = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    assert len(histories) == len(SEEDS)


@pytest.mark.parametrize("family", STACKABLE)
def test_benchmark_stacked_training_of_5_seeds(benchmark, family):
    config, images = FAMILIES[family]
    benchmark.group = f"engine-training-5-seeds-{family}"
    data = splits(images, benchmark)
    histories = benchmark.pedantic(lambda: train_stacked(models(config), data, SPEC, seeds=SEEDS), rounds=3,
                                   iterations=1, warmup_rounds=1)
    assert len(histories) == len(SEEDS)


@pytest.fixture(scope="module")
def features():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 128, generator=gen, dtype=torch.float64)
    return x.numpy(), (x @ torch.randn(128, 64, generator=gen, dtype=torch.float64)).tanh().numpy()


@pytest.mark.benchmark(group="engine-cka-2000x128")
def test_benchmark_linear_cka(benchmark, features):
    from claims.shared.representations import linear_cka

    assert 0 < benchmark(linear_cka, *features) <= 1


@pytest.mark.benchmark(group="engine-cka-2000x128")
def test_benchmark_debiased_cka_in_minibatches(benchmark, features):
    from claims.shared.representations import debiased_cka

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


ROOT = Path(__file__).resolve().parents[1]
LATENCY_GROUPS = {"4.1-forward-batch-1", "4.1-forward-batch-256"}


@pytest.fixture
def latency_pass(pytester, monkeypatch, tmp_path):
    """The README's latency pass, in this process (torch and the project are imported already), from the
    project root with its pytest.ini, with its report, cache and benchmark storage under tmp_path."""
    # Not an xdist worker's environment: pytest-benchmark reads PYTEST_XDIST_WORKER and would switch itself off.
    for name in [k for k in os.environ if k.startswith("PYTEST_XDIST")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(ROOT)

    def run(*extra: str):
        return pytester.runpytest_inprocess(
            "-p", "no:xdist", "-p", "no:cacheprovider", "-m", "latency", "--benchmark-enable", "--benchmark-only",
            "-W", "ignore::pytest.PytestAssertRewriteWarning",   # hypothesis is imported already (conftest.py)
            f"--claims-report={tmp_path / 'report'}", f"--claims-cache={tmp_path / 'cache'}",
            f"--benchmark-storage=file://{tmp_path / 'storage'}", *extra,
            "claims/section4/test_width_depth.py")   # where the latency benchmarks are: collects less
    return run


def test_the_latency_pass_writes_the_4_1_groups_to_json_and_compares_with_a_saved_run(latency_pass, tmp_path):
    out = tmp_path / "latency.json"
    first = latency_pass(f"--benchmark-json={out}", "--benchmark-autosave")
    assert first.ret == 0, first.stdout.str()[-3000:] + first.stderr.str()[-3000:]
    runs = json.loads(out.read_text())["benchmarks"]
    assert {b["group"] for b in runs} == LATENCY_GROUPS
    assert len(runs) == 12, [b["name"] for b in runs]   # six architectures x two batch sizes
    for b in runs:
        assert {"architecture", "hidden_layers", "batch", "parameters", "bytes"} <= set(b["extra_info"])
        assert b["stats"]["rounds"] >= 30 and 0 < b["stats"]["min"] <= b["stats"]["median"]
    again = latency_pass("--benchmark-compare", "-k", "02layers and batch1")
    assert again.ret == 0, again.stdout.str()[-3000:] + again.stderr.str()[-3000:]
    assert "Comparing against benchmarks from" in again.stdout.str() + again.stderr.str()
