"""An MLP whose Linear layers are (re-)initialized by a named scheme (the 3.6 search space)."""
from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from models.mlp import MLP, MLPConfig

INITS = ("pytorch-default", "xavier-normal", "small-normal")
SMALL_STD = 0.01   # "small-normal": N(0, 0.01^2), the classic tiny random init that slows deep nets


def initialize(model: nn.Module, scheme: str) -> nn.Module:
    """Re-initialize every nn.Linear of `model` in place (draws from torch's global RNG) and return it.

    pytorch-default: kaiming-uniform(a = sqrt(5)) weights, U(+-1/sqrt(fan_in)) biases (left as built);
    xavier-normal:   N(0, 2 / (fan_in + fan_out)) weights, zero biases (Glorot & Bengio 2010);
    small-normal:    N(0, SMALL_STD^2) weights, zero biases.
    """
    if scheme not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {scheme!r}")
    if scheme == "pytorch-default":
        return model
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, nn.Linear):
                if scheme == "xavier-normal":
                    nn.init.xavier_normal_(layer.weight)
                else:
                    nn.init.normal_(layer.weight, std=SMALL_STD)
                nn.init.zeros_(layer.bias)
    return model


@dataclasses.dataclass(frozen=True)
class InitMLPConfig:
    in_features: int
    widths: tuple[int, ...]
    num_classes: int
    init: str = "pytorch-default"

    def __post_init__(self):
        if self.init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {self.init!r}")

    def build(self) -> MLP:
        return initialize(MLPConfig(self.in_features, self.widths, self.num_classes).build(), self.init)


def xavier_std(fan_in: int, fan_out: int) -> float:
    return math.sqrt(2.0 / (fan_in + fan_out))
