"""Unit tests of section 6's resolution helpers, the fully convolutional net, P(x) and the ImageNet loaders."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from claims.section6 import imagenet
from claims.section6.imagenet import IMAGES_ENV, LIMIT_ENV, ImageNetFiles, imagenet_files_from
from claims.section6.resolution_predictor import (
    best_resolution,
    best_static_mix,
    cheapest_confident,
    fit_correctness,
    relative_cost,
)
from claims.section6.separability import LAYERS, layer_features, separability
from claims.shared.resolution import Augment, flops, resize
from models.fully_conv import FullyConvConfig, disallowed_modules, has_linear
from models.residual import ConvNetConfig


def test_resize_shapes_identity_and_errors():
    x = torch.rand(3, 1, 8, 8)
    assert resize(x, 8) is x
    assert resize(x, 4).shape == (3, 1, 4, 4) and resize(x, 12).shape == (3, 1, 12, 12)
    with pytest.raises(ValueError):
        resize(x, 0)


def test_augment_validation_and_multires_sizes():
    with pytest.raises(ValueError, match="kind"):
        Augment("blur")
    with pytest.raises(ValueError, match="size"):
        Augment("multires")
    transform = Augment("multires", sizes=(4, 6)).transform(seed=1)
    assert {transform(0, torch.rand(2, 1, 8, 8)).shape[-1] for _ in range(20)} == {4, 6}


def test_flops_counts_a_linear_layer_exactly():
    assert flops(nn.Linear(5, 3), (4, 5)) == 2 * 4 * 5 * 3


@pytest.mark.parametrize("side", [1, 3, 4, 6, 8])
def test_fully_conv_net_classifies_every_side_up_to_its_maximum(side):
    net = FullyConvConfig(1, 10, channels=4, downsamplings=3).build()
    assert net(torch.rand(2, 1, side, side)).shape == (2, 10)
    assert not has_linear(net) and disallowed_modules(net) == []


def test_fully_conv_net_rejects_bad_inputs_and_configs():
    net = FullyConvConfig(1, 10, channels=4, downsamplings=2).build()
    with pytest.raises(ValueError, match="exceeds 4"):
        net(torch.rand(1, 1, 5, 5))
    with pytest.raises(ValueError, match="expected input"):
        net(torch.rand(1, 3, 4, 4))
    with pytest.raises(ValueError):
        FullyConvConfig(1, 10, channels=0)
    assert disallowed_modules(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2, 2))) == ["2: Linear"]


def test_best_resolution_is_the_cheapest_correct_one_else_the_highest():
    correct = np.array([[1, 1, 1], [0, 1, 1], [0, 0, 1], [0, 0, 0], [0, 1, 0]], dtype=bool)
    assert best_resolution(correct).tolist() == [0, 1, 2, 2, 1]


def test_cheapest_confident_takes_the_cheapest_resolution_predicted_right_else_the_highest():
    p_correct = np.array([[0.95, 0.97, 0.99], [0.5, 0.92, 0.99], [0.2, 0.6, 0.85], [0.91, 0.3, 0.2]])
    assert cheapest_confident(p_correct, 0.9).tolist() == [0, 1, 2, 0]
    with pytest.raises(ValueError):
        cheapest_confident(p_correct, 0.4)


def test_relative_cost_adds_the_cheap_pass_unless_it_is_the_choice():
    cost = np.array([1.0, 2.0, 4.0])
    assert relative_cost(cost, np.array([0, 0])) == 0.25
    assert relative_cost(cost, np.array([1, 2])) == pytest.approx(((1 + 2) + (1 + 4)) / 2 / 4)


def test_fit_correctness_gives_one_probability_per_resolution_and_constants_for_pure_columns():
    features = np.random.default_rng(0).normal(size=(60, 3))
    correct = np.stack([features[:, 0] > 0, np.ones(60, bool), np.zeros(60, bool)], 1)
    p = fit_correctness(features, correct)(features[:7])
    assert p.shape == (7, 3) and np.all(p[:, 1] == 1) and np.all(p[:, 2] == 0)
    assert np.all((p[:, 0] > 0.5) == (features[:7, 0] > 0))


def test_layer_features_and_separability():
    model = ConvNetConfig(1, 10, channels=4, blocks=2).build()
    feats = layer_features(model, torch.rand(7, 1, 8, 8))
    assert list(feats) == list(LAYERS) and feats["pooled"].shape == (7, 4) and feats["stem"].shape == (7, 4 * 64)
    assert model.training
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 30)
    x = rng.normal(size=(90, 5)) * 0.1 + np.eye(3, 5)[y] * 10
    score, silhouette, z = separability(x, y, x, y)
    assert score == 1.0 and silhouette > 0.9 and z.shape == (90, 2)


def test_imagenet_files_from_the_option_and_the_environment(tmp_path):
    assert "--resnet50-weights" in imagenet_files_from(None, {})
    weights = tmp_path / "w.pth"
    assert IMAGES_ENV in imagenet_files_from(weights, {})
    found = imagenet_files_from(weights, {IMAGES_ENV: str(tmp_path), LIMIT_ENV: "3"})
    assert found == ImageNetFiles(weights, tmp_path, 3)
    with pytest.raises(pytest.UsageError, match=IMAGES_ENV):
        imagenet_files_from(weights, {IMAGES_ENV: str(tmp_path / "missing")})
    with pytest.raises(pytest.UsageError, match=LIMIT_ENV):
        imagenet_files_from(weights, {IMAGES_ENV: str(tmp_path), LIMIT_ENV: "0"})


def _image_folder(root, classes=("3", "7"), per_class=2):
    from PIL import Image

    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(np.full((40, 50, 3), 40 * i, dtype=np.uint8)).save(root / c / f"{i}.png")
    return root


def test_labelled_images_reads_class_index_folders_and_rejects_others(tmp_path):
    pairs = imagenet.labelled_images(_image_folder(tmp_path / "ok"), limit=3)
    assert [c for _, c in pairs] == [3, 7, 3]
    (tmp_path / "bad" / "n01440764").mkdir(parents=True)
    with pytest.raises(ValueError, match="WordNet"):
        imagenet.labelled_images(tmp_path / "bad", limit=3)
    assert imagenet.preprocess(pairs[0][0], 32).shape == (3, 32, 32)


def test_load_resnet50_roundtrip_and_top1_hits(tmp_path):
    from torchvision.models import resnet50

    torch.manual_seed(0)
    state = resnet50(weights=None).state_dict()
    torch.save({"state_dict": state}, tmp_path / "w.pth")
    model = imagenet.load_resnet50(tmp_path / "w.pth")
    assert torch.equal(model.fc.weight, state["fc.weight"]) and not model.training
    samples = imagenet.labelled_images(_image_folder(tmp_path / "img"), limit=2)
    assert 0 <= imagenet.top1_hits(model, samples, 32) <= 2
    torch.save([1, 2], tmp_path / "list.pth")
    with pytest.raises(ValueError, match="state dict"):
        imagenet.load_resnet50(tmp_path / "list.pth")


def test_best_static_mix_is_the_upper_hull_at_the_budget():
    cost, acc = np.array([0.25, 0.6, 1.0]), np.array([0.8, 0.93, 0.95])
    shares = best_static_mix(cost, acc, 0.7)       # between 6 and 8 px: a mix of the two around the budget
    assert shares == pytest.approx([0, 0.75, 0.25]) and shares @ cost == pytest.approx(0.7)
    assert best_static_mix(cost, acc, 1.3) == pytest.approx([0, 0, 1])    # budget above every cost
    assert best_static_mix(cost, acc, 0.25) == pytest.approx([1, 0, 0])
    below_chord = np.array([0.8, 0.85, 0.95])        # 6 px under the 4-8 chord: never on the frontier
    assert best_static_mix(cost, below_chord, 0.6) == pytest.approx([0.4 / 0.75, 0, 0.35 / 0.75])
    not_better = np.array([0.8, 0.95, 0.94])         # 8 px costs more and is worse: the mix stays under budget
    assert best_static_mix(cost, not_better, 0.9) == pytest.approx([0, 1, 0])
    with pytest.raises(ValueError, match="below the cheapest"):
        best_static_mix(cost, acc, 0.2)


def test_best_static_mix_matches_a_grid_over_the_simplex():
    rng = np.random.default_rng(0)
    grid = np.array([(a, b, 1 - a - b) for a in np.linspace(0, 1, 101) for b in np.linspace(0, 1, 101) if a + b <= 1])
    for _ in range(20):
        cost, acc = np.sort(rng.uniform(0.1, 1, 3)), rng.uniform(0.5, 1, 3)
        budget = rng.uniform(cost[0], 1.1)
        shares = best_static_mix(cost, acc, budget)
        assert shares.sum() == pytest.approx(1) and np.all(shares >= 0) and shares @ cost <= budget + 1e-12
        feasible = grid[grid @ cost <= budget]
        assert shares @ acc >= (feasible @ acc).max() - 1e-12
