"""--resnet50-weights: any file that is not a torchvision ResNet-50 state dict loading cleanly with
torch.load(weights_only=True) is a usage error naming the flag, never a traceback."""
from __future__ import annotations

import argparse
import io
import json
import pickle
import re
import warnings
import zipfile
from pathlib import Path

import pytest
import torch

from fixtures.plugin import parse_weights_file, resnet50_shapes

ROOT = Path(__file__).resolve().parents[1]


def resnet50_state(**changes) -> dict:
    """A ResNet-50 state dict of zeros that costs no memory (each tensor a view of one number); `changes`
    replaces (or with None removes) entries by name."""
    state = {k: torch.zeros(()).expand(shape) for k, shape in resnet50_shapes().items()}
    for name, value in changes.items():
        name = name.replace("__", ".")
        if value is None:
            del state[name]
        else:
            state[name] = value
    return state


def saved(obj, **kwargs) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


def a_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "x")
    return buffer.getvalue()


NOT_LOADABLE = {
    "short-text": b"not a checkpoint",
    "text-read-as-a-legacy-file": b"hello world this is text",   # KeyError inside torch's legacy loader
    "empty": b"",
    "json": json.dumps({"fc.weight": [1.0]}).encode(),
    "png": b"\x89PNG\r\n\x1a\n" + bytes(64),
    "zip-of-text": a_zip(),
    "pickle-protocol-4": pickle.dumps(3),                         # torch warns about the protocol
    "truncated-checkpoint": saved(resnet50_state())[:5000],
    "pickled-module": saved(torch.nn.Linear(2, 2)),
}
NOT_RESNET50 = {
    "list-of-tensors": ([torch.zeros(2)], "is not a state dict"),
    "dict-of-lists": ({"fc.weight": [1.0, 2.0]}, "is not a state dict"),
    "empty-dict": ({}, "is not a state dict"),
    "another-network": ({"fc.weight": torch.zeros(2, 2)}, "missing: conv1.weight"),
    "wrong-shape": (resnet50_state(fc__weight=torch.zeros(10, 2048)),
                    "shape: fc.weight (10, 2048), expected (1000, 2048)"),
    "extra-key": (resnet50_state(extra=torch.zeros(1)), "unexpected: extra"),
}


def parse(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "weights.pth"
    path.write_bytes(content)
    return parse_weights_file(str(path))


@pytest.mark.parametrize("name", list(NOT_LOADABLE))
@pytest.mark.parametrize("warnings_as", ["error", "default"])
def test_a_file_that_does_not_load_is_refused_naming_the_flag(tmp_path, name, warnings_as):
    """The same refusal whether the run turns warnings into errors (pytest.ini) or not."""
    with warnings.catch_warnings():
        warnings.simplefilter(warnings_as)
        with pytest.raises(argparse.ArgumentTypeError, match="--resnet50-weights: .* does not load as a state dict"):
            parse(tmp_path, NOT_LOADABLE[name])


@pytest.mark.parametrize("name", list(NOT_RESNET50))
def test_a_checkpoint_that_is_not_a_resnet50_state_dict_is_refused(tmp_path, name):
    obj, message = NOT_RESNET50[name]
    with pytest.raises(argparse.ArgumentTypeError, match=f"--resnet50-weights: .*{re.escape(message)}"):
        parse(tmp_path, saved(obj))


@pytest.mark.parametrize("obj", [
    resnet50_state(),
    {"state_dict": {f"module.{k}": v for k, v in resnet50_state().items()}, "epoch": 90},
    {"model": resnet50_state()},
    {k: v for k, v in resnet50_state().items() if not k.endswith("num_batches_tracked")},
], ids=["plain", "nested-dataparallel", "model-entry", "without-num-batches-tracked"])
def test_a_resnet50_state_dict_in_the_forms_claim_6_2_reads_is_accepted(tmp_path, obj):
    assert parse(tmp_path, saved(obj)) == (tmp_path / "weights.pth").resolve()


def test_the_written_out_shapes_are_torchvisions():
    from torchvision.models import resnet50

    with torch.device("meta"):
        model = resnet50(weights=None)
    assert resnet50_shapes() == {k: tuple(v.shape) for k, v in model.state_dict().items()}


@pytest.fixture
def project(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    # Warnings are errors as in pytest.ini, except the one an in-process run gives for the engine it imports.
    pytester.makeini("[pytest]\naddopts = -p claimcheck.plugin -p fixtures.plugin -p no:benchmark "
                     "-p no:hypothesispytest --claims-device cpu\nfilterwarnings =\n    error\n"
                     "    ignore:Module already imported:pytest.PytestAssertRewriteWarning\n")
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    return pytester


@pytest.mark.parametrize("content, message", [
    (NOT_LOADABLE["text-read-as-a-legacy-file"], "does not load as a state dict with weights_only=True (KeyError"),
    (NOT_LOADABLE["pickle-protocol-4"], "does not load as a state dict with weights_only=True"),
    (saved({"fc.weight": torch.zeros(2, 2)}), "is not a torchvision ResNet-50 state dict (missing: conv1.weight"),
])
def test_pytest_reports_a_usage_error_naming_the_flag_without_a_traceback(project, content, message):
    weights = project.path / "weights.pth"
    weights.write_bytes(content)
    result = project.runpytest_inprocess(f"--resnet50-weights={weights}", "--claims-cache",
                                         str(project.path / "cache"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--resnet50-weights*{message}*"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_a_weights_file_inside_the_project_may_be_given_as_a_separate_word(project):
    weights = project.path / "weights.pth"
    weights.write_text("not a checkpoint")
    result = project.runpytest_inprocess("--resnet50-weights", str(weights), "--claims-cache",
                                         str(project.path / "cache"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR, "the plugin parsed it (pytest.ini was read)"
    result.stderr.fnmatch_lines(["*--resnet50-weights*does not load as a state dict with weights_only=True*"])


def test_the_weights_file_joins_the_run_identity(project, tmp_path):
    from claimcheck.identity import file_identity

    weights = tmp_path / "elsewhere" / "r50.pth"      # outside the project: given with "=" (README, "Options")
    weights.parent.mkdir()
    weights.write_bytes(saved(resnet50_state()))
    project.makeini((project.path / "tox.ini").read_text() + "\nclaims_title = weights\n")   # active from the start
    project.makeconftest("def pytest_sessionfinish(session):\n"
                         "    from claimcheck.session import session_key\n"
                         "    print('IDENTITY', dict(session.config.stash[session_key].run.project_identity))\n")
    result = project.runpytest_inprocess(f"--resnet50-weights={weights}", "--claims-cache",
                                         str(project.path / "cache"), "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*IDENTITY {{'resnet50_weights': '{file_identity(weights)}'}}*"])
