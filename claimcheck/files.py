"""Atomic file writes: a failed write (a full disk, a kill) leaves the previous file intact."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

NEW_FILE_MODE = 0o666   # less the umask, as open() creates files: reports are read by others (a web server, CI)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file next to `path`, flush it to disk, and rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _new_temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _new_temporary(path: Path) -> tuple[int, Path]:
    """A new hidden file next to `path`, opened for writing. tempfile.mkstemp would create it 0600 (private),
    and the rename would carry that mode onto the report; this creates it as open() does."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, NEW_FILE_MODE), tmp
        except FileExistsError:
            continue


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())
