"""7.4: concatenating every hidden layer into the output layer fights vanishing gradients."""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from claimcheck import stats
from claimcheck.evidence import Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.memo import measurement
from fixtures.training import TrainSpec, evaluate
from fixtures.zoo import DataSpec, Recipe
from models.dense_concat import ConcatMLPConfig, hidden_grad_norms

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

ALPHA = 0.01
DEEP, SHALLOW = 20, 2
WIDTH = 32
EPOCHS = 10
MIN_LOG10_RATIO = 1.0   # pilot (4 seeds): log10 ratio ~4.0-4.3 at depth 20; 0.15-0.2 at depth 2
MIN_LOSS_GAP = 0.5      # pilot: plain 20 stays at 2.303 (chance), concat 0.02-0.06; depth 2: |gap| < 0.02

CARD = Card(
    id="7.4",
    title="Concatenating all hidden layers into the output layer keeps deep MLPs trainable",
    question="Residual nets fight vanishing gradients because the gradient reaches both f(x) and x. Propose an "
             "architecture that connects every hidden layer to the output layer by concatenation (the input of "
             "layer L is the union of y_1..y_{L-1}). What limitations of the point-wise sum does concatenation "
             "mitigate?",
    answer="The head reads [y_1, ..., y_{L-1}] (models/dense_concat.py), so the loss reaches layer i through one "
           "linear map instead of L - i saturating layers: at initialization the first layer of a 20-layer tanh "
           "MLP gets a gradient orders of magnitude larger than in the plain stack (the figure shows every layer's), "
           "and the net trains where the plain one stalls. Compared with the residual sum, concatenation keeps every "
           "layer's features intact and separately weighted (a sum mixes them irreversibly and can cancel them), lets "
           "layers have different widths (a sum forces equal shapes, hence Código 3's mismatch), and lets the head "
           "choose the depth it reads from; the price is a head whose width grows with depth (here 20 x 32 = 640 "
           "inputs).",
    method=f"Digits, tanh MLPs of width {WIDTH} with PyTorch's default init, {DEEP} hidden layers, plain (head reads "
           f"y_L) vs concatenating twin, SGD lr 0.1 (momentum 0.9), batch 64, {EPOCHS} epochs. "
           f"Per seed: the Frobenius norm of dL/dW_1 on the whole training split at initialization, and the "
           f"training cross-entropy after training (whole training split). Asserted on sequential seeds, alpha "
           f"{ALPHA}, one-sided paired t-tests: log10(concat / plain) gradient ratio > {MIN_LOG10_RATIO:g} (ten "
           f"times), and plain - concat training loss > {MIN_LOSS_GAP} nats.",
    control=f"The same two tests at depth {SHALLOW}, trained the same way, where the gradient has no depth to vanish "
            f"through: both nets train and both differences are small, so neither test may be supported.",
)


def recipe(depth: int, concat: bool, profile) -> Recipe:
    return Recipe(arch=ConcatMLPConfig(64, profile.width(WIDTH), depth, 10, concat=concat, activation="tanh"),
                  data=DataSpec("digits"),
                  train=TrainSpec(epochs=profile.epochs(EPOCHS), lr=0.1, batch_size=64, optimizer="sgd"))


@measurement
def gradients_and_training(zoo, recipe, seeds: list[int]) -> dict:
    """Per seed, for `recipe`: "grad_norms" (||dL/dW_i|| of every hidden layer at initialization, whole
    training split), "train_loss" after training (whole training split) and "loss_curve" (per epoch)."""
    out = {"grad_norms": [], "train_loss": [], "loss_curve": []}
    for seed, trained in zip(seeds, zoo.trained_many(recipe, seeds)):
        data = zoo.data(recipe.data, seed)
        out["grad_norms"].append(hidden_grad_norms(zoo.build(recipe, seed), data.x_train, data.y_train))
        out["train_loss"].append(evaluate(trained.model, trained.data.x_train, trained.data.y_train)[0])
        out["loss_curve"].append(trained.history.train_loss)
    return out


@claim(CARD)
def test_concatenating_hidden_layers_into_the_head_keeps_gradients_and_training_alive(arm, evidence, zoo):
    depth = DEEP if arm == "claim" else SHALLOW
    kept = {False: {}, True: {}}   # per variant and seed: gradient norms per layer and the loss curve

    def measure(seeds: list[int]) -> dict[str, list]:
        out = {}
        for concat, name in ((False, "plain"), (True, "concat")):
            m = gradients_and_training(zoo, recipe(depth, concat, evidence.profile), seeds)
            kept[concat].update({s: (g, c) for s, g, c in zip(seeds, m["grad_norms"], m["loss_curve"])})
            out[f"log10 |grad W1| {name}"] = [float(np.log10(g[0])) for g in m["grad_norms"]]
            out[f"train loss {name}"] = m["train_loss"]
        return out

    per_seed = evidence.per_seed(measure)
    evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        v["log10 |grad W1| concat"], v["log10 |grad W1| plain"], min_effect=MIN_LOG10_RATIO, alpha=ALPHA,
        name=f"at init the first layer's gradient is >= 10x larger with concatenation (depth {depth})",
        labels=("log10 |grad W1| concat", "log10 |grad W1| plain")))
    evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        v["train loss plain"], v["train loss concat"], min_effect=MIN_LOSS_GAP, alpha=ALPHA,
        name=f"after training the plain net's loss exceeds the concatenating one's (depth {depth})",
        labels=("train loss plain", "train loss concat")))
    seeds = per_seed.seeds
    _figure(evidence, {c: [kept[c][s][0] for s in seeds] for c in kept},
            {c: [kept[c][s][1] for s in seeds] for c in kept}, depth)


def _figure(evidence, grads: dict, curves: dict, depth: int) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for concat, color in ((False, "tab:red"), (True, "tab:blue")):
        name = "concatenation" if concat else "plain"
        for i, g in enumerate(grads[concat]):
            left.plot(range(1, depth + 1), g, "o-", color=color, alpha=0.6, ms=3, label=name if i == 0 else None)
        for i, c in enumerate(curves[concat]):
            right.plot(range(1, len(c) + 1), c, color=color, alpha=0.6, label=name if i == 0 else None)
    left.set(yscale="log", xlabel="hidden layer (1 = input side)", ylabel="||dL/dW|| at initialization",
             title=f"7.4 gradient reaching each layer, depth {depth}")
    left.xaxis.set_major_locator(MaxNLocator(integer=True))   # layer indices are integers
    right.set(yscale="log", xlabel="epoch", ylabel="running training loss", title="training (SGD 0.1)")
    left.legend()
    right.legend()
    evidence.save_figure(fig, "gradients-and-training")
