"""Every statistics helper refuses a bound, margin, reference or count that cannot mean anything (NaN, an
infinity, a negative margin, a fractional count) with a ValueError naming the argument, and accepts every
sensible one."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimcheck import stats

A, B = [0.9, 1.1, 1.3, 1.0, 1.2], [0.1, 0.0, 0.2, 0.1, 0.3]
FLAGS = [True, True, False, True, True]
NON_FINITE = [math.nan, math.inf, -math.inf, np.float64("nan"), "0.1", None, True]

# helper name -> (call with keyword overrides, the valid keywords)
HELPERS = {
    "paired_greater": (lambda **kw: stats.paired_greater(A, B, **kw), {"min_effect": 0.1, "alpha": 0.05}),
    "greater_than": (lambda **kw: stats.greater_than(A, **kw), {"reference": 0.5, "min_effect": 0.1, "alpha": 0.05}),
    "non_inferior": (lambda **kw: stats.non_inferior(A, B, **kw), {"margin": 0.1, "alpha": 0.05}),
    "equivalent": (lambda **kw: stats.equivalent(A, **kw), {"reference": 1.0, "margin": 0.5, "alpha": 0.05}),
    "one_model_above_chance": (lambda **kw: stats.one_model_above_chance(**kw),
                               {"successes": 60, "trials": 100, "chance": 0.1, "min_effect": 0.2, "alpha": 0.05}),
    "one_model_rate_equivalent": (lambda **kw: stats.one_model_rate_equivalent(**kw),
                                  {"successes": 50, "trials": 100, "reference": 0.5, "margin": 0.2, "alpha": 0.05}),
    "rate_over_seeds": (lambda **kw: stats.rate_over_seeds(FLAGS, **kw),
                        {"min_rate": 0.2, "design_rate": 0.9, "alpha": 0.05}),
    "rank_correlated": (lambda **kw: stats.rank_correlated(A, B, **kw), {"alpha": 0.05}),
    "exact": (lambda **kw: stats.exact(True, name="x", detail="d", **kw), {"n": 3}),
    "property_holds": (lambda **kw: stats.property_holds(lambda: None, name="x", **kw), {"examples": 10}),
    "property_settings": (lambda **kw: stats.property_settings(**kw), {"examples": 10}),
}
NUMERIC = [(helper, arg) for helper, (_, valid) in HELPERS.items() for arg in valid]
COUNTS = [("one_model_above_chance", "successes"), ("one_model_above_chance", "trials"),
          ("one_model_rate_equivalent", "successes"), ("one_model_rate_equivalent", "trials"), ("exact", "n"),
          ("property_holds", "examples"), ("property_settings", "examples")]
MARGINS = [("non_inferior", "margin"), ("equivalent", "margin"), ("one_model_rate_equivalent", "margin")]


def call(helper: str, **override):
    fn, valid = HELPERS[helper]
    return fn(**{**valid, **override})


@pytest.mark.parametrize("helper", list(HELPERS))
def test_the_valid_arguments_give_a_result(helper):
    assert call(helper) is not None


@pytest.mark.parametrize("helper, arg", NUMERIC)
@pytest.mark.parametrize("bad", NON_FINITE, ids=repr)
def test_a_value_that_is_not_a_finite_number_is_refused_by_name(helper, arg, bad):
    with pytest.raises(ValueError, match=arg):
        call(helper, **{arg: bad})


@pytest.mark.parametrize("helper, arg", MARGINS)
@pytest.mark.parametrize("bad", [-0.1, -1e-12, -5])
def test_a_negative_margin_is_refused(helper, arg, bad):
    with pytest.raises(ValueError, match=f"{arg} must be >"):
        call(helper, **{arg: bad})


@pytest.mark.parametrize("helper", ["equivalent", "one_model_rate_equivalent"])
def test_an_equivalence_margin_of_zero_is_refused_but_a_non_inferiority_margin_of_zero_is_a_test(helper):
    with pytest.raises(ValueError, match="margin must be > 0"):
        call(helper, margin=0.0)
    assert call("non_inferior", margin=0).min_effect == 0.0


@pytest.mark.parametrize("helper, arg", COUNTS)
@pytest.mark.parametrize("bad", [2.5, 0.5, -1, 1e-9 + 3])
def test_a_fractional_or_negative_count_is_refused(helper, arg, bad):
    with pytest.raises(ValueError, match=arg):
        call(helper, **{arg: bad})


@pytest.mark.parametrize("helper, arg", COUNTS)
def test_a_whole_number_of_any_numeric_type_is_a_count(helper, arg):
    valid = HELPERS[helper][1][arg]
    for same in (float(valid), np.int64(valid), np.float32(valid)):
        assert call(helper, **{arg: same}) is not None


@pytest.mark.parametrize("helper, arg", [("one_model_above_chance", "chance"),
                                         ("one_model_rate_equivalent", "reference")])
@pytest.mark.parametrize("bad", [-0.01, 1.01])
def test_a_rate_outside_0_1_is_refused(helper, arg, bad):
    with pytest.raises(ValueError, match=arg):
        call(helper, **{arg: bad})


def test_a_rate_under_test_beyond_1_is_refused():
    with pytest.raises(ValueError, match="chance \\+ min_effect"):
        call("one_model_above_chance", chance=0.5, min_effect=0.6)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(reference=st.floats(-1e6, 1e6), min_effect=st.floats(-1e3, 1e3), margin=st.floats(1e-6, 1e3))
def test_every_finite_bound_gives_a_probability(reference, min_effect, margin):
    for result in (stats.greater_than(A, reference=reference, min_effect=min_effect, alpha=0.05),
                   stats.paired_greater(A, B, min_effect=min_effect, alpha=0.05),
                   stats.non_inferior(A, B, margin=margin, alpha=0.05),
                   stats.equivalent(A, reference=reference, margin=margin, alpha=0.05)):
        assert 0 <= result.p_value <= 1 and isinstance(result.min_effect, float)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(bad=st.sampled_from([math.nan, math.inf, -math.inf]),
       kind=st.sampled_from([float, np.float16, np.float32, np.float64, np.array]),
       helper_arg=st.sampled_from(NUMERIC))
def test_a_non_finite_value_of_any_numeric_type_is_refused_by_name(bad, kind, helper_arg):
    helper, arg = helper_arg
    with pytest.raises(ValueError, match=arg):
        call(helper, **{arg: kind(bad)})


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(count=st.floats(0, 1e4).filter(lambda x: not x.is_integer()), helper_arg=st.sampled_from(COUNTS))
def test_any_fractional_count_is_refused_by_name(count, helper_arg):
    helper, arg = helper_arg
    with pytest.raises(ValueError, match=arg):
        call(helper, **{arg: count})
