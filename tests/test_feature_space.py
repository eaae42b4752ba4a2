"""Unit tests of claims/shared/feature_space.py (1.2-1.4 helpers)."""
from __future__ import annotations

import numpy as np
import pytest

from claimcheck.lazy import LazyModule
from claims.shared.feature_space import (
    CLASS_MEAN_GID,
    OVERALL_MEAN_GID,
    class_means,
    farthest_per_class,
    labelled_blobs,
    plot_feature_space,
    plotted_points,
    sample_mean,
)

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

X = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0], [10.0, 14.0], [13.0, 10.0]])
Y = np.array([1, 1, 7, 7, 7])


def test_means_and_farthest_on_a_hand_example():
    assert np.allclose(sample_mean(X), [7.0, 6.8])
    classes, means = class_means(X, Y)
    assert classes.tolist() == [1, 7]
    assert np.allclose(means, [[1.0, 0.0], [11.0, 34 / 3]])
    _, far = farthest_per_class(X, Y)
    assert far.tolist() == [0, 3]  # a tie in class 1 goes to the lower index; (10, 14) is farthest in class 7


@pytest.mark.parametrize("x, y", [(np.zeros((0, 2)), np.zeros(0)), (np.zeros(3), np.zeros(3)),
                                  (np.zeros((3, 2)), np.zeros(4)), (np.zeros((3, 2)), np.zeros((3, 1)))])
def test_bad_shapes_raise_a_value_error(x, y):
    with pytest.raises(ValueError, match="must"):
        class_means(x, y)
    with pytest.raises(ValueError, match="must"):
        farthest_per_class(x, y)


def test_sample_mean_rejects_a_vector():
    with pytest.raises(ValueError, match="2-D"):
        sample_mean(np.arange(3.0))


@pytest.mark.parametrize("n, m, k", [(0, 2, 3), (5, 0, 3), (5, 2, 0)])
def test_labelled_blobs_rejects_non_positive_sizes(n, m, k):
    with pytest.raises(ValueError, match="positive"):
        labelled_blobs(n, m, k, seed=0)


def test_labelled_blobs_has_every_class_and_is_reproducible():
    x, y = labelled_blobs(20, 3, 4, seed=1)
    assert x.shape == (20, 3) and set(y.tolist()) == {0, 1, 2, 3}
    assert np.array_equal(x, labelled_blobs(20, 3, 4, seed=1)[0])


def test_plot_marks_the_means_and_refuses_more_than_two_columns():
    fig, ax = plt.subplots()
    plot_feature_space(ax, X, Y, title="t", farthest=True)
    assert np.allclose(plotted_points(ax, CLASS_MEAN_GID), class_means(X, Y)[1])
    assert np.allclose(plotted_points(ax, OVERALL_MEAN_GID), [sample_mean(X)])
    with pytest.raises(LookupError):
        plotted_points(ax, "nothing")
    with pytest.raises(ValueError, match="2-D points"):
        plot_feature_space(ax, np.zeros((3, 3)), np.zeros(3), title="t")
    plt.close(fig)
