"""A small ResNet in stages: conv stem, one residual block per stage (stride 2 and a 1x1 projection shortcut where
the stage downsamples or widens), global average pooling, linear head (He et al. 2016's basic block, CIFAR-style).

Global pooling makes the head independent of the input size: the same weights classify any H x W (6.2's FixRes
part trains it at one size and tests it at others).
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.nn import functional as F


@dataclasses.dataclass(frozen=True)
class StagedResNetConfig:
    in_channels: int
    num_classes: int
    widths: tuple[int, ...] = (16, 32, 64)   # channels of each stage
    strides: tuple[int, ...] = (1, 2, 2)     # stride of each stage's first convolution

    def __post_init__(self):
        if min(self.in_channels, self.num_classes, *self.widths, *self.strides) < 1:
            raise ValueError(f"StagedResNet sizes and strides must be positive: {self}")
        if len(self.widths) != len(self.strides) or not self.widths:
            raise ValueError(f"one stride per stage, at least one stage: {self}")

    def build(self) -> StagedResNet:
        return StagedResNet(self)


class BasicBlock(nn.Module):
    """relu(BN(conv(relu(BN(conv_s(x))))) + shortcut(x)); the shortcut is the identity or a strided 1x1 conv + BN."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.f = nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                               nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut = (nn.Identity() if c_in == c_out and stride == 1 else
                         nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.f(x) + self.shortcut(x))


class StagedResNet(nn.Module):
    def __init__(self, config: StagedResNetConfig):
        super().__init__()
        self.config = config
        w = config.widths
        self.stem = nn.Sequential(nn.Conv2d(config.in_channels, w[0], 3, 1, 1, bias=False), nn.BatchNorm2d(w[0]),
                                  nn.ReLU())
        self.stages = nn.Sequential(*(BasicBlock(c_in, c_out, s)
                                      for c_in, c_out, s in zip((w[0], *w[:-1]), w, config.strides)))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(w[-1], config.num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))                 # (B, C, H / prod(strides), W / prod(strides))
        return self.head(self.pool(x).flatten(1))    # (B, classes)
