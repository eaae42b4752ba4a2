"""The pytest plugin: options, the run configuration, per-test seeding and report hooks only.

Run state lives in one `ClaimSession` object stored on the config; claims reach it through fixtures.
Results travel from xdist workers to the controller inside each test report's user_properties.

Installed into an environment, the plugin loads in every pytest project there, so it stays inert until a
project asks for it: a `claims_*` setting in its ini file activates it at configure time, and a collected
`@claim` test (or a test that asks for one of its fixtures) activates it then. Inert, it adds its options
and a marker and changes nothing else: no thread limits, no reseeding, no scheduler, no header, no report.
`-p no:claimcheck.plugin` keeps it out entirely.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
import time
from pathlib import Path

import pytest

from claimcheck import config as cfg
from claimcheck import console
from claimcheck.evidence import Card, Evidence
from claimcheck.memo import Workspace, cached_png
from claimcheck.report import PAYLOAD_KEY, absorb, write_report
from claimcheck.seeds import derive, seed_everything
from claimcheck.store import Store

DEFAULT_ID_PATTERN = r"^[1-9][0-9]*(\.[0-9]+)*$"   # "2.3", "10.1.4": a catalogue's numbering
INI_DEFAULTS = {"claims_title": "claimcheck", "claims_id_pattern": DEFAULT_ID_PATTERN, "claims_packages": [],
                "claims_sources": []}
DURATIONS_FILE = ".test_durations"  # pytest-split's file, committed; also orders xdist's queue
CPU_THREADS_PER_PROCESS = 1
session_key = pytest.StashKey["ClaimSession"]()
evidence_key = pytest.StashKey[Evidence]()
_cache_before_key = pytest.StashKey[dict]()
_junit_key = pytest.StashKey[list]()


class ClaimSession:
    """Run state and the hooks that need it; registered as a plugin object in pytest_configure.

    On the controller (or in a serial run) it gathers every claim test's payload and outcome and
    writes the report once; on an xdist worker it only counts cache use per test.
    """

    def __init__(self, run: cfg.RunConfig, is_worker: bool, rootpath: Path):
        self.run = run
        self.is_worker = is_worker
        self.rootpath = rootpath
        self.started = time.time()
        self.entries: dict[str, dict] = {}  # nodeid -> payload + outcome
        self.summary: tuple[list[str], list[Path]] | None = None
        self.write_error = ""
        self.store = Store(run.cache_dir)
        self.durations: dict[str, float] = {}   # nodeid -> seconds, for --claims-store-durations
        self.notes: list[str] = []
        self.verbosity = 0

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        """Count the cache's loads and builds during one test, for the report."""
        item.stash[_cache_before_key] = self.cache_counts()
        yield

    def cache_counts(self) -> dict[str, int]:
        """The store's loads and builds so far."""
        return self.store.counts()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        marker = item.get_closest_marker("claim")
        if marker is None:
            return
        if report.when == "teardown":  # junitxml writes the teardown report's properties
            report.user_properties.extend(item.stash.get(_junit_key, []))
            return  # a passed setup still reports below: the controller then knows a claim test started
        ev = item.stash.get(evidence_key, None)
        card = marker.kwargs["card"]
        arm = item.callspec.params.get("arm", "claim") if hasattr(item, "callspec") else "claim"
        payload = ev.to_json() if ev is not None else {"claim_id": card.id, "arm": arm, "checks": []}
        payload["card"] = dataclasses.asdict(card)
        payload["device"] = self.run.device
        before, now = item.stash.get(_cache_before_key, {}), self.cache_counts()
        payload["cache"] = {k: now[k] - before.get(k, 0) for k in now}
        report.user_properties.append((PAYLOAD_KEY, json.dumps(payload)))
        item.stash[_junit_key] = junit_properties(payload, report)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report):
        """Gather the payload and drop it from the report: --junitxml, which reads user_properties after
        us, gets only the few readable properties the teardown report carries."""
        if self.is_worker:
            return
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        absorb(self.entries, report)
        payload = next((json.loads(v) for k, v in report.user_properties if k == PAYLOAD_KEY), None)
        report.user_properties[:] = [(k, v) for k, v in report.user_properties if k != PAYLOAD_KEY]
        if self.run.device == "auto" and payload and payload.get("device"):  # a controller learns it from workers
            self.run = dataclasses.replace(self.run, device=payload["device"])
        entry = self.entries.get(report.nodeid)
        if entry is not None and (report.when == "teardown" or "crashed" in entry.get("message", "")[:8]):
            self.announce_arm(entry)

    def announce_arm(self, entry: dict) -> None:
        """One line per claim arm as it finishes, on the controller, so a long run shows what it did; `-q`
        keeps pytest's quiet output."""
        if self.verbosity < 0 or "arm" not in entry:
            return
        console.notice(progress_line(entry))

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        """Write the report once every result is in; a report that cannot be written fails the run."""
        if self.is_worker:
            return
        self.after_run(session.config, exitstatus)
        if not self.entries and self.run.shard is None:   # an empty shard still reports, for merge --expect
            return
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        try:
            self.summary = write_report(self.entries, self.run, wall_s=time.time() - self.started,
                                        root=self.rootpath, partial=partial_reasons(session.config, exitstatus),
                                        width=terminal_width(reporter))
        except OSError as error:
            self.write_error = f"{self.run.title}: could not write the report in {self.run.report_dir}: {error}"
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def after_run(self, config, exitstatus) -> None:
        """--claims-store-durations and --claims-prune-cache, on the controller or in a serial run."""
        if config.getoption("claims_store_durations"):
            store_durations(Path(config.rootpath) / DURATIONS_FILE, self.durations)
        complete = not partial_reasons(config, exitstatus) and exitstatus in (0, 1)
        if config.getoption("claims_prune_cache") and complete:
            removed = self.store.prune(unused_since=self.started)
            self.notes.append(f"cache: removed {removed} entries this run did not use ({self.run.cache_dir})")

    def pytest_terminal_summary(self, terminalreporter):
        for note in self.notes:
            terminalreporter.write_line(note)
        if self.write_error:
            terminalreporter.write_line(self.write_error, red=True, bold=True)
        if self.summary is None:
            return
        lines, paths = self.summary
        terminalreporter.section(f"{self.run.title} summary")
        for line in lines:
            terminalreporter.write_line(line)
        for path in paths:
            terminalreporter.write_line(f"report: {path}")


def terminal_width(reporter) -> int | None:
    """The terminal's width for the summary; None where pytest only guesses it (no terminal and no COLUMNS,
    e.g. a CI log): the summary then uses its own 120 columns."""
    import os

    if reporter is None or not (reporter.isatty() or os.environ.get("COLUMNS")):
        return None
    return reporter._tw.fullwidth


def progress_line(entry: dict) -> str:
    """`2.3 claim   SUPPORTED  <key number> p=3e-06 n=5  41.2 s built`: what one arm did, in one line."""
    from claimcheck.report import primary_check, verdict
    from claimcheck.stats import fmt

    check = primary_check(entry) or {}
    parts = [f"{entry.get('claim_id', '?'):<5}", f"{entry['arm']:<7}",
             verdict(entry["arm"], entry.get("outcome", "failed"), entry.get("message", ""))[:60]]
    if check.get("key"):
        parts.append(" ".join(str(check["key"]).split())[:48])
    if check.get("p_value") is not None:
        parts.append(f"p={fmt(check['p_value'])}")
    if check.get("seeds_used"):
        parts.append(f"n={check['seeds_used']}" + (f"/{check['max_seeds']}" if check.get("max_seeds") else ""))
    cache = entry.get("cache") or {}
    parts.append(f"{entry.get('wall_s', 0.0):.1f} s" + (" built" if cache.get("built") else " cached"
                                                         if cache.get("loaded") else ""))
    return "  ".join(parts)


def store_durations(path: Path, durations: dict[str, float]) -> None:
    """Merge this run's per-test seconds into the durations file (tests that did not run keep theirs): it
    balances `--claims-shard` groups and orders xdist's queue."""
    from claimcheck.files import atomic_write_text

    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    known.update({nodeid: round(seconds, 3) for nodeid, seconds in durations.items()})
    atomic_write_text(path, json.dumps(dict(sorted(known.items())), indent=4) + "\n")


def junit_properties(payload: dict, report) -> list[tuple[str, str]]:
    """The properties a dashboard reads from JUnit XML: never the whole payload."""
    from claimcheck.report import outcome_of, primary_check, verdict

    outcome, message = outcome_of(report)
    check = primary_check(payload) or {}
    props = [("claim_id", payload["claim_id"]), ("arm", payload["arm"]),
             ("outcome", verdict(payload["arm"], outcome, message))]
    if check.get("outcome"):
        props.append(("check_outcome", check["outcome"]))
    if check.get("key"):
        props.append(("key_effect", " ".join(check["key"].split())))
    if check.get("p_value") is not None:
        props.append(("p", f"{check['p_value']:.4g}"))
    if check.get("seeds_used"):
        props.append(("seeds_used", str(check["seeds_used"])))
    return props


def partial_reasons(config, exitstatus) -> list[str]:
    """Why this run's report covers less than the whole suite (empty: a complete run). A pytest-split
    shard is not partial: its report is meant for `python -m claimcheck.merge`."""
    reasons = []
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        reasons.append("interrupted")
    if getattr(config.option, "maxfail", 0):
        reasons.append(f"stops after {config.option.maxfail} failure(s) (-x/--maxfail)")
    for option, text in (("keyword", "-k {}"), ("markexpr", "-m {}"), ("lf", "--lf"), ("failedfirst", None),
                         ("deselect", "--deselect {}")):
        value = getattr(config.option, option, None)
        if value and text:
            reasons.append(text.format(value))
    if config.args_source == pytest.Config.ArgsSource.ARGS and not config.getoption("claims_shard", None):
        reasons.append("test paths given: " + " ".join(config.args))
    return reasons


def pytest_addoption(parser):
    group = parser.getgroup("claimcheck", "claimcheck: empirical claims as tests")
    group.addoption("--claims-scale", type=cfg.parse_scale, default="standard", metavar="{smoke,standard,paper}",
                    help="scale profile: seeds, epochs, data, widths (default: standard)")
    group.addoption("--claims-seeds", type=cfg.parse_seed_count, default=None, metavar="N",
                    help="seeds at a check's first look, N >= 2; a sequential check extends to 5 x N while "
                         "undecided (default: the scale's, 3 / 5 / 10)")
    group.addoption("--claims-seed", type=cfg.parse_seed_base, default=cfg.DEFAULT_SEED_BASE, metavar="BASE",
                    help=f"base seed every claim seed derives from, >= 0 (default: {cfg.DEFAULT_SEED_BASE})")
    group.addoption("--claims-report", default="reports", metavar="DIR",
                    help="report folder, relative to the project root (default: reports/); outside the "
                         "project write --claims-report=DIR")
    group.addoption("--claims-cache", default=".claims-cache", metavar="DIR",
                    help="cache folder, relative to the project root (default: .claims-cache/); outside the "
                         "project write --claims-cache=DIR")
    group.addoption("--claims-reference", action="store_true", default=False,
                    help="measure the project's reference workload before the tests; the report gives the wall "
                         "time as a multiple of it (comparable across machines)")
    group.addoption("--claims-device", type=cfg.parse_device, default="auto", metavar="{auto,cpu,cuda}",
                    help="where models train (default: auto: cuda when the project says it is available)")
    group.addoption("--claims-shard", type=cfg.parse_shard, default=None, metavar="G/N",
                    help="run group G of N: whole test files, balanced by the committed durations, the same "
                         "groups with or without xdist; merge the shards' reports with claims-merge --expect N")
    group.addoption("--claims-store-durations", action="store_true", default=False,
                    help=f"write the tests' durations into {DURATIONS_FILE} (it balances shards and orders "
                         "xdist's queue)")
    group.addoption("--claims-prune-cache", action="store_true", default=False,
                    help="after a complete run, delete the cache entries it did not use (keeps a CI cache from "
                         "growing; not with other runs sharing the cache at the same time)")
    parser.addini("claims_title", "names the report, its terminal summary and header (default: claimcheck)",
                  default="claimcheck")
    parser.addini("claims_id_pattern", f"regular expression a claim id must match (default: {DEFAULT_ID_PATTERN})",
                  default=DEFAULT_ID_PATTERN)
    parser.addini("claims_packages", "distributions whose versions key every stored result and head the report",
                  type="args", default=[])
    parser.addini("claims_sources", "project folders or files (from the root) whose code keys every stored "
                  "measurement (test_*.py files count only for their own measurements)", type="args", default=[])


def pytest_addhooks(pluginmanager):
    from claimcheck import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_configure(config):
    config.addinivalue_line("markers", "claim(id, card): the catalogue item a test verifies")
    misread = path_value_taken_for_a_test_path(config)
    if misread:
        raise pytest.UsageError(misread)
    if configures_claims(config):
        activate(config)
    else:
        config.pluginmanager.register(LateActivation(config), "claimcheck-late-activation")


def configures_claims(config) -> bool:
    """Whether the project's ini file sets a `claims_*` setting (to other than its default): the plugin is
    then active from the start."""
    return any(config.getini(name) != default for name, default in INI_DEFAULTS.items())


def active_session(config) -> ClaimSession | None:
    return config.stash.get(session_key, None)


def activate(config) -> ClaimSession:
    """Validate the options, build the run configuration and register the run's session (once)."""
    existing = active_session(config)
    if existing is not None:
        return existing
    requested = config.getoption("claims_device")
    if requested == "auto" and _is_xdist_controller(config):
        device = "auto"  # each worker resolves it; the controller runs no test (and imports no torch)
    else:
        try:
            available = requested != "cpu" and bool(config.hook.pytest_claims_cuda_available(config=config))
            device = cfg.resolve_device(requested, available)
        except ValueError as error:
            raise pytest.UsageError(str(error)) from None
    profile = cfg.PROFILES[config.getoption("claims_scale")]
    root = Path(config.rootpath)
    try:
        report_dir = cfg.writable_folder("--claims-report", config.getoption("claims_report"), root)
        cache_dir = cfg.writable_folder("--claims-cache", config.getoption("claims_cache"), root)
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    run = cfg.RunConfig(
        profile=profile,
        seeds=config.getoption("claims_seeds") or profile.seeds,
        seed_base=config.getoption("claims_seed"),
        device=device,
        report_dir=report_dir,
        cache_dir=cache_dir,
        root=root,
        packages=tuple(config.getini("claims_packages")),
        sources=tuple(config.getini("claims_sources")),
        project_identity=project_identity(config),
        title=config.getini("claims_title"),
        reference_s=reference_seconds(config),
        shard=config.getoption("claims_shard"),
    )
    is_worker = hasattr(config, "workerinput")
    if device == "cpu":
        limit_cpu_threads()
    session = ClaimSession(run, is_worker, Path(config.rootpath))
    session.verbosity = config.get_verbosity()
    config.stash[session_key] = session
    config.pluginmanager.register(session, "claimcheck-session")
    config.add_cleanup(console.uninstall)
    console.install(config)
    return session


class LateActivation:
    """In a project without `claims_*` settings, activates the plugin once a claim test shows up: at
    collection in a serial run or an xdist worker, at the first claim result on an xdist controller (which
    collects nothing)."""

    def __init__(self, config):
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items):
        if active_session(self.config) is None and any(i.get_closest_marker("claim") for i in items):
            activate(self.config)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report):
        if active_session(self.config) is None and any(k == PAYLOAD_KEY for k, _ in report.user_properties):
            activate(self.config).pytest_runtest_logreport(report)   # the session's own hook takes the rest


def _is_xdist_controller(config) -> bool:
    """True in the process that hands tests to xdist workers (pytest -n N with N >= 1)."""
    return (not hasattr(config, "workerinput") and bool(getattr(config.option, "tx", None))
            and getattr(config.option, "dist", "no") != "no")


PATH_OPTIONS = ("--claims-cache", "--claims-report")


def path_value_taken_for_a_test_path(config) -> str:
    """Before any plugin loads, pytest reads the value of `--claims-cache DIR` (two words) as a test path when DIR
    exists, and picks the project root and ini file from it. For a folder outside the project that loses the
    project's ini file (its addopts, plugins, settings). Returns the usage error to raise, or ""."""
    args = list(config.invocation_params.args)
    here = Path(config.invocation_params.dir).resolve()
    expected = _ini_file_above(here)
    if expected is None or (config.inipath is not None and Path(config.inipath).resolve() == expected):
        return ""
    for flag, value in zip(args, args[1:]):
        if flag in PATH_OPTIONS and (here / value).exists():
            return (f"{flag} {value}: pytest took the existing folder {value} for a test path before the plugin "
                    f"loaded, so it did not read the project's ini file {expected}; write {flag}={value}")
    return ""


def _ini_file_above(folder: Path) -> Path | None:
    """The pytest configuration file pytest finds from `folder` upwards (the first folder that has one)."""
    markers = {"pytest.ini": "", ".pytest.ini": "", "pyproject.toml": "[tool.pytest", "tox.ini": "[pytest]",
               "setup.cfg": "[tool:pytest]"}
    for candidate in (folder, *folder.parents):
        for name, section in markers.items():
            path = candidate / name
            try:
                if path.is_file() and (not section or section in path.read_text(errors="replace")):
                    return path.resolve()
            except OSError:
                continue
    return None


def reference_seconds(config) -> float | None:
    """The reference workload's seconds when --claims-reference asks for it (on the controller or a serial run,
    before any test; workers never measure it)."""
    if not config.getoption("claims_reference") or hasattr(config, "workerinput"):
        return None
    seconds = config.hook.pytest_claims_reference_workload(config=config)
    if seconds is None:
        raise pytest.UsageError("--claims-reference: this project defines no reference workload "
                                "(implement the pytest_claims_reference_workload hook)")
    return float(seconds)


def project_identity(config) -> tuple[tuple[str, object], ...]:
    """The project's additions to the run identity (pytest_claims_run_identity), as sorted pairs."""
    merged: dict = {}
    for part in config.hook.pytest_claims_run_identity(config=config):
        merged.update(part or {})
    return tuple(sorted(merged.items()))


def limit_cpu_threads() -> None:
    """One thread per process, serial or xdist: CPU float results depend on the thread count, so this
    keeps `pytest` and `pytest -n N` numerically identical (and stops xdist workers from each starting
    full thread pools). Small models are overhead-bound: parallelism comes from -n.

    The environment covers thread pools started later (and xdist workers, which inherit it);
    threadpoolctl and torch.set_num_threads cover those already loaded. Called at configure time and
    again once collection has imported the claims' libraries.
    """
    import os
    import sys

    from threadpoolctl import threadpool_limits

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(CPU_THREADS_PER_PROCESS)
    threadpool_limits(limits=CPU_THREADS_PER_PROCESS)  # numpy/scipy BLAS and OpenMP pools
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(CPU_THREADS_PER_PROCESS)


def pytest_collection_finish(session):
    active = active_session(session.config)
    if active is not None and active.run.device == "cpu":
        limit_cpu_threads()


def pytest_report_header(config):
    session = active_session(config)
    if session is None:
        return None
    if session.run.device == "auto":
        return [f"{session.run.title}: {session.run.describe()} (each xdist worker picks cuda if available, else cpu "
                f"with {CPU_THREADS_PER_PROCESS} thread)"]
    threads = CPU_THREADS_PER_PROCESS if session.run.device == "cpu" else "default"
    return [f"{session.run.title}: {session.run.describe()} cpu-threads-per-process={threads}"]


def pytest_collection_modifyitems(config, items):
    """Let `-k 2.3` and `-k section2` select claims by catalogue id and section; keep the `--claims-shard`
    group; on xdist workers, queue the longest files first."""
    pattern = re.compile(config.getini("claims_id_pattern"))
    for item in items:
        marker = item.get_closest_marker("claim")
        if marker is None:
            continue
        card = marker.kwargs.get("card")
        if not isinstance(card, Card) or card.id != marker.args[0]:
            raise pytest.UsageError(f"{item.nodeid}: use claimcheck.evidence.claim(card) to mark claims")
        if not pattern.match(card.id):
            raise pytest.UsageError(f"{item.nodeid}: claim id {card.id!r} does not match the ini's "
                                    f"claims_id_pattern {pattern.pattern!r}")
        item.extra_keyword_matches.update({card.id, f"section{card.section}"})
    shard = config.getoption("claims_shard")
    if shard is not None:
        keep = shard_files(items, committed_durations(Path(config.rootpath) / DURATIONS_FILE), *shard)
        config.hook.pytest_deselected(items=[i for i in items if _file_of(i) not in keep])
        items[:] = [i for i in items if _file_of(i) in keep]
    if hasattr(config, "workerinput") and active_session(config) is not None:
        longest_files_first(items, Path(config.rootpath) / DURATIONS_FILE)


def committed_durations(path: Path) -> dict[str, float]:
    """Test id -> seconds from the durations file (empty when there is none or it does not parse)."""
    try:
        durations = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in durations.items() if isinstance(v, (int, float))} if isinstance(
        durations, dict) else {}


def _file_of(item) -> str:
    return item.nodeid.split("::", 1)[0]


def file_durations(items: list, durations: dict[str, float]) -> dict[str, float]:
    """Each test file's total committed seconds; a test without a committed duration counts the median."""
    known = sorted(durations.values())
    default = known[len(known) // 2] if known else 1.0
    per_file: dict[str, list[float]] = {}
    for item in items:
        per_file.setdefault(_file_of(item), []).append(durations.get(item.nodeid, default))
    return {file: math.fsum(seconds) for file, seconds in per_file.items()}   # exact: the same in any order


def shard_files(items: list, durations: dict[str, float], group: int, groups: int) -> set[str]:
    """The test files of shard `group` of `groups`: whole files (a claim's arms share trained models), the
    longest first onto the least-loaded group (ties to the lower group). It depends only on the set of
    collected tests and the durations, not on their order, so every xdist worker and a serial run agree."""
    loads = [0.0] * groups
    members: list[set[str]] = [set() for _ in range(groups)]
    for file, seconds in sorted(file_durations(items, durations).items(), key=lambda kv: (-kv[1], kv[0])):
        target = min(range(groups), key=lambda g: (loads[g], g))
        loads[target] += seconds
        members[target].add(file)
    return members[group - 1]


def longest_files_first(items: list, durations_file: Path) -> None:
    """Order the tests file by file, the files with the longest total committed duration first (tests
    keep their order inside a file). Every worker sorts the same way, as xdist requires; with the
    file-wise scheduling below no long file starts last while the other worker sits idle."""
    durations = committed_durations(durations_file)
    if not durations:
        return
    totals = file_durations(items, durations)
    position = {item.nodeid: i for i, item in enumerate(items)}
    items.sort(key=lambda item: (-totals[_file_of(item)], _file_of(item), position[item.nodeid]))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`-n N` hands out whole claim files, not single claim tests: a claim's tests and its control share
    trained models, and on two workers at once one would wait for the other's lock. Every other test is
    handed out alone, so that a long file of engine tests does not end the run on one worker while the
    other sits idle. An explicit `--dist` other than the default `load` is respected, and so is a project
    without `claims_*` settings (xdist picks the scheduler before collection shows any claim test)."""
    if config.getoption("dist") != "load" or not configures_claims(config):
        return None
    return claim_file_scheduling(config, log)


def claim_file_scheduling(config, log):
    """xdist's file-wise scheduling, with one work unit per test outside the files that hold claim arms."""
    from xdist.scheduler import LoadFileScheduling

    class ClaimFileScheduling(LoadFileScheduling):
        claim_files: set[str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.claim_files is None:   # the collection is complete when the queue is built
                self.claim_files = {n.split("::", 1)[0] for n in self.collection if is_claim_arm(n)}
            file = nodeid.split("::", 1)[0]
            return file if file in self.claim_files else nodeid

    return ClaimFileScheduling(config, log)


def is_claim_arm(nodeid: str) -> bool:
    """Whether a test id is an arm of a claim (`claimcheck.evidence.claim` parametrizes them by arm)."""
    return nodeid.endswith(("[claim]", "[control]"))


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
    arm = request.node.callspec.params.get("arm", "claim")
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
    """Seed torch, numpy and random from the base seed and the test id, for every test of a project that
    uses claimcheck (inert elsewhere)."""
    session = active_session(request.config)
    if session is not None:
        seed_everything(derive(session.run.seed_base, request.node.nodeid))
    yield


