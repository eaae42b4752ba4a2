"""The guide "Writing a claim" (docs/engine.md) is true: its example claim module, run at smoke scale in a scratch
project with this project's settings and an empty cache, passes; a warm rerun loads its stored accuracies, one list
per look and recipe, and neither trains nor loads a model (it passes with the same numbers once the stored models
are deleted). Both runs are in-process (this process has torch and the project imported already: no
interpreter start-up); the installed entry point in a fresh interpreter is tested in tests/engine/test_reuse.py."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import scipy.special  # noqa: F401  (in-process runs restore sys.modules; a C extension loads once per process)
import scipy.stats  # noqa: F401
import sklearn.datasets  # noqa: F401  (the digits the example trains on)

ROOT = Path(__file__).resolve().parents[1]
FILE_BLOCK = re.compile(r"```python\n# file: (\S+)\n(.*?)```", re.S)
# The scratch project runs serially, without the last-failed cache, at smoke scale on the CPU.
ARGS = ("-p", "no:xdist", "-p", "no:cacheprovider", "--claims-scale", "smoke", "--claims-device", "cpu",
        "-W", "ignore::pytest.PytestAssertRewriteWarning")   # in-process: hypothesis is imported already


def guide_files() -> dict[str, str]:
    """The files of the guide's example, by path."""
    text = (ROOT / "docs" / "engine.md").read_text() + "\n## end\n"
    section = text[text.index("## Writing a claim"):]
    section = section[:section.index("\n## ")]
    return dict(FILE_BLOCK.findall(section))


def arms_of(folder: Path) -> dict[str, dict]:
    """Every arm of the report in `folder`, by test id."""
    doc = json.loads((folder / "claims.json").read_text())
    return {arm["test"]: arm for rec in doc["claims"] for arms in rec["arms"].values() for arm in arms}


@pytest.fixture
def guide_project(pytester, monkeypatch):
    files = guide_files()
    assert len(files) == 1, "the guide shows one claim module"
    (path, module), = files.items()
    assert re.fullmatch(r"claims/section[1-9]/test_\w+\.py", path), "a claim module goes in claims/sectionN/"
    # This project's settings (its plugin, ids, packages and sources), collecting the example's claims/ only.
    ini = (ROOT / "pytest.ini").read_text().replace("testpaths = tests claims", "testpaths = claims")
    assert "testpaths = claims\n" in ini
    pytester.path.joinpath("pytest.ini").write_text(ini)
    target = pytester.path / path
    target.parent.mkdir(parents=True)
    target.write_text(module)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))   # fixtures/ and models/ of this checkout
    return pytester


def test_the_guides_example_claim_passes_and_a_warm_rerun_only_loads_its_stored_accuracies(guide_project):
    cold = guide_project.runpytest_inprocess(*ARGS)
    cold.assert_outcomes(passed=3)
    first = arms_of(guide_project.path / "reports")
    verdicts = {test.split("::")[1]: arm["verdict"] for test, arm in first.items()}
    assert verdicts == {"test_the_bottleneck_mlp_has_its_parameter_count[claim]": "SUPPORTED",
                        "test_a_two_unit_hidden_layer_costs_accuracy_on_digits[claim]": "SUPPORTED",
                        "test_a_two_unit_hidden_layer_costs_accuracy_on_digits[control]":
                            "not supported (as expected)"}
    claim = next(arm for test, arm in first.items() if test.endswith("digits[claim]"))
    assert claim["checks"][0]["seeds_used"] == 9, "the guide: decided at 9 seeds at smoke"
    assert claim["cache"]["built"] > 0 and claim["cache"]["loaded"] == 0, "trained in the first run"
    control = next(arm for test, arm in first.items() if test.endswith("digits[control]"))
    assert control["cache"]["loaded"] > 0, "the control loads the claim arm's accuracies of the wide MLP"

    models = [meta for meta in (guide_project.path / ".claims-cache").rglob("*.json")
              if json.loads(meta.read_text())["spec"]["kind"].startswith("trained-model")]
    assert models, "the first run stored trained models"
    for meta in models:   # a warm rerun that loaded or trained a model would now build it again
        meta.unlink()
        meta.with_suffix(".bin").unlink()

    warm = guide_project.runpytest_inprocess(*ARGS)
    warm.assert_outcomes(passed=3)
    again = arms_of(guide_project.path / "reports")
    assert again.keys() == first.keys()
    for test, arm in again.items():
        assert arm["checks"] == first[test]["checks"], f"{test}: the same numbers"
        assert arm["cache"]["built"] == 0, f"{test}: a warm rerun builds nothing, with its models deleted"
        looks = sum(len(c["looks"]) for c in arm["checks"] if c.get("looks"))
        # one stored list of accuracies per look and recipe, and nothing else: no model is loaded
        assert arm["cache"]["loaded"] == 2 * looks, f"{test}: loaded {arm['cache']['loaded']} entries"
    assert "cached" in warm.stdout.str()
