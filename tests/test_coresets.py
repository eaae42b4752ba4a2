"""Unit tests of claims/section1/coresets.py (1.6 helpers)."""
from __future__ import annotations

import numpy as np
import pytest

from claims.section1.coresets import (
    class_balanced_k_center,
    covering_radius,
    k_center_greedy,
    one_nn_accuracy,
    random_subset,
    separation_lower_bound,
)

LINE = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])


def test_k_center_greedy_is_farthest_first_on_a_line():
    assert k_center_greedy(LINE, 3, first=0).tolist() == [0, 4, 2]
    assert covering_radius(LINE, np.array([0, 4, 2])) == 1.0
    # centers 0, 11, 2 plus the farthest sample (at distance 1): the smallest gap among them is 1 -> bound 0.5
    assert separation_lower_bound(LINE, np.array([0, 4, 2])) == 0.5


@pytest.mark.parametrize("k", [0, -1, 6, 2.5, True])
def test_k_center_greedy_rejects_a_bad_k(k):
    with pytest.raises(ValueError, match="k must be an integer"):
        k_center_greedy(LINE, k)


def test_k_center_greedy_rejects_a_bad_start_and_bad_data():
    with pytest.raises(ValueError, match="first"):
        k_center_greedy(LINE, 2, first=5)
    with pytest.raises(ValueError, match="2-D"):
        k_center_greedy(np.arange(4.0), 2)


def test_class_balanced_selection_splits_the_budget_over_classes():
    x = np.random.default_rng(0).normal(size=(30, 2))
    y = np.repeat([0, 1, 2], 10)
    chosen = class_balanced_k_center(x, y, 7, seed=1)
    assert len(chosen) == 7 and len(set(chosen.tolist())) == 7
    assert sorted(np.bincount(y[chosen]).tolist()) == [2, 2, 3]
    with pytest.raises(ValueError, match="smaller than the number of classes"):
        class_balanced_k_center(x, y, 2, seed=1)
    with pytest.raises(ValueError, match="y must have shape"):
        class_balanced_k_center(x, y[:5], 6, seed=1)


def test_random_subset_and_radius_validate_their_arguments():
    assert sorted(random_subset(5, 5, seed=0).tolist()) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="1 <= k <= n"):
        random_subset(5, 0, seed=0)
    with pytest.raises(ValueError, match="non-empty"):
        covering_radius(LINE, np.array([], dtype=int))


def test_one_nn_accuracy_on_a_hand_example():
    assert one_nn_accuracy(LINE[[0, 3]], np.array([0, 1]), LINE, np.array([0, 0, 1, 1, 1])) == 0.8
