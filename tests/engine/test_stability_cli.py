"""The stability command's exit status: 0 stable, 1 a flip or failure, 2 a usage error or a base whose pytest
run left no readable report (pytest itself is replaced by a stub that writes each base's report)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from claimcheck import stability


def report(verdict: str) -> dict:
    arm = {"test": "t.py::test_a[claim]", "verdict": verdict, "wall_s": 1.0, "pass_rate": 0.9,
           "checks": [{"margin": 1.0, "seeds_used": 5}]}
    run = {"scale": "smoke", "seeds": 3, "seed_base": 1, "device": "cpu", "wall_s": 1.0, "versions": {},
           "green_rate": 0.9}
    card = {"title": "t", "question": "q", "answer": "a", "method": "m"}
    return {"run": run, "claims": [{"id": "9.1", **card, "arms": {"claim": [arm]}}]}


@pytest.fixture
def sweep(monkeypatch, tmp_path, capsys):
    """Run the sweep over 2 bases; `writes[i]` is what base i's pytest run leaves as claims.json (None:
    nothing, a str: that text)."""
    def run(*writes) -> tuple[int, str]:
        calls = iter(writes)

        def fake_pytest(cmd, check):
            folder = Path(next(a for a in cmd if a.startswith("--claims-report=")).split("=", 1)[1])
            content = next(calls)
            if content is not None:
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "claims.json").write_text(content if isinstance(content, str) else json.dumps(content))
            return subprocess.CompletedProcess(cmd, 0)
        monkeypatch.setattr(stability.subprocess, "run", fake_pytest)
        code = stability.main(["--bases", "2", "--out", str(tmp_path / "sweep")])
        return code, capsys.readouterr().err
    return run


def test_the_same_verdicts_under_every_base_exit_0(sweep, tmp_path):
    assert sweep(report("SUPPORTED"), report("SUPPORTED")) == (0, "")
    assert (tmp_path / "sweep" / "stability.md").is_file()


def test_a_flip_exits_1_and_writes_the_table(sweep, tmp_path):
    assert sweep(report("SUPPORTED"), report("FAILED")) == (1, "")
    assert json.loads((tmp_path / "sweep" / "stability.json").read_text())["flips"] == 1


@pytest.mark.parametrize("second, message", [
    (None, "base 1: wrote no report"),
    ("{not json", "unreadable (JSONDecodeError"),
    ({"run": {}, "claims": []}, "run: no 'scale'"),
    ({**report("SUPPORTED"), "claims": [{**report("SUPPORTED")["claims"][0], "arms": []}]}, "claims[0].arms"),
])
def test_a_base_without_a_readable_report_exits_2_with_one_line(sweep, tmp_path, second, message):
    code, err = sweep(report("SUPPORTED"), second)
    assert code == 2 and err.count("\n") == 1 and message in err and "Traceback" not in err, err
    assert err.startswith("python -m claimcheck.stability: error: ")
    assert not (tmp_path / "sweep" / "stability.md").exists()
