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
    `SKIPPED (<reason>)` (`skipped`); an outcome with no verdict of its own is its name in capitals."""

    SUPPORTED = "SUPPORTED"                                  # the claim arm passed
    NOT_SUPPORTED_AS_EXPECTED = "not supported (as expected)"   # the control arm passed
    NOT_REPRODUCED = "NOT REPRODUCED (strict xfail)"         # a claim arm that must keep failing did
    FAILED = "FAILED"                                        # the claim arm failed (every failed verdict starts so)
    FAILED_CONTROL = "FAILED (control)"
    FAILED_CRASHED = "FAILED (crashed)"                      # its xdist worker crashed
    NOT_RUN = "NOT RUN (interrupted)"
    SKIPPED = "SKIPPED"                                      # the word a skipped arm's verdict starts with


_BY_OUTCOME = {  # (arm, pytest's outcome of the test) -> verdict
    (Arm.CLAIM, "incomplete"): Verdict.NOT_RUN,
    (Arm.CONTROL, "incomplete"): Verdict.NOT_RUN,
    (Arm.CLAIM, "passed"): Verdict.SUPPORTED,
    (Arm.CLAIM, "xfailed"): Verdict.NOT_REPRODUCED,
    (Arm.CLAIM, "failed"): Verdict.FAILED,
    (Arm.CONTROL, "passed"): Verdict.NOT_SUPPORTED_AS_EXPECTED,
    (Arm.CONTROL, "failed"): Verdict.FAILED_CONTROL,
}
PASSING = frozenset({Verdict.SUPPORTED, Verdict.NOT_SUPPORTED_AS_EXPECTED, Verdict.NOT_REPRODUCED})


def verdict(arm: str, outcome: str, message: str = "") -> str:
    """The verdict of an arm whose test had pytest's `outcome` ("passed", "xfailed", ..., or "incomplete"
    while it runs) with `message` (a skip's reason; "crashed: ..." for a crashed xdist worker)."""
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


def is_failed(verdict: str) -> bool:
    """A FAILED verdict (the claim, the control or a crash)."""
    return verdict.startswith(Verdict.FAILED)


def fails_the_run(verdict: str) -> bool:
    """An arm that makes a merge or a stability sweep fail: neither passing nor skipped (a failure, a test
    that did not finish, an unexpected pass)."""
    return not is_passing(verdict) and not is_skipped(verdict)
