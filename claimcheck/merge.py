"""Merge the claims.json of several shards (the groups of one split run) into one report.

    python -m claimcheck.merge reports-1/claims.json reports-2/claims.json --out reports

The merged document has the same claims, arms, checks and estimated pass rates as a single run of the
whole suite; figures are copied next to it. Shards must share the scale, seeds and seed base. Every shard
document is read and checked (and rendered in memory) before anything is written, so a bad input leaves
the output folder as it was.
"""
from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
import tempfile
from pathlib import Path

from claimcheck.cards import render_overview
from claimcheck.report import finalize, summary_lines, write_documents
from claimcheck.verdicts import fails_the_run

SAME_ACROSS_SHARDS = ("scale", "profile", "seeds", "seed_base", "device", "git_commit", "versions")
EXIT_CODES = """exit status:
  0  every claim arm passed (supported, not supported as expected, strict xfail or skipped) or was
     inconclusive at smoke
  1  a claim arm failed
  2  usage or input error: a missing, unreadable, malformed or partial shard report, shards of
     different runs, an arm in two shards, --expect not met, an output that cannot be written
     (every input is checked before anything is written)"""
NUMBER = (int, float)
# What the merge and the report read from a shard document, by field: the type it must have.
RUN_FIELDS = {"scale": str, "seeds": int, "seed_base": int, "device": str, "wall_s": NUMBER, "versions": dict}
OPTIONAL_RUN_FIELDS = {"reference_s": NUMBER}
RECORD_FIELDS = {"id": str, "title": str, "question": str, "answer": str, "method": str, "arms": dict}
ARM_FIELDS = {"test": str, "verdict": str, "wall_s": NUMBER}


class InputError(ValueError):
    """A shard report or an output path the merge cannot use; the message names it (exit status 2)."""


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
    meta.pop("reference_s", None), meta.pop("wall_ratio", None), meta.pop("shard", None)
    references = [d["run"].get("reference_s") for d in documents]
    if all(references):   # shards on machines of different speed: each shard's time in its own reference units
        meta["reference_s"] = round(sum(references) / len(references), 3)
        meta["wall_ratio"] = round(sum(d["run"]["wall_s"] / d["run"]["reference_s"] for d in documents), 2)
    return finalize(list(claims.values()), meta)


def document_problem(doc) -> str | None:
    """What makes `doc` unusable as a shard's claims.json (None: nothing found), naming the part: the
    merge and the report index into these fields, so a missing one would otherwise end in a traceback."""
    if not isinstance(doc, dict) or not isinstance(doc.get("run"), dict) or not isinstance(doc.get("claims"), list):
        return "not a claims.json document (needs a 'run' object and a 'claims' list)"
    problem = _fields_problem(doc["run"], RUN_FIELDS, "run")
    optional = {k: kind for k, kind in OPTIONAL_RUN_FIELDS.items() if doc["run"].get(k) is not None}
    problem = problem or _fields_problem(doc["run"], optional, "run")
    if problem:
        return problem
    for i, rec in enumerate(doc["claims"]):
        problem = _record_problem(rec, f"claims[{i}]")
        if problem:
            return problem
    return None


def _record_problem(rec, where: str) -> str | None:
    problem = _fields_problem(rec, RECORD_FIELDS, where)
    if problem:
        return problem
    for name, arms in rec["arms"].items():
        if not isinstance(arms, list):
            return f"{where}.arms[{name!r}]: a {type(arms).__name__}, expected a list of arms"
        for j, arm in enumerate(arms):
            problem = _fields_problem(arm, ARM_FIELDS, f"{where}.arms[{name!r}][{j}]")
            if problem:
                return problem
            checks = arm.get("checks", [])
            if not isinstance(checks, list) or not all(isinstance(c, dict) for c in checks):
                return f"{where}.arms[{name!r}][{j}].checks: expected a list of check objects"
    return None


def _fields_problem(obj, fields: dict, where: str) -> str | None:
    if not isinstance(obj, dict):
        return f"{where}: a {type(obj).__name__}, expected an object"
    for field, kind in fields.items():
        if field not in obj:
            return f"{where}: no {field!r}"
        value = obj[field]
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            return f"{where}.{field}: a {type(value).__name__} ({_short(value)}), expected {_kind_name(kind)}"
    return None


def _as_tuple(kind) -> tuple:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind) -> str:
    names = {str: "a string", int: "an integer", float: "a number", dict: "an object", list: "a list"}
    return " or ".join(dict.fromkeys(names[k] for k in _as_tuple(kind)))


def _short(value) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def load_shard(path: Path) -> dict:
    """A shard's claims.json, read and checked as far as the merge and the report use it; InputError otherwise."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror or type(error).__name__})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (invalid UTF-8)") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") \
            from None
    problem = document_problem(doc)
    if problem:
        raise InputError(f"{path}: {problem}")
    if doc["run"].get("partial"):   # its claims would pass for the whole suite's in the merged claims.json
        raise InputError(f"{path}: the report of a partial run (a selection, -x or an interrupt), not a shard's")
    check_renders(doc, str(path), path.parent)
    return doc


def check_renders(doc: dict, name: str, folder: Path) -> None:
    """Render `doc` in memory as the merged report will be, so a field of the wrong shape deep inside (a
    check without its name, a table without its header) is refused before anything is written. A shard is
    rendered with the run fields the merge recomputes (finalize) in place of its own."""
    from claimcheck.cards import render_markdown
    from claimcheck.html import render_html

    try:
        doc = finalize(copy.deepcopy(doc["claims"]), doc["run"])
        summary_lines(doc), render_markdown(doc), render_html(doc, folder), json.dumps(doc)
    except Exception as error:   # whatever a renderer or the template engine raises on this input
        detail = str(error).splitlines()[0][:160] if str(error) else ""
        raise InputError(f"{name}: cannot be rendered as a report ({type(error).__name__}: {detail})") from None


def check_shards(documents: list[dict], paths: list[Path], expected: int) -> None:
    """--expect N: every document is one group of N, and groups 1..N each appear exactly once."""
    groups: dict[int, Path] = {}
    for doc, path in zip(documents, paths):
        shard = doc["run"].get("shard")
        if not isinstance(shard, dict) or not all(type(shard.get(k)) is int for k in ("group", "groups")):
            raise InputError(f"{path}: no shard information in run.shard (not written by a sharded run?)")
        if shard["groups"] != expected:
            raise InputError(f"{path}: shard {shard['group']} of {shard['groups']} groups; --expect {expected}")
        if not 1 <= shard["group"] <= expected:
            raise InputError(f"{path}: shard group {shard['group']} is not within 1..{expected}")
        if shard["group"] in groups:
            raise InputError(f"{path}: shard group {shard['group']} appears twice (also {groups[shard['group']]})")
        groups[shard["group"]] = path
    missing = sorted(set(range(1, expected + 1)) - set(groups))
    if missing:
        raise InputError(f"shard group(s) {', '.join(map(str, missing))} of {expected} missing")


def writable_folder(out: Path) -> None:
    """--out: an existing folder this process can write in, or one it can create."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise InputError(f"--out: cannot write in {out} ({error.strerror or type(error).__name__})") from None


def appendable_file(path: Path) -> None:
    """--summary: a file (created if missing) in an existing folder."""
    if path.is_dir():
        raise InputError(f"--summary: {path} is a folder, not a file")
    if not path.parent.is_dir():
        raise InputError(f"--summary: the folder of {path} does not exist")


def arms_of(doc: dict) -> list[dict]:
    return [arm for rec in doc["claims"] for arms in rec["arms"].values() for arm in arms]


def failed_verdicts(doc: dict) -> list[str]:
    return [arm["verdict"] for arm in arms_of(doc) if fails_the_run(arm["verdict"])]


def write_outputs(doc: dict, paths: list[Path], out: Path, summary: Path | None) -> None:
    """Figures, the three report files and the summary; an OSError on the way is an InputError."""
    try:
        for path in paths:
            figures = path.parent / "figures"
            if figures.is_dir() and path.parent.resolve() != out.resolve():
                shutil.copytree(figures, out / "figures", dirs_exist_ok=True)
        for line in summary_lines(doc):
            print(line)
        for written in write_documents(doc, out):
            print(f"report: {written}")
        if summary is not None:
            with summary.open("a") as handle:
                handle.write("\n".join(render_overview(doc)) + "\n")
    except OSError as error:
        raise InputError(f"cannot write {error.filename or out} ({error.strerror or type(error).__name__})") \
            from None


def build_parser() -> argparse.ArgumentParser:
    # Installed as the console script `claims-merge` (pyproject), otherwise run with -m.
    prog = "claims-merge" if Path(sys.argv[0]).name == "claims-merge" else "python -m claimcheck.merge"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0], epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", nargs="+", type=Path, help="claims.json of each shard")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default: reports)")
    parser.add_argument("--summary", type=Path, default=None,
                        help="also append the overview table (Markdown) to this file, e.g. $GITHUB_STEP_SUMMARY")
    parser.add_argument("--expect", type=int, default=None, metavar="N",
                        help="refuse unless the reports are groups 1..N of one sharded run, each exactly once "
                             "(read from each report's run.shard)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command: 0 when every arm passed, 1 when a claim arm failed, 2 for a usage or input error."""
    cli = build_parser()
    args = cli.parse_args(argv)
    if args.expect is not None and args.expect < 1:
        cli.error(f"--expect: invalid value {args.expect}; expected an integer >= 1")
    try:
        documents = [load_shard(path) for path in args.reports]
        if args.expect is not None:
            check_shards(documents, args.reports, args.expect)
        doc = merge(documents)
        check_renders(doc, "the merged report", args.out)
        if args.summary is not None:
            appendable_file(args.summary)
        writable_folder(args.out)
        write_outputs(doc, args.reports, args.out, args.summary)
    except ValueError as error:   # InputError, and merge's refusals
        print(f"{cli.prog}: error: {error}", file=sys.stderr)
        return 2
    failed = failed_verdicts(doc)
    print(f"merged {len(documents)} shards: {len(arms_of(doc))} claim arms, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
