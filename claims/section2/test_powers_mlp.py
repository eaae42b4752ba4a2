"""2.1: an MLP with n layers whose i-th layer has k**i neurons."""
from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from claimcheck import stats
from claimcheck.evidence import Card, claim
from models.mlp import parameter_count
from models.powers_mlp import MAX_WIDTH, expected_parameters, powers_mlp

CARD = Card(
    id="2.1",
    budget_s=1,
    title="powers_mlp(n, k) builds n layers of k, k^2, ..., k^n neurons",
    question="Given two integers n and k, create an MLP with n layers in which the i-th layer "
             "(i in {1, ..., n}) has k^i neurons.",
    answer="models/powers_mlp.py: PowersMLPConfig(in_features, n, k, num_classes).build() (or powers_mlp(...)) "
           "stacks n hidden Linear + ReLU layers of widths k, k^2, ..., k^n and a linear head to the classes; it "
           "has sum_i (w_{i-1} + 1) w_i parameters (w_0 = input size, the last w = classes). Widths grow "
           f"geometrically, so n <= 0, k <= 0, non-integers, and k^n > {MAX_WIDTH} neurons are refused with a "
           "ValueError naming the argument.",
    method="Hypothesis draws (in_features, n, k, classes, batch) with k^n within the limit: the Linear layers' "
           "widths are k^1..k^n, the parameter count equals the formula, and the forward pass maps (B, in) to "
           "(B, classes) through (B, k^i) activations; invalid (n, k) draws raise ValueError.",
)

TEST_WIDTH = 1024  # the property draws stay below this widest layer (fast); the builder allows MAX_WIDTH


def largest_k(n: int) -> int:
    """The largest k with k**n <= TEST_WIDTH."""
    k = 1
    while (k + 1) ** n <= TEST_WIDTH:
        k += 1
    return k


@claim(CARD, control=False)
def test_builder_gives_layer_i_k_to_the_i_neurons_the_formula_parameter_count_and_right_shapes(arm, evidence):
    examples = evidence.profile.examples

    @stats.property_settings(examples)
    @given(nk=st.integers(1, 7).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, largest_k(n)))),
           d=st.integers(1, 20), c=st.integers(1, 12), batch=st.integers(1, 5))
    def check(nk, d, c, batch):
        n, k = nk
        model = powers_mlp(in_features=d, n=n, k=k, num_classes=c)
        widths = tuple(block[0].out_features for block in model.hidden)
        assert widths == tuple(k ** i for i in range(1, n + 1)), widths
        assert parameter_count(model) == expected_parameters(d, widths, c)
        h, shapes = torch.randn(batch, d), []
        for block in model.hidden:
            h = block(h)
            shapes.append(tuple(h.shape))
        assert shapes == [(batch, k ** i) for i in range(1, n + 1)], shapes
        assert model(torch.randn(batch, d)).shape == (batch, c)

    @stats.property_settings(examples)
    @given(n=st.integers(-3, 4), k=st.integers(-3, 4))
    def invalid(n, k):
        if n >= 1 and k >= 1:
            return
        try:
            powers_mlp(in_features=4, n=n, k=k, num_classes=3)
        except ValueError as error:
            assert ("n must" in str(error)) or ("k must" in str(error)), str(error)
        else:
            raise AssertionError(f"powers_mlp accepted n={n}, k={k}")

    evidence.check(stats.property_holds(check, name="widths k^i, parameter formula, forward shapes",
                                        examples=examples))
    evidence.check(stats.property_holds(invalid, name="n <= 0 or k <= 0 raises a ValueError naming it",
                                        examples=examples))
