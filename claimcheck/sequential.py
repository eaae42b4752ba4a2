"""Sequential seeds: a check over per-seed values is decided in stages.

A check starts with the scale's seeds (the first look) and, while it is inconclusive, asks for more
seeds from the same derived sequence (seed i is always the same seed), up to five looks:
looks = first x (1, 2, 3, 4, 5), i.e. 3 -> 15 at smoke, 5 -> 25 at standard, 10 -> 50 at paper.

At look k the check's own test (a `StatResult` from claimcheck.stats) is compared with two nominal
levels:
- efficacy: SUPPORTED when p < alpha_k;
- futility: NOT SUPPORTED when p_futility < beta_k = FUTILITY_BETA * FUTILITY_SPENDING[k], where
  p_futility tests the check's design effect against "smaller" (the evidence excludes the effect the
  check is built to detect). Checks without a futility test never stop for futility.
A check that reaches the last look undecided is INCONCLUSIVE.

Error rates. Alpha is spent over the looks in equal shares (SPENDING), two ways:
- Count tests (the sign tests of the median seed and the binomial tests of rates over seeds: a
  `StatResult` with `count_null`): the p-value at look k is the binomial tail of a count over the first
  n_k seeds, so the chance that the count crosses any look's boundary under the null is computed
  exactly (the count is a binomial random walk) and alpha is spent on it: the critical count at look k
  is the smallest whose cumulative crossing probability through look k is at most alpha times the
  shares up to k. Alpha that a look cannot use (no count of 5 seeds reaches 0.002) carries to the
  next; the total is at most alpha, exactly, whatever the distribution of the per-seed values
  (`count_levels`; tests/engine/test_sequential.py checks it against the exact walk and by simulation).
- Any other test: the union bound (Bonferroni alpha spending), alpha_k = alpha * SPENDING[k]:
  P(SUPPORTED under the null) <= sum of alpha_k = alpha whatever the dependence between looks, provided
  each look's test is valid on its own. The engine cannot check that proviso; the count tests need none
  beyond independent seeds.
The futility boundary is non-binding: it can only turn a SUPPORTED into a NOT SUPPORTED, so it never
raises the type-I error; it bounds the chance of a futility stop at the design effect by FUTILITY_BETA.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import numpy as np

from claimcheck.lazy import LazyModule
from claimcheck.stats import StatResult
from claimcheck.verdicts import Outcome

sps = LazyModule("scipy.stats")

LOOK_MULTIPLES = (1, 2, 3, 4, 5)
# Share of alpha spent at each look: equal. For the sign test at alpha 0.01 and 5 -> 25 seeds this gives power
# 0.916 at the design effect (84% of seeds above the minimum effect, dz = 1 for normal values), computed
# exactly (tests/engine/test_sequential.py), the most any spending reaches there (a fixed 25-seed sign test
# has 0.911); the earlier back-loaded shares (0.1, 0.1, 0.2, 0.3, 0.3), chosen for the t-test, give 0.850.
SPENDING = (0.2, 0.2, 0.2, 0.2, 0.2)
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
        """Look k's share of alpha (the union bound's nominal level)."""
        return alpha * self.spending[k]

    def level_at(self, k: int, alpha: float, count_null: float | None = None) -> float:
        """The nominal level of look k: exact for a count test with null rate `count_null`
        (`count_levels`), the union bound's share of alpha for any other test."""
        if count_null is None:
            return self.alpha_at(k, alpha)
        return count_levels(self.looks, self.spending, alpha, count_null)[k]

    def beta_at(self, k: int) -> float:
        return FUTILITY_BETA * self.futility_spending[k]


@dataclasses.dataclass
class Decision:
    """The outcome of one sequential check and the trail of looks that led to it."""

    outcome: Outcome
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
        a_k, b_k = schedule.level_at(k, result.alpha, result.count_null), schedule.beta_at(k)
        trail.append({"n": n, "p": result.p_value, "alpha_k": a_k, "p_futility": result.p_futility,
                      "beta_k": b_k})
        if result.p_value < a_k:
            return Decision(Outcome.SUPPORTED, result, n, schedule.max_seeds, trail, log_margin(a_k, result.p_value))
        if result.p_futility is not None and result.p_futility < b_k:
            return Decision(Outcome.NOT_SUPPORTED, result, n, schedule.max_seeds, trail,
                            log_margin(b_k, result.p_futility))
    margin = -min(log_margin(result.p_value, a_k),
                  log_margin(result.p_futility, b_k) if result.p_futility is not None else math.inf)
    return Decision(Outcome.INCONCLUSIVE, result, n, schedule.max_seeds, trail, margin,
                    seeds_needed(result, schedule.alpha_at(len(schedule.looks) - 1, result.alpha)))


def count_test_size(looks: tuple[int, ...], spending: tuple[float, ...], alpha: float, count_null: float) -> float:
    """The exact type-I error of a count test on these looks: the chance that a binomial walk with success
    rate count_null crosses some look's efficacy boundary (`count_levels`). At most alpha; smaller where the
    counts' discreteness leaves alpha unspent."""
    return _count_boundaries(looks, spending, alpha, count_null)[1]


def count_levels(looks: tuple[int, ...], spending: tuple[float, ...], alpha: float,
                 count_null: float) -> tuple[float, ...]:
    """Nominal levels of a count test on sequential looks, from the count's exact null distribution.

    The test's p-value at look k is P(Binomial(n_k, count_null) >= c) for the count c of successes among the
    first n_k seeds, which under the least favourable null is a binomial random walk. The critical count at
    look k is the smallest whose probability of being reached at look k, by a walk that crossed no earlier
    boundary, brings the cumulative crossing probability to at most alpha * (SPENDING up to look k); it is
    computed by dynamic programming over the walk. The level returned lies between the p-values of the critical
    count and of the count below it (`_level_between`), so `p < level` rejects exactly at and above the
    critical count; a look that no count can reach gets level 0. Under any null with a smaller success rate (a
    median below the threshold, ties, a rate below count_null) the walk crosses less often, so the type-I error
    is at most alpha for every distribution of the per-seed values."""
    return _count_boundaries(looks, spending, alpha, count_null)[0]


@functools.lru_cache(maxsize=1024)
def _count_boundaries(looks: tuple[int, ...], spending: tuple[float, ...], alpha: float,
                      count_null: float) -> tuple[tuple[float, ...], float]:
    """count_levels' levels and the total crossing probability they spend (count_test_size)."""
    sps_binom = sps.binom
    alive = np.ones(1)           # P(count = c and no boundary crossed yet), c = 0..n
    spent, budget, previous, levels = 0.0, 0.0, 0, []
    for n, share in zip(looks, spending):
        budget += alpha * share
        step = sps_binom.pmf(np.arange(n - previous + 1), n - previous, count_null)
        alive, previous = np.convolve(alive, step), n
        reach = np.cumsum(alive[::-1])[::-1]      # P(count >= c, not stopped before), c = 0..n
        fits = np.flatnonzero(spent + reach <= budget * (1 - 1e-12))
        critical = int(fits[0]) if fits.size else n + 1
        if critical <= n:
            spent += reach[critical]
            alive[critical:] = 0.0
        levels.append(_level_between(critical, n, count_null, alpha))
    return tuple(levels), float(spent)


def _level_between(critical: int, n: int, rate: float, alpha: float) -> float:
    """The level for a critical count: strictly between the p-value of `critical` successes of n and that of one
    fewer, so that p < level holds exactly for counts >= critical. The geometric mean of the two, so that the
    margin log10(level / p) of a check decided at its critical count is half the step to the next count (not
    0), capped at alpha where the step straddles it (a nominal level above alpha would read as overspending);
    0 when no count reaches the look (5 seeds: the smallest p is 1/32): that look cannot decide SUPPORTED."""
    if critical > n:
        return 0.0
    tail = sps.binom.sf(np.array([critical - 1, critical - 2]), n, rate)   # P(>= critical), P(>= critical - 1)
    at, below = float(tail[0]), float(tail[1])
    if at <= 0:
        return 0.5 * below
    middle = math.sqrt(at * below)
    return middle if middle <= alpha else max(alpha, at * (1 + 1e-9))


def log_margin(threshold: float, p: float) -> float:
    """log10(threshold / p), finite: how far p lies inside (> 0) or outside (< 0) its boundary."""
    return float(np.clip(math.log10(max(threshold, 1e-300) / max(p, 1e-300)), -300, 300))


def seeds_needed(result: StatResult, alpha_last: float) -> int | None:
    """Seeds a one-sided test at level alpha_last needs for POWER_TARGET at the observed effect (normal
    approximation plus one): for a count test (sign test, rate over seeds) at the observed rate
    statistic / n against count_null, for a t-test at the observed standardized effect dz; None when the
    estimate is not positive or unknown."""
    z_a, z_b = sps.norm.ppf(1 - alpha_last), sps.norm.ppf(POWER_TARGET)
    if result.count_null is not None and result.statistic is not None and result.n > 0:
        rate, null = result.statistic / result.n, result.count_null
        if not rate > null:
            return None
        spread = z_a * math.sqrt(null * (1 - null)) + z_b * math.sqrt(rate * (1 - rate))
        return int(math.ceil((spread / (rate - null)) ** 2)) + 1
    if result.dz is None or not result.dz > 0:
        return None
    return int(math.ceil(((z_a + z_b) / result.dz) ** 2)) + 1


def null_pass_rate(result: StatResult, schedule: Schedule) -> float:
    """The chance that a control check whose null holds by construction (at the boundary of its count test:
    per-seed values symmetric about the threshold, e.g. two replicates of one protocol) passes, i.e. is anything
    but SUPPORTED: at least 1 - the test's exact size on these looks (`count_test_size`), whatever the
    distribution of the values. The futility boundary can only end the check earlier as NOT SUPPORTED, so it
    only adds to it. The bootstrap replay (`replay_pass_rate`) cannot know the null holds: it resamples a world
    in which the observed share of seeds above the threshold is the truth, and a share that chance put above
    1/2 makes the test reject there far more often than it can here."""
    if result.count_null is None or result.alpha is None:
        raise ValueError(f"{result.name!r}: a null by construction needs a count test (a sign test or a rate "
                         "over seeds), whose size on sequential looks is exact")
    return 1.0 - count_test_size(schedule.looks, schedule.spending, result.alpha, result.count_null)


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
