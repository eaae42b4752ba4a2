"""The GitHub Actions workflow runs the README's commands, and .ci/run runs exactly the README's two."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "claims.yml"


def run_steps(job: str) -> list[str]:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    return [" ".join(step["run"].split()) for step in jobs[job]["steps"] if "run" in step]


def readme_commands() -> str:
    return " ".join((ROOT / "README.md").read_text().split())


def test_every_job_installs_with_the_readme_command():
    readme = readme_commands()
    assert "python -m pip install -e ." in readme
    for job in ("shard", "merge", "stability"):
        assert "python -m pip install -e ." in run_steps(job)


def test_shards_merge_and_sweep_use_the_documented_commands():
    readme = readme_commands()
    shard = next(cmd for cmd in run_steps("shard") if cmd.startswith("pytest"))
    assert re.fullmatch(r'pytest -n 2 --splits "\$SHARDS" --group \$\{\{ matrix.group \}\} '
                        r'--claims-report reports/shard\$\{\{ matrix.group \}\}', shard)
    assert "pytest --splits 3 --group 1 --claims-report reports/shard1" in readme
    merge = next(cmd for cmd in run_steps("merge") if "claimcheck.merge" in cmd)
    assert merge.startswith("python -m claimcheck.merge reports/shard-*/claims.json --out ")
    assert "python -m claimcheck.merge reports/shard*/claims.json --out reports" in readme
    sweep = next(cmd for cmd in run_steps("stability") if "claimcheck.stability" in cmd)
    assert sweep == "python -m claimcheck.stability --bases 5 -- -n 2"
    assert "python -m claimcheck.stability --bases 5 --" in readme


def test_ci_runs_exactly_the_two_readme_commands():
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    commands = [line for line in lines if line.startswith(("python", "pytest"))]
    assert commands == ["python -m pip install -e .", "pytest -n 2"]
    readme = (ROOT / "README.md").read_text()
    assert "python -m pip install -e .\npytest\n" in readme and "pytest -n 2" in readme
