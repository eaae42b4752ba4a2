"""The store: one build per key across processes, atomic writes, refusal of bad entries."""
from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest

from claimcheck import store as store_module
from claimcheck.store import CacheRebuildWarning, Store, Unusable, _bytes_hash

SPEC = {"kind": "test", "seed": 1, "scale": "smoke"}
PAYLOAD = b"weights \x00\x01\x02"


def build_counting(counter: list, payload: bytes = PAYLOAD):
    def build():
        counter.append(1)
        return payload, {"acc": 0.5}
    return build


def test_second_call_loads_from_disk_with_sidecar(tmp_path):
    store, built = Store(tmp_path), []
    first = store.get_or_build(SPEC, build_counting(built))
    second = Store(tmp_path).get_or_build(SPEC, build_counting(built))
    assert len(built) == 1 and not first.loaded and second.loaded
    assert second.payload == first.payload == PAYLOAD
    meta = json.loads(store.paths(SPEC)[1].read_text())
    assert meta["spec"] == SPEC and meta["metrics"] == {"acc": 0.5} and set(meta["sha256"]) == {"payload", "metrics"}
    assert not list(tmp_path.rglob("*.tmp")), "temporary files must be renamed or removed"
    assert store.counts() == {"loaded": 0, "built": 1}


def test_key_changes_with_every_field_of_the_spec():
    key = Store.key(SPEC)
    for field, other in (("seed", 2), ("scale", "paper"), ("kind", "other")):
        assert Store.key({**SPEC, field: other}) != key
    assert Store.key({**SPEC, "extra": None}) != key


def test_truncated_payload_is_rebuilt_with_a_warning(tmp_path):
    store, built = Store(tmp_path), []
    store.get_or_build(SPEC, build_counting(built))
    payload_path = store.paths(SPEC)[0]
    payload_path.write_bytes(payload_path.read_bytes()[:4])
    with pytest.warns(CacheRebuildWarning, match="does not match its hash"):
        entry = store.get_or_build(SPEC, build_counting(built))
    assert len(built) == 2 and not entry.loaded
    assert Store(tmp_path).get_or_build(SPEC, build_counting(built)).loaded


def edit_sidecar(store: Store, edit) -> None:
    """Apply `edit` to the stored sidecar JSON of SPEC, as a hand edit or a stray copy would."""
    meta_path = store.paths(SPEC)[1]
    meta = json.loads(meta_path.read_text())
    edit(meta)
    meta_path.write_text(json.dumps(meta))


def test_mismatched_sidecar_is_rebuilt_with_a_warning(tmp_path):
    store, built = Store(tmp_path), []
    store.get_or_build(SPEC, build_counting(built))
    edit_sidecar(store, lambda meta: meta["spec"].update(seed=99))
    with pytest.warns(CacheRebuildWarning, match="does not match"):
        store.get_or_build(SPEC, build_counting(built))
    assert len(built) == 2


@pytest.mark.parametrize("sidecar", ["[]", "null", '{"spec": {}, "sha256": {}}', "{not json"])
def test_a_sidecar_of_the_wrong_shape_is_rebuilt(tmp_path, sidecar):
    store, built = Store(tmp_path), []
    store.get_or_build(SPEC, build_counting(built))
    store.paths(SPEC)[1].write_text(sidecar)
    with pytest.warns(CacheRebuildWarning, match="not a {spec|unreadable"):
        store.get_or_build(SPEC, build_counting(built))
    assert len(built) == 2


def test_an_edited_metric_is_caught_by_its_hash(tmp_path):
    store, built = Store(tmp_path), []
    store.get_or_build(SPEC, build_counting(built))
    edit_sidecar(store, lambda meta: meta["metrics"].update(acc=0.99))
    with pytest.warns(CacheRebuildWarning, match="metrics do not match"):
        entry = store.get_or_build(SPEC, build_counting(built))
    assert entry.meta["metrics"]["acc"] == 0.5


def test_a_payload_copied_from_another_entry_is_caught(tmp_path):
    store, built = Store(tmp_path), []
    other = {**SPEC, "seed": 2}
    store.get_or_build(SPEC, build_counting(built))
    store.get_or_build(other, build_counting(built, b"other weights"))
    store.paths(SPEC)[0].write_bytes(store.paths(other)[0].read_bytes())
    with pytest.warns(CacheRebuildWarning, match="copied from another entry"):
        entry = store.get_or_build(SPEC, build_counting(built))
    assert entry.payload == PAYLOAD


def test_a_forged_hash_still_meets_the_callers_validation(tmp_path):
    store, built = Store(tmp_path), []
    store.get_or_build(SPEC, build_counting(built))
    payload_path, meta_path, _ = store.paths(SPEC)
    payload_path.write_bytes(b"not what the caller expects")
    meta = json.loads(meta_path.read_text())
    meta["sha256"]["payload"] = _bytes_hash(payload_path.read_bytes())   # consistent forgery
    meta_path.write_text(json.dumps(meta))

    def starts_right(entry):
        if not entry.payload.startswith(b"weights"):
            raise Unusable("not a weights payload")
    with pytest.warns(CacheRebuildWarning, match="not a weights payload"):
        entry = store.get_or_build(SPEC, build_counting(built), validate=starts_right)
    assert len(built) == 2 and entry.payload == PAYLOAD


@pytest.mark.parametrize("error", [KeyError("bias"), ValueError("shape"), RuntimeError("load")])
def test_the_callers_validation_errors_rebuild_what_it_cannot_use(tmp_path, error):
    store, built = Store(tmp_path), []
    store.get_or_build(SPEC, build_counting(built))

    def refuse(entry):
        raise error
    with pytest.warns(CacheRebuildWarning, match=type(error).__name__):
        store.get_or_build(SPEC, build_counting(built), validate=refuse)
    assert len(built) == 2


def test_build_must_return_bytes_and_a_dict(tmp_path):
    with pytest.raises(TypeError, match="bytes, dict"):
        Store(tmp_path).get_or_build(SPEC, lambda: ("text", {}))


def test_stale_temporary_files_are_removed(tmp_path):
    store, built = Store(tmp_path), []
    payload_path = store.paths(SPEC)[0]
    payload_path.parent.mkdir(parents=True)
    stale = payload_path.parent / f"{payload_path.name}abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    store.get_or_build(SPEC, build_counting(built))
    assert not stale.exists()


def _wait_for(path: Path, timeout: float = 30.0) -> bool:
    """Poll until `path` exists (an event between processes); False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _hold_lock(lock_path: str, ready: str, release: str) -> None:
    from filelock import FileLock

    with FileLock(lock_path):
        Path(lock_path).with_suffix(".owner").write_text("pid 4242 on test-host since 00:00:00")
        Path(ready).touch()
        _wait_for(Path(release))   # held until the waiting process has said whom it waits for


def test_a_long_lock_wait_says_whom_it_waits_for(tmp_path, monkeypatch):
    from claimcheck import console

    notices = []

    def notice(line: str) -> None:   # the notice goes past pytest's capture; it also releases the holder
        notices.append(line)
        (tmp_path / "release").touch()
    monkeypatch.setattr(console, "_write", notice)
    store = Store(tmp_path)
    lock_path = store.paths(SPEC)[2]
    lock_path.parent.mkdir(parents=True)
    holder = multiprocessing.get_context("fork").Process(
        target=_hold_lock, args=(str(lock_path), str(tmp_path / "ready"), str(tmp_path / "release")))
    holder.start()
    assert _wait_for(tmp_path / "ready")
    monkeypatch.setattr(store_module, "LOCK_NOTICE_S", 0.05)
    store.get_or_build(SPEC, build_counting([]))
    holder.join()
    assert any("waiting for pid 4242 on test-host" in line for line in notices), notices


def _racer(root: Path, me: str, other: str) -> None:
    """One process of the race: wait for the other, then ask the store for the same key. The one that builds
    finishes its build only once the other has said that it waits for the lock (or after 30 s)."""
    from claimcheck import console

    store_module.LOCK_NOTICE_S = 0.0   # a racer that finds the lock held says so at once ...
    console._write = lambda line: (root / f"waiting-{me}").touch()   # ... which this records
    (root / f"ready-{me}").touch()
    _wait_for(root / f"ready-{other}")   # start both racers together

    def build():
        with open(root / "builds.log", "a") as log:
            log.write(me + "\n")
        _wait_for(root / f"waiting-{other}")   # a slow build: the other racer arrives during it
        return b"777", {}
    entry = Store(root / "store").get_or_build({"kind": "race"}, build)
    (root / f"result-{me}").write_text(f"{'loaded' if entry.loaded else 'built'} {entry.payload.decode()}")


def test_two_processes_racing_on_one_key_build_once(tmp_path):
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
    assert all(out[1] == "777" for out in outputs)


def test_a_package_from_another_distribution_is_keyed_with_that_distributions_version(monkeypatch):
    """xgboost's CPU build is the distribution `xgboost-cpu` providing the import package `xgboost`."""
    from importlib import metadata

    from claimcheck.identity import package_versions

    real_version = metadata.version

    def version(name):
        if name == "xgboost":
            raise metadata.PackageNotFoundError(name)
        return "3.2.0" if name == "xgboost-cpu" else real_version(name)

    monkeypatch.setattr(metadata, "version", version)
    monkeypatch.setattr(metadata, "packages_distributions", lambda: {"xgboost": ["xgboost-cpu"]})
    assert package_versions(["xgboost", "surely-not-a-package"]) == {"xgboost": "3.2.0",
                                                                     "surely-not-a-package": "not installed"}
