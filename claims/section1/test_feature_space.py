"""1.3 and 1.4: drawing the feature space with its overall mean and class means, for m = 2 and m > 4."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from claimcheck import stats
from claimcheck.evidence import Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.seeds import SeedFamily
from claims.shared.feature_space import (
    CLASS_MEAN_GID,
    OVERALL_MEAN_GID,
    class_means,
    labelled_blobs,
    plot_feature_space,
    plotted_points,
    sample_mean,
)

decomposition = LazyModule("sklearn.decomposition")  # scikit-learn: imported on first use (~1.5 s)
plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

CARD_2D = Card(
    id="1.3",
    budget_s=1,
    title="The m = 2 feature space with its overall mean and class means",
    question="Generate random n x m data with m = 2 and show the feature space, highlighting the overall mean "
             "sample and the mean sample of each class.",
    answer="With m = 2 the feature space is the plane itself: a scatter plot of the samples coloured by class, "
           "each class mean mu_c drawn as a large cross in its class colour, the overall mean mu as a black "
           "star (and, from 1.2, each class's farthest sample ringed). See the figure.",
    method="k Gaussian classes in R^2; the figure is drawn by plot_feature_space; the mean markers' coordinates "
           "are read back from the figure and compared with the 1.2 definitions (tolerance 1e-9); the PNG is "
           "written and checked.",
)
CARD_HIGH = Card(
    id="1.4",
    budget_s=1,
    title="For m > 4, show the feature space through a PCA projection (and parallel coordinates)",
    question="Do the same as 1.3 with m > 4. How can the feature space be shown when m is arbitrarily large?",
    answer="Project it: PCA onto the first two principal components (a linear map, so class means project "
           "exactly onto the means of the projected samples; the axes retain a known fraction of the "
           "variance), or a non-linear embedding (t-SNE, UMAP) when the structure is non-linear (then the "
           "means are no longer preserved). Or avoid projecting: a pairwise scatter matrix (m(m-1)/2 panels) "
           "or parallel coordinates (one vertical axis per feature, each sample a polyline), which scale to "
           "tens of features. The figures show PCA and parallel coordinates for m = 8.",
    method="Hypothesis draws n, m > 4, k and data; PCA(2) is fitted; asserted: transform(mu_c) equals the mean "
           "of the transformed class-c samples (relative tolerance 1e-9), and the variance of the projection "
           "divided by the total variance equals the sum of sklearn's explained_variance_ratio_[:2]. The "
           "figure's plotted means are read back and compared with the projected means.",
)
TOL = 1e-9             # float64, data of magnitude <= ~50: only rounding differs
FIGURE_DATA = dict(n=300, k=4)
HIGH_M = 8             # "m > 4"


def figure_seed(evidence) -> int:
    """The data set drawn for the figure: the first seed of the claim's family (one fixed example)."""
    return SeedFamily(evidence.card.id).seeds(evidence.run.seed_base, 1)[0]


def check_plotted_means(evidence, ax, x2: np.ndarray, y: np.ndarray, what: str) -> None:
    classes, means = class_means(x2, y)
    drawn_class, drawn_mu = plotted_points(ax, CLASS_MEAN_GID), plotted_points(ax, OVERALL_MEAN_GID)[0]
    err = max(float(np.abs(drawn_class - means).max()), float(np.abs(drawn_mu - sample_mean(x2)).max()))
    evidence.record_value(f"{what}_plotted_mean_max_abs_error", err)
    evidence.check(stats.exact(err <= TOL * (1 + np.abs(x2).max()), n=len(classes) + 1,
                               name=f"plotted overall and class means are the 1.2 means ({what})",
                               detail=f"max |plotted - computed| = {err:.3g}"))


@claim(CARD_2D, control=False)
def test_m2_feature_space_figure_marks_the_overall_and_class_means(arm, evidence):
    x, y = labelled_blobs(FIGURE_DATA["n"], 2, FIGURE_DATA["k"], seed=figure_seed(evidence))
    fig, ax = plt.subplots(figsize=(6, 5))
    plot_feature_space(ax, x, y, farthest=True,
                       title=f"1.3 feature space, m = 2 (n = {len(x)}, k = {FIGURE_DATA['k']})")
    check_plotted_means(evidence, ax, x, y, "m=2")
    evidence.save_figure(fig, "feature-space-m2")


@claim(CARD_HIGH, control=False)
def test_pca_projection_preserves_class_means_and_reports_its_retained_variance(arm, evidence):
    examples = evidence.profile.examples

    @stats.property_settings(examples)
    @given(n=st.integers(6, 80), m=st.integers(5, 30), k=st.integers(1, 6), seed=st.integers(0, 2**31 - 1))
    def check(n, m, k, seed):
        x, y = labelled_blobs(n, m, k, seed=seed)
        pca = decomposition.PCA(n_components=2).fit(x)
        z = pca.transform(x)
        _, mu_c = class_means(x, y)
        _, mu_c_z = class_means(z, y)
        tol = TOL * (1 + np.abs(x).max())
        assert np.allclose(pca.transform(mu_c), mu_c_z, rtol=0, atol=tol), "projected means differ"
        retained = z.var(axis=0).sum() / x.var(axis=0).sum()
        assert abs(retained - pca.explained_variance_ratio_.sum()) <= TOL, (retained, n, m)

    evidence.check(stats.property_holds(
        check, name="PCA(class mean) == class mean of PCA; retained variance == explained_variance_ratio_",
        examples=examples))
    x, y = labelled_blobs(FIGURE_DATA["n"], HIGH_M, FIGURE_DATA["k"], seed=figure_seed(evidence))
    pca = decomposition.PCA(n_components=2).fit(x)
    ratio = pca.explained_variance_ratio_
    evidence.record_value("figure_explained_variance_ratio", ratio.tolist())
    fig, ax = plt.subplots(figsize=(6, 5))
    plot_feature_space(ax, pca.transform(x), y, farthest=True, xlabel=f"PC1 ({100 * ratio[0]:.0f}% of variance)",
                       ylabel=f"PC2 ({100 * ratio[1]:.0f}% of variance)",
                       title=f"1.4 PCA view of m = {HIGH_M} (n = {len(x)}, k = {FIGURE_DATA['k']})")
    check_plotted_means(evidence, ax, pca.transform(x), y, f"m={HIGH_M} PCA")
    evidence.save_figure(fig, "feature-space-pca")
    evidence.save_figure(parallel_coordinates(x, y), "feature-space-parallel-coordinates")


def parallel_coordinates(x: np.ndarray, y: np.ndarray):
    """One vertical axis per (standardized) feature; samples thin, class means thick, overall mean dashed."""
    z = (x - x.mean(0)) / x.std(0)
    classes, means = class_means(z, y)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    axes = np.arange(1, z.shape[1] + 1)
    for i, c in enumerate(classes):
        ax.plot(axes, z[y == c].T, color=f"C{i}", alpha=0.08, lw=0.8)
        ax.plot(axes, means[i], color=f"C{i}", lw=3, label=f"class {c} mean")
    ax.plot(axes, sample_mean(z), color="black", lw=2.5, ls="--", label="overall mean")
    ax.set(xticks=axes, xlabel="feature", ylabel="standardized value",
           title=f"1.4 parallel coordinates, m = {z.shape[1]} (n = {len(z)})")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
    return fig
