"""Trained models whose training differs from the recipe's by a schedule or a loss (3.3, 3.5).

The schedule and the loss are fields of the Recipe (frozen dataclasses, so they key the cache);
without either this is exactly `zoo.trained` on the recipe.
"""
from __future__ import annotations

import dataclasses

from fixtures.zoo import ModelZoo, Recipe, Trained


def trained_variant(zoo: ModelZoo, recipe: Recipe, seed: int, *, schedule=None, loss=None) -> Trained:
    """`recipe` trained for `seed` with lr_at=schedule and/or loss_fn=loss (both frozen dataclasses)."""
    for obj in (schedule, loss):
        if obj is not None and not dataclasses.is_dataclass(obj):
            raise TypeError(f"{obj!r} must be a frozen dataclass so that its fields can key the cache")
    return zoo.trained(dataclasses.replace(recipe, lr_schedule=schedule, loss=loss), seed)
