"""Trained models whose training differs from the recipe's by a schedule or a loss (3.3, 3.5).

The schedule and the loss are fields of the Recipe (frozen dataclasses, so they key the cache);
without either this is exactly `zoo.trained_many` on the recipe (a look's seeds trained stacked).
"""
from __future__ import annotations

import dataclasses

from fixtures.zoo import ModelZoo, Recipe, Trained


def trained_variants(zoo: ModelZoo, recipe: Recipe, seeds: list[int], *, schedule=None, loss=None) -> list[Trained]:
    """`recipe` trained for each of `seeds` with lr_at=schedule and/or loss_fn=loss (both frozen dataclasses)."""
    for obj in (schedule, loss):
        if obj is not None and not dataclasses.is_dataclass(obj):
            raise TypeError(f"{obj!r} must be a frozen dataclass so that its fields can key the cache")
    return zoo.trained_many(dataclasses.replace(recipe, lr_schedule=schedule, loss=loss), seeds)
