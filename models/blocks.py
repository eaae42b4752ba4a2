"""A building block of seven components repeated n times, with or without skips between blocks (7.1, 7.2).

Block: conv3x3 -> BN -> ReLU -> conv3x3 -> BN -> ReLU -> Dropout2d, shape-preserving (B, C, H, W).
Net: conv stem (in_channels -> C) -> n blocks -> global average pooling -> linear head.
skip=True wraps every block as y = x + block(x): an identity shortcut between consecutive blocks,
which adds no parameter, so the plain and skip nets have identical parameter counts.
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

BLOCK_COMPONENTS = (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Dropout2d)


@dataclasses.dataclass(frozen=True)
class BlockNetConfig:
    in_channels: int
    num_classes: int
    channels: int = 16
    n_blocks: int = 3
    skip: bool = False
    dropout: float = 0.1

    def __post_init__(self):
        if min(self.in_channels, self.num_classes, self.channels) < 1 or self.n_blocks < 0:
            raise ValueError(f"BlockNet sizes must be positive (n_blocks >= 0): {self}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def build(self) -> BlockNet:
        return BlockNet(self)


def building_block(channels: int, dropout: float) -> nn.Sequential:
    """The seven-component block; convolutions carry no bias (BN's shift replaces it)."""
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
        nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
        nn.Dropout2d(dropout))


def block_parameters(channels: int) -> int:
    """Closed form: two 3x3 convolutions (9 C^2 weights each) and two BNs (2 C each)."""
    return 2 * 9 * channels ** 2 + 2 * 2 * channels


class Skip(nn.Module):
    """y = x + block(x)."""

    def __init__(self, block: nn.Module):
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class BlockNet(nn.Module):
    def __init__(self, config: BlockNetConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.stem = nn.Sequential(nn.Conv2d(config.in_channels, c, 3, padding=1), nn.ReLU())
        blocks = [building_block(c, config.dropout) for _ in range(config.n_blocks)]
        self.blocks = nn.Sequential(*(Skip(b) if config.skip else b for b in blocks))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(c, config.num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(x))                 # (B, C, H, W)
        return self.head(self.pool(x).flatten(1))     # (B, classes)

    def inner_blocks(self) -> list[nn.Sequential]:
        """The building blocks themselves (unwrapped from their skip connections)."""
        return [b.block if isinstance(b, Skip) else b for b in self.blocks]
