"""The stability sweep's table: flips, failures and margins from per-base claims.json documents."""
from __future__ import annotations

import numpy as np
import pytest

from claimcheck import replay, sequential, stability


def doc(verdict: str, margin: float, seeds: int) -> dict:
    arm = {"test": "claims/x/test_a.py::test_a[claim]", "verdict": verdict, "pass_rate": 0.99,
           "checks": [{"margin": margin, "seeds_used": seeds}]}
    return {"run": {"green_rate": 0.99}, "claims": [{"id": "9.1", "arms": {"claim": [arm]}}]}


def test_identical_verdicts_are_not_a_flip_and_the_smallest_margin_is_kept():
    table = stability.sweep_table({1: doc("SUPPORTED", 2.0, 5), 2: doc("SUPPORTED", 0.4, 10)})
    (row,) = table["arms"]
    assert not row["flip"] and not row["failed"] and row["smallest_margin"] == 0.4
    assert row["seeds"] == {"1": 5, "2": 10} and table["flips"] == 0
    assert "| 9.1 test_a[claim] | SUPPORTED | SUPPORTED | 5/10 | 0.40 | - |  |" in stability.render(table)


def test_a_verdict_that_changes_with_the_base_is_a_flip_and_a_failure():
    table = stability.sweep_table({1: doc("SUPPORTED", 2.0, 5), 2: doc("FAILED", -0.1, 25)})
    assert table["flips"] == 1 and table["failed_arms"] == 1 and "FLIP" in stability.render(table)


def test_bases_start_with_the_default_and_the_sweep_refuses_a_seed_option(capsys):
    assert stability.bases_for(3) == [stability.DEFAULT_SEED_BASE, 1, 2]
    with pytest.raises(SystemExit):
        stability.main(["--bases", "2", "--", "--claims-seed=4"])
    assert "--claims-seed" in capsys.readouterr().err


def sign_check(values: list[float], *, pass_rate: float) -> dict:
    """A one-sample sign-test check (median > 0) as claims.json records it, decided on all `values`."""
    return {"name": "median above 0", "test": "one-sided exact sign test over seeds on values - reference - "
            "min_effect (binomial)", "values": {"x": values}, "alpha": 0.01, "min_effect": 0.0,
            "effect": float(np.median(values)), "effect_name": "median(x - 0)", "detail": "", "expected": True,
            "outcome": "SUPPORTED", "seeds_used": len(values), "family": "9.1", "pass_rate": pass_rate,
            "looks": [{"n": n, "p": 0.5, "p_futility": 0.5} for n in (5, 10, 15, 20, 25) if n <= len(values)]}


def test_pooling_the_bases_replays_their_seeds_together():
    """Two bases of one check, 8 of 10 and 10 of 10 seeds above 0: the pooled replay is the replay of all 20
    seeds as one sample, which lies between the two runs' own replays."""
    low = sign_check([1.0] * 8 + [-1.0] * 2, pass_rate=0.6)
    high = sign_check([1.0] * 10, pass_rate=1.0)
    pooled = replay.pooled_pass_rate([low, high], first=5, rng_seed=3)
    together, test_on = replay.helper_for(sign_check([1.0] * 18 + [-1.0] * 2, pass_rate=0.0), "greater_than")
    direct = sequential.replay_pass_rate(test_on, together, sequential.Schedule.for_run(5), lambda o: o == "SUPPORTED",
                                         seed=3)
    assert pooled == direct
    own = [replay.pooled_pass_rate([one], first=5, rng_seed=3) for one in (low, high)]
    assert own[0] < pooled < own[1] == 1.0


def test_the_sweep_reports_pooled_rates_and_their_product():
    def base(values):
        arm = {"test": "claims/x/test_a.py::test_a[claim]", "verdict": "SUPPORTED", "outcome": "passed",
               "checks": [sign_check(values, pass_rate=0.5)]}
        return {"run": {"green_rate": 0.5, "seeds": 5}, "claims": [{"id": "9.1", "arms": {"claim": [arm]}}]}
    table = stability.sweep_table({1: base([1.0] * 8 + [-1.0] * 2), 2: base([1.0] * 10)})
    (row,) = table["arms"]
    assert 0.5 < row["pooled_pass_rate"] < 1.0 and table["pooled_green_rate"] == row["pooled_pass_rate"]
    text = stability.render(table)
    assert f"from every base's seeds pooled: {row['pooled_pass_rate']:.3f}" in text
    assert "1: 0.500, 2: 0.500" in text


def test_an_arm_inconclusive_at_smoke_is_counted_and_named_not_a_flip_nor_a_failure():
    table = stability.sweep_table({1: doc("SUPPORTED", 2.0, 9), 2: doc("INCONCLUSIVE at smoke", -0.3, 15)})
    assert table["flips"] == 0 and table["failed_arms"] == 0 and table["inconclusive_arms"] == 1
    assert "arms inconclusive at smoke under some base (no verdict, not a failure): 1 (9.1 claim)" in \
        stability.render(table)
    assert stability.sweep_table({1: doc("FAILED", -0.1, 25), 2: doc("INCONCLUSIVE at smoke", -0.3, 15)})[
        "failed_arms"] == 1
