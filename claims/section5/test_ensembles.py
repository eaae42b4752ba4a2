"""5.1: ensembles regularize: the mean of member probabilities beats the mean member."""
from __future__ import annotations

import numpy as np
from torch.nn import functional as F

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.seeds import derive
from fixtures.training import TrainSpec, predict_logits
from fixtures.zoo import DataSpec, Recipe
from models.mlp import MLPConfig

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

ALPHA = 0.01
ENSEMBLE_SIZE = 5
MIN_NLL_GAIN = 0.02   # nats; pilot (5 ensembles): member 1.10-1.11, ensemble 1.04-1.06 (gain 0.05-0.06)
MIN_ACC_GAIN = 0.005  # half an accuracy point (5 of the 1,000 test samples): a smaller gain would not matter;
                      # pilot: +0.7 to +3.4 points (mean 2.5)
JENSEN_TOL = 1e-6     # float64 log of float32 softmax

CARD = Card(
    id="5.1",
    budget_s=7,
    title="An ensemble of independently trained MLPs beats its average member in NLL and accuracy",
    question="Build a simple neural network and regularize it with an ensemble. Define the ensemble "
             "strategy formally.",
    answer="Train M networks f_1..f_M of the same architecture independently: each from its own random "
           "initialization and with its own minibatch order, on the same training set. The ensemble "
           "predicts p_ens(y | x) = (1/M) sum_m softmax(f_m(x))_y and the class argmax_y p_ens(y | x). "
           "By Jensen's inequality (-log is convex) its negative log-likelihood on every sample is at "
           "most the members' mean NLL: -log (1/M) sum_m p_m <= (1/M) sum_m -log p_m, with equality only "
           "when the members agree. On MNIST-1D an ensemble of five MLPs has a lower test NLL and a higher "
           "test accuracy than its average member (the table gives both per ensemble): the members' errors "
           "are partly independent and averaging cancels them, which is the regularizing effect (lower "
           "variance, no extra training signal).",
    method=f"MNIST-1D (4,000 train / 1,000 test), MLP 40-128-128-10, Adam 3e-3, batch 256, 10 epochs; "
           f"{ENSEMBLE_SIZE} members per ensemble (each its own initialization and batch order), one ensemble "
           f"per seed, a look's members trained at once by the zoo's stacked training. Exact: Jensen's "
           f"inequality on every test sample of every ensemble (tolerance {JENSEN_TOL:g} in float64). "
           f"Statistical, on sequential seeds (ensembles), alpha {ALPHA}, one-sided paired sign tests over "
           f"seeds that, in the median ensemble, mean member test NLL - ensemble test NLL > {MIN_NLL_GAIN} nats, "
           f"and ensemble test accuracy - mean member test accuracy > {MIN_ACC_GAIN} (half a point).",
    control=f"The same two tests with the averaging removed and everything else kept: the 'ensemble' answers each "
            f"test sample with the probabilities of one of its {ENSEMBLE_SIZE} members, drawn at random per sample "
            f"(a mixture of the same trained members). Its expected NLL and accuracy are exactly the mean member's, "
            f"and its difference from the mean member has the claim's noise (the same members, the same test set): "
            f"pilot, standard, 4 seed bases x 30 ensembles, NLL gain -0.003 to +0.001 nats (sd 0.011-0.013; claim "
            f"0.055-0.056, sd 0.004), accuracy gain -0.2 to +0.2 points (sd 0.7-0.9; claim +2.5 to +2.9, sd 0.6-0.8). "
            f"Neither gain may be supported. (One more independently trained network in place of the ensemble is a "
            f"null too, but its single-network spread is 3-8 times the claim's: NLL sd 0.023-0.033, accuracy sd "
            f"1.2-1.7 points.)",
)


def member_recipe(profile) -> Recipe:
    return Recipe(arch=MLPConfig(40, (128, 128), 10), data=DataSpec("mnist1d"),
                  train=TrainSpec(epochs=profile.epochs(10), lr=3e-3, batch_size=256))


def member_seeds(seed: int) -> list[int]:
    """The members of the ensemble of `seed`."""
    return [derive(seed, "member", m) for m in range(ENSEMBLE_SIZE)]


def member_probabilities(trained) -> np.ndarray:
    """Softmax probabilities on the test set, float64, shape (n_test, classes)."""
    logits = predict_logits(trained.model, trained.data.x_test)
    return F.softmax(logits.double(), dim=1).cpu().numpy()


def ensemble_scores(probs: np.ndarray, y: np.ndarray) -> dict[str, object]:
    """probs: (members, n, classes). Per-sample NLLs of the ensemble and of each member, accuracies."""
    rows = np.arange(len(y))
    member_nll = -np.log(probs[:, rows, y])                    # (members, n)
    ensemble = probs.mean(0)                                   # (n, classes)
    ensemble_nll = -np.log(ensemble[rows, y])                  # (n,)
    return {"ensemble_nll_per_sample": ensemble_nll, "mean_member_nll_per_sample": member_nll.mean(0),
            "ensemble_nll": float(ensemble_nll.mean()), "member_nll": float(member_nll.mean()),
            "ensemble_acc": float((ensemble.argmax(1) == y).mean()),
            "member_acc": float((probs.argmax(2) == y).mean())}


def mixture_scores(probs: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
    """The control's 'ensemble' without averaging: each test sample answered by one member, drawn at random per
    sample. probs: (members, n, classes). Its expected NLL and accuracy are the members' mean."""
    rows = np.arange(len(y))
    drawn = np.random.default_rng(derive(seed, "mixture")).integers(0, len(probs), size=len(y))
    answer = probs[drawn, rows]                                 # (n, classes)
    return {"ensemble_nll": float(-np.log(answer[rows, y]).mean()),
            "ensemble_acc": float((answer.argmax(1) == y).mean())}


def probabilities(zoo, recipe: Recipe, seeds: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Test probabilities of the models of `seeds`, trained together: (len(seeds), n, classes), and labels."""
    trained = zoo.trained_many(recipe, seeds)
    return np.array([member_probabilities(t) for t in trained]), trained[0].data.y_test.cpu().numpy()


@claim(CARD)
def test_ensemble_of_independent_members_beats_the_mean_member_in_nll_and_accuracy(arm, evidence, zoo):
    recipe = member_recipe(evidence.profile)
    kept = {}   # per seed: the members' probabilities (for the Jensen check and the figure)

    def scores(seeds: list[int]) -> dict[str, list]:
        probs, y = probabilities(zoo, recipe, [m for s in seeds for m in member_seeds(s)])
        probs = probs.reshape(len(seeds), ENSEMBLE_SIZE, *probs.shape[1:])   # (ensembles, members, n, classes)
        kept.update({s: p for s, p in zip(seeds, probs)})
        rows = {k: [] for k in ("member_nll", "member_acc", "ensemble_nll", "ensemble_acc")}
        for seed, p in zip(seeds, probs):
            members = ensemble_scores(p, y)
            other = members if arm is Arm.CLAIM else mixture_scores(p, y, seed)
            for k in ("member_nll", "member_acc", "ensemble_nll", "ensemble_acc"):
                rows[k].append(members[k] if k.startswith("member") else other[k])
        return rows

    other = "ensemble" if arm is Arm.CLAIM else "one-member-per-sample mixture"
    per_seed = evidence.per_seed(scores)
    evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        v["member_nll"], v["ensemble_nll"], min_effect=MIN_NLL_GAIN, alpha=ALPHA,
        labels=("mean member NLL", f"{other} NLL"),
        name=f"the {other}'s test NLL is lower than the mean member's by more than {MIN_NLL_GAIN:g} nats"))
    evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        v["ensemble_acc"], v["member_acc"], min_effect=MIN_ACC_GAIN, alpha=ALPHA,
        labels=(f"{other} accuracy", "mean member accuracy"),
        name=f"the {other}'s test accuracy is higher than the mean member's by more than {MIN_ACC_GAIN:g}"))
    y = zoo.data(recipe.data, per_seed.seeds[0]).y_test.cpu().numpy()
    if arm is Arm.CLAIM:
        _jensen(evidence, [kept[s] for s in per_seed.seeds], y)
    v = per_seed.upto(len(per_seed.seeds))
    evidence.table(f"{'Ensembles' if arm is Arm.CLAIM else 'One-member-per-sample mixtures'} vs the mean of "
                   f"{ENSEMBLE_SIZE} members on MNIST-1D test",
                   ["seed", "mean member NLL", f"{other} NLL", "mean member accuracy", f"{other} accuracy",
                    "accuracy gain"],
                   [[s, v["member_nll"][i], v["ensemble_nll"][i], v["member_acc"][i], v["ensemble_acc"][i],
                     v["ensemble_acc"][i] - v["member_acc"][i]] for i, s in enumerate(per_seed.seeds)])
    if arm is Arm.CLAIM:
        _plot(evidence, np.array([kept[s] for s in per_seed.seeds]), y)


def _jensen(evidence, probs: list[np.ndarray], y: np.ndarray) -> None:
    """Jensen's inequality on every test sample of every ensemble measured (a deterministic fact)."""
    scores = [ensemble_scores(p, y) for p in probs]
    gaps = np.concatenate([s["mean_member_nll_per_sample"] - s["ensemble_nll_per_sample"] for s in scores])
    evidence.check(stats.exact(
        bool(gaps.min() >= -JENSEN_TOL), n=len(gaps), name="Jensen: ensemble NLL <= mean member NLL on every sample",
        detail=f"{len(gaps)} samples x ensembles; smallest gap {gaps.min():.3g}, largest {gaps.max():.3g}"),
        expect=True)


def _plot(evidence, probs: np.ndarray, y: np.ndarray) -> None:
    """Accuracy and NLL of the ensemble of the first k members, k = 1..M, for every ensemble."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    sizes = np.arange(1, probs.shape[1] + 1)
    for p in probs:
        curve = [ensemble_scores(p[:k], y) for k in sizes]
        left.plot(sizes, [c["ensemble_acc"] for c in curve], marker="o", alpha=0.7)
        right.plot(sizes, [c["ensemble_nll"] for c in curve], marker="o", alpha=0.7)
    for ax in (left, right):
        ax.set_xticks(sizes)
    left.set(xlabel="members in the ensemble", ylabel="test accuracy", title="accuracy")
    right.set(xlabel="members in the ensemble", ylabel="test NLL (nats)", title="negative log-likelihood")
    fig.suptitle(f"5.1 ensembles of MLPs on MNIST-1D ({len(probs)} ensembles)")
    evidence.save_figure(fig, "ensemble-size")
