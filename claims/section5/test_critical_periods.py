"""5.2: critical periods: a deficit early in training does lasting harm, the same deficit later does not."""
from __future__ import annotations

import numpy as np
import torch

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
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
from claims.section5.deficits import deficit_mask
from claims.section5.windows import (
    ALWAYS,
    EARLY,
    LATE,
    NONE,
    REPLICATE,
    blurred,
    member_runs,
    regularization_timing,
    window_sweep,
)
from fixtures.training import TrainSpec, train

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

ALPHA = 0.01
CONDITIONS = ("none", "early", "late")
# (1) deep linear: pilot (20 seeds, depth 3): shares none 0.51, early 0.18, late 0.38; gap 0.13-0.26;
#     depth 1: every share 0.50 (gap < 0.002). The same steps at every scale (only the seeds change): the schedule
#     defines the experiment (how long after the deficit the shares are read). Scaled with the profile (4,000 steps,
#     deficits of 1,000: paper before this was fixed) the early-deficit pathway had recovered most of the way:
#     early 0.31-0.36, late 0.39-0.44, gap 0.067 (dz 0.53, 40 seeds, replayed pass rate 0.66).
DLN = dict(dim=8, depth=3, init_scale=0.1, noise=0.1, lr=0.3, steps=2000, deficit=500, late_start=500)
MIN_SHARE_GAP = 0.05
# (2) MNIST-1D's reference CNN (the mnist1d package's, at 16 channels: 25 cost 1.9x as much, and 16 reproduced its
#     pattern in a /tmp pilot: harms 4.9, 1.4, 0.0 points at starts 0/15/30, 1 seed), blur windows of 10 epochs at
#     several starts, each followed by 30 clean epochs and compared with no blur at that same epoch (windows.py).
#     The same protocol at every scale (only the seeds change): at half length (5-epoch windows, 15 clean epochs,
#     x0.94 per epoch) the latest window still cost 1.2-2.3 points (/tmp pilot, 1 seed at 12 and 25 channels).
STARTS, WINDOW, RECOVERY, CHANNELS = (0, 15, 30), 10, 30, 16
SWEEP = window_sweep(STARTS, WINDOW, RECOVERY, channels=CHANNELS)   # Adam 1e-2 x 0.97 per epoch, batch 128
# Pilot of this protocol (seed base 20260527, 10 seeds): harm (no blur - window) +3.5 +/- 1.4, +0.6 +/- 0.5,
# -0.2 +/- 0.4 points at starts 0/15/30; per-seed slope -0.12 +/- 0.04 points per epoch of start. With starts
# 0/10/20 the window at 20 cost +0.3 +/- 0.6 points and its recovery check needed 15 seeds, hence the start at 30.
MIN_EARLY_HARM = 0.01    # a lasting harm of more than one point (pilot +3.5 +/- 1.4: p = 2e-4 at 10 seeds)
MIN_DROP = 0.0002        # the harm falls by more than 0.02 points per epoch of start, 0.6 points over the sweep
                         # (pilot slope 0.12 +/- 0.04 points per epoch: p = 2e-4 at 10 seeds; under seed base 1 it
                         # was 0.11 +/- 0.07, and at 0.05 points per epoch the check needed 15 seeds, p = 0.0019
                         # against 0.002 at standard and against 0.003 at smoke's last look)
RECOVERED_MARGIN = 0.01  # recovered = within one point of no blur (pilot -0.2 +/- 0.4 at 30: p = 2e-4 at 5 seeds)
# (3) Golatkar et al.: random circular shifts of +/-4 samples never, always, only in epochs [0, 20) or only from 20
#     on; 60 epochs of SGD (momentum 0.9) from 0.05 x 0.97 per epoch, their optimizer and schedule, a separate run.
#     Pilot (15 seeds): final accuracy never 88.8 +/- 0.7, only early 89.3 +/- 0.8, only late 90.6 +/- 0.6, always
#     90.5 +/- 0.9 %. An Adam run (25 channels, 70 epochs, switch at 10, 1 seed) and an SGD run at 25 channels
#     (switch at 10 and 20, 1 seed) showed the same order: only late ~ always, only early far below.
TIMING_SWITCH = 20
TIMING = regularization_timing(switch=TIMING_SWITCH, epochs=60, optimizer="sgd", lr=0.05, channels=CHANNELS)
TIMING_MARGIN = 0.01     # within one point; the gain of always over never is 1.7 points (pilot: late - always
                         # +0.1 +/- 0.7, p = 3e-5 at 15 seeds, 0.0014 at 10)
# 'Only early ~ always' is not asserted: within one point of always under seed bases 1 and 2 (-0.7, -0.5 points,
# 15 seeds each), not under the default (-1.3 +/- 0.7, 10 seeds): a strict xfail flipped in the stability sweep. The
# timing table reports it.
XFAIL_LATE = ("shifts only from epoch 20 on are not ~ never: 90.3 % against 88.5 % with no shifts (+1.9 +/- 0.8 "
              "points, 5 seeds); they do as much as shifts throughout (the first test of this group)")

CARD = Card(
    id="5.2",
    budget_s=280,
    title="Critical periods: an early deficit does lasting harm, the same deficit later does not",
    question="Critical periods are a phenomenon of the effectiveness of regularization over training: "
             "earlier work finds it in the first epochs. For some network, design an experiment that "
             "inspects whether critical periods emerge while it trains.",
    answer="Give the network a deficit during a window of epochs, at the start or later, follow every window "
           "with the same normal training, and compare each final model with the network trained as long without "
           "it. (1) Deep linear networks with two input pathways (Kleinman et al. 2024): blanking one view at the "
           "start lets the other pathway learn the task alone; once it has, the blanked pathway gets almost no "
           "gradient (a saddle of the deep product) and stays suppressed long after the view returns, while the "
           "same deficit given after both pathways formed leaves it far stronger (the table gives the final "
           "shares). Suppressed is not lost: with twice the steps after the deficit the pathway regains most of "
           "its share (measured once: early 0.31-0.36 against late 0.39-0.44), so the test reads the shares at "
           "a fixed step at every scale. A depth-1 (convex) network shows no such period: every share ends near "
           "0.50 whatever the "
           "history. (2) Achille et al.'s blur on MNIST-1D's reference CNN: a 10-epoch blur at the start of "
           "training still costs more than a point of test accuracy 30 clean epochs later (measured 3.5 points), "
           "the harm falls with the window's start, and the same blur at epoch 30 is recovered from (within one "
           "point of no blur after the same 30 clean epochs). (3) The exercise's own framing, Golatkar et al.'s "
           "'a regularizer only early ~ always, only late ~ never', does not hold here for random shifts of the "
           "signal trained with the paper's SGD schedule: shifts only after epoch 20 do as much as shifts "
           "throughout (within one point), so 'only late ~ never' is a strict xfail with the numbers. Shifts only "
           "in the first 20 epochs ended 0.5-1.3 points below shifts throughout under three seed bases, on both "
           "sides of the one-point margin: the table reports it, no test asserts it.",
    method=f"(1) Members = seeds x {{no deficit, early deficit, late deficit}}, trained together; per seed one "
           f"target map W (random orthogonal, d = {DLN['dim']}) and one initialization shared by its three members. "
           f"Population loss (exact, via 3d pseudo-samples) by full-batch gradient descent (lr {DLN['lr']}, "
           f"{DLN['steps']:,} steps at every scale); deficit = view b set to 0 during steps [0, {DLN['deficit']}) "
           f"(early) or "
           f"[{DLN['late_start']}, {DLN['late_start'] + DLN['deficit']}) (late). Outcome: pathway b's share "
           f"||P_b|| / (||P_a|| + ||P_b||) at the end. Asserted (depth {DLN['depth']}): late share - early share > "
           f"{MIN_SHARE_GAP} (one-sided paired sign test over seeds). (2) Achille et al.'s protocol with the "
           f"mnist1d package's "
           f"reference CNN (three stride-2 convolutions and a linear layer) at {CHANNELS} channels instead of 25 "
           f"(cost), on MNIST-1D's 4,000 training samples: Adam {SWEEP.lr:g} decayed x{SWEEP.decay} per epoch, batch "
           f"{SWEEP.batch}. Per seed, members from one initialization on one batch order: no blur, and a blur "
           f"(average-pool by {SWEEP.blur_factor}, linear upsampling) during epochs [s, s + {WINDOW}) for s in "
           f"{', '.join(map(str, STARTS))}; so each window member is the no-blur run until s, as if branched from it "
           f"(optimizer state included). Each window is followed by {RECOVERY} clean epochs and compared with no blur "
           f"at that same epoch, on {SWEEP.extra_test:,} test samples generated afresh. Asserted: the median seed's "
           f"least-squares slope of the harm (no blur - window) over s is below -{MIN_DROP * 100:g} points per epoch "
           f"(one-sided sign test over seeds); the window at 0 leaves a harm above {MIN_EARLY_HARM:.0%} (one-sided "
           f"paired sign test); the window at {STARTS[-1]} is within {RECOVERED_MARGIN:.0%} of no blur "
           f"(non-inferiority sign test). "
           f"(3) Golatkar et al.'s framing, a separate run per seed: random circular shifts of +/-{TIMING.max_shift} "
           f"samples never, always, only in epochs [0, {TIMING_SWITCH}) or only from {TIMING_SWITCH} to "
           f"{TIMING.epochs}; SGD (momentum {TIMING.momentum}) from {TIMING.lr:g} decayed x{TIMING.decay} per "
           f"epoch, as in the paper. Asserted: only-late within {TIMING_MARGIN:.0%} of always (non-inferiority "
           f"sign test); "
           f"the exercise's 'only late ~ never' is the same test, a strict xfail. All on sequential seeds, alpha "
           f"{ALPHA}, each about the median seed.",
    control=f"(1) The same deficits and assertion in a depth-1 pathway network, trained the same way (convex: no "
            f"critical period possible, the gap must vanish). This is a null of the mechanism, not of the noise: "
            f"the convex problem has one optimum whatever the target and the start, so its shares hardly vary "
            f"between seeds. (2) The same slope and early-harm tests with every 'window' replaced by a no-blur run "
            f"from an independent initialization (the same batches), measured at the same epochs: the seed-to-seed "
            f"noise with no deficit, which must not be supported; the recovery test applied to the window at "
            f"{STARTS[0]}, which must not be recovered from. (3) The non-inferiority of no shifts to shifts "
            f"throughout, which must fail: the augmentation's gain exceeds the margin.",
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
def pathway_shares(zoo, seeds: list[int], depth: int) -> np.ndarray:
    """Pathway b's final share, shape (seeds, conditions), the seeds' networks trained together by full-batch
    gradient descent (the zoo only caches the result)."""
    steps, deficit, late = (DLN[k] for k in ("steps", "deficit", "late_start"))
    targets, model = seeded_pathways(seeds, depth)
    data = two_view_population(targets.repeat_interleave(len(CONDITIONS), 0), noise=DLN["noise"])
    blanked = deficit_mask(list(CONDITIONS) * len(seeds), 0, deficit, late)
    train(model, data, TrainSpec(epochs=steps, lr=DLN["lr"], batch_size=len(data.x_train), optimizer="sgd",
                                 momentum=0.0), seed=derive(seeds[0], "dln-batches"), loss_fn=squared_error,
          batch_transform=blank_view_b(blanked, DLN["dim"]))
    return model.pathway_b_share().view(len(seeds), len(CONDITIONS)).numpy()


@claim(CARD)
def test_an_early_deficit_suppresses_a_pathway_of_a_deep_linear_network_long_after_it_ends(arm, evidence, zoo):
    depth = DLN["depth"] if arm is Arm.CLAIM else 1

    def shares(seeds: list[int]) -> dict[str, list]:
        got = pathway_shares(zoo, seeds, depth)
        return {c: got[:, i].tolist() for i, c in enumerate(CONDITIONS)}

    per_seed = evidence.per_seed(shares)
    evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        v["late"], v["early"], min_effect=MIN_SHARE_GAP, alpha=ALPHA,
        labels=("share after a late deficit", "share after an early deficit"),
        name=f"depth {depth}: the blanked pathway's final share is lower when the deficit came early"))
    v = per_seed.upto(len(per_seed.seeds))
    evidence.table(f"Pathway b's final share ||P_b|| / (||P_a|| + ||P_b||), depth {depth}", ["seed", *CONDITIONS],
                   [[s, *(v[c][i] for c in CONDITIONS)] for i, s in enumerate(per_seed.seeds)])


def sweep_per_seed(evidence, zoo):
    """Per seed, every value member_runs measures on the extra test samples (all CNN tests share these runs)."""
    def values_for(seeds: list[int]) -> dict[str, list]:
        rows = [member_runs(zoo, SWEEP, s)["acc"] for s in seeds]
        return {k: [r[k] for r in rows] for k in rows[0]}
    return evidence.per_seed(values_for)


def end(start: int) -> int:
    """The epoch at which the window starting at `start`, and no blur for its comparison, are measured."""
    return start + WINDOW + RECOVERY


def harms(v: dict[str, list], arm: Arm) -> np.ndarray:
    """(seeds, starts): accuracy of no deficit minus that of the window starting at each start, both measured at
    the window's end + recovery; in the control the 'window' is an independent run without any deficit."""
    rows = []
    for s in STARTS:
        other = blurred(s) if arm is Arm.CLAIM else REPLICATE
        rows.append(np.subtract(v[f"{NONE}@{end(s)}"], v[f"{other}@{end(s)}"]))
    return np.array(rows).T


def slopes(h: np.ndarray) -> np.ndarray:
    """Per seed, the least-squares slope of the harm over the window's start (accuracy per epoch)."""
    return np.polyfit(np.array(STARTS, dtype=float), h.T, 1)[0]


@claim(CARD)
def test_a_blur_window_harms_the_cnn_less_the_later_it_starts(arm, evidence, zoo):
    per_seed = sweep_per_seed(evidence, zoo)
    what = "blur window" if arm is Arm.CLAIM else "independent no-blur run (control)"
    first, end0 = STARTS[0], end(STARTS[0])
    other0 = blurred(first) if arm is Arm.CLAIM else REPLICATE
    evidence.check_over_seeds(per_seed, lambda v: stats.greater_than(
        -slopes(harms(v, arm)), reference=0.0, min_effect=MIN_DROP, alpha=ALPHA, label="-slope of harm over start",
        name=f"the harm of a {what} falls with its start by more than {MIN_DROP * 100:g} points per epoch"))
    evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        v[f"{NONE}@{end0}"], v[f"{other0}@{end0}"], min_effect=MIN_EARLY_HARM, alpha=ALPHA,
        labels=(f"accuracy, no blur, epoch {end0}", f"accuracy, {other0}"),
        name=f"the {what} at epoch {first} leaves a lasting harm of more than {MIN_EARLY_HARM:.0%} "
             f"after {RECOVERY} clean epochs"))
    h = harms(per_seed.upto(len(per_seed.seeds)), arm)
    evidence.table(f"Harm (no blur - {what}, accuracy points) by window start",
                   ["seed", *(f"start {s}" for s in STARTS)],
                   [[s, *(100 * h[i]).round(2).tolist()] for i, s in enumerate(per_seed.seeds)])
    _harm_figure(evidence, h, what)


@claim(CARD)
def test_the_cnn_recovers_from_the_latest_blur_window(arm, evidence, zoo):
    per_seed = sweep_per_seed(evidence, zoo)
    start = STARTS[-1] if arm is Arm.CLAIM else STARTS[0]
    stop, which = end(start), "latest" if arm is Arm.CLAIM else "earliest (control)"
    evidence.check_over_seeds(per_seed, lambda v: stats.non_inferior(
        v[f"{blurred(start)}@{stop}"], v[f"{NONE}@{stop}"], margin=RECOVERED_MARGIN, alpha=ALPHA,
        labels=(f"accuracy, {blurred(start)}", f"accuracy, no blur, epoch {stop}"),
        name=f"the {which} blur window (epochs {start}-{start + WINDOW}) is recovered from: "
             f"{RECOVERY} clean epochs later within {RECOVERED_MARGIN:.0%} of no blur"))
    if arm is Arm.CLAIM:
        _curve_figure(evidence, [member_runs(zoo, SWEEP, s) for s in per_seed.seeds])


def timing_per_seed(evidence, zoo):
    """Per seed, the final accuracy of every member of the regularization-timing run."""
    def values_for(seeds: list[int]) -> dict[str, list]:
        rows = [member_runs(zoo, TIMING, s)["acc"] for s in seeds]
        return {name: [r[f"{name}@{TIMING.epochs}"] for r in rows] for name in TIMING.names}
    return evidence.per_seed(values_for)


def _timing_check(evidence, per_seed, better: str, worse: str, what: str) -> None:
    evidence.check_over_seeds(per_seed, lambda v: stats.non_inferior(
        v[better], v[worse], margin=TIMING_MARGIN, alpha=ALPHA, labels=(f"accuracy, {better}", f"accuracy, {worse}"),
        name=f"{what}: final accuracy of '{better}' within {TIMING_MARGIN:.0%} of '{worse}' or above"))
    _timing_report(evidence, per_seed)


@claim(CARD)
def test_shift_augmentation_only_late_does_as_much_as_always(arm, evidence, zoo):
    per_seed = timing_per_seed(evidence, zoo)
    if arm is Arm.CLAIM:
        _timing_check(evidence, per_seed, LATE, ALWAYS, "shifts only from epoch "
                      f"{TIMING_SWITCH} on do as much as shifts throughout")
    else:
        _timing_check(evidence, per_seed, NONE, ALWAYS, "(control) no shifts do as much as shifts throughout")


@claim(CARD, control=False, xfail_claim=XFAIL_LATE)
def test_shift_augmentation_only_late_does_as_little_as_never(arm, evidence, zoo):
    _timing_check(evidence, timing_per_seed(evidence, zoo), NONE, LATE,
                  f"shifts only from epoch {TIMING_SWITCH} on do no more than no shifts (Golatkar et al.)")


def _timing_report(evidence, per_seed) -> None:
    v = per_seed.upto(len(per_seed.seeds))
    names = (NONE, EARLY, LATE, ALWAYS)
    acc = 100 * np.array([v[n] for n in names]).T                    # (seeds, names), points
    gains = (acc[:, 1:] - acc[:, :1]).round(2)                       # over never: early, late, always
    evidence.table(f"Final test accuracy (%) after {TIMING.epochs} epochs of SGD, random shifts of "
                   f"+/-{TIMING.max_shift} samples, and each schedule's gain over no shifts (points)",
                   ["seed", *names, "early gain", "late gain", "always gain"],
                   [[s, *acc[i].round(2).tolist(), *gains[i].tolist()] for i, s in enumerate(per_seed.seeds)])
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for row in acc:
        ax.plot(range(4), row, color="grey", alpha=0.5, marker="o")
    ax.plot(range(4), acc.mean(0), color="tab:red", lw=2.5, marker="o", label=f"mean, {len(acc)} seeds")
    ax.set_xticks(range(4), ["never", f"only epochs\n0-{TIMING_SWITCH}",
                             f"only epochs\n{TIMING_SWITCH}-{TIMING.epochs}", "always"])
    ax.set(ylabel="final test accuracy (%)", title="5.2: when random shifts are applied (Golatkar et al.)")
    ax.legend(fontsize=8)
    evidence.save_figure(fig, "regularization-timing")


def _harm_figure(evidence, h: np.ndarray, what: str) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for row in h:
        ax.plot(STARTS, 100 * row, color="grey", alpha=0.5, marker="o")
    ax.plot(STARTS, 100 * h.mean(0), color="tab:red", lw=2.5, marker="o", label=f"mean, {len(h)} seeds")
    ax.axhline(0, color="black", lw=0.8)
    ax.axhspan(-100 * RECOVERED_MARGIN, 100 * RECOVERED_MARGIN, color="tab:green", alpha=0.12,
               label=f"within {RECOVERED_MARGIN:.0%} of no blur")
    ax.set_xticks(STARTS)
    window = (f"{WINDOW} blurred, then {RECOVERY} clean epochs" if what == "blur window"
              else f"no blur; measured at start + {WINDOW + RECOVERY}")
    ax.set(xlabel=f"window start (epoch; {window})", ylabel=f"no blur - {what.split(' (')[0]}\n(accuracy points)",
           title="5.2: harm by window start, reference CNN on MNIST-1D")
    ax.legend(fontsize=8)
    evidence.save_figure(fig, "harm-by-window-start")


def _curve_figure(evidence, runs: list[dict]) -> None:
    """Mean test accuracy (the data set's own 1,000 test samples) of every member over training."""
    every = SWEEP.curve_every
    epochs = np.arange(every, SWEEP.epochs + 1, every)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    names = [NONE, *(blurred(s) for s in STARTS), REPLICATE]
    for ax, low in zip(axes, (0, 80)):
        for name, color in zip(names, plt.cm.viridis(np.linspace(0, 0.9, len(names)))):
            curve = 100 * np.mean([r["curves"][name] for r in runs], axis=0)
            ax.plot(epochs, curve, color=color, label=name, ls="--" if name == REPLICATE else "-", marker=".")
        for s in STARTS:
            ax.axvspan(s, s + WINDOW, color="grey", alpha=0.1)
        ax.set_ylim(low, 90 if low else 100)
        ax.set(xlabel="epoch (grey: blur windows)", ylabel="test accuracy, clean inputs (%)")
    axes[0].set_title(f"5.2: test accuracy during training, mean of {len(runs)} seeds")
    axes[1].set_title(f"zoomed; the windows are measured at epochs {', '.join(str(end(s)) for s in STARTS)}")
    axes[1].set_xlim(35, SWEEP.epochs + 1)
    axes[0].legend(fontsize=8, loc="lower right")
    evidence.save_figure(fig, "training-curves")
