"""Unit tests of claims/section3/graphs.py (3.1's explicit computational graphs)."""
from __future__ import annotations

import numpy as np
import pytest

from claims.section3.graphs import Graph, Node, affine_difference, linear_unit, normalization


def test_fan_out_gradients_accumulate():
    square = Graph([Node("a", "input"), Node("y", "mul", ("a", "a"))], "y")
    assert square.backward({"a": np.array(3.0)})["a"] == 6.0


def test_graphs_have_the_expected_nodes_and_edges():
    assert affine_difference().edges == [("a", "a-b"), ("b", "a-b"), ("two", "2(a-b)"), ("a-b", "2(a-b)"),
                                         ("2(a-b)", "y"), ("c", "y")]
    assert linear_unit().inputs == ["x", "w", "b"]
    assert normalization().depth()["y"] == 4


def test_backward_on_hand_values():
    g = normalization().backward({"x": np.array([3.0]), "mu": np.array([1.0]), "sigma": np.array([2.0]),
                                  "gamma": np.array([4.0]), "delta": np.array([0.5])})
    assert np.allclose([g["x"], g["mu"], g["sigma"], g["gamma"], g["delta"]], [[2.0], [-2.0], [-2.0], [1.0], [1.0]])


@pytest.mark.parametrize("nodes, output, message", [
    ([Node("a", "input"), Node("a", "input")], "a", "duplicate"),
    ([Node("a", "input"), Node("y", "pow", ("a", "a"))], "y", "unknown op"),
    ([Node("a", "input"), Node("y", "add", ("a",))], "y", "takes 2 inputs"),
    ([Node("y", "add", ("a", "b")), Node("a", "input"), Node("b", "input")], "y", "not topological"),
    ([Node("c", "const")], "c", "needs a value"),
    ([Node("a", "input")], "y", "not a node"),
])
def test_malformed_graphs_raise_a_value_error(nodes, output, message):
    with pytest.raises(ValueError, match=message):
        Graph(nodes, output)


def test_forward_needs_exactly_the_inputs():
    with pytest.raises(ValueError, match="exactly the inputs"):
        linear_unit().forward({"x": np.ones(2), "w": np.ones(2)})
