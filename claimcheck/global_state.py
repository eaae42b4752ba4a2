"""The process-wide state a run sets: global random generators and CPU thread pools.

The engine seeds Python's random and numpy's legacy global generator and limits the BLAS/OpenMP pools
(threadpoolctl) itself. Libraries that keep more such state and that the engine does not know (a
deep-learning framework's generators and thread pool) are registered as a `LibraryState` by the project's
plugin through the `pytest_claims_global_state` hook (claimcheck/hookspecs.py) when claimcheck activates;
every seeding, isolated block and thread limit below then covers them too, for the rest of the process.
"""
from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Protocol

import numpy as np

CPU_THREADS_PER_PROCESS = 1


class LibraryState(Protocol):
    """One library's process-wide random generators and CPU thread pool. Each method does nothing (and
    `set_threads` returns None) while the library is not loaded, so registering one imports nothing."""

    name: str   # registering a second state of the same name replaces the first

    def seed(self, seed: int) -> None:
        """Seed the library's global generators."""

    def isolated_rng(self, seed: int) -> AbstractContextManager:
        """Seed the library's global generators for a block and restore their states after it."""

    def set_threads(self, count: int) -> int | None:
        """Set the library's CPU thread count; returns the previous count (None: the library is not loaded)."""

    # Optional: `quiet() -> AbstractContextManager`, what the library suspends while code is timed
    # (latency.quiet_timing), e.g. a counter that intercepts its operations; see library_quiet.


_registered: dict[str, LibraryState] = {}


def register(state: LibraryState) -> None:
    """Cover `state` in every seeding, isolated block and thread limit of this process from now on."""
    _registered[state.name] = state


def registered() -> tuple[LibraryState, ...]:
    return tuple(_registered.values())


def seed_everything(seed: int) -> None:
    """Seed random, numpy's legacy global RNG and the registered libraries (for code that reads global state)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    for state in registered():
        state.seed(seed)


@contextmanager
def isolated_rng(seed: int) -> Iterator[None]:
    """Seed the registered libraries, random and numpy for a block, then restore their states."""
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        with ExitStack() as stack:
            for state in registered():
                stack.enter_context(state.isolated_rng(seed))
            random.seed(seed)
            np.random.seed(seed)
            yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)


def limit_cpu_threads() -> None:
    """One thread per process, serial or xdist: CPU float results depend on the thread count, so this
    keeps `pytest` and `pytest -n N` numerically identical (and stops xdist workers from each starting
    full thread pools). Small models are overhead-bound: parallelism comes from -n.

    The environment covers thread pools started later (and xdist workers, which inherit it);
    threadpoolctl and the registered libraries cover those already loaded. Called at configure time and
    again once collection has imported the claims' libraries.
    """
    from threadpoolctl import threadpool_limits

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(CPU_THREADS_PER_PROCESS)
    threadpool_limits(limits=CPU_THREADS_PER_PROCESS)  # numpy/scipy BLAS and OpenMP pools
    for state in registered():
        state.set_threads(CPU_THREADS_PER_PROCESS)


@contextmanager
def library_quiet() -> Iterator[None]:
    """The registered libraries' optional `quiet()` blocks, for a block of timed code."""
    with ExitStack() as stack:
        for state in registered():
            quiet = getattr(state, "quiet", None)
            if quiet is not None:
                stack.enter_context(quiet())
        yield


@contextmanager
def library_threads(count: int) -> Iterator[None]:
    """The registered libraries' thread pools at `count` threads for a block, then as they were."""
    previous = [(state, state.set_threads(count)) for state in registered()]
    try:
        yield
    finally:
        for state, threads in previous:
            if threads is not None:
                state.set_threads(threads)
