"""Arms, check outcomes and verdicts are enums of strings: typed in the engine and the claims, spelled in test ids,
claims.json, the report and JUnit exactly as their values."""
from __future__ import annotations

import json

import pytest

from claimcheck.evidence import Card, claim
from claimcheck.verdicts import (
    INCONCLUSIVE,
    Arm,
    Outcome,
    Verdict,
    expected_text,
    fails_the_run,
    inconclusive_reason,
    is_failed,
    is_inconclusive,
    is_passing,
    is_skipped,
    meets,
    skip_outcome,
    verdict,
)

CARD = Card(id="9.1", title="t", question="q", answer="a", method="m")


@pytest.mark.parametrize("member", [*Arm, *Outcome, *Verdict])
def test_a_member_prints_formats_and_serializes_as_its_value_and_equals_it(member):
    value = member.value
    assert str(member) == f"{member}" == f"{member:<3}".rstrip() == "%s" % member == value
    assert json.dumps({member: [member]}) == json.dumps({value: [value]})
    assert member == value and hash(member) == hash(value) and {value: 1}[member] == 1
    assert type(member)(value) is member


def test_claim_parametrizes_arm_members_with_the_ids_claim_and_control():
    def params(**kwargs):
        def body(arm):   # a claim test body to decorate, not a test
            pass
        (mark,) = [m for m in claim(CARD, **kwargs)(body).pytestmark if m.name == "parametrize"]
        return [(p.values[0], p.id, [m.name for m in p.marks]) for p in mark.args[1]]
    assert params() == [(Arm.CLAIM, "claim", []), (Arm.CONTROL, "control", [])]
    assert all(type(value) is Arm for value, _, _ in params())
    assert params(control=False, xfail_claim="measured: no") == [(Arm.CLAIM, "claim", ["xfail"])]


@pytest.mark.parametrize("arm, outcome, message, expected", [
    ("claim", "passed", "", Verdict.SUPPORTED),
    ("control", "passed", "", Verdict.NOT_SUPPORTED_AS_EXPECTED),
    ("claim", "xfailed", "reason", Verdict.NOT_REPRODUCED),
    ("claim", "failed", "assert", Verdict.FAILED),
    ("control", "failed", "assert", Verdict.FAILED_CONTROL),
    ("claim", "failed", "crashed: worker 'gw0'", Verdict.FAILED_CRASHED),
    ("control", "incomplete", "", Verdict.NOT_RUN),
    ("claim", "skipped", "no weights", "SKIPPED (no weights)"),
    ("claim", "xpassed", "reason", "XPASSED"),
    ("claim", "inconclusive", "inconclusive at smoke: 'x' ...", Verdict.INCONCLUSIVE_AT_SMOKE),
    ("control", "inconclusive", "inconclusive at smoke: 'x' ...", Verdict.INCONCLUSIVE_AT_SMOKE),
])
def test_the_verdict_of_an_arm_and_whether_it_passes(arm, outcome, message, expected):
    got = verdict(Arm(arm), outcome, message)
    assert got == expected == verdict(arm, outcome, message)
    assert is_passing(got) == (outcome in ("passed", "xfailed"))
    assert is_skipped(got) == (outcome == "skipped")
    assert is_failed(got) == (outcome == "failed")
    assert is_inconclusive(got) == (outcome == INCONCLUSIVE)
    assert fails_the_run(got) == (outcome not in ("passed", "xfailed", "skipped", INCONCLUSIVE))


def test_a_skip_is_inconclusive_only_with_the_reason_an_undecided_check_at_smoke_gives():
    reason = inconclusive_reason(["'x' undecided at 15 of 15 seeds, would need ~40 seeds"])
    assert reason == ("inconclusive at smoke: 'x' undecided at 15 of 15 seeds, would need ~40 seeds; run at standard "
                      "for a verdict")
    assert skip_outcome(reason) == INCONCLUSIVE and verdict("claim", "skipped", reason) == "INCONCLUSIVE at smoke"
    assert skip_outcome("no local weights") == "skipped" == skip_outcome("inconclusive at smoker")


def test_a_check_meets_its_expectation():
    assert meets(Outcome.SUPPORTED, True) and meets("SUPPORTED", True) and not meets("SUPPORTED", False)
    assert all(meets(o, False) and not meets(o, True) for o in ("NOT SUPPORTED", Outcome.INCONCLUSIVE, None))
    assert (expected_text(True), expected_text(False)) == ("SUPPORTED", "not SUPPORTED")
