"""6.3: predicting the best input resolution per image (resolution-adaptive inference, RANet-style)."""
from __future__ import annotations

import numpy as np
import torch

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.memo import measurement
from claimcheck.seeds import derive
from claims import families
from claims.section6.resolution_predictor import (
    best_resolution,
    best_static_mix,
    cheapest_confident,
    fit_correctness,
    predictor_features,
    relative_cost,
)
from claims.shared.resolution import FCN_FIT, MULTIRES, RESOLUTIONS, flops, resize, trained_with
from fixtures.training import predict_logits
from fixtures.zoo import DataSpec

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

ALPHA = 0.01
# P(x) sends x to a cheaper resolution only when it predicts that resolution right with probability >= TAU, a
# level fixed before any test data was seen (it was the threshold of the suite's first P(x), which predicted the
# best resolution instead of the correctness at each one); else x goes to the cheapest resolution whose predicted
# correctness reaches it, or to 8 px. Pilot (6 seeds): 51-63% of the test images to 4 px, 16-48% to 6 px.
TAU = 0.9
MARGIN = 0.03      # non-inferiority margin vs always 8 px; pilot (6 seeds): adaptive - 8 px = -1.6..+0.6 points
MIN_SAVING = 0.1   # mean cost at least 10% below always 8 px; pilot: relative cost 0.55-0.78
MIN_GAIN = 0.02    # over random assignment at the same cost; pilot: +3.3..+6.9 points
# "Beats the best static mix": by more than the claim's own accuracy tolerance MARGIN (a difference the claim
# accepts as "keeps the accuracy of 8 px" is not called a win either). Pilot, P(x) - best static mix at P(x)'s cost
# (shares fitted on the held-out digits): standard +0.04..+1.30 points (4 seed bases, 10-15 seeds, sd 0.7-1.6),
# paper +1.8..+2.3 (3 bases, 10-20 seeds, sd 0.6-1.2). MIN_GAIN (2 points) sits on the paper gain: the engine's
# replay gave that check a 19% chance of passing under another base at paper scale (default base, 20 seeds,
# +2.32), so it would be a verdict neither way. Not asserted either: non-inferiority to the static mix. Its
# control, the random assignment, is itself only 1.3-1.9 points below the static mix at paper scale (means of 10
# seeds, 4 measurements; a knowledge-free assignment that pays the 4 px pass, mostly at 4 px, ~90% accurate
# there), while P(x) needs a margin >= 1.5 points at standard scale (simulated power of the sequential test 0.82-0.91
# at a 1-point margin, >= 0.998 at 1.5): no margin separates both.
STATIC_GAIN = MARGIN
STATIC_REASON = (
    "measured: P(x) minus the best static mix at P(x)'s mean cost (shares fitted on the held-out training digits, "
    "no 4 px pre-pass) is +0.11 points (sd 1.25, 10 seeds, default base), +0.04 (sd 0.71, 15 seeds, base 1), +0.55 "
    "(sd 1.54, 15, base 2) and +1.30 (sd 1.56, 15, base 3) at standard scale, and +2.32 (sd 0.96, 20 seeds, default "
    "base), +1.87 (sd 1.16, 10, base 1) and +1.83 (sd 0.63, 10, base 2) at paper scale (2x width: the 4 px pass is "
    "right on ~90% instead of ~79% of the test digits and P(x) runs at 0.45-0.48 of the 8 px cost instead of "
    "~0.7): a small gain, not the 3 points of the claim's tolerance. The mix chosen on the test labels is at most "
    "0.12 points more accurate than the fitted one")
CARD = Card(
    id="6.3",
    budget_s=20,
    title="A per-image resolution predictor keeps accuracy at a lower mean cost, but does not beat the best static "
          "mix of resolutions at that cost by more than 3 points",
    question="Following 6.2, propose a model P(x) that predicts the best resolution, among pre-defined ones, for the "
             "forward pass of an image x. What could be considered the 'best resolution'?",
    answer="Best resolution of x = the cheapest (lowest) resolution at which the classifier still predicts x "
           "correctly. P(x) cannot know that before running the classifier, so it predicts, from the class "
           "probabilities of a cheap 4 x 4 pass (sorted, log), the probability that each resolution classifies x "
           "correctly (one logistic regression per resolution, fitted on training images the classifier never "
           "saw), and x goes to the cheapest resolution whose predicted correctness reaches 0.9, otherwise to the "
           "highest (the 4 x 4 answer is reused when 4 x 4 is chosen). The rule is fixed before any test image is "
           f"seen. It keeps the accuracy of always using 8 x 8 within {MARGIN * 100:g} points at a mean FLOP count "
           f"more than {MIN_SAVING:.0%} lower, and it beats assigning the same resolutions to the images at random "
           f"(same cost) by more than {MIN_GAIN * 100:g} points: P(x) knows which images are easy. That random "
           "assignment is a weak baseline, only a linear interpolation of the fixed resolutions. The fair one is "
           "the best static mix: every image sent to a fixed resolution drawn with shares chosen, on the same "
           "held-out training images, to maximize accuracy at P(x)'s mean cost (a static mix pays no 4 x 4 "
           "pre-pass). Does P(x) beat it? Not by more than the claim's own 3-point tolerance (a strict expected "
           "failure; its reason gives the measured gains: about 0 to 1 point at standard scale, about 2 at paper "
           "scale, where the wider classifier's 4 x 4 pass is right on about 90% of the digits instead of 80%). The "
           "exercise does not claim more; RANet-style adaptive inference (Yang et al. 2020) beats static models at "
           "equal budget when a cheap pass settles most inputs. Here the 4 x 4 pass costs about a quarter of an "
           "8 x 8 pass and is right on only about 80% of the test digits, so about half of the images pay for two "
           "passes, and P(x)'s cost falls where the static frontier is nearly flat (6 x 6 at about 60% of the "
           "cost is within about 2 points of 8 x 8). The oracle in the table (the best resolution known per "
           "image) shows the headroom a better P could use.",
    method=f"The 6.4 fully convolutional classifier (one θ for 4, 6 and 8 px), trained on the first {FCN_FIT} "
           "training digits at randomly drawn resolutions; P(x) and the static mix's shares are fitted on the "
           "remaining training digits (never seen by the classifier); evaluation on the test split. Cost = FLOPs "
           "of the 4 px pass + FLOPs of the chosen resolution when it is not 4 (torch's FlopCounterMode), relative "
           "to always running 8 px. Best static mix at P(x)'s per-seed mean cost B: the shares maximizing "
           "sum_r share_r acc_r subject to sum_r share_r cost_r <= B (a linear programme: the upper concave hull "
           "of the three (cost, accuracy) points at B), acc_r measured on the held-out training digits; its test "
           "accuracy is sum_r share_r x (test accuracy at r), the expected accuracy of that random assignment. The "
           "same mix chosen on the test labels is in the table for reference only. Asserted on sequential seeds "
           f"(at least 5 at the first look), alpha {ALPHA}, paired sign tests over seeds about the median seed: "
           f"adaptive accuracy non-inferior to 8 px accuracy with a {MARGIN * 100:g}-point margin; mean relative cost "
           f"over the test images more than {MIN_SAVING:.0%} below 1 (sign test over seeds); adaptive accuracy more "
           f"than {MIN_GAIN * 100:g} points "
           "above random assignment at exactly the same cost (the same per-seed multiset of resolutions shuffled "
           f"over the images). A second test asks whether adaptive accuracy exceeds the best static mix by more "
           f"than {STATIC_GAIN * 100:g} points: a strict xfail. Non-inferiority to the static mix is not asserted: "
           "at paper scale the random assignment is itself within about 2 points of that mix, so no margin would "
           "both hold for P(x) and fail for its control.",
    control="P(x) replaced by that random assignment (same cost, no knowledge of the image): the non-inferiority "
            "test against 8 px, the 'beats random assignment' test (against a second, independent shuffle) and "
            "the 'beats the best static mix' test must not be supported. The cost is the same as P(x)'s by "
            "construction and is not asserted in the control.",
)


def _correct(model, x, y) -> tuple[np.ndarray, np.ndarray]:
    """(n, R) correctness and the softmax of the cheapest pass."""
    probs = [torch.softmax(predict_logits(model, resize(x, r)), 1).cpu().numpy() for r in RESOLUTIONS]
    return np.stack([p.argmax(1) == y.cpu().numpy() for p in probs], 1), probs[0]


@measurement
def resolution_choices(zoo, recipe, seeds: list[int]) -> dict[str, list]:
    """Per seed, for the classifier of `recipe` trained at MULTIRES and P(x) fitted on the training samples the
    classifier never saw: accuracy and relative cost of P(x)'s assignment ("adaptive"), of two independent
    random shuffles of it ("random", "random 2": same cost), of each fixed resolution on the test split ("fixed
    acc", "fixed cost") and on the held-out training samples ("held-out acc"), of the best static mix at P(x)'s
    cost with shares fitted on the held-out samples ("static": test accuracy, cost, shares) or chosen on the
    test labels ("oracle mix"), and of the oracle; "mix": the fraction of test images P(x) sends to each
    resolution."""
    out: dict[str, list] = {}
    for seed in seeds:
        model, data = trained_with(zoo, recipe, MULTIRES, seed)
        full = zoo.data(DataSpec("digits-images"), seed)
        assert torch.equal(full.x_train[:FCN_FIT], data.x_train), "P(x) must be fitted on unseen training samples"
        cost = np.array([flops(model, (1, 1, r, r)) for r in RESOLUTIONS], dtype=float)
        fit_correct, fit_low = _correct(model, full.x_train[FCN_FIT:], full.y_train[FCN_FIT:])
        p_correct = fit_correctness(predictor_features(fit_low), fit_correct)
        correct, low = _correct(model, data.x_test, data.y_test)
        chosen = cheapest_confident(p_correct(predictor_features(low)), TAU)
        shuffles = [np.random.default_rng(derive(seed, "6.3 random assignment", k)).permutation(chosen)
                    for k in range(2)]
        rows = np.arange(len(chosen))
        oracle = best_resolution(correct)
        budget, rel = relative_cost(cost, chosen), cost / cost[-1]
        test_acc, held_acc = correct.mean(0), fit_correct.mean(0)
        static = best_static_mix(rel, held_acc, budget)         # no test label used
        oracle_mix = best_static_mix(rel, test_acc, budget)     # for reference only
        for key, value in {"adaptive acc": correct[rows, chosen].mean(), "adaptive cost": budget,
                           "random acc": correct[rows, shuffles[0]].mean(),
                           "random 2 acc": correct[rows, shuffles[1]].mean(),
                           "8 px acc": correct[:, -1].mean(), "fixed acc": test_acc.tolist(),
                           "fixed cost": rel.tolist(), "held-out acc": held_acc.tolist(),
                           "static acc": float(static @ test_acc), "static cost": float(static @ rel),
                           "static shares": static.tolist(), "oracle mix acc": float(oracle_mix @ test_acc),
                           "oracle mix shares": oracle_mix.tolist(), "oracle acc": correct.any(1).mean(),
                           "oracle cost": float(cost[oracle].mean() / cost[-1]),
                           "mix": (np.bincount(chosen, minlength=len(RESOLUTIONS)) / len(chosen)).tolist()}.items():
            out.setdefault(key, []).append(value)
    return out


def _name(tested: str) -> str:
    return "P(x)" if tested == "adaptive" else "random"


@claim(CARD)
def test_predicting_the_resolution_per_image_keeps_accuracy_at_a_lower_mean_cost(arm, evidence, zoo):
    recipe = families.FULLY_CONV.recipe(evidence.profile)
    tested, other = ("adaptive", "random") if arm is Arm.CLAIM else ("random", "random 2")
    per_seed = evidence.per_seed(lambda seeds: resolution_choices(zoo, recipe, seeds), family=families.FULLY_CONV)
    evidence.check_over_seeds(per_seed, lambda v: stats.non_inferior(
        v[f"{tested} acc"], v["8 px acc"], margin=MARGIN, alpha=ALPHA,
        name=f"{_name(tested)} assignment is within {MARGIN:.0%} of always using 8 px",
        labels=(f"{tested} accuracy", "8 px accuracy")))
    evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        v[f"{tested} acc"], v[f"{other} acc"], min_effect=MIN_GAIN, alpha=ALPHA,
        name=f"{'P(x)' if arm is Arm.CLAIM else 'a random'} assignment beats "
             f"{'random' if arm is Arm.CLAIM else 'another'} assignment at the same cost by more than {MIN_GAIN:.0%}",
        labels=(f"{tested} accuracy", f"{other} accuracy")))
    if arm is Arm.CLAIM:   # the control's assignment has this cost by construction
        evidence.check_over_seeds(per_seed, lambda v: stats.greater_than(
            1 - np.array(v["adaptive cost"]), reference=0.0, min_effect=MIN_SAVING, alpha=ALPHA, label="saving",
            name=f"P(x)'s mean cost is more than {MIN_SAVING:.0%} below always using 8 px"))
    _report(evidence, per_seed.seeds, per_seed.upto(len(per_seed.seeds)), tested)


@claim(CARD, xfail_claim=STATIC_REASON)
def test_predicting_the_resolution_per_image_beats_the_best_static_mix_at_the_same_cost(arm, evidence, zoo):
    recipe = families.FULLY_CONV.recipe(evidence.profile)
    tested = "adaptive" if arm is Arm.CLAIM else "random"
    per_seed = evidence.per_seed(lambda seeds: resolution_choices(zoo, recipe, seeds), family=families.FULLY_CONV)
    decision = evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        v[f"{tested} acc"], v["static acc"], min_effect=STATIC_GAIN, alpha=ALPHA,
        name=f"{_name(tested)} assignment beats the best static mix of resolutions at its cost by more than "
             f"{STATIC_GAIN * 100:g} points", labels=(f"{tested} accuracy", "static mix accuracy")))
    v = per_seed.upto(decision.n)
    gap = 100 * (np.array(v[f"{tested} acc"]) - np.array(v["static acc"]))
    evidence.note(f"{_name(tested)} assignment minus the best static mix at its cost, over {decision.n} seeds: "
                  f"{gap.mean():+.2f} points (sd {gap.std(ddof=1):.2f}, min {gap.min():+.2f}, max {gap.max():+.2f}); "
                  "per-seed shares and accuracies in the tables and figure of the test that keeps accuracy at a "
                  "lower mean cost.")


def _upper_hull(cost: np.ndarray, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points of the upper concave hull of (cost, accuracy) from the cheapest to the most accurate point:
    the accuracy of the best static mix at every cost between them."""
    keep: list[int] = []
    for i in np.argsort(cost):
        if keep and acc[i] <= acc[keep[-1]]:
            continue      # costs more and is no more accurate: never on the upper frontier
        while len(keep) >= 2 and ((acc[keep[-1]] - acc[keep[-2]]) * (cost[i] - cost[keep[-2]])
                                  <= (acc[i] - acc[keep[-2]]) * (cost[keep[-1]] - cost[keep[-2]])):
            keep.pop()    # below the chord: dominated by a mix of its neighbours
        keep.append(i)
    return cost[keep], acc[keep]


def _report(evidence, seeds: list[int], v: dict, tested: str) -> None:
    fixed_acc, fixed_cost, held_acc = np.array(v["fixed acc"]), np.array(v["fixed cost"]), np.array(v["held-out acc"])
    mix, shares, oracle_shares = np.array(v["mix"]), np.array(v["static shares"]), np.array(v["oracle mix shares"])
    px = [f"{r} px" for r in RESOLUTIONS]
    evidence.table(f"{_name(tested).capitalize()} assignment per seed (cost relative to 8 px)",
                   ["seed", "accuracy", "relative cost", *(f"share {r}" for r in px), *(f"acc {r}" for r in px),
                    "random acc", "oracle acc", "oracle cost"],
                   [[s, v[f"{tested} acc"][i], v["adaptive cost"][i], *mix[i], *fixed_acc[i], v["random acc"][i],
                     v["oracle acc"][i], v["oracle cost"][i]] for i, s in enumerate(seeds)])
    evidence.table("Best static mix at P(x)'s cost per seed: shares fitted on the held-out training digits "
                   "(their accuracies), accuracy on the test split; the mix chosen on the test labels for reference",
                   ["seed", "P(x) cost", "mix cost", *(f"share {r}" for r in px), *(f"held-out acc {r}" for r in px),
                    "mix acc", f"{_name(tested)} acc", "test-chosen mix acc",
                    *(f"test-chosen share {r}" for r in px)],
                   [[s, v["adaptive cost"][i], v["static cost"][i], *shares[i], *held_acc[i], v["static acc"][i],
                     v[f"{tested} acc"][i], v["oracle mix acc"][i], *oracle_shares[i]] for i, s in enumerate(seeds)])
    fixed = [f"{r}: accuracy {fixed_acc[:, i].mean():.3f} at cost {fixed_cost[:, i].mean():.2f}"
             for i, r in enumerate(px)]
    evidence.note(f"Means over {len(seeds)} seeds. Fixed resolutions: " + ", ".join(fixed)
                  + f"; P(x): {np.mean(v['adaptive acc']):.3f} at {np.mean(v['adaptive cost']):.2f}; best static "
                  f"mix at the same cost: {np.mean(v['static acc']):.3f} (chosen on the test labels: "
                  f"{np.mean(v['oracle mix acc']):.3f}); random assignment at the same cost: "
                  f"{np.mean(v['random acc']):.3f}; oracle: {np.mean(v['oracle acc']):.3f} at "
                  f"{np.mean(v['oracle cost']):.2f}")
    fig, (ax, gaps) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1.5, 1]})
    for i in range(len(seeds)):
        ax.plot(*_upper_hull(fixed_cost[i], fixed_acc[i]), "-", color="grey", alpha=0.35, lw=1,
                label="best static mix, per seed (hull of the fixed resolutions)" if i == 0 else None)
    ax.plot(*_upper_hull(fixed_cost.mean(0), fixed_acc.mean(0)), "k--", lw=1.6,
            label="best static mix, mean of the seeds")
    ax.scatter(fixed_cost.mean(0), fixed_acc.mean(0), marker="s", color="k", zorder=3, s=25,
               label="always 4, 6 or 8 px (mean of the seeds)")
    for c, a, r in zip(fixed_cost.mean(0), fixed_acc.mean(0), px):
        ax.annotate(r, (c, a), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    color = "tab:blue" if tested == "adaptive" else "tab:red"
    ax.vlines(v["adaptive cost"], v["static acc"], v[f"{tested} acc"], color=color, alpha=0.4, lw=1)
    ax.scatter(v["adaptive cost"], v["static acc"], marker="D", color="tab:orange", s=22, zorder=3,
               label="best static mix at the same cost (shares fitted on held-out digits)")
    ax.scatter(v["adaptive cost"], v[f"{tested} acc"], color=color, zorder=4, s=22,
               label="P(x) assignment" if tested == "adaptive" else "random assignment, same cost")
    if tested == "adaptive":
        ax.scatter(v["adaptive cost"], v["random acc"], color="tab:red", marker="x", zorder=3, s=22,
                   label="random assignment, same cost")
    ax.scatter(v["oracle cost"], v["oracle acc"], marker="*", color="tab:green", s=60, zorder=3,
               label="oracle (best resolution known)")
    ax.set(xlabel="mean FLOPs relative to 8 px", ylabel="test accuracy",
           title=f"6.3 resolution-adaptive inference ({len(seeds)} seeds)",
           ylim=(fixed_acc[:, 0].mean() - 0.04, 1.0))   # per-seed 4 px points below it are cut; their hulls show
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    name = _name(tested)
    diffs = {f"{name} - 8 px": (v["8 px acc"], -MARGIN),
             f"{name} - best\nstatic mix": (v["static acc"], STATIC_GAIN),
             f"{name} - random\nsame cost": (v["random acc"] if tested == "adaptive" else v["random 2 acc"], MIN_GAIN)}
    for k, (ref, line) in enumerate(diffs.values()):
        d = 100 * (np.array(v[f"{tested} acc"]) - np.array(ref))
        jitter = np.random.default_rng(k).uniform(-0.12, 0.12, len(d))
        gaps.scatter(k + jitter, d, s=14, color=color, alpha=0.7)
        gaps.hlines(d.mean(), k - 0.25, k + 0.25, color="k", lw=1.5)
        xfail = k == 1    # the strict-xfail question: beats the static mix by more than STATIC_GAIN
        gaps.hlines(100 * line, k - 0.4, k + 0.4, color="tab:orange" if xfail else "tab:purple", ls=":", lw=1.4,
                    label=(f"'beats it by {STATIC_GAIN * 100:g} points' (strict xfail)" if xfail else
                           "margin / minimum effect of the check" if k == 0 else None))
    gaps.axhline(0, color="grey", lw=0.8)
    gaps.set_xticks(range(len(diffs)), list(diffs), fontsize=8)
    gaps.set(ylabel="accuracy difference per seed (points)", title="paired differences (bar: mean)")
    gaps.legend(fontsize=7, loc="lower right")
    evidence.save_figure(fig, "accuracy-vs-cost")
