"""The merge command on bad input: one line naming the file and the problem, exit status 2, nothing written;
--expect N for the groups of a sharded run; the exit codes in --help."""
from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimcheck import stats
from claimcheck.merge import main
from claimcheck.report import finalize

RUN = {"title": "t", "scale": "smoke", "profile": {"seeds": 3}, "seeds": 3, "seed_base": 1, "device": "cpu",
       "wall_s": 2.0, "versions": {"numpy": "2"}, "git_commit": "abc"}
CARD = {"title": "a toy effect", "question": "q?", "answer": "a.", "method": "m.", "control": "none"}


def arm(test: str, verdict: str = "SUPPORTED") -> dict:
    result = stats.greater_than([1.0, 1.2, 1.1], reference=0.0, min_effect=0.5, alpha=0.01, seeds=[1, 2, 3])
    check = {**result.to_json(), "expected": True, "key": result.key_number(), "outcome": "SUPPORTED",
             "seeds_used": 3, "margin": 1.0}
    return {"test": test, "verdict": verdict, "outcome": "passed", "wall_s": 1.0, "seeds": [1, 2, 3],
            "checks": [check], "cache": {"loaded": 0, "built": 1}}


def shard(group: int | None, groups: int = 2, verdict: str = "SUPPORTED") -> dict:
    """A shard document as the plugin writes it, with one claim arm of its own."""
    run = copy.deepcopy(RUN)
    if group is not None:
        run["shard"] = {"group": group, "groups": groups}
    record = {"id": f"9.{group or 1}", **CARD, "arms": {"claim": [arm(f"t{group}.py::test[claim]", verdict)]}}
    return finalize([record], run)


def write(folder: Path, name: str, doc) -> Path:
    path = folder / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def merge_cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_refused(code: int, err: str, *parts: str) -> None:
    """Exit 2 and one clean line on stderr that names every part."""
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("python -m claimcheck.merge: error: "), err
    assert "Traceback" not in err
    for part in parts:
        assert part in err, (part, err)


def broken(doc: dict, edit) -> dict:
    doc = copy.deepcopy(doc)
    edit(doc)
    return doc


MALFORMED = {
    "arms-as-list": (lambda d: d["claims"][0].update(arms=[d["claims"][0]["arms"]["claim"]]), "claims[0].arms"),
    "checks-as-string": (lambda d: d["claims"][0]["arms"]["claim"][0].update(checks="none"), ".checks"),
    "arm-without-verdict": (lambda d: d["claims"][0]["arms"]["claim"][0].pop("verdict"), "no 'verdict'"),
    "record-without-id": (lambda d: d["claims"][0].pop("id"), "claims[0]: no 'id'"),
    "arm-list-of-strings": (lambda d: d["claims"][0]["arms"].update(claim=["x"]), "a str, expected an object"),
    "run-without-wall-time": (lambda d: d["run"].pop("wall_s"), "run: no 'wall_s'"),
    "seeds-as-string": (lambda d: d["run"].update(seeds="3"), "run.seeds"),
    "claims-as-object": (lambda d: d.update(claims={}), "not a claims.json document"),
    "check-without-expected": (lambda d: d["claims"][0]["arms"]["claim"][0]["checks"][0].pop("expected"),
                               "cannot be rendered"),
    "partial-run": (lambda d: d["run"].update(partial={"reasons": ["-k x"], "not_run": []}), "partial run"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_shard_is_refused_by_name_and_nothing_is_written(tmp_path, capsys, name):
    edit, message = MALFORMED[name]
    good = write(tmp_path, "good.json", shard(1))
    bad = write(tmp_path, "bad.json", broken(shard(2), edit))
    out = tmp_path / "out"
    code, stdout, err = merge_cli(capsys, good, bad, "--out", out)
    assert_refused(code, err, str(bad), message)
    assert not out.exists() and stdout == ""


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON (Expecting property name"),
    (b"\xff\xfe\x00", "not a text file"),
    ("", "not valid JSON"),
    ("[1, 2]", "not a claims.json document"),
])
def test_an_unreadable_or_invalid_file_is_refused(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert_refused(*merge_cli(capsys, bad, "--out", tmp_path / "out")[::2], str(bad), message)


def test_a_missing_file_or_a_folder_is_refused(tmp_path, capsys):
    assert_refused(*merge_cli(capsys, tmp_path / "nothing.json")[::2], "nothing.json: no such file")
    assert_refused(*merge_cli(capsys, tmp_path)[::2], f"{tmp_path}: cannot be read")


def test_an_output_that_cannot_be_written_is_refused_before_writing(tmp_path, capsys):
    good = write(tmp_path, "good.json", shard(1))
    a_file = write(tmp_path, "a_file", "keep")
    assert_refused(*merge_cli(capsys, good, "--out", a_file)[::2], f"--out: {a_file} is a file, not a folder")
    assert_refused(*merge_cli(capsys, good, "--out", a_file / "sub")[::2], "--out: cannot write in")
    assert_refused(*merge_cli(capsys, good, "--out", tmp_path / "out", "--summary", tmp_path)[::2],
                   "--summary: ", "is a folder")
    assert a_file.read_text() == "keep" and not (tmp_path / "out").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes in read-only folders")
def test_a_read_only_output_folder_is_refused(tmp_path, capsys):
    good = write(tmp_path, "good.json", shard(1))
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert_refused(*merge_cli(capsys, good, "--out", out)[::2], f"--out: cannot write in {out}")
    finally:
        out.chmod(0o700)
    assert not list(out.iterdir())


def test_a_folder_refusing_writes_is_refused_under_any_user(tmp_path, capsys, monkeypatch):
    """What a read-only folder does for an ordinary user (root writes anyway, so it is simulated)."""
    def refuse(**kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr("claimcheck.merge.tempfile.TemporaryFile", refuse)
    good = write(tmp_path, "good.json", shard(1))
    assert_refused(*merge_cli(capsys, good, "--out", tmp_path)[::2], f"--out: cannot write in {tmp_path}",
                   "Permission denied")


def test_a_bad_shard_leaves_an_earlier_report_unchanged(tmp_path, capsys):
    out = tmp_path / "out"
    assert main([str(write(tmp_path, "a.json", shard(1))), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = write(tmp_path, "bad.json", broken(shard(2), MALFORMED["arm-without-verdict"][0]))
    capsys.readouterr()
    assert_refused(*merge_cli(capsys, tmp_path / "a.json", bad, "--out", out)[::2], str(bad))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_expect_accepts_each_group_once_and_records_the_shard_count(tmp_path, capsys):
    paths = [write(tmp_path, f"s{g}.json", shard(g, 2)) for g in (2, 1)]
    code, stdout, err = merge_cli(capsys, *paths, "--out", tmp_path / "out", "--expect", "2")
    assert code == 0, err
    run = json.loads((tmp_path / "out" / "claims.json").read_text())["run"]
    assert run["shards"] == 2 and "shard" not in run
    assert "merged 2 shards: 2 claim arms, 0 failed" in stdout


@pytest.mark.parametrize("groups, message", [
    ([None, None], "no shard information"),
    ([(1, 3), (2, 3)], "shard 1 of 3 groups; --expect 2"),
    ([(1, 2)], "shard group(s) 2 of 2 missing"),
    ([(1, 2), (1, 2)], "shard group 1 appears twice"),
])
def test_expect_refuses_shards_that_are_not_groups_1_to_n(tmp_path, capsys, groups, message):
    paths = []
    for i, spec in enumerate(groups):
        doc = shard(None) if spec is None else shard(*spec)
        doc["claims"][0]["arms"]["claim"][0]["test"] = f"t{i}.py::test[claim]"   # no arm in two shards
        paths.append(write(tmp_path, f"s{i}.json", doc))
    out = tmp_path / "out"
    assert_refused(*merge_cli(capsys, *paths, "--out", out, "--expect", "2")[::2], message)
    assert not out.exists()


def test_without_expect_shards_merge_as_before(tmp_path, capsys):
    paths = [write(tmp_path, "a.json", shard(None)), write(tmp_path, "b.json", shard(2, verdict="FAILED"))]
    code, stdout, _ = merge_cli(capsys, *paths, "--out", tmp_path / "out")
    assert code == 1 and "2 claim arms, 1 failed" in stdout


def test_expect_must_be_positive(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "a.json"), "--expect", "0"])
    assert exit_info.value.code == 2 and "--expect: invalid value 0" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["merge", "stability"])
def test_help_lists_the_exit_codes_and_names_the_command(module, capsys, monkeypatch):
    import importlib

    command = importlib.import_module(f"claimcheck.{module}")
    for argv0, prog in ((f"/venv/bin/claims-{module}", f"claims-{module}"),
                        (f"/x/claimcheck/{module}.py", f"python -m claimcheck.{module}")):
        monkeypatch.setattr("sys.argv", [argv0])
        with pytest.raises(SystemExit) as exit_info:
            command.main(["--help"])
        text = capsys.readouterr().out
        assert exit_info.value.code == 0 and text.startswith(f"usage: {prog} ")
        assert "exit status:" in text and all(f"\n  {code}  " in text for code in (0, 1, 2))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                  max_size=3), max_leaves=6)


def paths_in(value, prefix=()):
    """Every path to a part of a JSON document."""
    yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from paths_in(child, (*prefix, key))


# Optional fields the report reads when they are there.
OPTIONAL_KEYS = ["reference_s", "wall_ratio", "partial", "shard", "pass_rate", "max_seeds", "looks", "tables",
                 "figures", "notes", "message", "seeds_needed", "control"]


@settings(max_examples=80, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_part_of_a_shard_replaced_removed_or_added_never_ends_in_a_traceback(tmp_path, capsys, data):
    doc = shard(1)
    path = data.draw(st.sampled_from([p for p in paths_in(doc) if p]))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    action = data.draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        parent[path[-1]] = data.draw(JSON)
    elif action == "remove":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(st.sampled_from(OPTIONAL_KEYS))] = data.draw(JSON)
    out = Path(tempfile.mkdtemp(dir=tmp_path)) / "out"
    code = main([str(write(out.parent, "fuzz.json", doc)), "--out", str(out)])
    err = capsys.readouterr().err
    assert code in (0, 1, 2)
    if code == 2:
        assert err.count("\n") == 1 and "fuzz.json" in err and not out.exists()
    else:
        assert not err
