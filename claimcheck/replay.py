"""Replay a report's sequential checks under the engine's current statistics.

`python -m claimcheck.replay reports/claims.json` reads the per-seed values that a report recorded for each
sequential check over seeds (claims.json keeps the values of every look up to the deciding one), decides the
check again with the current helper of the same kind (claimcheck.stats: greater_than, paired_greater,
non_inferior, equivalent, rate_over_seeds) on the same schedule, and prints per check: the recorded outcome and
seeds, the outcome the current engine gives on the recorded seeds, and, when it needs more seeds than were
recorded, an estimate by continuing the sequence with bootstrap draws of the recorded seeds (the chance of the
expected verdict and the seeds it would use). It measures nothing and trains nothing: it says which checks a
change of the statistics would flip or make longer, before a full run does.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path

import numpy as np

from claimcheck import sequential, stats
from claimcheck.seeds import derive
from claimcheck.verdicts import Outcome, meets

BOOTSTRAPS = 400


@dataclasses.dataclass
class Replay:
    claim: str
    arm: str
    name: str
    kind: str                 # the helper that re-decides it
    expected: bool            # the arm expects SUPPORTED
    old_outcome: str
    old_seeds: int
    old_pass_rate: float | None
    recorded: int             # seeds with recorded values
    looks: tuple[int, ...]
    new_outcome: str | None   # on the recorded seeds; None when it needs more
    new_seeds: int | None
    p_expected: float         # chance of the expected verdict (1 or 0 when decided on recorded seeds)
    mean_seeds: float         # expected seeds used (bootstrap continuation when undecided)
    new_pass_rate: float      # bootstrap replays of the recorded seeds, as on the card
    family: str = ""
    xfail: bool = False       # the arm is a strict xfail: its claim is expected not to reproduce

    @property
    def change(self) -> str:
        passes = self.new_outcome is not None and meets(self.new_outcome, self.expected)
        old_passes = meets(self.old_outcome, self.expected)
        if self.xfail and not old_passes:
            return "xfail arm: still fails" if self.p_expected < 0.5 else "xfail arm: would now PASS"
        if self.new_outcome is not None and not passes:
            return "FLIPS"
        if self.new_outcome is None:
            return "needs more seeds"
        if self.new_seeds > self.old_seeds:
            return "more seeds"
        return "fewer seeds" if self.new_seeds < self.old_seeds else "same seeds"


def kind_of(check: dict) -> str | None:
    """The helper of a recorded check, from its test's name (old and current wording)."""
    test = check.get("test", "")
    if "TOST" in test:
        return "equivalent"
    if "non-inferiority" in test:
        return "non_inferior"
    if "binomial test over seeds" in test:
        return "rate_over_seeds"
    if "paired" in test or "a - b" in test:
        return "paired_greater"
    if "one-sample" in test or "values - reference" in test:
        return "greater_than"
    return None


def _centre(x: np.ndarray, effect_name: str) -> float:
    return float(np.median(x)) if effect_name.startswith("median") else float(np.mean(x))


def helper_for(check: dict, kind: str):
    """(rows, test): the recorded per-seed rows and a function of row indices giving the current helper's result."""
    values, alpha, name = check["values"], check["alpha"], check["name"]
    if kind == "rate_over_seeds":
        flags = np.asarray(values["holds"]) > 0.5
        design = float(re.search(r"design rate ([0-9.eE+-]+)", check["detail"]).group(1))
        return len(flags), lambda i: stats.rate_over_seeds(
            list(flags[i]), min_rate=check["min_effect"], design_rate=design, alpha=alpha, name=name)
    if kind in ("paired_greater", "non_inferior"):
        a, b = (np.asarray(v, float) for v in list(values.values())[:2])
        if kind == "non_inferior":
            return len(a), lambda i: stats.non_inferior(a[i], b[i], margin=-check["min_effect"], alpha=alpha,
                                                        name=name)
        return len(a), lambda i: stats.paired_greater(a[i], b[i], min_effect=check["min_effect"], alpha=alpha,
                                                      name=name)
    x = np.asarray(next(iter(values.values())), float)
    if kind == "equivalent":     # effect = centre(x) - reference
        reference = _centre(x, check["effect_name"]) - check["effect"]
        return len(x), lambda i: stats.equivalent(x[i], reference=reference, margin=check["min_effect"], alpha=alpha,
                                                  name=name)
    reference = _centre(x, check["effect_name"]) - check["effect"] if check["effect_name"].startswith("median") \
        else float(np.mean(x) - check["effect"])   # effect = centre(x - reference)
    return len(x), lambda i: stats.greater_than(x[i], reference=reference, min_effect=check["min_effect"],
                                                alpha=alpha, name=name)


def replay_check(claim: str, arm: str, check: dict, first: int, rng_seed: int, floors: dict[str, int] | None = None,
                 xfail: bool = False) -> Replay | None:
    kind = kind_of(check)
    if kind is None or "looks" not in check or not check.get("values"):
        return None
    rows, test_on = helper_for(check, kind)
    if all(look.get("p_futility") is None for look in check["looks"]):   # the claim switched futility off
        test_on = _without_futility(test_on)
    recorded_first = check["looks"][0]["n"]
    floor = (floors or {}).get(check.get("family", ""), recorded_first if recorded_first > first else 0)
    schedule = sequential.Schedule.for_run(first, floor=floor)
    if floors is None and schedule.looks[0] != recorded_first:
        raise ValueError(f"{claim} {arm} {check['name']!r}: schedule {schedule.looks} does not start at "
                         f"{recorded_first}")
    expected = bool(check["expected"])
    def passes(outcome: str) -> bool:
        return meets(outcome, expected)
    outcome = seeds = None
    index = np.arange(rows)
    got = _decide_prefix(lambda n: test_on(index[:n]), schedule, rows)
    if got is not None:
        outcome, seeds = got
        p_expected, mean_seeds = float(passes(outcome)), float(seeds)
    else:   # continue the sequence with bootstrap draws of the recorded seeds
        rng = np.random.default_rng(rng_seed)
        wins, used = 0, []
        for _ in range(BOOTSTRAPS):
            extra = rng.integers(0, rows, size=schedule.max_seeds - rows)
            idx = np.concatenate([index, extra])
            decision = sequential.decide(lambda n, idx=idx: test_on(idx[:n]), schedule)
            wins += passes(decision.outcome)
            used.append(decision.n)
        p_expected, mean_seeds = wins / BOOTSTRAPS, float(np.mean(used))
    if check.get("null_by_construction"):
        pass_rate = sequential.null_pass_rate(test_on(index), schedule)
    else:
        pass_rate = sequential.replay_pass_rate(test_on, rows, schedule, passes, seed=rng_seed)
    return Replay(claim, arm, check["name"], kind, expected, check["outcome"], check["seeds_used"],
                  check.get("pass_rate"), rows, schedule.looks, outcome, seeds, p_expected, mean_seeds, pass_rate,
                  check.get("family", ""), xfail)


def pooled_pass_rate(records: list[dict], first: int, rng_seed: int) -> float | None:
    """The estimated chance that a check passes under a new seed base, from its recorded per-seed values pooled
    over several runs (the stability sweep's bases, each an independent sample of seeds): the bootstrap replay
    of `replay_pass_rate` on all of them together. One run's own replay resamples its 10-25 seeds, so a run
    whose seeds happened to sit near the threshold reads low and one whose seeds sat far reads high; pooling
    the bases measures the same thing with several times the seeds. None when the check cannot be replayed."""
    kinds = {kind_of(r) for r in records}
    if len(kinds) != 1 or None in kinds or any("looks" not in r or not r.get("values") for r in records):
        return None
    first_record, kind = records[0], kinds.pop()
    if first_record.get("null_by_construction"):
        return float(np.mean([r["pass_rate"] for r in records if r.get("pass_rate") is not None]))
    merged = dict(first_record)
    keys = list(first_record["values"])
    merged["values"] = {k: [v for r in records for v in r["values"][k]] for k in keys}
    if kind in ("equivalent", "greater_than"):   # helper_for reads the reference as centre - effect: keep the first's
        name, column = first_record["effect_name"], keys[0]
        reference = _centre(np.asarray(first_record["values"][column], float), name) - first_record["effect"]
        merged["effect"] = _centre(np.asarray(merged["values"][column], float), name) - reference
    rows, test_on = helper_for(merged, kind)
    if all(look.get("p_futility") is None for look in first_record["looks"]):
        test_on = _without_futility(test_on)
    recorded_first = first_record["looks"][0]["n"]
    schedule = sequential.Schedule.for_run(first, floor=recorded_first if recorded_first > first else 0)
    expected = bool(first_record["expected"])
    return sequential.replay_pass_rate(test_on, rows, schedule, lambda outcome: meets(outcome, expected),
                                       seed=rng_seed)


def _without_futility(test_on):
    def test(index):
        result = test_on(index)
        result.p_futility = None
        return result
    return test


def _decide_prefix(test, schedule: sequential.Schedule, rows: int) -> tuple[str, int] | None:
    """The decision on the first `rows` seeds, or None when no look up to `rows` decides and a later look exists."""
    for k, n in enumerate(schedule.looks):
        if n > rows:
            return None
        result = test(n)
        if result.p_value < schedule.level_at(k, result.alpha, result.count_null):
            return Outcome.SUPPORTED, n
        if result.p_futility is not None and result.p_futility < schedule.beta_at(k):
            return Outcome.NOT_SUPPORTED, n
    return Outcome.INCONCLUSIVE, schedule.looks[-1]


def replay_report(report: dict, floors: dict[str, int] | None = None, first: int | None = None) -> list[Replay]:
    """Every sequential check of the report, replayed; `floors` (family -> floor) replaces the recorded first
    looks, to see what a new floor buys (bootstrap continuation beyond the recorded seeds); `first` replays
    on another scale's first look (e.g. 3, smoke's) with the recorded values, a rough guide only: another scale
    trains other models."""
    if first is not None and floors is None:
        floors = {check.get("family", ""): _floor_of(check, int(report["run"]["seeds"]))
                  for claim in report["claims"] for runs in claim["arms"].values() for run in runs
                  for check in run.get("checks", []) if "looks" in check}
    first = int(report["run"]["seeds"]) if first is None else first
    base = int(report["run"].get("seed_base", 0))
    out = []
    for claim in report["claims"]:
        for arm, runs in claim["arms"].items():
            for run in runs:
                for check in run.get("checks", []):
                    if floors is not None and check.get("family") not in floors:
                        continue
                    got = replay_check(claim["id"], arm, check, first, derive(base, claim["id"], arm, check["name"]),
                                       floors, xfail=run.get("outcome") == "xfailed")
                    if got is not None:
                        out.append(got)
    return out


def _floor_of(check: dict, first: int) -> int:
    """The family floor a recorded check ran with (its first look, when above the run's first)."""
    n = check["looks"][0]["n"]
    return n if n > first else 0


def markdown(rows: list[Replay]) -> str:
    lines = ["| claim | arm | check | helper | expects | recorded | replayed | P(expected) | seeds (mean) | pass rate "
             "before -> after | change |", "|" + "---|" * 11]
    for r in rows:
        replayed = f"{r.new_outcome} @ {r.new_seeds}" if r.new_outcome else f"undecided @ {r.recorded}"
        before = "-" if r.old_pass_rate is None else f"{r.old_pass_rate:.2f}"
        lines.append(f"| {r.claim} | {r.arm} | {r.name[:70]} | {r.kind} | {'S' if r.expected else 'not S'} | "
                     f"{r.old_outcome} @ {r.old_seeds} | {replayed} | {r.p_expected:.2f} | "
                     f"{r.old_seeds} -> {r.mean_seeds:.1f} | {before} -> {r.new_pass_rate:.2f} | {r.change} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="a claims.json")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--floor", action="append", default=[], metavar="FAMILY=N",
                        help="replay only this seed family's checks with this floor (repeatable)")
    parser.add_argument("--first", type=int, help="replay with this first look (another scale's seeds; rough)")
    args = parser.parse_args(argv)
    floors = {f.rsplit("=", 1)[0]: int(f.rsplit("=", 1)[1]) for f in args.floor} or None
    report = json.loads(args.report.read_text())
    rows = replay_report(report, floors, args.first)
    print(markdown(rows))
    if args.json:
        args.json.write_text(json.dumps([dataclasses.asdict(r) | {"change": r.change} for r in rows], indent=1))
    flips = sum(r.change == "FLIPS" for r in rows)
    print(f"\n{len(rows)} checks replayed: {flips} flip, "
          f"{sum(r.change == 'needs more seeds' for r in rows)} need more seeds than recorded, "
          f"{sum(r.change == 'more seeds' for r in rows)} decide later on the recorded seeds", file=sys.stderr)
    return 1 if flips else 0


if __name__ == "__main__":
    raise SystemExit(main())
