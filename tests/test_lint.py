"""ruff (configured in pyproject.toml) finds nothing in the project. ruff is a contributor's tool (the `dev`
extra), not a dependency of the suite: without it this test is skipped, and the skip names the install."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV_INSTALL = 'python -m pip install -e ".[dev]"'


def test_ruff_check_is_clean():
    pytest.importorskip("ruff", reason=f"ruff is not installed (contributors: {DEV_INSTALL})")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
