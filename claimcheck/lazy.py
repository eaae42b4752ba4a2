"""Modules imported on first use, so that collecting tests (every xdist worker does) and warm runs, whose
figures and measurements come from the store, do not pay for libraries they never call."""
from __future__ import annotations

import importlib


class LazyModule:
    """A module imported on first attribute access: e.g. scipy.stats (about 0.8 s), matplotlib.pyplot (0.8 s)
    or scikit-learn's estimators (1.5 s), which the xdist controller and most warm runs never need."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        if attr.startswith("_"):
            # pytest's collection probes every module-level object for private markers (fixtures, test
            # classes); answering them must not import the module.
            raise AttributeError(attr)
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"LazyModule({self._name!r})"
