"""A model's state, copied and compared bit for bit: for checks that evaluating a model leaves it unchanged
(6.2's ResNet-50 at every input size, 6.5's loss landscapes)."""
from __future__ import annotations

import torch
from torch import nn


def state_snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same_state(model: nn.Module, snapshot: dict[str, torch.Tensor]) -> bool:
    """True when every tensor of the model's state equals the snapshot bit for bit."""
    state = model.state_dict()
    return state.keys() == snapshot.keys() and all(torch.equal(state[k], snapshot[k]) for k in state)
