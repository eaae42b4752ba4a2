"""Seeding and thread limits cover the libraries a project registers through pytest_claims_global_state."""
from __future__ import annotations

import random
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from claimcheck import global_state
from claimcheck.latency import quiet_timing

ROOT = Path(__file__).resolve().parents[2]


class RecordingLibrary:
    """A library state that records what the engine asks of it."""

    def __init__(self, name: str = "recording", calls: list | None = None):
        self.name = name
        self.calls = [] if calls is None else calls
        self.threads = 4

    def seed(self, seed: int) -> None:
        self.calls.append((self.name, "seed", seed))

    @contextmanager
    def isolated_rng(self, seed: int):
        self.calls.append((self.name, "enter", seed))
        yield
        self.calls.append((self.name, "exit", seed))

    def set_threads(self, count: int) -> int:
        previous, self.threads = self.threads, count
        return previous


@pytest.fixture
def library(monkeypatch) -> RecordingLibrary:
    monkeypatch.setattr(global_state, "_registered", {})
    state = RecordingLibrary()
    global_state.register(state)
    return state


def test_a_state_registered_twice_under_one_name_is_kept_once(library):
    replacement = RecordingLibrary()
    global_state.register(replacement)
    assert global_state.registered() == (replacement,)


def test_seed_everything_seeds_random_numpy_then_the_registered_libraries(library):
    global_state.seed_everything(2**32 + 5)
    after = random.random(), np.random.rand()
    random.seed(2**32 + 5)
    np.random.seed(5)
    assert after == (random.random(), np.random.rand())
    assert library.calls == [("recording", "seed", 2**32 + 5)]


def test_an_isolated_block_seeds_every_generator_and_restores_the_callers(library):
    random.seed(1)
    np.random.seed(1)
    expected = random.random(), np.random.rand()
    random.seed(1)
    np.random.seed(1)
    with global_state.isolated_rng(7):
        inside = random.random(), np.random.rand()
        assert library.calls == [("recording", "enter", 7)]
    assert library.calls == [("recording", "enter", 7), ("recording", "exit", 7)]
    assert (random.random(), np.random.rand()) == expected
    random.seed(7)
    np.random.seed(7)
    assert inside == (random.random(), np.random.rand())


def test_the_cpu_limit_and_timing_blocks_set_the_registered_libraries_threads(library, monkeypatch):
    import threadpoolctl

    monkeypatch.setattr(threadpoolctl, "threadpool_limits", lambda limits: None)   # the process keeps its pools
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    global_state.limit_cpu_threads()
    assert library.threads == global_state.CPU_THREADS_PER_PROCESS
    library.threads = 3
    with quiet_timing():
        assert library.threads == 1
    assert library.threads == 3


PROJECT_CONFTEST = '''
from contextlib import contextmanager


class Toy:
    name = "toy"

    def __init__(self):
        self.seeds, self.threads = [], 8

    def seed(self, seed):
        self.seeds.append(seed)

    @contextmanager
    def isolated_rng(self, seed):
        yield

    def set_threads(self, count):
        previous, self.threads = self.threads, count
        return previous


def pytest_claims_global_state(config):
    return Toy()
'''

PROJECT_TEST = '''
from claimcheck import global_state
from claimcheck.seeds import derive


def test_the_projects_library_is_seeded_for_this_test_and_runs_one_thread(request):
    toy = {state.name: state for state in global_state.registered()}["toy"]
    assert toy.threads == 1
    assert toy.seeds == [derive(request.config.getoption("claims_seed"), request.node.nodeid)]
'''


def test_a_project_registers_its_library_through_the_hook(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setattr(global_state, "_registered", {})   # the in-process run registers into this process
    pytester.makeini("[pytest]\naddopts = -p claimcheck.plugin -p no:benchmark -p no:hypothesispytest "
                     "--claims-device cpu\nclaims_title = toy\n")
    pytester.makeconftest(PROJECT_CONFTEST)
    pytester.makepyfile(test_toy=PROJECT_TEST)
    pytester.runpytest_inprocess("--claims-cache", str(pytester.path / "cache")).assert_outcomes(passed=1)
