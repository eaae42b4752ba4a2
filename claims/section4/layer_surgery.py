"""Layer surgery for claim 4.5: list a model's weight layers and swap one layer's weights."""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn


def layer_names(model: nn.Module) -> list[str]:
    """The model's weight layers (conv and linear), input to output."""
    return [n for n, m in model.named_modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))]


def with_layer_from(model: nn.Module, layer: str, source: dict[str, torch.Tensor]) -> nn.Module:
    """A copy of `model` whose `layer` parameters (weight, bias) come from the state dict `source`."""
    if not any(k.startswith(layer + ".") for k in source):
        raise ValueError(f"layer {layer!r} has no parameters in the source state")
    clone = copy.deepcopy(model)
    state = clone.state_dict()
    state.update({k: v for k, v in source.items() if k.startswith(layer + ".")})
    clone.load_state_dict(state)
    return clone


def layer_verdict(drops: np.ndarray, *, robust_max: float, critical_min: float) -> str:
    """A layer's verdict from its accuracy drops over seeds: robust (critical) when every seed says so."""
    drops = np.asarray(drops, dtype=float)
    if np.all(drops <= robust_max):
        return "robust"
    return "critical" if np.all(drops >= critical_min) else "mixed"
