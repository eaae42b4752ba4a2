"""6.2's FixRes part (Touvron et al. 2019): rendered digits with detail at every size, random-resized crops at a
low training size, and FixRes' test protocol (resize to K / 0.875, centre crop K).

The apparent-size argument: a random-resized crop of area fraction s, resized to K_train, magnifies objects by
K_train / (sqrt(s) * W) per source pixel; the test view (the central 0.875 of the image at K) by about K / W. With
s uniform in (0.08, 1), E[1 / sqrt(s)] ~ 1.5, so objects look larger in training than at test at the same size, and
a test size above the training size brings them back to the size the network learned. Translation-only crops of
the test view's extent (the control) keep the object size: there the training size is already the right one.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import torch
from torch.nn import functional as F

from claimcheck.identity import library_versions
from fixtures import datasets
from fixtures.identity import training_fingerprint, training_libraries
from fixtures.training import TrainSpec
from fixtures.zoo import DataSpec, Recipe, data_set
from models.staged_resnet import StagedResNetConfig

RENDER_SEED = 6_2_0            # one fixed data set (as MNIST-1D's), rendered once and kept in the store
SOURCE_SIZE = 64               # px: the full-resolution source images
N_TRAIN, N_TEST = 3000, 2000   # training and test images, at every scale
TRAIN_SIZE = 16                # px: the low training resolution
TEST_SIZES = (16, 20, 24, 28, 32)
LARGE_SIZE = 24                # px: the larger size the exercise trains at for comparison (best test size in the pilot)
CROP_SCALE = (0.08, 1.0)       # RandomResizedCrop's area fraction (torchvision's and FixRes' default)
CROP_RATIO = (3 / 4, 4 / 3)    # and its aspect ratio range
TEST_CROP = 0.875              # FixRes / torchvision evaluation: Resize(int(K / 0.875)), CenterCrop(K)
SUPERSAMPLE = 4                # crops are sampled at 4x their size and box-filtered down (an antialiased resize)

WIDTHS = (8, 16, 32)           # ~20k parameters, one residual block per stage, strides 1, 2, 2
EPOCHS = 10
LR, BATCH = 2e-2, 128          # Adam, one-cycle schedule (warm-up over the first quarter, cosine to zero)
# Pilot (/tmp scripts, one seed each, crops at 16 px, accuracy at K = 16 -> best K): 3,000 x 10 epochs at lr 2e-2
# 0.64 -> 0.73 (K = 24); at lr 1e-2 0.61 -> 0.68; at lr 5e-3 2,000 x 10 0.41 -> 0.44 and 3,000 x 15 0.68 -> 0.79.
# Half the passes (2,000 x 10 or 3,000 x 6 at lr 2e-2) gave 0.55 -> 0.62 and 0.45 -> 0.51: a weaker, less trained
# regime, so smoke keeps standard's images and epochs (N_TRAIN and EPOCHS are not scaled).


def view_side(size: int) -> float:
    """The test view's side as a fraction of the image: a centre crop of `size` out of int(size / 0.875)."""
    return size / int(size / TEST_CROP)


def crop_resample(x: torch.Tensor, side_x: torch.Tensor, side_y: torch.Tensor, centre_x: torch.Tensor,
                  centre_y: torch.Tensor, size: int) -> torch.Tensor:
    """Per-image boxes (sides as fractions of the image, centres in [-1, 1]) resampled to size x size: bilinear at
    SUPERSAMPLE x the size, then box-filtered (antialiased when the box covers more than `size` pixels)."""
    big = size * SUPERSAMPLE
    grid = box_grid(side_x.to(x.dtype), side_y.to(x.dtype), centre_x.to(x.dtype), centre_y.to(x.dtype), big)
    return F.avg_pool2d(F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False),
                        SUPERSAMPLE)


def box_grid(side_x: torch.Tensor, side_y: torch.Tensor, centre_x: torch.Tensor, centre_y: torch.Tensor,
             big: int) -> torch.Tensor:
    """F.affine_grid(theta, (B, C, big, big), align_corners=False) for the axis-aligned boxes theta = [[side_x, 0,
    centre_x], [0, side_y, centre_y]], computed per axis: x = base * side_x + centre_x over columns, y likewise
    over rows (base: affine_grid's pixel centres in [-1, 1]). The same values (the terms with theta's zeros add
    exactly nothing; compared in tests/test_rendered_digits.py) without affine_grid's per-pixel batched matmul
    of 3 x 2, which took a third of a training step's time and as long again to make the test views."""
    base = torch.linspace(-1, 1, big, dtype=side_x.dtype, device=side_x.device) * (big - 1) / big
    gx = base[None, :] * side_x[:, None] + centre_x[:, None]                     # (B, big): one per column
    gy = base[None, :] * side_y[:, None] + centre_y[:, None]                     # (B, big): one per row
    b = side_x.shape[0]
    return torch.stack([gx[:, None, :].expand(b, big, big), gy[:, :, None].expand(b, big, big)], dim=-1)


def fixres_view(x: torch.Tensor, size: int) -> torch.Tensor:
    """FixRes' test protocol: the whole image resized to int(size / 0.875), centre crop size x size."""
    b, side, zero = x.shape[0], view_side(size), torch.zeros(x.shape[0])
    return crop_resample(x, torch.full((b,), side), torch.full((b,), side), zero, zero, size)


@functools.lru_cache(maxsize=1)
def fixres_test_views(zoo, data: DataSpec) -> tuple[torch.Tensor, ...]:
    """FixRes' test view (fixres_view) of `data`'s test images at each of TEST_SIZES, made once per zoo and data
    set: the rendered images are the same for every seed and arm, and making the views of 2,000 of them took as
    long as evaluating a network on them."""
    x = zoo.data(data, 0).x_test
    return tuple(fixres_view(x, k) for k in TEST_SIZES)


def random_resized_crop(x: torch.Tensor, gen: torch.Generator, *, size: int, scale: tuple[float, float],
                        ratio: tuple[float, float]) -> torch.Tensor:
    """torchvision's RandomResizedCrop, batched: area fraction uniform in `scale`, log-aspect uniform in `ratio`,
    position uniform where the box fits, resampled to size x size."""
    b = x.shape[0]
    area = torch.empty(b).uniform_(*scale, generator=gen)
    aspect = torch.empty(b).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=gen).exp()
    sx, sy = (area * aspect).sqrt().clamp(max=1.0), (area / aspect).sqrt().clamp(max=1.0)
    cx, cy = ((torch.rand(b, generator=gen) * 2 - 1) * (1 - s) for s in (sx, sy))
    return crop_resample(x, sx, sy, cx, cy, size)


@dataclasses.dataclass(frozen=True)
class FixResCrop:
    """The training crop, part of the cache key. kind "rrc": random-resized crops (area in `scale`, aspect in
    `ratio`); "translate": square crops of the test view's extent at `size` (view_side(size)) at a random position,
    which keep the apparent object size of the test view."""

    kind: str
    size: int
    scale: tuple[float, float] = CROP_SCALE
    ratio: tuple[float, float] = CROP_RATIO

    def __post_init__(self):
        if self.kind not in ("rrc", "translate"):
            raise ValueError(f"crop kind must be 'rrc' or 'translate', got {self.kind!r}")
        if not 0 < self.scale[0] <= self.scale[1] <= 1 or not 0 < self.ratio[0] <= self.ratio[1]:
            raise ValueError(f"need 0 < scale low <= high <= 1 and 0 < ratio low <= high: {self}")

    def transform(self, seed: int) -> Callable[[int, torch.Tensor], torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        if self.kind == "rrc":
            return lambda epoch, x: random_resized_crop(x, gen, size=self.size, scale=self.scale, ratio=self.ratio)
        side = view_side(self.size)

        def translate(epoch: int, x: torch.Tensor) -> torch.Tensor:
            b, sides = x.shape[0], torch.full((x.shape[0],), side)
            cx, cy = ((torch.rand(b, generator=gen) * 2 - 1) * (1 - side) for _ in range(2))
            return crop_resample(x, sides, sides, cx, cy, self.size)
        return translate


@dataclasses.dataclass(frozen=True)
class OneCycle:
    """Learning rate at a global step: linear warm-up from peak / 10 over the first `warmup` of the steps, then
    a cosine decay to zero (a one-cycle schedule)."""

    peak: float
    total_steps: int
    warmup: float = 0.25

    def __call__(self, step: int) -> float:
        warm = max(1, round(self.warmup * self.total_steps))
        if step < warm:
            return self.peak * (0.1 + 0.9 * step / warm)
        done = min(1.0, (step - warm) / max(1, self.total_steps - warm))
        return self.peak * 0.5 * (1 + math.cos(math.pi * done))


@data_set("rendered-digits")
def _rendered_digits(zoo, seed: int) -> datasets.Split:
    """The fixed rendered-digit set (the seed varies initialization, crops and batch order, not the images),
    stored as 8-bit grey levels: rendering takes seconds."""
    key = {"kind": "rendered-digits-data", "seed": RENDER_SEED, "n_train": N_TRAIN, "n_test": N_TEST,
           "size": SOURCE_SIZE, "code": training_fingerprint(),
           "libraries": {**training_libraries(), **library_versions(("matplotlib", "pillow"))}}

    def build():
        split = datasets.rendered_digits(RENDER_SEED, n_train=N_TRAIN, n_test=N_TEST, size=SOURCE_SIZE)
        quantized = {f: (getattr(split, f) * 255).round().to(torch.uint8) for f in ("x_train", "x_test")}
        return {**quantized, "y_train": split.y_train, "y_test": split.y_test}, {}
    t = zoo.cache.get_or_build(key, build).tensors
    return datasets.Split("rendered-digits", t["x_train"].float() / 255, t["y_train"], t["x_test"].float() / 255,
                          t["y_test"], 10)


def fixres_recipe(profile, crop: FixResCrop) -> Recipe:
    """The StagedResNet trained on rendered digits with `crop` (its size is the training size)."""
    n_train, epochs = N_TRAIN, profile.epochs(EPOCHS, at_least=EPOCHS)     # not below standard's (see the pilot)
    steps = epochs * math.ceil(n_train / BATCH)
    return Recipe(arch=StagedResNetConfig(1, 10, widths=tuple(profile.width(w) for w in WIDTHS)),
                  data=DataSpec("rendered-digits", n_train=n_train),
                  train=TrainSpec(epochs=epochs, lr=LR, batch_size=BATCH), lr_schedule=OneCycle(LR, steps),
                  augment=crop)


CROPS_SMALL, TRANSLATE_SMALL = f"crops 8-100% at {TRAIN_SIZE} px", f"translation-only at {TRAIN_SIZE} px"
CROPS_LARGE = f"crops 8-100% at {LARGE_SIZE} px"
ARMS = {CROPS_SMALL: FixResCrop("rrc", TRAIN_SIZE), TRANSLATE_SMALL: FixResCrop("translate", TRAIN_SIZE),
        CROPS_LARGE: FixResCrop("rrc", LARGE_SIZE)}


def sample_views(zoo, n: int) -> dict[str, torch.Tensor]:
    """The first n training sources (64 px) and what the networks see of them: one random-resized crop and one
    translation-only crop at the training size, and FixRes' test view at 16, 24 and 32 px."""
    x = zoo.data(DataSpec("rendered-digits"), 0).x_train[:n]
    views = {f"source {SOURCE_SIZE} px": x}
    for name in (CROPS_SMALL, TRANSLATE_SMALL):
        views[f"train: {name}"] = ARMS[name].transform(0)(0, x)
    views.update({f"test view K = {k}": fixres_view(x, k) for k in (16, 24, 32)})
    return views
