"""Stored measurements: same value computed or loaded, RNG isolated, keys refuse what they cannot describe."""
from __future__ import annotations

import dataclasses
import random
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from claimcheck import global_state, memo
from claimcheck.config import PROFILES, RunConfig
from claimcheck.memo import Workspace, cached_png, decode, encode, keyable, measurement
from claimcheck.store import Store

CALLS = []


class ToyLibrary:
    """A library with a global generator of its own, registered as a project registers its framework's."""

    name = "toy"

    def __init__(self):
        self.rng = random.Random(0)

    def seed(self, seed: int) -> None:
        self.rng.seed(seed)

    @contextmanager
    def isolated_rng(self, seed: int):
        state = self.rng.getstate()
        self.rng.seed(seed)
        try:
            yield
        finally:
            self.rng.setstate(state)

    def set_threads(self, count: int) -> None:
        return None


TOY = ToyLibrary()


@pytest.fixture(autouse=True)
def toy_registered(monkeypatch):
    monkeypatch.setattr(global_state, "_registered", {"toy": TOY})


@dataclasses.dataclass(frozen=True)
class Knob:
    width: int
    name: str = "k"


ROOT = Path(__file__).resolve().parents[2]


def workspace_at(root, device="cpu"):
    run = RunConfig(profile=PROFILES["smoke"], seeds=3, seed_base=1, device=device, report_dir=root,
                    cache_dir=root, root=ROOT, packages=("numpy",), sources=("claimcheck",))
    return Workspace(Store(root), run)


@measurement
def noisy(zoo, knob: Knob, seeds: list[int], *, scale: float = 1.0):
    CALLS.append((knob, tuple(seeds)))
    return {"draw": np.array([TOY.rng.random() for _ in range(3)], dtype=np.float32) * scale,
            "pair": (float(np.random.rand()), random.random()),
            "seeds": seeds}


def test_a_loaded_measurement_equals_the_computed_one_and_is_not_recomputed(tmp_path):
    CALLS.clear()
    first = noisy(workspace_at(tmp_path), Knob(4), [1, 2])
    second = noisy(workspace_at(tmp_path), Knob(4), [1, 2])
    assert len(CALLS) == 1
    np.testing.assert_array_equal(first["draw"], second["draw"])
    assert first["draw"].dtype == np.float32 and isinstance(first["pair"], tuple)
    assert first["pair"] == second["pair"] and first["seeds"] == [1, 2]
    noisy(workspace_at(tmp_path), Knob(5), [1, 2])
    noisy(workspace_at(tmp_path), Knob(4), [1, 2], scale=2.0)
    noisy(workspace_at(tmp_path, device="cuda"), Knob(4), [1, 2])
    assert len(CALLS) == 4, "arguments and device are part of the key"


def test_the_callers_random_streams_are_the_same_whether_computed_or_loaded(tmp_path):
    def after_measuring():
        TOY.seed(3)
        np.random.seed(3)
        random.seed(3)
        value = noisy(workspace_at(tmp_path), Knob(7), [9])
        return value["pair"], (TOY.rng.random(), np.random.rand(), random.random())

    computed, loaded = after_measuring(), after_measuring()
    assert computed == loaded


def test_the_value_depends_on_the_arguments_not_on_the_callers_seed(tmp_path):
    TOY.seed(1)
    a = noisy(workspace_at(tmp_path / "a"), Knob(8), [1])
    TOY.seed(2)
    b = noisy(workspace_at(tmp_path / "b"), Knob(8), [1])
    np.testing.assert_array_equal(a["draw"], b["draw"])


def test_a_source_change_recomputes(tmp_path, monkeypatch):
    CALLS.clear()
    noisy(workspace_at(tmp_path), Knob(6), [1])
    monkeypatch.setattr(memo, "source_fingerprint", lambda module, root, sources: "edited")
    noisy(workspace_at(tmp_path), Knob(6), [1])
    assert len(CALLS) == 2


def test_shared_sources_are_fingerprinted_but_test_files_only_their_own():
    from claimcheck.identity import source_fingerprint

    fingerprint = source_fingerprint(__name__, ROOT, ("claimcheck",))
    assert fingerprint == source_fingerprint(__name__, ROOT, ("claimcheck",))
    assert fingerprint != source_fingerprint("claimcheck.memo", ROOT, ("claimcheck",))
    assert fingerprint != source_fingerprint(__name__, ROOT, ("claimcheck", "tests/engine/__init__.py"))


@pytest.mark.parametrize("value", [object(), lambda: 0, {1, 2}])
def test_keys_refuse_values_without_a_stable_description(value):
    with pytest.raises(TypeError, match="cannot be keyed"):
        keyable([value])


@dataclasses.dataclass
class TensorLike:
    """What encode reads from a tensor (a framework's array): detach().cpu().numpy()."""

    array: np.ndarray

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self.array


def test_results_round_trip_exactly():
    value = {"a": np.array([[0.1, 1e-300], [np.inf, -0.0]]), "b": (1, "x", [np.float32(0.3)]),
             "c": TensorLike(np.array([1, 2], dtype=np.int64)), "d": None}
    back = decode(encode(value))
    np.testing.assert_array_equal(back["a"], value["a"])
    assert back["b"] == (1, "x", [pytest.approx(0.3, rel=1e-7)]) and back["c"].dtype == np.int64
    with pytest.raises(TypeError, match="cannot return"):
        encode({"model": object()})


def test_a_figure_is_rendered_once_and_reused_byte_for_byte(tmp_path):
    import matplotlib.pyplot as plt

    from claimcheck.evidence import Card, Evidence

    zoo = workspace_at(tmp_path / "cache")

    def figure_cache(figure_id, render):
        return cached_png(zoo.store, zoo.run, __name__, figure_id, render)

    card = Card(id="9.9", title="t", question="q", answer="a", method="m")
    run = type("Run", (), {"profile": PROFILES["smoke"], "seeds": 3, "seed_base": 1})()
    paths = []
    for report in ("first", "second"):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        ev = Evidence(card, "claim", run, tmp_path / report / "figures", figure_cache)
        paths.append(ev.save_figure(fig, "a line"))
        assert ev.figures == ["figures/9_9_claim_a-line.png"] and not plt.get_fignums()
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert zoo.store.counts() == {"loaded": 1, "built": 1}
