"""The plugin's command-line options and ini settings, and the run configuration built from them.

A bad value is a pytest usage error naming its flag: the parsers of claimcheck.config raise argparse's
error while pytest parses the command line, and what can only be checked against the project (a folder,
the device, the claim ids) raises pytest.UsageError here.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from claimcheck import config as cfg
from claimcheck.evidence import Card
from claimcheck.scheduling import DURATIONS_FILE, is_xdist_controller

try:   # pytest's own configuration-file discovery (pytest.ini, pytest.toml, pyproject.toml, ...), as pytest runs it
    from _pytest.config.findpaths import determine_setup
except ImportError:   # a pytest that no longer has it: the check below is skipped
    determine_setup = None

DEFAULT_ID_PATTERN = r"^[1-9][0-9]*(\.[0-9]+)*$"   # "2.3", "10.1.4": a catalogue's numbering
INI_DEFAULTS = {"claims_title": "claimcheck", "claims_id_pattern": DEFAULT_ID_PATTERN, "claims_packages": [],
                "claims_sources": []}
PATH_OPTIONS = ("--claims-cache", "--claims-report")


def add_options(parser) -> None:
    """The `--claims-*` options and the `claims_*` ini settings."""
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


def configures_claims(config) -> bool:
    """Whether the project's ini file sets a `claims_*` setting (to other than its default): the plugin is
    then active from the start."""
    return any(config.getini(name) != default for name, default in INI_DEFAULTS.items())


def run_configuration(config) -> cfg.RunConfig:
    """The validated run configuration of this process; a value that does not fit the project is a usage
    error naming its flag."""
    requested = config.getoption("claims_device")
    if requested == "auto" and is_xdist_controller(config):
        device = "auto"  # each worker resolves it; the controller runs no test (and imports no project library)
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
    return cfg.RunConfig(
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


def path_value_taken_for_a_test_path(config) -> str:
    """Before any plugin loads, pytest reads the value of `--claims-cache DIR` (two words) as a test path when DIR
    exists, and looks for its configuration file (and the run's root) from DIR as well. For a folder outside the
    project that loses the project's configuration file (its addopts, plugins, settings). pytest's own discovery,
    run again without the folder, tells whether it did. Returns the usage error to raise, or ""."""
    args = list(config.invocation_params.args)
    here = Path(config.invocation_params.dir)
    taken = [i for i, (flag, value) in enumerate(zip(args, args[1:]))
             if flag in PATH_OPTIONS and (here / value).exists()]
    if not taken or determine_setup is None:
        return ""
    without = [arg for i, arg in enumerate(args) if i not in taken and i - 1 not in taken]
    try:
        rootpath, inipath, *_ = determine_setup(
            inifile=config.option.inifilename, override_ini=config.option.override_ini, args=without,
            rootdir_cmd_arg=config.option.rootdir or None, invocation_dir=here)
    except TypeError:   # a pytest whose discovery takes other arguments: the check is skipped
        return ""
    if (rootpath, inipath) == (config.rootpath, config.inipath):
        return ""
    flag, value = args[taken[0]], args[taken[0] + 1]
    return (f"{flag} {value}: pytest took the existing folder {value} for a test path before the plugin loaded, "
            f"so it looked for its configuration file from there: it read {config.inipath or 'none'} instead of "
            f"{inipath or 'none'} and rooted the run in {config.rootpath} instead of {rootpath}; "
            f"write {flag}={value}")


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


def check_claim_ids(config, items) -> None:
    """Every claim test is marked with claimcheck.evidence.claim and its id matches the ini's claims_id_pattern;
    `-k 2.3` and `-k section2` then select claims by catalogue id and section."""
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
