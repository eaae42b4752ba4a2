"""Internal representations: layer outputs, similarity (linear CKA, CCA), linear probes and rank.

Used by claims 4.2-4.4. Every similarity is computed in float64 on centred features; a
representation is a matrix (n samples, p features).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

Array = np.ndarray


def _as_matrix(x, name: str) -> Array:
    x = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (samples, features) matrix, got shape {x.shape}")
    return x


def _pair(x, y, min_n: int) -> tuple[Array, Array]:
    x, y = _as_matrix(x, "x"), _as_matrix(y, "y")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same samples (rows): {x.shape[0]} != {y.shape[0]}")
    if x.shape[0] < min_n:
        raise ValueError(f"need at least {min_n} samples, got {x.shape[0]}")
    return x, y


def linear_cka(x, y) -> float:
    """Linear CKA (Kornblith et al. 2019): ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F), float64.

    Invariant to orthogonal maps and isotropic scaling of either side; 1 for x == y. A constant
    (zero-variance) representation has no similarity to anything: ValueError.
    """
    x, y = _pair(x, y, min_n=2)
    x, y = x - x.mean(0), y - y.mean(0)
    xx, yy = np.linalg.norm(x.T @ x), np.linalg.norm(y.T @ y)
    if xx == 0 or yy == 0:
        raise ValueError("linear CKA is undefined for a constant representation")
    return float(np.linalg.norm(y.T @ x) ** 2 / (xx * yy))


def _unbiased_hsic(k: Array, l: Array) -> float:
    """Song et al. 2012's unbiased HSIC estimator from two Gram matrices (n > 3)."""
    n = k.shape[0]
    k, l = k.copy(), l.copy()
    np.fill_diagonal(k, 0.0)
    np.fill_diagonal(l, 0.0)
    ones_k, ones_l = k.sum(0), l.sum(0)
    return float((np.sum(k * l) + ones_k.sum() * ones_l.sum() / ((n - 1) * (n - 2))
                  - 2.0 / (n - 2) * ones_k @ ones_l) / (n * (n - 3)))


def debiased_cka(x, y, *, batch_size: int | None = None) -> float:
    """Linear CKA from the unbiased HSIC estimator, accumulated over minibatches (Nguyen et al. 2021).

    CKA = sum_b HSIC1(K_b, L_b) / sqrt(sum_b HSIC1(K_b, K_b) * sum_b HSIC1(L_b, L_b)), with the
    samples cut into consecutive batches of `batch_size` (default: one batch of all samples).
    Unlike the plug-in estimate it is not inflated for unrelated representations when the feature
    dimension is large compared with n; it can be slightly negative.
    """
    x, y = _pair(x, y, min_n=4)
    batch_size = batch_size or x.shape[0]
    if batch_size < 4:
        raise ValueError(f"batch_size must be at least 4 (the estimator divides by n - 3), got {batch_size}")
    xy = xx = yy = 0.0
    for start in range(0, x.shape[0] - 3, batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        if xb.shape[0] < 4:
            break
        k, l = xb @ xb.T, yb @ yb.T
        xy, xx, yy = xy + _unbiased_hsic(k, l), xx + _unbiased_hsic(k, k), yy + _unbiased_hsic(l, l)
    if xx <= 0 or yy <= 0:
        raise ValueError("debiased CKA is undefined for a (near) constant representation")
    return float(xy / np.sqrt(xx * yy))


def mean_cca_similarity(x, y, *, tol: float = 1e-10) -> float:
    """Mean squared canonical correlation ||Qy^T Qx||_F^2 / min(rank x, rank y) of centred x, y.

    Qx, Qy are orthonormal bases of the centred column spaces. When a representation has as many
    dimensions as the n - 1 a centred sample allows, its basis spans every centred direction and
    the measure is 1 for ANY other representation: CCA-type measures are meaningless for p >= n.
    """
    x, y = _pair(x, y, min_n=2)
    bases = []
    for m in (x - x.mean(0), y - y.mean(0)):
        u, s, _ = np.linalg.svd(m, full_matrices=False)
        rank = int((s > tol * max(s[0], 1e-300)).sum())
        if rank == 0:
            raise ValueError("CCA similarity is undefined for a constant representation")
        bases.append(u[:, :rank])
    qx, qy = bases
    return float(np.linalg.norm(qy.T @ qx) ** 2 / min(qx.shape[1], qy.shape[1]))


def unit_matched_similarity(x, y) -> float:
    """Mean absolute Pearson correlation between the units with the same index in x and y (equal widths).

    A similarity that depends on each representation's basis: two networks trained from different seeds
    order their units arbitrarily, so unit j of one has no reason to match unit j of the other (CKA is
    invariant to that permutation). A constant unit correlates with nothing (it contributes 0).
    """
    x, y = _pair(x, y, min_n=2)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"unit-matched similarity needs equal widths, got {x.shape[1]} and {y.shape[1]}")
    x, y = x - x.mean(0), y - y.mean(0)
    norms = np.linalg.norm(x, axis=0) * np.linalg.norm(y, axis=0)
    corr = np.divide((x * y).sum(0), norms, out=np.zeros(x.shape[1]), where=norms > 0)
    return float(np.abs(corr).mean())


def similarity_matrix(reps_a: list[Array], reps_b: list[Array], similarity=linear_cka) -> Array:
    """`similarity` between every layer of a (rows) and every layer of b (columns)."""
    return np.array([[similarity(a, b) for b in reps_b] for a in reps_a])


def cka_matrix(reps_a: list[Array], reps_b: list[Array]) -> Array:
    """Linear CKA between every layer of a (rows) and every layer of b (columns)."""
    return similarity_matrix(reps_a, reps_b, linear_cka)


# --- layer outputs ---------------------------------------------------------------------------

def mlp_layer_nodes(model: nn.Module) -> list[str]:
    """The graph nodes of an MLP's hidden-layer outputs (after the activation), input to output."""
    from torchvision.models.feature_extraction import get_graph_node_names  # imported on use (start-up)

    nodes = get_graph_node_names(model)[1]
    blocks = sorted({n.split(".")[1] for n in nodes if n.startswith("hidden.")}, key=int)
    return [max((n for n in nodes if n.startswith(f"hidden.{b}.")), key=lambda n: int(n.split(".")[2]))
            for b in blocks]


@torch.no_grad()
def layer_outputs(model: nn.Module, x: torch.Tensor, nodes: list[str]) -> list[torch.Tensor]:
    """Outputs of `nodes` for inputs x, in eval mode, with torchvision's create_feature_extractor."""
    from torchvision.models.feature_extraction import create_feature_extractor  # imported on use (start-up)

    extractor = create_feature_extractor(model, return_nodes={n: n for n in nodes})
    extractor.eval()
    out = extractor(x)
    return [out[n].flatten(1) for n in nodes]


# --- probes and rank ---------------------------------------------------------------------------

def ridge_probe_accuracy(f_train, y_train, f_test, y_test, *, alpha: float, num_classes: int) -> float:
    """Test accuracy of a linear probe: ridge regression on one-hot labels (closed form, float64)
    on features standardized with training statistics; prediction = argmax."""
    a, b = _as_matrix(f_train, "f_train"), _as_matrix(f_test, "f_test")
    mean, std = a.mean(0), a.std(0)
    std = np.where(std > 1e-8, std, 1.0)
    a, b = (a - mean) / std, (b - mean) / std
    targets = np.eye(num_classes)[np.asarray(y_train)] - 1.0 / num_classes
    gram = a.T @ a + alpha * len(a) * np.eye(a.shape[1])
    w = np.linalg.solve(gram, a.T @ targets)
    return float(((b @ w).argmax(1) == np.asarray(y_test)).mean())


def numerical_rank(f, *, rel_tol: float) -> int:
    """Number of singular values of the centred representation above rel_tol times the largest."""
    f = _as_matrix(f, "f")
    s = np.linalg.svd(f - f.mean(0), compute_uv=False)
    return int((s > rel_tol * s[0]).sum()) if s[0] > 0 else 0


def mlp_features(model: nn.Module, data) -> tuple[list[Array], list[Array]]:
    """(train, test) representations of an MLP: the input, then every hidden layer, as float64."""
    nodes = mlp_layer_nodes(model)
    out = []
    for x in (data.x_train, data.x_test):
        out.append([x.flatten(1).double().numpy()] + [f.double().numpy() for f in layer_outputs(model, x, nodes)])
    return out[0], out[1]


def untrained_copy(recipe, trained) -> nn.Module:
    """The recipe's model with `trained`'s checkpoint-0 weights (its untrained twin), in eval mode."""
    if trained.init_state is None:
        raise ValueError("this trained model has no checkpoint 0: train it with Recipe(keep_init=True)")
    model = recipe.arch.build()
    model.load_state_dict(trained.init_state)
    return model.eval()
