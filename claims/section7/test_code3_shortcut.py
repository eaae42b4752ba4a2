"""7.3: the shortcut mismatch in the course's Código 3 and its two fixes."""
from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from models.course_code3 import Code3Config

CARD = Card(
    id="7.3",
    budget_s=1,
    title="Código 3's residual sum fails on shapes; matching widths or projecting the shortcut fixes it",
    question="The architecture of Código 3 has a mismatch: the point-wise sum of the input (shortcut) and the "
             "output of the residual layers do not correspond. What should change for it to work?",
    answer="The block ends with Dense(2d) while the shortcut has d units, so x + shortcut adds (B, 2d) to (B, d). "
           "Fix 1: end the block with Dense(d) (the body returns the shortcut's width; the Dense(2d) after the sum "
           "still doubles the width for the next block). Fix 2: project the shortcut with a linear map d -> 2d "
           "(He et al.'s projection shortcut, option B). A subtlety the property test found: with d = 1 and a "
           "single block the sum (B, 2) + (B, 1) broadcasts, so the literal code runs without an error (in torch, "
           "and in TensorFlow, whose + broadcasts the same way) and silently adds the one shortcut unit to both "
           "outputs; for every other (d, n_blocks >= 1) it raises.",
    method="models/course_code3.py translates the Keras code line by line (each Dense's input width tracked as "
           "Keras infers it). Hypothesis draws d in [1, 8], n_blocks, input width, classes and batch: the literal "
           "net raises a size-mismatch RuntimeError in the forward pass exactly unless d = n_blocks = 1; both "
           "fixes, for n_blocks in [0, 5], return (B, classes) probabilities that sum to 1.",
    control="The same 'raises a shape error' property run on the two fixed architectures must be falsified.",
)
DRAWS = dict(d=st.integers(1, 8), n_blocks=st.integers(1, 5), in_features=st.integers(1, 20),
             classes=st.integers(2, 10), batch=st.integers(1, 4))


def raises_shape_error(net, x: torch.Tensor) -> bool:
    try:
        net(x)
    except RuntimeError as error:
        if "must match the size" not in str(error):
            raise
        return True
    return False


@claim(CARD)
def test_the_literal_code3_raises_a_shape_error_and_both_fixes_run(arm, evidence):
    examples = evidence.profile.examples
    fixes = ("literal",) if arm is Arm.CLAIM else ("match", "project")

    @stats.property_settings(examples)
    @given(**DRAWS)
    def raises(d, n_blocks, in_features, classes, batch):
        broadcasts = d == 1 and n_blocks == 1            # (B, 2) + (B, 1) broadcasts
        for fix in fixes:
            net = Code3Config(in_features, classes, n_blocks, d, fix).build()
            got = raises_shape_error(net, torch.randn(batch, in_features))
            assert got != broadcasts, f"{fix}: shape error {got} for d={d}, n_blocks={n_blocks}"

    evidence.check(stats.property_holds(
        raises, examples=examples, name=f"{' and '.join(fixes)}: the residual sum raises a size-mismatch "
                                        "RuntimeError (unless d = n_blocks = 1, where it broadcasts)"))

    @stats.property_settings(examples)
    @given(**{**DRAWS, "n_blocks": st.integers(0, 5)})
    def fixes_run(d, n_blocks, in_features, classes, batch):
        for fix in ("match", "project"):
            out = Code3Config(in_features, classes, n_blocks, d, fix).build()(torch.randn(batch, in_features))
            assert out.shape == (batch, classes), f"{fix}: output {tuple(out.shape)}"
            assert torch.allclose(out.sum(1), torch.ones(batch), atol=1e-5), f"{fix}: rows do not sum to 1"

    evidence.check(stats.property_holds(
        fixes_run, examples=examples, name="both fixes build and return (B, classes) softmax outputs"), expect=True)
    literal = Code3Config(4, 3, 1, 1, "literal").build()
    evidence.check(stats.exact(
        not raises_shape_error(literal, torch.randn(2, 4)), name="d = 1, one block: the literal sum broadcasts",
        detail="(B, 2) + (B, 1) broadcasts without error: the bug is silent for the smallest width"), expect=True)
