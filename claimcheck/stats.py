"""The statistics vocabulary of the suite: a few assertion helpers over scipy.stats.

Every helper returns a `StatResult` that records the test's name, statistic, p-value, effect size,
confidence interval, n and seeds, and whether the claim it tests is supported. Helpers never
assert: `Evidence.check` records the result and asserts the verdict the arm expects. Alpha and the
minimum effect are keyword-only without defaults, so every call site names its own constants.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats


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

    def key_number(self) -> str:
        if self.effect is None:
            return self.detail[:60]
        return f"{self.effect_name}={_fmt(self.effect)}"

    def describe(self) -> str:
        """A multi-line explanation printed on failure and in the report."""
        lines = [f"{self.name}: {'SUPPORTED' if self.supported else 'NOT SUPPORTED'}",
                 f"  test: {self.test}"]
        if self.effect is not None:
            extra = f" (minimum effect {_fmt(self.min_effect)})" if self.min_effect is not None else ""
            lines.append(f"  effect: {self.effect_name} = {_fmt(self.effect)}{extra}")
        if self.statistic is not None:
            lines.append(f"  statistic: {_fmt(self.statistic)}")
        if self.p_value is not None:
            lines.append(f"  p = {_fmt(self.p_value)} (alpha = {self.alpha})")
        if self.ci is not None:
            lines.append(f"  CI: [{_fmt(self.ci[0])}, {_fmt(self.ci[1])}]")
        lines.append(f"  n = {self.n}" + (f", seeds = {self.seeds}" if self.seeds else ""))
        for key, vals in self.values.items():
            shown = ", ".join(_fmt(v) for v in vals[:25]) + (" ..." if len(vals) > 25 else "")
            lines.append(f"  {key}: [{shown}]")
        if self.detail:
            lines.append(f"  {self.detail}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return _jsonable(dataclasses.asdict(self))


def _fmt(x: float | None) -> str:
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


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
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
        raise ValueError(f"need at least 2 paired values, got shape {arr.shape}")
    return arr


def _one_sided_t(d: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """One-sided t-test of mean(d) > 0; returns (t, p, lower confidence bound at 1 - alpha).

    With zero spread the t statistic is undefined; the verdict is then exact: p = 0 when every
    difference is positive, 1 otherwise.
    """
    if np.ptp(d) == 0:
        positive = d[0] > 0
        return (math.inf if positive else -math.inf), (0.0 if positive else 1.0), float(d[0])
    res = stats.ttest_1samp(d, 0.0, alternative="greater")
    low = res.confidence_interval(confidence_level=1 - alpha).low
    return float(res.statistic), float(res.pvalue), float(low)


def paired_greater(a: Sequence[float], b: Sequence[float], *, min_effect: float, alpha: float,
                   seeds: Sequence[int] = (), name: str = "a exceeds b",
                   labels: tuple[str, str] = ("a", "b")) -> StatResult:
    """H1: mean(a - b) > min_effect, by a one-sided paired t-test (scipy.stats.ttest_1samp on a - b - min_effect)."""
    a, b = _as_array(a), _as_array(b)
    d = a - b
    t, p, low = _one_sided_t(d - min_effect, alpha)
    sd = float(np.std(d, ddof=1))
    return StatResult(
        name=name, test="one-sided paired t-test (scipy.stats.ttest_1samp on a - b - min_effect)",
        supported=bool(p < alpha), p_value=p, alpha=alpha, statistic=t,
        effect=float(d.mean()), effect_name=f"mean({labels[0]} - {labels[1]})", min_effect=min_effect,
        ci=(low + min_effect, math.inf), n=len(d), seeds=list(seeds),
        values={labels[0]: a.tolist(), labels[1]: b.tolist()},
        detail=f"Cohen's dz = {_fmt(d.mean() / sd) if sd > 0 else 'inf'}")


def non_inferior(a: Sequence[float], b: Sequence[float], *, margin: float, alpha: float,
                 seeds: Sequence[int] = (), name: str = "a is not worse than b",
                 labels: tuple[str, str] = ("a", "b")) -> StatResult:
    """H1: mean(a - b) > -margin (a is at most `margin` worse than b), one-sided paired t-test."""
    res = paired_greater(a, b, min_effect=-margin, alpha=alpha, seeds=seeds, name=name, labels=labels)
    res.test = "non-inferiority, one-sided paired t-test (scipy.stats.ttest_1samp on a - b + margin)"
    return res


def equivalent(values: Sequence[float], *, reference: float, margin: float, alpha: float,
               seeds: Sequence[int] = (), name: str = "values equal the reference within a margin",
               label: str = "value") -> StatResult:
    """TOST: H1 |mean(values) - reference| < margin, two one-sided scipy.stats.ttest_1samp tests."""
    x = _as_array(values)
    d = x - reference
    if np.ptp(d) == 0:
        p = 0.0 if abs(d[0]) < margin else 1.0
        ci = (float(d[0]), float(d[0]))
        t = math.inf
    else:
        lower = stats.ttest_1samp(d, -margin, alternative="greater")
        upper = stats.ttest_1samp(d, margin, alternative="less")
        p = float(max(lower.pvalue, upper.pvalue))
        t = float(min(lower.statistic, -upper.statistic))
        two = stats.ttest_1samp(d, 0.0).confidence_interval(confidence_level=1 - 2 * alpha)
        ci = (float(two.low), float(two.high))
    return StatResult(
        name=name, test="TOST equivalence (two one-sided scipy.stats.ttest_1samp)",
        supported=bool(p < alpha), p_value=p, alpha=alpha, statistic=t,
        effect=float(d.mean()), effect_name=f"mean({label}) - {_fmt(reference)}", min_effect=margin,
        ci=ci, n=len(d), seeds=list(seeds), values={label: x.tolist()},
        detail=f"equivalence margin +/-{_fmt(margin)}; CI is the {100 * (1 - 2 * alpha):.0f}% interval")


def above_chance(successes: int, trials: int, *, chance: float, min_effect: float, alpha: float,
                 seeds: Sequence[int] = (), name: str = "accuracy above chance") -> StatResult:
    """H1: success rate > chance + min_effect, exact one-sided binomial test (scipy.stats.binomtest)."""
    if not 0 <= successes <= trials or trials < 1:
        raise ValueError(f"need 0 <= successes <= trials, trials >= 1; got {successes}/{trials}")
    res = stats.binomtest(int(successes), int(trials), chance + min_effect, alternative="greater")
    ci = res.proportion_ci(confidence_level=1 - alpha, method="exact")
    rate = successes / trials
    return StatResult(
        name=name, test="exact one-sided binomial test (scipy.stats.binomtest)",
        supported=bool(res.pvalue < alpha), p_value=float(res.pvalue), alpha=alpha,
        statistic=float(successes), effect=rate - chance, effect_name="rate - chance",
        min_effect=min_effect, ci=(float(ci.low), float(ci.high)), n=int(trials), seeds=list(seeds),
        values={"rate": [rate]}, detail=f"{successes}/{trials} correct, chance {_fmt(chance)}")


def proportion_equivalent(successes: int, trials: int, *, reference: float, margin: float,
                          alpha: float, seeds: Sequence[int] = (),
                          name: str = "rate equals the reference within a margin") -> StatResult:
    """Binomial TOST: H1 |rate - reference| < margin by two exact one-sided scipy.stats.binomtest."""
    lower = stats.binomtest(int(successes), int(trials), max(reference - margin, 0.0), alternative="greater")
    upper = stats.binomtest(int(successes), int(trials), min(reference + margin, 1.0), alternative="less")
    p = float(max(lower.pvalue, upper.pvalue))
    ci = lower.proportion_ci(confidence_level=1 - 2 * alpha, method="exact")
    rate = successes / trials
    return StatResult(
        name=name, test="binomial TOST (two exact one-sided scipy.stats.binomtest)",
        supported=bool(p < alpha), p_value=p, alpha=alpha, statistic=float(successes),
        effect=rate - reference, effect_name="rate - reference", min_effect=margin,
        ci=(float(ci.low), float(ci.high)), n=int(trials), seeds=list(seeds), values={"rate": [rate]},
        detail=f"{successes}/{trials}; equivalence margin +/-{_fmt(margin)}")


def holds_in_every_seed(flags: Sequence[bool], *, seeds: Sequence[int] = (),
                        name: str = "holds in every seed", values: dict | None = None) -> StatResult:
    """Supported when the property holds in all seeds; p is the one-sided sign test (binomtest, 1/2)."""
    flags = [bool(f) for f in flags]
    if not flags:
        raise ValueError("holds_in_every_seed needs at least one seed")
    k, n = sum(flags), len(flags)
    sign_p = float(stats.binomtest(k, n, 0.5, alternative="greater").pvalue)
    return StatResult(
        name=name, test="holds in every seed (deterministic count; sign-test p for information)",
        supported=k == n, p_value=None, alpha=None, statistic=float(k), effect=k / n,
        effect_name="fraction of seeds", min_effect=1.0, ci=None, n=n, seeds=list(seeds),
        values={"holds": [float(f) for f in flags], **(values or {})},
        detail=f"holds in {k}/{n} seeds (one-sided sign test p = {_fmt(sign_p)})")


def rank_correlated(x: Sequence[float], y: Sequence[float], *, alpha: float,
                    name: str = "x and y are positively rank-correlated") -> StatResult:
    """H1: Spearman's rho > 0, one-sided (scipy.stats.spearmanr)."""
    x, y = _as_array(x), _as_array(y)
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

    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    phases=[Phase.explicit, Phase.generate])


def property_holds(check: Callable[[], None], *, name: str, examples: int) -> StatResult:
    """Run a hypothesis-decorated check; supported when no falsifying example is found."""
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


def exact(holds: bool, *, name: str, detail: str, n: int = 1, values: dict | None = None) -> StatResult:
    """A deterministic fact (a formula, a structure, an inequality checked on every sample)."""
    return StatResult(name=name, test="exact check", supported=bool(holds), p_value=None, alpha=None,
                      statistic=None, effect=None, effect_name="", min_effect=None, ci=None, n=n,
                      values=values or {}, detail=detail)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[idx]))
        adjusted[idx] = running
    return adjusted.tolist()
