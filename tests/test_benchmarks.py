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
    histories = benchmark.pedantic(run, rounds=3, iterations=1)
    assert len(histories) == len(SEEDS)


@pytest.mark.benchmark(group="engine-training-8-seeds")
def test_benchmark_stacked_training_of_8_seeds(benchmark, splits):
    histories = benchmark.pedantic(lambda: train_stacked(models(), splits, SPEC, seeds=SEEDS), rounds=3,
                                   iterations=1)
    assert len(histories) == len(SEEDS)
