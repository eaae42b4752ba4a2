"""An MLP whose output layer reads the concatenation of every hidden layer (course 7.4, DenseNet's idea).

Hidden layers y_i = act(W_i y_{i-1} + b_i), i = 1..depth. The plain twin's head reads y_depth; the
concatenating one reads [y_1, ..., y_depth] (depth x width features), so the loss reaches every
hidden layer through one linear map, however deep the stack. Initialization is PyTorch's default
for nn.Linear (no He correction), the setting in which a deep saturating stack loses its gradient.
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}


@dataclasses.dataclass(frozen=True)
class ConcatMLPConfig:
    in_features: int
    width: int
    depth: int                   # number of hidden layers
    num_classes: int
    concat: bool = True          # False: the plain twin (head reads the last hidden layer only)
    activation: str = "sigmoid"

    def __post_init__(self):
        if min(self.in_features, self.width, self.depth, self.num_classes) < 1:
            raise ValueError(f"ConcatMLP sizes must be positive: {self}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")

    @property
    def head_features(self) -> int:
        return self.width * (self.depth if self.concat else 1)

    def build(self) -> ConcatMLP:
        return ConcatMLP(self)


class ConcatMLP(nn.Module):
    def __init__(self, config: ConcatMLPConfig):
        super().__init__()
        self.config = config
        act = ACTIVATIONS[config.activation]
        self.hidden = nn.ModuleList(
            nn.Sequential(nn.Linear(config.in_features if i == 0 else config.width, config.width), act())
            for i in range(config.depth))
        self.head = nn.Linear(config.head_features, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)                                   # (B, in_features)
        outputs = []
        for layer in self.hidden:
            x = layer(x)                                   # (B, width)
            outputs.append(x)
        features = torch.cat(outputs, 1) if self.config.concat else x   # (B, depth*width) or (B, width)
        return self.head(features)                         # (B, classes)


def hidden_grad_norms(model: ConcatMLP, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """||dL/dW_i||_F for every hidden layer i (input side first), cross-entropy on (x, y).

    Uses torch.autograd.grad, so the model's .grad fields are left as they were.
    """
    weights = [layer[0].weight for layer in model.hidden]
    loss = nn.functional.cross_entropy(model(x), y)
    return [float(g.norm()) for g in torch.autograd.grad(loss, weights)]
