"""5.2's deficit components: a per-member window (Recipe augmentation), step decay, the stacked loss."""
from __future__ import annotations

import dataclasses

import torch

from claims.section5.deficits import MemberWindows, StepDecay, Window, deficit_mask
from fixtures.training.stacked_members import StackedCrossEntropy, stacked_cross_entropy
from models.mlp import MLPConfig


def test_deficit_mask_flags_each_condition_in_its_window():
    blanked = deficit_mask(["none", "early", "late"], 0, 3, 5)
    assert [blanked(e).tolist() for e in (0, 2, 3, 5, 7, 8)] == [
        [False, True, False], [False, True, False], [False, False, False],
        [False, False, True], [False, False, True], [False, False, False]]


def test_step_decay_and_the_stacked_loss_as_recipe_components():
    schedule = StepDecay(lr=1e-2, factor=0.5, steps_per_epoch=10)
    assert [schedule(s) for s in (0, 9, 10, 25)] == [1e-2, 1e-2, 5e-3, 2.5e-3]
    logits, y = torch.randn(3, 5, 4), torch.randint(0, 4, (5,))
    assert torch.equal(StackedCrossEntropy()(logits, y), stacked_cross_entropy(logits, y))
    assert dataclasses.is_dataclass(schedule) and hash(schedule) == hash(StepDecay(1e-2, 0.5, 10))


def test_a_component_defined_beside_its_claim_keys_the_model_by_its_source(monkeypatch):
    from fixtures import zoo as zoo_module
    from fixtures.training import TrainSpec
    from fixtures.zoo import DataSpec, Recipe

    recipe = Recipe(MLPConfig(40, (8,), 10), DataSpec("mnist1d"), TrainSpec(epochs=1, lr=1e-3, batch_size=64),
                    augment=MemberWindows((Window("blur", 0, 1),)))
    before = recipe.spec()
    assert set(before["component_code"]) == {"arch", "augment"}
    monkeypatch.setattr(zoo_module, "module_fingerprint", lambda name: "edited " + name)
    assert recipe.spec() != before
