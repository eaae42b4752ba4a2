"""claims.html: self-contained, every claim and figure present, text escaped."""
from __future__ import annotations

from html.parser import HTMLParser

from claimcheck.html import render_html
from claimcheck.lazy import LazyModule
from claimcheck.report import finalize

plt = LazyModule("matplotlib.pyplot")  # imported when the test draws, not when it is collected


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.images, self.text, self.links = set(), [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "img":
            self.images.append(attrs["src"])
        if tag in ("link", "script") or (tag == "a" and attrs.get("href", "#").split("#")[0]):
            self.links.append(attrs)

    def handle_data(self, data):
        self.text.append(data)


def arm(test: str, verdict: str, figures=()) -> dict:
    check = {"name": "x <b>beats</b> y", "test": "t-test", "effect": 0.5, "effect_name": "mean(x - y)",
             "min_effect": 0.1, "ci": [0.2, "inf"], "p_value": 1e-4, "alpha": 0.01, "n": 5, "expected": True,
             "outcome": "SUPPORTED", "seeds_used": 5, "max_seeds": 25, "pass_rate": 0.99,
             "looks": [{"n": 5, "p": 1e-4, "alpha_k": 0.001, "p_futility": 0.9, "beta_k": 0.002}],
             "values": {"x": [1.0, 2.0, 3.0]}, "detail": "", "key": "mean(x - y)=0.5"}
    return {"test": test, "verdict": verdict, "outcome": "passed", "wall_s": 1.0, "checks": [check],
            "figures": list(figures), "tables": [{"title": "t", "header": ["a"], "rows": [[1]]}], "notes": []}


def test_every_claim_and_figure_is_in_the_page_and_text_is_escaped(tmp_path):
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
               "arms": {"claim": [arm("t.py::b[claim]", "NOT REPRODUCED (strict xfail)")]}}]
    doc = finalize(claims, {"scale": "smoke", "seeds": 3, "seed_base": 1, "device": "cpu", "wall_s": 2.0,
                            "versions": {"torch": "2", "python": "3.11"}, "git_commit": "abc"})
    page = Collect()
    page.feed(render_html(doc, tmp_path))
    assert {"claim-9-1", "claim-9-2", "overview"} <= page.ids
    assert len(page.images) == 1 and page.images[0].startswith("data:image/png;base64,iVBORw0KGgo")
    assert not page.links, "the page must not load anything from outside"
    text = " ".join(page.text)
    assert "x <b>beats</b> y" in text            # escaped: shown as text, not parsed as a tag
    assert "Verdict: NOT REPRODUCED" in text and "per-seed values" in text
