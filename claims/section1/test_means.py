"""1.2: the sample mean, the class means and each class's farthest sample, formally and vectorized."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from claims.shared.feature_space import class_means, farthest_per_class, sample_mean

CARD = Card(
    id="1.2",
    budget_s=1,
    title="Sample mean, class means and farthest samples match their formal definitions",
    question="Generate random n x m data (m = 2) for k classes; compute (i) the mean sample, (ii) the mean "
             "sample of each class, (iii) for each class the sample farthest from the class mean; express "
             "the solutions formally.",
    answer="mu = (1/n) sum_i x_i;  mu_c = (1/n_c) sum_{i: y_i = c} x_i with n_c = #{i: y_i = c};  "
           "far_c = argmax_{i: y_i = c} ||x_i - mu_c||_2. The overall mean is the n_c-weighted mean of the "
           "class means, mu = sum_c (n_c / n) mu_c, not their plain average (unless classes are balanced).",
    method="Hypothesis draws n, m, k, labels and values (ties and duplicate rows included). The vectorized "
           "functions (one-hot matrix product, lexsort) are compared with the definitions written as loops "
           "(relative tolerance 1e-9); the results are invariant to permuting the rows; no sample of class c "
           "is farther from mu_c than far_c; and mu equals the n_c-weighted mean of the class means.",
    control="The common slip mu = (1/k) sum_c mu_c (the unweighted mean of class means) is checked with the "
            "same property and must be falsified.",
)
TOL = 1e-9  # relative to the data's magnitude: sums of <= 60 float64 values differ only by rounding


def definition(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict, dict]:
    """The formulas as loops: mu, {c: mu_c}, {c: max_i ||x_i - mu_c||}."""
    n = len(x)
    mu = sum(x[i] for i in range(n)) / n
    members = {c: [i for i in range(n) if y[i] == c] for c in sorted(set(y.tolist()))}
    mu_c = {c: sum(x[i] for i in idx) / len(idx) for c, idx in members.items()}
    far_d = {c: max(float(np.sqrt(np.sum((x[i] - mu_c[c]) ** 2))) for i in idx) for c, idx in members.items()}
    return mu, mu_c, far_d


def weighted_mean_of_class_means(classes, means, y) -> np.ndarray:
    counts = np.array([(y == c).sum() for c in classes])
    return (counts[:, None] * means).sum(0) / counts.sum()


def unweighted_mean_of_class_means(classes, means, y) -> np.ndarray:
    return means.mean(0)


def data(max_n: int = 60, max_m: int = 6, max_k: int = 6):
    @st.composite
    def draw(draw_):
        n, m, k = draw_(st.integers(1, max_n)), draw_(st.integers(1, max_m)), draw_(st.integers(1, max_k))
        x = draw_(hnp.arrays(np.float64, (n, m), elements=st.floats(-1e3, 1e3, allow_nan=False)))
        y = draw_(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
        return x, y, draw_(st.permutations(range(n)))
    return draw()


@claim(CARD)
def test_vectorized_means_and_farthest_samples_equal_their_definitions(arm, evidence):
    mean_of_means = weighted_mean_of_class_means if arm is Arm.CLAIM else unweighted_mean_of_class_means
    examples = evidence.profile.examples

    @stats.property_settings(examples)
    @given(sample=data())
    def check(sample):
        x, y, perm = sample
        tol = TOL * (1.0 + np.abs(x).max())
        mu, mu_c, far_d = definition(x, y)
        classes, means = class_means(x, y)
        _, far = farthest_per_class(x, y)
        assert np.allclose(sample_mean(x), mu, rtol=0, atol=tol), "sample mean differs from the definition"
        assert np.allclose(means, [mu_c[c] for c in classes], rtol=0, atol=tol), "class means differ"
        dist = np.linalg.norm(x[far] - means, axis=1)
        assert np.all(y[far] == classes), "a farthest sample is not in its class"
        assert np.allclose(dist, [far_d[c] for c in classes], rtol=0, atol=tol), "farthest distance differs"
        _, means_p = class_means(x[perm], y[perm])
        _, far_p = farthest_per_class(x[perm], y[perm])
        assert np.allclose(means_p, means, rtol=0, atol=tol), "class means change under row permutation"
        assert np.allclose(np.linalg.norm(x[perm][far_p] - means, axis=1), dist, rtol=0, atol=tol)
        assert np.allclose(mean_of_means(classes, means, y), mu, rtol=0, atol=tol), (
            f"overall mean != {mean_of_means.__name__} (class counts {np.bincount(y).tolist()})")

    evidence.check(stats.property_holds(
        check, name="vectorized == definition, permutation invariant, mu = sum_c (n_c/n) mu_c", examples=examples))
