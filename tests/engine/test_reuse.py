"""claimcheck in another project: the sorting example of docs/engine.md, run from a scratch folder outside this
repository through the installed entry point only (nothing of this project but the engine on the path, no
torch), gets the report, sequential seeds, stored measurements and a merge of shards. The first run is a
subprocess (the entry point, and the proof that nothing imports torch, need a fresh interpreter); the reruns
and shards run in-process, without that proof (this process has torch), to check what they store and skip."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import scipy.special  # noqa: F401  (in-process runs restore sys.modules; a C extension loads once per process)
import scipy.stats  # noqa: F401

import claimcheck

ROOT = Path(__file__).resolve().parents[2]
FILE_BLOCK = re.compile(r"```(?:ini|python)\n# file: (\S+)\n(.*?)```", re.S)


def readme_project() -> dict[str, str]:
    """The files of the "claimcheck in another project" example (docs/engine.md), by name."""
    text = (ROOT / "docs" / "engine.md").read_text() + "\n## end\n"
    section = text[text.index("## claimcheck in another project"):]
    section = section[:section.index("\n## ")]
    return {name: body for name, body in FILE_BLOCK.findall(section)}


@pytest.fixture
def outside(pytester, monkeypatch, tmp_path_factory):
    # Only the engine under test on the path (this checkout's, wherever the package is installed from):
    # fixtures/, models/ and claims/ cannot be imported, and the entry point loads claimcheck.plugin.
    engine_only = tmp_path_factory.mktemp("engine-only")
    (engine_only / "claimcheck").symlink_to(Path(claimcheck.__file__).parent, target_is_directory=True)
    monkeypatch.setenv("PYTHONPATH", str(engine_only))
    files = readme_project()
    assert set(files) == {"pytest.ini", "sortlib.py", "test_sorting.py"}
    for name, body in files.items():
        pytester.path.joinpath(name).write_text(body)
    # Proof that nothing imports torch: checked at the end of every run.
    pytester.makeconftest("import sys\n\ndef pytest_sessionfinish(session):\n"
                          "    assert 'torch' not in sys.modules, 'torch was imported'\n")
    return pytester


# The example has no hypothesis tests: without its plugin the run's summary does not import hypothesis (1.4 s in
# a process that cannot cache bytecode; see conftest.py).
PLAIN = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def in_process(outside, *args):
    """A run in this process: the torch check (conftest.py) is left out, as this process imported torch."""
    outside.path.joinpath("conftest.py").unlink(missing_ok=True)
    return outside.runpytest_inprocess(*PLAIN, "-W", "ignore::pytest.PytestAssertRewriteWarning", *args)


def claims_json(folder: Path) -> dict:
    return json.loads((folder / "claims.json").read_text())


def test_the_readme_example_runs_elsewhere_with_report_sequential_seeds_and_stored_measurements(outside):
    first = outside.runpytest_subprocess(*PLAIN)
    first.assert_outcomes(passed=2)
    doc = claims_json(outside.path / "reports")
    (record,) = doc["claims"]
    assert record["id"] == "1.1"
    claim, control = record["arms"]["claim"][0], record["arms"]["control"][0]
    assert claim["verdict"] == "SUPPORTED" and control["verdict"] == "not supported (as expected)"
    assert claim["checks"][0]["seeds_used"] == 10 and claim["checks"][0]["effect"] > 5000
    assert control["checks"][0]["seeds_used"] >= 5
    assert doc["run"]["versions"]["numpy"] and "torch" not in doc["run"]["versions"]
    for ext in ("md", "html"):
        assert "Quicksort compares less" in (outside.path / "reports" / f"claims.{ext}").read_text()
    stored = list((outside.path / ".claims-cache").rglob("*.json"))
    assert stored, "measurements are stored"

    second = in_process(outside)
    second.assert_outcomes(passed=2)
    again = claims_json(outside.path / "reports")
    assert all(arm["cache"] == {"loaded": arm["cache"]["loaded"], "built": 0}
               for arms in again["claims"][0]["arms"].values() for arm in arms), "a rerun measures nothing"
    assert again["claims"][0]["arms"]["claim"][0]["checks"] == claim["checks"]


def test_shards_of_the_readme_example_merge_into_one_report(outside):
    """The example's one test file runs whole in one of two shards (a claim and its control share what
    they measure); the other shard runs nothing and still writes its report, so the merge sees both groups."""
    first = in_process(outside, "--claims-shard", "1/2", "--claims-report", "shard1")
    first.assert_outcomes(passed=2)
    second = in_process(outside, "--claims-shard", "2/2", "--claims-report", "shard2")
    assert second.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    merged = subprocess.run([sys.executable, "-m", "claimcheck.merge", "shard1/claims.json", "shard2/claims.json",
                             "--out", "merged"],
                            cwd=outside.path, capture_output=True, text=True)
    assert merged.returncode == 0, merged.stderr
    doc = claims_json(outside.path / "merged")
    verdicts = {name: arms[0]["verdict"] for name, arms in doc["claims"][0]["arms"].items()}
    assert verdicts == {"claim": "SUPPORTED", "control": "not supported (as expected)"}
