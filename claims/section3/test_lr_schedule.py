"""3.3: a learning-rate scheduler (linear warm-up + cosine decay) proposed and tested."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.seeds import derive
from claims.shared.variants import trained_variants
from fixtures.training import TrainSpec, evaluate
from fixtures.zoo import DataSpec, Recipe
from models.mlp import MLPConfig
from models.proposals import WarmupCosine

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

RATES = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)   # a short LR range, half-decade steps from Adam's default 1e-3 to 100x
PEAK = 3e-3          # the peak of the card's original proposal (3x Adam's default), compared at equal rate
CONTROL_PEAK = 1e-3  # pilot (10 + 25 seeds, two bases): the schedule peaking at 1e-3 is 3.4-3.7 pp below the best
                     # constant rate (sd 0.8): trains (94%) but anneals from a low rate, beyond the margin
                     # (pilot, 25 seeds, base 1: the schedule's best peak 1e-2 is -0.17 pp from the best constant
                     # 3e-3, sd 0.21; default base, 10 seeds: 1e-2 vs 3e-3, -0.11 pp, sd 0.26)
WARMUP_FRACTION = 0.05
BASE_EPOCHS = 20
MIN_EPOCHS = 20      # pilot (10 seeds): at 10 epochs (100 steps) the schedule at 3e-3 is 1.7 pp below the best
                     # constant (1e-2), at 20 epochs 0.5 pp: a shorter (smoke) budget would test another regime
MARGIN = 0.01        # non-inferiority margin, 1 accuracy point (~5 of 540 test digits)
MIN_GAIN = 0.0       # "beats": any gain in the median seed's accuracy; the futility test is sized at dz = 1 beyond it
ALPHA = 0.01
# The control's replicate and the constant rate are one recipe trained on independent seeds: their accuracy
# difference is symmetric about 0, so P(difference > MIN_GAIN = 0) <= 1/2 exactly, the sign test's null.
REPLICATE_NULL = "two replicates of one recipe on independent seeds: the difference is symmetric about 0"
TOL = 1e-12
BEATS_REASON = (
    "measured: warm-up + cosine peaking at 3e-3 is WORSE than the constant rate 3e-3, not better: "
    "-0.56 pp (sd 0.46, 10 seeds, default base) and -0.53 pp (sd 0.32, 25 seeds, base 1), 33 of 35 seeds "
    "negative, 20 epochs; the schedule's +0.3 pp over the constant 1e-3 is the higher rate's, not the schedule's. "
    "At a peak too high for a constant rate (1e-1, constant 2.2 pp below the best) the schedule recovers "
    "+0.7 to +1.5 pp (dz 0.6-0.9), still 0.7-0.8 pp below the best constant rate")
CARD = Card(
    id="3.3",
    budget_s=15,
    title="Warm-up + cosine decay trains as well as the best constant rate of a short range, but does not beat "
          "a constant rate at its own peak",
    question="Propose a learning-rate scheduler.",
    answer="Linear warm-up then cosine decay (Goyal et al. 2017; Loshchilov & Hutter 2017), per optimizer step t "
           "with T steps in all and T_w of warm-up: lr(t) = lr_min + (lr_max - lr_min)(t + 1)/T_w for t < T_w, "
           "and lr(t) = lr_min + (lr_max - lr_min)(1 + cos(pi (t - T_w)/(T - T_w)))/2 after (lr_min from step T "
           f"on); here T_w = {WARMUP_FRACTION:.0%} of T, lr_min = 0. The usual argument: warm-up avoids large early "
           "steps while Adam's moment estimates are poor, and the decay anneals the noise of the last steps, so "
           "the peak can be higher than a safe constant rate. Measured on a digits MLP, with the constant rate and "
           "the schedule's peak each taken over the same short range (1e-3 to 1e-1, half-decade steps): at its "
           "best peak the schedule is not worse than the best constant rate, by a 1-point non-inferiority test "
           "(both best at about 97%). It does not beat a constant rate at its own peak: at 3e-3 (3x Adam's "
           "default) the constant rate is about half a point better (strict xfail, numbers in its reason), so "
           "comparing the schedule at 3e-3 with the constant 1e-3 credits the schedule with the higher rate's "
           "gain. At this budget constant rates from 3e-3 to 3e-2 train well without a schedule; only at 1e-1, "
           "too high for a constant rate, does the schedule recover part of the loss (figure; not asserted: the "
           "gain, dz 0.6-0.9 in pilots, is below what 25 seeds resolve at alpha 0.01).",
    method="Properties (hypothesis over lr_max, lr_min, T, T_w, t): lr_min <= lr(t) <= lr_max, non-decreasing "
           "during warm-up and non-increasing after, lr reaches lr_max at the end of warm-up and lr_min at T, and "
           "no step changes lr by more than the largest of the warm-up slope and the cosine's steepest step "
           f"(continuity). Training: MLP 64-128-10 on standardized digits, Adam, batch 128, {BASE_EPOCHS} epochs at "
           "every scale, the same seeds, init and batches for every rate, constant and scheduled: constant rates "
           f"{', '.join(f'{r:g}' for r in RATES)} and the schedule peaking at each. Tests on sequential seeds, "
           f"alpha {ALPHA}, about the median seed: (1) a one-sided paired non-inferiority sign test, margin "
           f"{MARGIN * 100:g} point, of the schedule at its best peak against the best constant rate, each the "
           "highest mean of its five on the look's seeds (the same selection on both sides); (2) a one-sided paired "
           f"sign test over seeds that the schedule peaking at {PEAK:g} beats the constant rate {PEAK:g}.",
    control=f"(1) The schedule not tuned: peaking at {CONTROL_PEAK:g} (Adam's default) it trains (about 94%) but "
            "anneals from a low rate and is worse than the best constant rate by more than the margin, so the "
            "non-inferiority test must fail. (2) A peak-matched constant: a second constant-rate run at "
            f"{PEAK:g} (its own initialization and batch order) against the first; 'beats' must not be supported.",
)


def recipe(epochs: int, lr: float) -> Recipe:
    return Recipe(arch=MLPConfig(64, (128,), 10), data=DataSpec("digits", standardize=True),
                  train=TrainSpec(epochs=epochs, lr=lr, batch_size=128))


def constant(rate: float) -> str:
    return f"constant {rate:g}"


def scheduled(rate: float) -> str:
    return f"warm-up + cosine {rate:g}"


@claim(CARD, control=False)
def test_warmup_cosine_is_bounded_monotone_in_each_phase_and_continuous(arm, evidence):
    examples = evidence.profile.examples

    @stats.property_settings(examples)
    @given(peak=st.floats(1e-6, 10), floor_frac=st.floats(0, 1), total=st.integers(1, 400), warm=st.floats(0, 0.99))
    def check(peak, floor_frac, total, warm):
        sched = WarmupCosine(peak, total, int(warm * total), floor=peak * floor_frac)
        lr = np.array([sched(t) for t in range(total + 3)])
        w, tol = sched.warmup_steps, TOL * peak
        assert np.all(lr >= sched.floor - tol) and np.all(lr <= peak + tol), "lr leaves [floor, peak]"
        steps = np.diff(lr)
        assert np.all(steps[:max(w - 1, 0)] >= -tol), "lr decreases during warm-up"
        assert np.all(steps[max(w - 1, 0):] <= tol), "lr increases after warm-up"
        assert math.isclose(lr[max(w - 1, 0)], peak, rel_tol=1e-9), "lr does not reach the peak"
        assert np.allclose(lr[total:], sched.floor, rtol=0, atol=tol), "lr is not the floor from step T on"
        assert np.all(np.abs(steps) <= sched.max_increment() + tol), "lr jumps (not continuous)"

    evidence.check(stats.property_holds(
        check, name="floor <= lr <= peak; rises in warm-up, falls after; peak at T_w, floor at T; no jumps",
        examples=examples))


def lr_range(zoo, epochs: int):
    """values_for(seeds) for evidence.per_seed: test accuracy of every constant rate and of the schedule at every
    peak, the same seeds (init and batches) throughout; the schedules' optimizer steps."""
    n_train = len(zoo.data(recipe(epochs, PEAK).data, 0).y_train)   # every seed's digits split has the same size
    steps = epochs * math.ceil(n_train / 128)

    def schedule(peak: float) -> WarmupCosine:
        return WarmupCosine(peak, steps, round(WARMUP_FRACTION * steps))

    def accuracies(seeds: list[int]) -> dict[str, list[float]]:
        out = {}
        for rate in RATES:   # a look's seeds trained stacked, one group per rate and training
            base = recipe(epochs, rate)
            for name, runs in ((constant(rate), zoo.trained_many(base, seeds)),
                               (scheduled(rate), trained_variants(zoo, base, seeds, schedule=schedule(rate)))):
                out[name] = [evaluate(t.model, t.data.x_test, t.data.y_test)[1] for t in runs]
        return out
    return accuracies, schedule


def best_of(acc: dict[str, list[float]], kind, rates: tuple[float, ...]) -> float:
    """The rate of `rates` whose runs of `kind` (constant or scheduled) have the highest mean on these seeds."""
    return max(rates, key=lambda r: float(np.mean(acc[kind(r)])))


@claim(CARD)
def test_warmup_cosine_at_its_best_peak_is_not_worse_than_the_best_constant_rate(arm, evidence, zoo):
    epochs = evidence.profile.epochs(BASE_EPOCHS, at_least=MIN_EPOCHS)
    peaks = RATES if arm is Arm.CLAIM else (CONTROL_PEAK,)
    accuracies, schedule = lr_range(zoo, epochs)
    evidence.note(f"schedule: {schedule(peaks[0])}" if arm is Arm.CONTROL else
                  f"schedules: {schedule(PEAK)}, the same with each peak of the range")
    per_seed = evidence.per_seed(accuracies)

    def versus_best(acc):
        peak, best = best_of(acc, scheduled, peaks), best_of(acc, constant, RATES)
        return stats.non_inferior(
            acc[scheduled(peak)], acc[constant(best)], margin=MARGIN, alpha=ALPHA,
            name=f"warm-up + cosine peaking at {peak:g} is at most {MARGIN:.0%} below the best constant rate "
                 f"({best:g})", labels=(scheduled(peak), constant(best)))
    evidence.check_over_seeds(per_seed, versus_best)
    acc = per_seed.upto(len(per_seed.seeds))
    names = [n for r in RATES for n in (constant(r), scheduled(r))]
    evidence.table(f"Digits MLP test accuracy after {epochs} epochs (Adam, batch 128)", ["seed", *names],
                   [[s, *(acc[n][i] for n in names)] for i, s in enumerate(per_seed.seeds)])
    evidence.save_figure(range_figure(acc, peaks, epochs), "lr-range")


@claim(CARD, xfail_claim=BEATS_REASON)
def test_warmup_cosine_beats_a_constant_rate_at_the_same_peak(arm, evidence, zoo):
    epochs = evidence.profile.epochs(BASE_EPOCHS, at_least=MIN_EPOCHS)
    accuracies, _ = lr_range(zoo, epochs)

    def values_for(seeds: list[int]) -> dict[str, list[float]]:
        acc = accuracies(seeds)
        if arm is Arm.CLAIM:
            return {"contender": acc[scheduled(PEAK)], "constant": acc[constant(PEAK)]}
        replicate = zoo.trained_many(recipe(epochs, PEAK), [derive(s, "replicate") for s in seeds])
        return {"contender": [evaluate(t.model, t.data.x_test, t.data.y_test)[1] for t in replicate],
                "constant": acc[constant(PEAK)]}

    contender = scheduled(PEAK) if arm is Arm.CLAIM else f"{constant(PEAK)} (replicate)"
    per_seed = evidence.per_seed(values_for)
    decision = evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        v["contender"], v["constant"], min_effect=MIN_GAIN, alpha=ALPHA,
        name=f"{contender} has a higher test accuracy than {constant(PEAK)}", labels=(contender, constant(PEAK))),
        null_by_construction=None if arm is Arm.CLAIM else REPLICATE_NULL)
    seeds, v = per_seed.used_by(decision)
    evidence.table(f"Digits MLP test accuracy after {epochs} epochs", ["seed", constant(PEAK), contender],
                   [[s, a, b] for s, a, b in zip(seeds, v["constant"], v["contender"])])


def range_figure(acc: dict[str, list[float]], peaks: tuple[float, ...], epochs: int):
    fig, ax = plt.subplots(figsize=(6, 3.8))
    n = len(acc[constant(RATES[0])])
    for label, name, color in (("constant rate", constant, "tab:blue"), ("warm-up + cosine, peak", scheduled,
                                                                          "tab:orange")):
        a = 100 * np.array([acc[name(r)] for r in RATES])        # (rates, seeds)
        ax.errorbar(RATES, a.mean(1), yerr=a.std(1, ddof=1), color=color, marker="o", capsize=3,
                    label=f"{label} (mean +/- sd, {n} seeds)")
    if len(peaks) == 1:
        ax.axvline(peaks[0], color="grey", ls="--", lw=1, label=f"the control's peak {peaks[0]:g}")
    ax.set_xscale("log")
    ax.set(xlabel="learning rate (constant) or peak rate (schedule)", ylabel="test accuracy (%)",
           title=f"3.3: digits MLP, Adam, {epochs} epochs")
    ax.legend(fontsize=8, loc="lower center")
    return fig
