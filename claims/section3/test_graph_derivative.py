"""3.2: the partial derivative dg/db on the course's computational graph."""
from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim

CARD = Card(
    id="3.2",
    budget_s=1,
    title="dg/db = 444 + 300b on the course's graph",
    question="From the computational graph of the exercise, what is the partial derivative dg/db "
             "(how changes in b affect g)?",
    answer="The graph is a -> b = 5 - 3a; c = 2b + 3; d = 5b + 6; e = 7c + d^2; f = 2e; g = 3f - o. "
           "By the chain rule dg/db = (dg/df)(df/de)(de/dc dc/db + de/dd dd/db) = 3*2*(7*2 + 2d*5) "
           "= 6(14 + 10d) = 84 + 60(5b + 6) = 444 + 300b; and dg/da = -3 dg/db.",
    method="The graph is built in torch (float64); autograd's dg/db is compared with 444 + 300b, and "
           "dg/da with -3 dg/db, for every b hypothesis draws (relative tolerance 1e-9).",
    control="A derivation that forgets the d^2 path (dg/db = 6*7*2 = 84) is checked the same way and "
            "must be falsified.",
)
REL_TOL = 1e-9  # float64 arithmetic on values up to ~1e6: exact up to rounding


def graph(a: torch.Tensor, o: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The course's graph; returns (b, g) with b kept as an intermediate node."""
    b = 5 - 3 * a
    b.retain_grad()
    c = 2 * b + 3
    d = 5 * b + 6
    e = 7 * c + d ** 2
    f = 2 * e
    return b, 3 * f - o


def hand_derivative(b: float) -> float:
    return 444 + 300 * b


def derivative_without_square_path(b: float) -> float:
    return 6 * 7 * 2.0


@claim(CARD)
def test_autograd_gives_dg_db_equal_to_444_plus_300b(arm, evidence):
    formula = hand_derivative if arm is Arm.CLAIM else derivative_without_square_path

    @stats.property_settings(evidence.profile.examples)
    @given(a=st.floats(-1e3, 1e3), o=st.floats(-1e3, 1e3))
    def check(a, o):
        a_t = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        b, g = graph(a_t, torch.tensor(o, dtype=torch.float64))
        g.backward()
        expected = formula(b.item())
        assert abs(b.grad.item() - expected) <= REL_TOL * max(1.0, abs(expected)), (b.item(), b.grad.item())
        assert abs(a_t.grad.item() + 3 * expected) <= REL_TOL * max(1.0, abs(3 * expected))

    evidence.check(stats.property_holds(check, name="autograd dg/db equals the hand formula for all a, o",
                                        examples=evidence.profile.examples))
