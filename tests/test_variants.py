"""Trained variants (a schedule or a loss as part of the cache key)."""
from __future__ import annotations

import pytest

from claimcheck.evidence import Card
from claims.shared.variants import trained_variants
from fixtures.training import TrainSpec
from fixtures.zoo import DataSpec, Recipe
from models.mlp import MLPConfig
from models.proposals import ConfidencePenalizedCE

CARD = Card(id="3.4", title="t", question="q", answer="a", method="m")


def test_a_variant_must_be_a_dataclass_to_key_the_cache():
    recipe = Recipe(MLPConfig(64, (8,), 10), DataSpec("digits"), TrainSpec(epochs=1, lr=1e-3, batch_size=64))
    with pytest.raises(TypeError, match="dataclass"):
        trained_variants(None, recipe, [0], schedule=lambda step: 0.1)
    keyed = Recipe(recipe.arch, recipe.data, recipe.train, loss=ConfidencePenalizedCE(0.3)).spec()
    assert keyed["loss"] == {"beta": 0.3} and keyed["loss_type"] == "ConfidencePenalizedCE"
