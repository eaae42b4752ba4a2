"""The pytest plugin end to end in a scratch project: options, verdicts, report, xdist."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

# In-process runs (pytester) restore sys.modules after each run, and a C extension cannot be loaded twice in one
# process: what the engine imports on first use (scipy.stats and, through it, numpy.fft) is imported here, once.
import scipy.special  # noqa: F401
import scipy.stats  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]

CLAIMS = '''
from claimcheck import stats
from claimcheck.evidence import Card, claim

CARD = Card(id="9.1", title="A toy effect is detected", question="q?", answer="a.", method="m.",
            control="no effect")
XCARD = Card(id="9.2", title="A toy claim that does not reproduce", question="q?", answer="a.", method="m.")

@claim(CARD)
def test_toy_effect_is_detected(arm, evidence):
    shift = 1.0 if arm == "claim" else 0.0
    per_seed = evidence.per_seed(lambda seeds: {"a": [s % 7 / 100 + shift for s in seeds]})
    evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        v["a"], [0.0] * len(v["a"]), min_effect=0.5, alpha=0.01))

@claim(XCARD, control=False, xfail_claim="measured: effect 0.0 at this scale")
def test_toy_claim_that_does_not_reproduce(arm, evidence):
    evidence.check(stats.exact(False, name="never", detail="measured 0.0"))
'''


@pytest.fixture
def project(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    # The toy claims need neither models nor hypothesis: without fixtures.plugin and with --claims-device cpu
    # nothing imports torch, which keeps the runs cheap.
    pytester.makeini("[pytest]\naddopts = --strict-markers -p claimcheck.plugin -p no:benchmark "
                     "-p no:hypothesispytest --claims-device cpu\nxfail_strict = true\n"
                     "claims_id_pattern = ^[0-9]+\\.[0-9]+$\n")
    pytester.makepyfile(test_toy=CLAIMS)
    return pytester


def run(project, *args):
    """In-process (no interpreter start-up); xdist needs a subprocess (a crashed worker below, the rest in
    test_activation.py)."""
    return project.runpytest_inprocess("--claims-cache", str(project.path / "cache"), *args)


@pytest.mark.parametrize("flag, value, valid", [
    ("--claims-scale", "nonsense", "smoke, standard, paper"),
    ("--claims-device", "tpu", "auto, cpu, cuda"),
    ("--claims-seeds", "1", "integer >= 2"),
    ("--claims-seed", "abc", "integer >= 0"),
])
def test_a_bad_option_is_a_usage_error_naming_the_flag_and_valid_values(project, flag, value, valid):
    result = run(project, flag, value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{flag}*{value}*{valid}*"])
    assert "Traceback" not in result.stderr.str()


@pytest.mark.parametrize("flag", ["--claims-report", "--claims-cache"])
def test_a_folder_option_that_is_a_file_or_empty_is_a_usage_error(project, flag):
    project.path.joinpath("a_file").write_text("")
    for value, message in ((str(project.path / "a_file"), "is a file, not a folder"), ("", "empty value")):
        result = project.runpytest_inprocess(f"{flag}={value}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*{flag}*{message}*"])


def test_folder_options_take_a_separate_value_even_when_the_folder_exists(project):
    cache = project.path / "existing-cache"          # inside the project: pytest still finds its ini file
    cache.mkdir()
    result = project.runpytest_inprocess("--claims-cache", str(cache), "--claims-report", str(project.path / "rep"),
                                         "--claims-scale", "smoke")
    result.assert_outcomes(passed=2, xfailed=1)
    assert (project.path / "rep" / "claims.json").is_file()


def test_asking_for_cuda_when_the_project_says_none_is_available_is_a_usage_error(project):
    project.makeconftest("def pytest_claims_cuda_available(config):\n    return False\n")
    result = run(project, "--claims-device", "cuda")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--claims-device cuda*CUDA is not available*"])


def test_header_report_and_verdicts(project):
    result = run(project, "--claims-scale", "smoke", "--claims-seed", "7")
    result.assert_outcomes(passed=2, xfailed=1)
    result.stdout.fnmatch_lines(["claimcheck: scale=smoke seeds=3->15 (sequential) seed-base=7 device=cpu*",
                                 "*claimcheck summary*", "*9.1 claim*SUPPORTED*",
                                 "*9.1 control*not supported (expected)*", "*9.2 claim*NOT REPRODUCED*"])
    doc = json.loads((project.path / "reports" / "claims.json").read_text())
    assert doc["run"]["seed_base"] == 7 and doc["run"]["scale"] == "smoke"
    claim, control = (doc["claims"][0]["arms"][arm][0] for arm in ("claim", "control"))
    check = claim["checks"][0]
    assert check["outcome"] == "SUPPORTED" and control["checks"][0]["outcome"] == "NOT SUPPORTED"
    assert check["max_seeds"] == 15 and check["seeds_used"] == len(check["values"]["a"]) == len(check["seeds"])
    assert [look["n"] for look in check["looks"]][0] == 3 and 0 <= check["pass_rate"] <= 1
    assert "p_holm" not in check and doc["run"]["error_rate_rule"]
    md = (project.path / "reports" / "claims.md").read_text()
    assert "## 9.1 — A toy effect is detected" in md and "NOT REPRODUCED" in md


def test_a_control_that_passes_fails_the_test(project):
    project.makepyfile(test_toy=CLAIMS.replace('shift = 1.0 if arm == "claim" else 0.0', "shift = 1.0"))
    result = run(project, "--claims-scale", "smoke")
    result.assert_outcomes(passed=1, failed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*[[]9.1 control[]] SUPPORTED, expected anything but SUPPORTED*",
                                 "*9.1 control*FAILED*"])


def test_k_selects_claims_by_id_and_section(project):
    run(project, "-k", "9.2").assert_outcomes(xfailed=1)
    run(project, "-k", "section9", "--claims-scale", "smoke").assert_outcomes(passed=2, xfailed=1)


def test_a_selection_writes_a_partial_report_and_keeps_the_complete_one(project):
    run(project, "--claims-scale", "smoke").assert_outcomes(passed=2, xfailed=1)
    complete = (project.path / "reports" / "claims.json").read_text()
    result = run(project, "-k", "9.2", "--claims-scale", "smoke")
    result.stdout.fnmatch_lines(["*PARTIAL run (-k 9.2)*complete report*unchanged*"])
    assert (project.path / "reports" / "claims.json").read_text() == complete
    partial = json.loads((project.path / "reports" / "claims-partial.json").read_text())
    assert partial["run"]["partial"] == {"reasons": ["-k 9.2"], "not_run": ["9.1"]}
    assert "PARTIAL RUN" in (project.path / "reports" / "claims-partial.md").read_text()


def test_junit_xml_carries_claim_properties_not_the_payload(project):
    import xml.etree.ElementTree as ET

    run(project, "--claims-scale", "smoke", "--junitxml", str(project.path / "junit.xml"))
    cases = {tc.get("name"): {p.get("name"): p.get("value") for p in tc.iter("property")}
             for tc in ET.parse(project.path / "junit.xml").iter("testcase")}
    claim = cases["test_toy_effect_is_detected[claim]"]
    assert claim["claim_id"] == "9.1" and claim["arm"] == "claim" and claim["outcome"] == "SUPPORTED"
    assert claim["check_outcome"] == "SUPPORTED" and float(claim["p"]) < 0.01 and claim["seeds_used"] == "9"
    assert cases["test_toy_effect_is_detected[control]"]["outcome"] == "not supported (as expected)"
    assert cases["test_toy_claim_that_does_not_reproduce[claim]"]["outcome"] == "NOT REPRODUCED (strict xfail)"
    assert "dl_claims_payload" not in (project.path / "junit.xml").read_text()


def test_summary_lines_fit_the_width_and_keep_the_key_fields(project):
    from claimcheck.report import summary_lines

    run(project, "--claims-scale", "smoke")
    doc = json.loads((project.path / "reports" / "claims.json").read_text())
    for width in (80, 100, 160):
        lines = summary_lines(doc, width)
        arm_lines = [line for line in lines if line.strip().startswith("9.")]
        assert all(len(line) <= width for line in arm_lines if " | " in line)
        assert any("9.1 claim" in line and "SUPPORTED" in line and "median(a - b)=" in line for line in arm_lines)
    assert lines[-2].startswith("claim arms: 1 supported / 1 not supported as expected / 0 failed")


def test_a_report_that_cannot_be_written_fails_the_run_with_one_line_and_keeps_the_old_one(project):
    run(project, "--claims-scale", "smoke").assert_outcomes(passed=2, xfailed=1)
    reports = project.path / "reports"
    (reports / "claims.md").unlink()
    (reports / "claims.md").mkdir()            # the rename onto it fails
    before = (reports / "claims.json").read_text()
    result = run(project, "--claims-scale", "smoke")
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines(["claimcheck: could not write the report in *"])
    assert not list(reports.glob(".*.tmp")), "no temporary file is left behind"
    assert json.loads((reports / "claims.json").read_text())["run"]["seed_base"] == \
        json.loads(before)["run"]["seed_base"]


def test_no_tests_is_exit_code_5(project):
    assert run(project, "-k", "nothing_matches").ret == pytest.ExitCode.NO_TESTS_COLLECTED


# xdist (a subprocess): its report equals a serial run's in test_activation.py; a crashed worker here.

def test_a_crashed_worker_is_a_failed_arm_in_the_report(project):
    project.makepyfile(test_toy=CLAIMS.replace(
        '    shift = 1.0 if arm == "claim" else 0.0',
        '    shift = 1.0 if arm == "claim" else 0.0\n    if arm == "control":\n        import os; os._exit(1)'))
    result = project.runpytest_subprocess("--claims-cache", str(project.path / "cache"), "--claims-scale", "smoke",
                                          "-n", "1")
    result.stdout.fnmatch_lines(["*9.1 control*FAILED (crashed)*"])
    doc = json.loads((project.path / "reports" / "claims.json").read_text())
    control = doc["claims"][0]["arms"]["control"][0]
    assert control["verdict"] == "FAILED (crashed)" and "crashed while running" in control["message"]


ARM_FIELDS = ("def pytest_claims_arm_fields(item):\n"
              "    return {'flops': len(item.nodeid), 'verdict': 'not the engine\\'s'}\n")



def test_a_projects_arm_fields_join_the_arm_and_flops_show_beside_its_time(project):
    project.makeconftest(ARM_FIELDS)
    run(project, "--claims-scale", "smoke").assert_outcomes(passed=2, xfailed=1)
    doc = json.loads((project.path / "reports" / "claims.json").read_text())
    arm = doc["claims"][0]["arms"]["claim"][0]
    assert arm["flops"] == len(arm["test"]) and arm["verdict"] == "SUPPORTED"   # the engine's fields stay its own
    assert f"s, {len(arm['test']) / 1e9:.3g} GFLOP" in (project.path / "reports" / "claims.md").read_text()
    html = (project.path / "reports" / "claims.html").read_text()
    assert ">GFLOP</th>" in html and f"s, {len(arm['test']) / 1e9:.3g} GFLOP" in html
    project.makeconftest("")
    run(project, "--claims-scale", "smoke").assert_outcomes(passed=2, xfailed=1)
    assert "GFLOP" not in (project.path / "reports" / "claims.html").read_text()


def _stable(doc: dict) -> list:
    """A report's content without timings (which differ between any two runs)."""
    return [{**rec, "arms": {name: [{k: v for k, v in arm.items() if k != "wall_s"} for arm in arms]
                             for name, arms in rec["arms"].items()}} for rec in doc["claims"]]


def test_two_shards_merged_equal_a_single_run(project):
    from claimcheck.merge import merge

    project.makepyfile(test_toy_copy=CLAIMS.replace('id="9.', 'id="8.'))   # two claim files for two shards
    run(project, "--claims-scale", "smoke")
    single = json.loads((project.path / "reports" / "claims.json").read_text())
    shards = []
    for group in ("1", "2"):
        out = project.path / f"shard{group}"
        result = run(project, "--claims-scale", "smoke", "--claims-shard", f"{group}/2", "--claims-report", str(out))
        assert result.ret == 0
        shards.append(json.loads((out / "claims.json").read_text()))
    assert all(doc["claims"] for doc in shards), "each shard must hold some claims"
    assert [doc["run"]["shard"] for doc in shards] == [{"group": 1, "groups": 2}, {"group": 2, "groups": 2}]
    assert {arm["test"].split("::")[0] for arm in _arms(shards[0])}.isdisjoint(
        arm["test"].split("::")[0] for arm in _arms(shards[1])), "a test file runs whole in one shard"
    merged = merge(shards)
    assert _stable(merged) == _stable(single)
    assert merged["run"]["shards"] == 2


def _arms(doc: dict) -> list[dict]:
    return [arm for rec in doc["claims"] for arms in rec["arms"].values() for arm in arms]


def test_merge_refuses_shards_of_different_runs(project):
    from claimcheck.merge import merge

    doc = {"run": {"scale": "smoke", "seeds": 3, "seed_base": 1, "device": "cpu", "wall_s": 1.0,
                   "git_commit": "abc", "versions": {"torch": "2"}}, "claims": []}
    for key, other in (("seed_base", 2), ("git_commit", "def"), ("versions", {"torch": "3"}), ("scale", "paper")):
        with pytest.raises(ValueError, match=key):
            merge([doc, {**doc, "run": {**doc["run"], key: other}}])
    arm = {"test": "t.py::test[claim]", "verdict": "SUPPORTED", "checks": []}
    shard = {**doc, "claims": [{"id": "9.1", "arms": {"claim": [arm]}}]}
    with pytest.raises(ValueError, match="more than one shard"):
        merge([shard, shard])
    with pytest.raises(ValueError, match="not a claims.json document"):
        merge([doc, []])


def test_merge_command_reports_malformed_input_and_failed_arms(tmp_path, capsys):
    from claimcheck.merge import main

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main([str(bad), "--out", str(tmp_path / "out")]) == 2
    assert f"error: {bad}: not valid JSON" in capsys.readouterr().err
    arm = {"test": "t.py::test[claim]", "verdict": "FAILED", "checks": [], "wall_s": 1.0}
    good = tmp_path / "shard.json"
    run_meta = {"scale": "smoke", "seeds": 3, "seed_base": 1, "device": "cpu", "wall_s": 1.0, "versions": {}}
    card = {"id": "9.1", "title": "t", "question": "q", "answer": "a", "method": "m", "control": ""}
    good.write_text(json.dumps({"run": run_meta, "claims": [{**card, "arms": {"claim": [arm]}}]}))
    assert main([str(good), "--out", str(tmp_path / "out")]) == 1
    assert "1 claim arms, 1 failed" in capsys.readouterr().out


def test_an_xdist_controller_leaves_auto_to_its_workers_and_adopts_their_device(tmp_path):
    from claimcheck import config as cfg
    from claimcheck.report import PAYLOAD_KEY
    from claimcheck.scheduling import is_xdist_controller
    from claimcheck.session import ClaimSession

    controller = SimpleNamespace(option=SimpleNamespace(tx=["popen", "popen"], dist="load"))
    assert is_xdist_controller(controller)
    assert not is_xdist_controller(SimpleNamespace(option=SimpleNamespace(tx=[], dist="no")))
    assert not is_xdist_controller(SimpleNamespace(option=controller.option, workerinput={}))

    run = cfg.RunConfig(profile=cfg.PROFILES["smoke"], seeds=3, seed_base=1, device="auto",
                        report_dir=tmp_path, cache_dir=tmp_path)
    session = ClaimSession(run, is_worker=False, rootpath=tmp_path)
    payload = {"claim_id": "9.1", "arm": "claim", "checks": [], "device": "cpu"}
    report = SimpleNamespace(nodeid="t.py::test[claim]", duration=0.1, when="call", passed=True, failed=False,
                             skipped=False, user_properties=[(PAYLOAD_KEY, json.dumps(payload))])
    session.pytest_runtest_logreport(report)
    assert session.run.device == "cpu"


def test_xdist_queue_holds_files_together_longest_total_first(tmp_path):
    from claimcheck.scheduling import longest_files_first

    def item(path, name):
        return SimpleNamespace(path=Path(path), nodeid=f"{path}::{name}")

    items = [item("a/test_x.py", "t1"), item("a/test_x.py", "t2"), item("b/test_x.py", "t1"),
             item("c/test_y.py", "t1"), item("c/test_y.py", "t2")]
    durations = {"a/test_x.py::t1": 1.0, "a/test_x.py::t2": 1.0, "b/test_x.py::t1": 5.0, "c/test_y.py::t1": 0.5}
    (tmp_path / "durations").write_text(json.dumps(durations))
    longest_files_first(items, tmp_path / "durations")
    # b: 5.0; c: 0.5 + median 1.0 for the unknown t2 = 1.5 < a: 2.0; same-named files stay apart
    assert [i.nodeid for i in items] == ["b/test_x.py::t1", "a/test_x.py::t1", "a/test_x.py::t2",
                                         "c/test_y.py::t1", "c/test_y.py::t2"]


def test_the_reference_workload_puts_the_wall_time_in_machine_independent_units(project):
    project.makeconftest("def pytest_claims_reference_workload(config):\n    return 0.5\n")
    result = run(project, "--claims-scale", "smoke", "--claims-reference")
    result.assert_outcomes(passed=2, xfailed=1)
    doc = json.loads((project.path / "reports" / "claims.json").read_text())
    assert doc["run"]["reference_s"] == 0.5
    assert doc["run"]["wall_ratio"] == pytest.approx(doc["run"]["wall_s"] / 0.5, abs=0.03)
    result.stdout.fnmatch_lines(["wall time * s = * x the reference workload (0.50 s, measured before the tests)"])
    assert "x the reference workload of 0.50 s" in (project.path / "reports" / "claims.md").read_text()


def test_asking_for_a_reference_the_project_does_not_define_is_a_usage_error(project):
    result = run(project, "--claims-reference")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--claims-reference*no reference workload*"])


def test_a_run_without_the_reference_says_nothing_of_it(project):
    run(project, "--claims-scale", "smoke").assert_outcomes(passed=2, xfailed=1)
    doc = json.loads((project.path / "reports" / "claims.json").read_text())
    assert "reference_s" not in doc["run"] and "wall_ratio" not in doc["run"]


def test_a_folder_outside_the_project_given_as_two_words_is_a_usage_error_that_says_to_use_equals(
        project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside-cache")
    result = project.runpytest_inprocess("--claims-cache", str(outside), "--claims-scale", "smoke")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--claims-cache {outside}*looked for its configuration file from there*"
                                 f"--claims-cache={outside}*"])
    project.runpytest_inprocess(f"--claims-cache={outside}", "--claims-scale", "smoke").assert_outcomes(
        passed=2, xfailed=1)


def test_a_pytest_toml_project_is_told_too_and_an_explicit_config_file_or_test_path_is_no_misreading(
        project, tmp_path_factory):
    """pytest 9 reads pytest.toml before pytest.ini: the check reads pytest's decision (its root), no list of
    file names."""
    project.path.joinpath("tox.ini").unlink()
    project.maketoml("[pytest]\n"
                     'addopts = ["--strict-markers", "-p", "claimcheck.plugin", "-p", "no:benchmark", "-p", '
                     '"no:hypothesispytest", "--claims-device", "cpu"]\n'
                     "xfail_strict = true\n"
                     "claims_id_pattern = '^[0-9]+\\.[0-9]+$'\n")
    outside = tmp_path_factory.mktemp("outside-cache")
    result = project.runpytest_inprocess("--claims-cache", str(outside), "--claims-scale", "smoke")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--claims-cache {outside}*write --claims-cache={outside}*"])
    for args in (["-c", str(project.path / "pytest.toml")], [str(project.path / "test_toy.py")]):
        result = project.runpytest_inprocess(*args, "--claims-cache", str(outside), "--claims-scale", "smoke")
        result.assert_outcomes(passed=2, xfailed=1)


def test_xdist_hands_out_claim_files_whole_and_other_tests_one_by_one():
    from claimcheck.scheduling import claim_file_scheduling

    config = SimpleNamespace(getvalue=lambda name: {"tx": ["popen"] * 2}.get(name))   # `-n 2`, as xdist sees it
    scheduler = claim_file_scheduling(config, None)
    scheduler.collection = ["claims/test_c.py::test_a[claim]", "claims/test_c.py::test_a[control]",
                            "claims/test_c.py::test_b[claim]", "tests/test_u.py::test_x", "tests/test_u.py::test_y"]
    scopes = [scheduler._split_scope(n) for n in scheduler.collection]
    assert scopes == ["claims/test_c.py"] * 3 + ["tests/test_u.py::test_x", "tests/test_u.py::test_y"]


UNDECIDED = '''
from claimcheck import stats
from claimcheck.evidence import Card, claim
from claimcheck.seeds import SeedFamily

WEAK = Card(id="9.3", title="A weak effect", question="q?", answer="a.", method="m.", control="none")
MIXED = Card(id="9.4", title="A weak and a refuted effect", question="q?", answer="a.", method="m.")
XWEAK = Card(id="9.5", title="A weak effect that must not reproduce", question="q?", answer="a.", method="m.")

def weak(evidence):
    """2 of every 3 seeds above the minimum effect: undecided at the last look of smoke and of standard."""
    seen = []
    def values_for(seeds):
        start = len(seen)
        seen.extend(seeds)
        return {"a": [0.0 if (start + i) % 3 == 0 else 1.0 for i in range(len(seeds))]}
    evidence.check_over_seeds(evidence.per_seed(values_for, family=SeedFamily("weak")), lambda v: stats.greater_than(
        v["a"], reference=0.0, min_effect=0.5, alpha=0.01, name="weak effect"))

@claim(WEAK)
def test_weak_effect(arm, evidence):
    weak(evidence)

@claim(MIXED, control=False)
def test_weak_and_refuted_effect(arm, evidence):
    weak(evidence)
    evidence.check(stats.exact(False, name="refuted fact", detail="measured"))

@claim(XWEAK, control=False, xfail_claim="measured: not at this scale")
def test_weak_effect_that_must_not_reproduce(arm, evidence):
    weak(evidence)
'''


def test_at_smoke_an_undecided_check_is_a_reported_skip_and_a_wrong_verdict_still_fails(project, monkeypatch):
    """Smoke is for iterating: a claim arm whose check runs out of seeds is skipped with the check and the seeds it
    would need, and shown as INCONCLUSIVE at smoke everywhere (progress line, summary, claims.*, junit); a refuted
    check beside it fails its arm; a strict xfail arm that is undecided is a skip too, not an XPASS."""
    import xml.etree.ElementTree as ET

    project.makepyfile(test_undecided=UNDECIDED)
    monkeypatch.setenv("COLUMNS", "120")   # the summary fills the terminal's width: fix it (a CI log's 120)
    result = run(project, "--claims-scale", "smoke", "-rs", "--junitxml", str(project.path / "junit.xml"))
    result.assert_outcomes(passed=3, failed=1, skipped=2, xfailed=1)
    reason = "inconclusive at smoke: 'weak effect' undecided at 15 of 15 seeds, would need ~* seeds; run at " \
             "standard for a verdict"
    result.stdout.fnmatch_lines([
        "9.3 *claim *INCONCLUSIVE at smoke*n=15/15*would need ~* seeds*",
        "*[[]9.4 claim[]] NOT SUPPORTED, expected SUPPORTED*", "*refuted fact*",
        "*(1 check(s) of this arm inconclusive at smoke)*",
        "*claimcheck summary*",
        " 9.3 claim   INCONCLUSIVE at smoke*n=15/15*| check: weak effect (would need ~*",
        " 9.4 claim   FAILED (NOT SUPPORTED)*| check: refuted fact",
        "claim arms: 1 supported / 2 not supported as expected / 1 failed / 2 inconclusive at smoke / 1 xfail / "
        "0 skipped",
        "*green: * (at smoke a lower bound: see the report)",
        f"SKIPPED [[]1[]] test_undecided.py:*: {reason}"])
    doc = json.loads((project.path / "reports" / "claims.json").read_text())
    arms = {(rec["id"], name): group[0] for rec in doc["claims"] for name, group in rec["arms"].items()}
    for key in (("9.3", "claim"), ("9.5", "claim")):
        arm = arms[key]
        assert arm["outcome"] == "inconclusive" and arm["verdict"] == "INCONCLUSIVE at smoke"
        assert arm["message"].startswith("inconclusive at smoke: 'weak effect' undecided at 15 of 15 seeds")
        assert arm["checks"][0]["undecided_at_smoke"] and arm["pass_rate"] is not None
    assert arms["9.5", "claim"]["xfail"] == "measured: not at this scale"
    assert arms["9.3", "control"]["verdict"] == "not supported (as expected)" and arms["9.4", "claim"]["verdict"] == \
        "FAILED"
    assert "At smoke an arm whose check runs out of seeds" in doc["run"]["green_rate_note"]
    md = (project.path / "reports" / "claims.md").read_text()
    assert "### claim: INCONCLUSIVE at smoke" in md and "> **Verdict: INCONCLUSIVE at smoke.** A check" in md
    assert "inconclusive at smoke: 'weak effect'" in md and "a lower bound on the chance of a smoke run" in md
    html = (project.path / "reports" / "claims.html").read_text()
    assert '<li class="inconclusive" data-outcome="inconclusive"><span class="n">2</span>INCONCLUSIVE at smoke' in html
    cases = {tc.get("name"): (tc, {p.get("name"): p.get("value") for p in tc.iter("property")})
             for tc in ET.parse(project.path / "junit.xml").iter("testcase")}
    case, props = cases["test_weak_effect[claim]"]
    assert case.find("skipped") is not None and props["outcome"] == "INCONCLUSIVE at smoke"
    assert props["check_outcome"] == "INCONCLUSIVE" and int(props["seeds_needed"]) > 15
    # without the refuted arm the smoke run is green: undecided is not failed
    assert run(project, "--claims-scale", "smoke", "-k", "not refuted").ret == pytest.ExitCode.OK


def test_at_standard_an_undecided_check_fails_as_before(project):
    project.makepyfile(test_undecided=UNDECIDED)
    result = run(project)
    result.assert_outcomes(passed=3, failed=2, xfailed=2)
    result.stdout.fnmatch_lines(["*[[]9.3 claim[]] INCONCLUSIVE, expected SUPPORTED*",
                                 " 9.3 claim   FAILED (INCONCLUSIVE)*",
                                 "claim arms: 1 supported / 2 not supported as expected / 2 failed (2 inconclusive) / "
                                 "2 xfail / 0 skipped"])
    doc = json.loads((project.path / "reports" / "claims.json").read_text())
    assert "At smoke" not in doc["run"]["green_rate_note"]
    assert '<li class="inconclusive"' not in (project.path / "reports" / "claims.html").read_text()
