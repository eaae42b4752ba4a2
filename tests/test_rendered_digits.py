"""Unit tests of the rendered-digit source (fixtures/datasets.py) and 6.2's FixRes crops (claims/section6/fixres.py)."""
from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from claims.section6.fixres import (
    SUPERSAMPLE,
    FixResCrop,
    OneCycle,
    box_grid,
    crop_resample,
    fixres_view,
    random_resized_crop,
    view_side,
)
from fixtures import datasets


def test_rendering_is_deterministic_in_its_seed():
    x1, y1 = datasets.render_digits(24, seed=3)
    x2, y2 = datasets.render_digits(24, seed=3)
    x3, _ = datasets.render_digits(24, seed=4)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)


def test_rendered_images_have_the_promised_shape_range_and_labels():
    x, y = datasets.render_digits(200, seed=0, size=64)
    assert x.shape == (200, 1, 64, 64) and x.dtype == torch.float32
    assert y.shape == (200,) and y.dtype == torch.int64
    assert x.min() >= 0 and x.max() <= 1
    assert set(y.tolist()) == set(range(10))
    assert x.flatten(1).std(1).min() > 0.02          # every image has texture (no flat frames)


def test_a_prefix_of_a_rendering_does_not_depend_on_its_length_in_the_split():
    split = datasets.rendered_digits(5, n_train=30, n_test=10)
    x, y = datasets.render_digits(40, seed=5)
    assert torch.equal(split.x_train, x[:30]) and torch.equal(split.y_test, y[30:])
    assert split.in_shape == (1, 64, 64) and split.num_classes == 10


def test_every_font_draws_every_digit_at_full_height():
    masks = datasets.glyph_masks()
    assert masks.shape == (len(datasets.GLYPH_FONTS), 10, datasets.GLYPH_MASK, datasets.GLYPH_MASK)
    assert masks.min() >= 0 and masks.max() <= 1
    ink_rows = (masks > 0.5).any(-1)                  # (fonts, 10, rows): the glyph spans the mask's height
    assert ink_rows[..., :3].any(-1).all() and ink_rows[..., -3:].any(-1).all()
    flat = masks.flatten(2)
    for f in range(len(datasets.GLYPH_FONTS)):        # the ten digits of a font differ from each other
        assert torch.cdist(flat[f], flat[f]).add(torch.eye(10) * 1e9).min() > 1.0


def test_pink_noise_is_standardized():
    noise = datasets.pink_noise(8, 32, torch.Generator().manual_seed(0))
    assert noise.shape == (8, 32, 32)
    assert torch.allclose(noise.flatten(1).std(1), torch.ones(8), atol=1e-5)
    assert noise.flatten(1).mean(1).abs().max() < 1e-5


def test_the_test_view_is_fixres_resize_and_centre_crop():
    assert view_side(16) == 16 / 18 and view_side(24) == 24 / 27 and view_side(28) == 1.0 * 28 / 32
    x = torch.rand(2, 1, 64, 64)
    assert fixres_view(x, 24).shape == (2, 1, 24, 24)
    ramp = torch.linspace(0, 1, 64).expand(2, 1, 64, 64)   # linear: bilinear sampling and box filter keep it
    full = torch.ones(2)
    same = crop_resample(ramp, full, full, torch.zeros(2), torch.zeros(2), 64)
    assert torch.allclose(same[..., 1:-1], ramp[..., 1:-1], atol=1e-5)


def test_the_box_grid_is_affine_grid_of_the_box():
    """The crops' sampling grid, computed per axis, equals affine_grid's of the same boxes (the training crops and
    test views this gives are the ones affine_grid gave), at every training and test size."""
    gen = torch.Generator().manual_seed(0)
    for size in (16, 20, 24, 28, 32):
        big = size * SUPERSAMPLE
        sx, sy = torch.rand(64, generator=gen) * 0.9 + 0.1, torch.rand(64, generator=gen) * 0.9 + 0.1
        cx, cy = (torch.rand(64, generator=gen) * 2 - 1) * (1 - sx), (torch.rand(64, generator=gen) * 2 - 1) * (1 - sy)
        theta = torch.zeros(64, 2, 3)
        theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = sx, cx, sy, cy
        expected = F.affine_grid(theta, [64, 1, big, big], align_corners=False)
        assert torch.equal(box_grid(sx, sy, cx, cy, big), expected)


def test_crops_are_reproducible_and_stay_in_range():
    x = torch.rand(16, 1, 64, 64)
    for crop in (FixResCrop("rrc", 16), FixResCrop("translate", 16)):
        a, b = crop.transform(7)(0, x), crop.transform(7)(0, x)
        assert torch.equal(a, b) and a.shape == (16, 1, 16, 16)
        assert a.min() >= x.min() - 1e-6 and a.max() <= x.max() + 1e-6
    small = random_resized_crop(x, torch.Generator().manual_seed(0), size=24, scale=(0.08, 0.08), ratio=(1, 1))
    assert small.shape == (16, 1, 24, 24)
    with pytest.raises(ValueError, match="kind"):
        FixResCrop("zoom", 16)
    with pytest.raises(ValueError, match="scale"):
        FixResCrop("rrc", 16, scale=(0.5, 0.2))


def test_one_cycle_warms_up_peaks_and_decays_to_zero():
    schedule = OneCycle(1.0, total_steps=100)
    assert schedule(0) == pytest.approx(0.1) and schedule(25) == pytest.approx(1.0)
    assert schedule(100) == pytest.approx(0.0, abs=1e-12)
    rates = [schedule(s) for s in range(101)]
    assert max(rates) == pytest.approx(1.0) and rates.index(max(rates)) == 25
