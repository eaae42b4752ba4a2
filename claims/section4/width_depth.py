"""Same neurons, more layers: the architectures of claim 4.1, their exact costs, and their latency.

Latency is measured two ways. The claim's verdict uses timing blocks (claimcheck.latency): each block times the
deeper net and {2048, 2048} back to back in a random order, and its log latency ratio is taken between the two
fastest rounds, so a machine twice as fast or slow, load drifts and load spikes leave it unchanged; blocks are
the unit of replication, added look by look like seeds. pytest-benchmark times each forward pass on its own in
the serial latency pass (its table, JSON and histogram); `benchmark_table` reads that JSON for the card.
"""
from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from claimcheck import stats
from claimcheck.latency import block_log_ratios, paired_rounds, quiet_timing
from models.mlp import MLPConfig

NEURONS, LAYERS = 4096, (2, 4, 8, 16, 32, 64)   # {2048, 2048} ... {64 x 64}: the same 4,096 hidden neurons
IN_FEATURES, CLASSES = 784, 10                    # an MNIST-sized input, ten classes
EXCESS = "log(latency ratio / parameter ratio)"   # one value per timing block


def split_widths(neurons: int, layers: int) -> tuple[int, ...]:
    """`neurons` hidden neurons spread evenly over `layers` layers: (4096, 4) -> (1024,) * 4."""
    if neurons < 1 or layers < 1:
        raise ValueError(f"neurons and layers must be positive, got neurons={neurons}, layers={layers}")
    if neurons % layers:
        raise ValueError(f"{neurons} neurons cannot be split evenly over {layers} layers")
    return (neurons // layers,) * layers


def mlp_parameters(in_features: int, widths: Sequence[int], num_classes: int) -> int:
    """Exact parameter count of Linear layers in_features -> widths... -> num_classes (weights + biases):
    sum over layers of (fan_in + 1) * fan_out. For k equal hidden layers of width w:
    (in + 1) w + (k - 1)(w + 1) w + (w + 1) C."""
    sizes = [in_features, *widths, num_classes]
    if any(int(s) != s or s < 1 for s in sizes):
        raise ValueError(f"layer sizes must be positive integers, got {sizes}")
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))


def serialized_bytes(module: nn.Module) -> int:
    """Size in bytes of the module's state dict as torch.save writes it (the storage cost)."""
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def architectures() -> dict[str, tuple[int, ...]]:
    """{"2048x2": (2048, 2048), "1024x4": (1024,) * 4, ...}: width x hidden layers, first the exercise's."""
    return {f"{NEURONS // k}x{k}": split_widths(NEURONS, k) for k in LAYERS}


def build(widths: tuple[int, ...], seed: int) -> nn.Module:
    """The MLP 784 -> widths -> 10 in eval mode, its weights drawn from `seed` (global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MLPConfig(IN_FEATURES, widths, CLASSES).build().eval()


def forward(model: nn.Module, x: torch.Tensor) -> Callable[[], torch.Tensor]:
    """One forward pass in inference mode, as a call to time."""
    def call() -> torch.Tensor:
        with torch.inference_mode():
            return model(x)
    return call


def timing_blocks(model: nn.Module, reference: nn.Module, x: torch.Tensor, seeds: Sequence[int], *,
                  rounds: int, warmup: int) -> dict[str, list[float]]:
    """One timing block per seed: `rounds` paired rounds of model and reference (order drawn from the seed,
    `warmup` rounds dropped). Per block: the log latency ratio of the fastest rounds, and those rounds (s)."""
    rows: dict[str, list[float]] = {"log latency ratio": [], "model fastest (s)": [], "reference fastest (s)": []}
    with quiet_timing():
        for seed in seeds:
            paired = paired_rounds(forward(model, x), forward(reference, x), rounds=rounds, warmup=warmup,
                                   seed=seed)
            rows["log latency ratio"].append(float(block_log_ratios(paired, rounds)[0]))
            rows["model fastest (s)"].append(float(paired["model"].min()))
            rows["reference fastest (s)"].append(float(paired["reference"].min()))
    return rows


def latency_excess(rows: dict[str, list[float]], *, parameter_ratio: float, min_factor: float, alpha: float,
                   name: str) -> stats.StatResult:
    """H1: the median timing block's latency ratio exceeds the parameter ratio more than `min_factor`-fold, a
    one-sided exact sign test over timing blocks on log(latency ratio / parameter ratio) - log(min_factor).

    No futility test: the check ends SUPPORTED or, after its last look, INCONCLUSIVE with the measured noise in
    its detail, never NOT SUPPORTED. Timing on shared cores cannot refute it: load widens the blocks' spread and,
    slowing the memory-bound {2048, 2048} most, shrinks the shallow splits' excess (pilot, {1024 x 4}: 1.12 quiet,
    1.04 at load 6, 1.00 at load 10 on 2 cores), so a futility stop, at the minimum factor or even at no excess,
    would turn load into a refutation. (The engine's default design effect, Cohen's dz = 1 beyond the minimum, is
    relative to that spread.)"""
    excess = np.asarray(rows["log latency ratio"], dtype=float) - math.log(parameter_ratio)
    result = stats.greater_than(excess, reference=0.0, min_effect=math.log(min_factor), alpha=alpha, name=name,
                                label=EXCESS)
    result.p_futility = None
    result.test = ("one-sided exact sign test over timing blocks on log(latency ratio / parameter ratio) - "
                   "log(min factor) (binomial)")
    result.effect_name = f"median {EXCESS}"
    result.detail = (f"latency ratio {math.exp(np.median(rows['log latency ratio'])):.3g} vs parameter ratio "
                     f"{parameter_ratio:.3g}: {math.exp(np.median(excess)):.3g}-fold (minimum {min_factor:g}); "
                     f"timing noise: block-to-block sd of the log ratio {noise(excess):.3f} over {len(excess)} "
                     f"blocks; {result.detail}")
    return result


def noise(log_ratios: Sequence[float]) -> float:
    """The block-to-block standard deviation of log ratios (the measured timing noise)."""
    return float(np.std(np.asarray(log_ratios, dtype=float), ddof=1))


def benchmark_table(path: Path) -> tuple[str, list[str], list[list[object]]] | None:
    """pytest-benchmark's numbers for the forward passes of the latency pass, read from its JSON (`path`, written
    by --benchmark-json): (title, header, rows), or None when the file is missing or holds no 4.1 group."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    runs = [b for b in doc.get("benchmarks", []) if str(b.get("group", "")).startswith("4.1")]
    if not runs:
        return None
    reference = {b["extra_info"]["batch"]: b["stats"]["median"] for b in runs
                 if b["extra_info"].get("hidden_layers") == LAYERS[0]}
    rows = []
    for b in sorted(runs, key=lambda b: (b["extra_info"]["batch"], b["extra_info"]["hidden_layers"])):
        info, s = b["extra_info"], b["stats"]
        ratio = s["median"] / reference[info["batch"]] if info["batch"] in reference else float("nan")
        rows.append([b["group"], info["architecture"], info["parameters"], info["bytes"], s["min"] * 1e6,
                     s["median"] * 1e6, s["iqr"] * 1e6, s["rounds"], info["parameter_ratio"], ratio])
    commit = doc.get("commit_info", {})
    cpu = doc.get("machine_info", {}).get("cpu", {}).get("brand_raw", "an unknown processor")
    title = (f"pytest-benchmark, latency pass of {doc.get('datetime', '?')} ({Path(path).name}; commit "
             f"{str(commit.get('id', '?'))[:10]}{' with local changes' if commit.get('dirty') else ''}; {cpu}): "
             "each forward pass timed on its own, one torch thread; unpaired, so load moves these ratios more "
             "than the paired timing blocks that decide the claim")
    header = ["group", "architecture", "parameters", "bytes", "min (us)", "median (us)", "IQR (us)", "rounds",
              "parameter ratio", "median latency ratio"]
    return title, header, rows
