"""2.3: over-parameterized networks fit random labels (Zhang et al. 2017)."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from claimcheck import stats
from claimcheck.evidence import Card, claim
from fixtures.training import TrainSpec, evaluate
from fixtures.zoo import DataSpec, Recipe
from models.mlp import MLPConfig, parameter_count

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
    method="1,000 digits (standardized with training statistics), MLP 64-512-512-10, Adam 1e-3, batch 100, trained until 100% training accuracy "
           "(at most MAX_EPOCHS) with true and with permuted labels, per seed. Asserted: the random labels "
           "are fitted in every seed; test accuracy with random labels is chance (binomial TOST pooled "
           "over seeds); fitting random labels is slower (paired t-test on log epoch ratio > 0).",
    control="An under-parameterized MLP (one hidden layer of width 4) gets the same random labels and "
            "epochs: 'fits random labels in every seed' must fail.",
)
ALPHA = 0.01
MAX_EPOCHS = 80        # pilot (standardized inputs): random labels fitted in 35-47 epochs, true in 8-9
N_TRAIN = 1000         # Zhang et al.'s point needs n << parameters: 1,000 samples vs ~300k weights
CHANCE, CHANCE_MARGIN = 0.1, 0.05  # test accuracy within +/-5 pp of chance, pooled over seeds
WIDE, NARROW = (512, 512), (4,)


def recipe(widths: tuple[int, ...], labels: str) -> Recipe:
    return Recipe(arch=MLPConfig(64, widths, 10),
                  data=DataSpec("digits", labels=labels, n_train=N_TRAIN, standardize=True),
                  train=TrainSpec(epochs=MAX_EPOCHS, lr=1e-3, batch_size=100, stop_at_train_acc=1.0))


def epochs_to_fit(history) -> float:
    return float(history.epochs_run) if history.train_acc[-1] >= 1.0 else math.inf


@claim(CARD)
def test_overparameterized_mlp_fits_random_labels_but_not_a_narrow_one(arm, evidence, zoo):
    widths = WIDE if arm == "claim" else NARROW
    shuffled = [zoo.trained(recipe(widths, "shuffled"), s) for s in evidence.seeds]
    fitted = [t.history.train_acc[-1] >= 1.0 for t in shuffled]
    final = [t.history.train_acc[-1] for t in shuffled]
    evidence.note(f"parameters: {parameter_count(shuffled[0].model):,} for {N_TRAIN} training samples")
    evidence.check(stats.holds_in_every_case(
        fitted, seeds=evidence.seeds, values={"final train accuracy": final},
        name=f"MLP {widths} reaches 100% training accuracy on random labels within {MAX_EPOCHS} epochs"))
    if arm == "control":
        _plot(evidence, {"random labels, width 4": shuffled})
        return
    true = [zoo.trained(recipe(widths, "true"), s) for s in evidence.seeds]
    hits = [round(evaluate(t.model, t.data.x_test, t.data.y_test)[1] * len(t.data.y_test)) for t in shuffled]
    n_test = len(shuffled[0].data.y_test)
    evidence.check(stats.one_model_rate_equivalent(
        sum(hits), n_test * len(hits), reference=CHANCE, margin=CHANCE_MARGIN, alpha=ALPHA,
        seeds=evidence.seeds, name="test accuracy after fitting random labels is chance"), expect=True)
    e_rand, e_true = [epochs_to_fit(t.history) for t in shuffled], [epochs_to_fit(t.history) for t in true]
    evidence.check(stats.paired_greater(
        np.log(e_rand), np.log(e_true), min_effect=0.0, alpha=ALPHA, seeds=evidence.seeds,
        name="random labels take longer to fit (log epoch ratio > 0)", labels=("log epochs random", "log epochs true")))
    evidence.table("Epochs to 100% training accuracy", ["seed", "true labels", "random labels", "ratio"],
                   [[s, a, b, b / a] for s, a, b in zip(evidence.seeds, e_true, e_rand)])
    _plot(evidence, {"true labels": true, "random labels": shuffled})


def _plot(evidence, groups: dict) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for (label, runs), color in zip(groups.items(), ("tab:blue", "tab:red")):
        for i, run in enumerate(runs):
            acc = run.history.train_acc
            ax.plot(range(1, len(acc) + 1), acc, color=color, alpha=0.7, label=label if i == 0 else None)
    ax.axhline(0.1, color="grey", ls=":", label="chance")
    ax.set(xlabel="epoch", ylabel="training accuracy", ylim=(0, 1.02),
           title=f"2.3 fitting random labels ({len(runs)} seeds, {N_TRAIN} digits)")
    ax.legend(loc="lower right")
    evidence.save_figure(fig, "training-curves")
