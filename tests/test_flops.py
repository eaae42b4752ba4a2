"""--claims-count-flops (fixtures/flops.py): the FLOPs of a claim test's call reach its arm in claims.json."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from fixtures.flops import counting

ROOT = Path(__file__).resolve().parents[1]
A, B, C = 8, 16, 4
MATMUL = 2 * A * B * C   # multiply-adds of an (A, B) @ (B, C) product, two FLOPs each


def test_a_matrix_product_and_its_backward_are_counted_and_nested_counters_both_count():
    from torch.utils.flop_counter import FlopCounterMode

    x, w = torch.ones(A, B), torch.ones(B, C, requires_grad=True)
    with counting() as total:
        (x @ w).sum().backward()           # forward, and the weight's gradient x^T @ grad: one more product
        inner = FlopCounterMode(display=False)
        with inner:                         # 6.3 counts its own passes inside a counted test
            x @ w.detach()
    assert inner.get_total_flops() == MATMUL
    assert total() == 3 * MATMUL


def test_timed_code_is_not_counted_and_counting_resumes_after_it():
    """claimcheck.latency.quiet_timing pauses the counter (TorchState.quiet): 4.1's latencies must not include
    the counter's interception of every operation."""
    from claimcheck import global_state
    from claimcheck.latency import quiet_timing
    from fixtures.torch_state import TorchState

    global_state.register(TorchState())
    x, w = torch.ones(A, B), torch.ones(B, C)
    with counting() as total:
        with quiet_timing():
            x @ w
        assert total() == 0
        x @ w
    assert total() == MATMUL
    with quiet_timing():   # outside counting(): nothing to pause
        x @ w


def test_autograd_grad_on_a_leaf_runs_under_the_counter():
    """3.4's derivative checks call torch.autograd.grad on leaf tensors, which FlopCounterMode's module tracker
    (its backward hooks) refuses; the counter leaves it out."""
    x = torch.tensor([0.5, 2.0], requires_grad=True)
    with counting() as total:
        (grad,) = torch.autograd.grad((x * torch.sigmoid(x)).sum(), x)
    assert grad.shape == x.shape and total() == 0   # element-wise operations count 0


CLAIM = f'''
import torch
from claimcheck import stats
from claimcheck.evidence import Card, claim

CARD = Card(id="9.1", title="t", question="q?", answer="a.", method="m.")

@claim(CARD, control=False)
def test_a_product(arm, evidence):
    product = torch.ones({A}, {B}) @ torch.ones({B}, {C})
    evidence.check(stats.exact(bool(product.sum() > 0), name="ran", detail="a product"))

def test_not_a_claim():
    torch.ones({A}, {B}) @ torch.ones({B}, {C})
'''


@pytest.fixture
def project(pytester, monkeypatch):
    # An in-process run drops the modules it imported when it ends; the counter imports torch._dynamo on its first
    # use (about 2 s), so that happens here, once per process, not in every run.
    import torch._dynamo  # noqa: F401

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeini("[pytest]\naddopts = -p claimcheck.plugin -p fixtures.plugin -p no:benchmark "
                     "-p no:hypothesispytest --claims-device cpu\nclaims_id_pattern = ^[0-9]+\\.[0-9]+$\n"
                     "filterwarnings =\n    error\n"
                     "    ignore:Module already imported:pytest.PytestAssertRewriteWarning\n")
    pytester.makepyfile(test_product=CLAIM)
    return pytester


@pytest.mark.parametrize("count", [True, False])
def test_the_option_writes_each_arms_flops_beside_its_wall_time(project, count):
    result = project.runpytest_inprocess("--claims-cache", str(project.path / "cache"),
                                         *(["--claims-count-flops"] if count else []))
    result.assert_outcomes(passed=2)
    arm = json.loads((project.path / "reports" / "claims.json").read_text())["claims"][0]["arms"]["claim"][0]
    assert arm.get("flops") == (MATMUL if count else None) and arm["wall_s"] > 0
