"""Lines for the person at the terminal while tests run.

pytest captures what a test prints, and an xdist worker has no terminal of its own, so a plain print from
inside a test (a process waiting for another one's build, a long build starting) shows nowhere until the
test ends, if at all. `notice` writes past the capture: through the terminal reporter in a serial run or on
the controller, to the worker's inherited stderr (the controller's terminal) in an xdist worker.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

_write: Callable[[str], None] | None = None
_verbosity = 0


def install(config) -> None:
    """Route `notice` to this pytest run's terminal (called when the plugin activates)."""
    global _write, _verbosity
    _verbosity = config.get_verbosity()
    in_worker = hasattr(config, "workerinput")
    prefix = f"[{config.workerinput['workerid']}] " if in_worker else ""

    def write(line: str) -> None:
        capman = config.pluginmanager.getplugin("capturemanager")   # looked up now: they register after us
        reporter = config.pluginmanager.getplugin("terminalreporter")
        with capman.global_and_fixture_disabled() if capman is not None else contextlib.nullcontext():
            if reporter is not None and not in_worker:
                if reporter._tw.width_of_current_line:   # after a row of progress dots
                    reporter.write("\n")
                reporter.write_line(line)
            else:
                sys.stderr.write(f"\n{prefix}{line}\n")
                sys.stderr.flush()
    _write = write


def uninstall() -> None:
    global _write, _verbosity
    _write, _verbosity = None, 0


def notice(line: str) -> None:
    """Show `line` on the terminal now, whatever captures the test's output."""
    if _write is not None:
        _write(line)
    else:
        print(line, file=sys.stderr, flush=True)



def detail(line: str) -> None:
    """Show `line` under `-v` only (e.g. a long build starting in a worker)."""
    if _verbosity >= 1:
        notice(line)
