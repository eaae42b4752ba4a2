"""Figures end to end in a scratch project: a partial run keeps the complete report's figures, and a failed
arm still draws its figures before it fails."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

# In-process runs restore sys.modules after each run, and a C extension cannot be loaded twice in one process:
# what the toy claims import is imported here, once.
import scipy.special  # noqa: F401
import scipy.stats  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]

CLAIMS = '''
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

from claimcheck import stats
from claimcheck.evidence import Card, claim

CARD = Card(id="9.1", title="A toy effect is detected", question="q?", answer="a.", method="m.",
            control="no effect")
OTHER = Card(id="9.2", title="Another toy claim", question="q?", answer="a.", method="m.")


def draw(evidence, name):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.set_title(f"seed base {evidence.run.seed_base}")   # differs between runs of different seed bases
    evidence.save_figure(fig, name, cache=False)


@claim(CARD)
def test_toy_effect_is_detected(arm, evidence):
    shift = SHIFT if arm == "claim" else 0.0
    per_seed = evidence.per_seed(lambda seeds: {"a": [s % 7 / 100 + shift for s in seeds]})
    evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        v["a"], [0.0] * len(v["a"]), min_effect=0.5, alpha=0.01, name="a beats zero"))
    evidence.check(stats.exact(EXACT, name="a fact", detail="checked"), expect=True)
    draw(evidence, "curve")


@claim(OTHER, control=False, xfail_claim="measured: it does not hold here")
def test_another_toy_claim(arm, evidence):
    evidence.check(stats.exact(False, name="holds", detail="checked"))
    draw(evidence, "other")
'''


@pytest.fixture(scope="module")
def drawing_imported() -> None:
    """Import what drawing and saving a PNG imports: module-scoped, so before pytester's function-scoped
    snapshot of sys.modules, which would otherwise drop these modules after the test (see above)."""
    import io

    import matplotlib.pyplot as plt

    fig, _ = plt.subplots()
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


@pytest.fixture
def project(drawing_imported, pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeini("[pytest]\naddopts = --strict-markers -p claimcheck.plugin -p no:benchmark "
                     "-p no:hypothesispytest --claims-device cpu --claims-scale smoke\nxfail_strict = true\n")
    return pytester


def run(project, *args, shift: float = 1.0, exact: bool = True):
    project.makepyfile(test_toy=CLAIMS.replace("SHIFT", str(shift)).replace("EXACT", str(exact)))
    return project.runpytest_inprocess("--claims-cache", str(project.path / "cache"), *args)


def figures_of(doc: dict) -> dict[str, list[str]]:
    return {arm["test"].split("::")[-1]: arm["figures"]
            for rec in doc["claims"] for arms in rec["arms"].values() for arm in arms}


def test_a_partial_run_writes_its_figures_apart_and_keeps_the_complete_reports(project):
    reports = project.path / "reports"
    run(project, "--claims-seed", "1").assert_outcomes(passed=2, xfailed=1)
    complete = {p.name: p.read_bytes() for p in (reports / "figures").iterdir()}
    assert sorted(complete) == ["9_1_claim_curve.png", "9_1_control_curve.png", "9_2_claim_other.png"]

    run(project, "-k", "9.1", "--claims-seed", "2").assert_outcomes(passed=2)
    assert {p.name: p.read_bytes() for p in (reports / "figures").iterdir()} == complete
    partial = json.loads((reports / "claims-partial.json").read_text())
    assert figures_of(partial) == {"test_toy_effect_is_detected[claim]": ["figures-partial/9_1_claim_curve.png"],
                                   "test_toy_effect_is_detected[control]": ["figures-partial/9_1_control_curve.png"]}
    drawn = reports / "figures-partial" / "9_1_claim_curve.png"
    assert drawn.read_bytes() != complete["9_1_claim_curve.png"]        # this run's picture, not the last one's
    assert "(figures-partial/9_1_claim_curve.png)" in (reports / "claims-partial.md").read_text()
    assert "(figures/9_1_claim_curve.png)" in (reports / "claims.md").read_text()
    assert not (reports / ".figures-pending").exists()


def test_a_failed_arm_records_its_checks_and_draws_its_figures_then_fails_as_before(project):
    result = run(project, shift=0.0, exact=False)     # the claim arm fails both checks, the control its second
    result.assert_outcomes(failed=2, xfailed=1)
    result.stdout.fnmatch_lines([">*evidence.check_over_seeds(per_seed, *",       # the failed check's line
                                 "E*AssertionError: [[]9.1 claim[]] NOT SUPPORTED, expected SUPPORTED",
                                 "E*(1 more failed check(s) of this arm: see its report card)",
                                 ">*evidence.check(stats.exact(False, *",
                                 "E*AssertionError: [[]9.1 control[]] NOT SUPPORTED, expected SUPPORTED"])
    doc = json.loads((project.path / "reports" / "claims.json").read_text())
    arms = {arm["test"].split("::")[-1]: arm for rec in doc["claims"] for group in rec["arms"].values()
            for arm in group}
    claim, control = arms["test_toy_effect_is_detected[claim]"], arms["test_toy_effect_is_detected[control]"]
    assert (claim["verdict"], control["verdict"]) == ("FAILED", "FAILED (control)")
    assert [c["outcome"] for c in claim["checks"]] == ["NOT SUPPORTED", "NOT SUPPORTED"]
    assert claim["message"].startswith("AssertionError: [9.1 claim] NOT SUPPORTED, expected SUPPORTED")
    assert ">       evidence.check_over_seeds(per_seed, " in claim["failure"]      # pytest's whole failure text
    md = (project.path / "reports" / "claims.md").read_text()
    assert "<details><summary>full failure text</summary>" in md and claim["failure"] in md
    for arm in (claim, control, arms["test_another_toy_claim[claim]"]):   # the strict xfail draws too
        assert len(arm["figures"]) == 1 and (project.path / "reports" / arm["figures"][0]).is_file()
