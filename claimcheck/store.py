"""The store: bytes and JSON on disk, keyed by a hash of everything that produced them.

Key = sha256 of the spec (a JSON object). Callers put into the spec everything an entry depends on
(the arguments, the run, library versions, a fingerprint of the code involved: claimcheck/identity.py);
nothing else is mixed in, so no version number needs bumping by hand. Each entry is built once under a
file lock (parallel workers wait, then load; a long wait says whom it waits for), written to a
temporary file and renamed (stale temporary files of killed writers are removed).

An entry is a payload of bytes (possibly empty) and a JSON object of metrics. On load it must pass every
probe, else it is rebuilt with a `CacheRebuildWarning`: a JSON sidecar of the right shape whose spec
equals the request, payload and metrics whose sha256 match the hashes stored at write time (so an
edited value or a file copied over another entry is caught), and the caller's own `validate`. Layers
on top decode the payload (claimcheck.memo for figures; a project's tensor cache for trained models).

Every load and write sets the entry's files' modification time to now, so `Store.prune` can remove what
a run did not use (a CI cache that would otherwise keep every entry of every past version of the code).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from claimcheck import console
from claimcheck.files import atomic_write_bytes

LOCK_NOTICE_S = 30.0   # after this long waiting for another process's build, say whom we wait for
# prune keeps an entry used this little before the cutoff: some filesystems store modification times
# coarsely (FAT: 2 s), so a use just after the cutoff could read as just before it.
MTIME_SLACK_S = 2.0
KEY_LENGTH = 64        # a sha256 in hex: the start of every file name of an entry
UNUSABLE_ERRORS = (TypeError, ValueError, RuntimeError, KeyError, EOFError, OSError)


class CacheRebuildWarning(UserWarning):
    """A stored entry could not be used and was rebuilt."""


class Unusable(Exception):
    """The entry on disk cannot be used (the message says why); raised by decoders and validators."""


@dataclass
class StoredEntry:
    payload: bytes
    meta: dict     # {"spec", "metrics", "sha256"}
    loaded: bool   # True when it came from disk, False when built in this call


class Store:
    """A folder of entries; `counts()` says how many were loaded and built by this object."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._counts = {"loaded": 0, "built": 0}

    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    @staticmethod
    def normalized(spec: Mapping) -> dict:
        """The spec as it is stored and compared: plain JSON data."""
        return json.loads(json.dumps(spec, sort_keys=True, default=str))

    @staticmethod
    def key(spec: Mapping) -> str:
        text = json.dumps(spec, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def paths(self, spec: Mapping) -> tuple[Path, Path, Path]:
        key = self.key(spec)
        folder = self.root / key[:2]
        return folder / f"{key}.bin", folder / f"{key}.json", folder / f"{key}.lock"

    def get_or_build(self, spec: Mapping, build: Callable[[], tuple[bytes, dict]],
                     validate: Callable[[StoredEntry], None] | None = None) -> StoredEntry:
        """Load the entry for `spec`, or build it (once across processes) and store it.

        build() returns (payload bytes, metrics dict). validate(entry) raises (Unusable or one of
        UNUSABLE_ERRORS) when a loaded entry cannot serve its caller; the entry is then rebuilt like
        any other unusable one."""
        spec = self.normalized(spec)
        payload_path, meta_path, lock_path = self.paths(spec)
        payload_path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(lock_path, spec):
            _remove_stale_temporaries(payload_path, meta_path)
            if payload_path.exists() or meta_path.exists():
                try:
                    entry = self._load(spec, payload_path, meta_path, validate)
                except Unusable as why:
                    warnings.warn(f"rebuilding cache entry {payload_path.stem}: {why}", CacheRebuildWarning,
                                  stacklevel=3)
                else:
                    _mark_used(payload_path, meta_path)
                    self._counts["loaded"] += 1
                    return entry
            payload, metrics = build()
            if not isinstance(payload, (bytes, bytearray)) or not isinstance(metrics, dict):
                raise TypeError("build() must return (bytes, dict)")
            metrics = json.loads(json.dumps(metrics))
            atomic_write_bytes(payload_path, bytes(payload))
            meta = {"spec": spec, "metrics": metrics,
                    "sha256": {"payload": _bytes_hash(payload), "metrics": _json_hash(metrics)}}
            atomic_write_bytes(meta_path, json.dumps(meta, indent=1).encode())
            _mark_used(payload_path, meta_path)
            self._counts["built"] += 1
            return StoredEntry(bytes(payload), meta, loaded=False)

    def prune(self, unused_since: float) -> int:
        """Remove every entry neither loaded nor written since `unused_since` (a time.time() value, e.g. the
        start of a complete run) and return how many were removed. Each is removed under its lock, after a
        second look at its times; one whose lock another process holds (building or loading it) is in use and
        stays. Lock files stay too: a lock file removed while another process waits on it would let a third
        lock a new file of the same name, and two processes would build the entry at once."""
        removed = 0
        for folder, key in self._keys_on_disk():
            if _last_use(folder, key) < unused_since - MTIME_SLACK_S:
                removed += _remove_unused(folder, key, unused_since - MTIME_SLACK_S)
        return removed

    def _keys_on_disk(self) -> list[tuple[Path, str]]:
        """(folder, key) of every entry with a payload, a sidecar or a temporary file of either."""
        if not self.root.is_dir():
            return []
        keys = set()
        for folder in self.root.iterdir():
            if folder.is_dir():
                keys.update((folder, path.name[:KEY_LENGTH]) for path in folder.iterdir() if _entry_file(path))
        return sorted(keys)

    @staticmethod
    def _load(spec: Mapping, payload_path: Path, meta_path: Path,
              validate: Callable[[StoredEntry], None] | None) -> StoredEntry:
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError) as error:
            raise Unusable(f"sidecar unreadable ({error.__class__.__name__})") from None
        if not (isinstance(meta, dict) and isinstance(meta.get("metrics"), dict)
                and isinstance(meta.get("sha256"), dict)):
            raise Unusable("sidecar is not a {spec, metrics, sha256} object")
        if meta.get("spec") != spec:
            raise Unusable("sidecar spec does not match the request")
        if meta["sha256"].get("metrics") != _json_hash(meta["metrics"]):
            raise Unusable("sidecar metrics do not match their hash (edited?)")
        try:
            payload = payload_path.read_bytes()
        except OSError as error:
            raise Unusable(f"payload unreadable ({error.__class__.__name__})") from None
        if meta["sha256"].get("payload") != _bytes_hash(payload):
            raise Unusable("payload does not match its hash (edited or copied from another entry?)")
        entry = StoredEntry(payload, meta, loaded=True)
        if validate is not None:
            _validated(entry, validate)
        return entry


def _validated(entry: StoredEntry, validate: Callable[[StoredEntry], None]) -> None:
    """Run the caller's check of a loaded entry. What it raises among UNUSABLE_ERRORS, and any warning it
    gives, make the entry unusable: a warning while decoding (torch's about a payload of another pickle
    protocol) would otherwise fail a suite that turns warnings into errors instead of rebuilding the entry."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            validate(entry)
    except Unusable:
        raise
    except UNUSABLE_ERRORS as error:
        raise Unusable(f"{error.__class__.__name__}: {_first_line(error)}") from None
    if caught:
        raise Unusable(f"loading it warned ({caught[0].category.__name__}: {_first_line(caught[0].message)})")


def _first_line(message) -> str:
    lines = str(message).strip().splitlines()
    return lines[0][:200] if lines else ""


def _mark_used(*paths: Path) -> None:
    """Set the files' modification time to now, from the same clock as the cutoff prune is given (a fresh
    file's time comes from the kernel's coarser one). A store on a read-only copy still loads."""
    now = time.time()
    for path in paths:
        try:
            os.utime(path, (now, now))
        except OSError:
            pass


def _entry_file(path: Path) -> bool:
    """A payload, sidecar or temporary file of an entry: `<key>.bin`, `<key>.json`, `<key>.bin<random>.tmp`."""
    name, key = path.name, path.name[:KEY_LENGTH]
    return (len(key) == KEY_LENGTH and all(c in "0123456789abcdef" for c in key)
            and name[KEY_LENGTH:].startswith((".bin", ".json")))


def _entry_files(folder: Path, key: str) -> list[Path]:
    return [path for path in folder.glob(f"{key}.*") if _entry_file(path)]


def _last_use(folder: Path, key: str) -> float:
    """The latest modification time among the entry's files (-inf when none is left)."""
    times = []
    for path in _entry_files(folder, key):
        try:
            times.append(path.stat().st_mtime)
        except OSError:   # removed meanwhile
            pass
    return max(times, default=-math.inf)


def _remove_unused(folder: Path, key: str, cutoff: float) -> int:
    """Remove the entry's files if its lock is free and it is still unused since `cutoff`; 1 if removed."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(folder / f"{key}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return 0
    try:
        if _last_use(folder, key) >= cutoff:   # loaded or rebuilt since the first look
            return 0
        files = _entry_files(folder, key)
        for path in files:
            path.unlink(missing_ok=True)
        (folder / f"{key}.owner").unlink(missing_ok=True)
        return int(any(path.suffix in (".bin", ".json") for path in files))
    finally:
        lock.release()


def _bytes_hash(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _json_hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


class _locked:
    """The entry's file lock. A process that waits longer than LOCK_NOTICE_S says (once, on the terminal, past
    pytest's capture) which process holds it and what it builds; the holder writes its identity next to the
    lock, so a stopped holder is told apart from a hang."""

    def __init__(self, lock_path: Path, spec: Mapping):
        from filelock import FileLock

        self.lock = FileLock(str(lock_path))
        self.owner = lock_path.with_suffix(".owner")
        self.what = spec.get("kind", "entry") if isinstance(spec, Mapping) else "entry"

    def __enter__(self):
        from filelock import Timeout

        try:
            self.lock.acquire(timeout=LOCK_NOTICE_S)
        except Timeout:
            try:
                holder = self.owner.read_text().strip()
            except OSError:
                holder = "an unknown process"
            console.notice(f"claimcheck store: waiting for {holder} to finish building a {self.what} "
                           f"({self.owner.stem[:12]}...)")
            self.lock.acquire()
        self.owner.write_text(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')}")
        return self

    def __exit__(self, *exc):
        self.owner.unlink(missing_ok=True)
        self.lock.release()


def _remove_stale_temporaries(*paths: Path) -> None:
    """Temporary files of this entry left by a killed writer (only the lock holder writes them)."""
    for path in paths:
        for tmp in path.parent.glob(f"{path.name}*.tmp"):
            tmp.unlink(missing_ok=True)
