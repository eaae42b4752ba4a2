"""3.1: the computational graphs of 2(a - b) + c, x^T w + b and ((x - mu) / sigma) gamma + delta."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from claimcheck import stats
from claimcheck.evidence import Card, claim
from claimcheck.lazy import LazyModule
from claims.section3.graphs import Graph, affine_difference, linear_unit, normalization

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

CARD = Card(
    id="3.1",
    budget_s=1,
    title="Explicit computational graphs give the hand-derived gradients",
    question="Formulate the computational graphs of y = 2(a - b) + c, y = x^T w + b and "
             "y = ((x - mu) / sigma) * gamma + delta.",
    answer="(1) a, b -> [sub] -> a-b; (2, a-b) -> [mul] -> 2(a-b); (2(a-b), c) -> [add] -> y; so dy/da = 2, "
           "dy/db = -2, dy/dc = 1. (2) (x, w) -> [dot] -> x^T w; (x^T w, b) -> [add] -> y; dy/dx = w, dy/dw = x, "
           "dy/db = 1. (3) (x, mu) -> [sub] -> x-mu; (x-mu, sigma) -> [div] -> x_hat; (x_hat, gamma) -> [mul]; "
           "(., delta) -> [add] -> y (elementwise, the batch-norm affine step with sigma given); dy/dx = gamma/sigma, "
           "dy/dmu = -gamma/sigma, dy/dsigma = -gamma (x - mu)/sigma^2, dy/dgamma = (x - mu)/sigma, dy/ddelta = 1. "
           "The figure draws the three graphs.",
    method="claims/section3/graphs.py builds each graph as nodes and edges with a forward pass and a reverse-mode "
           "backward (upstream gradient x local derivative along every edge). Hypothesis draws inputs (vectors of "
           "random length, sigma > 0) and an upstream gradient; the graph's forward equals the expression, and "
           "its backward, torch autograd and central finite differences all equal the hand-derived gradients.",
)
REL_TOL = 1e-9        # graph backward and autograd vs the formulas (float64, rounding only)
FD_TOL = 1e-5         # central differences, step FD_STEP, inputs of magnitude <= 10 and sigma >= 0.5
FD_STEP = 1e-5

GRAPHS = {
    "2(a-b)+c": dict(build=affine_difference, expr=lambda a, b, c: 2 * (a - b) + c,
                     hand=lambda a, b, c: {"a": 2 + 0 * a, "b": -2 + 0 * b, "c": 1 + 0 * c}),
    "x^T w+b": dict(build=linear_unit, expr=lambda x, w, b: x @ w + b,
                    hand=lambda x, w, b: {"x": w, "w": x, "b": 1 + 0 * b}),
    "((x-mu)/sigma)*gamma+delta": dict(
        build=normalization, expr=lambda x, mu, sigma, gamma, delta: (x - mu) / sigma * gamma + delta,
        hand=lambda x, mu, sigma, gamma, delta: {"x": gamma / sigma, "mu": -gamma / sigma,
                                                 "sigma": -gamma * (x - mu) / sigma ** 2,
                                                 "gamma": (x - mu) / sigma, "delta": 1 + 0 * delta}),
}


def feed_for(graph: Graph, m: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    shapes = {"x": (m,), "w": (m,), "mu": (m,), "sigma": (m,), "gamma": (m,), "delta": (m,)}
    feed = {name: rng.uniform(-10, 10, size=shapes.get(name, ())) for name in graph.inputs}
    if "sigma" in feed:
        feed["sigma"] = rng.uniform(0.5, 5, size=(m,))
    return feed


def autograd(expr, feed: dict, upstream: np.ndarray) -> dict[str, np.ndarray]:
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in feed.items()}
    (expr(**leaves) * torch.as_tensor(upstream)).sum().backward()
    return {k: t.grad.numpy() for k, t in leaves.items()}


def finite_differences(expr, feed: dict, upstream: np.ndarray) -> dict[str, np.ndarray]:
    def f(values):
        return float(np.sum(expr(**values) * upstream))
    grads = {}
    for name, value in feed.items():
        g = np.zeros(np.shape(value))
        for idx in np.ndindex(g.shape):
            plus, minus = dict(feed), dict(feed)
            plus[name], minus[name] = np.array(value, dtype=float), np.array(value, dtype=float)
            plus[name][idx] += FD_STEP
            minus[name][idx] -= FD_STEP
            g[idx] = (f(plus) - f(minus)) / (2 * FD_STEP)
        grads[name] = g
    return grads


def close(a, b, tol: float) -> bool:
    return bool(np.all(np.abs(np.asarray(a) - np.asarray(b)) <= tol * (1 + np.abs(np.asarray(b)))))


@claim(CARD, control=False)
def test_graph_backward_autograd_and_finite_differences_equal_the_hand_derived_gradients(arm, evidence):
    examples = evidence.profile.examples

    @stats.property_settings(examples)
    @given(which=st.sampled_from(sorted(GRAPHS)), m=st.integers(1, 6), seed=st.integers(0, 2**31 - 1))
    def check(which, m, seed):
        spec, rng = GRAPHS[which], np.random.default_rng(seed)
        graph = spec["build"]()
        feed = feed_for(graph, m, rng)
        y = spec["expr"](**feed)
        assert close(graph.forward(feed)["y"], y, REL_TOL), f"{which}: forward differs"
        upstream = rng.normal(size=np.shape(y))
        hand = {k: upstream * v for k, v in spec["hand"](**feed).items()}   # chain rule: upstream x dy/dk
        for method, grads in (("graph backward", graph.backward(feed, upstream)),
                              ("autograd", autograd(spec["expr"], feed, upstream))):
            for name in feed:
                assert close(grads[name], hand[name], REL_TOL), f"{which}: {method} d/d{name} differs"
        fd = finite_differences(spec["expr"], feed, upstream)
        for name in feed:
            assert close(fd[name], hand[name], FD_TOL), f"{which}: finite differences d/d{name} differ"

    evidence.check(stats.property_holds(
        check, name="graph backward == autograd == finite differences == hand formulas", examples=examples))
    graphs = {name: spec["build"]() for name, spec in GRAPHS.items()}
    evidence.table("Edges of each graph", ["expression", "nodes", "edges"],
                   [[name, len(g.nodes), ", ".join(f"{a}->{b}" for a, b in g.edges)] for name, g in graphs.items()])
    evidence.save_figure(draw(graphs), "computational-graphs")


def draw(graphs: dict[str, Graph]):
    """Each graph left to right: inputs in blue, operations in orange, the output in green."""
    fig, axes = plt.subplots(1, len(graphs), figsize=(5 * len(graphs), 3.8))
    for ax, (title, graph) in zip(axes, graphs.items()):
        pos = layout(graph)
        for src, dst in graph.edges:
            ax.annotate("", xy=pos[dst], xytext=pos[src],
                        arrowprops=dict(arrowstyle="->", color="grey", shrinkA=14, shrinkB=14))
        for name, node in graph.nodes.items():
            color = "tab:green" if name == graph.output else ("tab:blue" if node.op in ("input", "const")
                                                              else "tab:orange")
            label = name if node.op in ("input", "const") else f"{node.op}\n{name}"
            ax.text(*pos[name], label, ha="center", va="center", fontsize=8,
                    bbox=dict(boxstyle="round", fc="white", ec=color, lw=1.5))
        levels = max(x for x, _ in pos.values())
        ax.set(xlim=(-0.6, levels + 0.6), ylim=(-2.2, 2.2), title=f"y = {title}")
        ax.axis("off")
    fig.suptitle("3.1 computational graphs (inputs blue, operations orange, output green)")
    return fig


def layout(graph: Graph) -> dict[str, tuple[float, float]]:
    """Operations on a horizontal spine by depth; each input one column left of its first consumer,
    alternately above and below the spine."""
    depth = graph.depth()
    consumers = {name: [dst for src, dst in graph.edges if src == name] for name in graph.nodes}
    pos, used = {}, {}
    for name, node in graph.nodes.items():
        if node.op in ("input", "const"):
            continue
        pos[name] = (depth[name], 0.0)
    offsets = (1.0, -1.0, 1.8, -1.8)
    for name, node in graph.nodes.items():
        if node.op not in ("input", "const"):
            continue
        level = min(depth[c] for c in consumers[name]) - 1
        slot = used.get(level, 0)
        used[level] = slot + 1
        pos[name] = (level + 0.35 * (slot // 2), offsets[slot % len(offsets)] * (1 + 0.2 * (slot // 4)))
    return pos
