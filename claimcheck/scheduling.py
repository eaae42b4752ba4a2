"""Which tests run where: `--claims-shard` groups, the order of xdist's queue and its scheduler.

All three read the committed durations file (pytest-split's format): whole test files, balanced by their
total seconds, the longest first.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

DURATIONS_FILE = ".test_durations"  # pytest-split's file, committed; also orders xdist's queue


def is_xdist_controller(config) -> bool:
    """True in the process that hands tests to xdist workers (pytest -n N with N >= 1)."""
    return (not hasattr(config, "workerinput") and bool(getattr(config.option, "tx", None))
            and getattr(config.option, "dist", "no") != "no")


def committed_durations(path: Path) -> dict[str, float]:
    """Test id -> seconds from the durations file (empty when there is none or it does not parse)."""
    try:
        durations = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in durations.items() if isinstance(v, (int, float))} if isinstance(
        durations, dict) else {}


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


def keep_shard(config, items: list, shard: tuple[int, int]) -> None:
    """Deselect the tests outside `--claims-shard G/N`'s files."""
    keep = shard_files(items, committed_durations(Path(config.rootpath) / DURATIONS_FILE), *shard)
    config.hook.pytest_deselected(items=[i for i in items if _file_of(i) not in keep])
    items[:] = [i for i in items if _file_of(i) in keep]


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


def claim_file_scheduling(config, log):
    """`-n N` hands out whole claim files, not single claim tests: a claim's tests and its control share
    trained models, and on two workers at once one would wait for the other's lock. Every other test is
    handed out alone, so that a long file of engine tests does not end the run on one worker while the
    other sits idle: xdist's file-wise scheduling, with one work unit per test outside the files that hold
    claim arms."""
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
