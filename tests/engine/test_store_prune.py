"""Store usage marks and Store.prune: every load and write marks an entry used; prune removes what was not
used since a time, under each entry's lock, and leaves entries another process holds."""
from __future__ import annotations

import multiprocessing
import os
import time
import warnings
from pathlib import Path

from claimcheck import store as store_module
from claimcheck.store import Store

LONG_AGO = time.time() - 10_000


def spec(n: int) -> dict:
    return {"kind": "test", "n": n}


def build(payload: bytes = b"payload"):
    return lambda: (payload, {"m": 1})


def age(store: Store, n: int, when: float = LONG_AGO) -> None:
    """Make entry n look last used at `when`."""
    for path in store.paths(spec(n))[:2]:
        os.utime(path, (when, when))


def files(store: Store, n: int) -> list[bool]:
    return [path.exists() for path in store.paths(spec(n))]


def test_a_load_and_a_write_mark_the_entry_used_now(tmp_path):
    store = Store(tmp_path)
    before = time.time()
    store.get_or_build(spec(1), build())
    assert all(path.stat().st_mtime >= before for path in store.paths(spec(1))[:2])
    age(store, 1)
    before = time.time()
    assert store.get_or_build(spec(1), build()).loaded
    assert all(path.stat().st_mtime >= before for path in store.paths(spec(1))[:2])


def test_prune_removes_the_entries_unused_since_the_cutoff_and_keeps_the_lock_files(tmp_path):
    store = Store(tmp_path)
    for n in range(4):
        store.get_or_build(spec(n), build())
    cutoff = time.time() + 60   # as if the run started a minute from now: every entry is older ...
    age(store, 0), age(store, 1)
    for n in (2, 3):
        age(store, n, cutoff + 1)    # ... except 2 and 3, used since
    assert store.prune(unused_since=cutoff) == 2
    assert files(store, 0) == files(store, 1) == [False, False, True]   # payload, sidecar gone; the lock stays
    assert files(store, 2) == files(store, 3) == [True, True, True]
    assert store.prune(unused_since=cutoff) == 0
    built = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a pruned entry is simply missing: rebuilt without a warning
        entry = store.get_or_build(spec(0), lambda: (built.append(1) or b"again", {}))
    assert built and not entry.loaded


def test_an_entry_used_just_before_the_cutoff_is_kept_for_coarse_file_times(tmp_path):
    store = Store(tmp_path)
    store.get_or_build(spec(1), build())
    cutoff = time.time() + 60
    age(store, 1, cutoff - store_module.MTIME_SLACK_S / 2)
    assert store.prune(unused_since=cutoff) == 0 and all(files(store, 1))


def test_prune_removes_a_killed_writers_temporary_files_and_touches_nothing_else(tmp_path):
    store = Store(tmp_path)
    store.get_or_build(spec(1), build())
    payload_path = store.paths(spec(1))[0]
    stray = [payload_path.parent / f"{payload_path.name}abc.tmp", payload_path.parent / "notes.txt",
             tmp_path / "README", payload_path.parent / f"{payload_path.stem}.owner"]
    for path in stray:
        path.write_text("x")
        os.utime(path, (LONG_AGO, LONG_AGO))
    age(store, 1)
    assert store.prune(unused_since=time.time()) == 1
    assert [path.exists() for path in stray] == [False, True, True, False]


def test_only_temporary_files_left_count_as_no_entry(tmp_path):
    store = Store(tmp_path)
    payload_path = store.paths(spec(1))[0]
    payload_path.parent.mkdir(parents=True)
    tmp = payload_path.parent / f"{payload_path.name}abc.tmp"
    tmp.write_bytes(b"half")
    os.utime(tmp, (LONG_AGO, LONG_AGO))
    assert store.prune(unused_since=time.time()) == 0 and not tmp.exists()


def test_prune_of_a_store_never_written_removes_nothing(tmp_path):
    assert Store(tmp_path / "never").prune(unused_since=time.time()) == 0


def test_an_entry_used_between_the_first_look_and_the_lock_is_kept(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.get_or_build(spec(1), build())
    looks = iter([LONG_AGO, time.time()])    # unused at the first look, loaded by the time prune holds the lock
    monkeypatch.setattr(store_module, "_last_use", lambda folder, key: next(looks))
    assert store.prune(unused_since=time.time() - 1) == 0 and all(files(store, 1))


def _hold(lock_path: str, ready: str, release: str) -> None:
    from filelock import FileLock

    with FileLock(lock_path):
        Path(ready).touch()
        while not Path(release).exists():
            time.sleep(0.01)


def test_an_entry_whose_lock_another_process_holds_is_in_use_and_kept(tmp_path):
    store = Store(tmp_path)
    store.get_or_build(spec(1), build())
    store.get_or_build(spec(2), build())
    age(store, 1), age(store, 2)
    holder = multiprocessing.get_context("fork").Process(
        target=_hold, args=(str(store.paths(spec(1))[2]), str(tmp_path / "ready"), str(tmp_path / "release")))
    holder.start()
    try:
        while not (tmp_path / "ready").exists():
            time.sleep(0.01)
        assert store.prune(unused_since=time.time()) == 1
        assert all(files(store, 1)) and files(store, 2) == [False, False, True]
    finally:
        (tmp_path / "release").touch()
        holder.join()
    assert holder.exitcode == 0


def _load_in_a_loop(root: str, until: float) -> None:
    """A worker sharing the store: any warning (a half-removed entry would give one) is an error."""
    warnings.simplefilter("error")
    store = Store(Path(root))
    while time.time() < until:
        for n in range(8):
            entry = store.get_or_build(spec(n), build(b"%d" % n))
            assert entry.payload == b"%d" % n


def test_pruning_while_another_process_loads_and_rebuilds_leaves_no_entry_half_removed(tmp_path):
    store = Store(tmp_path)
    for n in range(8):
        store.get_or_build(spec(n), build(b"%d" % n))
    worker = multiprocessing.get_context("fork").Process(target=_load_in_a_loop,
                                                         args=(str(tmp_path), time.time() + 1.0))
    worker.start()
    removed = 0
    while worker.is_alive():
        removed += store.prune(unused_since=time.time() + store_module.MTIME_SLACK_S)   # everything counts as old
    worker.join()
    assert worker.exitcode == 0 and removed > 0
