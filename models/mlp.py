"""Multi-layer perceptrons: a config dataclass and the module it builds."""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "silu": nn.SiLU, "identity": nn.Identity}


@dataclasses.dataclass(frozen=True)
class MLPConfig:
    in_features: int
    widths: tuple[int, ...]       # hidden widths, input to output
    num_classes: int
    activation: str = "relu"
    batchnorm: bool = False

    def __post_init__(self):
        if self.in_features < 1 or self.num_classes < 1 or any(w < 1 for w in self.widths):
            raise ValueError(f"MLP sizes must be positive: {self}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")

    def build(self) -> MLP:
        return MLP(self)


class MLP(nn.Module):
    """x -> flatten -> [Linear -> (BN) -> act] per hidden width -> Linear head."""

    def __init__(self, config: MLPConfig):
        super().__init__()
        self.config = config
        blocks, width = [], config.in_features
        for w in config.widths:
            layers = [nn.Linear(width, w)]
            if config.batchnorm:
                layers.append(nn.BatchNorm1d(w))
            layers.append(ACTIVATIONS[config.activation]())
            blocks.append(nn.Sequential(*layers))
            width = w
        self.hidden = nn.ModuleList(blocks)
        self.head = nn.Linear(width, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)                     # (B, in_features)
        for block in self.hidden:
            x = block(x)                     # (B, w_i)
        return self.head(x)                  # (B, num_classes)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
