"""4.1: the same neurons in more layers: parameters, storage and forward latency (the efficiency misnomer).

Two latency measurements (see width_depth.py): the verdict uses timing blocks of paired adjacent rounds, measured
in every run (serial or xdist) and extended block by block while the evidence is unclear; the forward pass of
every architecture is also a pytest-benchmark benchmark (`-m latency`), timed in the serial latency pass (README,
"The latency pass"), whose JSON the card shows.
"""
from __future__ import annotations

import functools
import math
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from claimcheck import sequential, stats
from claimcheck.evidence import Arm, Card, PerSeed, claim
from claimcheck.latency import quiet_timing
from claimcheck.lazy import LazyModule
from claimcheck.seeds import derive
from claimcheck.verdicts import Outcome
from claims.families import TIMING_BLOCKS
from claims.section4.width_depth import (
    CLASSES,
    IN_FEATURES,
    LAYERS,
    architectures,
    benchmark_table,
    build,
    forward,
    latency_excess,
    mlp_parameters,
    noise,
    serialized_bytes,
    timing_blocks,
)
from models.mlp import MLPConfig, parameter_count

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

ALPHA = 0.01
BATCHES = (1, 256)          # batch 1: per-layer overhead shows; batch 256: the matrix products amortize it
REFERENCE = "2048x2"        # the exercise's {2048, 2048}: every ratio is to it
# Minimum factor by which each split's latency ratio must exceed its parameter ratio at batch 1 (claim) and must
# not at batch 256 (control). Pilot, this 2-core machine, 30 blocks per split (latency ratio / parameter ratio;
# quiet / beside two busy loops and colleagues' test suites, load 4-6): batch 1 1.12/1.06, 1.25/1.13, 1.76/1.43,
# 3.8/2.8, 11/7.8 for 4, 8, 16, 32, 64 layers; batch 256 0.99-1.0/0.93, 1.0-1.07/0.92, 0.98-1.18/1.06,
# 0.83-1.29/0.83, 1.2-1.98/1.04. Each minimum sits between the two batches' quiet values.
# 16 layers (minimum 1.35 then) is measured, not asserted: on another processor of our kind (Intel family 6 model
# 167, 2026-12-06) its control was SUPPORTED, 1.38-fold at batch 256 (21 of 25 blocks above 1.35), against 2.1-2.2 at
# batch 1: there 256-wide products are less efficient than 2048-wide ones at any batch (quiet, 5-6 blocks: 1.30-1.39
# at 256, 1.36-1.41 at 512, 1.13-1.30 at 1,024, 1.12-1.16 at 2,048), so no minimum holds on both processors for
# both arms. 32 and 64 layers keep their margins there (batch 1: 4.8 and 14-fold; batch 256: 1.45-1.61, 2.53-2.79).
MIN_FACTOR = {32: 2.0, 64: 4.0}
# The exercise's own splits, {1024 x 4} and {512 x 8}, are measured and shown, not asserted: their excess over the
# parameter ratio (1.12 and 1.25 quiet) shrank to 1.00-1.07 and 1.13 at load 5-10 on this 2-core machine (clean-clone
# runs beside other pilots ended INCONCLUSIVE at 25 blocks, e.g. 1.07-fold against 1.06, sd 0.060), so whether they
# reach any fixed factor depends on the machine and its load: their latency follows the parameter count within that.
MEASURED_ONLY = (4, 8, 16)
ROUNDS = {1: 12, 256: 4}    # paired rounds per timing block (~20 ms at batch 1, ~0.1 s at batch 256)
WARMUP = {1: 2, 256: 1}     # rounds run and dropped before each block
TABLE_BLOCKS = 6            # blocks of the claim arm's batch-256 comparison (reported and rank-correlated only)
BENCH_ROUNDS = {1: 300, 256: 30}   # pytest-benchmark rounds (~0.3-1 ms / 2-18 ms a forward pass)
MAX_BYTES_PER_TENSOR = 1024        # serialization overhead; pilot 340-470 bytes per tensor
LATENCY_JSON = "benchmarks/latency.json"   # the latency pass's --benchmark-json, in the report folder, unless
LATENCY_JSON_ENV = "DL_CLAIMS_LATENCY_JSON"   # names another file (relative to the project root; e.g. for shards)

CARD = Card(
    id="4.1",
    budget_s=25,
    title="Deeper-narrower nets have fewer parameters and bytes, but not proportionally lower latency",
    question="Take n neurons in each of two hidden layers, e.g. {2048, 2048}, and spread the same neurons "
             "over k layers: {1024 x 4}, {512 x 8}. Which model is more efficient in latency (forward "
             "time), storage and number of parameters?",
    answer="The deeper-narrower splits of the same 4,096 hidden neurons have fewer parameters, exactly "
           "(in + 1)w + (k - 1)(w + 1)w + (w + 1)C for k layers of width w (the hidden-to-hidden part "
           "falls as 4096^2 (k - 1)/k^2): 5.82M, 3.96M, 2.25M, 1.19M, 0.61M, 0.31M for k = 2...64 with a "
           "784-dimensional input and 10 classes, and their serialized size follows the parameter count (4 "
           "bytes per float32 parameter plus a few hundred bytes per tensor). Latency is the measure that "
           "disagrees (Dehghani et al.'s efficiency misnomer): at batch 1 every split runs slower than its parameter "
           "count says by a factor that grows with depth, because each layer adds a fixed cost: asserted at least "
           f"{MIN_FACTOR[32]:g} and {MIN_FACTOR[64]:g} for 32 and 64 layers. For the "
           "exercise's own splits, {1024 x 4} and {512 x 8}, the excess is small (1.12 and 1.25 on a quiet 2-core "
           "machine, 1.00-1.13 under load): their latency falls nearly as their parameter count does, which the "
           "table shows and no check asserts. At batch 256, "
           "where the matrix products amortize that cost, the same factors are not reached and latency falls in the "
           "order of the parameter count. 16 layers sit in between, shown and not asserted: 1.8-2.2-fold at batch 1, "
           "but 256-wide products can themselves be less efficient than 2048-wide ones (1.3-1.4-fold at batch 256 "
           "on one processor of our kind, 1.0-1.2 on another). The deeper model is cheaper to store, not "
           "proportionally faster to run; "
           "which split is fastest depends on the batch size and the machine (the tables give this run's ratios "
           "and, when the latency pass ran, pytest-benchmark's).",
    method=f"MLPs 784 -> widths -> 10 with 4,096 hidden neurons in k = {', '.join(map(str, LAYERS))} layers. "
           "Parameters: the formula against torch's count, for these nets and for hypothesis-drawn widths. Storage: "
           "bytes of torch.save(state_dict). Latency, in every run (also under xdist): forward passes in inference "
           "mode, one torch thread, garbage collection off, timed with time.perf_counter in timing blocks of "
           f"{ROUNDS[1]} rounds (batch 1; {ROUNDS[256]} at batch 256), each round one forward of the split and one of "
           "{2048, 2048} back to back in a random order; a block's log latency ratio is taken between their fastest "
           "rounds (load spikes only add time). Per split at batch 1, alpha "
           f"{ALPHA}: the median timing block's latency ratio exceeds the parameter ratio by at least "
           f"{', '.join(f'{f:g}' for f in MIN_FACTOR.values())} for k = {', '.join(map(str, MIN_FACTOR))} "
           f"(k = {', '.join(map(str, MEASURED_ONLY))}: {TABLE_BLOCKS} blocks, measured for the table only) "
           "(one-sided sign test over timing blocks, a ratio of ratios, the same on a machine of any speed), decided "
           "on sequential blocks like seeds (10 at the first look, more while undecided, up to 5 x the scale's seeds; "
           "no futility stop: timing on shared cores cannot refute it, and a busy machine, which widens the blocks' "
           "spread and shrinks the shallow splits' excess, ends the check INCONCLUSIVE, naming that spread); and at "
           f"batch 256 the latency ratio (median of {TABLE_BLOCKS} blocks) is rank-correlated with the parameter "
           "count over the six nets (one-sided Spearman). Separately, each forward pass is a pytest-benchmark "
           f"benchmark (`pytest -m latency`, a group per batch size), shown when the latency pass's JSON is in the "
           f"report folder ({LATENCY_JSON}, or the file {LATENCY_JSON_ENV} names).",
    control="The same per-split check with the same minimum factors at batch 256, where per-layer overhead is "
            "amortized by the matrix products: the measurement could pass (narrow layers are also less efficient "
            "per parameter there, up to 2-fold for 64 x 64 in the pilot) but must not.",
)


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
        model = build(widths, derive(evidence.run.seed_base, CARD.id, "weights"))
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
    evidence.table("Parameters and storage (latency: see the latency test)",
                   ["architecture", "hidden layers", "parameters", "bytes", "parameter ratio to 2048x2"], rows)


def depth(name: str) -> int:
    return int(name.split("x")[1])


# --- pytest-benchmark: the forward pass of every architecture (timed in the serial latency pass) --------------

@pytest.mark.latency
@pytest.mark.parametrize("batch", BATCHES, ids=lambda b: f"batch{b}")
@pytest.mark.parametrize("architecture", list(architectures()), ids=lambda a: f"4.1-{depth(a):02d}layers-{a}")
def test_benchmark_forward_pass(benchmark, architecture, batch):
    """One forward pass of `architecture` at `batch` (pytest-benchmark; run once as a smoke test when benchmarks
    are disabled, e.g. under xdist)."""
    widths = architectures()[architecture]
    model, reference = build(widths, seed=0), build(architectures()[REFERENCE], seed=0)
    x = torch.randn(batch, IN_FEATURES, generator=torch.Generator().manual_seed(0))
    benchmark.group = f"4.1-forward-batch-{batch}"
    benchmark.extra_info.update(architecture=architecture, hidden_layers=len(widths), width=widths[0],
                                batch=batch, parameters=parameter_count(model), bytes=serialized_bytes(model),
                                parameter_ratio=parameter_count(model) / parameter_count(reference),
                                torch_threads=1)
    with quiet_timing():   # one torch thread and no garbage collection, as in the claim's timing blocks
        out = benchmark.pedantic(forward(model, x), rounds=BENCH_ROUNDS[batch], warmup_rounds=BENCH_ROUNDS[batch]
                                 // 10, iterations=1)
    assert out.shape == (batch, CLASSES)


# --- the claim: timing blocks of paired adjacent rounds, sequential over blocks --------------------------------

def latency_checks(models: dict, batch: int, seed: int) -> dict[str, tuple]:
    """Per deeper split: (values_for(block seeds) -> rows, test(rows) -> StatResult), its check at `batch`."""
    x = torch.randn(batch, IN_FEATURES, generator=torch.Generator().manual_seed(seed))
    reference, params = models[REFERENCE], {n: parameter_count(m) for n, m in models.items()}
    checks = {}
    for name, model in models.items():
        if name == REFERENCE:
            continue
        k, ratio = depth(name), params[name] / params[REFERENCE]
        values_for = functools.partial(timing_blocks, model, reference, x, rounds=ROUNDS[batch], warmup=WARMUP[batch])
        if k in MEASURED_ONLY:
            checks[name] = (values_for, None)
            continue
        test = functools.partial(
            latency_excess, parameter_ratio=ratio, min_factor=MIN_FACTOR[k], alpha=ALPHA,
            name=f"batch {batch}: {name}'s latency ratio to {REFERENCE} exceeds its parameter ratio ({ratio:.3g}) "
                 f"{MIN_FACTOR[k]:g}-fold (timing blocks of paired adjacent rounds)")
        checks[name] = (values_for, test)
    return checks


def nets(seed: int) -> dict:
    return {name: build(widths, seed + i) for i, (name, widths) in enumerate(architectures().items())}


@claim(CARD)
def test_forward_latency_of_every_split_falls_less_than_its_parameter_count_at_batch_1(arm, evidence):
    seed = derive(evidence.run.seed_base, CARD.id, "weights")
    models = nets(seed)
    batch = BATCHES[0] if arm is Arm.CLAIM else BATCHES[-1]
    blocks = {}
    for name, (values_for, test) in latency_checks(models, batch, seed).items():
        if test is None:   # the exercise's shallow splits: measured for the table, not asserted (MEASURED_ONLY)
            blocks[name, batch] = values_for(TIMING_BLOCKS.seeds(derive(seed, "measured", batch), TABLE_BLOCKS))
            continue
        per_block = evidence.per_seed(values_for, family=TIMING_BLOCKS)
        decision = evidence.check_over_seeds(per_block, test)
        blocks[name, batch] = per_block.upto(decision.n)
        if decision.outcome is Outcome.INCONCLUSIVE and arm is Arm.CLAIM:
            spread = noise(blocks[name, batch]["log latency ratio"])
            evidence.note(f"{name}: INCONCLUSIVE after {decision.n} timing blocks; the measured timing noise, the "
                          f"block-to-block sd of the log ratio, was {spread:.3f} (0.01-0.05 on a quiet machine): run "
                          "the claim alone on its cores")
    if arm is Arm.CLAIM:
        fixed = latency_checks(models, BATCHES[-1], seed)
        for name, (values_for, _) in fixed.items():
            blocks[name, BATCHES[-1]] = values_for(TIMING_BLOCKS.seeds(derive(seed, "table"), TABLE_BLOCKS))
        names = [n for n in models if n != REFERENCE]
        evidence.check(stats.rank_correlated(
            [parameter_count(m) for m in models.values()],
            [1.0] + [math.exp(np.median(blocks[n, BATCHES[-1]]["log latency ratio"])) for n in names], alpha=ALPHA,
            name=f"batch {BATCHES[-1]}: the latency ratio to {REFERENCE} is rank-correlated with the parameter "
                 "count (six nets, median of timing blocks)"))
    _report(evidence, models, blocks)


def _report(evidence, models: dict, blocks: dict) -> None:
    params = {n: parameter_count(m) for n, m in models.items()}
    sizes = {n: serialized_bytes(m) for n, m in models.items()}
    measured = sorted({b for _, b in blocks})
    rel = {(n, b): math.exp(np.median(v["log latency ratio"])) for (n, b), v in blocks.items()}
    rel.update({(REFERENCE, b): 1.0 for b in measured})
    fastest = {(n, b): min(v["model fastest (s)"]) for (n, b), v in blocks.items()}
    fastest.update({(REFERENCE, b): min(min(v["reference fastest (s)"]) for (_, c), v in blocks.items() if c == b)
                    for b in measured})
    header = ["architecture", "parameters", "bytes", "parameter ratio", "bytes ratio"]
    header += [h for b in measured for h in (f"fastest round batch {b} (us)", f"latency ratio batch {b}",
                                             f"latency / parameter ratio batch {b}")]
    rows = [[n, params[n], sizes[n], params[n] / params[REFERENCE], sizes[n] / sizes[REFERENCE]]
            + [x for b in measured for x in (fastest[n, b] * 1e6, rel[n, b],
                                             rel[n, b] * params[REFERENCE] / params[n])] for n in models]
    evidence.table(f"Timing blocks: parameters, storage and latency (ratios to {REFERENCE}; latency ratio: median "
                   "over blocks)", header, rows)
    evidence.record_value("timing blocks", {f"{n} batch {b}": v for (n, b), v in blocks.items()})
    if evidence.arm is Arm.CLAIM:
        _benchmark_numbers(evidence)
        _figure(evidence, list(models), params, sizes, rel, measured)


def _benchmark_numbers(evidence) -> None:
    override = os.environ.get(LATENCY_JSON_ENV)
    path = evidence.run.root / override if override else evidence.run.report_dir / LATENCY_JSON
    table = benchmark_table(path)
    if table is None:
        evidence.note(f"pytest-benchmark: no latency pass in {path} (run the latency pass of the README before "
                      "the suite to show its numbers here)")
        return
    evidence.table(*table)


def _figure(evidence, names, params, sizes, rel, measured) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.2))
    measures = {"parameters": [params[n] / params[REFERENCE] for n in names],
                "bytes": [sizes[n] / sizes[REFERENCE] for n in names]}
    measures.update({f"latency, batch {b}": [rel[n, b] for n in names] for b in measured})
    width = 0.8 / len(measures)
    for i, (label, values) in enumerate(measures.items()):
        ax.bar(np.arange(len(names)) + (i - (len(measures) - 1) / 2) * width, values, width, label=label)
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set(yscale="log", ylabel=f"ratio to {REFERENCE}", xlabel="hidden layers (width x depth, 4,096 neurons)",
           title="4.1 the same neurons in more layers: three measures of cost")
    ax.legend(fontsize=8)
    evidence.save_figure(fig, "cost-measures", cache=False)   # latency is timed afresh in every run


# --- load must not flip the verdict ---------------------------------------------------------------------------

BUSY_S = 240     # bound on each busy process's life, whatever happens to the test
BUSY = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end:\n    pass\n"


@pytest.fixture
def two_busy_processes():
    """Two busy-loop subprocesses on the same cores (each ends itself after BUSY_S), stopped after the test."""
    procs = [subprocess.Popen([sys.executable, "-c", BUSY.format(s=BUSY_S)]) for _ in range(2)]
    time.sleep(0.5)
    yield procs
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.load
@pytest.mark.parametrize("arm", list(Arm), ids=lambda a: f"4.1-{a}")
def test_busy_processes_leave_the_latency_checks_right_or_inconclusive(request, arm, two_busy_processes):
    """The claim's per-split checks, decided on sequential timing blocks beside two busy loops: the claim arm
    must be SUPPORTED or INCONCLUSIVE (never NOT SUPPORTED), the control never SUPPORTED. Opt-in (`-m load`):
    busy loops would slow the rest of a suite run."""
    if "load" not in re.findall(r"\w+", request.config.getoption("markexpr") or ""):
        pytest.skip("runs only when selected with -m load (it keeps two busy processes on the cores)")
    seed = derive(0, CARD.id, "load", arm)
    batch = BATCHES[0] if arm is Arm.CLAIM else BATCHES[-1]
    wrong = Outcome.NOT_SUPPORTED if arm is Arm.CLAIM else Outcome.SUPPORTED
    schedule = sequential.Schedule.for_run(5, TIMING_BLOCKS.floor)    # the standard scale's looks
    lines = []
    for name, (values_for, test) in latency_checks(nets(seed), batch, seed).items():
        if test is None:   # measured only (MEASURED_ONLY)
            continue
        blocks = PerSeed(values_for, TIMING_BLOCKS, seed, schedule)
        decision = sequential.decide(lambda n, b=blocks, t=test: t(b.upto(n)), schedule)
        lines.append(f"{arm} {name}: {decision.outcome} after {decision.n} blocks, p={decision.result.p_value:.3g}, "
                     f"{decision.result.detail.split('; Cohen')[0]}")
        assert decision.outcome != wrong, "\n".join(lines)
        if decision.outcome is Outcome.INCONCLUSIVE:
            assert "timing noise: block-to-block sd" in decision.result.detail, decision.result.detail
    print("\n".join(lines))
