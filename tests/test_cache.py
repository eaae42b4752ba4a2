"""Tensors in the store: weights-only loads, refusal of anything but a state dict, model keys."""
from __future__ import annotations

import io
import json

import pytest
import torch

from claimcheck.store import CacheRebuildWarning, Store, _bytes_hash
from fixtures.cache import TensorCache

SPEC = {"kind": "test", "seed": 1, "scale": "smoke"}


def build_counting(counter: list):
    def build():
        counter.append(1)
        return {"w": torch.arange(6.0).reshape(2, 3)}, {"acc": 0.5}
    return build


def forge(store: Store, spec: dict, obj) -> None:
    """Replace an entry's payload with torch.save(obj) and make its hash consistent."""
    payload_path, meta_path, _ = store.paths(spec)
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    payload_path.write_bytes(buffer.getvalue())
    meta = json.loads(meta_path.read_text())
    meta["sha256"]["payload"] = _bytes_hash(buffer.getvalue())
    meta_path.write_text(json.dumps(meta))


def test_tensors_round_trip_and_load_from_disk(tmp_path):
    built = []
    first = TensorCache(Store(tmp_path)).get_or_build(SPEC, build_counting(built))
    second = TensorCache(Store(tmp_path)).get_or_build(SPEC, build_counting(built))
    assert len(built) == 1 and not first.loaded and second.loaded
    assert torch.equal(second.tensors["w"], first.tensors["w"]) and second.meta["metrics"] == {"acc": 0.5}


class NotAStateDict:
    """Any pickled object that is not a mapping of tensors must be refused."""

    def __init__(self):
        self.payload = "arbitrary code could run here"


@pytest.mark.parametrize("foreign", [NotAStateDict(), [1, 2, 3], {"w": [1.0, 2.0]}],
                         ids=["custom-object", "list", "dict-of-lists"])
def test_a_pickled_object_that_is_not_a_state_dict_is_refused(tmp_path, foreign):
    store, built = Store(tmp_path), []
    cache = TensorCache(store)
    cache.get_or_build(SPEC, build_counting(built))
    forge(store, SPEC, foreign)   # a consistent forgery: the weights-only load itself must refuse it
    with pytest.warns(CacheRebuildWarning, match="weights-only|mapping of names"):
        entry = cache.get_or_build(SPEC, build_counting(built))
    assert len(built) == 2 and isinstance(entry.tensors["w"], torch.Tensor)


def test_the_callers_validation_sees_the_tensors(tmp_path):
    cache, built = TensorCache(Store(tmp_path)), []
    cache.get_or_build(SPEC, build_counting(built))

    def needs_bias(entry):
        entry.tensors["bias"]
    with pytest.warns(CacheRebuildWarning, match="KeyError"):
        cache.get_or_build(SPEC, build_counting(built), validate=needs_bias)
    assert len(built) == 2


def test_build_must_return_tensors(tmp_path):
    with pytest.raises(TypeError, match="mapping of names to tensors"):
        TensorCache(Store(tmp_path)).get_or_build(SPEC, lambda: ({"w": [1, 2]}, {}))


def tiny_zoo(tmp_path):
    from types import SimpleNamespace

    from fixtures.training import TrainSpec
    from fixtures.zoo import DataSpec, ModelZoo, Recipe
    from models.mlp import MLPConfig

    run = SimpleNamespace(scale="smoke", device="cpu")
    recipe = Recipe(arch=MLPConfig(64, (8,), 10), data=DataSpec("digits"),
                    train=TrainSpec(epochs=1, lr=1e-2, batch_size=256))
    return ModelZoo(Store(tmp_path), run), recipe


def test_a_model_key_changes_with_the_training_code_and_the_library_versions(tmp_path, monkeypatch):
    from fixtures import zoo as zoo_module

    zoo, recipe = tiny_zoo(tmp_path)
    zoo.trained(recipe, 1)
    monkeypatch.setattr(zoo_module, "training_fingerprint", lambda: "edited training code")
    zoo.trained(recipe, 1)
    monkeypatch.setattr(zoo_module, "training_libraries", lambda: {"torch": "99.0"})
    zoo.trained(recipe, 1)
    assert zoo.store.counts() == {"loaded": 0, "built": 3}


def test_a_model_entry_with_wrong_keys_or_shapes_is_rebuilt(tmp_path):
    zoo, recipe = tiny_zoo(tmp_path)
    zoo.trained(recipe, 1)
    (meta_path,) = tmp_path.rglob("*.json")
    spec = json.loads(meta_path.read_text())["spec"]
    state = torch.load(meta_path.with_suffix(".bin"), weights_only=True)
    state["final.layers.0.weight"] = torch.zeros(3, 3)           # a shape the model cannot load
    forge(zoo.store, spec, state)
    with pytest.warns(CacheRebuildWarning, match="RuntimeError"):
        trained = zoo.trained(recipe, 1)
    assert not trained.loaded_from_cache


def test_the_zoo_stacks_seeds_where_stacking_pays_and_trains_a_bn_net_stacked_once_per_look(tmp_path):
    import dataclasses

    from claims.shared.resolution import MULTIRES
    from models.mlp import MLPConfig
    from models.proposals import WarmupCosine
    from models.residual import ConvNetConfig, ResMLPConfig

    zoo, recipe = tiny_zoo(tmp_path)
    assert zoo.stackable(recipe)
    assert zoo.stackable(dataclasses.replace(recipe, lr_schedule=WarmupCosine(1e-2, 10, 2)))
    bn = dataclasses.replace(recipe, arch=ResMLPConfig(64, 8, 2, 10))
    assert zoo.stackable(bn)                                                        # BatchNorm: buffers stack
    assert not zoo.stackable(dataclasses.replace(recipe, arch=ConvNetConfig(1, 10, channels=4, blocks=1)))
    assert not zoo.stackable(dataclasses.replace(recipe, augment=MULTIRES))
    assert zoo.stackable(dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, stop_at_train_acc=1.0)))
    assert not zoo.stackable(dataclasses.replace(recipe, arch=MLPConfig(64, (512, 512), 10)))    # 300k: no gain
    runs = zoo.trained_many(bn, [1, 2])
    assert zoo.store.counts() == {"loaded": 0, "built": 1}                          # one entry for the look
    assert not torch.equal(runs[0].model.blocks[0].f[1].running_mean, runs[1].model.blocks[0].f[1].running_mean)
    again = zoo.trained_many(bn, [1, 2])
    assert all(t.loaded_from_cache for t in again) and zoo.store.counts()["built"] == 1
