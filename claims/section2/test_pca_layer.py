"""2.2: PCA is a linear layer x W^T + b."""
from __future__ import annotations

import functools

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.memo import measurement
from models.linear_maps import pca_inverse_layer, pca_layer

# scikit-learn: imported on first use (~1.5 s), not when the test is collected
datasets = LazyModule("sklearn.datasets")
decomposition = LazyModule("sklearn.decomposition")

CARD = Card(
    id="2.2",
    budget_s=5,
    title="PCA is a linear layer x W^T + b",
    question="Linear projections (PCA, linear regression) and a one-layer network both compute x W^T + b. "
             "How can a linear model be written as a network layer? Do it for PCA; note how the "
             "projection matrix is stored (row or column) and which transformations precede it.",
    answer="sklearn stores components_ as a (k, m) matrix, one component per row: exactly the layout of "
           "nn.Linear(m, k).weight, so W = components_ with no transpose. PCA centres the data first, "
           "which becomes the bias b = -mean_ W^T; whitening divides each row of W (and b) by "
           "sqrt(explained_variance_). The inverse transform is the layer z W + mean_.",
    method="Hypothesis draws data shapes (n, m, k) and values; the layer's output is compared with "
           "pca.transform (float64, atol 1e-8), with and without whitening, and the inverse layer with "
           "inverse_transform. The course's own example (make_classification 10,000 x 3,000, k = 2) is "
           "checked too.",
    control="The same layer without the centring bias (b = 0) must fail the same comparison.",
)
ATOL = 1e-8  # float64; sklearn's SVD and our matmul differ by rounding only (pilot max error ~1e-13)
COURSE_SHAPE = (10_000, 3_000)  # the exercise's make_classification call


def layer_matches_transform(pca, x: np.ndarray, center: bool) -> tuple[bool, float]:
    out = pca_layer(pca, center=center)(torch.as_tensor(x, dtype=torch.float64)).detach().numpy()
    err = float(np.max(np.abs(out - pca.transform(x))))
    return err <= ATOL, err


@functools.lru_cache(maxsize=2)
def course_example(n: int, m: int) -> tuple[object, np.ndarray]:
    x, _ = datasets.make_classification(n_samples=n, n_features=m, random_state=0)
    return decomposition.PCA(n_components=2, random_state=0).fit(x), x


@measurement
def course_example_matches(zoo, n: int, m: int, center: bool) -> tuple[bool, float]:
    """`layer_matches_transform` on the course's example at size n x m (a cached measurement)."""
    pca, x = course_example(n, m)
    return layer_matches_transform(pca, x, center)


@claim(CARD)
def test_pca_transform_equals_a_linear_layer_with_centring_bias(arm, evidence, zoo):
    center = arm is Arm.CLAIM
    examples = evidence.profile.examples

    @stats.property_settings(examples)
    @given(n=st.integers(4, 60), m=st.integers(2, 30), frac=st.floats(0.05, 1.0), whiten=st.booleans(),
           seed=st.integers(0, 2**31 - 1), shift=st.floats(-50, 50))
    def check(n, m, frac, whiten, seed, shift):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(n, m)) * rng.uniform(0.1, 5, size=m) + shift + rng.normal(size=m)
        k = max(1, int(frac * min(n - 1, m)))
        pca = decomposition.PCA(n_components=k, whiten=whiten).fit(x)
        ok, err = layer_matches_transform(pca, x, center)
        assert ok, f"max |layer - transform| = {err:.3g} (n={n}, m={m}, k={k}, whiten={whiten})"
        back = pca_inverse_layer(pca)(torch.as_tensor(pca.transform(x))).detach().numpy()
        assert np.allclose(back, pca.inverse_transform(pca.transform(x)), atol=ATOL)

    evidence.check(stats.property_holds(check, name="layer(x) == pca.transform(x), inverse too",
                                        examples=examples))
    n, m = (evidence.profile.samples(s) for s in COURSE_SHAPE)
    ok, err = course_example_matches(zoo, n, m, center)
    evidence.record_value("course_example_max_abs_error", err)
    evidence.check(stats.exact(ok, name=f"course example ({n} x {m}, k=2)", n=n,
                               detail=f"max |layer - transform| = {err:.3g} (tolerance {ATOL})"))
