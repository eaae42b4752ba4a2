"""The course's Código 3 (section 7, exercise 3) translated line by line from Keras to torch, and its fixes.

Keras (the exercise):

    d = 2
    x = Dense(d, relu)(inputs)
    for _ in range(n_blocks):
        shortcut = x
        x = Dense(d, relu)(x); x = Dense(2d, relu)(x); x = Dense(4d, relu)(x); x = Dense(2d, relu)(x)
        x = x + shortcut            # 2d units + d units: the mismatch
        d = d * 2
        x = Dense(d, relu)(x)
    outputs = Dense(n_classes, softmax)(x)

Keras infers each Dense's input width; torch needs it, so `width` tracks what Keras would infer.
fix="literal" keeps the code as written (the sum fails: torch raises at the first forward, Keras at
graph construction); fix="match" ends each block with Dense(d) so the body returns d units like the
shortcut; fix="project" keeps the body and projects the shortcut with a linear map d -> 2d
(He et al. 2016's projection shortcut).
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

FIXES = ("literal", "match", "project")


@dataclasses.dataclass(frozen=True)
class Code3Config:
    in_features: int
    num_classes: int
    n_blocks: int
    d: int = 2
    fix: str = "literal"

    def __post_init__(self):
        if min(self.in_features, self.num_classes, self.d) < 1 or self.n_blocks < 0:
            raise ValueError(f"Code3 sizes must be positive (n_blocks >= 0): {self}")
        if self.fix not in FIXES:
            raise ValueError(f"fix must be one of {FIXES}, got {self.fix!r}")

    def build(self) -> Code3Net:
        return Code3Net(self)


def _dense(n_in: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, n_out), nn.ReLU())


class Code3Block(nn.Module):
    """One pass of the loop body: shortcut, four Dense layers, the sum, then Dense(2d)."""

    def __init__(self, d: int, fix: str):
        super().__init__()
        last = d if fix == "match" else 2 * d
        self.body = nn.Sequential(_dense(d, d), _dense(d, 2 * d), _dense(2 * d, 4 * d), _dense(4 * d, last))
        self.shortcut = nn.Linear(d, 2 * d) if fix == "project" else nn.Identity()
        self.after = _dense(last, 2 * d)            # d = d * 2; x = Dense(d)(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = self.shortcut(x)                 # (B, d), or (B, 2d) when projected
        x = self.body(x) + shortcut                 # literal: (B, 2d) + (B, d) -> RuntimeError
        return self.after(x)                        # (B, 2d)


class Code3Net(nn.Module):
    def __init__(self, config: Code3Config):
        super().__init__()
        self.config = config
        d = config.d
        self.inputs = _dense(config.in_features, d)
        blocks = []
        for _ in range(config.n_blocks):
            blocks.append(Code3Block(d, config.fix))
            d *= 2
        self.blocks = nn.Sequential(*blocks)
        self.outputs = nn.Sequential(nn.Linear(d, config.num_classes), nn.Softmax(dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outputs(self.blocks(self.inputs(x.flatten(1))))   # (B, classes), rows sum to 1
