"""MNIST-1D's reference CNN (the mnist1d package's ConvBase), and M of them computed as one module (claim 5.2).

The reference CNN: three stride-2 convolutions (kernel 5, 3, 3; 25 channels; ReLU) and a linear classifier on
the flattened features, 5,210 parameters for length-40 signals. It is compute-bound on a CPU rather than
overhead-bound: one member-step of M stacked members cost 1.3-1.5x less than a step of one network alone at 25
channels (M = 5-25, batch 128; grouped Conv1d 1.1-1.2x), 1.9-2.1x at 12 channels (/tmp pilot, one thread).
`MemberCNN` stacks the members as unfold + one batched matmul per layer, channels last: member m computes
exactly its own network on its own input x[m] (tests/test_conv_members.py compares it with ReferenceCNN).
"""
from __future__ import annotations

import copy
import dataclasses

import torch
from torch import nn
from torch.nn import functional as F

from fixtures.training.stacked_members import MembersConfig

KERNELS = (5, 3, 3)   # conv1..conv3, each stride 2, padding 1 (ConvBase)


@dataclasses.dataclass(frozen=True)
class ReferenceCNNConfig:
    channels: int = 25
    length: int = 40      # input samples
    classes: int = 10

    def __post_init__(self):
        if min(self.channels, self.length, self.classes) < 1:
            raise ValueError(f"ReferenceCNNConfig sizes must be positive: {self}")

    @property
    def flat(self) -> int:
        """Features after the three stride-2 convolutions (5 x channels for length 40)."""
        length = self.length
        for k in KERNELS:
            length = (length + 2 - k) // 2 + 1
        return length * self.channels

    def build(self) -> ReferenceCNN:
        return ReferenceCNN(self)


class ReferenceCNN(nn.Module):
    """One network: (B, L) -> (B, classes)."""

    def __init__(self, config: ReferenceCNNConfig):
        super().__init__()
        c = config.channels
        self.conv1 = nn.Conv1d(1, c, KERNELS[0], stride=2, padding=1)
        self.conv2 = nn.Conv1d(c, c, KERNELS[1], stride=2, padding=1)
        self.conv3 = nn.Conv1d(c, c, KERNELS[2], stride=2, padding=1)
        self.linear = nn.Linear(config.flat, config.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.reshape(-1, 1, x.shape[-1])
        for conv in (self.conv1, self.conv2, self.conv3):
            h = conv(h).relu()
        return self.linear(h.flatten(1))                                   # channel-major flatten, as ConvBase


class MemberCNN(nn.Module):
    """M reference CNNs: x (B, L) shared or (M, B, L) per member -> (M, B, classes). Parameters keep the
    members' layer names with a leading member dimension."""

    LAYERS = ("conv1", "conv2", "conv3", "linear")

    def __init__(self, members: list[ReferenceCNN]):
        super().__init__()
        if not members:
            raise ValueError("MemberCNN needs at least one member")
        self.members = len(members)
        for name in self.LAYERS:
            layers = [getattr(m, name) for m in members]
            self.register_parameter(f"{name}_weight", nn.Parameter(torch.stack([la.weight.detach() for la in layers])))
            self.register_parameter(f"{name}_bias", nn.Parameter(torch.stack([la.bias.detach() for la in layers])))

    def forward(self, x: torch.Tensor, members: list[int] | None = None) -> torch.Tensor:
        """members: compute only these members (default all), e.g. to evaluate a few of them."""
        chosen = list(range(self.members)) if members is None else list(members)
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(len(chosen), *x.shape)
        if x.dim() != 3 or x.shape[0] != len(chosen):
            raise ValueError(f"expected x of shape (B, L) or ({len(chosen)}, B, L), got {tuple(x.shape)}")
        pick = (lambda t: t) if members is None else (lambda t: t[chosen])
        h = x.unsqueeze(-1)                                                 # (M, B, L, 1) channels last
        for name, k in zip(self.LAYERS[:3], KERNELS):
            h = _conv(h, pick(getattr(self, f"{name}_weight")), pick(getattr(self, f"{name}_bias")), k).relu()
        m, b = h.shape[:2]
        flat = h.transpose(2, 3).reshape(m, b, -1)                          # (M, B, C * L') channel-major
        return torch.baddbmm(pick(self.linear_bias).unsqueeze(1), flat, pick(self.linear_weight).transpose(1, 2))

    def member(self, index: int, like: ReferenceCNN) -> ReferenceCNN:
        """Member `index` as a plain ReferenceCNN (a copy of `like` with that member's weights)."""
        if not 0 <= index < self.members:
            raise ValueError(f"member index must be in [0, {self.members}), got {index}")
        module = copy.deepcopy(like)
        with torch.no_grad():
            for name in self.LAYERS:
                getattr(module, name).weight.copy_(getattr(self, f"{name}_weight")[index])
                getattr(module, name).bias.copy_(getattr(self, f"{name}_bias")[index])
        return module


def _conv(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, k: int) -> torch.Tensor:
    """Stride-2, padding-1 convolution of every member at once: h (M, B, L, Cin), weight (M, Cout, Cin, k)
    -> (M, B, L', Cout), as one batched matmul over the unfolded windows."""
    m, b, length = h.shape[0], h.shape[1], (h.shape[2] + 2 - k) // 2 + 1
    out = torch.baddbmm(bias.unsqueeze(1), _Windows.apply(h, k),
                        weight.reshape(m, weight.shape[1], -1).transpose(1, 2))
    return out.reshape(m, b, length, -1)


class _Windows(torch.autograd.Function):
    """The stride-2, padding-1 windows of h (M, B, L, Cin) as one matrix per member, (M, B * L', Cin * k) (F.pad,
    then unfold, copied), with a backward that adds each window's gradient back where the window was read:
    unfold's own backward (a zero fill and a scatter over 5-d strides) took 1.2 ms of CPU per step at conv2's
    shape against 0.36 ms, a fifth of a 5-member training step. The gradient is the same: with k = 3 (conv2,
    conv3) a position lies in at most two windows, and a sum of two terms does not depend on their order (conv1's
    input, the data, needs no gradient)."""

    @staticmethod
    def forward(ctx, h: torch.Tensor, k: int) -> torch.Tensor:
        m, b, _, c_in = h.shape
        windows = F.pad(h, (0, 0, 1, 1)).unfold(2, k, 2)                   # (M, B, L', Cin, k)
        ctx.k, ctx.shape = k, h.shape
        return windows.reshape(m, b * windows.shape[2], c_in * k)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (m, b, length, c_in), k = ctx.shape, ctx.k
        out = (length + 2 - k) // 2 + 1
        per_tap = grad.reshape(m, b, out, c_in, k)
        padded = grad.new_zeros(m, b, length + 2, c_in)
        for t in range(k):                                                  # window j's tap t read position 2j + t
            padded[:, :, t:t + 2 * out - 1:2] += per_tap[..., t]
        return padded[:, :, 1:-1], None


@dataclasses.dataclass(frozen=True)
class CNNMembersConfig(MembersConfig):
    """Members of the reference CNN trained as one MemberCNN (init_of as in MembersConfig: members with the same
    index start identical)."""

    member: ReferenceCNNConfig

    def build(self) -> MemberCNN:
        return MemberCNN(self.members())
