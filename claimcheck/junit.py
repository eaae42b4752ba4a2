"""The properties `--junitxml` gets for a claim test: the few a dashboard reads, never the whole payload.

The session attaches them to the teardown report, whose user_properties junitxml writes.
"""
from __future__ import annotations

import pytest

from claimcheck.report import outcome_of, primary_check
from claimcheck.verdicts import verdict

junit_key = pytest.StashKey[list]()   # a claim test's properties, from its call report to its teardown report


def junit_properties(payload: dict, report) -> list[tuple[str, str]]:
    """claim_id, arm, outcome (the verdict: "INCONCLUSIVE at smoke" for an arm junit counts as skipped) and the
    primary check's outcome, key effect, p, seeds used and, for a check undecided at smoke, the seeds it would
    need."""
    outcome, message = outcome_of(report)
    check = primary_check(payload) or {}
    props = [("claim_id", payload["claim_id"]), ("arm", payload["arm"]),
             ("outcome", verdict(payload["arm"], outcome, message))]
    if check.get("outcome"):
        props.append(("check_outcome", check["outcome"]))
    if check.get("key"):
        props.append(("key_effect", " ".join(check["key"].split())))
    if check.get("p_value") is not None:
        props.append(("p", f"{check['p_value']:.4g}"))
    if check.get("seeds_used"):
        props.append(("seeds_used", str(check["seeds_used"])))
    if check.get("undecided_at_smoke") and check.get("seeds_needed"):
        props.append(("seeds_needed", str(check["seeds_needed"])))
    return [(name, str(value)) for name, value in props]   # plain strings: xdist sends them to the controller
