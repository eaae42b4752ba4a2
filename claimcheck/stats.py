"""The statistics vocabulary of the suite: a few assertion helpers over scipy.stats.

Every helper returns a `StatResult` that records the test's name, statistic, p-value, effect size,
confidence interval, n and seeds, and whether the claim it tests is supported at a fixed sample
size. Helpers over per-seed values also give `p_futility`, the p-value of the *design effect*
(the smallest effect the check is built to detect) against the alternative "smaller": the
sequential engine (claimcheck/sequential.py) stops for futility when it is small. Helpers never
assert: `Evidence.check` records the result and asserts the verdict the arm expects. Alpha and the
minimum effect are keyword-only without defaults, so every call site names its own constants.

The seed is the unit of replication: helpers over per-seed values take one number per independently
trained model. The only helpers over individual examples are named `one_model_*`: they are for a
claim about one fixed model, never for examples pooled over several seeds.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from claimcheck.lazy import LazyModule

special = LazyModule("scipy.special")
stats = LazyModule("scipy.stats")

# The design effect of every t-based check over seeds: Cohen's dz = 1 beyond the minimum effect. The
# catalogue's pilots measured dz >= 1 for every effect the suite asserts (most far above), and the
# sequential schedule is sized for power >= 0.95 at dz = 1 (tests/engine/test_sequential.py simulates it).
DESIGN_DZ = 1.0


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

    def key_number(self) -> str:
        if self.effect is None:
            return self.detail[:60]
        return f"{self.effect_name}={fmt(self.effect)}"

    def describe(self) -> str:
        """A multi-line explanation printed on failure and in the report."""
        lines = [f"{self.name}: {'SUPPORTED' if self.supported else 'NOT SUPPORTED'}",
                 f"  test: {self.test}"]
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


def _t_statistic(d: np.ndarray, mu: float) -> tuple[float, int]:
    """Student's one-sample t statistic of mean(d) against mu and its degrees of freedom (spread > 0)."""
    n = len(d)
    return float((d.mean() - mu) / (d.std(ddof=1) / math.sqrt(n))), n - 1


def _t_greater(d: np.ndarray, mu: float) -> float:
    """One-sided p of mean(d) > mu: the Student t survival function (scipy.special.stdtr, the function
    behind scipy.stats.t.sf; equal to scipy.stats.ttest_1samp(alternative="greater"), see
    tests/engine/test_stats.py) at a fraction of ttest_1samp's overhead, which matters in the bootstrap replays."""
    t, df = _t_statistic(d, mu)
    return float(special.stdtr(df, -t))


def _one_sided_t(d: np.ndarray, alpha: float) -> tuple[float, float, float, float]:
    """One-sided t-test of mean(d) > 0; returns (t, p, lower confidence bound at 1 - alpha, p_futility).

    p_futility is the p-value of the design effect (Cohen's dz = DESIGN_DZ) against "smaller", from
    the noncentral t distribution (scipy.special.nctdtr, behind scipy.stats.nct.cdf). With zero spread
    the t statistic is undefined; the exact one-sided sign test decides instead (p = 0.5^n when every
    difference is positive).
    """
    if np.ptp(d) == 0:  # identical values (discrete measurements): the exact sign test decides
        positive, sign_p = d[0] > 0, 0.5 ** len(d)
        return (math.inf if positive else -math.inf), (sign_p if positive else 1.0), float(d[0]), \
            (1.0 if positive else sign_p)
    t, df = _t_statistic(d, 0.0)
    n = df + 1
    low = float(d.mean() - special.stdtrit(df, 1 - alpha) * d.std(ddof=1) / math.sqrt(n))
    return t, float(special.stdtr(df, -t)), low, _noncentral_t_cdf(t, df, DESIGN_DZ * math.sqrt(n))


def _noncentral_t_cdf(t: float, df: int, nc: float) -> float:
    """P(T <= t) for a noncentral t. scipy.special.nctdtr returns NaN far in the lower tail (e.g. t = -10,
    df = 24, nc = 5); there the reflection 1 - P(T' <= -t) with T' ~ nct(df, -nc) is finite."""
    value = float(special.nctdtr(df, nc, t))
    return value if math.isfinite(value) else float(1.0 - special.nctdtr(df, -nc, -t))


def paired_greater(a: Sequence[float], b: Sequence[float], *, min_effect: float, alpha: float,
                   seeds: Sequence[int] = (), name: str = "a exceeds b",
                   labels: tuple[str, str] = ("a", "b")) -> StatResult:
    """H1: mean(a - b) > min_effect, by a one-sided paired t-test on a - b - min_effect.

    Futility: the design effect, mean(a - b) = min_effect + DESIGN_DZ * sd, is tested against
    "smaller" with the noncentral t distribution."""
    _check_alpha(alpha)
    min_effect = _finite("min_effect", min_effect)
    a, b = _paired(a, b)
    d = a - b
    t, p, low, p_fut = _one_sided_t(d - min_effect, alpha)
    sd = float(np.std(d, ddof=1))
    return StatResult(
        name=name, test="one-sided paired t-test on a - b - min_effect (Student t, scipy.special.stdtr)",
        supported=bool(p < alpha), p_value=p, alpha=alpha, statistic=t,
        effect=float(d.mean()), effect_name=f"mean({labels[0]} - {labels[1]})", min_effect=min_effect,
        ci=(low + min_effect, math.inf), n=len(d), seeds=list(seeds),
        values={labels[0]: a.tolist(), labels[1]: b.tolist()},
        detail=f"Cohen's dz = {fmt(d.mean() / sd) if sd > 0 else 'inf'}", p_futility=p_fut,
        dz=float((d.mean() - min_effect) / sd) if sd > 0 else None)


def greater_than(values: Sequence[float], *, reference: float, min_effect: float, alpha: float,
                 seeds: Sequence[int] = (), name: str = "values exceed the reference",
                 label: str = "value") -> StatResult:
    """H1: mean(values) > reference + min_effect, one-sided one-sample t-test over seeds (the same test as
    `paired_greater` against a constant), e.g. per-seed accuracy above chance."""
    reference = _finite("reference", reference)
    x = _as_array(values)
    res = paired_greater(x, np.full(len(x), reference), min_effect=min_effect, alpha=alpha, seeds=seeds,
                         name=name, labels=(label, fmt(reference)))
    res.test = "one-sided one-sample t-test over seeds on values - reference - min_effect (Student t)"
    res.values = {label: x.tolist()}
    return res


def non_inferior(a: Sequence[float], b: Sequence[float], *, margin: float, alpha: float,
                 seeds: Sequence[int] = (), name: str = "a is not worse than b",
                 labels: tuple[str, str] = ("a", "b")) -> StatResult:
    """H1: mean(a - b) > -margin (a is at most `margin` worse than b), one-sided paired t-test. A negative
    margin would ask for superiority by -margin: that is `paired_greater` with a positive min_effect."""
    margin = _margin("margin", margin, zero_allowed=True)
    res = paired_greater(a, b, min_effect=-margin, alpha=alpha, seeds=seeds, name=name, labels=labels)
    res.test = "non-inferiority, one-sided paired t-test on a - b + margin (Student t, scipy.special.stdtr)"
    return res


def equivalent(values: Sequence[float], *, reference: float, margin: float, alpha: float,
               seeds: Sequence[int] = (), name: str = "values equal the reference within a margin",
               label: str = "value") -> StatResult:
    """TOST: H1 |mean(values) - reference| < margin, two one-sided one-sample t-tests (Student t).

    Futility: the mean lies outside the margin (one-sided t-test on each side, Bonferroni over two)."""
    _check_alpha(alpha)
    margin = _margin("margin", margin, zero_allowed=False)   # an equivalence margin of 0 can never be met
    reference = _finite("reference", reference)
    x = _as_array(values)
    d = x - reference
    if np.ptp(d) == 0:  # identical values: the exact sign test decides, as in _one_sided_t
        inside, sign_p = abs(d[0]) < margin, 0.5 ** len(d)
        p, p_fut = (sign_p, 1.0) if inside else (1.0, sign_p)
        ci = (float(d[0]), float(d[0]))
        t = math.inf if inside else -math.inf
    else:
        p = max(_t_greater(d, -margin), _t_greater(-d, -margin))   # above -margin and below +margin
        t = min(_t_statistic(d, -margin)[0], -_t_statistic(d, margin)[0])
        half = special.stdtrit(len(d) - 1, 1 - alpha) * d.std(ddof=1) / math.sqrt(len(d))
        ci = (float(d.mean() - half), float(d.mean() + half))
        outside = min(_t_greater(d, margin), _t_greater(-d, margin))
        p_fut = float(min(1.0, 2 * outside))  # Bonferroni over the two sides
    return StatResult(
        name=name, test="TOST equivalence (two one-sided one-sample t-tests, scipy.special.stdtr)",
        supported=bool(p < alpha), p_value=p, alpha=alpha, statistic=t,
        effect=float(d.mean()), effect_name=f"mean({label}) - {fmt(reference)}", min_effect=margin,
        ci=ci, n=len(d), seeds=list(seeds), values={label: x.tolist()},
        detail=f"equivalence margin +/-{fmt(margin)}; CI is the {100 * (1 - 2 * alpha):.0f}% interval",
        p_futility=p_fut)


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
        values={"rate": [rate]}, detail=f"{successes}/{trials} correct, chance {fmt(chance)}")


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
        detail=f"{successes}/{trials}; equivalence margin +/-{fmt(margin)}")


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
        p_futility=p_fut)


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
        values={"x": x.tolist(), "y": y.tolist()})


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
