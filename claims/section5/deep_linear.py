"""Deep linear networks with two input pathways (Kleinman, Achille & Soatto 2024), stacked over members.

Two noisy views of one latent, x_a = z + noise and x_b = z + noise, feed two deep linear pathways
whose outputs add up: y_hat = A_L ... A_1 x_a + B_L ... B_1 x_b, trained to predict y = W z. A deficit
blanks view b (x_b = 0). M independent networks (members) are trained at once: parameters of shape
(M, d, d) per layer, inputs of shape (M, B, 2d), so each member can have its own deficit schedule.
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

from fixtures.datasets import Split


@dataclasses.dataclass(frozen=True)
class TwoPathwayConfig:
    dim: int            # d: latent, view and output dimension
    depth: int          # layers per pathway (1 = a shallow, convex model)
    members: int        # independent networks trained together
    init_scale: float   # std of each weight entry x sqrt(d)

    def __post_init__(self):
        if min(self.dim, self.depth, self.members) < 1 or self.init_scale <= 0:
            raise ValueError(f"TwoPathwayConfig sizes and init_scale must be positive: {self}")

    def build(self) -> TwoPathwayLinear:
        return TwoPathwayLinear(self)


class TwoPathwayLinear(nn.Module):
    def __init__(self, config: TwoPathwayConfig):
        super().__init__()
        self.config = config
        d, m, std = config.dim, config.members, config.init_scale / config.dim ** 0.5
        self.a = nn.ParameterList(nn.Parameter(torch.randn(m, d, d) * std) for _ in range(config.depth))
        self.b = nn.ParameterList(nn.Parameter(torch.randn(m, d, d) * std) for _ in range(config.depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (M, B, 2d) per-member inputs, or (B, 2d) shared -> (M, B, d)."""
        if x.dim() == 2:
            x = x.expand(self.config.members, *x.shape)
        d = self.config.dim
        h_a, h_b = x[..., :d], x[..., d:]                       # (M, B, d) each
        for layer_a, layer_b in zip(self.a, self.b):
            h_a, h_b = h_a @ layer_a.transpose(1, 2), h_b @ layer_b.transpose(1, 2)
        return h_a + h_b

    @torch.no_grad()
    def end_to_end(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The pathways' end-to-end maps P_a = A_L ... A_1 and P_b, each (M, d, d)."""
        maps = []
        for layers in (self.a, self.b):
            product = layers[0]
            for layer in layers[1:]:
                product = layer @ product
            maps.append(product.detach().clone())
        return maps[0], maps[1]

    def pathway_b_share(self) -> torch.Tensor:
        """||P_b|| / (||P_a|| + ||P_b||) per member: 0.5 when both views are used equally."""
        p_a, p_b = (p.flatten(1).norm(dim=1) for p in self.end_to_end())
        return p_b / (p_a + p_b)


def two_view_population(targets: torch.Tensor, *, noise: float) -> Split:
    """The two-view task as 3d pseudo-samples whose squared loss IS the population loss.

    x = [z + noise e_a, z + noise e_b], y_m = W_m z with z, e_a, e_b ~ N(0, I_d): [x; y] is a linear map
    G of the standard normal vector u = [z; e_a; e_b], so for any linear model E||y - P x||^2 =
    sum_i ||G_y u_i - P G_x u_i||^2 over the 3d basis vectors u_i. The pseudo-samples are the images of
    sqrt(3d) u_i (the loss averages over samples): exact, noise-free, and 3d samples instead of
    thousands. A deficit that blanks x_b acts on them exactly as on real samples.
    targets: (M, d, d), the members' target maps W_m; x (3d, 2d), y (3d, M, d)."""
    if targets.dim() != 3 or targets.shape[1] != targets.shape[2]:
        raise ValueError(f"targets must have shape (M, d, d), got {tuple(targets.shape)}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    d = targets.shape[1]
    eye, zero = torch.eye(d), torch.zeros(d, d)
    x = torch.cat([torch.cat([eye, eye], 1),                 # u = z_i: both views see it
                   torch.cat([noise * eye, zero], 1),        # u = e_a,i: view a's noise
                   torch.cat([zero, noise * eye], 1)]) * (3 * d) ** 0.5
    z = torch.cat([eye, zero, zero]) * (3 * d) ** 0.5        # (3d, d): the latent of each pseudo-sample
    y = torch.einsum("mij,nj->nmi", targets, z)
    return Split("two-view-population", x, y, x, y, num_classes=0)


def squared_error(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sum over members of the mean (over samples) squared error: out (M, B, d), y (B, M, d)."""
    return ((out - y.transpose(0, 1)) ** 2).sum(-1).mean(-1).sum()


def blank_view_b(blanked: torch.Tensor, dim: int):
    """batch_transform factory: members flagged in blanked(epoch) (a (M,) bool tensor) get x_b = 0."""
    def transform(epoch: int, x: torch.Tensor) -> torch.Tensor:
        mask = blanked(epoch)
        xm = x.expand(len(mask), *x.shape).clone()               # (M, B, 2d)
        xm[mask, :, dim:] = 0.0
        return xm
    return transform
