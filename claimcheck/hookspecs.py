"""Hooks a project implements in its own plugin (a conftest or a module named with `-p`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from claimcheck.global_state import LibraryState


@pytest.hookspec
def pytest_claims_run_identity(config) -> dict | None:
    """What of this run, beyond scale, seeds and device, stored results depend on (e.g. the content hash
    of a weights file given by an option). Every implementation's dict joins the run's identity, which is
    part of every stored measurement's and figure's key. Values must be JSON data."""


@pytest.hookspec(firstresult=True)
def pytest_claims_reference_workload(config) -> float | None:
    """Run the project's reference workload once and return its wall time in seconds (with
    `--claims-reference`, before any test): the report divides the run's wall time by it, so times compare
    across machines of different speed."""


@pytest.hookspec(firstresult=True)
def pytest_claims_cuda_available(config) -> bool | None:
    """Whether `--claims-device auto|cuda` can use CUDA here (a project on torch asks torch). Without an
    implementation the engine never picks CUDA and refuses `--claims-device cuda`."""


@pytest.hookspec
def pytest_claims_global_state(config) -> LibraryState | None:
    """The process-wide random generators and CPU thread pool of a library the engine does not know (a
    project on a deep-learning framework returns the framework's), as a claimcheck.global_state.LibraryState.
    Registered when claimcheck activates, before its first thread limit; from then on the per-test seeding,
    `@measurement`'s isolated generators, the one-thread CPU limit and latency.quiet_timing cover it too."""


@pytest.hookspec
def pytest_claims_arm_fields(item) -> dict | None:
    """Fields a project adds to a claim arm's record in claims.json, asked after each of the test's setup and
    call phases (on the process that ran it, so under xdist on its worker): e.g. what the project measured
    around the test's call. Every implementation's dict joins the arm's record; a field the engine already
    writes is kept as the engine wrote it. Values must be JSON data. `flops` (the floating-point operations the
    call ran, as the project counts them) is shown beside the arm's wall time in the cards and the HTML
    overview (this project: `--claims-count-flops`, fixtures/flops.py)."""
