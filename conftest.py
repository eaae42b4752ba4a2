"""Project-wide test setup: the figure style. The engine (claimcheck) loads through its pytest11 entry point,
the deep-learning layer (fixtures.plugin) through pytest.ini's addopts."""
import contextlib
import sys

import matplotlib

from claims import figure_style


@contextlib.contextmanager
def _without_assertion_rewriting():
    """pytest rewrites the asserts of every module of a distribution that registers a pytest plugin, all of
    hypothesis's ~90 modules included; where bytecode is not cached (PYTHONDONTWRITEBYTECODE, set on our CI
    machines) every process recompiles them: about 1.3 s in each xdist worker, and again in the controller,
    whose hypothesis summary imports it. Nothing of ours asserts inside hypothesis, so it is imported plain."""
    hooks = [f for f in sys.meta_path if type(f).__name__ == "AssertionRewritingHook"]
    for hook in hooks:
        sys.meta_path.remove(hook)
    try:
        yield
    finally:
        sys.meta_path[:0] = hooks


with _without_assertion_rewriting():
    import hypothesis  # noqa: F401

matplotlib.use("Agg")  # figures are written to files; no display is needed or assumed
figure_style.apply()   # one style for every figure of the report

pytest_plugins = ["pytester"]
