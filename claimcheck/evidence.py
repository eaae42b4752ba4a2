"""Evidence: what one claim test measured, checked and drew, recorded for the report.

A claim test asks for the `evidence` fixture, measures, and hands each verdict to the evidence,
which records it and asserts the outcome its arm expects: the claim arm must be SUPPORTED, the
negative control (same measurement and assertion where the effect is absent) must not be.

Checks over per-seed values go through one call pair: `evidence.per_seed(values_for, family=...)` says
how to measure a list of seeds, and `evidence.check_over_seeds(per_seed, test)` decides the test on
sequential seeds (claimcheck/sequential.py): the engine owns the loop over seeds and the stopping rule.
Deterministic facts and tests on one fixed model go through `evidence.check`.

In a claim test a failed check fails the test only once the test body has finished: the arm still
records its other checks and draws its figures, which a reader of a failed arm needs most.

At smoke scale (the profile's `inconclusive_skips`) a check that reaches its last look undecided where it
expects SUPPORTED is not a failure: once the body has finished, an arm with such checks and no failed one
ends as a pytest skip whose reason names each check and the seeds it would need ("inconclusive at smoke:
...; run at standard for a verdict"); the report calls it INCONCLUSIVE at smoke. A decided wrong verdict
(a claim NOT SUPPORTED, a control SUPPORTED) and any other error still fail the arm.
"""
from __future__ import annotations

import dataclasses
import functools
import io
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from claimcheck import sequential
from claimcheck.files import atomic_write_bytes
from claimcheck.report import FIGURES, PENDING_FIGURES
from claimcheck.seeds import SeedFamily, derive
from claimcheck.stats import StatResult, jsonable
from claimcheck.verdicts import Arm, Outcome, inconclusive_reason, meets

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What a claim test's body may raise after a failed check, which then gives way to the check's failure:
# any error, and pytest's own outcomes (an earlier failed check decided the test before them).
BODY_EXCEPTIONS = (Exception, pytest.fail.Exception, pytest.skip.Exception, pytest.xfail.Exception)


@dataclasses.dataclass(frozen=True)
class Card:
    """The report card text of one catalogue item."""

    id: str          # catalogue id, e.g. "2.3"
    title: str       # the claim as a short sentence
    question: str    # what the exercise asks
    answer: str      # the answer the suite gives
    method: str      # how it is measured and asserted
    control: str = ""  # the negative control, in words
    budget_s: float | None = None   # cold cost budget: seconds, serial (one process, one thread), standard scale,
                                    # on a 2-core machine of CI's kind; models shared between claims are charged
                                    # to the first claim in the suite's order that builds them (README's table)

    def __post_init__(self):
        if not isinstance(self.id, str) or not self.id or self.id != self.id.strip():
            raise ValueError(f"a claim id is a non-empty string such as '2.3', got {self.id!r}")
        if self.budget_s is not None and not self.budget_s > 0:
            raise ValueError(f"{self.id}: a cost budget is a positive number of seconds, got {self.budget_s!r}")

    @property
    def section(self) -> str:
        return self.id.split(".")[0]


def claim(card: Card, *, control: bool = True, xfail_claim: str | None = None):
    """Mark a test as the claim `card.id` and parametrize it over the claim arm and its control.

    xfail_claim: the measured reason why the claim does not reproduce at this scale; the claim
    arm then becomes a strict xfail (it must keep failing, and the report still shows the numbers).
    """
    arms = []
    for arm in (Arm if control else (Arm.CLAIM,)):
        marks = [pytest.mark.xfail(strict=True, reason=xfail_claim)] if (arm is Arm.CLAIM and xfail_claim) else []
        arms.append(pytest.param(arm, marks=marks, id=arm.value))

    def decorate(fn):
        fn = pytest.mark.parametrize("arm", arms)(_failing_at_the_end(fn))
        return pytest.mark.claim(card.id, card=card)(fn)
    return decorate


def _failing_at_the_end(test: Callable) -> Callable:
    """`test`, run so that its failed checks fail it after its body has run (Evidence.run_test)."""
    @functools.wraps(test)
    def claim_test(*args, **kwargs):
        __tracebackhide__ = True
        evidence = kwargs.get("evidence")
        if isinstance(evidence, Evidence):
            return evidence.run_test(test, *args, **kwargs)
        return test(*args, **kwargs)
    return claim_test


class PerSeed:
    """Per-seed measurements of one seed family, measured lazily look by look.

    values_for(seeds) returns {name: [one value per seed]} for a list of new seeds; it is called once
    per look with the seeds that look adds, the same seeds in every run (so the models trained together
    for a look's seeds share one cache entry, and a warm rerun asks again for what it stored: those
    models, or a `@measurement` of those seeds)."""

    def __init__(self, values_for: Callable[[list[int]], dict[str, list]], family: SeedFamily, base: int,
                 schedule: sequential.Schedule):
        self.values_for, self.family, self.base, self.schedule = values_for, family, base, schedule
        self.seeds: list[int] = []
        self.rows: dict[str, list] = {}

    def upto(self, n: int) -> dict[str, list]:
        """The values of the first n seeds of the family (measuring the missing ones)."""
        if n > len(self.seeds):
            new = self.family.seeds(self.base, n)[len(self.seeds):]
            got = self.values_for(new)
            if not isinstance(got, dict) or not got:
                raise TypeError(f"values_for(seeds) must return {{name: per-seed list}}, got {type(got).__name__}")
            if self.rows and set(got) != set(self.rows):
                raise ValueError(f"values_for returned {sorted(got)}, earlier looks {sorted(self.rows)}")
            for name, values in got.items():
                if len(values) != len(new):
                    raise ValueError(f"values_for returned {len(values)} values of {name!r} for {len(new)} seeds")
                self.rows.setdefault(name, []).extend(values)
            self.seeds.extend(new)
        return {name: values[:n] for name, values in self.rows.items()}

    def used_by(self, *decisions: sequential.Decision) -> tuple[list[int], dict[str, list]]:
        """The seeds and their rows at the deciding look of `decisions` (checks decided on these values): the
        first n of the family, n the most seeds any of them used. What a table or figure beside them shows."""
        if not decisions:
            raise TypeError("used_by needs the decisions whose seeds it returns")
        n = max(d.n for d in decisions)
        return self.seeds[:n], self.upto(n)

    def at(self, index) -> dict[str, list]:
        """The rows at `index` (a resample of measured seeds, for replays)."""
        return {name: [values[i] for i in index] for name, values in self.rows.items()}


class Evidence:
    """The record of one claim test (one arm).

    figures_dir is the report's figures folder (report folder / FIGURES); figures are written beside it,
    in PENDING_FIGURES, until the report places them."""

    def __init__(self, card: Card, arm: Arm | str, run, figures_dir: Path | None,
                 figure_cache: Callable[[str, Callable[[], bytes]], bytes] | None = None):
        self.card = card
        self.arm = Arm(arm)
        self.run = run
        self.profile = run.profile
        self.checks: list[dict] = []
        self.figures: list[str] = []
        self.tables: list[dict] = []
        self.notes: list[str] = []
        self.measurements: dict[str, object] = {}
        self._pending_dir = None if figures_dir is None else Path(figures_dir).parent / PENDING_FIGURES
        self._figure_cache = figure_cache  # (figure id, render) -> PNG bytes, rendered once per code version
        self.families: dict[str, list[int]] = {}  # seed family -> seeds used by this arm
        self.family_floors: dict[str, dict] = {}  # seed family -> its floor at this scale and why (cards show it)
        self._failures: list[AssertionError] | None = None  # a list while run_test runs the test body
        self._undecided: list[str] = []   # checks INCONCLUSIVE at smoke, as the skip reason names them
        self._test_code: types.CodeType | None = None

    def __repr__(self) -> str:
        return f"<Evidence {self.card.id} {self.arm}>"   # as pytest shows the test's arguments on a failure

    def run_test(self, test: Callable, *args, **kwargs):
        """Run the claim test's body with failed checks recorded, not raised, then raise the first with the
        message (and traceback) it would have had: the test fails as before, after it has drawn its
        figures. An exception the body raises after a failed check (code that relied on the check) gives way
        to the check's failure, which chains it."""
        __tracebackhide__ = True
        self._failures, self._test_code, self._undecided = [], test.__code__, []
        try:
            try:
                result = test(*args, **kwargs)
            except BODY_EXCEPTIONS as error:
                if self._failures:
                    raise self._first_failure()   # the body's exception becomes its context
                if self._undecided and isinstance(error, Exception) and hasattr(error, "add_note"):
                    error.add_note(f"(before it, {inconclusive_reason(self._undecided)})")
                raise
            if self._failures:
                raise self._first_failure()
            if self._undecided:   # reported at the test's location (pytest's own marks do the same)
                raise pytest.skip.Exception(inconclusive_reason(self._undecided), _use_item_location=True)
            return result
        finally:
            self._failures = self._test_code = None

    def _first_failure(self) -> AssertionError:
        first, more = self._failures[0], len(self._failures) - 1
        notes = []
        if more:
            notes.append(f"{more} more failed check(s) of this arm: see its report card")
        if self._undecided:
            notes.append(f"{len(self._undecided)} check(s) of this arm inconclusive at smoke")
        if notes:
            first.args = (f"{first.args[0]}\n({'; '.join(notes)})",)
        return first

    def _fail(self, message: str) -> None:
        """Raise a failed check now, or while run_test runs the body keep it, with the traceback a raise here
        would have had, for the end of the test."""
        failure = AssertionError(message)
        if self._failures is None:
            raise failure
        self._failures.append(failure.with_traceback(_traceback_from(sys._getframe(1), self._test_code)))

    def per_seed(self, values_for: Callable[[list[int]], dict[str, list]], *,
                 family: SeedFamily | None = None) -> PerSeed:
        """Per-seed measurements for `check_over_seeds`: `values_for(seeds)` returns {name: [value per seed]}
        for the seeds it is given. The seeds come from `family` (default: the claim's own, named by its
        id); the family's floor, scaled to the profile (ScaleProfile.seed_floor), raises the first look."""
        family = family or SeedFamily(self.card.id)
        floor = self.profile.seed_floor(family.floor)
        if family.floor:
            self.family_floors[family.name] = {"floor": floor, "why": family.why}
        schedule = sequential.Schedule.for_run(self.run.seeds, floor)
        return PerSeed(values_for, family, self.run.seed_base, schedule)

    def check_over_seeds(self, per_seed: PerSeed, test: Callable[[dict[str, list]], StatResult], *,
                         expect: bool | None = None, null_by_construction: str | None = None) -> sequential.Decision:
        """Decide `test` (per-seed values -> StatResult) on sequential seeds, record it and assert it:
        SUPPORTED in the claim arm, anything else in the control (expect=True/False overrides).

        null_by_construction: for a check expected not SUPPORTED whose null holds exactly by the way its values
        are made (why, in a few words: "two replicates of one protocol"), its chance of passing again is the
        count test's exact size (`sequential.null_pass_rate`), not a bootstrap replay of the observed seeds."""
        schedule = per_seed.schedule

        def at_look(n: int) -> StatResult:
            result = test(per_seed.upto(n))
            result.seeds = per_seed.seeds[:n]
            return result
        decision = sequential.decide(at_look, schedule)
        expected = (self.arm is Arm.CLAIM) if expect is None else expect
        if null_by_construction is not None:
            if expected:
                raise ValueError(f"{decision.result.name!r}: only a check expected not SUPPORTED (a control) can "
                                 "declare its null holds by construction")
            pass_rate = sequential.null_pass_rate(decision.result, schedule)
        else:
            pass_rate = sequential.replay_pass_rate(
                lambda index: test(per_seed.at(index)), decision.n, schedule, lambda outcome: meets(outcome, expected),
                seed=derive(self.run.seed_base, self.card.id, self.arm, decision.result.name))
        used = self.families.setdefault(per_seed.family.name, [])
        used[:] = max(used, per_seed.seeds[:decision.n], key=len)
        record = {"outcome": decision.outcome, "family": per_seed.family.name, "seeds_used": decision.n,
                  "max_seeds": decision.max_seeds, "looks": decision.trail, "margin": decision.margin,
                  "seeds_needed": decision.seeds_needed, "pass_rate": pass_rate}
        if null_by_construction is not None:
            record["null_by_construction"] = null_by_construction
        self._record_check(decision.result, expected, record, decision=decision)
        return decision

    def _record_check(self, result: StatResult, expected: bool, record: dict,
                      decision: sequential.Decision | None = None) -> None:
        self.checks.append({**result.to_json(), "expected": expected, "key": result.key_number(), **record})
        if record["outcome"] == Outcome.INCONCLUSIVE and expected and self.profile.inconclusive_skips:
            self._undecided_at_smoke(result, record)
        elif not meets(record["outcome"], expected):
            want = Outcome.SUPPORTED if expected else f"anything but {Outcome.SUPPORTED}"
            trail = ""
            if decision is not None:
                trail = "\n  looks: " + "; ".join(
                    f"n={t['n']} p={t['p']:.3g} (alpha_k {t['alpha_k']:.3g})"
                    + (f" p_fut={t['p_futility']:.3g} (beta_k {t['beta_k']:.3g})"
                       if t["p_futility"] is not None else "")
                    for t in decision.trail)
            self._fail(f"[{self.card.id} {self.arm}] {record['outcome']}, expected {want}\n"
                       f"{result.describe()}{trail}")

    def _undecided_at_smoke(self, result: StatResult, record: dict) -> None:
        """A check expected SUPPORTED that ran out of seeds at smoke: kept for the arm's skip at the end of the
        test body (run_test), or outside a claim test a skip now."""
        self.checks[-1]["undecided_at_smoke"] = True
        needed = record.get("seeds_needed")
        needs = (f"would need ~{needed} seeds" if needed else
                 "no estimate of the seeds it would need (its observed effect is not in the claimed direction)")
        self._undecided.append(f"{' '.join(result.name.split())!r} undecided at {record['seeds_used']} of "
                               f"{record['max_seeds']} seeds, {needs}")
        if self._failures is None:
            pytest.skip(inconclusive_reason(self._undecided[-1:]))

    def check(self, result: StatResult, *, expect: bool | None = None) -> StatResult:
        """Record `result` and assert it: supported in the claim arm, not supported in the control.

        expect=True/False overrides the arm's expectation for facts that hold in both arms
        (e.g. a structural property, or a sanity check that the control's model trained).
        """
        expected = (self.arm is Arm.CLAIM) if expect is None else expect
        margin = None
        if result.p_value is not None and result.alpha:
            margin = sequential.log_margin(result.alpha, result.p_value)
            margin = margin if result.supported else -margin
        outcome = Outcome.SUPPORTED if result.supported else Outcome.NOT_SUPPORTED
        self._record_check(result, expected, {"outcome": outcome, "seeds_used": result.n if result.seeds else None,
                                              "margin": margin})
        return result

    def save_figure(self, fig, name: str, *, cache: bool = True) -> Path:
        """Save a matplotlib figure for the report (pending until the report places it), close it and check
        the PNG; returns where it was written.

        cache=False for a figure of values measured afresh in every run (e.g. timings): a cached PNG
        would show another run's numbers next to this run's table.

        With a figure cache (every claim test has one) the PNG is rendered once and reused while the
        code, the run and the library versions are unchanged: the figure is a function of the
        measurements, which are cached under the same conditions.
        """
        import matplotlib.pyplot as plt

        def render() -> bytes:
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
            return buffer.getvalue()

        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")
        path = self._pending_dir / f"{self.card.id.replace('.', '_')}_{self.arm}_{slug}.png"
        try:
            png = (self._figure_cache(f"{self.card.id}:{self.arm}:{slug}", render)
                   if self._figure_cache and cache else render())
        finally:
            plt.close(fig)
        assert png.startswith(PNG_SIGNATURE), f"{path.name} did not render as a PNG"
        atomic_write_bytes(path, png)
        self.figures.append(f"{FIGURES}/{path.name}")
        return path

    def table(self, title: str, header: list[str], rows: list[list[object]]) -> None:
        self.tables.append({"title": title, "header": list(header), "rows": [list(map(_cell, r)) for r in rows]})

    def note(self, text: str) -> None:
        self.notes.append(text)

    def record_value(self, name: str, value) -> None:
        """Keep a raw value (per-seed list, curve, ...) in claims.json, under the arm's `measurements`."""
        self.measurements[name] = value

    def to_json(self) -> dict:
        seeds = max(self.families.values(), key=len) if self.families else []
        return jsonable({"claim_id": self.card.id, "arm": self.arm, "seeds": seeds, "families": self.families,
                          "family_floors": self.family_floors,
                          "checks": self.checks, "figures": self.figures, "tables": self.tables,
                          "notes": self.notes, "measurements": self.measurements})


def _traceback_from(frame: types.FrameType, test_code: types.CodeType | None) -> types.TracebackType | None:
    """A traceback from the test function's frame down to `frame`, as it stands now (None when `frame` is not
    running inside the test function)."""
    frames = []
    while frame is not None and test_code is not None:
        frames.append(frame)
        if frame.f_code is test_code:
            tb = None
            for f in frames:   # innermost first: each entry's next is the one called from it
                tb = types.TracebackType(tb, f, f.f_lasti, f.f_lineno)
            return tb
        frame = frame.f_back
    return None


def _cell(value) -> object:
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value if isinstance(value, (int, str, bool)) or value is None else str(value)
