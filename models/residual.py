"""Residual and plain twins: a deep MLP and a small CNN (1-D or 2-D) made of repeated blocks.

Both take `residual`: True gives y_i = f_i(y_{i-1}) + y_{i-1}, False the plain twin y_i = f_i(y_{i-1})
with the same parameters. `forward(x, skip=...)` deletes blocks at test time (y_i = y_{i-1}), the
operation of Veit et al. 2016, without touching any weight.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Collection

import torch
from torch import nn


@dataclasses.dataclass(frozen=True)
class ResMLPConfig:
    in_features: int
    width: int
    blocks: int
    num_classes: int
    residual: bool = True
    batchnorm: bool = True

    def __post_init__(self):
        if min(self.in_features, self.width, self.blocks, self.num_classes) < 1:
            raise ValueError(f"ResMLP sizes must be positive: {self}")

    def build(self) -> ResMLP:
        return ResMLP(self)


class MLPBlock(nn.Module):
    """Linear -> (BN) -> ReLU, plus the identity when residual."""

    def __init__(self, width: int, residual: bool, batchnorm: bool):
        super().__init__()
        self.residual = residual
        self.f = nn.Sequential(nn.Linear(width, width), nn.BatchNorm1d(width) if batchnorm else nn.Identity(),
                               nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.f(x) if self.residual else self.f(x)


class ResMLP(nn.Module):
    def __init__(self, config: ResMLPConfig):
        super().__init__()
        self.config = config
        self.stem = nn.Sequential(nn.Linear(config.in_features, config.width), nn.ReLU())
        self.blocks = nn.ModuleList(MLPBlock(config.width, config.residual, config.batchnorm)
                                    for _ in range(config.blocks))
        self.head = nn.Linear(config.width, config.num_classes)
        _he_init(self)

    def forward(self, x: torch.Tensor, skip: Collection[int] = ()) -> torch.Tensor:
        x = self.stem(x.flatten(1))                       # (B, width)
        for i, block in enumerate(self.blocks):
            if i not in skip:
                x = block(x)                              # (B, width)
        return self.head(x)                               # (B, classes)


@dataclasses.dataclass(frozen=True)
class ConvNetConfig:
    """Conv stem, `blocks` two-conv blocks, global average pooling, linear head."""

    in_channels: int
    num_classes: int
    channels: int = 32
    blocks: int = 3
    residual: bool = True
    batchnorm: bool = True
    dims: int = 2                 # 2 for images (B, C, H, W), 1 for signals (B, C, L)

    def __post_init__(self):
        if min(self.in_channels, self.num_classes, self.channels) < 1 or self.blocks < 0:
            raise ValueError(f"ConvNet sizes must be positive: {self}")
        if self.dims not in (1, 2):
            raise ValueError(f"dims must be 1 or 2, got {self.dims}")

    def build(self) -> ConvNet:
        return ConvNet(self)


def _conv_bn(cfg: ConvNetConfig, c_in: int, relu: bool) -> nn.Sequential:
    conv = (nn.Conv2d if cfg.dims == 2 else nn.Conv1d)(c_in, cfg.channels, 3, padding=1, bias=not cfg.batchnorm)
    bn = (nn.BatchNorm2d if cfg.dims == 2 else nn.BatchNorm1d)(cfg.channels) if cfg.batchnorm else nn.Identity()
    return nn.Sequential(conv, bn, nn.ReLU() if relu else nn.Identity())


class ConvBlock(nn.Module):
    """conv-BN-ReLU-conv-BN, plus the identity when residual, then ReLU."""

    def __init__(self, cfg: ConvNetConfig):
        super().__init__()
        self.residual = cfg.residual
        self.f = nn.Sequential(_conv_bn(cfg, cfg.channels, relu=True), _conv_bn(cfg, cfg.channels, relu=False))
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.f(x) if self.residual else self.f(x))


class ConvNet(nn.Module):
    def __init__(self, config: ConvNetConfig):
        super().__init__()
        self.config = config
        self.stem = _conv_bn(config, config.in_channels, relu=True)
        self.blocks = nn.ModuleList(ConvBlock(config) for _ in range(config.blocks))
        self.pool = nn.AdaptiveAvgPool2d(1) if config.dims == 2 else nn.AdaptiveAvgPool1d(1)
        self.head = nn.Linear(config.channels, config.num_classes)
        _he_init(self)

    def forward(self, x: torch.Tensor, skip: Collection[int] = ()) -> torch.Tensor:
        x = self.stem(x)                                  # (B, C, H, W) or (B, C, L)
        for i, block in enumerate(self.blocks):
            if i not in skip:
                x = block(x)
        return self.head(self.pool(x).flatten(1))         # (B, classes)


def _he_init(module: nn.Module) -> None:
    """He (Kaiming) normal initialization for every conv and linear weight, zero biases."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
