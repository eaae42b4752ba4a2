"""The README's table of claims is the cards' own list: every claim, in order, with its card's title."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

from claimcheck.evidence import Card

ROOT = Path(__file__).resolve().parents[1]


def card_titles() -> dict[str, str]:
    titles = {}
    for path in sorted(ROOT.glob("claims/section*/test_*.py")):
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        titles.update({c.id: c.title for c in vars(module).values() if isinstance(c, Card)})
    return titles


def test_the_readme_table_lists_every_claim_with_its_card_title():
    rows = re.findall(r"^\| (\d\.\d) \| (.+) \|$", (ROOT / "README.md").read_text(), flags=re.MULTILINE)
    titles = card_titles()
    assert [i for i, _ in rows] == sorted(titles, key=lambda i: tuple(map(int, i.split(".")))), \
        "the README's table must list every claim id once, in order"
    assert {i: t for i, t in rows} == titles
