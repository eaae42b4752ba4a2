"""claims.html: self-contained, every claim and figure present, text escaped, counts, filters and sorting that
need no more than the page, links that lead somewhere, a failed arm's whole failure text."""
from __future__ import annotations

from html.parser import HTMLParser

from claimcheck.html import render_html
from claimcheck.lazy import LazyModule
from claimcheck.report import finalize

plt = LazyModule("matplotlib.pyplot")  # imported when the test draws, not when it is collected


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.images, self.text, self.outside, self.anchors, self.scripts = set(), [], [], [], [], 0
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        self.ids.update([attrs["id"]] if "id" in attrs else [])
        if tag == "img":
            self.images.append(attrs["src"])
        loads = tag == "link" or ("src" in attrs and not attrs["src"].startswith("data:"))
        if loads or (tag == "a" and attrs.get("href", "#").split("#")[0]):
            self.outside.append((tag, attrs))          # anything that loads or leads outside the page
        if tag == "a" and attrs.get("href", "").startswith("#"):
            self.anchors.append(attrs["href"][1:])
        self.scripts += tag == "script"

    def handle_data(self, data):
        self.text.append(data)

    def with_attr(self, name: str, value: str | None = None) -> list[tuple[str, dict]]:
        return [(t, a) for t, a in self.elements if name in a and (value is None or a[name] == value)]


def arm(test: str, verdict: str, figures=(), outcome: str = "passed", **extra) -> dict:
    check = {"name": "x <b>beats</b> y", "test": "sign test", "estimand": "median seed", "effect": 0.5,
             "effect_name": "median(x - y)",
             "min_effect": 0.1, "ci": [0.2, "inf"], "p_value": 1e-4, "alpha": 0.01, "n": 5, "expected": True,
             "outcome": "SUPPORTED", "seeds_used": 5, "max_seeds": 25, "pass_rate": 0.99,
             "looks": [{"n": 5, "p": 1e-4, "alpha_k": 0.001, "p_futility": 0.9, "beta_k": 0.002}],
             "values": {"x": [1.0, 2.0, 3.0]}, "detail": "", "key": "mean(x - y)=0.5"}
    return {"test": test, "verdict": verdict, "outcome": outcome, "wall_s": 1.0, "checks": [check],
            "figures": list(figures), "tables": [{"title": "t", "header": ["a"], "rows": [[1]]}], "notes": [],
            **extra}


FAILURE = "def test_b(arm, evidence):\n>       evidence.check(...)\n" + "E   line\n" * 60 + "E   the last line"


def page(tmp_path) -> Collect:
    (tmp_path / "figures").mkdir()
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    fig.savefig(tmp_path / "figures" / "9_1_claim_curve.png")
    plt.close(fig)
    card = {"question": "q?", "answer": "a.", "method": "m.", "control": "c."}
    claims = [{"id": "9.1", "title": "First", **card,
               "arms": {"claim": [arm("t.py::a[claim]", "SUPPORTED", ["figures/9_1_claim_curve.png"])],
                        "control": [arm("t.py::a[control]", "not supported (as expected)")]}},
              {"id": "9.2", "title": "Second", **card,
               "arms": {"claim": [arm("t.py::b[claim]", "NOT REPRODUCED (strict xfail)", outcome="xfailed"),
                                  arm("t.py::c[claim]", "FAILED", outcome="failed", failure=FAILURE,
                                      message="AssertionError: [9.2 claim] NOT SUPPORTED, expected SUPPORTED")]}},
              {"id": "10.1", "title": "Third", **card,
               "arms": {"claim": [arm("t.py::d[claim]", "SKIPPED (no weights)", outcome="skipped",
                                      message="no weights")]}}]
    doc = finalize(claims, {"scale": "smoke", "seeds": 3, "seed_base": 1, "device": "cpu", "wall_s": 2.0,
                            "versions": {"torch": "2", "python": "3.11"}, "git_commit": "abc"})
    parsed = Collect()
    parsed.feed(render_html(doc, tmp_path))
    return parsed


def test_every_claim_and_figure_is_in_the_page_and_text_is_escaped(tmp_path):
    parsed = page(tmp_path)
    assert {"claim-9-1", "claim-9-2", "claim-10-1", "overview"} <= parsed.ids
    assert len(parsed.images) == 1 and parsed.images[0].startswith("data:image/png;base64,iVBORw0KGgo")
    assert not parsed.outside, "the page must not load anything from outside"
    text = " ".join(parsed.text)
    assert "x <b>beats</b> y" in text            # escaped: shown as text, not parsed as a tag
    assert "Verdict: NOT REPRODUCED" in text and "per-seed values" in text
    assert "median seed" in text                 # each check's row names its estimand


def test_every_link_on_the_page_leads_to_an_element_of_it(tmp_path):
    parsed = page(tmp_path)
    assert set(parsed.anchors) <= parsed.ids
    arm_ids = {"claim-9-1-claim", "claim-9-1-control", "claim-9-2-claim-1", "claim-9-2-claim-2", "claim-10-1-claim"}
    assert arm_ids <= set(parsed.anchors)          # each overview badge links to its arm


def test_the_outcome_counts_head_the_page(tmp_path):
    counts = {}
    parsed = page(tmp_path)
    text = "".join(parsed.text)
    for css, label in (("ok", "SUPPORTED"), ("expected", "not supported (as expected)"),
                       ("xfail", "NOT REPRODUCED (strict xfail)"), ("bad", "FAILED"), ("skip", "SKIPPED")):
        counts[css] = text.index(f"1{label}")      # "<span class=n>1</span>LABEL"
    assert max(counts.values()) < text.index("Overview") and "5 claim arms" in text
    assert [a["data-outcome"] for t, a in parsed.with_attr("data-outcome") if t == "li"] == list(counts)


def test_filters_and_sorting_are_inline_and_hidden_until_the_script_runs(tmp_path):
    parsed = page(tmp_path)
    assert parsed.scripts == 1
    filters = parsed.with_attr("id", "filters")
    assert filters and "hidden" in filters[0][1]     # no dead controls on a page read without script
    sections = [a["value"] for t, a in parsed.elements if t == "option"]
    assert sections == ["", "9", "10"]
    rows = [a for t, a in parsed.elements if t == "tr" and "data-section" in a]
    cards = [a for t, a in parsed.elements if t == "section"]
    assert [(r["data-section"], r["data-outcomes"]) for r in rows] == \
        [(c["data-section"], c["data-outcomes"]) for c in cards] == [("9", "expected ok"), ("9", "bad xfail"),
                                                                      ("10", "skip")]
    assert [a["data-sort"] for t, a in parsed.with_attr("data-sort")] == ["text", "text", "number", "number",
                                                                         "number", "number"]


def test_a_failed_arm_shows_its_message_and_its_whole_failure_text_folded(tmp_path):
    parsed = page(tmp_path)
    text = "".join(parsed.text)
    assert "AssertionError: [9.2 claim] NOT SUPPORTED, expected SUPPORTED" in text
    assert FAILURE in text and "full failure text (63 lines)" in text
    assert [t for t, _ in parsed.elements].count("details") == 1 + 5 + 5   # the failure; per-seed; tables
