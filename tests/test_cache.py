"""The model cache: one build per key across processes, atomic writes, refusal of bad entries."""
from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest
import torch

from fixtures.cache import CODE_VERSION, CacheRebuildWarning, ModelCache

SPEC = {"kind": "test", "seed": 1, "scale": "smoke"}


def build_counting(counter: list):
    def build():
        counter.append(1)
        return {"w": torch.arange(6.0).reshape(2, 3)}, {"acc": 0.5}
    return build


def test_second_call_loads_from_disk_with_sidecar(tmp_path):
    cache, built = ModelCache(tmp_path), []
    first = cache.get_or_build(SPEC, build_counting(built))
    second = ModelCache(tmp_path).get_or_build(SPEC, build_counting(built))
    assert len(built) == 1 and not first.loaded and second.loaded
    assert torch.equal(second.tensors["w"], first.tensors["w"])
    meta = json.loads(cache.paths(SPEC)[1].read_text())
    assert meta["spec"] == SPEC and meta["code_version"] == CODE_VERSION and meta["metrics"] == {"acc": 0.5}
    assert not list(tmp_path.rglob("*.tmp")), "temporary files must be renamed or removed"


def test_key_changes_with_spec_and_code_version(tmp_path, monkeypatch):
    key = ModelCache.key(SPEC)
    assert ModelCache.key({**SPEC, "seed": 2}) != key
    monkeypatch.setattr("fixtures.cache.CODE_VERSION", "other")
    assert ModelCache.key(SPEC) != key


def test_truncated_file_is_rebuilt_with_a_warning(tmp_path):
    cache, built = ModelCache(tmp_path), []
    cache.get_or_build(SPEC, build_counting(built))
    tensor_path = cache.paths(SPEC)[0]
    tensor_path.write_bytes(tensor_path.read_bytes()[:40])
    with pytest.warns(CacheRebuildWarning, match="unreadable"):
        entry = cache.get_or_build(SPEC, build_counting(built))
    assert len(built) == 2 and not entry.loaded
    assert ModelCache(tmp_path).get_or_build(SPEC, build_counting(built)).loaded


class NotAStateDict:
    """Any pickled object that is not a mapping of tensors must be refused."""

    def __init__(self):
        self.payload = "arbitrary code could run here"


@pytest.mark.parametrize("foreign", [NotAStateDict(), [1, 2, 3], {"w": [1.0, 2.0]}],
                         ids=["custom-object", "list", "dict-of-lists"])
def test_a_pickled_object_that_is_not_a_state_dict_is_refused(tmp_path, foreign):
    cache, built = ModelCache(tmp_path), []
    cache.get_or_build(SPEC, build_counting(built))
    torch.save(foreign, cache.paths(SPEC)[0])
    with pytest.warns(CacheRebuildWarning):
        entry = cache.get_or_build(SPEC, build_counting(built))
    assert len(built) == 2 and isinstance(entry.tensors["w"], torch.Tensor)


def test_mismatched_sidecar_is_rebuilt_with_a_warning(tmp_path):
    cache, built = ModelCache(tmp_path), []
    cache.get_or_build(SPEC, build_counting(built))
    meta_path = cache.paths(SPEC)[1]
    meta = json.loads(meta_path.read_text())
    meta["spec"]["seed"] = 99
    meta_path.write_text(json.dumps(meta))
    with pytest.warns(CacheRebuildWarning, match="does not match"):
        cache.get_or_build(SPEC, build_counting(built))
    assert len(built) == 2


def test_build_must_return_tensors(tmp_path):
    with pytest.raises(TypeError, match="mapping of names to tensors"):
        ModelCache(tmp_path).get_or_build(SPEC, lambda: ({"w": [1, 2]}, {}))


def _racer(root: Path, me: str, other: str) -> None:
    """One process of the race: wait for the other, then ask the cache for the same key."""
    (root / f"ready-{me}").touch()
    while not (root / f"ready-{other}").exists():   # start both racers together
        time.sleep(0.01)

    def build():
        with open(root / "builds.log", "a") as log:
            log.write(me + "\n")
        time.sleep(1.0)                              # a slow training run
        return {"w": torch.full((3,), 7.0)}, {}
    entry = ModelCache(root / "cache").get_or_build({"kind": "race"}, build)
    (root / f"result-{me}").write_text(f"{'loaded' if entry.loaded else 'built'} {float(entry.tensors['w'].sum())}")


def test_two_processes_racing_on_one_key_train_once(tmp_path):
    # Forked processes (separate interpreters, separate file descriptors) share the imports already
    # made here, so the race costs about a second instead of two torch start-ups.
    context = multiprocessing.get_context("fork")
    procs = [context.Process(target=_racer, args=(tmp_path, me, other)) for me, other in (("a", "b"), ("b", "a"))]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0, 0]
    assert (tmp_path / "builds.log").read_text().split() in (["a"], ["b"])
    outputs = [(tmp_path / f"result-{me}").read_text().split() for me in "ab"]
    assert sorted(out[0] for out in outputs) == ["built", "loaded"]
    assert all(out[1] == "21.0" for out in outputs)
