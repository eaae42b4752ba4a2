"""The stability sweep's table: flips, failures and margins from per-base claims.json documents."""
from __future__ import annotations

import pytest

from claimcheck import stability


def doc(verdict: str, margin: float, seeds: int) -> dict:
    arm = {"test": "claims/x/test_a.py::test_a[claim]", "verdict": verdict, "pass_rate": 0.99,
           "checks": [{"margin": margin, "seeds_used": seeds}]}
    return {"run": {"green_rate": 0.99}, "claims": [{"id": "9.1", "arms": {"claim": [arm]}}]}


def test_identical_verdicts_are_not_a_flip_and_the_smallest_margin_is_kept():
    table = stability.sweep_table({1: doc("SUPPORTED", 2.0, 5), 2: doc("SUPPORTED", 0.4, 10)})
    (row,) = table["arms"]
    assert not row["flip"] and not row["failed"] and row["smallest_margin"] == 0.4
    assert row["seeds"] == {"1": 5, "2": 10} and table["flips"] == 0
    assert "| 9.1 test_a[claim] | SUPPORTED | SUPPORTED | 5/10 | 0.40 |  |" in stability.render(table)


def test_a_verdict_that_changes_with_the_base_is_a_flip_and_a_failure():
    table = stability.sweep_table({1: doc("SUPPORTED", 2.0, 5), 2: doc("FAILED", -0.1, 25)})
    assert table["flips"] == 1 and table["failed_arms"] == 1 and "FLIP" in stability.render(table)


def test_bases_start_with_the_default_and_the_sweep_refuses_a_seed_option(capsys):
    assert stability.bases_for(3) == [stability.DEFAULT_SEED_BASE, 1, 2]
    with pytest.raises(SystemExit):
        stability.main(["--bases", "2", "--", "--claims-seed=4"])
    assert "--claims-seed" in capsys.readouterr().err


def test_an_arm_inconclusive_at_smoke_is_counted_and_named_not_a_flip_nor_a_failure():
    table = stability.sweep_table({1: doc("SUPPORTED", 2.0, 9), 2: doc("INCONCLUSIVE at smoke", -0.3, 15)})
    assert table["flips"] == 0 and table["failed_arms"] == 0 and table["inconclusive_arms"] == 1
    assert "arms inconclusive at smoke under some base (no verdict, not a failure): 1 (9.1 claim)" in \
        stability.render(table)
    assert stability.sweep_table({1: doc("FAILED", -0.1, 25), 2: doc("INCONCLUSIVE at smoke", -0.3, 15)})[
        "failed_arms"] == 1
