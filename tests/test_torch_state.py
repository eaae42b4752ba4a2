"""torch's generators and thread pool follow the engine's seeding and thread limits (fixtures/torch_state.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from claimcheck import global_state
from claimcheck.config import PROFILES, RunConfig
from claimcheck.latency import quiet_timing
from claimcheck.memo import Workspace, decode, encode, measurement
from claimcheck.store import Store
from fixtures.torch_state import TorchState

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def torch_only(monkeypatch):
    """The registry holding torch's state alone, as this project's plugin registers it."""
    monkeypatch.setattr(global_state, "_registered", {"torch": TorchState()})


def workspace_at(root: Path) -> Workspace:
    run = RunConfig(profile=PROFILES["smoke"], seeds=3, seed_base=1, device="cpu", report_dir=root,
                    cache_dir=root, root=ROOT, packages=("numpy",), sources=("claimcheck",))
    return Workspace(Store(root), run)


@measurement
def torch_draw(ctx, n: int):
    return torch.randn(n)


def test_this_projects_plugin_registers_torch(run_config):
    assert isinstance({s.name: s for s in global_state.registered()}["torch"], TorchState)


def test_a_measurement_draws_from_torch_the_same_computed_or_loaded_and_hides_it_from_the_caller(
        tmp_path, torch_only):
    def after_measuring(seed):
        torch.manual_seed(seed)
        value = torch_draw(workspace_at(tmp_path), 3)
        return value, torch.rand(1).item()

    computed, following = after_measuring(1)
    loaded, _ = after_measuring(2)
    _, following_loaded = after_measuring(1)
    np.testing.assert_array_equal(computed, loaded)
    assert computed.dtype == np.float32
    assert following == following_loaded, "the caller's torch stream does not see the measurement"


def test_seed_everything_seeds_torch(torch_only):
    global_state.seed_everything(12345)
    drawn = torch.rand(2)
    torch.manual_seed(12345)
    assert torch.equal(drawn, torch.rand(2))


def test_tensors_are_stored_as_numpy_arrays():
    back = decode(encode({"t": torch.tensor([1, 2], dtype=torch.int64)}))
    assert back["t"].dtype == np.int64 and back["t"].tolist() == [1, 2]
    with pytest.raises(TypeError, match="cannot return"):
        encode({"model": torch.nn.Linear(1, 1)})


def test_timing_runs_torch_on_one_thread_and_restores_its_count(torch_only):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with quiet_timing():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_without_torch_loaded_the_state_does_nothing(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    state = TorchState()
    state.seed(1)
    with state.isolated_rng(1):
        pass
    assert state.set_threads(1) is None
