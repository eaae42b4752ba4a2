"""Trained models whose training differs from the recipe's by a schedule or a loss (3.3, 3.5).

`zoo.trained` trains a Recipe with the plain loop; a learning-rate schedule (`lr_at`) or a custom
loss (`loss_fn`) is a keyword of the same `fixtures.training.train`, so these models go through the
same cache with the schedule's / loss's dataclass fields added to the key. Without either, this is
exactly `zoo.trained` (same key, shared with any claim using the same recipe and seed).
"""
from __future__ import annotations

import dataclasses

from claimcheck.seeds import derive
from fixtures.training import History, train
from fixtures.zoo import ModelZoo, Recipe, Trained


def at_least(evidence, minimum: int) -> list[int]:
    """The claim's paired seeds, extended to `minimum` from its own seed sequence when the scale gives fewer
    (seed i is the same in both lists, so the first seeds are the profile's)."""
    return evidence.seeds_at_least(minimum)


def _describe(obj) -> dict | None:
    if obj is None:
        return None
    if not dataclasses.is_dataclass(obj):
        raise TypeError(f"{obj!r} must be a frozen dataclass so that its fields can key the cache")
    return {"type": type(obj).__name__, **dataclasses.asdict(obj)}


def trained_variant(zoo: ModelZoo, recipe: Recipe, seed: int, *, schedule=None, loss=None) -> Trained:
    """`recipe` trained for `seed` with lr_at=schedule and/or loss_fn=loss (both frozen dataclasses)."""
    if schedule is None and loss is None:
        return zoo.trained(recipe, seed)
    data = zoo.data(recipe.data, seed)
    spec = {"kind": "trained-variant", "recipe": recipe.spec(), "seed": seed, "scale": zoo.run.scale,
            "device": zoo.run.device, "schedule": _describe(schedule), "loss": _describe(loss)}

    def build():
        model = zoo.build(recipe, seed)
        history = train(model, data, recipe.train, seed=derive(seed, "batches"), device=zoo.run.device,
                        lr_at=schedule, loss_fn=loss)
        return {f"final.{k}": v for k, v in model.state_dict().items()}, {"history": history.to_json()}
    entry = zoo.cache.get_or_build(spec, build)
    model = zoo.build(recipe, seed)
    model.load_state_dict({k[6:]: v for k, v in entry.tensors.items() if k.startswith("final.")})
    return Trained(model.to(zoo.run.device).eval(), History(**entry.meta["metrics"]["history"]),
                   data.to(zoo.run.device), None, entry.loaded)
