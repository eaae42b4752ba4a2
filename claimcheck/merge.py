"""Merge the claims.json of several shards (pytest-split groups) into one report.

    python -m claimcheck.merge reports-1/claims.json reports-2/claims.json --out reports

The merged document has the same claims, arms, checks and estimated pass rates as a single run of the
whole suite; figures are copied next to it. Shards must share the scale, seeds and seed base.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from claimcheck.cards import render_overview
from claimcheck.report import finalize, summary_lines, write_documents

SAME_ACROSS_SHARDS = ("scale", "profile", "seeds", "seed_base", "device", "git_commit", "versions")
PASSING = ("SUPPORTED", "not supported (as expected)", "NOT REPRODUCED (strict xfail)")


def merge(documents: list[dict]) -> dict:
    """One document from shard documents of the same run; ValueError (with the reason) otherwise."""
    if not documents:
        raise ValueError("nothing to merge")
    for i, doc in enumerate(documents):
        if not isinstance(doc, dict) or not isinstance(doc.get("run"), dict) or not isinstance(doc.get("claims"), list):
            raise ValueError(f"shard {i + 1} is not a claims.json document (needs 'run' and 'claims')")
    first = documents[0]["run"]
    for doc in documents[1:]:
        for key in SAME_ACROSS_SHARDS:
            if doc["run"].get(key) != first.get(key):
                raise ValueError(f"shards differ in {key}: {first.get(key)!r} vs {doc['run'].get(key)!r}")
    claims: dict[str, dict] = {}
    seen: set[str] = set()
    for doc in documents:
        for rec in doc["claims"]:
            target = claims.setdefault(rec["id"], {**rec, "arms": {}})
            for arm_name, arms in rec["arms"].items():
                for arm in arms:
                    if arm["test"] in seen:
                        raise ValueError(f"{arm['test']} appears in more than one shard")
                    seen.add(arm["test"])
                target["arms"].setdefault(arm_name, []).extend(arms)
    meta = {**first, "wall_s": round(sum(d["run"]["wall_s"] for d in documents), 2),
            "shards": len(documents)}
    meta.pop("reference_s", None), meta.pop("wall_ratio", None)
    references = [d["run"].get("reference_s") for d in documents]
    if all(references):   # shards on machines of different speed: each shard's time in its own reference units
        meta["reference_s"] = round(sum(references) / len(references), 3)
        meta["wall_ratio"] = round(sum(d["run"]["wall_s"] / d["run"]["reference_s"] for d in documents), 2)
    return finalize(list(claims.values()), meta)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m claimcheck.merge", description=__doc__.split("\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, help="claims.json of each shard")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default: reports)")
    parser.add_argument("--summary", type=Path, default=None,
                        help="also append the overview table (Markdown) to this file, e.g. $GITHUB_STEP_SUMMARY")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.reports if not p.is_file()]
    if missing:
        parser.error(f"reports: no such file: {', '.join(missing)}")
    try:
        documents = [json.loads(p.read_text()) for p in args.reports]
        doc = merge(documents)
    except (ValueError, KeyError, TypeError) as error:  # json.JSONDecodeError is a ValueError
        print(f"python -m claimcheck.merge: error: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    for path in args.reports:
        figures = path.parent / "figures"
        if figures.is_dir() and path.parent.resolve() != args.out.resolve():
            shutil.copytree(figures, args.out / "figures", dirs_exist_ok=True)
    for line in summary_lines(doc):
        print(line)
    for path in write_documents(doc, args.out):
        print(f"report: {path}")
    if args.summary is not None:
        with args.summary.open("a") as summary:
            summary.write("\n".join(render_overview(doc)) + "\n")
    verdicts = [arm["verdict"] for rec in doc["claims"] for arms in rec["arms"].values() for arm in arms]
    failed = [v for v in verdicts if v not in PASSING and not v.startswith("SKIPPED")]
    print(f"merged {len(documents)} shards: {len(verdicts)} claim arms, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
