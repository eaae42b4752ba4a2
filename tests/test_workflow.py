"""The GitHub Actions workflow: it runs the README's commands, keeps its model cache warm, shards and merges
consistently, installs CPU builds from pyproject.toml's own ranges, pins its actions, and passes actionlint,
zizmor and check-jsonschema; .ci/run runs exactly the README's two commands. PyYAML and the linters are
contributors' tools (the `dev` extra): without them these tests are skipped, and the skip names the install."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

DEV_INSTALL = 'python -m pip install -e ".[dev]"'
yaml = pytest.importorskip("yaml", reason=f"PyYAML is not installed (contributors: {DEV_INSTALL})")

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / ".github"
WORKFLOW = GITHUB / "workflows" / "claims.yml"
INSTALL_ACTION = GITHUB / "actions" / "install"
DEPENDABOT = GITHUB / "dependabot.yml"
CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"
MERGE_IMPORTS = {"numpy", "jinja2", "pytest"}   # what claimcheck.merge needs, besides the engine itself


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def job(name: str) -> dict:
    return workflow()["jobs"][name]


def run_steps(name: str) -> list[str]:
    """A job's run commands, each with its whitespace collapsed."""
    return [" ".join(step["run"].split()) for step in job(name)["steps"] if "run" in step]


def command(name: str, start: str) -> str:
    (found,) = [cmd for cmd in run_steps(name) if cmd.startswith(start)]
    return found


def uses(step: dict, action: str) -> bool:
    return step.get("uses", "").split("@")[0] == action


def step_using(name: str, action: str) -> dict:
    (found,) = [step for step in job(name)["steps"] if uses(step, action)]
    return found


def readme() -> str:
    return " ".join((ROOT / "README.md").read_text().split())


def matrix_groups() -> list[int]:
    return job("shard")["strategy"]["matrix"]["group"]


def test_the_shard_command_covers_every_matrix_group_with_all_cores():
    groups = matrix_groups()
    assert groups == list(range(1, len(groups) + 1))
    shard = command("shard", "pytest")
    n = len(groups)
    assert re.fullmatch(rf"pytest -n auto --claims-shard \$\{{\{{ matrix\.group \}}\}}/{n} "
                        r"--claims-report reports/shard\$\{\{ matrix\.group \}\} --claims-prune-cache", shard), shard


def test_the_merge_expects_exactly_the_matrix_groups():
    merge = command("merge", "python -m claimcheck.merge")
    assert merge == (f"python -m claimcheck.merge reports/shard-*/claims.json --out reports/merged "
                     f'--expect {len(matrix_groups())} --summary "$GITHUB_STEP_SUMMARY"')
    # The shards' artifacts land where the merge reads them: reports/shard-<group>/claims.json.
    upload = step_using("shard", "actions/upload-artifact")["with"]
    assert upload["name"] == "shard-${{ matrix.group }}" and upload["if-no-files-found"] == "error"
    assert step_using("merge", "actions/download-artifact")["with"] == {"pattern": "shard-*", "path": "reports"}
    assert "!cancelled()" in job("merge")["if"] and job("merge")["needs"] == "shard"


@pytest.mark.parametrize("name", ["shard", "smoke"])
def test_the_model_cache_is_restored_from_an_earlier_run_pruned_and_saved_even_when_a_claim_failed(name):
    steps = job(name)["steps"]
    restore = step_using(name, "actions/cache/restore")
    save = step_using(name, "actions/cache/save")
    key = restore["with"]["key"]
    assert key.endswith("-${{ github.run_id }}-${{ github.run_attempt }}"), "one entry per run: it can be saved"
    prefixes = restore["with"]["restore-keys"].splitlines()
    assert prefixes and all(key.startswith(prefix) for prefix in prefixes), "restore-keys: prefixes of the key"
    assert restore["with"]["path"] == save["with"]["path"] == ".claims-cache"
    assert save["with"]["key"] == "${{ steps.%s.outputs.cache-primary-key }}" % restore["id"]
    assert save["if"] == "${{ !cancelled() && steps.%s.outcome == 'success' }}" % restore["id"], \
        "saved after a failed claim too (not after a cancel, nor when the restore step did not run)"
    pytest_step = next(step for step in steps if step.get("run", "").startswith("pytest"))
    assert "--claims-prune-cache" in pytest_step["run"].split()
    assert steps.index(restore) < steps.index(pytest_step) < steps.index(save)
    assert not any(uses(step, "actions/cache") for step in steps), "restore and save, not the combined action"


def test_smoke_runs_on_the_lowest_supported_python_and_the_newest():
    requires_python = metadata.metadata("dl-claims")["Requires-Python"]
    pythons = job("smoke")["strategy"]["matrix"]["python"]
    assert requires_python == f">={pythons[0]}"
    assert pythons[-1] == "3.14"   # the newest CPython torch (<=2.14.1) has wheels for
    assert command("smoke", "pytest") == "pytest -n auto --claims-scale smoke --claims-prune-cache"


def test_superseded_pull_request_runs_are_cancelled_and_nothing_else():
    concurrency = workflow()["concurrency"]
    assert "github.event_name" in concurrency["group"], "the weekly sweep and pushes do not share a group"
    assert "github.event.pull_request.number" in concurrency["group"]
    assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


def test_every_job_installs_through_the_cpu_install_action_and_the_merge_only_what_it_imports():
    installs = {name: [step for step in spec["steps"] if step.get("uses") == "./.github/actions/install"]
                for name, spec in workflow()["jobs"].items()}
    assert all(len(steps) == 1 for steps in installs.values()), installs
    assert installs["lint"][0]["with"] == {"extras": "dev actionlint"}
    assert set(installs["merge"][0]["with"]["only"].split()) == MERGE_IMPORTS
    for name, steps in installs.items():
        assert not any("pip install" in cmd for cmd in run_steps(name)), f"{name} installs outside the action"
    script = yaml.safe_load((INSTALL_ACTION / "action.yml").read_text())["runs"]["steps"][0]["run"]
    assert "python -m pip install -e . --no-deps" in script
    assert f'-r "$REQUIREMENTS/torch.txt" {CPU_INDEX}' in script


def test_the_install_action_takes_every_range_from_pyproject_with_cpu_builds(tmp_path):
    subprocess.run([sys.executable, INSTALL_ACTION / "requirements.py", tmp_path,
                    "--extras", "dev actionlint histogram"],
                   check=True, capture_output=True)
    torch = (tmp_path / "torch.txt").read_text().split()
    other = (tmp_path / "other.txt").read_text().split()
    declared = [r.split(";")[0].strip() for r in metadata.requires("dl-claims")]
    assert sorted(torch + other) == sorted(r.replace("xgboost", "xgboost-cpu") for r in declared)
    assert [r.split("<")[0] for r in torch] == ["torch", "torchvision"]
    assert any(r.startswith("torch<=") for r in torch) and any(r.startswith("torchvision<=") for r in torch)
    assert not any(re.match(r"xgboost\b(?!-)", r) for r in other)


def test_the_merge_imports_nothing_beyond_what_its_job_installs(tmp_path):
    """claimcheck.merge (and the HTML report it renders) imports only MERGE_IMPORTS and their dependencies:
    the merge job installs those and the engine, nothing else."""
    subprocess.run([sys.executable, INSTALL_ACTION / "requirements.py", tmp_path, "--only", " ".join(MERGE_IMPORTS)],
                   check=True, capture_output=True)
    probe = ("import json, sys, importlib.metadata as m\n"
             "before = set(sys.modules)\n"
             "import claimcheck.merge, claimcheck.html\n"
             "top = {name.split('.')[0] for name in set(sys.modules) - before}\n"
             "owners = m.packages_distributions()\n"   # once: it reads every installed distribution's file list
             "print(json.dumps(sorted({d for name in top for d in owners.get(name, [])})))")
    imported = set(json.loads(subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True,
                                             capture_output=True, text=True).stdout))

    def closure(names: set[str]) -> set[str]:
        seen, todo = set(), [canonical(n) for n in names]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            try:
                requirements = metadata.requires(name) or []
            except metadata.PackageNotFoundError:   # a dependency under a marker that excludes it here
                continue
            for req in requirements:
                if "extra ==" not in req:
                    todo.append(canonical(re.match(r"[A-Za-z0-9._-]+", req).group(0)))
        return seen

    allowed = closure(MERGE_IMPORTS) | {"dl-claims"}
    assert {canonical(d) for d in imported} <= allowed, f"add to the merge job's `only`: {imported}"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_action_is_pinned_by_commit_with_its_release_named():
    for path in [WORKFLOW, INSTALL_ACTION / "action.yml"]:
        for line in path.read_text().splitlines():
            found = re.search(r"uses: (\S+)", line)
            if found and not found.group(1).startswith("./"):
                assert re.fullmatch(r"\s*(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+", line), line


def test_dependabot_keeps_the_actions_and_the_python_dependencies_current():
    updates = yaml.safe_load(DEPENDABOT.read_text())["updates"]
    assert {u["package-ecosystem"] for u in updates} == {"github-actions", "pip"}


def test_shards_merge_smoke_and_sweep_are_the_documented_commands():
    """Loose on purpose: the README shows one shard's command and the install for CPU-only machines."""
    text = readme()
    assert "python -m pip install -e ." in text and CPU_INDEX in text
    assert f"--claims-shard 1/{len(matrix_groups())} --claims-report reports/shard1" in text
    assert "python -m claimcheck.merge reports/shard" in text and f"--expect {len(matrix_groups())}" in text
    assert "--claims-scale smoke" in text
    sweep = command("stability", "python -m claimcheck.stability")
    assert sweep == "python -m claimcheck.stability --bases 5 -- -n auto"
    assert "python -m claimcheck.stability --bases 5 --" in text


def test_ci_runs_exactly_the_readme_commands():
    """The install, the latency pass and the suite on both cores, each as the README writes it."""
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    commands = [line for line in lines if line.startswith(("python -m pip", "pytest", "mkdir"))]
    latency = ("pytest -p no:xdist -m latency --benchmark-enable --benchmark-only --benchmark-sort=name "
               "--claims-report reports/benchmarks --benchmark-json reports/benchmarks/latency.json")
    assert commands == ["python -m pip install -e .", "mkdir -p reports/benchmarks", latency, "pytest -n 2"]
    text = (ROOT / "README.md").read_text()
    assert "python -m pip install -e .\npytest\n" in text and "pytest -n 2" in text
    assert f"mkdir -p reports/benchmarks\n{latency}\n" in text


def linter(name: str) -> str:
    """The linter's executable: beside this interpreter (a virtual environment not activated) or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (contributors: {DEV_INSTALL})")
    return found


LINTS = {
    "actionlint": [[str(WORKFLOW)]],
    "zizmor": [["--offline", str(GITHUB)]],
    "check-jsonschema": [["--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
                         ["--builtin-schema", "vendor.github-actions", str(INSTALL_ACTION / "action.yml")],
                         ["--builtin-schema", "vendor.dependabot", str(DEPENDABOT)]],
}


@pytest.mark.parametrize("name", sorted(LINTS))
def test_the_workflow_passes_the_linter(name):
    executable = linter(name)
    for args in LINTS[name]:
        result = subprocess.run([executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{name} {' '.join(args)}:\n{result.stdout}{result.stderr}"
