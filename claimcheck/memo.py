"""Stored measurements: what a claim computes, reused while the project's code and the run are unchanged.

`@measurement` wraps a function `f(ctx, *args)` whose result (numbers, strings, lists, numpy arrays,
tuples, dicts; array-likes such as tensors become numpy arrays) is a pure function of its arguments.
`ctx` is anything with a `store` (claimcheck.store.Store) and a `run` (claimcheck.config.RunConfig):
the `workspace` fixture, or a project's own fixture such as a model zoo. The result is stored as JSON
(floats round-trip exactly), keyed by the function, its arguments, the run's identity (scale, seed base,
seed count, device and what the project's `pytest_claims_run_identity` hooks add), the versions of the
ini's `claims_packages` and a fingerprint of the code: the defining module itself, every shared
(non-test) module of the ini's `claims_sources` and the engine's computing modules. Editing a claim's
test file recomputes only that claim's measurements; editing shared code recomputes all of them.

The function runs with random, numpy and the libraries a project registers (claimcheck.global_state)
seeded from its key, and the caller's RNG states are restored afterwards, so a measurement and everything
after it in the test are the same whether the value was computed or loaded.

Figures drawn from those measurements are stored the same way (`cached_png`, used by
`Evidence.save_figure`): rendering a PNG costs more than most warm claims.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable

import numpy as np

from claimcheck.global_state import isolated_rng
from claimcheck.identity import library_versions, source_fingerprint
from claimcheck.seeds import derive
from claimcheck.store import Store, Unusable

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclasses.dataclass(frozen=True)
class Workspace:
    """The store and the run: what `@measurement` functions receive first (the `workspace` fixture)."""

    store: Store
    run: object


def measurement(fn: Callable) -> Callable:
    """Store `fn(ctx, *args, **kwargs)` in `ctx.store` (see the module docstring)."""

    @functools.wraps(fn)
    def cached(ctx, *args, **kwargs):
        run = ctx.run
        spec = {"kind": "measurement", "function": f"{fn.__module__}.{fn.__qualname__}",
                "args": keyable(list(args)), "kwargs": keyable(kwargs), "run": run.identity(),
                "libraries": library_versions(tuple(run.packages)),
                "code": source_fingerprint(fn.__module__, run.root, tuple(run.sources))}

        def build():
            identity = json.dumps([spec["function"], spec["args"], spec["kwargs"]], sort_keys=True)
            with isolated_rng(derive(0, "measurement", identity)):
                return b"", {"value": encode(fn(ctx, *args, **kwargs))}
        return decode(ctx.store.get_or_build(spec, build, validate=_has_value).meta["metrics"]["value"])
    return cached


def cached_png(store: Store, run, module_name: str, figure_id: str, render: Callable[[], bytes]) -> bytes:
    """A figure's PNG bytes, rendered once per figure id, run, library versions and source fingerprint of
    the module that draws it (the conditions under which its measurements are reused)."""
    spec = {"kind": "figure", "figure": figure_id, "run": run.identity(),
            "libraries": library_versions((*run.packages, "matplotlib")),
            "code": source_fingerprint(module_name, run.root, tuple(run.sources))}
    return store.get_or_build(spec, lambda: (render(), {}), validate=_is_png).payload


def _has_value(entry) -> None:
    if "value" not in entry.meta["metrics"]:
        raise Unusable("a measurement entry without its value")
    decode(entry.meta["metrics"]["value"])


def _is_png(entry) -> None:
    if not entry.payload.startswith(PNG_SIGNATURE):
        raise Unusable("a figure entry that is not a PNG")


def keyable(value):
    """`value` as plain JSON data for a key; refuses anything without a stable description."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        spec = value.spec() if hasattr(value, "spec") else dataclasses.asdict(value)
        return {"type": type(value).__name__, **keyable(spec)}
    if isinstance(value, dict):
        return {str(k): keyable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [keyable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a stored measurement cannot be keyed on a {type(value).__name__}; "
                    "pass dataclasses, numbers, strings or containers of them")


def encode(value):
    """JSON data for a result, tagging what JSON would lose (arrays, tuples)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):   # a tensor: its values, as a numpy array
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("a stored measurement's dict keys must be strings")
        if "__ndarray__" in value or "__tuple__" in value:
            raise TypeError("a stored measurement's dict cannot use the reserved keys __ndarray__/__tuple__")
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a stored measurement cannot return a {type(value).__name__}")


def decode(value):
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.array(value["__ndarray__"], dtype=value["dtype"]).reshape(value["shape"])
        if "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        return {k: decode(v) for k, v in value.items()}
    return value
