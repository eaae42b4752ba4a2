"""Latency as ratios: two callables timed back to back, in a random order per round, with time.perf_counter.

A ratio between adjacent timings cancels what is common to both (a machine twice as fast or slow, a slow drift
of load), and the fastest round of each block of rounds shrugs off load spikes (noise only adds time). Timing
runs serially inside the test, so it works under xdist; pytest-benchmark is not involved.

    with quiet_timing():
        paired = paired_rounds(lambda: model(x), lambda: reference(x), rounds=120, warmup=10, seed=seed)
    log_ratios = block_log_ratios(paired, block=6)     # one value per block: the unit of a test over blocks
"""
from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable

import numpy as np

from claimcheck.global_state import library_quiet, library_threads


@contextlib.contextmanager
def quiet_timing():
    """No garbage collection while timing (pytest's process holds many objects, and a collection pass inside a
    timed call would be measured as latency), one thread in the libraries a project registers
    (claimcheck.global_state: this project's deep-learning framework) and what they suspend while timing
    (their optional `quiet()`: this project's FLOP counter, fixtures/flops.py)."""
    collecting = gc.isenabled()
    with library_threads(1), library_quiet():
        gc.collect()
        gc.disable()
        try:
            yield
        finally:
            if collecting:
                gc.enable()


def seconds(call: Callable[[], object]) -> float:
    """Wall time of one call (time.perf_counter)."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def paired_rounds(model: Callable[[], object], reference: Callable[[], object] | None, *, rounds: int,
                  warmup: int, seed: int) -> dict[str, np.ndarray]:
    """Per-round seconds of `model` and, when given, of `reference` timed back to back with it in the same
    round, in a random order per round (so no periodic interruption keeps hitting the same side). The first
    `warmup` rounds are run and dropped. Returns {"model": array, "reference": array (empty without one)}."""
    if rounds < 1 or warmup < 0:
        raise ValueError(f"rounds must be >= 1 and warmup >= 0, got {rounds} and {warmup}")
    times: dict[str, list[float]] = {"model": [], "reference": []}
    model_first = np.random.default_rng(seed).integers(0, 2, size=warmup + rounds).astype(bool)
    for r in range(warmup + rounds):
        calls = [("model", model)] if reference is None else \
            [("model", model), ("reference", reference)][::1 if model_first[r] else -1]
        for key, call in calls:
            elapsed = seconds(call)
            if r >= warmup:
                times[key].append(elapsed)
    return {k: np.array(v) for k, v in times.items()}


def block_log_ratios(paired: dict[str, np.ndarray], block: int) -> np.ndarray:
    """log(fastest model round / fastest reference round) per block of `block` consecutive paired rounds
    (a trailing partial block is dropped)."""
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    if len(paired["model"]) != len(paired["reference"]):
        raise ValueError("block_log_ratios needs paired rounds (timed with a reference)")
    n = len(paired["model"]) // block * block
    if n == 0:
        raise ValueError(f"fewer rounds ({len(paired['model'])}) than one block ({block})")
    model, reference = (np.asarray(paired[k][:n]).reshape(-1, block) for k in ("model", "reference"))
    return np.log(model.min(axis=1)) - np.log(reference.min(axis=1))
