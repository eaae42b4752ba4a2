"""An MLP whose output layer reads the concatenation of every hidden layer (course 7.4, DenseNet's idea).

Hidden layers y_i = act(BN(W_i y_{i-1} + b_i)), i = 1..depth (BN only with batchnorm=True). The plain
twin's head reads y_depth; the concatenating one reads [y_1, ..., y_depth] (depth x width features), so the
loss reaches every hidden layer through one linear map, however deep the stack. The residual-sum twin
(residual=True) has the same layers and head as the plain one and adds the identity from layer 2 on:
y_i = y_{i-1} + act(BN(W_i y_{i-1} + b_i)), the point-wise sum the course contrasts with concatenation.

init="default" keeps PyTorch's nn.Linear initialization (no He correction: the setting in which a deep
saturating stack loses its gradient); init="he" draws every weight from He (Kaiming) normal for ReLU, with
zero biases.
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}
INITS = ("default", "he")


@dataclasses.dataclass(frozen=True)
class ConcatMLPConfig:
    in_features: int
    width: int
    depth: int                   # number of hidden layers
    num_classes: int
    concat: bool = True          # False: the plain twin (head reads the last hidden layer only)
    activation: str = "sigmoid"
    residual: bool = False       # True: the residual-sum twin, y_i = y_{i-1} + f_i(y_{i-1}) for i >= 2
    batchnorm: bool = False      # BatchNorm1d between each hidden Linear and its activation
    init: str = "default"        # default (PyTorch's) | he (Kaiming normal for ReLU, zero biases)

    def __post_init__(self):
        if min(self.in_features, self.width, self.depth, self.num_classes) < 1:
            raise ValueError(f"ConcatMLP sizes must be positive: {self}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {self.init!r}")
        if self.concat and self.residual:
            raise ValueError("a ConcatMLP either concatenates into the head or sums residually, not both")

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
            nn.Sequential(nn.Linear(config.in_features if i == 0 else config.width, config.width),
                          nn.BatchNorm1d(config.width) if config.batchnorm else nn.Identity(), act())
            for i in range(config.depth))
        self.head = nn.Linear(config.head_features, config.num_classes)
        if config.init == "he":
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)                                   # (B, in_features)
        outputs = []
        for i, layer in enumerate(self.hidden):
            x = x + layer(x) if self.config.residual and i > 0 else layer(x)   # (B, width)
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
