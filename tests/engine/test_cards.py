"""claims.md and the CI job summary: every link leads somewhere."""
from __future__ import annotations

import json
import re

from claimcheck.cards import render_markdown, render_overview
from claimcheck.report import finalize

LINK = re.compile(r"\]\(([^)]*)\)")   # [text](target) and ![alt](target)
CARD = {"question": "q?", "answer": "a.", "method": "m.", "control": "c."}
RUN = {"scale": "smoke", "seeds": 3, "seed_base": 1, "device": "cpu", "wall_s": 2.0, "versions": {"torch": "2"},
       "git_commit": "abc"}


def doc() -> dict:
    arm = {"test": "t.py::a[claim]", "verdict": "SUPPORTED", "outcome": "passed", "wall_s": 1.0, "checks": [],
           "figures": ["figures/9_1_claim_curve.png"]}
    claims = [{"id": "9.1", "title": "A | piped title", **CARD, "arms": {"claim": [arm]}},
              {"id": "9.10", "title": "Second", **CARD, "arms": {"claim": [{**arm, "test": "t.py::b[claim]"}]}}]
    return finalize(claims, RUN)


def test_the_overview_alone_has_no_links():
    text = "\n".join(render_overview(doc()))
    assert not LINK.search(text) and "<a " not in text and "href" not in text
    assert "| 9.1 | A \\| piped title |" in text and "| 9.10 |" in text


def test_every_link_to_a_card_in_claims_md_has_its_anchor():
    text = render_markdown(doc())
    targets = [t for t in LINK.findall(text) if t.startswith("#")]
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', text))
    assert targets == ["#claim-9-1", "#claim-9-10"] and {t[1:] for t in targets} <= anchors


def test_the_merge_job_summary_has_no_links(tmp_path):
    from claimcheck.merge import main

    shard = tmp_path / "shard" / "claims.json"
    shard.parent.mkdir()
    shard.write_text(json.dumps(doc()))
    summary = tmp_path / "step_summary.md"
    assert main([str(shard), "--out", str(tmp_path / "out"), "--summary", str(summary)]) == 0
    text = summary.read_text()
    assert "| 9.1 |" in text and not LINK.search(text) and "<a " not in text


def test_a_failed_arms_failure_text_is_folded_in_a_fence_it_cannot_close():
    failure = "E   assert '```' in text\nE   the end"
    failed = {"test": "t.py::a[claim]", "verdict": "FAILED", "outcome": "failed", "wall_s": 1.0, "checks": [],
              "message": "AssertionError: short", "failure": failure}
    text = render_markdown(finalize([{"id": "9.1", "title": "t", **CARD, "arms": {"claim": [failed]}}], RUN))
    assert "```\nAssertionError: short\n```" in text
    assert f"<details><summary>full failure text</summary>\n\n````\n{failure}\n````\n</details>" in text


def test_each_checks_row_names_its_estimand():
    check = {"name": "x beats y", "test": "sign test", "estimand": "median seed", "effect": 0.5,
             "effect_name": "median(x - y)", "p_value": 1e-3, "alpha": 0.01, "n": 10, "expected": True,
             "outcome": "SUPPORTED", "seeds_used": 10, "max_seeds": 25}
    old = {key: value for key, value in check.items() if key != "estimand"}   # a report from before estimands
    arm = {"test": "t.py::a[claim]", "verdict": "SUPPORTED", "outcome": "passed", "wall_s": 1.0,
           "checks": [check, {**old, "name": "older"}]}
    text = render_markdown(finalize([{"id": "9.1", "title": "T", **CARD, "arms": {"claim": [arm]}}], RUN))
    assert "| check | estimand | test |" in text
    assert "| x beats y | median seed | sign test |" in text and "| older | - | sign test |" in text


def test_a_null_by_construction_is_named_on_the_card():
    from claimcheck.cards import exact_rate_lines
    arm = {"checks": [{"name": "replicate beats", "null_by_construction": "two replicates", "pass_rate": 0.99},
                      {"name": "other", "pass_rate": 0.9}]}
    lines = exact_rate_lines(arm)
    assert len(lines) == 1 and "two replicates" in lines[0] and "0.9900" in lines[0]


def test_a_card_shows_its_cost_in_this_run_beside_its_cold_budget():
    document = doc()
    document["claims"][0]["budget_s"] = 12.5
    document["claims"][0]["arms"]["claim"][0]["cache"] = {"built": 3, "loaded": 1}
    document["claims"][1]["arms"]["claim"][0]["cache"] = {"built": 1, "loaded": 0}
    text = render_markdown(document)
    assert ("**Cost.** 1.0 s in this run (3 cache entries built, 1 loaded); budget 12.5 s cold, serial, at "
            "standard scale") in text
    assert "**Cost.** 1.0 s in this run (1 cache entry built, 0 loaded)." in text   # 9.10 has no budget


def test_a_cost_budget_is_a_positive_number_of_seconds():
    import pytest

    from claimcheck.evidence import Card

    assert Card("9.1", "t", **CARD, budget_s=3).budget_s == 3
    with pytest.raises(ValueError, match="positive number of seconds"):
        Card("9.1", "t", **CARD, budget_s=0)
