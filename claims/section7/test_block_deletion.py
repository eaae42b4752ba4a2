"""7.5: residual blocks can be deleted at test time, plain layers cannot (Veit et al. 2016)."""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.memo import measurement
from claims import families
from claims.section7.deletion import deletion_accuracies, greedy_removable
from claims.shared.twins import DEEP

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

ALPHA = 0.01
MAX_MEDIAN_DROP = 0.05  # pilot (3 seeds): residual median drop 0.8-1.8 pp, plain 57-61 pp
HALF = DEEP // 2        # pilot: 95-97% of samples (residual) vs 0-3% (plain) survive deleting >= 8 of 16 blocks
MIN_CRITICAL = 0.2      # pilot: the first residual block costs 66-79 pp: "any block can go" is false

CARD = Card(
    id="7.5",
    budget_s=9,
    title="Most residual blocks can be deleted at test time; plain layers cannot",
    question="In a residual net y_i = f_i(y_{i-1}, θ_i) + y_{i-1}; zeroing θ_i at test time leaves y_i = y_{i-1}. "
             "Design an experiment that finds which residual layers do not affect the network's predictive "
             "ability (restoring θ_i before deleting another layer j).",
    answer="Deleting block i (y_i = y_{i-1}) costs little test accuracy for most blocks of a 16-block "
           "residual MLP, but not for all: the first blocks are critical (the table gives the drop per block), so "
           "'most blocks can go' holds and 'any block can go' does not. In the plain twin every deletion collapses "
           "accuracy. Per sample, most test images keep their predicted class with at least half of the blocks deleted "
           "together: the residual net behaves like an ensemble of paths of different lengths.",
    method=f"The {DEEP}-block residual MLP twin of claims/shared/twins.py (digits, width 64, Linear-BN-ReLU blocks, He "
           "init, Adam 1e-3, batch 64, 10 epochs). Deletion uses forward(x, skip={{i}}), which bypasses "
           "block i without touching θ_i, so no weight ever needs restoring (equivalent to zeroing θ_i and "
           "restoring it; the model's state is compared before/after). Per seed: the test-accuracy drop of each "
           f"single deletion. Asserted on sequential seeds, alpha {ALPHA}, one-sided "
           f"sign tests over seeds about the median seed: its median drop over blocks is below "
           f"{MAX_MEDIAN_DROP:.0%}, and (not every block can go) its largest drop exceeds {MIN_CRITICAL:.0%}. "
           "Research question: per test sample, blocks are deleted greedily (least harmful first, a per-sample "
           f"mask) while its prediction stays the same; asserted (sign test over seeds) that the median seed's "
           f"fraction of test samples that keep their prediction with at least {HALF} of the {DEEP} blocks deleted "
           f"exceeds one half.",
    control=f"The plain twin ({DEEP} blocks, no skips, the same training, a net that trains): the same median-drop "
            f"and per-sample tests must not be supported.",
)


@measurement
def deletion_effects(zoo, recipe, seeds: list[int]) -> dict:
    """Per seed, for the trained model of `recipe`: "drops" (test accuracy lost by deleting each block alone,
    (seeds, blocks)), "removable" (per test sample, blocks deleted greedily together without changing its
    prediction) and "theta_unchanged" (whether the model's state is bit-identical after all deletions)."""
    drops, removable, unchanged = [], [], []
    for run in zoo.trained_many(recipe, seeds):
        before = {k: v.clone() for k, v in run.model.state_dict().items()}
        full, deleted = deletion_accuracies(run.model, run.data.x_test, run.data.y_test)
        drops.append(full - np.array(deleted))
        removable.append(greedy_removable(run.model, run.data.x_test, list(np.argsort(drops[-1]))))
        unchanged.append(all(v.equal(before[k]) for k, v in run.model.state_dict().items()))
    return {"drops": np.array(drops), "removable": removable, "theta_unchanged": unchanged}


@claim(CARD)
def test_most_residual_blocks_can_be_deleted_at_test_time_unlike_plain_layers(arm, evidence, zoo):
    residual = arm is Arm.CLAIM
    recipe = families.RESIDUAL_TWINS.recipe(evidence.profile, DEEP, residual)
    kept = {}   # per seed: (drop per block, removable blocks per test sample, θ unchanged)

    def values_for(seeds: list[int]) -> dict[str, list]:
        m = deletion_effects(zoo, recipe, seeds)
        kept.update({s: row for s, row in zip(seeds, zip(m["drops"], m["removable"], m["theta_unchanged"]))})
        return {"median drop": [float(np.median(d)) for d in m["drops"]],
                "max drop": [float(d.max()) for d in m["drops"]],
                "kept with half deleted": [float((r >= HALF).mean()) for r in m["removable"]]}

    per_seed = evidence.per_seed(values_for, family=families.RESIDUAL_TWINS)
    evidence.check_over_seeds(per_seed, lambda v: stats.greater_than(
        [MAX_MEDIAN_DROP - m for m in v["median drop"]], reference=0.0, min_effect=0.0, alpha=ALPHA,
        label=f"{MAX_MEDIAN_DROP:.0%} - median drop",
        name=f"the median single-block deletion costs < {MAX_MEDIAN_DROP:.0%} test accuracy in the median seed"))
    evidence.check_over_seeds(per_seed, lambda v: stats.greater_than(
        v["kept with half deleted"], reference=0.5, min_effect=0.0, alpha=ALPHA, label="fraction of test samples",
        name=f"most test samples keep their prediction with >= {HALF} of {DEEP} blocks deleted together"))
    if residual:   # the other half of the answer: most blocks can go, not every one
        evidence.check_over_seeds(per_seed, lambda v: stats.greater_than(
            v["max drop"], reference=MIN_CRITICAL, min_effect=0.0, alpha=ALPHA, label="largest single-block drop",
            name=f"some block is critical (deleting it costs > {MIN_CRITICAL:.0%}): not every block can go"))
    runs = [kept[s] for s in per_seed.seeds]
    evidence.check(stats.exact(
        all(r[2] for r in runs), n=len(runs), name="deleting blocks never changes θ",
        detail=f"the model's state is bit-identical before and after every deletion, in all {len(runs)} models"),
        expect=True)
    _report(evidence, [r[0] for r in runs], [r[1] for r in runs], residual)


def _report(evidence, drops: list[np.ndarray], removable: list[np.ndarray], residual: bool) -> None:
    kind = "residual" if residual else "plain"
    drops_arr = np.array(drops)
    evidence.record_value("accuracy_drop_per_block", drops_arr.tolist())
    evidence.table(f"Test-accuracy drop when deleting one block ({kind}; mean and range over seeds)",
                   ["block", "mean drop", "min", "max"],
                   [[i, drops_arr[:, i].mean(), drops_arr[:, i].min(), drops_arr[:, i].max()]
                    for i in range(drops_arr.shape[1])])
    pooled = np.concatenate(removable)
    evidence.note(f"{kind}: blocks deletable per sample without changing its prediction (greedy, pooled over "
                  f"seeds): mean {pooled.mean():.1f} of {DEEP}; at least one: {(pooled >= 1).mean():.1%}; "
                  f"at least {HALF}: {(pooled >= HALF).mean():.1%} of {len(pooled)} test samples")
    fig, (bars, hist) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    mean = drops_arr.mean(0) * 100
    bars.bar(range(len(mean)), mean, yerr=[mean - drops_arr.min(0) * 100, drops_arr.max(0) * 100 - mean],
             color="tab:blue" if residual else "tab:red", capsize=2)
    bars.axhline(MAX_MEDIAN_DROP * 100, color="grey", ls=":", label=f"{MAX_MEDIAN_DROP:.0%}")
    bars.set(xlabel="deleted block", ylabel="test-accuracy drop (points)", xticks=range(len(mean)),
             title=f"7.5 {kind} MLP, one block deleted ({len(drops)} seeds, range)")
    bars.legend()
    hist.hist(pooled, bins=np.arange(DEEP + 2) - 0.5, color="tab:blue" if residual else "tab:red")
    hist.set(xlabel="blocks deleted together, prediction unchanged (greedy)", ylabel="test samples (all seeds)",
             title="per-sample removable blocks")
    hist.xaxis.set_major_locator(MaxNLocator(integer=True))   # a count of blocks
    evidence.save_figure(fig, "block-deletion")
