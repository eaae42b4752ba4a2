"""The run's session: its state, the hooks that need it, and the report it writes.

One `ClaimSession` per pytest process, stored on the config and registered as a plugin object when the plugin
activates. Results travel from xdist workers to the controller inside each test report's user_properties.
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import pytest

from claimcheck import config as cfg
from claimcheck import console, global_state
from claimcheck.evidence import Evidence
from claimcheck.junit import junit_key, junit_properties
from claimcheck.options import run_configuration
from claimcheck.report import PAYLOAD_KEY, absorb, write_report
from claimcheck.scheduling import DURATIONS_FILE, store_durations
from claimcheck.store import Store
from claimcheck.verdicts import Arm, verdict

session_key = pytest.StashKey["ClaimSession"]()
evidence_key = pytest.StashKey[Evidence]()
_cache_before_key = pytest.StashKey[dict]()


class ClaimSession:
    """Run state and the hooks that need it; registered as a plugin object when the plugin activates.

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
            report.user_properties.extend(item.stash.get(junit_key, []))
            return  # a passed setup still reports below: the controller then knows a claim test started
        ev = item.stash.get(evidence_key, None)
        card = marker.kwargs["card"]
        arm = item.callspec.params.get("arm", Arm.CLAIM) if hasattr(item, "callspec") else Arm.CLAIM
        payload = ev.to_json() if ev is not None else {"claim_id": card.id, "arm": arm, "checks": []}
        payload["card"] = dataclasses.asdict(card)
        xfail = item.get_closest_marker("xfail")
        if xfail is not None:   # a strict xfail arm: its pass rate is the chance that some check still fails
            payload["xfail"] = str(xfail.kwargs.get("reason", ""))
        payload["device"] = self.run.device
        before, now = item.stash.get(_cache_before_key, {}), self.cache_counts()
        payload["cache"] = {k: now[k] - before.get(k, 0) for k in now}
        for fields in item.config.hook.pytest_claims_arm_fields(item=item):
            payload.update({k: v for k, v in (fields or {}).items() if k not in payload})
        report.user_properties.append((PAYLOAD_KEY, json.dumps(payload)))
        item.stash[junit_key] = junit_properties(payload, report)

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


def active_session(config) -> ClaimSession | None:
    return config.stash.get(session_key, None)


def activate(config) -> ClaimSession:
    """Validate the options, build the run configuration and register the run's session (once); register the
    project's libraries' global state and, on a CPU, limit every thread pool to one thread."""
    existing = active_session(config)
    if existing is not None:
        return existing
    run = run_configuration(config)
    for state in config.hook.pytest_claims_global_state(config=config):
        global_state.register(state)
    if run.device == "cpu":
        global_state.limit_cpu_threads()
    session = ClaimSession(run, hasattr(config, "workerinput"), Path(config.rootpath))
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


def terminal_width(reporter) -> int | None:
    """The terminal's width for the summary; None where pytest only guesses it (no terminal and no COLUMNS,
    e.g. a CI log): the summary then uses its own 120 columns."""
    if reporter is None or not (reporter.isatty() or os.environ.get("COLUMNS")):
        return None
    return reporter._tw.fullwidth


def progress_line(entry: dict) -> str:
    """`2.3 claim   SUPPORTED  <key number> p=3e-06 n=5  41.2 s built`: what one arm did, in one line."""
    from claimcheck.report import primary_check
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
    if check.get("undecided_at_smoke"):
        parts.append(f"would need ~{check['seeds_needed']} seeds" if check.get("seeds_needed") else "undecided")
    cache = entry.get("cache") or {}
    parts.append(f"{entry.get('wall_s', 0.0):.1f} s" + (" built" if cache.get("built") else " cached"
                                                         if cache.get("loaded") else ""))
    return "  ".join(parts)


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
