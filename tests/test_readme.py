"""The README's table of claims is the cards' own list: every claim, in order, with its card's title."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

from claimcheck.evidence import Card

ROOT = Path(__file__).resolve().parents[1]


def cards() -> dict[str, Card]:
    found = {}
    for path in sorted(ROOT.glob("claims/section*/test_*.py")):
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        found.update({c.id: c for c in vars(module).values() if isinstance(c, Card)})
    return found


def test_the_readme_table_lists_every_claim_with_its_card_title_and_cold_budget():
    rows = re.findall(r"^\| (\d\.\d) \| (.+) \| (\d+) \|$", (ROOT / "README.md").read_text(), flags=re.MULTILINE)
    by_id = cards()
    assert [i for i, _, _ in rows] == sorted(by_id, key=lambda i: tuple(map(int, i.split(".")))), \
        "the README's table must list every claim id once, in order"
    assert {i: t for i, t, _ in rows} == {i: c.title for i, c in by_id.items()}
    assert {i: float(b) for i, _, b in rows} == {i: c.budget_s for i, c in by_id.items()}, \
        "every card has a cold budget (Card.budget_s) and the README's table gives it"
