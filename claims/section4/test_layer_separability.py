"""4.4: linear separability across layers, and the tunnel effect (Masarczyk et al. 2023)."""
from __future__ import annotations

import numpy as np

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.memo import measurement
from claims import families
from claims.shared.deep_mlp import DEEP_MLP_DEPTH, DEEP_MLP_EPOCHS, DEEP_MLP_LR, DEEP_MLP_WIDTH
from claims.shared.representations import mlp_features, numerical_rank, ridge_probe_accuracy, untrained_copy
from fixtures.training import evaluate

ALPHA = 0.01
PROBE_ALPHA = 1e-3      # ridge penalty (x n); pilot: 1e-3..1e-1 change accuracies by < 1 point
MIN_RISE = 0.05         # pilot (4 seeds, 40 epochs): second half - layer 1 = +0.09..+0.13 trained,
                        # -0.05..-0.09 untrained

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected
PLATEAU_MARGIN = 0.03   # pilot: best - last layer = 0.00-0.02 trained, 0.07-0.14 untrained
RANK_TOL = 1e-2         # pilot: mean rank of layers 7-12 = 5.8-8.7 trained (single layers 4-11), 15-47 untrained
CHANCE = 0.1
MIN_FIT = 0.5           # trained well: training accuracy more than 0.5 above chance (pilot 0.77-0.81 at 40 epochs;
                        # the former 20 epochs at Adam 1e-3 left it at 0.55-0.58, still rising)

CARD = Card(
    id="4.4",
    budget_s=15,
    title="Linear separability rises over the first layers, then plateaus in a low-rank tunnel",
    question="For some neural network, design an experiment that shows the separability provided by the "
             "internal representations of the different layers.",
    answer="Fit a linear probe on each layer's outputs and measure its test accuracy. In a deep plain MLP "
           "trained on MNIST-1D until it fits its training set, the probe accuracy rises over the first few "
           "layers and then stays flat to the last layer, while the representations' numerical rank collapses "
           "from the layer width to fewer dimensions than there are classes: Masarczyk et al.'s tunnel, where "
           "the deep layers compress but no longer add separability. The same network untrained does the "
           "opposite: its first random layer is the most separable and each further layer loses accuracy, with "
           "a rank that stays well above the number of classes. The table gives the measured per-layer values.",
    method=f"Per seed of the shared deep MLP family ({DEEP_MLP_DEPTH} x {DEEP_MLP_WIDTH}, MNIST-1D, "
           f"{DEEP_MLP_EPOCHS} epochs of Adam {DEEP_MLP_LR:g}, never fewer, batch 128): every hidden layer's "
           f"output (after "
           f"ReLU) on the 4,000 training and 1,000 test signals; a linear probe = ridge regression on one-hot "
           f"labels (closed form, float64, standardized features, penalty {PROBE_ALPHA:g} x n) with argmax "
           f"prediction; numerical rank = number of singular values of the centred test representation above "
           f"{RANK_TOL:g} x the largest. Asserted on sequential seeds (at least 5 at the first look), alpha "
           f"{ALPHA}, about the median seed: its probe accuracy averaged over the second half of the layers exceeds "
           f"layer 1's by more than {MIN_RISE} (paired sign test over seeds); its last layer is within "
           f"+/-{PLATEAU_MARGIN} of its best layer (sign TOST); its numerical rank averaged over the second-half "
           f"layers is below the number of classes (sign test over seeds); and, as a check that the net is "
           f"trained well, its training accuracy is more than {MIN_FIT} above chance (sign test over seeds).",
    control="No realistic null exists: the tunnel is what training on the task does to a deep net's layers, and "
            "no network trained as well lacks it by construction. The control is a labelled sanity check: the "
            "same three measurements on each network's checkpoint 0 (untrained); all three must fail.",
)


def probe_curve(model, data) -> tuple[list[float], list[int]]:
    """Probe accuracy and numerical rank for the input (index 0) and every hidden layer."""
    train, test = mlp_features(model, data)
    y_train, y_test = data.y_train.numpy(), data.y_test.numpy()
    accs = [ridge_probe_accuracy(a, y_train, b, y_test, alpha=PROBE_ALPHA, num_classes=data.num_classes)
            for a, b in zip(train, test)]
    return accs, [numerical_rank(b, rel_tol=RANK_TOL) for b in test]


@measurement
def probe_curves(zoo, recipe, seeds) -> dict[str, list]:
    """Per network of the family (a look's seeds, trained together): probe accuracy and numerical rank per layer
    (index 0 = input), trained and at checkpoint 0, and the trained net's training and test accuracy."""
    out: dict[str, list] = {}
    for t in zoo.trained_many(recipe, seeds):
        for state, model in (("trained", t.model), ("untrained", untrained_copy(recipe, t))):
            accs, ranks = probe_curve(model, t.data)
            out.setdefault(f"accuracy {state}", []).append(accs)
            out.setdefault(f"rank {state}", []).append(ranks)
        for split in ("train", "test"):
            x, y = getattr(t.data, f"x_{split}"), getattr(t.data, f"y_{split}")
            out.setdefault(f"{split} accuracy", []).append(evaluate(t.model, x, y)[1])
    return out


def hidden(values: dict, key: str) -> np.ndarray:
    """(seeds, hidden layers) array of a per-layer measurement, the input column dropped."""
    return np.array(values[key], dtype=float)[:, 1:]


@claim(CARD)
def test_probe_accuracy_rises_then_plateaus_while_rank_collapses_in_a_deep_mlp(arm, evidence, zoo):
    recipe = families.DEEP_MLP.recipe(evidence.profile)
    classes = recipe.arch.num_classes
    state = "trained" if arm is Arm.CLAIM else "untrained"
    what = state if arm is Arm.CLAIM else "sanity check, untrained"
    per_seed = evidence.per_seed(lambda seeds: probe_curves(zoo, recipe, seeds), family=families.DEEP_MLP)
    half = DEEP_MLP_DEPTH // 2
    expect = None if arm is Arm.CLAIM else False

    def rise(v):
        accs = hidden(v, f"accuracy {state}")
        return stats.paired_greater(accs[:, half:].mean(1), accs[:, 0], min_effect=MIN_RISE, alpha=ALPHA,
                                    labels=("second half", "layer 1"),
                                    name=f"{what}: probe accuracy rises from layer 1 to the deep layers")

    def plateau(v):
        accs = hidden(v, f"accuracy {state}")
        return stats.equivalent(accs.max(1) - accs[:, -1], reference=0.0, margin=PLATEAU_MARGIN, alpha=ALPHA,
                                label="best - last layer",
                                name=f"{what}: the last layer is as separable as the best one (plateau)")

    def low_rank(v):
        deep_rank = hidden(v, f"rank {state}")[:, half:].mean(1)
        return stats.greater_than(classes - deep_rank, reference=0.0, min_effect=0.0, alpha=ALPHA,
                                  label=f"{classes} - mean rank of layers {half + 1}-{DEEP_MLP_DEPTH}",
                                  name=f"{what}: the deep layers' mean numerical rank is below the number of "
                                       f"classes ({classes})")
    decisions = [evidence.check_over_seeds(per_seed, test, expect=expect) for test in (rise, plateau, low_rank)]
    if arm is Arm.CLAIM:
        decisions.append(evidence.check_over_seeds(per_seed, lambda v: stats.greater_than(
            v["train accuracy"], reference=CHANCE, min_effect=MIN_FIT, alpha=ALPHA, label="training accuracy",
            name=f"the deep MLP is trained well: training accuracy more than {MIN_FIT} above chance"), expect=True))
    seeds, values = per_seed.used_by(*decisions)
    _table(evidence, values, state, len(seeds))
    evidence.record_value("model seeds", seeds)
    if arm is Arm.CLAIM:
        _plot(evidence, values, len(seeds))


def _table(evidence, values: dict, state: str, n: int) -> None:
    accs, ranks = np.array(values[f"accuracy {state}"]), np.array(values[f"rank {state}"])
    evidence.table(f"Mean over {n} seeds, {state} network (training accuracy {np.mean(values['train accuracy']):.3f}, "
                   f"test accuracy {np.mean(values['test accuracy']):.3f} when trained)",
                   ["layer", "probe accuracy", "numerical rank"],
                   [["input" if j == 0 else j, float(accs[:, j].mean()), float(ranks[:, j].mean())]
                    for j in range(accs.shape[1])])


def _plot(evidence, values: dict, n: int) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for state, color in (("trained", "tab:blue"), ("untrained", "tab:orange")):
        accs, ranks = np.array(values[f"accuracy {state}"]), np.array(values[f"rank {state}"])
        depth = np.arange(accs.shape[1])
        for a, r in zip(accs, ranks):
            left.plot(depth, a, color=color, alpha=0.25, lw=1)
            right.plot(depth, r, color=color, alpha=0.25, lw=1)
        left.plot(depth, accs.mean(0), color=color, lw=2.2, marker="o", ms=3, label=f"{state} (mean)")
        right.plot(depth, ranks.mean(0), color=color, lw=2.2, marker="o", ms=3, label=f"{state} (mean)")
    right.axhline(10, color="grey", ls=":", label="number of classes")
    labels = ["in"] + [str(j) for j in range(1, accs.shape[1])]
    for ax in (left, right):
        ax.set_xticks(depth, labels)
        ax.set_xlabel("layer (0 = input)")
        ax.legend(fontsize=8)
    left.set(ylabel="linear probe test accuracy", title="separability per layer")
    right.set(ylabel=f"numerical rank (tol {RANK_TOL})", title="rank of the representation", yscale="log")
    fig.suptitle(f"4.4 tunnel effect: {DEEP_MLP_DEPTH} x {DEEP_MLP_WIDTH} MLP on MNIST-1D ({n} seeds)")
    evidence.save_figure(fig, "probe-accuracy-vs-depth")
