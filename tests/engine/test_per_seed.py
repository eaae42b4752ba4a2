"""The engine call claims use: per-seed measurement look by look, recorded decisions, arm expectations."""
from __future__ import annotations

import sys
import types

import pytest

from claimcheck import stats
from claimcheck.config import PROFILES
from claimcheck.evidence import Card, Evidence
from claimcheck.seeds import SeedFamily

CARD = Card(id="9.1", title="t", question="q", answer="a", method="m")


def evidence(arm: str = "claim", first: int = 5) -> Evidence:
    run = types.SimpleNamespace(profile=PROFILES["standard"], seeds=first, seed_base=11)
    return Evidence(CARD, arm, run, figures_dir=None)


def test_values_for_is_called_once_per_look_with_only_the_new_seeds():
    calls = []

    def values_for(seeds):
        calls.append(list(seeds))
        return {"x": [0.1 * (i % 3) for i in range(len(seeds))]}   # a null effect: goes past the first look
    ev = evidence("control")
    per_seed = ev.per_seed(values_for, family=SeedFamily("fam"))
    decision = ev.check_over_seeds(per_seed, lambda v: stats.greater_than(
        v["x"], reference=0.0, min_effect=0.5, alpha=0.01))
    assert [len(c) for c in calls] == [5] * (decision.n // 5)
    assert sum(calls, []) == SeedFamily("fam").seeds(11, decision.n) == per_seed.seeds
    assert ev.checks[0]["family"] == "fam" and ev.checks[0]["seeds_used"] == decision.n
    assert ev.families == {"fam": per_seed.seeds[:decision.n]}


def test_a_second_check_reuses_what_the_first_measured():
    calls = []

    def values_for(seeds):
        calls.append(len(seeds))
        return {"x": [1.0 + 0.01 * i for i in range(len(seeds))]}
    ev = evidence()
    per_seed = ev.per_seed(values_for)
    for _ in range(2):
        ev.check_over_seeds(per_seed, lambda v: stats.greater_than(v["x"], reference=0.0, min_effect=0.5,
                                                                   alpha=0.01))
    # the sign test decides at the second look (10 of 10 seeds above; 5 of 5 cannot reach alpha 0.01)
    assert calls == [5, 5] and [c["seeds_used"] for c in ev.checks] == [10, 10]
    assert ev.checks[1]["outcome"] == "SUPPORTED"


def test_used_by_gives_the_seeds_and_rows_of_the_decisions_deciding_look():
    ev = evidence()
    per_seed = ev.per_seed(lambda seeds: {"x": [1.0 + 0.01 * i for i in range(len(seeds))], "y": list(seeds)})
    quick = ev.check_over_seeds(per_seed, lambda v: stats.greater_than(v["x"], reference=0.0, min_effect=0.5,
                                                                       alpha=0.01))
    per_seed.upto(15)   # measured beyond the decision (as a later check or a first-look table would)
    seeds, rows = per_seed.used_by(quick)
    assert quick.n == 10 and seeds == per_seed.seeds[:10] and rows == {"x": per_seed.rows["x"][:10], "y": seeds}
    slow = types.SimpleNamespace(n=15)   # what used_by reads of a decision
    assert per_seed.used_by(quick, slow)[0] == per_seed.seeds
    with pytest.raises(TypeError, match="decisions"):
        per_seed.used_by()


def test_a_floor_raises_the_first_look():
    ev = evidence(first=3)
    per_seed = ev.per_seed(lambda seeds: {"x": [1.0 + 0.01 * i for i in range(len(seeds))]},
                           family=SeedFamily("f", floor=8))
    assert per_seed.schedule.looks == (8, 9, 12, 15)
    ev.check_over_seeds(per_seed, lambda v: stats.greater_than(v["x"], reference=0.0, min_effect=0.5, alpha=0.01))
    assert len(per_seed.seeds) == 8


def test_the_arms_expect_supported_and_anything_but_supported():
    def effect(seeds):
        return {"x": [1.0 + 0.01 * i for i in range(len(seeds))]}
    check = (lambda v: stats.greater_than(v["x"], reference=0.0, min_effect=0.5, alpha=0.01))
    evidence("claim").check_over_seeds(evidence("claim").per_seed(effect), check)
    control = evidence("control")
    with pytest.raises(AssertionError, match=r"SUPPORTED, expected anything but SUPPORTED[\s\S]*looks: n=5"):
        control.check_over_seeds(control.per_seed(effect), check)
    assert control.checks[0]["pass_rate"] == 0.0


@pytest.mark.parametrize("bad, message", [({"x": [1.0]}, "1 values"), ([1.0] * 5, "must return")])
def test_values_for_must_return_one_value_per_seed_by_name(bad, message):
    ev = evidence()
    with pytest.raises((ValueError, TypeError), match=message):
        ev.check_over_seeds(ev.per_seed(lambda seeds: bad), lambda v: stats.greater_than(
            v["x"], reference=0.0, min_effect=0.5, alpha=0.01))


def fact(holds: bool, name: str) -> stats.StatResult:
    return stats.exact(holds, name=name, detail="a fact")


def test_in_a_claim_test_a_failed_check_fails_after_the_body_with_its_message_and_line():
    ev = evidence("claim")
    done = []

    def body(evidence):
        evidence.check(fact(False, "first"))   # fails: the body goes on
        evidence.check(fact(True, "second"))
        done.append("figure drawn")
    with pytest.raises(AssertionError, match=r"^\[9.1 claim\] NOT SUPPORTED, expected SUPPORTED\nfirst") as failure:
        ev.run_test(body, evidence=ev)
    assert done and [c["name"] for c in ev.checks] == ["first", "second"]
    lines = [(entry.frame.code.name, str(entry.statement).strip()) for entry in failure.traceback]
    assert ("body", 'evidence.check(fact(False, "first"))   # fails: the body goes on') in lines
    ev.check(fact(True, "outside a claim test"))
    with pytest.raises(AssertionError):                      # outside run_test a failed check raises at once
        ev.check(fact(False, "now"))


@pytest.mark.parametrize("after", [ValueError("relied on the check"), pytest.skip.Exception("skip")])
def test_what_a_body_raises_after_a_failed_check_gives_way_to_the_checks_failure(after):
    ev = evidence("claim")

    def body(evidence):
        evidence.check(fact(False, "first"))
        evidence.check(fact(False, "second"))
        raise after
    with pytest.raises(AssertionError, match=r"first[\s\S]*\(1 more failed check\(s\) of this arm") as failure:
        ev.run_test(body, evidence=ev)
    assert failure.value.__context__ is after


def test_a_claim_test_without_failed_checks_returns_what_its_body_returns():
    ev = evidence("control")
    assert ev.run_test(lambda evidence: evidence.check(fact(False, "absent")).name, evidence=ev) == "absent"


def test_a_null_by_construction_passes_again_at_one_minus_the_exact_size():
    """A control whose values are symmetric about the threshold by construction: its pass rate is exact, not the
    bootstrap's, which here (a sample with more seeds above 0 than below, by chance) would be far lower."""
    from claimcheck.sequential import Schedule, count_test_size

    def replicates(seeds):   # 3 of every 5 above 0: the bootstrap's world, not the truth
        return {"d": [(1.0 if i % 5 < 3 else -1.0) * (1 + 0.01 * i) for i in range(len(seeds))]}
    check = (lambda v: stats.greater_than(v["d"], reference=0.0, min_effect=0.0, alpha=0.01))
    replayed, exact = evidence("control"), evidence("control")
    replayed.check_over_seeds(replayed.per_seed(replicates), check)
    exact.check_over_seeds(exact.per_seed(replicates), check, null_by_construction="two replicates")
    schedule = Schedule.for_run(5)
    assert exact.checks[0]["pass_rate"] == pytest.approx(1 - count_test_size(schedule.looks, schedule.spending,
                                                                             0.01, 0.5))
    assert 0.99 <= exact.checks[0]["pass_rate"] < 1 and exact.checks[0]["null_by_construction"] == "two replicates"
    assert replayed.checks[0]["pass_rate"] < 0.97
    with pytest.raises(ValueError, match="only a check expected not SUPPORTED"):
        evidence("claim").check_over_seeds(evidence("claim").per_seed(replicates), check,
                                           null_by_construction="two replicates")


def smoke_evidence(arm: str = "claim", scale: str = "smoke") -> Evidence:
    profile = PROFILES[scale]
    return Evidence(CARD, arm, types.SimpleNamespace(profile=profile, seeds=profile.seeds, seed_base=11),
                    figures_dir=None)


def weak(seeds_so_far: list) -> callable:
    """values_for of a weak effect: 2 of every 3 seeds above the minimum effect. Neither the sign test (10 of 15:
    p 0.15) nor futility (the design effect is 84% of seeds) decides by the last look at smoke or standard."""
    def values_for(seeds):
        start = len(seeds_so_far)
        seeds_so_far.extend(seeds)
        return {"a": [0.0 if (start + i) % 3 == 0 else 1.0 for i in range(len(seeds))]}
    return values_for


def weak_check(ev: Evidence, name: str = "weak effect"):
    return ev.check_over_seeds(ev.per_seed(weak([]), family=SeedFamily(name)), lambda v: stats.greater_than(
        v["a"], reference=0.0, min_effect=0.5, alpha=0.01, name=name))


def test_at_smoke_an_undecided_check_skips_its_arm_after_the_body_naming_the_check_and_the_seeds_it_needs():
    ev, done = smoke_evidence(), []

    def body(evidence):
        decision = weak_check(evidence)
        evidence.check(fact(True, "a fact"))
        done.append(decision)
    with pytest.raises(pytest.skip.Exception) as skip:
        ev.run_test(body, evidence=ev)
    (decision,) = done
    assert decision.outcome == "INCONCLUSIVE" and decision.n == 15 and decision.seeds_needed > 15
    assert str(skip.value.msg) == (f"inconclusive at smoke: 'weak effect' undecided at 15 of 15 seeds, would need "
                                   f"~{decision.seeds_needed} seeds; run at standard for a verdict")
    assert [c["name"] for c in ev.checks] == ["weak effect", "a fact"] and ev.checks[0]["undecided_at_smoke"]


def test_at_smoke_a_decided_wrong_verdict_still_fails_and_says_what_was_undecided():
    ev = smoke_evidence()

    def body(evidence):
        weak_check(evidence)
        evidence.check(fact(False, "a refuted fact"))
    with pytest.raises(AssertionError, match=r"NOT SUPPORTED, expected SUPPORTED\na refuted fact[\s\S]*"
                                             r"1 check\(s\) of this arm inconclusive at smoke"):
        ev.run_test(body, evidence=ev)
    assert len(ev.checks) == 2


def test_at_smoke_another_error_after_an_undecided_check_still_fails_with_a_note():
    ev = smoke_evidence()

    def body(evidence):
        weak_check(evidence)
        raise ValueError("relied on the check")
    with pytest.raises(ValueError, match="relied on the check") as error:
        ev.run_test(body, evidence=ev)
    if sys.version_info >= (3, 11):   # exception notes
        assert "inconclusive at smoke: 'weak effect'" in error.value.__notes__[0]


def test_undecided_checks_skip_only_at_smoke_and_only_where_support_is_expected():
    with pytest.raises(pytest.skip.Exception, match="inconclusive at smoke"):   # outside a claim test: at once
        weak_check(smoke_evidence())
    with pytest.raises(AssertionError, match="INCONCLUSIVE, expected SUPPORTED"):
        weak_check(smoke_evidence(scale="standard"))
    with pytest.raises(AssertionError, match="expected SUPPORTED"):   # paper's 50 seeds decide it: NOT SUPPORTED
        weak_check(smoke_evidence(scale="paper"))
    control = smoke_evidence("control")
    assert weak_check(control).outcome == "INCONCLUSIVE" and "undecided_at_smoke" not in control.checks[0]


@pytest.mark.parametrize("scale, first_look", [("smoke", 24), ("standard", 40), ("paper", 40)])
def test_a_family_floor_is_scaled_to_the_profile_where_the_schedule_is_built(scale, first_look):
    ev = smoke_evidence(scale=scale)
    per_seed = ev.per_seed(lambda seeds: {"x": [1.0] * len(seeds)}, family=SeedFamily("f", floor=40))
    assert per_seed.schedule.looks[0] == first_look
    assert per_seed.schedule.looks[-1] == max(first_look, 5 * PROFILES[scale].seeds)


def test_a_family_floor_and_its_reason_reach_the_arms_record_and_its_card():
    from claimcheck.cards import floor_lines
    ev = smoke_evidence(scale="smoke")
    ev.per_seed(lambda seeds: {"x": [1.0] * len(seeds)}, family=SeedFamily("f", floor=40, why="a pilot's sd"))
    ev.per_seed(lambda seeds: {"x": [1.0] * len(seeds)}, family=SeedFamily("no floor"))
    record = ev.to_json()
    assert record["family_floors"] == {"f": {"floor": 24, "why": "a pilot's sd"}}
    assert floor_lines(record) == ["Seed family \u201cf\u201d: the first look has at least 24 seeds (a pilot's sd)."]
