"""Same neurons, more layers: the architectures of claim 4.1 and their exact costs."""
from __future__ import annotations

import io
from collections.abc import Sequence

import torch
from torch import nn


def split_widths(neurons: int, layers: int) -> tuple[int, ...]:
    """`neurons` hidden neurons spread evenly over `layers` layers: (4096, 4) -> (1024,) * 4."""
    if neurons < 1 or layers < 1:
        raise ValueError(f"neurons and layers must be positive, got neurons={neurons}, layers={layers}")
    if neurons % layers:
        raise ValueError(f"{neurons} neurons cannot be split evenly over {layers} layers")
    return (neurons // layers,) * layers


def mlp_parameters(in_features: int, widths: Sequence[int], num_classes: int) -> int:
    """Exact parameter count of Linear layers in_features -> widths... -> num_classes (weights + biases):
    sum over layers of (fan_in + 1) * fan_out. For k equal hidden layers of width w:
    (in + 1) w + (k - 1)(w + 1) w + (w + 1) C."""
    sizes = [in_features, *widths, num_classes]
    if any(int(s) != s or s < 1 for s in sizes):
        raise ValueError(f"layer sizes must be positive integers, got {sizes}")
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))


def serialized_bytes(module: nn.Module) -> int:
    """Size in bytes of the module's state dict as torch.save writes it (the storage cost)."""
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.getbuffer().nbytes
