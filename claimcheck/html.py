"""claims.html: the report as one self-contained page (figures embedded), rendered with Jinja2.

The template (templates/claims.html.j2) autoescapes everything; this module only prepares the view:
badges, the cells the Markdown cards also show, per-seed values and figures as base64 data.
"""
from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from claimcheck.cards import as_number, effect_text, outcome_text, p_text, seeds_text, unsupported_verdict
from claimcheck.stats import fmt

BADGES = {"SUPPORTED": ("ok", "SUPPORTED"), "not supported (as expected)": ("expected", "not supported (expected)"),
          "NOT REPRODUCED (strict xfail)": ("xfail", "NOT REPRODUCED")}


def render_html(doc: dict, report_dir: Path) -> str:
    env = Environment(loader=PackageLoader("claimcheck", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    claims = [_record_view(rec, report_dir) for rec in doc["claims"]]
    return env.get_template("claims.html.j2").render(run=doc["run"], claims=claims)


def _record_view(rec: dict, report_dir: Path) -> dict:
    arms = {name: [_arm_view(arm, report_dir) for arm in group] for name, group in rec["arms"].items()}
    return {**rec, "anchor": rec["id"].replace(".", "-"), "arms": arms, "not_supported": unsupported_verdict(rec)}


def _arm_view(arm: dict, report_dir: Path) -> dict:
    css, short = BADGES.get(arm["verdict"], ("skip" if arm["verdict"].startswith("SKIPPED") else "bad",
                                             arm["verdict"].split(" (")[0]))
    checks = [{**c, "effect_text": effect_text(c), "p_text": p_text(c), "seeds_text": seeds_text(c),
               "outcome_text": outcome_text(c)} for c in arm.get("checks", [])]
    per_seed = [(c["name"], key, ", ".join(fmt(as_number(x)) for x in values))
                for c in arm.get("checks", []) for key, values in c.get("values", {}).items() if len(values) > 1]
    figures = []
    for fig in arm.get("figures", []):
        path = report_dir / fig
        if path.is_file():
            figures.append({"name": Path(fig).name, "data": base64.b64encode(path.read_bytes()).decode()})
    sentence = arm["test"].split("::")[-1].split("[")[0].removeprefix("test_").replace("_", " ")
    return {**arm, "css": css, "short": short, "sentence": sentence, "checks": checks, "per_seed": per_seed,
            "figure_data": figures,
            "pass_rate": arm.get("pass_rate"), "tables": arm.get("tables", []), "notes": arm.get("notes", []),
            "message": arm.get("message", "")}
