"""Atomic writes: the file's mode is what open() would give it, and a failed write leaves the old file."""
from __future__ import annotations

import os
import stat

import pytest

from claimcheck.files import atomic_write_bytes, atomic_write_text


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it after."""
    before = os.umask(0o022)
    yield os.umask
    os.umask(before)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_a_written_file_gets_the_mode_open_would_give_it(tmp_path, umask, mask, expected):
    umask(mask)
    atomic_write_text(tmp_path / "new.md", "text")
    old = tmp_path / "old.md"
    old.write_text("before")
    old.chmod(0o600)                      # e.g. written by an earlier version through mkstemp
    atomic_write_bytes(old, b"after")
    assert (mode(tmp_path / "new.md"), mode(old)) == (expected, expected)
    assert old.read_bytes() == b"after"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "claims.json"
    path.write_text("old")

    def full_disk(fd):
        raise OSError("No space left on device")
    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.json"]
