"""Computational graphs built explicitly (3.1): nodes, edges, a forward pass and reverse-mode backward.

Each node applies one primitive operation to earlier nodes; `backward` walks the nodes in reverse
topological order and accumulates upstream gradient x local derivative along every edge (the chain
rule). Values are float64 numpy arrays (scalars are 0-d arrays); `dot` reduces two vectors to a scalar.
"""
from __future__ import annotations

import dataclasses

import numpy as np

# op -> (arity, forward, local vector-Jacobian products (g, *inputs) -> one gradient per input)
OPS = {
    "add": (2, lambda a, b: a + b, lambda g, a, b: (g, g)),
    "sub": (2, lambda a, b: a - b, lambda g, a, b: (g, -g)),
    "mul": (2, lambda a, b: a * b, lambda g, a, b: (g * b, g * a)),
    "div": (2, lambda a, b: a / b, lambda g, a, b: (g / b, -g * a / b ** 2)),
    "dot": (2, lambda a, b: np.dot(a, b), lambda g, a, b: (g * b, g * a)),
}


@dataclasses.dataclass(frozen=True)
class Node:
    name: str
    op: str                            # "input", "const" or a key of OPS
    inputs: tuple[str, ...] = ()
    value: float | None = None         # for "const"


class Graph:
    """A directed acyclic graph of primitive operations with one output node."""

    def __init__(self, nodes: list[Node], output: str):
        seen: dict[str, Node] = {}
        for node in nodes:
            if node.name in seen:
                raise ValueError(f"duplicate node name {node.name!r}")
            if node.op not in ("input", "const") and node.op not in OPS:
                raise ValueError(f"node {node.name!r}: unknown op {node.op!r}; valid: input, const, {', '.join(OPS)}")
            arity = 0 if node.op in ("input", "const") else OPS[node.op][0]
            if len(node.inputs) != arity:
                raise ValueError(f"node {node.name!r}: op {node.op!r} takes {arity} inputs, got {len(node.inputs)}")
            missing = [i for i in node.inputs if i not in seen]
            if missing:
                raise ValueError(f"node {node.name!r} uses {missing} before they are defined (not topological)")
            if node.op == "const" and node.value is None:
                raise ValueError(f"const node {node.name!r} needs a value")
            seen[node.name] = node
        if output not in seen:
            raise ValueError(f"output {output!r} is not a node")
        self.nodes, self.output = seen, output

    @property
    def inputs(self) -> list[str]:
        return [n.name for n in self.nodes.values() if n.op == "input"]

    @property
    def edges(self) -> list[tuple[str, str]]:
        return [(src, n.name) for n in self.nodes.values() for src in n.inputs]

    def forward(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if sorted(feed) != sorted(self.inputs):
            raise ValueError(f"feed must give exactly the inputs {self.inputs}, got {sorted(feed)}")
        values: dict[str, np.ndarray] = {}
        for node in self.nodes.values():
            if node.op == "input":
                values[node.name] = np.asarray(feed[node.name], dtype=float)
            elif node.op == "const":
                values[node.name] = np.asarray(node.value, dtype=float)
            else:
                values[node.name] = OPS[node.op][1](*(values[i] for i in node.inputs))
        return values

    def backward(self, feed: dict[str, np.ndarray], upstream: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """d(upstream . output)/d(input) for every input (upstream defaults to ones: the plain gradient)."""
        values = self.forward(feed)
        out = values[self.output]
        grads = {self.output: np.ones_like(out) if upstream is None else np.asarray(upstream, dtype=float)}
        for node in reversed(list(self.nodes.values())):
            if node.name not in grads or node.op in ("input", "const"):
                continue
            local = OPS[node.op][2](grads[node.name], *(values[i] for i in node.inputs))
            for src, g in zip(node.inputs, local):
                grads[src] = grads.get(src, 0.0) + g
        return {name: np.asarray(grads.get(name, np.zeros_like(values[name]))) for name in self.inputs}

    def depth(self) -> dict[str, int]:
        """Longest path from any source node: the layer of each node in a drawing."""
        level: dict[str, int] = {}
        for node in self.nodes.values():
            level[node.name] = 1 + max((level[i] for i in node.inputs), default=-1)
        return level


def affine_difference() -> Graph:
    """y = 2 (a - b) + c"""
    return Graph([Node("a", "input"), Node("b", "input"), Node("c", "input"), Node("two", "const", value=2.0),
                  Node("a-b", "sub", ("a", "b")), Node("2(a-b)", "mul", ("two", "a-b")),
                  Node("y", "add", ("2(a-b)", "c"))], "y")


def linear_unit() -> Graph:
    """y = x^T w + b"""
    return Graph([Node("x", "input"), Node("w", "input"), Node("b", "input"),
                  Node("x^T w", "dot", ("x", "w")), Node("y", "add", ("x^T w", "b"))], "y")


def normalization() -> Graph:
    """y = ((x - mu) / sigma) * gamma + delta (elementwise, as in batch normalization)."""
    return Graph([Node(n, "input") for n in ("x", "mu", "sigma", "gamma", "delta")] +
                 [Node("x-mu", "sub", ("x", "mu")), Node("x_hat", "div", ("x-mu", "sigma")),
                  Node("x_hat*gamma", "mul", ("x_hat", "gamma")), Node("y", "add", ("x_hat*gamma", "delta"))], "y")
