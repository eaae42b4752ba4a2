"""Evidence: what one claim test measured, checked and drew, recorded for the report.

A claim test asks for the `evidence` fixture, measures, and hands each verdict to `evidence.check`,
which records it and asserts the outcome its arm expects: the claim arm must be supported, the
negative control (same measurement and assertion where the effect is absent) must not be.
"""
from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from claimcheck.seeds import claim_seeds
from claimcheck.stats import StatResult

ARMS = ("claim", "control")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ID = re.compile(r"^[1-9]\.[1-9]$")


@dataclasses.dataclass(frozen=True)
class Card:
    """The report card text of one catalogue item."""

    id: str          # catalogue id, e.g. "2.3"
    title: str       # the claim as a short sentence
    question: str    # what the exercise asks
    answer: str      # the answer the suite gives
    method: str      # how it is measured and asserted
    control: str = ""  # the negative control, in words

    def __post_init__(self):
        if not _ID.match(self.id):
            raise ValueError(f"claim id must look like '2.3', got {self.id!r}")

    @property
    def section(self) -> str:
        return self.id.split(".")[0]


def claim(card: Card, *, control: bool = True, xfail_claim: str | None = None):
    """Mark a test as the claim `card.id` and parametrize it over the claim arm and its control.

    xfail_claim: the measured reason why the claim does not reproduce at this scale; the claim
    arm then becomes a strict xfail (it must keep failing, and the report still shows the numbers).
    """
    arms = []
    for arm in (ARMS if control else ARMS[:1]):
        marks = [pytest.mark.xfail(strict=True, reason=xfail_claim)] if (arm == "claim" and xfail_claim) else []
        arms.append(pytest.param(arm, marks=marks, id=arm))

    def decorate(fn):
        fn = pytest.mark.parametrize("arm", arms)(fn)
        return pytest.mark.claim(card.id, card=card)(fn)
    return decorate


class Evidence:
    """The record of one claim test (one arm)."""

    def __init__(self, card: Card, arm: str, run, figures_dir: Path,
                 figure_cache: Callable[[str, Callable[[], bytes]], bytes] | None = None):
        self.card = card
        self.arm = arm
        self.run = run
        self.profile = run.profile
        self.seeds = claim_seeds(run.seed_base, card.id, run.seeds)
        self.many_seeds = claim_seeds(run.seed_base, card.id, max(run.seeds, run.profile.many_seeds))
        self.checks: list[dict] = []
        self.figures: list[str] = []
        self.tables: list[dict] = []
        self.notes: list[str] = []
        self.measurements: dict[str, object] = {}
        self._figures_dir = figures_dir
        self._figure_cache = figure_cache  # (figure id, render) -> PNG bytes, rendered once per code version

    def seeds_at_least(self, minimum: int) -> list[int]:
        """The claim's seeds, extended from the same derived sequence to `minimum` when the scale gives
        fewer: for claims whose power needs a floor of seeds at every scale (seed i is always the same)."""
        return claim_seeds(self.run.seed_base, self.card.id, max(self.run.seeds, minimum))

    @property
    def is_control(self) -> bool:
        return self.arm == "control"

    def check(self, result: StatResult, *, expect: bool | None = None) -> StatResult:
        """Record `result` and assert it: supported in the claim arm, not supported in the control.

        expect=True/False overrides the arm's expectation for facts that hold in both arms
        (e.g. a structural property, or a sanity check that the control's model trained).
        """
        expected = (self.arm == "claim") if expect is None else expect
        self.checks.append({**result.to_json(), "expected": expected, "key": result.key_number()})
        if result.supported != expected:
            want = "supported" if expected else "NOT supported"
            raise AssertionError(f"[{self.card.id} {self.arm}] expected {want}\n{result.describe()}")
        return result

    def save_figure(self, fig, name: str) -> Path:
        """Save a matplotlib figure into the report's figures folder, close it and check the PNG.

        With a figure cache (every claim test has one) the PNG is rendered once and reused while the
        code, the run and the library versions are unchanged: the figure is a function of the
        measurements, which are cached under the same conditions.
        """
        import matplotlib.pyplot as plt

        def render() -> bytes:
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
            return buffer.getvalue()

        self._figures_dir.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")
        path = self._figures_dir / f"{self.card.id.replace('.', '_')}_{self.arm}_{slug}.png"
        try:
            png = self._figure_cache(f"{self.card.id}:{self.arm}:{slug}", render) if self._figure_cache else render()
        finally:
            plt.close(fig)
        assert png.startswith(PNG_SIGNATURE), f"{path.name} did not render as a PNG"
        path.write_bytes(png)
        self.figures.append(f"figures/{path.name}")
        return path

    def table(self, title: str, header: list[str], rows: list[list[object]]) -> None:
        self.tables.append({"title": title, "header": list(header), "rows": [list(map(_cell, r)) for r in rows]})

    def note(self, text: str) -> None:
        self.notes.append(text)

    def measure(self, name: str, value) -> None:
        """Keep a raw measurement (per-seed list, curve, ...) in claims.json."""
        self.measurements[name] = value

    def to_json(self) -> dict:
        from claimcheck.stats import _jsonable

        return _jsonable({"claim_id": self.card.id, "arm": self.arm, "seeds": self.seeds,
                          "checks": self.checks, "figures": self.figures, "tables": self.tables,
                          "notes": self.notes, "measurements": self.measurements})


def _cell(value) -> object:
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value if isinstance(value, (int, str, bool)) or value is None else str(value)
