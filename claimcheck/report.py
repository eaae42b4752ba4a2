"""The report: gathers claim payloads from test reports and renders them; it never recomputes.

Writes reports/claims.json (every per-seed value, test, alpha, effect, CI, versions) and
reports/claims.md (a card per claim), and returns the terminal summary lines.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import platform
import re
import subprocess
from pathlib import Path

from claimcheck.files import atomic_write_text
from claimcheck.identity import package_versions
from claimcheck.stats import fmt
from claimcheck.verdicts import (
    INCONCLUSIVE,
    Outcome,
    Verdict,
    is_failed,
    is_inconclusive,
    is_skipped,
    meets,
    skip_outcome,
    verdict,
)

PAYLOAD_KEY = "dl_claims_payload"
# Figure folders in the report folder. A test cannot know whether its run will be complete (an interrupt
# says so only at the end), so it writes its figures to PENDING_FIGURES; the report then moves them to
# FIGURES beside claims.* or, for a partial run, to PARTIAL_FIGURES beside claims-partial.*, leaving the
# figures the complete report shows as they were.
FIGURES, PARTIAL_FIGURES, PENDING_FIGURES = "figures", "figures-partial", ".figures-pending"
BENCHMARK_ONLY_SKIP = "Skipping non-benchmark"  # pytest-benchmark's reason under --benchmark-only
ENGINE_PACKAGES = ("pytest", "numpy", "scipy")  # the report also lists the ini's claims_packages


def absorb(entries: dict[str, dict], report) -> None:
    """Fold one phase report of a claim test into `entries` (keyed by test node id)."""
    payload = next((json.loads(v) for k, v in report.user_properties if k == PAYLOAD_KEY), None)
    entry = entries.get(report.nodeid)
    if payload is None and entry is None:
        return
    if entry is None:
        entry = entries[report.nodeid] = {"test": report.nodeid, "wall_s": 0.0}
    entry["wall_s"] += report.duration
    if payload is not None:
        entry.update(payload)
        entry["outcome"], entry["message"] = outcome_of(report)
        if report.when == "setup" and report.passed:
            entry["outcome"] = "incomplete"  # until the call phase reports (never, when interrupted)
        if entry["outcome"] in ("failed", "xfailed"):
            entry["failure"] = failure_text(report)
        if entry["outcome"] == "skipped" and entry["message"].startswith(BENCHMARK_ONLY_SKIP):
            del entries[report.nodeid]  # the benchmark pass reports only what it measured
    elif report.failed:  # e.g. an xdist worker that crashed while running the test
        entry["outcome"], entry["message"] = "failed", "crashed: " + _message(report)
        entry["failure"] = failure_text(report)
        entry.setdefault("crashes", []).append(entry["message"])  # kept when xdist reruns the test


def outcome_of(report) -> tuple[str, str]:
    if hasattr(report, "wasxfail"):
        return ("xfailed" if report.skipped else "xpassed"), report.wasxfail
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        return skip_outcome(reason), reason   # "skipped", or INCONCLUSIVE for a check undecided at smoke
    return ("passed" if report.passed else "failed"), ("" if report.passed else _message(report))


def _message(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    return (crash.message if crash is not None else str(report.longrepr))[:2000]


FAILURE_TEXT_LIMIT = 50_000   # characters: a generated counterexample can be long; a traceback rarely is


ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")   # in the default repr of an object: `<Zoo object at 0x7f...>`


def failure_text(report) -> str:
    """What pytest printed for the failure (traceback, assertion and message): the report shows it folded.
    Memory addresses are left out, so that the same failure reads the same in every run (a merge of shards
    equals a single run)."""
    text = ADDRESS.sub("", str(report.longrepr or ""))
    if len(text) > FAILURE_TEXT_LIMIT:
        more = len(text) - FAILURE_TEXT_LIMIT
        text = text[:FAILURE_TEXT_LIMIT] + f"\n... ({more} more characters in pytest's output)"
    return text


def _versions(packages) -> dict[str, str]:
    names = list(dict.fromkeys((*ENGINE_PACKAGES, *packages)))
    return {"python": platform.python_version(), "platform": platform.platform(), **package_versions(names)}


def _git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _claim_key(claim_id: str) -> list:
    """Natural order: 2.3 before 2.10, numbers before words."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[.\s]+", claim_id)]


def build(entries: dict[str, dict], run, wall_s: float, root: Path) -> dict:
    """The claims.json document: run metadata, then one record per claim with its arms."""
    claims: dict[str, dict] = {}
    for entry in entries.values():
        if "card" not in entry:
            continue
        record = claims.setdefault(entry["claim_id"], {**entry["card"], "arms": {}})
        arm = {k: v for k, v in entry.items() if k not in ("card", "claim_id")}
        arm["verdict"] = verdict(entry["arm"], entry.get("outcome", "failed"), entry.get("message", ""))
        record["arms"].setdefault(entry["arm"], []).append(arm)
    meta = {"title": run.title, "scale": run.scale, "profile": run.profile.__dict__, "seeds": run.seeds,
            "seed_base": run.seed_base, "device": run.device,
            "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_s": round(wall_s, 2), "versions": _versions(run.packages), "git_commit": _git_commit(root)}
    if run.shard is not None:
        meta["shard"] = {"group": run.shard[0], "groups": run.shard[1]}
    if run.reference_s:
        meta["reference_s"] = round(run.reference_s, 3)
        meta["wall_ratio"] = round(wall_s / run.reference_s, 2)
    return finalize(list(claims.values()), meta)


ERROR_RATE_RULE = ("Within a claim arm every check must hold (an intersection-union test: no correction "
                   "needed); each check is decided at its own alpha, on sequential seeds with alpha spent over the "
                   "looks (exactly, on the count's binomial walk, for the sign tests of the median seed and the tests "
                   "of rates over seeds; by the union bound for any other test). No suite-wide correction is "
                   "applied.")


GREEN_RATE_OUTCOMES = ("passed", "failed", "xfailed", "xpassed", INCONCLUSIVE)   # the arms a green rate counts


def finalize(claims: list[dict], meta: dict) -> dict:
    """Order claims and arms canonically and add each arm's estimated pass rate and the run's.

    Used for a single run and for merging shard reports, so both give the same document.
    """
    for rec in claims:
        for arms in rec["arms"].values():
            arms.sort(key=lambda a: a["test"])
            for arm in arms:
                arm["pass_rate"] = arm_pass_rate(arm)
        rec["arms"] = {name: rec["arms"][name] for name in sorted(rec["arms"])}
    ordered = sorted(claims, key=lambda r: _claim_key(r["id"]))
    rates = [arm["pass_rate"] for rec in ordered for arms in rec["arms"].values() for arm in arms
             if arm.get("outcome") in GREEN_RATE_OUTCOMES and arm["pass_rate"] is not None]
    green = float(math.prod(rates)) if rates else None
    note = ("estimated chance that a full run under another seed base passes every claim test: the product of "
            "the arms' estimated pass rates (bootstrap replays of their per-seed values; checks treated as "
            "independent)")
    meta = {**meta, "error_rate_rule": ERROR_RATE_RULE, "green_rate": green,
            "green_rate_note": note + (f". {SMOKE_GREEN_NOTE}" if inconclusive_skips(meta) else "")}
    return {"run": meta, "claims": ordered}


# What the green rate means where an undecided check is a skip (smoke), for every place that shows the rate.
SMOKE_GREEN_NOTE = ("At smoke an arm whose check runs out of seeds undecided is INCONCLUSIVE at smoke, a skip that "
                    "does not fail the run; the estimate still counts such a check as not passing (every arm "
                    "deciding as expected), a lower bound on the chance of a smoke run without failures. A "
                    "verdict needs standard scale.")


def inconclusive_skips(run: dict) -> bool:
    """Whether the run's scale reports an undecided check as INCONCLUSIVE at smoke, not as a failure."""
    return bool((run.get("profile") or {}).get("inconclusive_skips"))


def arm_pass_rate(arm: dict) -> float | None:
    """The estimated chance that the arm passes again under another seed base: the product of its
    sequential checks' replay pass rates (1 for deterministic checks), or for a strict xfail the chance
    that not all of them hold; None without checks."""
    checks = arm.get("checks") or []
    if not checks:
        return None
    all_hold = float(math.prod(check_pass_rate(c) for c in checks))
    # a strict xfail passes again as long as some check still fails (at smoke also when one is undecided)
    strict_xfail = arm.get("xfail") is not None or arm.get("outcome") in ("xfailed", "xpassed")
    return 1.0 - all_hold if strict_xfail else all_hold


def check_pass_rate(check: dict) -> float:
    """A sequential check's replayed pass rate; a deterministic one (no replays) does again what it did now:
    1 when it met its expectation, 0 when it did not (e.g. the failing check of a strict xfail)."""
    if check.get("pass_rate") is not None:
        return float(check["pass_rate"])
    if check.get("expected") is None or check.get("outcome") is None:
        return 1.0
    return 1.0 if meets(check["outcome"], bool(check["expected"])) else 0.0


def primary_check(arm: dict) -> dict | None:
    """The check that decided the arm: the first whose outcome differs from what the arm expected (one
    undecided at smoke only when no other does), else the first with a p-value, else the first."""
    checks = arm.get("checks", [])
    wrong = sorted((c for c in checks if not meets(c.get("outcome"), c.get("expected", True))),
                   key=lambda c: bool(c.get("undecided_at_smoke")))
    return next(iter(wrong), next((c for c in checks if c.get("p_value") is not None), checks[0] if checks else None))


SHORT_VERDICTS = {Verdict.NOT_SUPPORTED_AS_EXPECTED: "not supported (expected)",
                  Verdict.NOT_REPRODUCED: "NOT REPRODUCED (xfail)"}
SUMMARY_WIDTH = 120   # the widest summary line: a CI log has no width to fill, and a wider line reads no better
VERDICT_COLUMN = 24   # "not supported (expected)"
NUMBER = re.compile(r"-?(\d[\d.]*(e[-+]?\d+)?|inf|nan)", re.IGNORECASE)


def summary_lines(doc: dict, width: int | None = None) -> list[str]:
    """One line per claim arm within `width` (the terminal's; at most SUMMARY_WIDTH, which is also used
    when the width is unknown), then a count line and the estimated chance of a green run, wrapped past
    SUMMARY_WIDTH (a narrower terminal wraps a sentence itself, not a table row).

    An arm's line holds id, arm, verdict, key number, p and seeds, wall time and cache use; the sentence
    (the test's, or for a failed arm the deciding check's name) fills what room is left. A line that is
    still too long shortens the key number's name (keeping its value), then a verdict's reason."""
    width = min(width or SUMMARY_WIDTH, SUMMARY_WIDTH)
    lines = [arm_line(rec["id"], arm_name, arm, width)
             for rec in doc["claims"] for arm_name, arms in rec["arms"].items() for arm in arms]
    lines += wrap(count_line(doc), SUMMARY_WIDTH, sep=" / ")
    if doc["run"].get("wall_ratio") is not None:
        lines += wrap(reference_line(doc["run"]), SUMMARY_WIDTH)
    green = doc["run"].get("green_rate")
    if green is not None:
        lines += wrap(f"estimated chance that a run under another seed base is green: {green:.3f}"
                      + (" (at smoke a lower bound: see the report)"
                         if inconclusive_skips(doc["run"]) else ""), SUMMARY_WIDTH)
    return lines


def arm_line(claim_id: str, arm_name: str, arm: dict, width: int) -> str:
    """`2.3 claim   SUPPORTED   <key number> p=... n=5/25 41.2s built | <sentence>`, within `width`."""
    check = primary_check(arm)
    verdict_text, sentence = _verdict_and_sentence(arm, check)
    key = " ".join((check["key"] if check else "-").split())
    p = f"p={fmt(check['p_value'])}" if check and check.get("p_value") is not None else "p=-"
    if check and check.get("max_seeds"):
        p += f" n={check['seeds_used']}/{check['max_seeds']}"
    head, tail = f"{claim_id:>4} {arm_name:<7} ", f" {p} {arm['wall_s']:.1f}s {_cache_use(arm)}".rstrip()

    def over() -> int:
        return len(head) + max(len(verdict_text), VERDICT_COLUMN) + 1 + len(key) + len(tail) - width
    if over() > 0:
        key = shorten_key(key, len(key) - over())
    if over() > 0:
        verdict_text = shorten_reason(verdict_text, len(verdict_text) - over())
    line = f"{head}{verdict_text:<{VERDICT_COLUMN}} {key}{tail}"
    room = width - len(line) - 3
    if room >= 12:
        line += " | " + (sentence if len(sentence) <= room else sentence[:room - 3] + "...")
    return line if len(line) <= width else line[:width - 3] + "..."


def _verdict_and_sentence(arm: dict, check: dict | None) -> tuple[str, str]:
    """The verdict as the summary shows it, and the sentence after it: the test's name in words, or for a
    failed arm the deciding check's outcome and name."""
    verdict_text = SHORT_VERDICTS.get(arm["verdict"], arm["verdict"])
    sentence = arm["test"].split("::")[-1].split("[")[0].removeprefix("test_").replace("_", " ")
    if check and is_failed(arm["verdict"]) and check.get("outcome"):
        if arm["verdict"] != Verdict.FAILED_CRASHED:
            verdict_text = f"{Verdict.FAILED} ({check['outcome']})"
        sentence = "check: " + " ".join(check["name"].split())
    elif check and is_inconclusive(arm["verdict"]):
        sentence = "check: " + " ".join(check["name"].split()) + (
            f" (would need ~{check['seeds_needed']} seeds)" if check.get("seeds_needed") else "")
    return verdict_text, sentence


def shorten_key(key: str, room: int) -> str:
    """`key` shortened towards `room` characters: a key number `name=value` loses the end of its name,
    never its value; other text loses its end."""
    if len(key) <= room:
        return key
    name, sep, value = key.rpartition("=")
    if sep and NUMBER.fullmatch(value.strip()):
        keep = max(room - len(value) - 4, 0)
        return name[:keep].rstrip() + "...=" + value
    cut = key[:max(room - 3, 8)] + "..."
    return cut if len(cut) < len(key) else key


def shorten_reason(verdict_text: str, room: int) -> str:
    """A verdict with a long reason, `SKIPPED (no local weights: ...)`, in about `room` characters: the verdict
    word stays whole, the reason is cut; a verdict that fits the summary's verdict column stays as it is."""
    word, paren, reason = verdict_text.partition(" (")
    room = max(room, VERDICT_COLUMN)
    if not paren or len(verdict_text) <= room:
        return verdict_text
    keep = max(room - len(word) - 6, 4)
    return f"{word} ({reason[:keep].rstrip()}...)"


def wrap(text: str, width: int, sep: str = " ") -> list[str]:
    """`text` over lines of `width`, broken only at `sep` (" / " keeps a count line's counts whole), continued
    lines indented; a part longer than a line stays whole."""
    lines = []
    for part in text.split(sep):
        if lines and len(lines[-1]) + len(sep) + len(part) <= width:
            lines[-1] += sep + part
        else:
            if lines:
                lines[-1] += sep.rstrip()
            lines.append(("    " if lines else "") + part)
    return [line.rstrip() for line in lines]


def reference_line(run: dict) -> str:
    return (f"wall time {run['wall_s']:.1f} s = {run['wall_ratio']:.1f} x the reference workload "
            f"({run['reference_s']:.2f} s, measured before the tests)")


def count_line(doc: dict) -> str:
    arms = [arm for rec in doc["claims"] for group in rec["arms"].values() for arm in group]
    verdicts = [arm["verdict"] for arm in arms]
    inconclusive = sum(1 for arm in arms if is_failed(arm["verdict"])
                       and (primary_check(arm) or {}).get("outcome") == Outcome.INCONCLUSIVE)
    undecided = sum(map(is_inconclusive, verdicts))
    smoke = undecided or inconclusive_skips(doc["run"])   # undecided checks are skips, never failures
    counts = (f"{verdicts.count(Verdict.SUPPORTED)} supported",
              f"{verdicts.count(Verdict.NOT_SUPPORTED_AS_EXPECTED)} not supported as expected",
              f"{sum(map(is_failed, verdicts))} failed" + ("" if smoke else f" ({inconclusive} inconclusive)"),
              *([f"{undecided} inconclusive at smoke"] if smoke else []),
              f"{verdicts.count(Verdict.NOT_REPRODUCED)} xfail",
              f"{sum(map(is_skipped, verdicts))} skipped")
    other = len(verdicts) - sum(int(c.split()[0]) for c in counts)
    crashed = sum(1 for arm in arms if arm.get("crashes"))
    return ("claim arms: " + " / ".join(counts) + (f" / {other} other" if other else "")
            + (f" / {crashed} whose worker crashed (see its card)" if crashed else ""))


def _cache_use(arm: dict) -> str:
    """'built' when the test trained or computed something new, 'cached' when it only loaded, '' without
    cache use."""
    cache = arm.get("cache") or {}
    return "built" if cache.get("built") else "cached" if cache.get("loaded") else ""


def write_report(entries: dict[str, dict], run, wall_s: float, root: Path,
                 partial: list[str] = (), width: int | None = None) -> tuple[list[str], list[Path]]:
    """Write the report; a partial run (a selection, -x, an interrupt) writes claims-partial.json/.md/.html
    with its figures in figures-partial/, and leaves the last complete report and its figures in place,
    naming the claims of that report it did not run."""
    doc = build(entries, run, wall_s, root)
    if partial:
        complete = _claim_ids(run.report_dir / "claims.json")
        doc["run"]["partial"] = {"reasons": list(partial),
                                 "not_run": sorted(complete - {r["id"] for r in doc["claims"]}, key=_claim_key)}
    place_figures(doc, run.report_dir, partial=bool(partial))
    lines = summary_lines(doc, width)
    if partial:
        lines += wrap(f"PARTIAL run ({'; '.join(partial)}): the complete report (claims.*) is unchanged",
                      SUMMARY_WIDTH)
    return lines, write_documents(doc, run.report_dir, stem="claims-partial" if partial else "claims")


def place_figures(doc: dict, report_dir: Path, partial: bool) -> None:
    """Move the figures the run's tests drew from the pending folder to the report's figures folder, or for a
    partial run to figures-partial/ (the document's paths with them). A figure not found there keeps its
    folder name (another arm with the same figure moved it already)."""
    folder = PARTIAL_FIGURES if partial else FIGURES
    for rec in doc["claims"]:
        for arms in rec["arms"].values():
            for arm in arms:
                arm["figures"] = [_place(report_dir, Path(figure).name, folder) for figure in arm.get("figures", [])]
    with contextlib.suppress(OSError):   # left when another run is drawing into it at the same time
        (report_dir / PENDING_FIGURES).rmdir()


def _place(report_dir: Path, name: str, folder: str) -> str:
    pending = report_dir / PENDING_FIGURES / name
    if pending.is_file():
        (report_dir / folder).mkdir(exist_ok=True)
        os.replace(pending, report_dir / folder / name)
    return f"{folder}/{name}"


def _claim_ids(path: Path) -> set[str]:
    try:
        return {rec["id"] for rec in json.loads(path.read_text())["claims"]}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def write_documents(doc: dict, report_dir: Path, stem: str = "claims") -> list[Path]:
    from claimcheck.cards import render_markdown
    from claimcheck.html import render_html

    texts = {"json": json.dumps(doc, indent=1), "md": render_markdown(doc), "html": render_html(doc, report_dir)}
    paths = []
    for ext, text in texts.items():   # everything is rendered before the first file is replaced
        paths.append(report_dir / f"{stem}.{ext}")
        atomic_write_text(paths[-1], text)
    return paths
