"""The pytest plugin: the hooks pytest calls and the fixtures claims use, each delegating to a module of its own.

options.py       the `--claims-*` options, the `claims_*` ini settings and the run configuration built from them
session.py       the run's session (stored on the config, registered as a plugin object): results, the report
scheduling.py    `--claims-shard` groups, the order of xdist's queue and its scheduler
junit.py         the properties `--junitxml` gets
global_state.py  seeding and thread limits, covering the libraries a project registers (hookspecs.py)

Installed into an environment, the plugin loads in every pytest project there, so it stays inert until a
project asks for it: a `claims_*` setting in its ini file activates it at configure time, and a collected
`@claim` test (or a test that asks for one of its fixtures) activates it then. Inert, it adds its options
and a marker and changes nothing else: no thread limits, no reseeding, no scheduler, no header, no report.
`-p no:claimcheck.plugin` keeps it out entirely.
"""
from __future__ import annotations

import functools
from pathlib import Path

import pytest

from claimcheck import config as cfg
from claimcheck import global_state, options, scheduling
from claimcheck.evidence import Evidence
from claimcheck.memo import Workspace, cached_png
from claimcheck.seeds import derive
from claimcheck.session import LateActivation, activate, active_session, evidence_key
from claimcheck.verdicts import Arm


def pytest_addoption(parser):
    options.add_options(parser)


def pytest_addhooks(pluginmanager):
    from claimcheck import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_configure(config):
    config.addinivalue_line("markers", "claim(id, card): the catalogue item a test verifies")
    misread = options.path_value_taken_for_a_test_path(config)
    if misread:
        raise pytest.UsageError(misread)
    if options.configures_claims(config):
        activate(config)
    else:
        config.pluginmanager.register(LateActivation(config), "claimcheck-late-activation")


def pytest_collection_finish(session):
    """Limit the thread pools again once collection has imported the claims' libraries."""
    active = active_session(session.config)
    if active is not None and active.run.device == "cpu":
        global_state.limit_cpu_threads()


def pytest_report_header(config):
    session = active_session(config)
    if session is None:
        return None
    if session.run.device == "auto":
        return [f"{session.run.title}: {session.run.describe()} (each xdist worker picks cuda if available, else cpu "
                f"with {global_state.CPU_THREADS_PER_PROCESS} thread)"]
    threads = global_state.CPU_THREADS_PER_PROCESS if session.run.device == "cpu" else "default"
    return [f"{session.run.title}: {session.run.describe()} cpu-threads-per-process={threads}"]


def pytest_collection_modifyitems(config, items):
    """Let `-k 2.3` and `-k section2` select claims by catalogue id and section; keep the `--claims-shard`
    group; on xdist workers, queue the longest files first."""
    options.check_claim_ids(config, items)
    shard = config.getoption("claims_shard")
    if shard is not None:
        scheduling.keep_shard(config, items, shard)
    if hasattr(config, "workerinput") and active_session(config) is not None:
        scheduling.longest_files_first(items, Path(config.rootpath) / scheduling.DURATIONS_FILE)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`-n N` hands out whole claim files (scheduling.claim_file_scheduling). An explicit `--dist` other than
    the default `load` is respected, and so is a project without `claims_*` settings (xdist picks the
    scheduler before collection shows any claim test)."""
    if config.getoption("dist") != "load" or not options.configures_claims(config):
        return None
    return scheduling.claim_file_scheduling(config, log)


@pytest.fixture
def run_config(request) -> cfg.RunConfig:
    """The validated run configuration (scale profile, seeds, device, folders)."""
    return activate(request.config).run


@pytest.fixture
def evidence(request) -> Evidence:
    """The record of this claim test; the test must be marked with claimcheck.evidence.claim."""
    marker = request.node.get_closest_marker("claim")
    if marker is None:
        raise pytest.UsageError(f"{request.node.nodeid} asks for `evidence` but is not marked as a claim")
    session = activate(request.config)
    arm = request.node.callspec.params.get("arm", Arm.CLAIM)
    figure_cache = functools.partial(cached_png, session.store, session.run, request.node.module.__name__)
    ev = Evidence(marker.kwargs["card"], arm, session.run, session.run.report_dir / "figures", figure_cache)
    request.node.stash[evidence_key] = ev
    return ev


@pytest.fixture(scope="session")
def workspace(request) -> Workspace:
    """The run's store and configuration: the first argument of claimcheck.memo.measurement functions."""
    session = activate(request.config)
    return Workspace(session.store, session.run)


@pytest.fixture(autouse=True)
def _seeded(request):
    """Seed random, numpy and the project's registered libraries (global_state) from the base seed and the test
    id, for every test of a project that uses claimcheck (inert elsewhere)."""
    session = active_session(request.config)
    if session is not None:
        global_state.seed_everything(derive(session.run.seed_base, request.node.nodeid))
    yield
