"""The statistics vocabulary on simulated data with known truth.

Each helper must detect a real effect (power) and must not detect a null one more often than its
alpha allows, over many draws. Draws come from a fixed numpy generator, so these tests are
deterministic.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from claimcheck import stats

ALPHA = 0.05
DRAWS = 400        # for false-positive rates (size)
POWER_DRAWS = 200  # for power: at a true power of 0.95 the SE is 0.015, so MIN_POWER sits 3 SEs below it
# Upper bound on an observed false-positive rate whose true value is <= ALPHA: 3 binomial SEs above.
FP_BOUND = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / DRAWS)
MIN_POWER = 0.9  # each "real effect" below is sized so that the test's power is > 0.95


def rejection_rate(make_result, draws: int = DRAWS) -> float:
    rng = np.random.default_rng(12345)
    return float(np.mean([make_result(rng).supported for _ in range(draws)]))


def power(make_result) -> float:
    return rejection_rate(make_result, POWER_DRAWS)


def test_paired_greater_detects_a_real_effect():
    rate = power(lambda rng: stats.paired_greater(
        rng.normal(2.0, 1, 10), np.zeros(10), min_effect=0.0, alpha=ALPHA))
    assert rate >= MIN_POWER, rate


@pytest.mark.parametrize("true_mean, min_effect", [(0.0, 0.0), (0.3, 0.3), (-0.5, 0.0)])
def test_paired_greater_rejects_a_null_effect_at_most_alpha_of_the_time(true_mean, min_effect):
    rate = rejection_rate(lambda rng: stats.paired_greater(
        rng.normal(true_mean, 1, 10), np.zeros(10), min_effect=min_effect, alpha=ALPHA))
    assert rate <= FP_BOUND, rate


def test_the_sign_tests_hold_alpha_where_the_mean_t_test_did_not():
    """2% of seeds collapse by 1.0, else N(0.02, 0.05), shifted so that the median seed sits on the minimum
    effect: the median test holds alpha (the t-test on the mean, with the mean there, said SUPPORTED 14% of the
    time at alpha 0.01 over sequential seeds: tests/engine/test_sequential.py)."""
    def collapsing(rng):
        x = rng.normal(0.0, 0.05, 10) - 1.0 * (rng.random(10) < 0.02)   # median ~0.001
        return stats.greater_than(x - 0.001, reference=0.0, min_effect=0.0, alpha=ALPHA)
    assert rejection_rate(collapsing) <= FP_BOUND


def test_non_inferiority_accepts_equal_and_rejects_clearly_worse():
    assert power(lambda rng: stats.non_inferior(
        rng.normal(0, 0.2, 10), np.zeros(10), margin=0.5, alpha=ALPHA)) >= MIN_POWER
    assert rejection_rate(lambda rng: stats.non_inferior(
        rng.normal(-0.5, 0.2, 10), np.zeros(10), margin=0.5, alpha=ALPHA)) <= FP_BOUND


def test_equivalence_tost_power_and_size():
    assert power(lambda rng: stats.equivalent(
        rng.normal(0, 1, 30), reference=0.0, margin=1.0, alpha=ALPHA)) >= MIN_POWER
    for boundary in (-1.0, 1.0):
        assert rejection_rate(lambda rng: stats.equivalent(
            rng.normal(boundary, 1, 30), reference=0.0, margin=1.0, alpha=ALPHA)) <= FP_BOUND


def test_above_chance_binomial_power_and_size():
    assert power(lambda rng: stats.one_model_above_chance(
        int(rng.binomial(100, 0.7)), 100, chance=0.5, min_effect=0.0, alpha=ALPHA)) >= MIN_POWER
    assert rejection_rate(lambda rng: stats.one_model_above_chance(
        int(rng.binomial(100, 0.5)), 100, chance=0.5, min_effect=0.0, alpha=ALPHA)) <= FP_BOUND
    assert rejection_rate(lambda rng: stats.one_model_above_chance(
        int(rng.binomial(100, 0.6)), 100, chance=0.5, min_effect=0.1, alpha=ALPHA)) <= FP_BOUND


def test_proportion_equivalence_power_and_size():
    assert power(lambda rng: stats.one_model_rate_equivalent(
        int(rng.binomial(2000, 0.2)), 2000, reference=0.2, margin=0.05, alpha=ALPHA)) >= MIN_POWER
    assert rejection_rate(lambda rng: stats.one_model_rate_equivalent(
        int(rng.binomial(2000, 0.25)), 2000, reference=0.2, margin=0.05, alpha=ALPHA)) <= FP_BOUND


def test_rank_correlation_power_and_size():
    def draw(rho):
        def make(rng):
            x = rng.normal(size=30)
            return stats.rank_correlated(x, rho * x + math.sqrt(1 - rho**2) * rng.normal(size=30), alpha=ALPHA)
        return make
    assert power(draw(0.8)) >= MIN_POWER
    assert rejection_rate(draw(0.0)) <= FP_BOUND


def test_zero_spread_differences_are_decided_by_the_exact_sign_test():
    assert stats.paired_greater([1, 1, 1], [0, 0, 0], min_effect=0.5, alpha=ALPHA).p_value == 0.125
    assert stats.paired_greater([1] * 5, [0] * 5, min_effect=0.5, alpha=ALPHA).supported  # p = 1/32
    assert not stats.paired_greater([1, 1, 1], [1, 1, 1], min_effect=0.0, alpha=ALPHA).supported
    assert stats.equivalent([0.0] * 5, reference=0.0, margin=0.01, alpha=ALPHA).supported  # sign test: 1/32
    assert not stats.equivalent([0.5, 0.5], reference=0.0, margin=0.01, alpha=ALPHA).supported


def test_holds_in_every_case_needs_all_seeds():
    assert stats.holds_in_every_case([True] * 5).supported
    result = stats.holds_in_every_case([True, True, False, True, True])
    assert not result.supported and "4/5" in result.detail


def test_failure_description_names_test_estimand_p_alpha_ci_n_and_seeds():
    result = stats.paired_greater([0.1, 0.2, 0.0, 0.3, 0.2, 0.1, 0.4], [0] * 7, min_effect=0.5, alpha=0.01,
                                  seeds=[1, 2, 3, 4, 5, 6, 7])
    text = result.describe()
    for piece in ("NOT SUPPORTED", "sign test", "estimand: median seed", "p = ", "alpha = 0.01", "CI", "n = 7",
                  "[1, 2, 3, 4, 5, 6, 7]", "0 of 7 have a - b > 0.5"):
        assert piece in text, (piece, text)


def test_rate_over_seeds_is_an_exact_binomial_test_with_a_futility_p():
    result = stats.rate_over_seeds([True] * 9 + [False], min_rate=0.5, design_rate=0.9, alpha=ALPHA)
    assert result.p_value == pytest.approx(11 / 1024) and "9/10" in result.detail
    assert result.p_futility == pytest.approx(1 - 0.9 ** 10)  # P(<= 9 of 10 | rate 0.9)
    with pytest.raises(ValueError):
        stats.rate_over_seeds([True, True], min_rate=0.9, design_rate=0.5, alpha=ALPHA)


def test_paired_greater_gives_the_binomial_futility_p_of_the_design_rate():
    """The design effect: the difference exceeds the minimum effect in Phi(DESIGN_DZ) = 84% of seeds (what
    dz = 1 gives for normal values); p_futility = P(Binomial(n, 0.84) <= count)."""
    from scipy.stats import binom, norm

    result = stats.paired_greater([0.1, 0.4, -0.2, 0.3], [0, 0, 0, 0], min_effect=0.0, alpha=ALPHA)
    assert stats.DESIGN_RATE == pytest.approx(norm.cdf(stats.DESIGN_DZ))
    assert result.statistic == 3 and result.p_futility == pytest.approx(binom.cdf(3, 4, stats.DESIGN_RATE))


def test_property_holds_reports_a_counterexample():
    @stats.property_settings(30)
    @given(st.integers(0, 100))
    def true_property(n):
        assert n * 2 >= n

    @stats.property_settings(30)
    @given(st.integers(0, 100))
    def false_property(n):
        assert n < 50, n

    assert stats.property_holds(true_property, name="doubling", examples=30).supported
    falsified = stats.property_holds(false_property, name="small", examples=30)
    assert not falsified.supported and "falsified" in falsified.detail


@pytest.mark.parametrize("bad", [[1.0], []])
def test_paired_helpers_refuse_fewer_than_two_values(bad):
    with pytest.raises(ValueError, match="at least 2"):
        stats.paired_greater(bad, bad, min_effect=0.0, alpha=ALPHA)


def test_rank_correlation_of_constant_input_is_unsupported_without_a_warning():
    result = stats.rank_correlated([1, 2, 3, 4], [5, 5, 5, 5], alpha=ALPHA)
    assert not result.supported and result.effect == 0.0 and result.p_value == 1.0


@pytest.mark.parametrize("call, message", [
    (lambda: stats.paired_greater([1.0, float("nan")], [0.0, 0.0], min_effect=0.0, alpha=0.01), "finite"),
    (lambda: stats.paired_greater([1.0, 2.0, 3.0], [0.0, 0.0], min_effect=0.0, alpha=0.01), "equal lengths"),
    (lambda: stats.greater_than([], reference=0.0, min_effect=0.0, alpha=0.01), "at least 2"),
    (lambda: stats.equivalent([1.0, float("inf")], reference=0.0, margin=1.0, alpha=0.01), "finite"),
    (lambda: stats.equivalent([1.0, 2.0], reference=0.0, margin=0.0, alpha=0.01), "margin"),
    (lambda: stats.paired_greater([1.0, 2.0], [0.0, 0.0], min_effect=0.0, alpha=0.5), "alpha"),
    (lambda: stats.rank_correlated([1.0, 2.0], [1.0, 2.0, 3.0], alpha=0.01), "equal lengths"),
    (lambda: stats.holds_in_every_case([1, 0, 1]), "booleans"),
    (lambda: stats.rate_over_seeds([1.0, 1.0], min_rate=0.5, design_rate=0.9, alpha=0.01), "booleans"),
    (lambda: stats.one_model_above_chance(5, 3, chance=0.1, min_effect=0.0, alpha=0.01), "successes"),
])
def test_bad_inputs_raise_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_the_sign_tests_equal_scipy_binomtest_and_quantile_test():
    """p-values are scipy.stats.binomtest's; the confidence bounds for the median are scipy.stats.quantile_test's
    (its NaN where too few seeds give any bound is the helpers' infinity)."""
    from scipy.stats import binomtest, quantile_test

    def bound(value, infinite):
        return infinite if math.isnan(value) else value

    rng = np.random.default_rng(8)
    for n in (2, 3, 5, 8, 25):
        a, b = rng.normal(0.3, 1, n), rng.normal(0, 1, n)
        got = stats.paired_greater(a, b, min_effect=0.1, alpha=0.01)
        k = int(np.sum(a - b > 0.1))
        assert got.statistic == k
        assert got.p_value == pytest.approx(binomtest(k, n, 0.5, alternative="greater").pvalue, rel=1e-12)
        ci = quantile_test(a - b, q=0.1, p=0.5, alternative="greater").confidence_interval(0.99)
        assert got.ci[0] == bound(ci.low, -math.inf) and got.ci[1] == math.inf
        tost = stats.equivalent(a, reference=0.2, margin=0.5, alpha=0.05)
        sides = (quantile_test(a - 0.2, q=-0.5, p=0.5, alternative="greater").pvalue,
                 quantile_test(a - 0.2, q=0.5, p=0.5, alternative="less").pvalue)
        assert tost.p_value == pytest.approx(max(sides), rel=1e-12)
        ci = quantile_test(a - 0.2, q=0.0, p=0.5).confidence_interval(0.9)
        assert tost.ci == (bound(ci.low, -math.inf), bound(ci.high, math.inf))


def test_a_value_equal_to_the_threshold_up_to_rounding_is_a_tie_against_the_claim():
    """0.985 - 0.975 is 0.010000000000000009 in floats: an accuracy difference of exactly the minimum effect
    does not exceed it."""
    result = stats.paired_greater([0.985] * 6, [0.975] * 6, min_effect=0.01, alpha=ALPHA)
    assert result.statistic == 0 and result.p_value == 1.0
    assert stats.equivalent([0.53] * 6, reference=0.5, margin=0.03, alpha=ALPHA).p_value == 1.0


@pytest.mark.parametrize("result, estimand", [
    (lambda: stats.greater_than([1.0, 2.0], reference=0.0, min_effect=0.0, alpha=ALPHA), "median seed"),
    (lambda: stats.paired_greater([1.0, 2.0], [0.0, 0.0], min_effect=0.0, alpha=ALPHA), "median seed"),
    (lambda: stats.non_inferior([1.0, 2.0], [0.0, 0.0], margin=0.1, alpha=ALPHA), "median seed"),
    (lambda: stats.equivalent([1.0, 2.0], reference=1.5, margin=1.0, alpha=ALPHA), "median seed"),
    (lambda: stats.rate_over_seeds([True, False], min_rate=0.5, design_rate=0.9, alpha=ALPHA), "rate of seeds"),
    (lambda: stats.one_model_above_chance(6, 10, chance=0.5, min_effect=0.0, alpha=ALPHA), "one model's examples"),
])
def test_every_result_names_its_estimand(result, estimand):
    got = result()
    assert got.estimand == estimand and got.to_json()["estimand"] == estimand
