"""6.3's predictor P(x): which test resolution to use per image, and what the choice costs."""
from __future__ import annotations

import numpy as np


def best_resolution(correct: np.ndarray) -> np.ndarray:
    """Index of the lowest resolution that classifies each sample correctly (the highest when none does).

    correct: (n, resolutions) bool, resolutions ordered from cheapest to most expensive.
    """
    correct = np.asarray(correct, dtype=bool)
    return np.where(correct.any(1), correct.argmax(1), correct.shape[1] - 1)


def predictor_features(probs_low: np.ndarray) -> np.ndarray:
    """Log class probabilities of the cheapest pass, sorted in decreasing order (confidence profile)."""
    return np.log(np.sort(probs_low, 1)[:, ::-1] + 1e-9)


def fit_correctness(features: np.ndarray, correct: np.ndarray):
    """P(x): one logistic regression per resolution for "the classifier is right at this resolution";
    returns a function features -> (n, resolutions) probabilities. A resolution that is right (or wrong)
    on every fitting sample gets that constant."""
    correct = np.asarray(correct, dtype=bool)

    def column(r: int):
        y = correct[:, r]
        if y.all() or not y.any():
            return lambda f, rate=float(y.mean()): np.full(len(f), rate)
        from sklearn.linear_model import LogisticRegression  # imported on use: scikit-learn costs ~1.5 s to import

        clf = LogisticRegression(max_iter=2000).fit(features, y)
        return lambda f: clf.predict_proba(f)[:, 1]
    columns = [column(r) for r in range(correct.shape[1])]
    return lambda f: np.stack([c(f) for c in columns], 1)


def cheapest_confident(p_correct: np.ndarray, tau: float) -> np.ndarray:
    """The cheapest resolution r with P(correct at r | x) >= tau; the most expensive one when none reaches tau."""
    if not 0.5 < tau <= 1:
        raise ValueError(f"tau must be in (0.5, 1], got {tau}")
    reached = np.asarray(p_correct) >= tau
    return np.where(reached.any(1), reached.argmax(1), reached.shape[1] - 1)


def relative_cost(cost: np.ndarray, chosen: np.ndarray) -> float:
    """Mean cost of the cheapest pass plus the chosen one (when it is not the cheapest), relative to the last."""
    return float((cost[0] + np.where(chosen > 0, cost[chosen], 0.0)).mean() / cost[-1])


def best_static_mix(cost: np.ndarray, accuracy: np.ndarray, budget: float) -> np.ndarray:
    """Shares of the fixed resolutions (each image sent to resolution r with probability share_r, no pre-pass)
    that maximize the expected accuracy sum_r share_r accuracy_r at a mean cost sum_r share_r cost_r <= budget.

    A linear programme over the simplex with one budget constraint: its optimum mixes at most two resolutions
    (the upper concave hull of the (cost, accuracy) points at `budget`), so every single resolution within the
    budget and every pair straddling it is tried. Ties go to the cheaper mix."""
    cost, accuracy = np.asarray(cost, dtype=float), np.asarray(accuracy, dtype=float)
    if cost.shape != accuracy.shape or cost.ndim != 1 or len(cost) == 0:
        raise ValueError(f"cost and accuracy must be 1-D of one length, got {cost.shape} and {accuracy.shape}")
    if not budget >= cost.min():
        raise ValueError(f"budget {budget} is below the cheapest resolution's cost {cost.min()}")
    eye = np.eye(len(cost))
    mixes = [eye[i] for i in range(len(cost)) if cost[i] <= budget]
    for i in range(len(cost)):
        for j in range(len(cost)):
            if cost[i] < budget < cost[j]:
                t = (budget - cost[i]) / (cost[j] - cost[i])
                mixes.append((1 - t) * eye[i] + t * eye[j])
    return max(mixes, key=lambda w: (float(w @ accuracy), -float(w @ cost)))
