"""Sequential seeds: a check over per-seed values is decided in stages.

A check starts with the scale's seeds (the first look) and, while it is inconclusive, asks for more
seeds from the same derived sequence (seed i is always the same seed), up to five looks:
looks = first x (1, 2, 3, 4, 5), i.e. 3 -> 15 at smoke, 5 -> 25 at standard, 10 -> 50 at paper.

At look k the check's own test (a `StatResult` from claimcheck.stats) is compared with two nominal
levels:
- efficacy: SUPPORTED when p < alpha_k, with alpha_k = alpha * SPENDING[k] (the weights sum to 1);
- futility: NOT SUPPORTED when p_futility < beta_k = FUTILITY_BETA * FUTILITY_SPENDING[k], where
  p_futility tests the check's design effect against "smaller" (the evidence excludes the effect the
  check is built to detect). Checks without a futility test never stop for futility.
A check that reaches the last look undecided is INCONCLUSIVE.

Error rates by the union bound (Bonferroni alpha spending): P(SUPPORTED under the null) <= sum of
alpha_k = alpha, whatever the dependence between looks and whatever the test, because each look's
test is valid on its own. At 3-5 seeds the t statistic's looks are far from the Brownian motion that
classical group-sequential boundaries assume, so the union bound is the one guarantee that holds
here; tests/engine/test_sequential.py shows by simulation that it costs little (type-I error 0.007-0.009 at
alpha 0.01). The futility boundary is non-binding: it can only turn a SUPPORTED into a NOT SUPPORTED,
so it never raises the type-I error; it bounds the chance of a futility stop at the design effect by
FUTILITY_BETA.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from claimcheck.lazy import LazyModule
from claimcheck.stats import StatResult

sps = LazyModule("scipy.stats")

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "SUPPORTED", "NOT SUPPORTED", "INCONCLUSIVE"
OUTCOMES = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)
LOOK_MULTIPLES = (1, 2, 3, 4, 5)
# Share of alpha spent at each look. Back-loaded so that the last look keeps most of the power:
# simulated (tests/engine/test_sequential.py, normal and t3 noise), 5 -> 25 seeds at alpha 0.01 gives power
# 0.96-0.97 at dz = 1 and 15-16 seeds on average; equal shares gave 0.958, and four looks (5 -> 20)
# only 0.89-0.94.
SPENDING = (0.1, 0.1, 0.2, 0.3, 0.3)
FUTILITY_SPENDING = (0.2, 0.2, 0.2, 0.2, 0.2)
# Chance of a futility stop when the true effect is the design effect: 1 in 100, split over the looks.
FUTILITY_BETA = 0.01
POWER_TARGET = 0.95  # for the "seeds it would need" estimate of an inconclusive check
REPLAYS = 200        # bootstrap replays behind each check's verdict-stability estimate


@dataclasses.dataclass(frozen=True)
class Schedule:
    """The looks (cumulative seeds) of a sequential check and their weights."""

    looks: tuple[int, ...]
    spending: tuple[float, ...]
    futility_spending: tuple[float, ...]

    @classmethod
    def for_run(cls, first: int, floor: int = 0) -> Schedule:
        """Looks first x LOOK_MULTIPLES, each raised to at least `floor` (a seed family's minimum);
        looks that coincide are merged and keep the sum of their weights (still a union bound)."""
        if first < 2:
            raise ValueError(f"a sequential check needs at least 2 seeds at its first look, got {first}")
        merged: dict[int, list[float]] = {}
        for multiple, a, b in zip(LOOK_MULTIPLES, SPENDING, FUTILITY_SPENDING):
            n = max(first * multiple, floor)
            weights = merged.setdefault(n, [0.0, 0.0])
            weights[0] += a
            weights[1] += b
        looks = tuple(sorted(merged))
        return cls(looks, tuple(merged[n][0] for n in looks), tuple(merged[n][1] for n in looks))

    @property
    def max_seeds(self) -> int:
        return self.looks[-1]

    def alpha_at(self, k: int, alpha: float) -> float:
        return alpha * self.spending[k]

    def beta_at(self, k: int) -> float:
        return FUTILITY_BETA * self.futility_spending[k]


@dataclasses.dataclass
class Decision:
    """The outcome of one sequential check and the trail of looks that led to it."""

    outcome: str
    result: StatResult               # the test at the deciding look
    n: int                           # seeds used
    max_seeds: int
    trail: list[dict]                # per look: n, p, alpha_k, p_futility, beta_k
    margin: float                    # log10 distance to the boundary that decided (> 0 inside)
    seeds_needed: int | None = None  # for INCONCLUSIVE: seeds for POWER_TARGET at the observed effect


def decide(test: Callable[[int], StatResult], schedule: Schedule) -> Decision:
    """Run `test(n)` (the check on the first n seeds) at each look until a boundary is crossed."""
    trail: list[dict] = []
    for k, n in enumerate(schedule.looks):
        result = test(n)
        if result.alpha is None or result.p_value is None:
            raise ValueError(f"{result.name!r}: a sequential check needs a test with alpha and a p-value")
        a_k, b_k = schedule.alpha_at(k, result.alpha), schedule.beta_at(k)
        trail.append({"n": n, "p": result.p_value, "alpha_k": a_k, "p_futility": result.p_futility,
                      "beta_k": b_k})
        if result.p_value < a_k:
            return Decision(SUPPORTED, result, n, schedule.max_seeds, trail, log_margin(a_k, result.p_value))
        if result.p_futility is not None and result.p_futility < b_k:
            return Decision(NOT_SUPPORTED, result, n, schedule.max_seeds, trail,
                            log_margin(b_k, result.p_futility))
    margin = -min(log_margin(result.p_value, a_k),
                  log_margin(result.p_futility, b_k) if result.p_futility is not None else math.inf)
    return Decision(INCONCLUSIVE, result, n, schedule.max_seeds, trail, margin,
                    seeds_needed(result, schedule.alpha_at(len(schedule.looks) - 1, result.alpha)))


def log_margin(threshold: float, p: float) -> float:
    """log10(threshold / p), finite: how far p lies inside (> 0) or outside (< 0) its boundary."""
    return float(np.clip(math.log10(max(threshold, 1e-300) / max(p, 1e-300)), -300, 300))


def seeds_needed(result: StatResult, alpha_last: float) -> int | None:
    """Seeds a one-sided t-test at level alpha_last needs for POWER_TARGET at the observed standardized
    effect (normal approximation plus one); None when the estimate is not positive or unknown."""
    if result.dz is None or not result.dz > 0:
        return None
    z = sps.norm.ppf(1 - alpha_last) + sps.norm.ppf(POWER_TARGET)
    return int(math.ceil((z / result.dz) ** 2)) + 1


def replay_pass_rate(test_on: Callable[[np.ndarray], StatResult], rows: int, schedule: Schedule,
                     passes: Callable[[str], bool], seed: int, replays: int = REPLAYS) -> float:
    """Estimated chance that this check passes again under another seed base: the observed per-seed rows
    are resampled with replacement (a bootstrap of seeds) to the schedule's maximum, the whole
    sequential decision is replayed on each resample, and the fraction that passes is returned.

    test_on(index) evaluates the check on the rows at `index` (an integer array)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, rows, size=(replays, schedule.max_seeds))
    passed = sum(passes(decide(lambda n, idx=idx: test_on(idx[:n]), schedule).outcome) for idx in draws)
    return passed / replays
