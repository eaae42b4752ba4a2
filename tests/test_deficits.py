"""5.2's MLP deficit runs as a Recipe: members from shared initializations, a per-member blur window, step decay."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from claims.section5.deficits import MemberBlur, StepDecay, blur
from models.mlp import MLPConfig
from models.stacked import MembersConfig, StackedCrossEntropy, stacked_cross_entropy


def test_members_with_the_same_initialization_start_identical_and_others_differ():
    torch.manual_seed(0)
    model = MembersConfig(MLPConfig(4, (3,), 2), (0, 0, 0, 1)).build()
    for p in model.parameters():                  # each (members, ...)
        assert torch.equal(p[0], p[1]) and torch.equal(p[0], p[2]) and not torch.equal(p[0], p[3])
    with pytest.raises(ValueError, match="without gaps"):
        MembersConfig(MLPConfig(4, (3,), 2), (0, 2))


def test_the_blur_reaches_each_member_only_in_its_window():
    augment = MemberBlur(("none", "early", "late", "none, second init"), sigma=2.0, deficit=3, late_start=5)
    apply = augment.transform(seed=0)
    x = torch.randn(6, 40)
    for epoch, blurred in ((0, {1}), (2, {1}), (3, set()), (5, {2}), (7, {2}), (8, set())):
        xm = apply(epoch, x)
        assert xm.shape == (4, 6, 40)
        for m in range(4):
            assert torch.allclose(xm[m], blur(x, 2.0) if m in blurred else x), (epoch, m)


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
                    augment=MemberBlur(("none",), 2.0, 1, 1))
    before = recipe.spec()
    assert set(before["component_code"]) == {"arch", "augment"}
    monkeypatch.setattr(zoo_module, "module_fingerprint", lambda name: "edited " + name)
    assert recipe.spec() != before
