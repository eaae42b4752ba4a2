"""5.2: critical periods: a deficit early in training does lasting harm, the same deficit later much less."""
from __future__ import annotations

import numpy as np
import torch

from claimcheck import stats
from claimcheck.evidence import Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.memo import measurement
from claimcheck.seeds import derive
from claims.section5.deep_linear import (
    TwoPathwayConfig,
    TwoPathwayLinear,
    blank_view_b,
    squared_error,
    two_view_population,
)
from claims.section5.deficits import MemberBlur, StepDecay, deficit_mask
from fixtures.training import TrainSpec, train
from fixtures.zoo import DataSpec, Recipe
from models.mlp import MLPConfig
from models.stacked import MembersConfig, StackedCrossEntropy

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

ALPHA = 0.01
CONDITIONS = ("none", "early", "late")
# (1) deep linear: pilot (20 seeds, depth 3): shares none 0.51, early 0.18, late 0.38; gap 0.13-0.26;
#     depth 1: every share 0.50 (gap < 0.002).
DLN = dict(dim=8, depth=3, init_scale=0.1, noise=0.1, lr=0.3, steps=2000, deficit=500, late_start=500)
MIN_SHARE_GAP = 0.05
# (2) MLP on MNIST-1D: pilot (5 seeds): early 0.50, late 0.58, none 0.60; late - early 6.4-9.1 points
#     (dz ~ 6; with a constant lr it was 1.1-5.3 points, dz ~ 2.4, hence the decaying schedule).
MLP_EPOCHS, MLP_DEFICIT, MLP_LATE_START, MLP_LR, MLP_DECAY, MLP_BATCH = 30, 10, 10, 3e-3, 0.9, 128
BLUR_SIGMA = 2.0
MIN_ACC_GAP = 0.02     # two accuracy points (20 of the 1,000 test samples): a lasting harm worth the name
RECOVERED_MARGIN = 0.01  # "recovered" = within one point of no blur; pilot: the late blur cost 1.6-3.3 points
REPLICATE = "none, second init"  # the control: no blur from an independent initialization
MLP_CONDITIONS = (*CONDITIONS, REPLICATE)

CARD = Card(
    id="5.2",
    title="Critical periods: an early deficit does lasting harm, the same deficit later much less",
    question="Critical periods are a phenomenon of the effectiveness of regularization over training: "
             "earlier work finds it in the first epochs. For some network, design an experiment that "
             "inspects whether critical periods emerge while it trains.",
    answer="Give the network a deficit for a fixed number of epochs, either at the start or later, then "
           "train it normally, and compare the final models. (1) Deep linear networks with two input "
           "pathways (Kleinman et al. 2024): blanking one view at the start lets the other pathway learn "
           "the task alone; once it has, the blanked pathway gets almost no gradient (a saddle of the "
           "deep product) and stays suppressed long after the view returns, while the same deficit given "
           "after both pathways formed leaves it far stronger (the table gives the final shares). A depth-1 "
           "(convex) network shows no such period: every share ends near 0.50 whatever the history. (2) An "
           "MLP on MNIST-1D with blurred inputs (Achille et al. 2019) and a decaying learning rate: a blur in "
           "the first 10 of 30 epochs leaves a lower final test accuracy than the same blur in epochs 10-20, "
           "although the early blur is followed by 20 normal epochs and the late one by only 10. The late blur "
           "is not harmless, though: it too leaves the network below the no-blur run (see the second test, "
           "a strict xfail), so at this scale the critical period is a matter of degree.",
    method=f"(1) Members = seeds x {{no deficit, early deficit, late deficit}}, trained together; per seed one "
           f"target map W (random orthogonal, d = {DLN['dim']}) and one initialization shared by its three members. "
           f"Population loss (exact, via 3d pseudo-samples) by full-batch gradient descent (lr {DLN['lr']}, "
           f"{DLN['steps']:,} steps); deficit = view b set to 0 during steps [0, {DLN['deficit']}) (early) or "
           f"[{DLN['late_start']}, {DLN['late_start'] + DLN['deficit']}) (late). Outcome: pathway b's share "
           f"||P_b|| / (||P_a|| + ||P_b||) at the end. Asserted (depth {DLN['depth']}): late share - early share > "
           f"{MIN_SHARE_GAP} (one-sided paired t-test). (2) Per seed, MLP 40-128-128-10 members {{no blur, early "
           f"blur, late blur}} from one initialization and one batch order, Adam {MLP_LR:g} decayed x{MLP_DECAY} per "
           f"epoch, batch {MLP_BATCH}, {MLP_EPOCHS} epochs (never fewer); deficit = Gaussian blur (sigma "
           f"{BLUR_SIGMA:g} samples) of the input during epochs [0, {MLP_DEFICIT}) or [{MLP_LATE_START}, "
           f"{MLP_LATE_START + MLP_DEFICIT}). Asserted: late - early and no blur - early final test accuracy > "
           f"{MIN_ACC_GAP} (one-sided paired t-tests). Second test: the late blur is recovered from, i.e. "
           f"non-inferior to no blur within {RECOVERED_MARGIN} (one point). All on sequential seeds, alpha {ALPHA}.",
    control=f"(1) The same deficits and assertion in a depth-1 pathway network, trained the same way (convex: no "
            f"critical period possible, the gap must vanish). This is a null of the mechanism, not of the noise: "
            f"the convex problem has one optimum whatever the target and the start, so its shares hardly vary "
            f"between seeds. (2) A fourth member per seed, trained without blur "
            f"from an independent initialization (same batch order): 'no blur - second no-blur run > {MIN_ACC_GAP}' "
            f"is the same test on the seed-to-seed noise of two unblurred runs and must not be supported.",
)


def seeded_pathways(seeds: list[int], depth: int) -> tuple[torch.Tensor, TwoPathwayLinear]:
    """Per seed, its own target map W and initialization (seed i's values do not depend on the other seeds):
    targets (seeds, d, d) and one network whose members are seeds x CONDITIONS (a seed's conditions share
    its initialization)."""
    d, copies = DLN["dim"], len(CONDITIONS)
    targets, inits = [], []
    for s in seeds:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derive(s, "dln", depth))
            targets.append(torch.linalg.qr(torch.randn(d, d))[0])
            inits.append(TwoPathwayConfig(d, depth, 1, DLN["init_scale"]).build())
    model = TwoPathwayConfig(d, depth, len(seeds) * copies, DLN["init_scale"]).build()
    with torch.no_grad():
        for i, p in enumerate([*model.a, *model.b]):
            p.copy_(torch.cat([[*one.a, *one.b][i] for one in inits]).repeat_interleave(copies, 0))
    return torch.stack(targets), model


@measurement
def pathway_shares(zoo, profile, seeds: list[int], depth: int) -> np.ndarray:
    """Pathway b's final share, shape (seeds, conditions), the seeds' networks trained together by full-batch
    gradient descent (the zoo only caches the result)."""
    steps, deficit, late = (profile.epochs(DLN[k]) for k in ("steps", "deficit", "late_start"))
    targets, model = seeded_pathways(seeds, depth)
    data = two_view_population(targets.repeat_interleave(len(CONDITIONS), 0), noise=DLN["noise"])
    blanked = deficit_mask(list(CONDITIONS) * len(seeds), 0, deficit, late)
    train(model, data, TrainSpec(epochs=steps, lr=DLN["lr"], batch_size=len(data.x_train), optimizer="sgd",
                                 momentum=0.0), seed=derive(seeds[0], "dln-batches"), loss_fn=squared_error,
          batch_transform=blank_view_b(blanked, DLN["dim"]))
    return model.pathway_b_share().view(len(seeds), len(CONDITIONS)).numpy()


@claim(CARD)
def test_an_early_deficit_suppresses_a_pathway_of_a_deep_linear_network_for_good(arm, evidence, zoo):
    depth = DLN["depth"] if arm == "claim" else 1

    def shares(seeds: list[int]) -> dict[str, list]:
        got = pathway_shares(zoo, evidence.profile, seeds, depth)
        return {c: got[:, i].tolist() for i, c in enumerate(CONDITIONS)}

    per_seed = evidence.per_seed(shares)
    evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        v["late"], v["early"], min_effect=MIN_SHARE_GAP, alpha=ALPHA,
        labels=("share after a late deficit", "share after an early deficit"),
        name=f"depth {depth}: the blanked pathway's final share is lower when the deficit came early"))
    v = per_seed.upto(len(per_seed.seeds))
    evidence.table(f"Pathway b's final share ||P_b|| / (||P_a|| + ||P_b||), depth {depth}", ["seed", *CONDITIONS],
                   [[s, *(v[c][i] for c in CONDITIONS)] for i, s in enumerate(per_seed.seeds)])


def blur_recipe(zoo, profile) -> Recipe:
    """Per seed, MLP members MLP_CONDITIONS trained together with one batch order: the no-blur, early and late
    members share the first initialization, the replicate starts from the second."""
    # never below the standard schedule: at half length (smoke) the gap was 3.7 points at p = 0.024
    epochs, deficit, late = (max(v, profile.epochs(v)) for v in (MLP_EPOCHS, MLP_DEFICIT, MLP_LATE_START))
    steps_per_epoch = -(-len(zoo.data(DataSpec("mnist1d"), 0).y_train) // MLP_BATCH)
    arch = MembersConfig(MLPConfig(40, (128, 128), 10), tuple(int(c == REPLICATE) for c in MLP_CONDITIONS))
    return Recipe(arch=arch,
                  data=DataSpec("mnist1d"), train=TrainSpec(epochs=epochs, lr=MLP_LR, batch_size=MLP_BATCH),
                  loss=StackedCrossEntropy(), lr_schedule=StepDecay(MLP_LR, MLP_DECAY, steps_per_epoch),
                  augment=MemberBlur(MLP_CONDITIONS, BLUR_SIGMA, deficit, late))


@measurement
def blur_accuracies(zoo, profile, seed: int) -> list[float]:
    """Final MNIST-1D test accuracy of each member (MLP_CONDITIONS) of `seed`."""
    trained = zoo.trained(blur_recipe(zoo, profile), seed)
    with torch.no_grad():
        logits = trained.model(trained.data.x_test)
    return (logits.argmax(-1) == trained.data.y_test).float().mean(1).tolist()


def blur_per_seed(evidence, zoo):
    """Per-seed final test accuracy of every MLP member (both MLP tests share these runs)."""
    def measure(seeds: list[int]) -> dict[str, list]:
        rows = [blur_accuracies(zoo, evidence.profile, s) for s in seeds]
        return {c: [r[i] for r in rows] for i, c in enumerate(MLP_CONDITIONS)}
    return evidence.per_seed(measure)


@claim(CARD)
def test_an_early_input_blur_costs_an_mlp_more_accuracy_than_the_same_blur_later(arm, evidence, zoo):
    per_seed = blur_per_seed(evidence, zoo)
    if arm == "claim":
        for better, label in (("late", "the same blur later"), ("none", "no blur")):
            evidence.check_over_seeds(per_seed, lambda v, better=better, label=label: stats.paired_greater(
                v[better], v["early"], min_effect=MIN_ACC_GAP, alpha=ALPHA,
                labels=(f"accuracy, {better}", "accuracy, early blur"),
                name=f"an early blur leaves a final test accuracy more than {MIN_ACC_GAP:.0%} below {label}"))
    else:
        evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
            v["none"], v[REPLICATE], min_effect=MIN_ACC_GAP, alpha=ALPHA,
            labels=("accuracy, no blur", f"accuracy, {REPLICATE}"),
            name=f"a no-blur run's final test accuracy exceeds an independent no-blur run's by {MIN_ACC_GAP:.0%}"))
    _blur_report(evidence, per_seed, figure=True)


@claim(CARD, control=False, xfail_claim="a late blur is not fully recovered from at this scale: the late-blur "
                                        "members end below their no-blur twins by more than the one-point margin "
                                        "on average, with only the last 10 epochs, at a decayed learning rate, "
                                        "left to recover")
def test_an_mlp_recovers_from_a_late_input_blur(arm, evidence, zoo):
    per_seed = blur_per_seed(evidence, zoo)
    evidence.check_over_seeds(per_seed, lambda v: stats.non_inferior(
        v["late"], v["none"], margin=RECOVERED_MARGIN, alpha=ALPHA,
        labels=("accuracy, late blur", "accuracy, no blur"),
        name=f"a late blur is recovered from (final test accuracy within {RECOVERED_MARGIN:.0%} of no blur)"))
    _blur_report(evidence, per_seed, figure=False)


def _blur_report(evidence, per_seed, *, figure: bool) -> None:
    v = per_seed.upto(len(per_seed.seeds))
    acc = np.array([v[c] for c in MLP_CONDITIONS]).T      # (seeds, conditions)
    evidence.table("Final MNIST-1D test accuracy", ["seed", *MLP_CONDITIONS],
                   [[s, *r] for s, r in zip(per_seed.seeds, acc.tolist())])
    if figure:
        _blur_figure(evidence, acc)


def _blur_figure(evidence, acc: np.ndarray) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for row in acc:
        ax.plot(range(len(MLP_CONDITIONS)), row, color="grey", alpha=0.5, marker="o")
    ax.plot(range(len(MLP_CONDITIONS)), acc.mean(0), color="tab:red", lw=2.5, marker="o", label="mean")
    ax.set_xticks(range(len(MLP_CONDITIONS)), ["no blur", f"blur epochs 0-{MLP_DEFICIT}",
                                               f"blur epochs {MLP_LATE_START}-{MLP_LATE_START + MLP_DEFICIT}",
                                               "no blur,\nsecond init"])
    ax.set(ylabel="final test accuracy", title=f"5.2 critical period: MLP on MNIST-1D ({len(acc)} seeds)")
    ax.legend()
    evidence.save_figure(fig, "deficit-timing")
