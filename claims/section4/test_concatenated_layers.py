"""4.3: the concatenated representations of all layers as the input of a simple classifier."""
from __future__ import annotations

import numpy as np

from claimcheck import stats
from claimcheck.evidence import Card, claim
from claimcheck.seeds import derive
from claims.section4.recipes import deep_mlp_recipe, family_seeds, trained_family
from claims.section4.representations import mlp_features, ridge_probe_accuracy
from fixtures.measurements import measurement

CARD = Card(
    id="4.3",
    title="A linear classifier on all layers concatenated is as good as on the best layer",
    question="Combine the internal representations of different layers, X = union of X_i, and feed the "
             "combination to a simple classifier.",
    answer="Concatenate, for every sample, the outputs of all hidden layers (here 12 x 64 = 768 features) "
           "and fit a linear classifier. On a deep MLP trained on MNIST-1D it is as accurate as the best "
           "single layer (0.49-0.50 vs 0.48-0.50: about one point better, no more than redundant extra "
           "features give a ridge classifier) and far better than the raw input (0.23): the deep layers repeat "
           "one another (4.2's block structure, 4.4's tunnel), so there is little complementary "
           "information to add. On digits every layer is already ~98% separable, which is why MNIST-1D "
           "is used.",
    method="Per seed of the shared deep MLP family (12 x 64, MNIST-1D): the linear probe of 4.4 (ridge "
           "regression on one-hot labels, closed form, standardized features) on the concatenation of "
           "all hidden layers, on each single layer and on the input; test accuracy on 1,000 signals. "
           "Asserted (paired over seeds): concatenation is non-inferior to the best single layer (chosen "
           "on the test set, which favours the single layer) within MARGIN, and exceeds the input by "
           "MIN_GAIN_OVER_INPUT.",
    control="The same concatenation done wrong: each layer's rows are permuted independently, so a "
            "'sample' joins the representations of different samples. Both assertions must fail.",
)
ALPHA = 0.01
PROBE_ALPHA = 1e-3          # as in 4.4
MARGIN = 0.02               # non-inferiority; pilot (5 seeds): concatenation - best layer = +0.005..+0.016
MIN_GAIN_OVER_INPUT = 0.15  # pilot: input 0.23, concatenation 0.49-0.52
FAMILY = "mnist1d-deep-mlp"


def misaligned(features: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """Each representation with its rows permuted independently (the sample alignment broken)."""
    rng = np.random.default_rng(seed)
    return [f[rng.permutation(len(f))] for f in features]


def accuracies(model, data, *, join_seed: int | None) -> dict[str, object]:
    """Probe test accuracy on the input, on each hidden layer and on the concatenated hidden layers.

    join_seed: when given, the layers are concatenated misaligned (the control)."""
    train, test = mlp_features(model, data)
    y_train, y_test = data.y_train.numpy(), data.y_test.numpy()

    def probe(a, b):
        return ridge_probe_accuracy(a, y_train, b, y_test, alpha=PROBE_ALPHA, num_classes=data.num_classes)
    layers_train, layers_test = train[1:], test[1:]
    if join_seed is not None:
        layers_train = misaligned(layers_train, derive(join_seed, "train"))
        layers_test = misaligned(layers_test, derive(join_seed, "test"))
    singles = [probe(a, b) for a, b in zip(train[1:], test[1:])]
    return {"input": probe(train[0], test[0]), "layers": singles,
            "concatenated": probe(np.hstack(layers_train), np.hstack(layers_test))}


@measurement
def family_accuracies(zoo, recipe, seeds, misaligned_join: bool) -> list[dict[str, object]]:
    """accuracies() of each network of the family; with misaligned_join, joined misaligned with its seed."""
    nets = trained_family(zoo, recipe, seeds)
    return [accuracies(t.model, t.data, join_seed=s if misaligned_join else None) for t, s in zip(nets, seeds)]


@claim(CARD)
def test_concatenated_layers_classify_as_well_as_the_best_layer_and_far_better_than_the_input(arm, evidence, zoo):
    recipe, seeds = deep_mlp_recipe(evidence.profile), family_seeds(evidence, FAMILY)
    runs = family_accuracies(zoo, recipe, seeds, misaligned_join=arm != "claim")
    concat = [r["concatenated"] for r in runs]
    best = [max(r["layers"]) for r in runs]
    inputs = [r["input"] for r in runs]
    evidence.measure("model seeds", seeds)
    evidence.measure("per-layer probe accuracy (seed x layer)", [r["layers"] for r in runs])
    evidence.check(stats.non_inferior(
        concat, best, margin=MARGIN, alpha=ALPHA, seeds=seeds, labels=("concatenated", "best layer"),
        name=f"concatenated layers are at most {MARGIN:.0%} worse than the best single layer"))
    evidence.check(stats.paired_greater(
        concat, inputs, min_effect=MIN_GAIN_OVER_INPUT, alpha=ALPHA, seeds=seeds,
        labels=("concatenated", "input"), name="concatenated layers beat the raw input"))
    evidence.table("Probe test accuracy per seed", ["seed", "input", "best layer (which)", "concatenated",
                                                     "concatenated - best"],
                   [[s, r["input"], f"{max(r['layers']):.3f} ({int(np.argmax(r['layers'])) + 1})",
                     r["concatenated"], r["concatenated"] - max(r["layers"])] for s, r in zip(seeds, runs)])
