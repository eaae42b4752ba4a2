"""Markdown rendering of claims.json: an overview table, then one card per claim."""
from __future__ import annotations

import re

from claimcheck.report import SMOKE_GREEN_NOTE, inconclusive_skips
from claimcheck.sequential import LOOK_MULTIPLES
from claimcheck.stats import fmt
from claimcheck.verdicts import INCONCLUSIVE, Arm, Outcome, Verdict, expected_text, is_inconclusive, is_skipped


def render_markdown(doc: dict) -> str:
    out = render_overview(doc, links=True)
    for rec in doc["claims"]:
        out.extend(_card(rec))
    return "\n".join(out) + "\n"


def render_overview(doc: dict, links: bool = False) -> list[str]:
    """The report's head: run line, partial notice, error-rate rule, green estimate and the verdict table.

    links=True makes each id a link to its card below; without the cards (a CI job summary, where a link
    relative to a report file leads nowhere) the overview has no links."""
    run = doc["run"]
    versions = ", ".join(f"{name} {version}" for name, version in run["versions"].items() if name != "platform")
    out = [f"# {run.get('title', 'claimcheck')} report", "",
           f"Scale **{run['scale']}**, sequential seeds ({run['seeds']} at the first look, up to "
           f"{run['seeds'] * LOOK_MULTIPLES[-1]}; a family's floor can raise the first look), "
           f"seed base {run['seed_base']}, "
           f"device {run['device']}, wall time {run['wall_s']} s{_ratio_text(run)}, "
           f"commit {run.get('git_commit') or 'unknown'}.",
           f"Versions: {versions}.", "",
           *_partial_lines(run),
           f"**Error-rate rule.** {run.get('error_rate_rule', '')}", "",
           _green_line(run), "",
           "| id | claim | verdict | control |", "|---|---|---|---|"]
    for rec in doc["claims"]:
        claim = "; ".join(_short(a["verdict"]) for a in rec["arms"].get(Arm.CLAIM, [])) or "-"
        control = "; ".join(_short(a["verdict"]) for a in rec["arms"].get(Arm.CONTROL, [])) or "(none)"
        ref = f"[{rec['id']}](#{card_anchor(rec)})" if links else rec["id"]
        out.append(f"| {ref} | {_cell(rec['title'])} | {claim} | {control} |")
    out.append("")
    return out


def _ratio_text(run: dict) -> str:
    if run.get("wall_ratio") is None:
        return ""
    return f" ({run['wall_ratio']:.1f} x the reference workload of {run['reference_s']:.2f} s)"


def _partial_lines(run: dict) -> list[str]:
    partial = run.get("partial")
    if not partial:
        return []
    not_run = ", ".join(partial["not_run"]) or "none known (no complete report in this folder)"
    return [f"> **PARTIAL RUN** ({'; '.join(partial['reasons'])}). Claims of the last complete report that "
            f"did not run: {not_run}. The complete report (claims.md) is unchanged.", ""]


def _green_line(run: dict) -> str:
    green = run.get("green_rate")
    if green is None:
        return ""
    return (f"**Estimated chance that a run under another seed base is green: {green:.3f}** "
            "(bootstrap replays of every arm's per-seed values, checks treated as independent)."
            + (f" {SMOKE_GREEN_NOTE}" if inconclusive_skips(run) else ""))


def unsupported_verdict(rec: dict) -> str | None:
    """The first claim-arm verdict that is not SUPPORTED (None when every claim arm is supported)."""
    verdicts = [a["verdict"] for a in rec["arms"].get(Arm.CLAIM, []) if a["verdict"] != Verdict.SUPPORTED]
    return _short(verdicts[0]) if verdicts else None


def verdict_banner(verdict: str) -> str:
    """What a card says under a claim verdict that is not SUPPORTED (`unsupported_verdict`)."""
    if is_inconclusive(verdict):
        return ("A check of this claim ran out of smoke's seeds undecided (see the arms below): smoke scale is "
                "for iterating, and this run gives no verdict on it; run at standard scale for one.")
    return ("Not every part of this claim is supported by this run's measurements (see the arms below); the answer "
            "states what the exercise asks and what the measurements show, not a settled result.")


def shown_message(arm: dict) -> str:
    """The message a card shows under an arm's verdict: a failure's, an xfail's or a skip's reason (an
    inconclusive arm's names its undecided checks and the seeds they would need)."""
    return arm.get("message", "") if arm.get("outcome") in ("failed", "xfailed", "skipped", INCONCLUSIVE) else ""


def _short(verdict: str) -> str:
    """The overview shows SKIPPED without its reason (the card has it)."""
    return Verdict.SKIPPED if is_skipped(verdict) else verdict


def card_anchor(rec: dict) -> str:
    """The id of a claim's card, e.g. claim-2-3 (the Markdown and the HTML report share it)."""
    return "claim-" + rec["id"].replace(".", "-")


def _card(rec: dict) -> list[str]:
    out = [f'<a id="{card_anchor(rec)}"></a>', f"## {rec['id']} — {rec['title']}", "",
           f"**Exercise.** {rec['question']}", ""]
    not_supported = unsupported_verdict(rec)
    if not_supported:
        out += [f"> **Verdict: {not_supported}.** {verdict_banner(not_supported)}", ""]
    out += [f"**Answer.** {rec['answer']}", "",
           f"**Method.** {rec['method']}", ""]
    if rec.get("control"):
        out += [f"**Negative control.** {rec['control']}", ""]
    out += cost_lines(rec)
    for arm_name in Arm:
        for arm in rec["arms"].get(arm_name, []):
            out += _arm(arm_name, arm)
    return out


def cost_lines(rec: dict) -> list[str]:
    """The claim's cost in this run (its arms' seconds, models built and loaded) beside its cold budget."""
    arms = [arm for runs in rec["arms"].values() for arm in runs]
    spent = sum(arm.get("wall_s") or 0.0 for arm in arms)
    built = sum((arm.get("cache") or {}).get("built", 0) for arm in arms)
    loaded = sum((arm.get("cache") or {}).get("loaded", 0) for arm in arms)
    entries = "cache entry" if built == 1 else "cache entries"
    text = f"**Cost.** {spent:.1f} s in this run ({built} {entries} built, {loaded} loaded)"
    if rec.get("budget_s"):
        text += (f"; budget {rec['budget_s']:g} s cold, serial, at standard scale on a 2-core machine of CI's "
                 "kind (shared models charged to the first claim that builds them)")
    return [text + ".", ""]


def flops_text(arm: dict) -> str:
    """The floating-point operations a project counted in the arm's call (the `flops` field of
    hookspecs.pytest_claims_arm_fields), in GFLOP; "" when none were counted."""
    flops = arm.get("flops")
    return f", {flops / 1e9:.3g} GFLOP" if isinstance(flops, (int, float)) else ""


def _arm(arm_name: str, arm: dict) -> list[str]:
    cache = arm.get("cache") or {}
    cache_text = (f", cache: {cache.get('loaded', 0)} loaded, {cache.get('built', 0)} built"
                  if any(cache.values()) else "")
    out = [f"### {arm_name}: {arm['verdict']}", "",
           f"`{arm['test']}` — {arm['wall_s']:.1f} s{flops_text(arm)}{cache_text}; seeds {arm.get('seeds', [])}", ""]
    message = shown_message(arm)
    if message:
        out += [*_fenced(message), ""]
    if arm.get("failure") and arm["failure"].strip() != message.strip():
        out += ["<details><summary>full failure text</summary>", "", *_fenced(arm["failure"]), "</details>", ""]
    if arm.get("crashes"):
        out += [f"**Its xdist worker crashed {len(arm['crashes'])} time(s)** before the run that gave this "
                "verdict (pytest counts the crash as a failure):", "", *_fenced("\n".join(arm["crashes"])), ""]
    if arm.get("pass_rate") is not None:
        out += [f"Estimated chance that this arm passes again under another seed base: {arm['pass_rate']:.3f}.", ""]
    meta = exact_rate_lines(arm) + floor_lines(arm)
    out += meta + ([""] if meta else [])
    if arm.get("checks"):
        out += ["| check | estimand | test | effect | p (level) | seeds | outcome | expected |",
                "|---|---|---|---|---|---|---|---|"]
        for c in arm["checks"]:
            out.append(f"| {_cell(c['name'])} | {estimand_text(c)} | {c['test']} | {_cell(effect_text(c))} | "
                       f"{p_text(c)} | "
                       f"{seeds_text(c)} | {outcome_text(c)} | "
                       f"{expected_text(c['expected'])} |")
        out.append("")
        values = [(c["name"], k, v) for c in arm["checks"] for k, v in c.get("values", {}).items() if len(v) > 1]
        if values:
            out += ["<details><summary>per-seed values</summary>", "", "```"]
            out += [f"{name} / {key}: {', '.join(fmt(as_number(x)) for x in v)}" for name, key, v in values]
            out += ["```", "</details>", ""]
    for table in arm.get("tables", []):
        out += [f"**{table['title']}**", "", "| " + " | ".join(table["header"]) + " |",
                "|" + "---|" * len(table["header"])]
        out += ["| " + " | ".join(str(x) for x in row) + " |" for row in table["rows"]]
        out.append("")
    out += [f"- {note}" for note in arm.get("notes", [])]
    out += [f"![{fig}]({fig})" for fig in arm.get("figures", [])]
    out.append("")
    return out


def estimand_text(c: dict) -> str:
    """What the check's verdict is about ("median seed", "rate of seeds", ...; "-" for exact checks and for
    reports written before checks named it)."""
    return c.get("estimand") or "-"


def effect_text(c: dict) -> str:
    """The effect with its minimum and confidence interval, or the check's detail when it has no effect."""
    if c.get("effect") is None:
        return c.get("detail", "")
    text = f"{c['effect_name']} = {fmt(as_number(c['effect']))}"
    if c.get("min_effect") is not None:
        text += f" (min {fmt(as_number(c['min_effect']))})"
    if c.get("ci"):
        text += f"; CI [{fmt(as_number(c['ci'][0]))}, {fmt(as_number(c['ci'][1]))}]"
    return text


def exact_rate_lines(arm: dict) -> list[str]:
    """One sentence per check whose null holds by construction: its chance of passing again is exact (1 minus
    the size of its count test on the looks), not a bootstrap replay."""
    return [f"The null of \u201c{c['name']}\u201d holds by construction ({c['null_by_construction']}): its chance "
            f"of passing again is at least 1 minus its sign test's exact size on these looks, "
            f"{c['pass_rate']:.4f}, not a replay of the observed seeds."
            for c in arm.get("checks", []) if c.get("null_by_construction") and c.get("pass_rate") is not None]


def floor_lines(arm: dict) -> list[str]:
    """One sentence per seed family whose floor raised the first look of the arm's checks, with its reason."""
    return [f"Seed family \u201c{name}\u201d: the first look has at least {f['floor']} seeds"
            + (f" ({f['why']})" if f.get("why") else "") + "."
            for name, f in sorted(arm.get("family_floors", {}).items())]


def p_text(c: dict) -> str:
    if c.get("p_value") is None:
        return "-"
    looks = c.get("looks")
    level = looks[-1]["alpha_k"] if looks else c.get("alpha")
    return fmt(as_number(c["p_value"])) + (f" (α={fmt(level)})" if level is not None else "")


def seeds_text(c: dict) -> str:
    if c.get("max_seeds"):
        return f"{c['seeds_used']} of ≤{c['max_seeds']}"
    return str(c.get("n", "-"))


def outcome_text(c: dict) -> str:
    outcome = c.get("outcome", Outcome.SUPPORTED if c.get("supported") else Outcome.NOT_SUPPORTED)
    if outcome == Outcome.INCONCLUSIVE and c.get("seeds_needed"):
        outcome += f" (about {c['seeds_needed']} seeds would be needed)"
    return outcome


def _fenced(text: str) -> list[str]:
    """`text` as a Markdown code block whose fence no run of backticks inside it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, text, fence]


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def as_number(x):
    return float(x) if isinstance(x, str) else x
