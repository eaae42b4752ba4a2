"""A classifier made only of convolutions (with their zero padding) and a final reshape.

No fully connected layer and no pooling: `downsamplings` stride-2 convolutions (k=3, padding=1)
shrink any input side n <= 2**downsamplings to 1 (n -> floor((n - 1) / 2) + 1), and a 1x1
convolution maps the channels to class scores; the (B, classes, 1, 1) map is reshaped to
(B, classes). The same weights therefore classify every resolution up to 2**downsamplings.
ReLU is the convolutions' activation (Keras' Conv2D(activation='relu')).
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

ALLOWED_MODULES = (nn.Conv1d, nn.Conv2d, nn.ZeroPad2d, nn.ReLU, nn.Flatten, nn.Unflatten, nn.Sequential)


@dataclasses.dataclass(frozen=True)
class FullyConvConfig:
    in_channels: int
    num_classes: int
    channels: int = 32
    downsamplings: int = 3        # inputs up to 2**downsamplings pixels a side reach 1x1
    stem_convs: int = 1           # stride-1 convolutions before the first downsampling

    def __post_init__(self):
        if min(self.in_channels, self.num_classes, self.channels, self.downsamplings, self.stem_convs) < 1:
            raise ValueError(f"FullyConv sizes must be positive: {self}")

    @property
    def max_resolution(self) -> int:
        return 2 ** self.downsamplings

    def build(self) -> FullyConvNet:
        return FullyConvNet(self)


def _conv(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), nn.ReLU())


class FullyConvNet(nn.Module):
    """[conv(k3)] x stem_convs -> [conv(k3, stride 2)] x downsamplings -> conv(1x1) to classes -> reshape."""

    def __init__(self, config: FullyConvConfig):
        super().__init__()
        self.config = config
        c = config.channels
        layers = [_conv(config.in_channels if i == 0 else c, c, 1) for i in range(config.stem_convs)]
        layers += [_conv(c, c, 2) for _ in range(config.downsamplings)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Conv2d(c, config.num_classes, 1)
        self.flatten = nn.Flatten(1)
        for m in self.features.modules():
            if isinstance(m, nn.Conv2d):       # He init: without normalization layers the signal must keep its scale
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.config.in_channels:
            raise ValueError(f"expected input (B, {self.config.in_channels}, H, W), got {tuple(x.shape)}")
        if max(x.shape[-2:]) > self.config.max_resolution:
            raise ValueError(f"input {tuple(x.shape[-2:])} exceeds {self.config.max_resolution} pixels a side: "
                             f"add downsamplings (now {self.config.downsamplings})")
        scores = self.classifier(self.features(x))      # (B, classes, 1, 1)
        return self.flatten(scores)                      # (B, classes)


def disallowed_modules(model: nn.Module) -> list[str]:
    """Names and types of every submodule that is not a convolution, padding, activation or reshape."""
    return [f"{name or '<root>'}: {type(m).__name__}" for name, m in model.named_modules()
            if not isinstance(m, ALLOWED_MODULES) and m is not model]


def has_linear(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Linear) for m in model.modules())
