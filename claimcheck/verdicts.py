"""The words of a claims report as types: a claim test's arm, a check's outcome and an arm's verdict.

Each is an enum of strings: a member equals, hashes, prints and serializes (json) as its value, so test ids
(`[claim]`, `[control]`), claims.json, the Markdown and HTML report and the JUnit properties spell them as
they always have, and a value read back from claims.json (a plain str) compares equal to its member.
"""
from __future__ import annotations

import enum


class _Word(enum.Enum):
    """A str-valued enum whose members print as their value on every Python version (like 3.11's StrEnum)."""

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(self, spec)


class Arm(str, _Word):
    """The arm of a claim test: the claim must be SUPPORTED, its negative control must not be."""

    CLAIM = "claim"
    CONTROL = "control"


class Outcome(str, _Word):
    """What one check decided (claimcheck/sequential.py): SUPPORTED, NOT SUPPORTED or, after the last look,
    INCONCLUSIVE."""

    SUPPORTED = "SUPPORTED"
    NOT_SUPPORTED = "NOT SUPPORTED"
    INCONCLUSIVE = "INCONCLUSIVE"


def meets(outcome: str, expects_support: bool) -> bool:
    """Whether a check's outcome is what it expects: SUPPORTED, or (expects_support False) anything else."""
    return (outcome == Outcome.SUPPORTED) == expects_support


def expected_text(expects_support: bool) -> str:
    """The outcome a check expects, as the report's "expects" column shows it."""
    return Outcome.SUPPORTED if expects_support else "not SUPPORTED"


class Verdict(str, _Word):
    """What a claim arm's test came to, as the report shows it. A skipped arm's verdict is
    `SKIPPED (<reason>)` (`skipped`); an outcome with no verdict of its own is its name in capitals.

    INCONCLUSIVE_AT_SMOKE: at smoke scale (the profile's `inconclusive_skips`) a check that ran out of seeds
    undecided ends its arm as a pytest skip whose reason starts with INCONCLUSIVE_REASON; the report calls its
    outcome "inconclusive" and its verdict this. It neither passes nor fails the run: smoke is for iterating,
    a verdict needs standard scale."""

    SUPPORTED = "SUPPORTED"                                  # the claim arm passed
    NOT_SUPPORTED_AS_EXPECTED = "not supported (as expected)"   # the control arm passed
    NOT_REPRODUCED = "NOT REPRODUCED (strict xfail)"         # a claim arm that must keep failing did
    FAILED = "FAILED"                                        # the claim arm failed (every failed verdict starts so)
    FAILED_CONTROL = "FAILED (control)"
    FAILED_CRASHED = "FAILED (crashed)"                      # its xdist worker crashed
    NOT_RUN = "NOT RUN (interrupted)"
    SKIPPED = "SKIPPED"                                      # the word a skipped arm's verdict starts with
    INCONCLUSIVE_AT_SMOKE = "INCONCLUSIVE at smoke"          # a check ran out of smoke's seeds: no verdict


INCONCLUSIVE = "inconclusive"                 # the arm's outcome (claims.json) for a skip of INCONCLUSIVE_REASON
INCONCLUSIVE_REASON = "inconclusive at smoke"  # how the skip reason of such an arm starts


_BY_OUTCOME = {  # (arm, pytest's outcome of the test) -> verdict
    (Arm.CLAIM, "incomplete"): Verdict.NOT_RUN,
    (Arm.CONTROL, "incomplete"): Verdict.NOT_RUN,
    (Arm.CLAIM, "passed"): Verdict.SUPPORTED,
    (Arm.CLAIM, "xfailed"): Verdict.NOT_REPRODUCED,
    (Arm.CLAIM, "failed"): Verdict.FAILED,
    (Arm.CONTROL, "passed"): Verdict.NOT_SUPPORTED_AS_EXPECTED,
    (Arm.CONTROL, "failed"): Verdict.FAILED_CONTROL,
    (Arm.CLAIM, INCONCLUSIVE): Verdict.INCONCLUSIVE_AT_SMOKE,
    (Arm.CONTROL, INCONCLUSIVE): Verdict.INCONCLUSIVE_AT_SMOKE,
}
PASSING = frozenset({Verdict.SUPPORTED, Verdict.NOT_SUPPORTED_AS_EXPECTED, Verdict.NOT_REPRODUCED})


def skip_outcome(reason: str) -> str:
    """The outcome of an arm that pytest skipped with `reason`: INCONCLUSIVE for a check undecided at smoke
    (the reason `inconclusive_reason` wrote), "skipped" for any other skip."""
    return INCONCLUSIVE if reason.startswith(INCONCLUSIVE_REASON + ":") else "skipped"


def inconclusive_reason(checks: list[str]) -> str:
    """The skip reason of an arm whose checks (each `'name' ... would need ~N seeds`) ended INCONCLUSIVE at smoke
    and none of whose checks failed."""
    return f"{INCONCLUSIVE_REASON}: {'; '.join(checks)}; run at standard for a verdict"


def verdict(arm: str, outcome: str, message: str = "") -> str:
    """The verdict of an arm whose test had pytest's `outcome` ("passed", "xfailed", ..., INCONCLUSIVE, or
    "incomplete" while it runs) with `message` (a skip's reason; "crashed: ..." for a crashed xdist worker)."""
    if outcome == "skipped" and skip_outcome(message) == INCONCLUSIVE:
        outcome = INCONCLUSIVE
    if outcome == "skipped":
        return skipped(message)
    if outcome == "failed" and message.startswith("crashed"):
        return Verdict.FAILED_CRASHED
    return _BY_OUTCOME.get((arm, outcome), outcome.upper())


def skipped(reason: str) -> str:
    return f"{Verdict.SKIPPED} ({reason})"


def is_passing(verdict: str) -> bool:
    """The arm did what it expects: its claim SUPPORTED, its control not, or its strict xfail still failing."""
    return verdict in PASSING


def is_skipped(verdict: str) -> bool:
    return verdict.startswith(Verdict.SKIPPED)


def is_inconclusive(verdict: str) -> bool:
    """An arm with a check undecided at smoke: reported, neither passing nor failing the run."""
    return verdict == Verdict.INCONCLUSIVE_AT_SMOKE


def is_failed(verdict: str) -> bool:
    """A FAILED verdict (the claim, the control or a crash)."""
    return verdict.startswith(Verdict.FAILED)


def fails_the_run(verdict: str) -> bool:
    """An arm that makes a merge or a stability sweep fail: neither passing nor skipped nor inconclusive at
    smoke (a failure, a test that did not finish, an unexpected pass)."""
    return not is_passing(verdict) and not is_skipped(verdict) and not is_inconclusive(verdict)
