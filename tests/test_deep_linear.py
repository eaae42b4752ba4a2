"""The two-pathway deep linear network and its exact population pseudo-samples (claim 5.2)."""
from __future__ import annotations

import pytest
import torch

from claims.section5.deep_linear import TwoPathwayConfig, blank_view_b, squared_error, two_view_population


def population_loss(p_a, p_b, w, noise):
    """E||W z - P_a (z + noise e_a) - P_b (z + noise e_b)||^2 in closed form."""
    bias = w - p_a - p_b
    return (bias ** 2).sum() + noise ** 2 * ((p_a ** 2).sum() + (p_b ** 2).sum())


def test_pseudo_samples_give_exactly_the_population_loss():
    torch.manual_seed(0)
    d, noise = 4, 0.3
    model = TwoPathwayConfig(d, 2, 1, 1.0).build()
    w = torch.linalg.qr(torch.randn(1, d, d))[0]
    data = two_view_population(w, noise=noise)
    p_a, p_b = model.end_to_end()
    loss = squared_error(model(data.x_train), data.y_train)
    torch.testing.assert_close(loss, population_loss(p_a[0], p_b[0], w[0], noise), rtol=1e-5, atol=1e-5)


def test_forward_is_the_sum_of_the_two_pathways_end_to_end_maps():
    torch.manual_seed(1)
    model = TwoPathwayConfig(3, 3, 2, 1.0).build()
    x = torch.randn(5, 6)
    p_a, p_b = model.end_to_end()
    expected = torch.einsum("mij,bj->mbi", p_a, x[:, :3]) + torch.einsum("mij,bj->mbi", p_b, x[:, 3:])
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-6)
    share = model.pathway_b_share()
    assert share.shape == (2,) and bool(((share > 0) & (share < 1)).all())


def test_blanking_zeroes_view_b_of_the_chosen_members_only():
    transform = blank_view_b(lambda epoch: torch.tensor([True, False]), 2)
    x = torch.ones(3, 4)
    out = transform(0, x)
    assert out.shape == (2, 3, 4)
    assert out[0, :, 2:].abs().sum() == 0 and out[0, :, :2].sum() == 6 and out[1].sum() == 12


@pytest.mark.parametrize("kwargs", [dict(dim=0, depth=1, members=1, init_scale=1.0),
                                    dict(dim=2, depth=1, members=1, init_scale=0.0)])
def test_config_rejects_invalid_sizes(kwargs):
    with pytest.raises(ValueError, match="positive"):
        TwoPathwayConfig(**kwargs)


def test_population_rejects_bad_targets_and_noise():
    with pytest.raises(ValueError, match="shape"):
        two_view_population(torch.zeros(2, 3), noise=0.1)
    with pytest.raises(ValueError, match="noise"):
        two_view_population(torch.zeros(1, 2, 2), noise=-1.0)
