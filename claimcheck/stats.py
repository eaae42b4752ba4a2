"""The statistics vocabulary of the suite: a few assertion helpers over scipy.stats.

Every helper returns a `StatResult` that records the test's name, its estimand (what the verdict is
about: the median seed, the rate of seeds, one model's examples), statistic, p-value, effect,
confidence interval, n and seeds, and whether the claim it tests is supported at a fixed sample size.
Helpers over per-seed values also give `p_futility`, the p-value of the *design effect* (the smallest
effect the check is built to detect) against the alternative "smaller": the sequential engine
(claimcheck/sequential.py) stops for futility when it is small. Helpers never assert: `Evidence.check`
records the result and asserts the verdict the arm expects. Alpha and the minimum effect are
keyword-only without defaults, so every call site names its own constants.

The seed is the unit of replication: helpers over per-seed values take one number per independently
trained model. The only helpers over individual examples are named `one_model_*`: they are for a
claim about one fixed model, never for examples pooled over several seeds.

Estimand of the checks over per-seed values (docs/statistics.md, "What a check is about"): the four
comparisons (`greater_than`, `paired_greater`, `non_inferior`, `equivalent`) are about the MEDIAN SEED,
by exact sign tests over seeds: "a - b exceeds the minimum effect in more than half of the seeds". The
sign test's error rate holds for any distribution of per-seed values (skewed, heavy-tailed, bounded,
discrete with ties, with rare collapsed seeds), because under its null the count of seeds above the
threshold is at most Binomial(n, 1/2) whatever that distribution is. No test at 5-50 seeds can promise
that for the MEAN seed: a seed that collapses with probability 2% is absent from most samples of 5, and
a sample without it is indistinguishable from a clean positive effect (Bahadur & Savage 1956;
tests/engine/test_sequential.py measures the one-sample t-test's type-I error at 0.14 there). Rates
over seeds (`rate_over_seeds`) are exact binomial tests as before.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from claimcheck.lazy import LazyModule
from claimcheck.verdicts import Outcome

special = LazyModule("scipy.special")
stats = LazyModule("scipy.stats")

# The design effect of every sign test over seeds: the per-seed value exceeds the minimum effect in
# DESIGN_RATE = Phi(1) = 84% of seeds, which is what Cohen's dz = 1 beyond the minimum effect gives for
# normal per-seed values. The catalogue's pilots measured dz >= 1 for every effect the suite asserts (most
# far above), and the sequential schedule is sized for power >= 0.9 at this rate (tests/engine/
# test_sequential.py computes it exactly and simulates it).
DESIGN_DZ = 1.0
DESIGN_RATE = 0.5 * (1.0 + math.erf(DESIGN_DZ / math.sqrt(2.0)))
MEDIAN_SEED, RATE_OF_SEEDS, ONE_MODEL = "median seed", "rate of seeds", "one model's examples"


@dataclasses.dataclass
class StatResult:
    """One statistical (or exact) verdict with the numbers that support it."""

    name: str                      # what is asserted, in words
    test: str                      # the named test that decided it
    supported: bool
    p_value: float | None
    alpha: float | None
    statistic: float | None
    effect: float | None
    effect_name: str
    min_effect: float | None
    ci: tuple[float, float] | None
    n: int
    seeds: list[int] = dataclasses.field(default_factory=list)
    values: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    detail: str = ""
    p_futility: float | None = None  # p of the design effect vs "smaller" (None: no futility test)
    dz: float | None = None          # standardized effect (mean - minimum effect) / sd, for t-based checks
    estimand: str = ""               # what the verdict is about: "median seed", "rate of seeds", ...
    # For a test whose p-value is the exact binomial tail P(Binomial(n, count_null) >= count) of a count over
    # the first n seeds (sign tests: 1/2, rates over seeds: the minimum rate), under the least favourable
    # null: the sequential engine then spends alpha on the count's exact distribution (sequential.py).
    count_null: float | None = None

    def key_number(self) -> str:
        if self.effect is None:
            return self.detail[:60]
        return f"{self.effect_name}={fmt(self.effect)}"

    def describe(self) -> str:
        """A multi-line explanation printed on failure and in the report."""
        lines = [f"{self.name}: {Outcome.SUPPORTED if self.supported else Outcome.NOT_SUPPORTED}",
                 f"  test: {self.test}"]
        if self.estimand:
            lines.append(f"  estimand: {self.estimand}")
        if self.effect is not None:
            extra = f" (minimum effect {fmt(self.min_effect)})" if self.min_effect is not None else ""
            lines.append(f"  effect: {self.effect_name} = {fmt(self.effect)}{extra}")
        if self.statistic is not None:
            lines.append(f"  statistic: {fmt(self.statistic)}")
        if self.p_value is not None:
            lines.append(f"  p = {fmt(self.p_value)} (alpha = {self.alpha})")
        if self.ci is not None:
            lines.append(f"  CI: [{fmt(self.ci[0])}, {fmt(self.ci[1])}]")
        lines.append(f"  n = {self.n}" + (f", seeds = {self.seeds}" if self.seeds else ""))
        for key, vals in self.values.items():
            shown = ", ".join(fmt(v) for v in vals[:25]) + (" ..." if len(vals) > 25 else "")
            lines.append(f"  {key}: [{shown}]")
        if self.detail:
            lines.append(f"  {self.detail}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return jsonable(dataclasses.asdict(self))


def fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    x = float(x)
    if math.isinf(x) or math.isnan(x):
        return str(x)
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.3g}"
    return f"{x:.4g}"


def jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else str(x)
    return obj


def _as_array(values: Sequence[float]) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"need at least 2 values in a flat sequence, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"values must be finite, got {arr.tolist()[:10]}")
    return arr


def _paired(a: Sequence[float], b: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    a, b = _as_array(a), _as_array(b)
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal lengths, got {a.size} and {b.size}")
    return a, b


def _check_alpha(alpha: float) -> None:
    if not 0 < _finite("alpha", alpha) < 0.5:
        raise ValueError(f"alpha must lie in (0, 0.5), got {alpha!r}")


def _finite(name: str, value) -> float:
    """`value` as a float, refusing NaN, infinities, strings and booleans, naming the argument: a NaN bound
    makes every comparison false and an infinite one decides every check before any data is seen, so
    either would pass for a result."""
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def _margin(name: str, value, *, zero_allowed: bool) -> float:
    """A margin is a distance: finite and positive (or zero, where zero still means a test)."""
    margin = _finite(name, value)
    if margin < 0 or (margin == 0 and not zero_allowed):
        raise ValueError(f"{name} must be {'>= 0' if zero_allowed else '> 0'}, got {value!r}")
    return margin


def _probability(name: str, value) -> float:
    number = _finite(name, value)
    if not 0 <= number <= 1:
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return number


def _count(name: str, value) -> int:
    """A whole, non-negative number (5.0 is 5): a fractional count is a rate or a mean passed by mistake,
    and the binomial tests would silently round it."""
    number = _finite(name, value)
    if number < 0 or not number.is_integer():
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(number)


def _binomial_sf(k: int, n: int, rate: float) -> float:
    """P(Binomial(n, rate) >= k): scipy.special.bdtrc (behind scipy.stats.binom.sf), equal to
    scipy.stats.binomtest(k, n, rate, alternative="greater").pvalue (tests/engine/test_stats.py) at a
    fraction of its overhead, which matters in the bootstrap replays."""
    return 1.0 if k <= 0 else float(special.bdtrc(k - 1, n, rate))


def _binomial_cdf(k: int, n: int, rate: float) -> float:
    """P(Binomial(n, rate) <= k) (scipy.special.bdtr, behind scipy.stats.binom.cdf)."""
    return 0.0 if k < 0 else 1.0 if k >= n else float(special.bdtr(k, n, rate))


def _sign_critical(n: int, alpha: float) -> int:
    """The smallest count c with P(Binomial(n, 1/2) >= c) <= alpha (n + 1 when no count reaches alpha)."""
    return next((c for c in range(n + 1) if _binomial_sf(c, n, 0.5) <= alpha), n + 1)


def _median_bounds(d: np.ndarray, alpha: float) -> tuple[float, float]:
    """Distribution-free one-sided (1 - alpha) confidence bounds for the median of d, the order statistics
    that invert the sign test: the median exceeds the lower bound unless the sign test at level alpha
    rejects "median <= lower bound" (-inf/+inf when n is too small for any bound at that level)."""
    c, x = _sign_critical(len(d), alpha), np.sort(d)
    if c > len(d):
        return -math.inf, math.inf
    return float(x[len(d) - c]), float(x[c - 1])


def _count_above(x: np.ndarray, threshold: float) -> int:
    """How many x exceed threshold by more than rounding: a value within 1e-12 (relative to the larger of 1,
    |threshold| and max |x|) of the threshold is a tie, and ties count against the claim. Differences of
    discrete metrics (accuracies k/200) meet the threshold exactly, and float subtraction may land them a
    hair above it."""
    tolerance = 1e-12 * max(1.0, abs(threshold), float(np.max(np.abs(x))))
    return int(np.sum(x - threshold > tolerance))


def _sign_greater_than(d: np.ndarray, threshold: float) -> tuple[int, float, float]:
    """One-sided exact sign test of median(d) > threshold, i.e. P(d > threshold) > 1/2: the count of values
    above the threshold, its p-value P(Binomial(n, 1/2) >= count) and the futility p,
    P(Binomial(n, DESIGN_RATE) <= count) (the data exclude the design effect: the value exceeds the threshold
    in DESIGN_RATE of seeds).

    Exact for any distribution of d: under the null P(d > threshold) <= 1/2 the count is stochastically at
    most Binomial(n, 1/2), ties included (they count against the claim, `_count_above`)."""
    k, n = _count_above(d, threshold), len(d)
    return k, _binomial_sf(k, n, 0.5), _binomial_cdf(k, n, DESIGN_RATE)


def _mean_detail(d: np.ndarray, k: int, what: str) -> str:
    """The per-seed count behind a sign test and, for context, the mean and Cohen's dz (not tested)."""
    sd = float(np.std(d, ddof=1))
    dz = fmt(d.mean() / sd) if sd > 0 else "inf"
    return f"{k} of {len(d)} have {what}; mean {fmt(float(d.mean()))}, Cohen's dz = {dz} (not tested)"


def paired_greater(a: Sequence[float], b: Sequence[float], *, min_effect: float, alpha: float,
                   seeds: Sequence[int] = (), name: str = "a exceeds b",
                   labels: tuple[str, str] = ("a", "b")) -> StatResult:
    """H1: the median seed's a - b exceeds min_effect (a - b > min_effect in more than half of the seeds), by
    the one-sided exact sign test over seeds on a - b - min_effect (ties count against the claim).

    Futility: the design effect, a - b > min_effect in DESIGN_RATE of seeds (dz = 1 for normal values), is
    tested against "smaller" with the exact binomial distribution."""
    _check_alpha(alpha)
    min_effect = _finite("min_effect", min_effect)
    a, b = _paired(a, b)
    d = a - b
    k, p, p_fut = _sign_greater_than(d, min_effect)
    low = _median_bounds(d, alpha)[0]
    effect = f"{labels[0]} - {labels[1]}"
    return StatResult(
        name=name, test="one-sided exact sign test over seeds on a - b - min_effect (binomial, scipy.special.bdtrc)",
        supported=bool(p < alpha), p_value=p, alpha=alpha, statistic=float(k),
        effect=float(np.median(d)), effect_name=f"median({effect})", min_effect=min_effect,
        ci=(low, math.inf), n=len(d), seeds=list(seeds), values={labels[0]: a.tolist(), labels[1]: b.tolist()},
        detail=_mean_detail(d, k, f"{effect} > {fmt(min_effect)}"), p_futility=p_fut,
        estimand=MEDIAN_SEED, count_null=0.5)


def greater_than(values: Sequence[float], *, reference: float, min_effect: float, alpha: float,
                 seeds: Sequence[int] = (), name: str = "values exceed the reference",
                 label: str = "value") -> StatResult:
    """H1: the median seed's value exceeds reference + min_effect, one-sided exact sign test over seeds (the
    same test as `paired_greater` against a constant), e.g. per-seed accuracy above chance."""
    reference = _finite("reference", reference)
    x = _as_array(values)
    res = paired_greater(x, np.full(len(x), reference), min_effect=min_effect, alpha=alpha, seeds=seeds,
                         name=name, labels=(label, fmt(reference)))
    res.test = "one-sided exact sign test over seeds on values - reference - min_effect (binomial)"
    res.values = {label: x.tolist()}
    return res


def non_inferior(a: Sequence[float], b: Sequence[float], *, margin: float, alpha: float,
                 seeds: Sequence[int] = (), name: str = "a is not worse than b",
                 labels: tuple[str, str] = ("a", "b")) -> StatResult:
    """H1: the median seed's a - b exceeds -margin (a is at most `margin` worse than b in more than half of the
    seeds), one-sided exact sign test. A negative margin would ask for superiority by -margin: that is
    `paired_greater` with a positive min_effect."""
    margin = _margin("margin", margin, zero_allowed=True)
    res = paired_greater(a, b, min_effect=-margin, alpha=alpha, seeds=seeds, name=name, labels=labels)
    res.test = "non-inferiority, one-sided exact sign test over seeds on a - b + margin (binomial)"
    return res


def equivalent(values: Sequence[float], *, reference: float, margin: float, alpha: float,
               seeds: Sequence[int] = (), name: str = "values equal the reference within a margin",
               label: str = "value") -> StatResult:
    """Sign TOST: H1 the median seed lies within (reference - margin, reference + margin), by two one-sided
    exact sign tests (more than half of the seeds above reference - margin, and more than half below
    reference + margin); p is the larger of the two.

    Futility: the median lies outside the margin (a one-sided sign test on each side, Bonferroni over two)."""
    _check_alpha(alpha)
    margin = _margin("margin", margin, zero_allowed=False)   # an equivalence margin of 0 can never be met
    reference = _finite("reference", reference)
    x = _as_array(values)
    d = x - reference
    n = len(d)
    above, below = _count_above(d, -margin), _count_above(-d, -margin)   # seeds inside each edge
    p = max(_binomial_sf(above, n, 0.5), _binomial_sf(below, n, 0.5))
    outside = min(_binomial_sf(_count_above(d, margin), n, 0.5), _binomial_sf(_count_above(-d, margin), n, 0.5))
    return StatResult(
        name=name, test="sign TOST equivalence (two one-sided exact sign tests over seeds, binomial)",
        supported=bool(p < alpha), p_value=p, alpha=alpha, statistic=float(min(above, below)),
        effect=float(np.median(d)), effect_name=f"median({label}) - {fmt(reference)}", min_effect=margin,
        ci=_median_bounds(d, alpha), n=n, seeds=list(seeds), values={label: x.tolist()},
        detail=(f"equivalence margin +/-{fmt(margin)}: {above} of {n} above -{fmt(margin)}, {below} of {n} "
                f"below +{fmt(margin)}; mean {fmt(float(d.mean()))} (not tested); CI is the "
                f"{100 * (1 - 2 * alpha):.0f}% interval for the median"),
        p_futility=float(min(1.0, 2 * outside)), estimand=MEDIAN_SEED, count_null=0.5)


def one_model_above_chance(successes: int, trials: int, *, chance: float, min_effect: float, alpha: float,
                           seeds: Sequence[int] = (), name: str = "accuracy above chance") -> StatResult:
    """H1: success rate > chance + min_effect, exact one-sided binomial test (scipy.stats.binomtest) over the
    examples of ONE fixed model. Never for examples pooled over several seeds: a claim about training is
    tested over per-seed values (`greater_than`)."""
    _check_alpha(alpha)
    successes, trials = _checked_counts(successes, trials)
    chance, min_effect = _probability("chance", chance), _finite("min_effect", min_effect)
    if not 0 <= chance + min_effect <= 1:
        raise ValueError(f"chance + min_effect must lie in [0, 1] (the rate tested), got {chance} + {min_effect}")
    res = stats.binomtest(int(successes), int(trials), chance + min_effect, alternative="greater")
    ci = res.proportion_ci(confidence_level=1 - alpha, method="exact")
    rate = successes / trials
    return StatResult(
        name=name, test="exact one-sided binomial test over one model's examples (scipy.stats.binomtest)",
        supported=bool(res.pvalue < alpha), p_value=float(res.pvalue), alpha=alpha,
        statistic=float(successes), effect=rate - chance, effect_name="rate - chance",
        min_effect=min_effect, ci=(float(ci.low), float(ci.high)), n=int(trials), seeds=list(seeds),
        values={"rate": [rate]}, detail=f"{successes}/{trials} correct, chance {fmt(chance)}",
        estimand=ONE_MODEL)


def one_model_rate_equivalent(successes: int, trials: int, *, reference: float, margin: float,
                              alpha: float, seeds: Sequence[int] = (),
                              name: str = "rate equals the reference within a margin") -> StatResult:
    """Binomial TOST over the examples of ONE fixed model: H1 |rate - reference| < margin by two exact
    one-sided scipy.stats.binomtest. Never for examples pooled over several seeds (use `equivalent` on
    per-seed rates)."""
    _check_alpha(alpha)
    successes, trials = _checked_counts(successes, trials)
    reference, margin = _probability("reference", reference), _margin("margin", margin, zero_allowed=False)
    lower = stats.binomtest(int(successes), int(trials), max(reference - margin, 0.0), alternative="greater")
    upper = stats.binomtest(int(successes), int(trials), min(reference + margin, 1.0), alternative="less")
    p = float(max(lower.pvalue, upper.pvalue))
    ci = lower.proportion_ci(confidence_level=1 - 2 * alpha, method="exact")
    rate = successes / trials
    return StatResult(
        name=name, test="binomial TOST over one model's examples (two exact one-sided scipy.stats.binomtest)",
        supported=bool(p < alpha), p_value=p, alpha=alpha, statistic=float(successes),
        effect=rate - reference, effect_name="rate - reference", min_effect=margin,
        ci=(float(ci.low), float(ci.high)), n=int(trials), seeds=list(seeds), values={"rate": [rate]},
        detail=f"{successes}/{trials}; equivalence margin +/-{fmt(margin)}", estimand=ONE_MODEL)


def _checked_counts(successes, trials) -> tuple[int, int]:
    successes, trials = _count("successes", successes), _count("trials", trials)
    if successes > trials or trials < 1:
        raise ValueError(f"need 0 <= successes <= trials, trials >= 1; got {successes}/{trials}")
    return successes, trials


def rate_over_seeds(flags: Sequence[bool], *, min_rate: float, design_rate: float, alpha: float,
                    seeds: Sequence[int] = (), name: str = "holds in most seeds",
                    values: dict | None = None) -> StatResult:
    """H1: the property holds in more than `min_rate` of independently trained models, by an exact
    one-sided binomial test over seeds (scipy.stats.binomtest; one flag per seed).

    For properties of a trained model (a robust layer exists, layer 1 is identified): such a property
    holds with some probability per seed, and "holds in every seed" becomes less likely the more seeds
    one adds. Futility: the design rate is tested against "smaller"."""
    _check_alpha(alpha)
    flags = _booleans(flags)
    min_rate, design_rate = _finite("min_rate", min_rate), _finite("design_rate", design_rate)
    if len(flags) < 2 or not 0 <= min_rate < design_rate <= 1:
        raise ValueError(f"need >= 2 seeds and 0 <= min_rate < design_rate <= 1; got {len(flags)}, "
                         f"{min_rate}, {design_rate}")
    k, n = sum(flags), len(flags)
    res = stats.binomtest(k, n, min_rate, alternative="greater")
    ci = res.proportion_ci(confidence_level=1 - alpha, method="exact")
    p_fut = float(stats.binomtest(k, n, design_rate, alternative="less").pvalue) if design_rate < 1 else \
        (0.0 if k < n else 1.0)
    return StatResult(
        name=name, test="exact one-sided binomial test over seeds (scipy.stats.binomtest)",
        supported=bool(res.pvalue < alpha), p_value=float(res.pvalue), alpha=alpha, statistic=float(k),
        effect=k / n, effect_name="rate over seeds", min_effect=min_rate, ci=(float(ci.low), 1.0), n=n,
        seeds=list(seeds), values={"holds": [float(f) for f in flags], **(values or {})},
        detail=f"holds in {k}/{n} seeds; H1 rate > {fmt(min_rate)}, design rate {fmt(design_rate)}",
        p_futility=p_fut, estimand=RATE_OF_SEEDS, count_null=min_rate)


def _booleans(flags: Sequence[bool]) -> list[bool]:
    """Flags must be booleans (numpy's included): a number is not silently read as true or false."""
    flags = list(flags)
    if not all(isinstance(f, (bool, np.bool_)) for f in flags):
        raise ValueError(f"flags must be booleans, got {[type(f).__name__ for f in flags][:5]}")
    return [bool(f) for f in flags]


def holds_in_every_case(flags: Sequence[bool], *, seeds: Sequence[int] = (),
                        name: str = "holds in every case", values: dict | None = None) -> StatResult:
    """A deterministic property checked case by case (a formula on every sample, a construction for every
    configuration): supported when it holds in all of them. Not for properties of trained models,
    which hold with some probability per seed: use `rate_over_seeds`."""
    flags = _booleans(flags)
    if not flags:
        raise ValueError("holds_in_every_case needs at least one case")
    k, n = sum(flags), len(flags)
    return StatResult(
        name=name, test="holds in every case (deterministic count)",
        supported=k == n, p_value=None, alpha=None, statistic=float(k), effect=k / n,
        effect_name="fraction of cases", min_effect=1.0, ci=None, n=n, seeds=list(seeds),
        values={"holds": [float(f) for f in flags], **(values or {})},
        detail=f"holds in {k}/{n} cases")


def rank_correlated(x: Sequence[float], y: Sequence[float], *, alpha: float,
                    name: str = "x and y are positively rank-correlated") -> StatResult:
    """H1: Spearman's rho > 0, one-sided (scipy.stats.spearmanr)."""
    _check_alpha(alpha)
    x, y = _paired(x, y)
    with warnings.catch_warnings():  # constant input: rho is undefined, reported below as 0 with p = 1
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        res = stats.spearmanr(x, y, alternative="greater")
    rho, p = float(res.statistic), float(res.pvalue)
    if math.isnan(rho):
        rho, p = 0.0, 1.0
    return StatResult(
        name=name, test="one-sided Spearman rank correlation (scipy.stats.spearmanr)",
        supported=bool(p < alpha), p_value=p, alpha=alpha, statistic=rho, effect=rho,
        effect_name="Spearman rho", min_effect=0.0, ci=None, n=len(x),
        values={"x": x.tolist(), "y": y.tolist()}, estimand="rank correlation of the pairs")


def property_settings(examples: int):
    """Hypothesis settings for claim properties: reproducible (derandomized), no example database,
    no deadline, and no shrinking (the first counterexample is reported as found)."""
    from hypothesis import Phase, settings

    return settings(max_examples=_examples(examples), derandomize=True, database=None, deadline=None,
                    phases=[Phase.explicit, Phase.generate])


def property_holds(check: Callable[[], None], *, name: str, examples: int) -> StatResult:
    """Run a hypothesis-decorated check; supported when no falsifying example is found."""
    examples = _examples(examples)
    try:
        check()
    except AssertionError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "assertion failed"
        notes = " ".join(" ".join(getattr(error, "__notes__", [])).split())
        return StatResult(name=name, test=f"property test (hypothesis, up to {examples} examples)",
                          supported=False, p_value=None, alpha=None, statistic=None, effect=None,
                          effect_name="", min_effect=None, ci=None, n=examples,
                          detail=f"falsified: {first[:200]} {notes[:300]}".strip())
    return StatResult(name=name, test=f"property test (hypothesis, {examples} examples)", supported=True,
                      p_value=None, alpha=None, statistic=None, effect=None, effect_name="",
                      min_effect=None, ci=None, n=examples, detail=f"no counterexample in {examples} examples")


def _examples(examples) -> int:
    examples = _count("examples", examples)
    if examples < 1:
        raise ValueError(f"examples must be >= 1, got {examples}")
    return examples


def exact(holds: bool, *, name: str, detail: str, n: int = 1, values: dict | None = None) -> StatResult:
    """A deterministic fact (a formula, a structure, an inequality checked on every sample); `n` counts
    the cases it was checked on."""
    return StatResult(name=name, test="exact check", supported=bool(holds), p_value=None, alpha=None,
                      statistic=None, effect=None, effect_name="", min_effect=None, ci=None, n=_count("n", n),
                      values=values or {}, detail=detail)
