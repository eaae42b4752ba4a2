"""Linear models written as neural-network layers: y = x W^T + b."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def _linear(weight: np.ndarray, bias: np.ndarray) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0], dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=torch.float64))
        layer.bias.copy_(torch.as_tensor(bias, dtype=torch.float64))
    return layer


def pca_layer(pca, *, center: bool = True) -> nn.Linear:
    """A fitted sklearn PCA as nn.Linear(m, k).

    components_ has shape (k, m): one component per row, the same layout as nn.Linear.weight, so
    W = components_ (no transpose). transform(x) = (x - mean_) W^T = x W^T + b with b = -mean_ W^T.
    With whiten=True sklearn divides each output by sqrt(explained_variance_): scale W's rows and b.
    center=False drops the centring bias (a deliberate mistake used as a negative control).
    """
    weight = pca.components_.astype(np.float64)
    if pca.whiten:
        weight = weight / np.sqrt(pca.explained_variance_)[:, None]
    bias = -pca.mean_ @ weight.T if center else np.zeros(weight.shape[0])
    return _linear(weight, bias)


def pca_inverse_layer(pca) -> nn.Linear:
    """inverse_transform as nn.Linear(k, m): x_hat = z W + mean_ (W un-whitened if needed)."""
    weight = pca.components_.astype(np.float64)
    if pca.whiten:
        weight = weight * np.sqrt(pca.explained_variance_)[:, None]
    return _linear(weight.T, pca.mean_.astype(np.float64))
