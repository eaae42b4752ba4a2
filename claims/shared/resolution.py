"""Input resolution helpers for section 6: resizing, training-time augmentations, FLOPs, BN recalibration.

Models trained with an augmentation go through the model cache like any other (the key holds the
recipe and the augmentation), and through the project's one training loop (`batch_transform`).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from fixtures.training import TrainSpec
from fixtures.zoo import DataSpec, ModelZoo, Recipe
from models.fully_conv import FullyConvConfig
from models.residual import ConvNetConfig

# The small CNN of 6.1 and of 6.2's FixRes part: trained plainly (6.1, FixRes control) and with
# random-resized crops (FixRes claim), on the seeds of claims/families.py::DIGIT_CNN.
CNN_EPOCHS = 12        # pilot (Adam 3e-3, batch 128): test accuracy 94-98% (4 seeds), ~2.5 s per seed on one core
# Not scaled below CNN_EPOCHS at smoke: after 6 epochs 6.1's separability gain of the deep layers is about half
# as large and noisier (measured, smoke, 3 seed bases: mean +0.07..+0.11, sd ~0.04, inconclusive after 15 seeds
# under one base; +0.13..+0.17 with sd ~0.03 after 12 epochs), so smoke would test an under-trained regime.

# The fully convolutional classifier of 6.4 and 6.3, trained at random resolutions, on the seeds of
# claims/families.py::FULLY_CONV.
RESOLUTIONS = (4, 6, 8)  # digits are 8 x 8; 4 and 6 are antialiased downsamplings
FCN_FIT = 900          # training samples for the classifier; the other 357 of the split fit 6.3's P(x)
FCN_EPOCHS = 20        # pilot (He init, 3 seeds): test acc 4/6/8 px = 0.81-0.83 / 0.93-0.94 / 0.93-0.95
# Not scaled below FCN_EPOCHS at smoke: after 10 epochs the 4 px pass is 51-68% accurate and adaptive
# inference cannot pay off (measured: 101-121% of the 8 px cost), so 6.3 would test an untrained regime.


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of (B, C, H, W) images to size x size (antialiased when shrinking)."""
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    if tuple(x.shape[-2:]) == (size, size):
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


@dataclasses.dataclass(frozen=True)
class Augment:
    """A training-time input transform, part of the cache key. kind "multires": each batch resized to one of
    `sizes`, drawn uniformly (6.2's random-resized crops are claims/section6/fixres.py's)."""

    kind: str
    sizes: tuple[int, ...] = ()

    def __post_init__(self):
        if self.kind != "multires":
            raise ValueError(f"augment kind must be 'multires', got {self.kind!r}")
        if not self.sizes:
            raise ValueError("multires needs at least one size")

    def transform(self, seed: int) -> Callable[[int, torch.Tensor], torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        return lambda epoch, x: resize(x, self.sizes[int(torch.randint(len(self.sizes), (1,), generator=gen))])


def trained_with(zoo: ModelZoo, recipe: Recipe, augment: Augment, seed: int) -> tuple[nn.Module, object]:
    """The model of `recipe` trained with `augment` for `seed` (the zoo's cache); returns (model, split)."""
    trained = zoo.trained(dataclasses.replace(recipe, augment=augment), seed)
    return trained.model, trained.data


def flops(model: nn.Module, shape: Sequence[int]) -> int:
    """Floating-point operations of one forward pass on an input of `shape` (torch's FlopCounterMode)."""
    from torch.utils.flop_counter import FlopCounterMode  # on use: it imports triton where installed (0.14 s)

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model.eval()(torch.zeros(*shape, device=next(model.parameters()).device))
    return int(counter.get_total_flops())


MULTIRES = Augment("multires", sizes=RESOLUTIONS)


def cnn_recipe(profile) -> Recipe:
    return Recipe(arch=ConvNetConfig(1, 10, channels=profile.width(16), blocks=2), data=DataSpec("digits-images"),
                  train=TrainSpec(epochs=profile.epochs(CNN_EPOCHS, at_least=CNN_EPOCHS), lr=3e-3, batch_size=128))


def fcn_recipe(profile) -> Recipe:
    return Recipe(arch=FullyConvConfig(1, 10, channels=profile.width(32), downsamplings=3, stem_convs=2),
                  data=DataSpec("digits-images", n_train=FCN_FIT),
                  train=TrainSpec(epochs=profile.epochs(FCN_EPOCHS, at_least=FCN_EPOCHS), lr=3e-3, batch_size=64))
