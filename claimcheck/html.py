"""claims.html: the report as one self-contained page (figures embedded), rendered with Jinja2.

The template (templates/claims.html.j2) autoescapes everything; this module only prepares the view:
outcome counts, badges, sort keys, the cells the Markdown cards also show, per-seed values and figures
as base64 data. The page's few lines of script filter and sort; without script it reads the same, unfiltered.
"""
from __future__ import annotations

import base64
import functools
import math
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from claimcheck.cards import (
    as_number,
    card_anchor,
    effect_text,
    estimand_text,
    exact_rate_lines,
    floor_lines,
    flops_text,
    outcome_text,
    p_text,
    seeds_text,
    shown_message,
    unsupported_verdict,
    verdict_banner,
)
from claimcheck.report import SMOKE_GREEN_NOTE, inconclusive_skips
from claimcheck.stats import fmt
from claimcheck.verdicts import Arm, Verdict, expected_text, is_failed, is_skipped

# An arm's outcome on the page: css class -> (label in the counts, badge text), in the order the page counts
# them. `other` is a verdict outside these (e.g. a non-strict XPASSED).
OUTCOMES = {"ok": (Verdict.SUPPORTED, "SUPPORTED"),
            "expected": (Verdict.NOT_SUPPORTED_AS_EXPECTED, "not supported (expected)"),
            "xfail": (Verdict.NOT_REPRODUCED, "NOT REPRODUCED"),
            "bad": (Verdict.FAILED, "FAILED"),
            "inconclusive": (Verdict.INCONCLUSIVE_AT_SMOKE, "INCONCLUSIVE at smoke"),
            "skip": (Verdict.SKIPPED, "SKIPPED"), "notrun": ("NOT RUN", "NOT RUN"),
            "other": ("other", None)}
ALWAYS_COUNTED = ("ok", "expected", "xfail", "bad", "skip")   # shown even at 0: "0 FAILED" is news too
AT_SMOKE_COUNTED = ("inconclusive",)   # shown even at 0 in a run whose undecided checks are skips (smoke)
SEVERITY = ("bad", "other", "notrun", "inconclusive", "skip", "xfail", "expected", "ok")   # worst first


@functools.cache
def _environment() -> Environment:
    """One Jinja2 environment per process: it keeps the compiled template (compiling it takes ~0.1 s, more than
    rendering a report), and recompiles it if the file changes."""
    return Environment(loader=PackageLoader("claimcheck", "templates"), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True)


def render_html(doc: dict, report_dir: Path) -> str:
    claims = [_record_view(rec, report_dir) for rec in doc["claims"]]
    smoke = inconclusive_skips(doc["run"])
    counts = outcome_counts(claims, ALWAYS_COUNTED + (AT_SMOKE_COUNTED if smoke else ()))
    template = _environment().get_template("claims.html.j2")
    return template.render(run=doc["run"], claims=claims, counts=counts, sections=_sections(claims),
                           green_note=SMOKE_GREEN_NOTE if smoke else "",
                           counted_flops=any(rec["flops"] is not None for rec in claims))


def outcome_class(verdict: str) -> str:
    """The css class (and filter value) of a verdict."""
    exact = {Verdict.SUPPORTED: "ok", Verdict.NOT_SUPPORTED_AS_EXPECTED: "expected", Verdict.NOT_REPRODUCED: "xfail",
             Verdict.NOT_RUN: "notrun", Verdict.INCONCLUSIVE_AT_SMOKE: "inconclusive"}
    if verdict in exact:
        return exact[verdict]
    return "bad" if is_failed(verdict) else "skip" if is_skipped(verdict) else "other"


def outcome_counts(claims: list[dict], always: tuple[str, ...] = ALWAYS_COUNTED) -> list[tuple[str, str, int]]:
    """(css, label, number of arms) per outcome, in OUTCOMES' order; an outcome no arm has is left out
    unless it is one of `always`."""
    found = [arm["css"] for rec in claims for group in rec["arms"].values() for arm in group]
    return [(css, label, found.count(css)) for css, (label, _) in OUTCOMES.items()
            if css in always or css in found]


def _sections(claims: list[dict]) -> list[tuple[str, int]]:
    """(section, number of claims), in catalogue order."""
    counts: dict[str, int] = {}
    for rec in claims:
        counts[rec["section"]] = counts.get(rec["section"], 0) + 1
    return list(counts.items())


def _record_view(rec: dict, report_dir: Path) -> dict:
    anchor = card_anchor(rec)
    arms = {name: [_arm_view(arm, report_dir, f"{anchor}-{name}" + (f"-{i + 1}" if len(group) > 1 else ""))
                   for i, arm in enumerate(group)] for name, group in rec["arms"].items()}
    every = [arm for group in arms.values() for arm in group]
    rates = [arm["pass_rate"] for arm in every if arm.get("pass_rate") is not None]
    not_supported = unsupported_verdict(rec)
    return {**rec, "anchor": anchor, "arms": arms, "not_supported": not_supported,
            "banner": verdict_banner(not_supported) if not_supported else "",
            "section": rec["id"].split(".")[0], "id_key": _id_key(rec["id"]),
            "outcomes": " ".join(sorted({arm["css"] for arm in every})),
            "wall_s": sum(arm.get("wall_s") or 0.0 for arm in every),
            "flops": (sum(arm.get("flops") or 0 for arm in every)
                      if any(arm.get("flops") is not None for arm in every) else None),
            "pass_rate": math.prod(rates) if rates else None,
            "claim_rank": _rank(arms.get(Arm.CLAIM, [])), "control_rank": _rank(arms.get(Arm.CONTROL, []))}


def _id_key(claim_id: str) -> str:
    """A string that sorts ids in catalogue order (2.3 before 2.10)."""
    return ".".join(f"{int(part):06d}" if part.isdigit() else part for part in claim_id.split("."))


def _rank(arms: list[dict]) -> int:
    """The worst outcome of a verdict cell as a sort key (worst first; an empty cell last)."""
    return min((SEVERITY.index(arm["css"]) for arm in arms), default=len(SEVERITY))


def _arm_view(arm: dict, report_dir: Path, anchor: str) -> dict:
    css = outcome_class(arm["verdict"])
    short = OUTCOMES[css][1] or arm["verdict"].split(" (")[0]
    checks = [{**c, "estimand_text": estimand_text(c), "effect_text": effect_text(c), "p_text": p_text(c),
               "seeds_text": seeds_text(c), "outcome_text": outcome_text(c),
               "expected_text": expected_text(bool(c.get("expected")))} for c in arm.get("checks", [])]
    per_seed = [(c["name"], key, ", ".join(fmt(as_number(x)) for x in values))
                for c in arm.get("checks", []) for key, values in c.get("values", {}).items() if len(values) > 1]
    figures = []
    for fig in arm.get("figures", []):
        path = report_dir / fig
        if path.is_file():
            figures.append({"name": Path(fig).name, "data": base64.b64encode(path.read_bytes()).decode()})
    sentence = arm["test"].split("::")[-1].split("[")[0].removeprefix("test_").replace("_", " ")
    message = shown_message(arm)
    failure = arm.get("failure", "")
    return {**arm, "css": css, "short": short, "sentence": sentence, "checks": checks, "per_seed": per_seed,
            "figure_data": figures, "anchor": anchor, "flops_text": flops_text(arm),
            "pass_rate": arm.get("pass_rate"), "meta_lines": exact_rate_lines(arm) + floor_lines(arm),
            "tables": arm.get("tables", []), "notes": arm.get("notes", []),
            "message": message, "failure": failure if failure.strip() != message.strip() else ""}
