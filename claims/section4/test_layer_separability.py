"""4.4: linear separability across layers, and the tunnel effect (Masarczyk et al. 2023)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from claimcheck import stats
from claimcheck.evidence import Card, claim
from claims.section4.recipes import deep_mlp_recipe, family_seeds, trained_family
from claims.section4.representations import mlp_features, numerical_rank, ridge_probe_accuracy, untrained_copy
from fixtures.measurements import measurement

CARD = Card(
    id="4.4",
    title="Linear separability rises over the first layers, then plateaus in a low-rank tunnel",
    question="For some neural network, design an experiment that shows the separability provided by the "
             "internal representations of the different layers.",
    answer="Fit a linear probe on each layer's outputs and measure its test accuracy. In a deep plain MLP "
           "trained on MNIST-1D (12 hidden layers of 64) the probe accuracy rises from 0.37 at layer 1 to "
           "0.47 at layer 4 and then stays flat to the last layer (0.48), while the representations' "
           "numerical rank collapses from 64 to 5-9, fewer dimensions than there are classes: Masarczyk et "
           "al.'s tunnel, where the deep layers compress but no longer add separability. The same network "
           "untrained does the opposite: its first random layer is the most separable (0.34) and each "
           "further layer loses accuracy (0.24 at layer 12) while the rank decays only to 17-33.",
    method="Per seed of the shared deep MLP family (12 x 64, MNIST-1D, 20 epochs of Adam): every hidden "
           "layer's output (after ReLU) on the 4,000 training and 1,000 test signals; a linear probe = "
           "ridge regression on one-hot labels (closed form, float64, standardized features, alpha "
           "PROBE_ALPHA) with argmax prediction; numerical rank = number of singular values of the centred "
           "test representation above RANK_TOL x the largest. Asserted (paired over seeds): the mean probe "
           "accuracy of the second half of the layers exceeds layer 1's by MIN_RISE; the last layer is "
           "within PLATEAU_MARGIN of the best layer (TOST); every second-half layer has numerical rank <= "
           "the number of classes in every seed.",
    control="The same measurements on each network's checkpoint 0 (untrained): all three must fail.",
)
ALPHA = 0.01
PROBE_ALPHA = 1e-3      # ridge penalty (x n); pilot: 1e-3..1e-1 change accuracies by < 1 point
MIN_RISE = 0.05         # pilot (5 seeds): second half - layer 1 = +0.09..+0.12 trained, -0.05..-0.09 untrained
PLATEAU_MARGIN = 0.03   # pilot: best - last layer = 0.000-0.010 trained, 0.07-0.14 untrained
RANK_TOL = 1e-2         # pilot: second-half ranks 5-8 trained, 15-47 untrained (10 classes)
FAMILY = "mnist1d-deep-mlp"


def probe_curve(model, data) -> tuple[list[float], list[int]]:
    """Probe accuracy and numerical rank for the input (index 0) and every hidden layer."""
    train, test = mlp_features(model, data)
    y_train, y_test = data.y_train.numpy(), data.y_test.numpy()
    accs = [ridge_probe_accuracy(a, y_train, b, y_test, alpha=PROBE_ALPHA, num_classes=data.num_classes)
            for a, b in zip(train, test)]
    return accs, [numerical_rank(b, rel_tol=RANK_TOL) for b in test]


@measurement
def probe_curves(zoo, recipe, seeds, trained: bool) -> list[tuple[list[float], list[int]]]:
    """probe_curve of each network of the family, trained or (trained=False) at its checkpoint 0."""
    nets = trained_family(zoo, recipe, seeds)
    return [probe_curve(t.model if trained else untrained_copy(recipe, t), t.data) for t in nets]


@claim(CARD)
def test_probe_accuracy_rises_then_plateaus_while_rank_collapses_in_a_deep_mlp(arm, evidence, zoo):
    recipe, seeds = deep_mlp_recipe(evidence.profile), family_seeds(evidence, FAMILY)
    data = zoo.data(recipe.data, seeds[0])
    curves = {"untrained": probe_curves(zoo, recipe, seeds, trained=False)}
    if arm == "claim":  # the figure shows both; the control arm measures the untrained nets only
        curves = {"trained": probe_curves(zoo, recipe, seeds, trained=True), **curves}
    which = "trained" if arm == "claim" else "untrained"
    accs = np.array([c[0] for c in curves[which]])[:, 1:]      # (seeds, hidden layers)
    ranks = np.array([c[1] for c in curves[which]])[:, 1:]
    half = accs.shape[1] // 2
    evidence.measure("model seeds", seeds)
    evidence.measure("probe accuracy (seed x [input, layers])", [c[0] for c in curves[which]])
    evidence.measure("numerical rank (seed x [input, layers])", [c[1] for c in curves[which]])
    evidence.check(stats.paired_greater(
        accs[:, half:].mean(1), accs[:, 0], min_effect=MIN_RISE, alpha=ALPHA, seeds=seeds,
        labels=("second half", "layer 1"), name=f"{which}: probe accuracy rises from layer 1 to the deep layers"))
    evidence.check(stats.equivalent(
        accs.max(1) - accs[:, -1], reference=0.0, margin=PLATEAU_MARGIN, alpha=ALPHA, seeds=seeds,
        label="best - last layer", name=f"{which}: the last layer is as separable as the best one (plateau)"))
    classes = data.num_classes
    evidence.check(stats.holds_in_every_case(
        (ranks[:, half:] <= classes).all(1), seeds=seeds,
        values={"max rank in the second half": ranks[:, half:].max(1).tolist()},
        name=f"{which}: the deep layers' numerical rank is at most the number of classes ({classes})"))
    evidence.table(f"Mean over {len(seeds)} seeds, {which} network", ["layer", "probe accuracy", "numerical rank"],
                   [["input", float(np.mean([c[0][0] for c in curves[which]])), int(data.in_features)]]
                   + [[j + 1, float(accs[:, j].mean()), float(ranks[:, j].mean())] for j in range(accs.shape[1])])
    if arm == "claim":
        _plot(evidence, curves)


def _plot(evidence, curves: dict) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for (name, runs), color in zip(curves.items(), ("tab:blue", "tab:orange")):
        accs, ranks = np.array([r[0] for r in runs]), np.array([r[1] for r in runs])
        depth = np.arange(accs.shape[1])
        for a, r in zip(accs, ranks):
            left.plot(depth, a, color=color, alpha=0.25, lw=1)
            right.plot(depth, r, color=color, alpha=0.25, lw=1)
        left.plot(depth, accs.mean(0), color=color, lw=2.2, marker="o", ms=3, label=f"{name} (mean)")
        right.plot(depth, ranks.mean(0), color=color, lw=2.2, marker="o", ms=3, label=f"{name} (mean)")
    right.axhline(10, color="grey", ls=":", label="number of classes")
    labels = ["in"] + [str(j) for j in range(1, accs.shape[1])]
    for ax in (left, right):
        ax.set_xticks(depth, labels)
        ax.set_xlabel("layer (0 = input)")
        ax.legend(fontsize=8)
    left.set(ylabel="linear probe test accuracy", title="separability per layer")
    right.set(ylabel=f"numerical rank (tol {RANK_TOL})", title="rank of the representation", yscale="log")
    fig.suptitle(f"4.4 tunnel effect: 12 x 64 MLP on MNIST-1D ({len(curves['trained'])} seeds)")
    evidence.save_figure(fig, "probe-accuracy-vs-depth")
