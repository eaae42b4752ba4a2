"""6.1: which layer of a CNN separates the data best, seen through 2-D PCA projections."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.neighbors import KNeighborsClassifier

from claimcheck import stats
from claimcheck.evidence import Card, claim
from claims.section6.resolution import cnn_recipe
from fixtures.measurements import measurement

CARD = Card(
    id="6.1",
    title="Deeper CNN layers separate the classes better in a 2-D projection",
    question="Pick a convolutional network, choose n layers and extract their features; project each layer's "
             "features to two dimensions (e.g. PCA) and analyse whether some layer separates the data better.",
    answer="Yes: in a CNN trained on digits the 2-D PCA projection of the last layers (the last block and the "
           "globally pooled features) separates the classes far better than the input or the first "
           "convolution. The improvement is learned: in the same CNN untrained, depth makes the projections "
           "worse, not better.",
    method="Residual CNN (conv stem, 2 blocks of 16 channels, BN, global average pooling; torchvision-style "
           "residual blocks, models/residual.py) trained on 8 x 8 digits. Layers: input, stem, block 1, block 2, "
           "pooled features (forward hooks). Per layer: PCA(2) fitted on training features, a 5-NN classifier "
           "fitted on the projected training features, its accuracy on the projected test features is the "
           "separability score (silhouette reported too). Asserted: the score rises with depth (one-sided "
           "Spearman correlation between layer index and score, layers x seeds). Which layer is best in each "
           "seed is reported, not asserted: it was one of the last two in 5/5 seeds in one run and 4/5 in "
           "another that differed only in the number of CPU threads (block 1 and the last layers are near-ties).",
    control="The same CNN at its initialization (untrained): the same assertion must fail.",
)
ALPHA = 0.01
# pilot (4 seeds, 12 epochs): pooled - stem = +0.14..+0.24 trained, -0.21..-0.31 untrained; the best layer is
# block 2 or pooled in 4/4 seeds even at 6 epochs (smoke)
LAYERS = {"input": None, "stem": "stem", "block 1": "blocks.0", "block 2": "blocks.1", "pooled": "pool"}
K_NEIGHBOURS = 5


@torch.no_grad()
def layer_features(model: torch.nn.Module, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Flattened outputs of the LAYERS modules (and the input itself), in eval mode, via forward hooks."""
    modules, out = dict(model.named_modules()), {"input": x.flatten(1).cpu().numpy()}
    hooks = [modules[path].register_forward_hook(
        lambda m, i, o, name=name: out.__setitem__(name, o.flatten(1).cpu().numpy()))
             for name, path in LAYERS.items() if path is not None]
    was_training = model.training
    try:
        model.eval()(x)
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return {name: out[name] for name in LAYERS}


def separability(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray):
    """(5-NN test accuracy in the 2-D PCA space, silhouette of the test projection, the test projection)."""
    pca = PCA(n_components=2).fit(train_x)
    z_train, z_test = pca.transform(train_x), pca.transform(test_x)
    knn = KNeighborsClassifier(K_NEIGHBOURS).fit(z_train, train_y)
    return float(knn.score(z_test, test_y)), float(silhouette_score(z_test, test_y)), z_test


@measurement
def separability_per_layer(zoo, recipe, seeds: list[int], trained: bool) -> dict:
    """Per seed and LAYERS entry, the 2-D separability of the trained (or untrained) CNN's features: "knn"
    and "silhouette" of shape (seeds, layers); "projections" (the first seed's 2-D test projection of each
    layer, in LAYERS order) and "labels" (its test labels) for the figure."""
    scores, silhouettes, shown = [], [], None
    for seed in seeds:
        run = zoo.trained(recipe, seed)
        data = run.data
        model = run.model if trained else zoo.build(recipe, seed).to(data.x_train.device)
        feats_train, feats_test = layer_features(model, data.x_train), layer_features(model, data.x_test)
        y_train, y_test = data.y_train.cpu().numpy(), data.y_test.cpu().numpy()
        results = {n: separability(feats_train[n], y_train, feats_test[n], y_test) for n in LAYERS}
        scores.append([results[n][0] for n in LAYERS])
        silhouettes.append([results[n][1] for n in LAYERS])
        shown = shown or ([results[n][2] for n in LAYERS], y_test)
    return {"knn": np.array(scores), "silhouette": np.array(silhouettes), "projections": shown[0], "labels": shown[1]}


@claim(CARD)
def test_the_deepest_cnn_layers_separate_the_classes_best_in_two_dimensions(arm, evidence, zoo):
    measured = separability_per_layer(zoo, cnn_recipe(evidence.profile), evidence.seeds, trained=arm == "claim")
    scores_arr, silhouettes, names = measured["knn"], measured["silhouette"], list(LAYERS)
    depth = np.tile(np.arange(len(names)), len(scores_arr))
    evidence.check(stats.rank_correlated(
        depth, scores_arr.ravel(), alpha=ALPHA,
        name="2-D 5-NN accuracy rises with depth (input, stem, block 1, block 2, pooled; all seeds)"))
    best = [names[int(np.argmax(s))] for s in scores_arr]
    evidence.measure("best_layer_per_seed", best)
    evidence.note(f"best-separating layer per seed: {', '.join(best)} (one of the last two in "
                  f"{sum(b in names[-2:] for b in best)}/{len(best)} seeds; reported, not asserted)")
    evidence.table("2-D separability per layer (5-NN test accuracy; silhouette), mean over seeds",
                   ["layer", "5-NN accuracy", "silhouette"],
                   [[n, scores_arr[:, i].mean(), np.mean(silhouettes, 0)[i]] for i, n in enumerate(names)])
    evidence.measure("knn_accuracy_per_layer", scores_arr.tolist())
    shown = (dict(zip(LAYERS, measured["projections"])), measured["labels"], scores_arr[0].tolist())
    _figure(evidence, shown, scores_arr, arm)


def _figure(evidence, shown, scores_arr: np.ndarray, arm: str) -> None:
    projections, labels, first_scores = shown
    fig, axes = plt.subplots(1, len(LAYERS) + 1, figsize=(3.2 * (len(LAYERS) + 1), 3.3), layout="constrained")
    for ax, (name, z), score in zip(axes, projections.items(), first_scores):
        ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=5, vmin=0, vmax=9)
        ax.set(title=f"{name}: 5-NN {score:.2f}", xticks=[], yticks=[])
    for row in scores_arr:
        axes[-1].plot(range(len(LAYERS)), row, "o-", alpha=0.7)
    axes[-1].set(xticks=range(len(LAYERS)), xticklabels=list(LAYERS), ylim=(0, 1), ylabel="2-D 5-NN test accuracy",
                 title="all seeds")
    axes[-1].tick_params(axis="x", rotation=45)
    cmap = plt.get_cmap("tab10")
    handles = [plt.Line2D([], [], ls="", marker="o", color=cmap(k), label=str(k)) for k in range(10)]
    fig.legend(handles=handles, title="digit", loc="outside right upper", fontsize=7)
    fig.suptitle(f"6.1 PCA(2) of each layer's test features, {'trained' if arm == 'claim' else 'untrained'} CNN "
                 "(first seed; colour = digit)")
    evidence.save_figure(fig, "projections")
