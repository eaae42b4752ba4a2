"""Where the plugin acts and what a run shows while it goes: inert in a plain pytest project, active in a
project that configures it or collects `@claim` tests; a line per claim arm as it finishes; whole-file
shards that do not depend on the order of collection or on xdist; the durations file.

Serial runs are in-process (pytester.runpytest_inprocess: no interpreter start-up, scipy already imported);
a subprocess runs only where xdist is the point (its controller and workers are separate processes)."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path
from types import SimpleNamespace

import pytest
import scipy.special  # noqa: F401  (imported once: in-process runs restore sys.modules)
import scipy.stats  # noqa: F401

from tests.engine.test_plugin import CLAIMS

ROOT = Path(__file__).resolve().parents[2]

PLAIN_TESTS = '''
import os, random

def test_threads_and_random_state_are_left_alone():
    print("ENV", os.environ.get("OMP_NUM_THREADS"), os.environ.get("OPENBLAS_NUM_THREADS"))
    print("RANDOM", random.random())

def test_second():
    print("RANDOM2", random.random())
'''


def _plain_project(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    pytester.makeini("[pytest]\naddopts = -p no:benchmark -p no:hypothesispytest -p no:cacheprovider\n")
    pytester.makepyfile(test_plain=PLAIN_TESTS)
    return pytester


def _observable(result) -> list[str]:
    """What a plain project's run shows, less the lines that name the installed plugins or timings."""
    return [line for line in result.outlines
            if not line.startswith(("plugins:", "rootdir:", "platform ", "configfile:")) and " in " not in line
            and "bringing up nodes" not in line and "RANDOM" not in line]


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_a_plain_project_behaves_exactly_as_without_the_plugin(pytester, monkeypatch, xdist):
    project = _plain_project(pytester, monkeypatch)
    args = ["-s", "-p", "no:randomly", "-p", "xdist", *(["-n", "1"] if xdist else [])]
    runner = project.runpytest_subprocess if xdist else project.runpytest_inprocess
    if not xdist:   # in this process hypothesis is already imported (conftest.py), which pytest warns of
        args += ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    with_plugin = runner(*args)
    without = runner(*args, "-p", "no:claimcheck.plugin")
    assert with_plugin.ret == without.ret == 0
    assert _observable(with_plugin) == _observable(without)
    assert not any("claimcheck" in line or "summary" in line.lower() for line in with_plugin.outlines)
    assert not (project.path / "reports").exists() and not (project.path / ".claims-cache").exists()
    if not xdist:   # xdist workers' prints do not reach the controller's output
        with_plugin.stdout.fnmatch_lines(["*ENV None None*"])
        again = runner(*args)   # in-process: one random stream, so only a reseeding plugin repeats its numbers
        randoms = [[line for line in r.outlines if "RANDOM" in line] for r in (with_plugin, again)]
        assert randoms[0] != randoms[1], "no test was reseeded"


NOTICE_TEST = ("from claimcheck import console\n\ndef test_n():\n"
               "    console.notice('NOTICE waiting for pid 1')\n    print('CAPTURED')\n")


def _verdicts(doc: dict) -> list[tuple]:
    return [(c["id"], arm, a["verdict"], a["checks"][0]["p_value"] if a["checks"] else None, a.get("flops"))
            for c in doc["claims"] for arm, arms in c["arms"].items() for a in arms]


def test_claim_tests_without_settings_get_their_report_arm_lines_and_notices_also_under_xdist(pytester, monkeypatch):
    """One project, a serial run and an xdist run (`-n 2`, a subprocess: the controller collects nothing): both
    activate the plugin without any claim settings and write the report, with the same verdicts and p-values
    and the same fields a project adds to its arms (counted on the worker under xdist);
    each claim arm prints a line as it finishes; a notice from inside a test reaches the terminal past the
    capture. A quiet xdist run (-q) prints no arm lines."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeini("[pytest]\naddopts = -p no:benchmark -p no:hypothesispytest --claims-device cpu\n"
                     "xfail_strict = true\n")
    pytester.makepyfile(test_toy=CLAIMS, test_n=NOTICE_TEST)
    pytester.makeconftest("def pytest_claims_arm_fields(item):\n    return {'flops': len(item.nodeid)}\n")
    reports = {}
    for xdist in (False, True):
        runner = pytester.runpytest_subprocess if xdist else pytester.runpytest_inprocess
        result = runner("--claims-scale", "smoke", *(["-n", "2"] if xdist else []))
        result.assert_outcomes(passed=3, xfailed=1)
        doc = json.loads((pytester.path / "reports" / "claims.json").read_text())
        assert {rec["id"] for rec in doc["claims"]} == {"9.1", "9.2"}
        reports[xdist] = _verdicts(doc)
        assert all(isinstance(row[-1], int) and row[-1] > 0 for row in reports[xdist]), "the hook ran"
        for line in ("9.1*claim*SUPPORTED*p=*n=9/15*s*", "9.1*control*not supported (as expected)*"):
            result.stdout.fnmatch_lines([line])   # in either order: two workers may finish them in either
        text = result.stdout.str() + result.stderr.str()
        assert "NOTICE waiting for pid 1" in text and "CAPTURED" not in text, xdist
    assert reports[False] == reports[True]
    quiet = pytester.runpytest_subprocess("--claims-scale", "smoke", "-q", "-n", "1")
    quiet.assert_outcomes(passed=3, xfailed=1)
    assert not any(line.startswith("9.1 ") for line in quiet.outlines)


def _items(nodeids: list[str]) -> list[SimpleNamespace]:
    return [SimpleNamespace(nodeid=n) for n in nodeids]


def test_shards_are_whole_files_whatever_the_collection_order():
    from claimcheck.scheduling import shard_files

    durations = json.loads((ROOT / ".test_durations").read_text())
    nodeids = sorted(durations)
    groups = [shard_files(_items(nodeids), durations, g, 3) for g in (1, 2, 3)]
    files = {n.split("::")[0] for n in nodeids}
    assert set().union(*groups) == files and sum(len(g) for g in groups) == len(files)
    shuffled = nodeids[:]
    random.Random(0).shuffle(shuffled)
    assert [shard_files(_items(shuffled), durations, g, 3) for g in (1, 2, 3)] == groups
    loads = [sum(v for k, v in durations.items() if k.split("::")[0] in g) for g in groups]
    assert max(loads) < 1.5 * min(loads), f"unbalanced shards: {loads}"


def test_a_shard_runs_the_same_tests_with_and_without_xdist(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeini("[pytest]\naddopts = -p no:benchmark -p no:hypothesispytest --claims-device cpu\n"
                     "xfail_strict = true\nclaims_title = toy\n")
    for i in range(4):
        pytester.makepyfile(**{f"test_file{i}": f"def test_a{i}(): pass\ndef test_b{i}(): pass\n"})
    ran = {}
    for extra in ([], ["-n", "2"]):
        runner = pytester.runpytest_subprocess if extra else pytester.runpytest_inprocess
        result = runner("--claims-shard", "2/3", "-rA", *extra)
        ran[bool(extra)] = sorted(line.split()[-1] for line in result.outlines if line.startswith("PASSED "))
    assert ran[False] == ran[True] and ran[False]
    assert len({nodeid.split("::")[0] for nodeid in ran[False]}) == len(ran[False]) // 2, "whole files"


@pytest.mark.parametrize("value", ["0/3", "4/3", "1", "a/b", "1/0"])
def test_a_bad_shard_is_a_usage_error_naming_the_flag(pytester, monkeypatch, value):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_x="def test_x(): pass\n")
    result = pytester.runpytest_inprocess("-p", "no:benchmark", f"--claims-shard={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--claims-shard*G/N*"])


def test_store_durations_merges_this_runs_seconds_into_the_file(tmp_path):
    from claimcheck.scheduling import store_durations

    path = tmp_path / ".test_durations"
    path.write_text(json.dumps({"a.py::old": 2.0, "a.py::t": 9.0}))
    store_durations(path, {"a.py::t": 1.23456, "b.py::new": 0.5})
    assert json.loads(path.read_text()) == {"a.py::old": 2.0, "a.py::t": 1.235, "b.py::new": 0.5}
    assert oct(os.stat(path).st_mode & 0o777) != oct(0o600)


def test_a_worker_crash_stays_in_the_arm_and_the_summary_when_xdist_reruns_the_test(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeini("[pytest]\naddopts = -p no:benchmark -p no:hypothesispytest --claims-device cpu\n"
                     "xfail_strict = true\nclaims_title = toy\n")
    pytester.makepyfile(test_toy=CLAIMS.replace(   # the control's first run kills its worker; the rerun passes
        '    shift = 1.0 if arm == "claim" else 0.0',
        '    shift = 1.0 if arm == "claim" else 0.0\n    import os, pathlib\n    flag = pathlib.Path("crashed")\n'
        '    if arm == "control" and not flag.exists():\n        flag.write_text("x")\n        os._exit(1)'))
    result = pytester.runpytest_subprocess("--claims-scale", "smoke", "-n", "1")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*1 whose worker crashed*"])
    doc = json.loads((pytester.path / "reports" / "claims.json").read_text())
    control = next(rec for rec in doc["claims"] if rec["id"] == "9.1")["arms"]["control"][0]
    assert control["crashes"] and "crashed while running" in control["crashes"][0]
    for name in ("claims.md", "claims.html"):
        assert "worker crashed 1 time(s)" in (pytester.path / "reports" / name).read_text()


def test_a_process_waiting_on_a_build_lock_says_whom_it_waits_for(tmp_path, monkeypatch):
    import threading

    from filelock import FileLock

    from claimcheck import console, store

    notices = []
    monkeypatch.setattr(console, "_write", notices.append)
    monkeypatch.setattr(store, "LOCK_NOTICE_S", 0.05)
    lock_path = tmp_path / "entry.lock"
    held, done = threading.Event(), threading.Event()

    def hold():   # another holder: a thread with its own lock object (as another process would be)
        with FileLock(str(lock_path)):
            lock_path.with_suffix(".owner").write_text("pid 4242 on elsewhere since 10:00:00")
            held.set()
            done.wait(timeout=5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(timeout=5)
    threading.Timer(0.3, done.set).start()
    with store._locked(lock_path, {"kind": "trained-model"}):
        pass
    thread.join()
    assert notices == [notices[0]] and "pid 4242" in notices[0] and "trained-model" in notices[0]
