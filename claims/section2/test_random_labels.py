"""2.3: over-parameterized networks fit random labels (Zhang et al. 2017)."""
from __future__ import annotations

import numpy as np

from claimcheck import stats
from claimcheck.evidence import Card, claim
from claimcheck.lazy import LazyModule
from claims import families
from fixtures.training import TrainSpec, evaluate
from fixtures.zoo import DataSpec, Recipe
from models.mlp import MLPConfig, parameter_count

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

ALPHA = 0.01
MAX_EPOCHS = 80        # pilot (standardized inputs): random labels fitted in 34-47 epochs, true in 8-9
N_TRAIN = 1000         # Zhang et al.'s point needs n << parameters: 1,000 samples vs ~300k weights
FIT_MIN_RATE = 0.5     # "fits random labels" = in more than half of the seeds (independent initializations)
FIT_DESIGN_RATE = 0.9  # the rate the test is built to detect (pilot: 5/5 seeds fitted)
CHANCE, CHANCE_MARGIN = 0.1, 0.05  # per-seed test accuracy within +/-5 pp of chance (pilot 7-10%, sd ~1.3 pp)
MIN_LOG_SLOWDOWN = 0.0  # the catalogue asserts the slowdown only as a ratio > 1 (pilot: 4-5x)
WIDE, NARROW = (512, 512), (4,)

CARD = Card(
    id="2.3",
    title="Over-parameterized networks fit random labels",
    question="Design an experiment showing that over-parameterized models can classify data with random "
             "labels. Is this a positive or a negative property of these models?",
    answer="A 64-512-512-10 MLP (300k parameters for 1,000 digits) reaches 100% training accuracy on "
           "randomly permuted labels, only more slowly than on the true labels, while its test accuracy "
           "stays at chance. The capacity to memorize is expressivity, not generalization: it shows that "
           "parameter counts or capacity cannot explain why such networks generalize on real labels, and it "
           "is harmful under label noise (the net memorizes the noise). Neither purely positive nor negative.",
    method=f"{N_TRAIN:,} digits (standardized with training statistics), MLP 64-512-512-10, Adam 1e-3, batch 100, "
           f"trained until 100% training accuracy (at most {MAX_EPOCHS} epochs) with true and with permuted "
           f"labels, per seed. Asserted on sequential seeds (at least {families.RANDOM_LABELS.floor} at the first "
           f"look), alpha {ALPHA}: the random labels are fitted in more than {FIT_MIN_RATE:.0%} of the seeds (exact "
           f"binomial test over seeds, design rate {FIT_DESIGN_RATE:.0%}); the per-seed test accuracy after "
           f"fitting random labels is chance ({CHANCE:g}, TOST over seeds, margin +/-{CHANCE_MARGIN:g}); fitting "
           f"random labels takes more epochs than true labels (one-sided paired t-test on the log epoch ratio > "
           f"{MIN_LOG_SLOWDOWN:g}; a seed that does not fit counts {MAX_EPOCHS} epochs, a lower bound).",
    control=f"An under-parameterized MLP (one hidden layer of width {NARROW[0]}) gets the same random labels and "
            f"{MAX_EPOCHS} epochs: trained as long, it cannot memorize them, and the same 'fits random labels' "
            "test must not be supported.",
)


def recipe(widths: tuple[int, ...], labels: str) -> Recipe:
    return Recipe(arch=MLPConfig(64, widths, 10),
                  data=DataSpec("digits", labels=labels, n_train=N_TRAIN, standardize=True),
                  train=TrainSpec(epochs=MAX_EPOCHS, lr=1e-3, batch_size=100, stop_at_train_acc=1.0))


def fits(zoo, widths: tuple[int, ...], labels: str, seeds: list[int]) -> dict[str, list]:
    """Per seed, the model of `widths` trained on `labels`: whether it fitted them, the epochs it ran (the
    cap when it did not fit), its final training and its test accuracy, and its training-accuracy curve."""
    runs = zoo.trained_many(recipe(widths, labels), seeds)   # stacked where it pays: the narrow MLPs
    return {"fitted": [t.history.train_acc[-1] >= 1.0 for t in runs],
            "epochs": [float(t.history.epochs_run) for t in runs],
            "train accuracy": [t.history.train_acc[-1] for t in runs],
            "test accuracy": [evaluate(t.model, t.data.x_test, t.data.y_test)[1] for t in runs],
            "curve": [t.history.train_acc for t in runs]}


@claim(CARD)
def test_overparameterized_mlp_fits_random_labels_but_not_a_narrow_one(arm, evidence, zoo):
    widths = WIDE if arm == "claim" else NARROW
    labels = ("shuffled", "true") if arm == "claim" else ("shuffled",)

    def measure(seeds: list[int]) -> dict[str, list]:
        return {f"{key} {label}": values for label in labels
                for key, values in fits(zoo, widths, label, seeds).items()}

    per_seed = evidence.per_seed(measure, family=families.RANDOM_LABELS)
    evidence.note(f"parameters: {parameter_count(MLPConfig(64, widths, 10).build()):,} for {N_TRAIN} training samples")
    evidence.check_over_seeds(per_seed, lambda v: stats.rate_over_seeds(
        v["fitted shuffled"], min_rate=FIT_MIN_RATE, design_rate=FIT_DESIGN_RATE, alpha=ALPHA,
        values={"final train accuracy": v["train accuracy shuffled"]},
        name=f"MLP {widths} reaches 100% training accuracy on random labels within {MAX_EPOCHS} epochs "
             f"in more than {FIT_MIN_RATE:.0%} of the seeds"))
    if arm == "claim":
        _check_chance_and_slowdown(evidence, per_seed)
    values = per_seed.upto(len(per_seed.seeds))
    what = "MLP 512-512" if arm == "claim" else f"width {NARROW[0]}"
    _plot(evidence, {f"{'random' if label == 'shuffled' else 'true'} labels, {what}": values[f"curve {label}"]
                     for label in labels})


def _check_chance_and_slowdown(evidence, per_seed) -> None:
    evidence.check_over_seeds(per_seed, lambda v: stats.equivalent(
        v["test accuracy shuffled"], reference=CHANCE, margin=CHANCE_MARGIN, alpha=ALPHA, label="test accuracy",
        name="test accuracy after fitting random labels is chance"), expect=True)
    evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        np.log(v["epochs shuffled"]), np.log(v["epochs true"]), min_effect=MIN_LOG_SLOWDOWN, alpha=ALPHA,
        name="random labels take longer to fit (log epoch ratio > 0)",
        labels=("log epochs random", "log epochs true")))
    values = per_seed.upto(len(per_seed.seeds))
    evidence.table("Epochs to 100% training accuracy", ["seed", "true labels", "random labels", "ratio"],
                   [[s, a, b, b / a] for s, a, b in zip(per_seed.seeds, values["epochs true"],
                                                        values["epochs shuffled"])])


def _plot(evidence, groups: dict[str, list[list[float]]]) -> None:
    seeds = len(next(iter(groups.values())))
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for (label, curves), color in zip(groups.items(), ("tab:red", "tab:blue")):
        for i, acc in enumerate(curves):
            ax.plot(range(1, len(acc) + 1), acc, color=color, alpha=0.7, label=label if i == 0 else None)
    ax.axhline(CHANCE, color="grey", ls=":", label="chance")
    ax.set(xlabel="epoch", ylabel="training accuracy", ylim=(0, 1.02),
           title=f"2.3 fitting random labels ({seeds} seeds, {N_TRAIN} digits)")
    ax.legend(loc="center right")
    evidence.save_figure(fig, "training-curves")
