"""4.3: the concatenated representations of all layers as the input of a simple classifier."""
from __future__ import annotations

import numpy as np

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from claimcheck.memo import measurement
from claims import families
from claims.shared.deep_mlp import DEEP_MLP_DEPTH, DEEP_MLP_EPOCHS, DEEP_MLP_WIDTH
from claims.shared.representations import mlp_features, ridge_probe_accuracy

ALPHA = 0.01
PROBE_ALPHA = 1e-3          # as in 4.4
MARGIN = 0.02               # non-inferiority; pilot (5 seeds, 20 epochs): concatenation - best layer = +0.005..+0.016
MIN_GAIN_OVER_INPUT = 0.15  # pilot: input 0.23, concatenation 0.49-0.52
EARLY_LAYERS = 1            # the control joins the input with the first layer(s) only: trained as well, but short of
                            # the best layer (pilot, 40 epochs: layer 1 0.38-0.42 against a best layer of 0.51-0.57)

CARD = Card(
    id="4.3",
    budget_s=3,
    title="A linear classifier on all layers concatenated is as good as on the best layer",
    question="Combine the internal representations of different layers, X = union of X_i, and feed the "
             "combination to a simple classifier.",
    answer=f"Concatenate, for every sample, the outputs of all hidden layers (here {DEEP_MLP_DEPTH} x "
           f"{DEEP_MLP_WIDTH} = {DEEP_MLP_DEPTH * DEEP_MLP_WIDTH} features) and fit a linear classifier. On a deep "
           "MLP trained on MNIST-1D it is as accurate as the best single layer (at most slightly better, as "
           "redundant extra features give a ridge classifier) and far better than the raw input: the deep layers "
           "repeat one another (4.2's block structure, 4.4's tunnel), so there is little complementary "
           "information to add. On digits every layer is already ~98% separable, which is why MNIST-1D is used. "
           "The table gives the measured accuracies.",
    method=f"Per seed of the shared deep MLP family ({DEEP_MLP_DEPTH} x {DEEP_MLP_WIDTH}, MNIST-1D, {DEEP_MLP_EPOCHS} "
           "epochs, never fewer): the linear probe of 4.4 (ridge regression on one-hot labels, closed form, "
           "standardized features) on the concatenation of all hidden layers, on each single layer and on the input; "
           "test accuracy on 1,000 signals. Asserted on sequential seeds (at least 5 at the first look), alpha "
           f"{ALPHA}, paired sign tests over seeds about the median seed: the concatenation is non-inferior to the "
           f"best single layer (chosen on the test set, which favours the single layer) within {MARGIN}, and "
           f"exceeds the input by more than {MIN_GAIN_OVER_INPUT}.",
    control="The same non-inferiority test for a concatenation that is known to fall short: the input joined with "
            "layer 1 only (the same trained networks, the same probe; the deep layers' separability removed). "
            "It must not be supported.",
)


def accuracies(model, data) -> dict[str, object]:
    """Probe test accuracy on the input, on each hidden layer, on all hidden layers concatenated and on the
    input joined with the first EARLY_LAYERS layers."""
    train, test = mlp_features(model, data)
    y_train, y_test = data.y_train.numpy(), data.y_test.numpy()

    def probe(a, b):
        return ridge_probe_accuracy(a, y_train, b, y_test, alpha=PROBE_ALPHA, num_classes=data.num_classes)
    early = slice(0, EARLY_LAYERS + 1)
    return {"input": probe(train[0], test[0]), "layers": [probe(a, b) for a, b in zip(train[1:], test[1:])],
            "concatenated": probe(np.hstack(train[1:]), np.hstack(test[1:])),
            "early joined": probe(np.hstack(train[early]), np.hstack(test[early]))}


@measurement
def family_accuracies(zoo, recipe, seeds) -> dict[str, list]:
    """accuracies() of each network of the family (a look's seeds, trained together), as per-seed lists."""
    runs = [accuracies(t.model, t.data) for t in zoo.trained_many(recipe, seeds)]
    return {key: [r[key] for r in runs] for key in runs[0]} | {"best layer": [max(r["layers"]) for r in runs]}


@claim(CARD)
def test_concatenated_layers_classify_as_well_as_the_best_layer_and_far_better_than_the_input(arm, evidence, zoo):
    recipe = families.DEEP_MLP.recipe(evidence.profile)
    per_seed = evidence.per_seed(lambda seeds: family_accuracies(zoo, recipe, seeds), family=families.DEEP_MLP)
    joined = "concatenated" if arm is Arm.CLAIM else "early joined"
    label = "all layers" if arm is Arm.CLAIM else "input + layer 1"
    decisions = [evidence.check_over_seeds(per_seed, lambda v: stats.non_inferior(
        v[joined], v["best layer"], margin=MARGIN, alpha=ALPHA, labels=(label, "best layer"),
        name=f"{label} concatenated: at most {MARGIN} worse than the best single layer"))]
    if arm is Arm.CLAIM:
        decisions.append(evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
            v["concatenated"], v["input"], min_effect=MIN_GAIN_OVER_INPUT, alpha=ALPHA,
            labels=("concatenated", "input"), name="concatenated layers beat the raw input")))
    seeds, v = per_seed.used_by(*decisions)
    evidence.record_value("model seeds", seeds)
    evidence.record_value("per-layer probe accuracy (seed x layer)", v["layers"])
    evidence.table("Probe test accuracy per seed",
                   ["seed", "input", "best layer (which)", "all layers concatenated", "input + layer 1",
                    "all layers - best"],
                   [[s, v["input"][i], f"{v['best layer'][i]:.3f} ({int(np.argmax(v['layers'][i])) + 1})",
                     v["concatenated"][i], v["early joined"][i], v["concatenated"][i] - v["best layer"][i]]
                    for i, s in enumerate(seeds)])
