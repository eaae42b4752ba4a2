"""claimcheck.replay: a report's sequential checks decided again by the current statistics, on the recorded seeds."""
from __future__ import annotations

import json

import numpy as np

from claimcheck import replay

LOOK = {"alpha_k": 0.001, "beta_k": 0.002}


def check(name: str, a: list[float], b: list[float], *, outcome: str, expected: bool, looks: list[int],
          futility: bool = True, test: str = "one-sided paired t-test on a - b - min_effect (Student t)") -> dict:
    """A check as claims.json records it (only the fields the replay reads)."""
    return {"name": name, "test": test, "values": {"a": a, "b": b}, "alpha": 0.01, "min_effect": 0.0,
            "effect": float(np.mean(np.subtract(a, b))), "effect_name": "mean(a - b)", "detail": "",
            "expected": expected, "outcome": outcome, "seeds_used": looks[-1], "family": "9.1", "pass_rate": 1.0,
            "looks": [{"n": n, "p": 0.5, "p_futility": 0.5 if futility else None, **LOOK} for n in looks]}


def report(*checks: dict, arm_outcome: str = "passed") -> dict:
    return {"run": {"seeds": 5, "seed_base": 1},
            "claims": [{"id": "9.1", "arms": {"claim": [{"outcome": arm_outcome, "checks": list(checks)}]}}]}


def test_a_check_decided_at_five_seeds_needs_ten_under_the_sign_test():
    strong = check("strong", [1.0, 1.1, 1.2, 0.9, 1.3], [0.0] * 5, outcome="SUPPORTED", expected=True, looks=[5])
    (row,) = replay.replay_report(report(strong))
    assert row.kind == "paired_greater" and row.new_outcome is None and row.change == "needs more seeds"
    assert row.p_expected == 1.0 and row.mean_seeds == 10.0   # every bootstrap continuation: 10 of 10 above


def test_a_decision_on_the_recorded_seeds_and_a_flip_are_named():
    rng = np.random.default_rng(0)
    a = list(1.0 + rng.normal(0, 0.1, 10))
    done = check("done", a, [0.0] * 10, outcome="SUPPORTED", expected=True, looks=[5, 10])
    flip = check("flip", a, [0.0] * 10, outcome="NOT SUPPORTED", expected=False, looks=[5, 10])
    rows = replay.replay_report(report(done, flip))
    assert [(r.new_outcome, r.new_seeds, r.change) for r in rows] == [("SUPPORTED", 10, "same seeds"),
                                                                      ("SUPPORTED", 10, "FLIPS")]


def test_a_check_without_futility_is_replayed_without_it(tmp_path, capsys):
    noise = check("noise", [0.1, -0.2, 0.05, -0.1, 0.0] * 5, [0.0] * 25, outcome="INCONCLUSIVE", expected=False,
                  looks=[5, 10, 15, 20, 25], futility=False)
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(report(noise)))
    assert replay.main([str(path)]) == 0
    assert "INCONCLUSIVE @ 25" in capsys.readouterr().out.splitlines()[2]
