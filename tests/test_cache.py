"""The model cache: one build per key across processes, atomic writes, refusal of bad entries."""
from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest
import torch

from fixtures import cache as cache_module
from fixtures.cache import CacheRebuildWarning, ModelCache, _file_hash

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
    assert meta["spec"] == SPEC and meta["metrics"] == {"acc": 0.5} and set(meta["sha256"]) == {"tensors", "metrics"}
    assert not list(tmp_path.rglob("*.tmp")), "temporary files must be renamed or removed"


def test_key_changes_with_every_field_of_the_spec():
    key = ModelCache.key(SPEC)
    for field, other in (("seed", 2), ("scale", "paper"), ("kind", "other")):
        assert ModelCache.key({**SPEC, field: other}) != key
    assert ModelCache.key({**SPEC, "extra": None}) != key


def test_truncated_file_is_rebuilt_with_a_warning(tmp_path):
    cache, built = ModelCache(tmp_path), []
    cache.get_or_build(SPEC, build_counting(built))
    tensor_path = cache.paths(SPEC)[0]
    tensor_path.write_bytes(tensor_path.read_bytes()[:40])
    with pytest.warns(CacheRebuildWarning, match="does not match its hash"):
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
    tensor_path, meta_path, _ = cache.paths(SPEC)
    torch.save(foreign, tensor_path)
    meta = json.loads(meta_path.read_text())
    meta["sha256"]["tensors"] = _file_hash(tensor_path)   # a consistent forgery: the load itself must refuse it
    meta_path.write_text(json.dumps(meta))
    with pytest.warns(CacheRebuildWarning, match="weights-only|mapping of names"):
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


@pytest.mark.parametrize("sidecar, why", [("[]", "not a {spec"), ("null", "not a {spec"),
                                          ('{"spec": {}, "sha256": {}}', "not a {spec")])
def test_a_sidecar_of_the_wrong_shape_is_rebuilt(tmp_path, sidecar, why):
    cache, built = ModelCache(tmp_path), []
    cache.get_or_build(SPEC, build_counting(built))
    cache.paths(SPEC)[1].write_text(sidecar)
    with pytest.warns(CacheRebuildWarning, match=why):
        cache.get_or_build(SPEC, build_counting(built))
    assert len(built) == 2


def test_an_edited_measurement_value_is_caught_by_its_hash(tmp_path):
    cache, built = ModelCache(tmp_path), []
    cache.get_or_build(SPEC, build_counting(built))
    meta_path = cache.paths(SPEC)[1]
    meta = json.loads(meta_path.read_text())
    meta["metrics"]["acc"] = 0.99
    meta_path.write_text(json.dumps(meta))
    with pytest.warns(CacheRebuildWarning, match="metrics do not match"):
        entry = cache.get_or_build(SPEC, build_counting(built))
    assert entry.meta["metrics"]["acc"] == 0.5


def test_a_tensor_file_copied_from_another_entry_is_caught(tmp_path):
    cache, built = ModelCache(tmp_path), []
    other = {**SPEC, "seed": 2}
    cache.get_or_build(SPEC, build_counting(built))
    cache.get_or_build(other, lambda: ({"w": torch.zeros(2, 3)}, {"acc": 0.5}))
    cache.paths(SPEC)[0].write_bytes(cache.paths(other)[0].read_bytes())
    with pytest.warns(CacheRebuildWarning, match="copied from another entry"):
        entry = cache.get_or_build(SPEC, build_counting(built))
    assert torch.equal(entry.tensors["w"], torch.arange(6.0).reshape(2, 3))


def test_the_callers_validation_rebuilds_what_it_cannot_use(tmp_path):
    cache, built = ModelCache(tmp_path), []
    cache.get_or_build(SPEC, build_counting(built))

    def needs_bias(entry):
        entry.tensors["bias"]
    with pytest.warns(CacheRebuildWarning, match="KeyError"):
        cache.get_or_build(SPEC, build_counting(built), validate=needs_bias)
    assert len(built) == 2


def test_stale_temporary_files_are_removed(tmp_path):
    cache, built = ModelCache(tmp_path), []
    tensor_path = cache.paths(SPEC)[0]
    tensor_path.parent.mkdir(parents=True)
    stale = tensor_path.parent / f"{tensor_path.name}abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    cache.get_or_build(SPEC, build_counting(built))
    assert not stale.exists()


def _hold_lock(lock_path: str, ready: str, seconds: float) -> None:
    from filelock import FileLock

    with FileLock(lock_path):
        Path(lock_path).with_suffix(".owner").write_text("pid 4242 on test-host since 00:00:00")
        Path(ready).touch()
        time.sleep(seconds)


def test_a_long_lock_wait_says_whom_it_waits_for(tmp_path, monkeypatch, capsys):
    cache = ModelCache(tmp_path)
    lock_path = cache.paths(SPEC)[2]
    lock_path.parent.mkdir(parents=True)
    holder = multiprocessing.get_context("fork").Process(
        target=_hold_lock, args=(str(lock_path), str(tmp_path / "ready"), 1.5))
    holder.start()
    while not (tmp_path / "ready").exists():
        time.sleep(0.01)
    monkeypatch.setattr(cache_module, "LOCK_NOTICE_S", 0.2)
    cache.get_or_build(SPEC, build_counting([]))
    holder.join()
    assert "waiting for pid 4242 on test-host" in capsys.readouterr().err


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


def tiny_zoo(tmp_path):
    from types import SimpleNamespace

    from fixtures.training import TrainSpec
    from fixtures.zoo import DataSpec, ModelZoo, Recipe
    from models.mlp import MLPConfig

    run = SimpleNamespace(scale="smoke", device="cpu")
    recipe = Recipe(arch=MLPConfig(64, (8,), 10), data=DataSpec("digits"),
                    train=TrainSpec(epochs=1, lr=1e-2, batch_size=256))
    return ModelZoo(ModelCache(tmp_path), run), recipe


def test_a_model_key_changes_with_the_training_code_and_the_library_versions(tmp_path, monkeypatch):
    from fixtures import zoo as zoo_module

    zoo, recipe = tiny_zoo(tmp_path)
    zoo.trained(recipe, 1)
    monkeypatch.setattr(zoo_module, "training_fingerprint", lambda: "edited training code")
    zoo.trained(recipe, 1)
    monkeypatch.setattr(zoo_module, "library_versions", lambda names: {"torch": "99.0"})
    zoo.trained(recipe, 1)
    assert zoo.cache.counts() == {"loaded": 0, "built": 3}


def test_a_model_entry_with_wrong_keys_or_shapes_is_rebuilt(tmp_path):
    zoo, recipe = tiny_zoo(tmp_path)
    zoo.trained(recipe, 1)
    (meta_path,) = tmp_path.rglob("*.json")
    tensor_path = meta_path.with_suffix(".pt")
    state = torch.load(tensor_path, weights_only=True)
    state["final.layers.0.weight"] = torch.zeros(3, 3)           # a shape the model cannot load
    torch.save(state, tensor_path)
    meta = json.loads(meta_path.read_text())
    meta["sha256"]["tensors"] = _file_hash(tensor_path)
    meta_path.write_text(json.dumps(meta))
    with pytest.warns(CacheRebuildWarning, match="RuntimeError"):
        trained = zoo.trained(recipe, 1)
    assert not trained.loaded_from_cache
