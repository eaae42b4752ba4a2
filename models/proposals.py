"""The suite's proposals for 3.3-3.5: a learning-rate schedule, an activation function and a loss.

The schedule and the loss are frozen dataclasses (their fields go into cache keys); the activation is an
nn.Module chosen by name through ActivationMLPConfig. Every constructor validates its arguments.
"""
from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn
from torch.nn import functional as F

from models.mlp import MLP, MLPConfig

# --- 3.3: linear warm-up, then cosine decay ---------------------------------------------------

@dataclasses.dataclass(frozen=True)
class WarmupCosine:
    """lr(t) = floor + (peak - floor) (t + 1) / T_w                                   for t < T_w
       lr(t) = floor + (peak - floor) (1 + cos(pi min(t - T_w, T - T_w) / (T - T_w))) / 2   for t >= T_w
    (t = optimizer step, T = total_steps, T_w = warmup_steps; after T it stays at floor)."""

    peak: float
    total_steps: int
    warmup_steps: int
    floor: float = 0.0

    def __post_init__(self):
        if not self.peak > 0:
            raise ValueError(f"peak must be > 0, got {self.peak}")
        if not 0 <= self.floor <= self.peak:
            raise ValueError(f"floor must satisfy 0 <= floor <= peak = {self.peak}, got {self.floor}")
        if not isinstance(self.total_steps, int) or self.total_steps < 1:
            raise ValueError(f"total_steps must be an integer >= 1, got {self.total_steps!r}")
        if not isinstance(self.warmup_steps, int) or not 0 <= self.warmup_steps < self.total_steps:
            raise ValueError(f"warmup_steps must be an integer in [0, total_steps = {self.total_steps}), "
                             f"got {self.warmup_steps!r}")

    def __call__(self, step: int) -> float:
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        span = self.peak - self.floor
        if step < self.warmup_steps:
            return self.floor + span * (step + 1) / self.warmup_steps
        decay = self.total_steps - self.warmup_steps
        progress = min(step - self.warmup_steps, decay) / decay
        return self.floor + span * 0.5 * (1.0 + math.cos(math.pi * progress))

    def max_increment(self) -> float:
        """The largest |lr(t + 1) - lr(t)|: warm-up slope or the cosine's steepest step."""
        span = self.peak - self.floor
        warm = span / self.warmup_steps if self.warmup_steps else 0.0
        return max(warm, span * math.pi / (2 * (self.total_steps - self.warmup_steps)))


@dataclasses.dataclass(frozen=True)
class StopAfterFirstStep:
    """A deliberately bad schedule (negative control): lr for step 0, then 0 forever."""

    lr: float

    def __call__(self, step: int) -> float:
        return self.lr if step == 0 else 0.0


# --- 3.4: Swish, x * sigmoid(beta x) ---------------------------------------------------------------

class Swish(nn.Module):
    """swish_beta(x) = x * sigmoid(beta x) (Ramachandran et al. 2018; beta = 1 is SiLU).

    Smooth and non-monotone: minimum -W(1/e)/beta ~ -0.2785/beta at x = -(1 + W(1/e))/beta; it tends to
    ReLU as beta -> inf (sup |swish - relu| = W(1/e)/beta) and to x/2 as beta -> 0 (|swish - x/2| <= beta x^2/4).
    """

    def __init__(self, beta: float = 1.0):
        super().__init__()
        if not (math.isfinite(beta) and beta > 0):
            raise ValueError(f"beta must be a finite number > 0, got {beta}")
        self.beta = float(beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.beta * x)

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


class Sine(nn.Module):
    """sin(omega x): a high-frequency, periodic activation used as a bad-by-construction control."""

    def __init__(self, omega: float):
        super().__init__()
        if not (math.isfinite(omega) and omega > 0):
            raise ValueError(f"omega must be a finite number > 0, got {omega}")
        self.omega = float(omega)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.omega * x)


def make_activation(name: str, param: float) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "identity":      # no non-linearity: the MLP computes a linear function of its input
        return nn.Identity()
    if name == "swish":
        return Swish(param)
    if name == "sine":
        return Sine(param)
    raise ValueError(f"activation must be 'relu', 'swish', 'sine' or 'identity', got {name!r}")


@dataclasses.dataclass(frozen=True)
class ActivationMLPConfig:
    """models.mlp.MLP with its hidden activations replaced: same weights at init for every activation."""

    in_features: int
    widths: tuple[int, ...]
    num_classes: int
    activation: str = "swish"
    param: float = 1.0            # swish beta or sine omega (ignored for relu and identity)

    def __post_init__(self):
        make_activation(self.activation, self.param)

    def build(self) -> MLP:
        model = MLPConfig(self.in_features, self.widths, self.num_classes).build()
        for block in model.hidden:
            block[-1] = make_activation(self.activation, self.param)
        return model


# --- 3.5: cross-entropy plus a confidence penalty ------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ConfidencePenalizedCE:
    """L(z, y) = CE(z, y) + beta KL(p || u) = -log p_y + beta (log C - H(p)),  p = softmax(z), u uniform.

    The penalty is Pereyra et al. (2017)'s confidence penalty -beta H(p) shifted by the constant
    beta log C, so that it is non-negative (KL >= 0) and the whole loss is too; the gradient is theirs.
    beta = 0 is plain cross-entropy. Mean over the batch.
    """

    beta: float

    def __post_init__(self):
        if not (math.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"beta must be a finite number >= 0, got {self.beta}")

    def per_sample(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if logits.ndim != 2 or target.shape != logits.shape[:1]:
            raise ValueError(f"need logits (B, C) and targets (B,), got {tuple(logits.shape)}, {tuple(target.shape)}")
        log_p = F.log_softmax(logits, dim=1)                                   # (B, C)
        ce = -log_p.gather(1, target[:, None]).squeeze(1)                      # (B,)
        kl_to_uniform = (log_p.exp() * log_p).sum(1) + math.log(logits.shape[1])   # log C - H(p) >= 0
        return ce + self.beta * kl_to_uniform

    def __call__(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.per_sample(logits, target).mean()
