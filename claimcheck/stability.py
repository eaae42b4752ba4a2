"""The stability sweep: the suite (or a selection) under several seed bases, sharing one cache.

    python -m claimcheck.stability --bases 5 -- -n 2 -k section3

runs `pytest --claims-seed B --claims-report OUT/base-B <pytest args>` for each base B (the default
base first, then 1, 2, ...), and writes OUT/stability.md and OUT/stability.json (OUT defaults to
reports/stability): per claim arm, the verdict under each base, the seeds its checks used, the
smallest margin to a decision boundary (log10 of threshold / p; negative: on the wrong side) and the
estimated pass rate from the per-seed values of every base pooled (each base is an independent sample of
seeds; one run's own estimate resamples only its own 10-25), with the run-level product of those rates.
A verdict that differs between bases is a flip; an arm INCONCLUSIVE at smoke under a base (a check that ran
out of smoke's seeds: no verdict) is counted apart and is no flip. Exit status: see EXIT_CODES.
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

from claimcheck.config import DEFAULT_SEED_BASE
from claimcheck.files import atomic_write_text
from claimcheck.replay import pooled_pass_rate
from claimcheck.report import GREEN_RATE_OUTCOMES, arm_pass_rate, check_pass_rate
from claimcheck.seeds import derive
from claimcheck.verdicts import fails_the_run, is_inconclusive

EXIT_CODES = """exit status:
  0  every claim arm gave its expected verdict (or was skipped, or inconclusive at smoke) under every base,
     with no flip
  1  an arm flipped between bases or failed under some base (the table is written)
  2  usage error, a base's pytest run that wrote no readable claims.json / claims-partial.json (the
     sweep stops there and writes no table), or a table that cannot be written"""


class SweepError(Exception):
    """A base's run left nothing the table can be built from (exit status 2)."""


def bases_for(count: int) -> list[int]:
    """The default base first, then 1, 2, ...: the same list in every sweep of this size."""
    return [DEFAULT_SEED_BASE, *range(1, count)]


def arm_rows(doc: dict) -> dict[str, dict]:
    """One row per claim arm (keyed by test id) from a claims.json document."""
    rows = {}
    for rec in doc["claims"]:
        for arms in rec["arms"].values():
            for arm in arms:
                checks = arm.get("checks") or []
                margins = [c["margin"] for c in checks if isinstance(c.get("margin"), (int, float))]
                used = [c["seeds_used"] for c in checks if c.get("seeds_used")]
                rows[arm["test"]] = {"id": rec["id"], "verdict": arm["verdict"],
                                     "seeds": max(used) if used else None,
                                     "margin": min(margins) if margins else None,
                                     "pass_rate": arm.get("pass_rate"), "arm": arm}
    return rows


def pooled_arm_rate(id_: str, arms: list[dict], first: int) -> float | None:
    """An arm's estimated chance of passing under a new base from its checks' per-seed values pooled over the
    bases (`replay.pooled_pass_rate`), combined as a run combines them (`report.arm_pass_rate`); a check that
    cannot be pooled keeps the mean of its per-base estimates."""
    by_name: dict[str, list[dict]] = {}
    for arm in arms:
        for check in arm.get("checks") or []:
            by_name.setdefault(check.get("name", ""), []).append(check)
    if not by_name:
        return None
    checks = []
    for name, records in by_name.items():
        rate = pooled_pass_rate(records, first, derive(DEFAULT_SEED_BASE, "pooled", id_, name))
        checks.append({"pass_rate": rate if rate is not None
                       else sum(map(check_pass_rate, records)) / len(records)})
    return arm_pass_rate({"checks": checks, "outcome": arms[0].get("outcome")})


def sweep_table(results: dict[int, dict]) -> dict:
    """Combine per-base claims.json documents into the stability document."""
    bases = list(results)
    tests = sorted({t for doc in results.values() for t in arm_rows(doc)})
    per_base = {b: arm_rows(doc) for b, doc in results.items()}
    first = int(next(iter(results.values()))["run"].get("seeds") or 5)
    rows, pooled_rates = [], []
    for test in tests:
        cells = {b: per_base[b].get(test) for b in bases}
        verdicts = {c["verdict"] if c else "missing" for c in cells.values()}
        decided = {v for v in verdicts if not is_inconclusive(v)}
        margins = [c["margin"] for c in cells.values() if c and c["margin"] is not None]
        rows.append({"test": test, "id": next(c["id"] for c in cells.values() if c),
                     "verdicts": {str(b): (c["verdict"] if c else "missing") for b, c in cells.items()},
                     "seeds": {str(b): (c["seeds"] if c else None) for b, c in cells.items()},
                     "smallest_margin": min(margins) if margins else None,
                     "flip": len(decided) > 1,
                     "inconclusive": len(decided) < len(verdicts),
                     "failed": any(map(fails_the_run, verdicts))})
        decided = [c["arm"] for c in cells.values() if c and c["arm"].get("outcome") in GREEN_RATE_OUTCOMES]
        rate = pooled_arm_rate(rows[-1]["id"], decided, first) if decided else None
        rows[-1]["pooled_pass_rate"] = rate
        if rate is not None:
            pooled_rates.append(rate)
    return {"bases": bases, "arms": rows, "flips": sum(r["flip"] for r in rows),
            "failed_arms": sum(r["failed"] for r in rows),
            "inconclusive_arms": sum(r["inconclusive"] for r in rows),
            "green_rate": {str(b): doc["run"].get("green_rate") for b, doc in results.items()},
            "pooled_green_rate": math.prod(pooled_rates) if pooled_rates else None}


def render(table: dict) -> str:
    bases = table["bases"]
    per_base = ", ".join(f"{b}: {_rate(table['green_rate'].get(str(b)))}" for b in bases)
    out = ["# Stability sweep", "",
           f"Seed bases: {', '.join(map(str, bases))}. Arms: {len(table['arms'])}; flips: {table['flips']}; "
           f"arms failed under some base: {table['failed_arms']}"
           + (f"; arms inconclusive at smoke under some base (no verdict, not a failure): "
              f"{table['inconclusive_arms']} ({inconclusive_ids(table)})" if table.get("inconclusive_arms") else "")
           + ".", "",
           f"Estimated chance that a run under a new base is green, from every base's seeds pooled: "
           f"{_rate(table.get('pooled_green_rate'))}; each run's own estimate (its seeds only): {per_base}.", "",
           "Margin: the smallest log10(threshold / p) over the arm's checks and bases (> 0: inside the "
           "boundary that decided; the larger, the safer). Seeds: the most seeds any check of the arm used. "
           "Pooled: the arm's estimated pass rate from its per-seed values pooled over the bases.", "",
           "| arm | " + " | ".join(f"base {b}" for b in bases) + " | seeds | margin | pooled | flip |",
           "|---|" + "---|" * (len(bases) + 4)]
    for row in table["arms"]:
        name = row["test"].split("::")[-1]
        seeds = "/".join("-" if row["seeds"][str(b)] is None else str(row["seeds"][str(b)]) for b in bases)
        margin = "-" if row["smallest_margin"] is None else f"{row['smallest_margin']:.2f}"
        pooled, flip = _rate(row.get("pooled_pass_rate")), "FLIP" if row["flip"] else ""
        out.append(f"| {row['id']} {name} | " + " | ".join(row["verdicts"][str(b)] for b in bases)
                   + f" | {seeds} | {margin} | {pooled} | {flip} |")
    return "\n".join(out) + "\n"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def inconclusive_ids(table: dict) -> str:
    """The arms inconclusive at smoke under some base, as `4.5 claim, 3.5 claim`."""
    return ", ".join(f"{row['id']} {row['test'].rsplit('[', 1)[-1].rstrip(']')}"
                     for row in table["arms"] if row.get("inconclusive"))


def base_report(report: Path) -> dict:
    """The newest of claims.json and claims-partial.json in a base's report folder (a selection writes the
    partial one), checked as far as the table reads it; SweepError otherwise."""
    from claimcheck.merge import document_problem

    found = [p for p in (report / "claims.json", report / "claims-partial.json") if p.is_file()]
    if not found:
        raise SweepError(f"wrote no report ({report / 'claims.json'})")
    path = max(found, key=lambda p: p.stat().st_mtime)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:   # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise SweepError(f"{path}: unreadable ({type(error).__name__}: {str(error)[:120]})") from None
    problem = document_problem(doc)
    if problem:
        raise SweepError(f"{path}: {problem}")
    return doc


def build_parser() -> argparse.ArgumentParser:
    # Installed as the console script `claims-stability` (pyproject), otherwise run with -m.
    prog = "claims-stability" if Path(sys.argv[0]).name == "claims-stability" else "python -m claimcheck.stability"
    return argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0], epilog=EXIT_CODES,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def main(argv: list[str] | None = None) -> int:
    """The command: 0 when every arm held under every base, 1 on a flip or failure, 2 for a usage error or a
    base without a readable report."""
    parser = build_parser()
    parser.add_argument("--bases", type=int, default=5, help="number of seed bases (default: 5)")
    parser.add_argument("--out", type=Path, default=Path("reports/stability"),
                        help="output folder (default: reports/stability)")
    parser.add_argument("pytest_args", nargs="*", help="arguments for pytest, after --")
    args = parser.parse_args(argv)
    if args.bases < 2:
        parser.error(f"--bases: invalid value {args.bases}; expected an integer >= 2")
    forbidden = [a for a in args.pytest_args if a.startswith(("--claims-seed=", "--claims-report"))
                 or a == "--claims-seed"]
    if forbidden:
        parser.error(f"pytest args: {forbidden[0]} is set by the sweep for each base")
    results = {}
    for base in bases_for(args.bases):
        report = args.out / f"base-{base}"
        cmd = [sys.executable, "-m", "pytest", f"--claims-seed={base}", f"--claims-report={report}",
               *args.pytest_args]
        print(f"stability: {' '.join(cmd[2:])}", flush=True)
        subprocess.run(cmd, check=False)
        try:
            results[base] = base_report(report)
        except SweepError as error:
            print(f"{parser.prog}: error: base {base}: {error}", file=sys.stderr)
            return 2
    table = sweep_table(results)
    try:
        atomic_write_text(args.out / "stability.json", json.dumps(table, indent=1))
        atomic_write_text(args.out / "stability.md", render(table))
    except OSError as error:
        print(f"{parser.prog}: error: cannot write the table in {args.out} ({error.strerror or error})",
              file=sys.stderr)
        return 2
    print(render(table))
    print(f"stability: {args.out / 'stability.md'}")
    return 0 if table["flips"] == 0 and table["failed_arms"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
