"""4.1: the same neurons in more layers: parameters, storage and forward latency (the efficiency misnomer).

Latency is measured with pytest-benchmark, which disables itself under xdist (and ordinary runs pass
--benchmark-disable). The latency test then skips with the command of the serial latency pass
(LATENCY_PASS, as in the README), which is also how it is run:
    pytest -p no:xdist --benchmark-only --benchmark-enable --claims-report reports/latency -k 4.1
(add --benchmark-json FILE, in an existing folder, for pytest-benchmark's own JSON).
"""
from __future__ import annotations

import contextlib
import gc
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st
from pytest_benchmark.fixture import BenchmarkFixture

from claimcheck import stats
from claimcheck.evidence import Card, claim
from claims.section4.width_depth import mlp_parameters, serialized_bytes, split_widths
from models.mlp import MLPConfig, parameter_count

CARD = Card(
    id="4.1",
    title="Deeper-narrower nets have fewer parameters and bytes, but not proportionally lower latency",
    question="Take n neurons in each of two hidden layers, e.g. {2048, 2048}, and spread the same neurons "
             "over k layers: {1024 x 4}, {512 x 8}. Which model is more efficient in latency (forward "
             "time), storage and number of parameters?",
    answer="The deeper-narrower splits of the same 4,096 hidden neurons have fewer parameters, exactly "
           "(in + 1)w + (k - 1)(w + 1)w + (w + 1)C for k layers of width w (the hidden-to-hidden part "
           "falls as 4096^2 (k - 1)/k^2): 5.82M, 3.96M, 2.25M, 1.19M, 0.61M, 0.31M for k = 2...64 with a "
           "784-dimensional input and 10 classes. Their serialized size follows the parameter count (4 "
           "bytes per float32 parameter plus a few hundred bytes per tensor). Latency is the measure that "
           "disagrees (Dehghani et al.'s efficiency misnomer): at batch 1 a forward pass pays a fixed "
           "overhead per layer, so every split takes 0.6-1.2 times as long as {2048, 2048} (one CPU "
           "thread), the 64 x 64 net with 5% of its parameters included; only at a large batch (256), "
           "where the matrix products dominate, does latency track the parameter count. The deeper model "
           "is cheaper to store, not necessarily faster to run.",
    method="MLPs 784 -> widths -> 10 with 4,096 hidden neurons in k = 2, 4, 8, 16, 32, 64 layers. "
           "Parameters: the formula against torch's count, for these nets and for hypothesis-drawn widths. "
           "Storage: bytes of torch.save(state_dict). Latency (serial pass only): pytest-benchmark "
           "(benchmark.pedantic, groups 'batch 1' and 'batch 256', one torch thread, inference mode), per "
           "round; at batch 1 every round is paired with an adjacent round of {2048, 2048} (alternately "
           "before and after it), and ratios are taken between the fastest rounds of blocks of 6 pairs "
           "(load spikes only add time). Asserted: at batch 1 the 64-layer split's latency ratio exceeds its "
           "parameter ratio MIN_FACTOR-fold (one-sided t-test on block log ratios), and at batch 256 the "
           "fastest-round latency is rank-correlated with the parameter count over the six nets.",
    control="Two separately built {64 x 64} nets: the same 'latency ratio exceeds parameter ratio' "
            "assertion must fail, and their latency ratio must be 1 within +/-25% (TOST) at both batches.",
)
ALPHA = 0.01
NEURONS, LAYERS = 4096, (2, 4, 8, 16, 32, 64)   # {2048, 2048} ... {64 x 64}: the same 4,096 neurons
IN_FEATURES, CLASSES = 784, 10                    # an MNIST-sized input, ten classes
BATCHES = (1, 256)
ROUNDS = {1: 120, 256: 48}  # pedantic rounds of a paired measurement (the serial pass takes ~20 s)
UNPAIRED_ROUNDS = 12        # unpaired batch-256 measurements: only their fastest round is used
WARMUP = {1: 10, 256: 2}
BLOCK = {1: 6, 256: 6}      # rounds per block: the ratio of block minima shrugs off load spikes (noise only
                            # adds time; pilot under load: single batch-1 rounds of 2048x2 ranged 1.8-11 ms)
MIN_FACTOR = 4.0            # pilot (1 core): 64 x 64 latency ratio ~1.0 at batch 1 vs parameter ratio 0.054
SAME_MARGIN = math.log(1.25)  # identical nets: |log latency ratio| < log 1.25
MAX_BYTES_PER_TENSOR = 1024   # serialization overhead; pilot 340-470 bytes per tensor
LATENCY_PASS = ("pytest -p no:xdist --benchmark-only --benchmark-enable --claims-report reports/latency "
                "(add -k 4.1 for this claim alone)")


def architectures() -> dict[str, tuple[int, ...]]:
    return {f"{NEURONS // k}x{k}": split_widths(NEURONS, k) for k in LAYERS}


def build(widths: tuple[int, ...], seed: int) -> torch.nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MLPConfig(IN_FEATURES, widths, CLASSES).build().eval()


@claim(CARD, control=False)
def test_deeper_narrower_splits_of_the_same_neurons_have_fewer_parameters_and_bytes(arm, evidence):
    examples = evidence.profile.examples

    @stats.property_settings(examples)
    @given(in_features=st.integers(1, 64), widths=st.lists(st.integers(1, 48), min_size=0, max_size=6),
           classes=st.integers(1, 12))
    def check(in_features, widths, classes):
        model = MLPConfig(in_features, tuple(widths), classes).build()
        assert parameter_count(model) == mlp_parameters(in_features, widths, classes)

    evidence.check(stats.property_holds(check, name="torch's parameter count equals the formula "
                                        "sum (fan_in + 1) fan_out", examples=examples))
    rows, params, sizes = [], [], []
    for name, widths in architectures().items():
        model = build(widths, evidence.seeds[0])
        p, b, tensors = parameter_count(model), serialized_bytes(model), len(model.state_dict())
        evidence.check(stats.exact(p == mlp_parameters(IN_FEATURES, widths, CLASSES),
                                   name=f"{name}: parameters = formula", detail=f"{p:,} parameters"))
        evidence.check(stats.exact(0 <= b - 4 * p <= MAX_BYTES_PER_TENSOR * tensors,
                                   name=f"{name}: bytes = 4 x parameters + per-tensor overhead",
                                   detail=f"{b:,} bytes, overhead {b - 4 * p:,} for {tensors} tensors"))
        rows.append([name, len(widths), p, b, p / mlp_parameters(IN_FEATURES, (2048, 2048), CLASSES)])
        params.append(p)
        sizes.append(b)
    evidence.check(stats.exact(all(np.diff(params) < 0) and all(np.diff(sizes) < 0),
                               name="parameters and bytes fall strictly as the same neurons get more layers",
                               detail=f"parameters {params}; bytes {sizes}", values={"parameters": params}))
    evidence.table("Parameters and storage (latency: see the latency test, serial pass)",
                   ["architecture", "hidden layers", "parameters", "bytes", "parameter ratio to 2048x2"], rows)


# --- latency (pytest-benchmark, serial pass) ----------------------------------------------------

@pytest.fixture
def benchmarks(request, benchmark):
    """A factory of pytest-benchmark fixtures, one per (architecture, batch) measured in this test.

    Built exactly as pytest-benchmark's own `benchmark` fixture builds one (its session's options),
    so every measurement gets its own name, group, statistics and JSON entry. Skips, naming the
    serial command, when pytest-benchmark is disabled (under xdist, or with --benchmark-disable)."""
    if benchmark.disabled:
        benchmark.skipped = True
        pytest.skip(f"forward latency needs pytest-benchmark, which is disabled under xdist (-n) and with "
                    f"--benchmark-disable; run the serial latency pass: {LATENCY_PASS}")
    session = request.config._benchmarksession
    marker = request.node.get_closest_marker("benchmark")
    options = {**session.options, **(marker.kwargs if marker else {})}
    made: list[BenchmarkFixture] = []

    def make(name: str, group: str, extra_info: dict) -> BenchmarkFixture:
        fixture = benchmark if not made else BenchmarkFixture(
            request.node, add_stats=session.benchmarks.append, logger=session.logger,
            warner=request.node.warn, disabled=session.disabled, **options)
        fixture.name, fixture.fullname = name, f"{request.node.nodeid}::{name}"
        fixture.group = group
        fixture.extra_info.update(extra_info)
        made.append(fixture)
        return fixture
    yield make
    for fixture in made[1:]:
        fixture._cleanup()


@contextlib.contextmanager
def quiet_timing():
    """One torch thread and no garbage collection while timing (pytest's process holds many objects,
    and a collection pass inside a timed forward would be measured as latency)."""
    threads, collecting = torch.get_num_threads(), gc.isenabled()
    torch.set_num_threads(1)
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        if collecting:
            gc.enable()


def forward(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return model(x)


def time_forward(benchmarks, label: str, model, batch: int, seed: int, reference=None) -> dict[str, np.ndarray]:
    """Per-round forward latencies (seconds) of `model` at `batch`, recorded by pytest-benchmark.

    With a reference model, every timed round is paired with one forward pass of the reference timed
    with the same clock in pedantic's untimed setup (even rounds) or teardown (odd rounds): the pair
    is adjacent in time, so load drifts cancel from their ratio, and neither always runs first."""
    fixture = benchmarks(f"{label} batch {batch}", f"4.1 forward latency, batch {batch}",
                         {"parameters": parameter_count(model), "bytes": serialized_bytes(model), "batch": batch})
    x = torch.randn(batch, IN_FEATURES, generator=torch.Generator().manual_seed(seed))
    reference_times: list[float] = []
    rounds = {"setup": 0, "teardown": 0}
    parity = {"setup": 0, "teardown": 1}   # the reference runs before even rounds, after odd ones

    def run_reference(when: str) -> None:
        rounds[when] += 1
        if reference is not None and rounds[when] % 2 == parity[when]:
            start = time.perf_counter()
            forward(reference, x)
            reference_times.append(time.perf_counter() - start)

    def setup():
        run_reference("setup")
        return (model, x), {}
    fixture.pedantic(forward, setup=setup, teardown=lambda *args: run_reference("teardown"),
                     rounds=UNPAIRED_ROUNDS if reference is None and batch != 1 else ROUNDS[batch],
                     warmup_rounds=WARMUP[batch])
    return {"model": np.array(fixture.stats.stats.data), "reference": np.array(reference_times[WARMUP[batch]:])}


@pytest.mark.benchmark(disable_gc=True)
@claim(CARD)
def test_forward_latency_does_not_follow_the_parameter_count_at_batch_1(arm, evidence, benchmarks):
    seed = evidence.seeds[0]
    nets = architectures() if arm == "claim" else {"64x64 (a)": split_widths(NEURONS, 64),
                                                   "64x64 (b)": split_widths(NEURONS, 64)}
    models = {name: build(widths, seed + i) for i, (name, widths) in enumerate(nets.items())}
    names = list(models)
    ref, deep = names[0], names[-1]
    with quiet_timing():
        times = {(n, b): time_forward(benchmarks, n, models[n], b, seed, reference=_reference(models, n, b, arm))
                 for b in BATCHES for n in names}
    params = {n: parameter_count(m) for n, m in models.items()}
    ratio = params[deep] / params[ref]
    log_ratio = block_log_ratios(times[deep, 1], BLOCK[1])
    evidence.check(stats.paired_greater(
        log_ratio, np.full(len(log_ratio), math.log(ratio)), min_effect=math.log(MIN_FACTOR), alpha=ALPHA,
        labels=("log latency ratio", "log parameter ratio"),
        name=f"batch 1: {deep}'s latency ratio to {ref} exceeds its parameter ratio ({ratio:.3g}) "
             f"{MIN_FACTOR:g}-fold (blocks of paired adjacent rounds)"))
    if arm == "claim":
        evidence.check(stats.rank_correlated(
            [params[n] for n in names], [times[n, BATCHES[-1]]["model"].min() for n in names], alpha=ALPHA,
            name=f"batch {BATCHES[-1]}: latency is rank-correlated with the parameter count"))
    else:
        for b in BATCHES:
            evidence.check(stats.equivalent(
                block_log_ratios(times[deep, b], BLOCK[b]), reference=0.0, margin=SAME_MARGIN, alpha=ALPHA,
                label="log latency ratio", name=f"batch {b}: identical nets have latency ratio 1 (+/-25%, "
                                                "blocks of paired adjacent rounds)"), expect=True)
    _report(evidence, models, times)


def _reference(models: dict, name: str, batch: int, arm: str):
    """The model each round is paired with: the first architecture, at batch 1 (the claim's ratio)
    and in the control at every batch; none for the reference itself."""
    first = next(iter(models))
    return None if name == first or (arm == "claim" and batch != 1) else models[first]


def block_log_ratios(paired: dict[str, np.ndarray], block: int) -> np.ndarray:
    """log(fastest model round / fastest reference round) per block of consecutive paired rounds."""
    n = len(paired["model"]) // block * block
    model, reference = (paired[k][:n].reshape(-1, block) for k in ("model", "reference"))
    return np.log(model.min(axis=1)) - np.log(reference.min(axis=1))


def _report(evidence, models: dict, times: dict) -> None:
    names = list(models)
    ref = names[0]
    params = {n: parameter_count(m) for n, m in models.items()}
    sizes = {n: serialized_bytes(m) for n, m in models.items()}
    lat = {(n, b): float(times[n, b]["model"].min()) for n in names for b in BATCHES}
    rel = {(n, b): 1.0 if n == ref else float(np.exp(np.median(block_log_ratios(times[n, b], BLOCK[b]))))
           if len(times[n, b]["reference"]) else lat[n, b] / lat[ref, b] for n in names for b in BATCHES}
    rows = [[n, params[n], sizes[n], params[n] / params[ref], sizes[n] / sizes[ref]]
            + [x for b in BATCHES for x in (lat[n, b] * 1e6, rel[n, b])] for n in names]
    header = ["architecture", "parameters", "bytes", "parameter ratio", "bytes ratio"]
    header += [h for b in BATCHES for h in (f"fastest round batch {b} (us)", f"latency ratio batch {b}")]
    evidence.table("Parameters, storage and latency side by side (ratios to the first architecture)", header, rows)
    last = names[-1]
    if evidence.arm == "claim":
        evidence.note(f"which measure disagrees: bytes follow parameters (ratio {sizes[last] / sizes[ref]:.3f} vs "
                      f"{params[last] / params[ref]:.3f} for {last}); latency at batch {BATCHES[-1]} roughly too "
                      f"({rel[last, BATCHES[-1]]:.3f}); latency at batch 1 does not ({rel[last, 1]:.2f}, "
                      f"{rel[last, 1] / (params[last] / params[ref]):.0f}x the parameter ratio)")
    evidence.measure("latency per round (s)", {f"{n} batch {b}": {k: v.tolist() for k, v in t.items()}
                                               for (n, b), t in times.items()})
    fig, ax = plt.subplots(figsize=(8, 4.2))
    measures = {"parameters": [params[n] / params[ref] for n in names],
                "bytes": [sizes[n] / sizes[ref] for n in names]}
    measures.update({f"latency, batch {b}": [rel[n, b] for n in names] for b in BATCHES})
    width = 0.8 / len(measures)
    for i, (label, values) in enumerate(measures.items()):
        ax.bar(np.arange(len(names)) + (i - (len(measures) - 1) / 2) * width, values, width, label=label)
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set(yscale="log", ylabel=f"ratio to {ref}", xlabel="hidden layers (width x depth, 4,096 neurons)",
           title="4.1 the same neurons in more layers: three measures of cost")
    ax.legend(fontsize=8)
    evidence.save_figure(fig, "cost-measures")
