"""The report's estimated pass rates: replayed for sequential checks, what happened for deterministic ones."""
from __future__ import annotations

import pytest

from claimcheck.report import arm_pass_rate, summary_lines, wrap


def check(outcome: str, expected: bool, pass_rate: float | None = None) -> dict:
    return {"outcome": outcome, "expected": expected, "pass_rate": pass_rate}


@pytest.mark.parametrize("arm, rate", [
    ({"outcome": "passed", "checks": [check("SUPPORTED", True)]}, 1.0),
    ({"outcome": "passed", "checks": [check("SUPPORTED", True, 0.9), check("SUPPORTED", True, 0.8)]}, 0.72),
    ({"outcome": "passed", "checks": [check("NOT SUPPORTED", False)]}, 1.0),                 # a control
    ({"outcome": "failed", "checks": [check("NOT SUPPORTED", True)]}, 0.0),
    # a strict xfail passes again while some check still fails: a deterministic failure always does
    ({"outcome": "xfailed", "checks": [check("NOT SUPPORTED", True)]}, 1.0),
    ({"outcome": "xfailed", "checks": [check("SUPPORTED", True, 0.9), check("NOT SUPPORTED", True, 0.1)]}, 0.91),
    ({"outcome": "passed", "checks": []}, None),
    # at smoke: an arm skipped as inconclusive replays as the others; a strict xfail one as a strict xfail
    ({"outcome": "inconclusive", "checks": [check("INCONCLUSIVE", True, 0.3)]}, 0.3),
    ({"outcome": "inconclusive", "xfail": "measured", "checks": [check("INCONCLUSIVE", True, 0.3)]}, 0.7),
])
def test_an_arms_pass_rate(arm, rate):
    assert arm_pass_rate(arm) == (None if rate is None else pytest.approx(rate))


def summary_doc(key: str, verdict: str = "SUPPORTED", outcome: str = "SUPPORTED") -> dict:
    check = {"name": "a check", "key": key, "p_value": 1.234e-05, "seeds_used": 10, "max_seeds": 25,
             "outcome": outcome, "expected": True}
    arm = {"test": "claims/test_x.py::test_" + "a_long_sentence_" * 8 + "[claim]", "verdict": verdict,
           "wall_s": 123.4, "checks": [] if verdict.startswith("SKIPPED") else [check], "cache": {"built": 2}}
    return {"run": {"green_rate": 0.9}, "claims": [{"id": "5.2", "arms": {"claim": [arm], "control": [arm]}}]}


LONG_KEY = "mean(share after a late deficit - share after an early deficit, second init)=-0.000542"
SKIP = "SKIPPED (no local ImageNet ResNet-50 weights: pass --resnet50-weights PATH (nothing is downloaded))"


@pytest.mark.parametrize("width, fits", [(None, 120), (80, 80), (100, 100), (120, 120), (200, 120), (400, 120)])
@pytest.mark.parametrize("key, verdict", [(LONG_KEY, "SUPPORTED"), ("-", SKIP),
                                          (LONG_KEY, "FAILED"), ("x=1", "not supported (as expected)")])
def test_summary_lines_fit_120_columns_or_a_narrower_terminal_and_keep_the_verdict(width, fits, key, verdict):
    lines = summary_lines(summary_doc(key, verdict, "INCONCLUSIVE" if verdict == "FAILED" else "SUPPORTED"), width)
    assert max(len(line) for line in lines[:2]) <= fits and max(len(line) for line in lines) <= 120
    shown = {"SUPPORTED": "SUPPORTED", SKIP: "SKIPPED (no local", "FAILED": "FAILED (INCONCLUSIVE)",
             "not supported (as expected)": "not supported (expected)"}[verdict]
    assert all(line.startswith(f" 5.2 {arm:<7} {shown}") for line, arm in zip(lines, ("claim", "control")))
    if fits == 120:        # room for every field; the key number's name is cut, never its value
        tail = "p=- 123.4s built" if verdict == SKIP else "p=1.23e-05 n=10/25 123.4s built"
        assert all(tail in line for line in lines[:2])
        assert all("...=-0.000542 p=" in line or key in line for line in lines[:2])


def test_a_wide_summary_keeps_whole_key_numbers_and_fills_the_rest_with_the_sentence():
    line = summary_lines(summary_doc("mean(a - b)=0.5"), None)[0]
    assert len(line) == 120 and "mean(a - b)=0.5 p=1.23e-05" in line and line.endswith("...")
    assert " | a long sentence a long senten..." in line


def test_a_sentence_past_120_columns_wraps_between_its_parts():
    counts = "claim arms: 0 supported / 0 not supported as expected / 0 failed (0 inconclusive) / 0 xfail"
    assert wrap(counts, 60, sep=" / ") == ["claim arms: 0 supported / 0 not supported as expected /",
                                           "    0 failed (0 inconclusive) / 0 xfail"]
    path = "/a/very/long/path/" * 5
    assert wrap(f"PARTIAL run (test paths given: {path}): unchanged", 40) == [
        "PARTIAL run (test paths given:", f"    {path}):", "    unchanged"]     # a path stays whole
    lines = summary_lines({**summary_doc("x=1"), "run": {"green_rate": 0.5, "wall_ratio": 2.0, "wall_s": 2.0,
                                                         "reference_s": 1.0}}, 80)
    assert lines[2:] == ["claim arms: 2 supported / 0 not supported as expected / 0 failed (0 inconclusive) / "
                         "0 xfail / 0 skipped",   # a sentence within 120 columns stays whole on an 80-column terminal
                         "wall time 2.0 s = 2.0 x the reference workload (1.00 s, measured before the tests)",
                         "estimated chance that a run under another seed base is green: 0.500"]
