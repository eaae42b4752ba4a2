"""The report's estimated pass rates: replayed for sequential checks, what happened for deterministic ones."""
from __future__ import annotations

import pytest

from claimcheck.report import arm_pass_rate


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
])
def test_an_arms_pass_rate(arm, rate):
    assert arm_pass_rate(arm) == (None if rate is None else pytest.approx(rate))
