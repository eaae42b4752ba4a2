"""Calibration of sequential seeds at the suite's operating point.

The suite decides checks at alpha 0.01 on 3-50 seeds (first look 3 at smoke, 5 at standard, 10 at
paper; five looks). These simulations show, for the engine's own schedule and boundaries:
- type-I error at most alpha plus Monte-Carlo error at the null boundary (normal, heavy-tailed t3
  and bounded accuracy-like per-seed values);
- power >= 0.95 at Cohen's dz = 1 for the standard and paper schedules (dz = 1.5 at smoke);
- futility stops at the design effect at most FUTILITY_BETA of the time;
- the expected number of seeds used.
The t-tests are vectorized over draws; `test_vectorized_looks_match_the_engine` shows that they give
the engine's own outcomes (claimcheck.sequential.decide on claimcheck.stats.paired_greater).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import special
from scipy import stats as sps

from claimcheck import sequential, stats

ALPHA = 0.01            # the suite's alpha for checks over seeds
DRAWS = 20_000          # per scenario: Monte-Carlo SE of a 0.01 rate is 0.0007
MC_BOUND = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / DRAWS)
SCHEDULES = {"smoke": 3, "standard": 5, "paper": 10}
SMALL_EFFECT_SEED = 2  # a draw that ends inconclusive (most dz = 0.4 draws stop for futility)


def draws(kind: str, dz: float, shape: tuple[int, int], rng) -> np.ndarray:
    """Per-seed differences with standardized mean dz: normal, heavy-tailed (t3, unit variance) or
    bounded (difference of two accuracies on 200 test examples, p ~ 0.85, standardized)."""
    if kind == "normal":
        noise = rng.standard_normal(shape)
    elif kind == "t3":
        noise = rng.standard_t(3, shape) / math.sqrt(3)
    else:
        a, b = rng.binomial(200, 0.85, shape) / 200, rng.binomial(200, 0.85, shape) / 200
        noise = (a - b) / math.sqrt(2 * 0.85 * 0.15 / 200)
    return dz + noise


def simulate(d: np.ndarray, schedule: sequential.Schedule) -> tuple[np.ndarray, np.ndarray]:
    """Outcome (+1 supported, -1 not supported, 0 inconclusive) and seeds used per draw (rows of d are
    per-seed differences minus the minimum effect), with the engine's boundaries."""
    outcome = np.zeros(len(d), int)
    used = np.full(len(d), schedule.max_seeds)
    active = np.ones(len(d), bool)
    for k, n in enumerate(schedule.looks):
        t, p, p_fut = vectorized_looks(d[:, :n])
        win = active & (p < schedule.alpha_at(k, ALPHA))
        lose = active & ~win & (p_fut < schedule.beta_at(k))
        outcome[win], outcome[lose] = 1, -1
        used[win | lose] = n
        active &= ~(win | lose)
    return outcome, used


def vectorized_looks(x: np.ndarray):
    """stats.paired_greater's t, p and p_futility for every row of x (differences minus min effect)."""
    n = x.shape[1]
    flat = np.ptp(x, axis=1) == 0   # identical values: the exact sign test, as in stats._one_sided_t
    safe = np.where(flat[:, None], np.arange(n) * 1e-3, x)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
        res = sps.ttest_1samp(safe, 0.0, axis=1, alternative="greater")
    nc = stats.DESIGN_DZ * math.sqrt(n)
    p_fut = special.nctdtr(n - 1, nc, res.statistic)       # with stats._noncentral_t_cdf's reflection
    p_fut = np.where(np.isfinite(p_fut), p_fut, 1.0 - special.nctdtr(n - 1, -nc, -res.statistic))
    positive = x[:, 0] > 0
    p = np.where(flat, np.where(positive, 0.5 ** n, 1.0), res.pvalue)
    p_fut = np.where(flat, np.where(positive, 1.0, 0.5 ** n), p_fut)
    return res.statistic, p, p_fut


def test_vectorized_looks_match_the_engine():
    rng = np.random.default_rng(1)
    schedule = sequential.Schedule.for_run(5)
    d = draws("normal", 0.8, (60, schedule.max_seeds), rng)
    outcome, used = simulate(d, schedule)
    names = {1: sequential.SUPPORTED, -1: sequential.NOT_SUPPORTED, 0: sequential.INCONCLUSIVE}
    for row, want, n_want in zip(d, outcome, used):
        got = sequential.decide(lambda n, row=row: stats.paired_greater(
            row[:n], np.zeros(n), min_effect=0.0, alpha=ALPHA), schedule)
        assert (got.outcome, got.n) == (names[want], n_want)
    assert len(set(outcome)) == 3, "the draws should exercise all three outcomes"


@pytest.mark.parametrize("kind", ["normal", "t3", "bounded"])
@pytest.mark.parametrize("scale", sorted(SCHEDULES))
def test_type_one_error_is_at_most_alpha_at_the_null_boundary(scale, kind):
    schedule = sequential.Schedule.for_run(SCHEDULES[scale])
    outcome, _ = simulate(draws(kind, 0.0, (DRAWS, schedule.max_seeds), np.random.default_rng(2)), schedule)
    assert np.mean(outcome == 1) <= MC_BOUND


@pytest.mark.parametrize("kind", ["normal", "t3", "bounded"])
@pytest.mark.parametrize("scale, dz", [("standard", 1.0), ("paper", 1.0), ("smoke", 1.5)])
def test_power_at_the_design_effect(scale, dz, kind):
    """Power >= 0.95 at dz = 1 for standard and paper; smoke (3 -> 15 seeds) reaches it at dz = 1.5."""
    schedule = sequential.Schedule.for_run(SCHEDULES[scale])
    outcome, used = simulate(draws(kind, dz, (DRAWS // 4, schedule.max_seeds), np.random.default_rng(3)), schedule)
    assert np.mean(outcome == 1) >= 0.95
    if kind == "normal":  # the futility test is the noncentral t: exact for normal values only
        assert np.mean(outcome == -1) <= sequential.FUTILITY_BETA + 3 * math.sqrt(0.01 / (DRAWS // 4))
    assert used.mean() < 0.75 * schedule.max_seeds  # early stops save seeds even at the design effect


@pytest.mark.parametrize("dz, at_most", [(0.0, 13), (2.0, 10), (4.0, 7)])
def test_expected_seeds_used_at_standard(dz, at_most):
    """A null stops for futility after 10-15 seeds on average; a large effect stops at the first looks."""
    schedule = sequential.Schedule.for_run(5)
    _, used = simulate(draws("normal", dz, (DRAWS // 4, schedule.max_seeds), np.random.default_rng(4)), schedule)
    assert used.mean() <= at_most


def test_rate_over_seeds_sequential_size_and_power():
    """The binomial check over seeds: a property holding in half the seeds (the null boundary) is
    SUPPORTED at most alpha of the time; one holding in 97% of seeds is SUPPORTED in >= 95% of runs.
    Vectorized with scipy.stats.binom; the first draws are checked against the engine itself."""
    schedule = sequential.Schedule.for_run(5)
    rng = np.random.default_rng(5)

    def outcomes(flags: np.ndarray) -> np.ndarray:
        outcome, active = np.zeros(len(flags), int), np.ones(len(flags), bool)
        for k, n in enumerate(schedule.looks):
            hits = flags[:, :n].sum(1)
            win = active & (sps.binom.sf(hits - 1, n, 0.5) < schedule.alpha_at(k, ALPHA))
            lose = active & ~win & (sps.binom.cdf(hits, n, 0.9) < schedule.beta_at(k))
            outcome[win], outcome[lose] = 1, -1
            active &= ~(win | lose)
        return outcome

    names = {1: sequential.SUPPORTED, -1: sequential.NOT_SUPPORTED, 0: sequential.INCONCLUSIVE}
    for true_rate in (0.5, 0.97):
        flags = rng.random((DRAWS, schedule.max_seeds)) < true_rate
        got = outcomes(flags)
        for row, want in zip(flags[:20], got[:20]):
            engine = sequential.decide(lambda n, row=row: stats.rate_over_seeds(
                row[:n], min_rate=0.5, design_rate=0.9, alpha=ALPHA), schedule)
            assert engine.outcome == names[want]
        if true_rate == 0.5:
            assert np.mean(got == 1) <= MC_BOUND
        else:
            assert np.mean(got == 1) >= 0.95


def test_schedule_floor_merges_looks_and_keeps_the_total_alpha():
    schedule = sequential.Schedule.for_run(3, floor=10)
    assert schedule.looks == (10, 12, 15)
    assert sum(schedule.spending) == pytest.approx(1.0)
    assert sum(schedule.futility_spending) == pytest.approx(1.0)
    assert sequential.Schedule.for_run(5).looks == (5, 10, 15, 20, 25)


def test_inconclusive_reports_the_seeds_it_would_need():
    schedule = sequential.Schedule.for_run(5)
    row = np.random.default_rng(SMALL_EFFECT_SEED).normal(0.4, 1.0, schedule.max_seeds)  # dz = 0.4
    got = sequential.decide(lambda n: stats.paired_greater(row[:n], np.zeros(n), min_effect=0.0, alpha=ALPHA),
                            schedule)
    assert got.outcome == sequential.INCONCLUSIVE and got.n == 25
    assert got.seeds_needed is not None and got.seeds_needed > 25
