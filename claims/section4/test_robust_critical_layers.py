"""4.5: robust and critical layers (Zhang, Bengio & Singer 2022): re-initialize one layer at a time."""
from __future__ import annotations

import numpy as np
import torch

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.memo import measurement
from claimcheck.seeds import derive
from claims import families
from claims.section4.layer_surgery import layer_names, layer_verdict, with_layer_from
from claims.shared.residual_cnn import CNN_EPOCHS, CNN_LR
from fixtures.training import evaluate

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

ALPHA = 0.01
ROBUST_MAX_DROP = 0.03    # robust: loses at most 3 points (pilot: the most robust layer of each seed
                          # loses -0.6 to +1.9 points, 5 seeds; 1 test digit = 0.19 points)
CRITICAL_MIN_DROP = 0.20  # critical: loses at least 20 points (pilot: the worst layer loses 55-88)
MIN_RATE = 0.5            # "residual nets have robust (critical) layers": in more than half of the trained models;
DESIGN_RATE = 0.9         # pilot: 5/5 seeds under one base, 4/5 under another (a robust layer's smallest drop 4.4)

CARD = Card(
    id="4.5",
    budget_s=40,
    title="Residual nets have robust and critical layers; re-initializing a layer reveals which",
    question="Zhang et al. call a layer robust when resetting its weights to their initial values after "
             "training barely hurts the model, and critical when it does. Design a simple experiment and "
             "say which layers are critical and which robust.",
    answer="In a small residual CNN on digits (conv stem, 3 residual blocks of two 3x3 convs, 32 "
           "channels, BN, global average pooling) most trained models have both kinds: some layer loses almost "
           "nothing when reset to its checkpoint-0 weights and some layer is critical (which layers, the tables "
           "give per seed; no check asserts which layer it is). Resetting to freshly drawn random weights instead "
           "of the initial ones does not leave a robust layer in most seeds (the control), so robustness is about "
           "returning to the checkpoint-0 weights, not about a layer being unimportant. A deep plain MLP on "
           "MNIST-1D is reported in the same form, without a check (the course notes that Zhang et al.'s "
           "conclusions concern residual architectures). The tables give each layer's measured drops.",
    method=f"Per seed: train the model (keeping checkpoint 0; the CNN with Adam {CNN_LR:g}, batch 64, {CNN_EPOCHS} "
           "epochs, never fewer), then for each conv/linear layer load its checkpoint-0 weights (and bias) into a "
           "copy of the trained model, everything else as trained (BN affine parameters and running statistics "
           "included), and measure test accuracy. drop = trained - reset accuracy. A layer is robust in a seed when "
           f"it loses at most {ROBUST_MAX_DROP * 100:.0f} points of accuracy and critical when it loses at least "
           f"{CRITICAL_MIN_DROP * 100:.0f}. Asserted on sequential seeds (at least 10 at the first look), alpha "
           f"{ALPHA}, for the residual CNN: the rate of seeds in which some layer is robust, and the rate in which "
           f"some layer is critical, exceed {MIN_RATE} (exact binomial tests over seeds). The deep MLP's layers are "
           "reported in the same table form (no assertion).",
    control="The same 'some layer is robust' rate on the same trained CNNs with each layer reset to freshly drawn "
            "random weights (He normal, another seed) instead of its checkpoint-0 weights: it must not be "
            "supported. 'Some layer is critical' has no realistic null (a reset to other weights than checkpoint 0 "
            "harms at least as much: see the re-randomized table); as a labelled sanity check, resetting each layer "
            "to its trained weights must change no accuracy in any seed.",
)
SOURCES = ("checkpoint 0", "fresh random weights", "trained weights")


def accuracy_drops(trained, source: dict[str, torch.Tensor]) -> tuple[float, list[float]]:
    """Test accuracy of the trained model and the accuracy lost by giving each layer `source` weights."""
    data, model = trained.data, trained.model
    base = evaluate(model, data.x_test, data.y_test)[1]
    return base, [base - evaluate(with_layer_from(model, name, source), data.x_test, data.y_test)[1]
                  for name in layer_names(model)]


def reset_source(zoo, recipe, trained, seed: int, source: str) -> dict[str, torch.Tensor]:
    """The weights a layer is reset to: checkpoint 0, fresh ones from the initialization distribution with another
    seed (re-randomization), or the trained weights themselves."""
    if source == "checkpoint 0":
        return trained.init_state
    if source == "fresh random weights":
        return zoo.build(recipe, derive(seed, "re-randomized")).state_dict()
    return trained.model.state_dict()


def trained_models(zoo, recipe, seeds: list[int], *, reverse: bool):
    """The models of `recipe` for `seeds`, in seed order: stacked when the recipe allows, else one by one, last to
    first with reverse=True (the claim and the control on two xdist workers then train different seeds at the same
    time instead of one waiting on the other's cache lock)."""
    if zoo.stackable(recipe):
        return zoo.trained_many(recipe, seeds)
    models = {s: zoo.trained(recipe, s) for s in (seeds[::-1] if reverse else seeds)}
    return [models[s] for s in seeds]


@measurement
def reset_drops(zoo, recipe, seeds, sources: tuple[str, ...], reverse: bool) -> dict[str, list]:
    """Per seed: the layer names, the trained test accuracy and, per source, the accuracy drop of each layer."""
    out: dict[str, list] = {"layers": [], "accuracy": [], **{f"drops {src}": [] for src in sources}}
    for seed, trained in zip(seeds, trained_models(zoo, recipe, list(seeds), reverse=reverse)):
        out["layers"].append(layer_names(trained.model))
        for src in sources:
            base, drops = accuracy_drops(trained, reset_source(zoo, recipe, trained, seed, src))
            out[f"drops {src}"].append(drops)
        out["accuracy"].append(base)
    return out


def some_layer(evidence, per_seed, source: str, what: str):
    """Decide "some layer is `what` (robust / critical) under a reset to `source`" as a rate over seeds."""
    def decide(v):
        drops = np.array(v[f"drops {source}"])
        hits = drops <= ROBUST_MAX_DROP if what == "robust" else drops >= CRITICAL_MIN_DROP
        extreme = drops.min(1) if what == "robust" else drops.max(1)
        return stats.rate_over_seeds(
            hits.any(1), min_rate=MIN_RATE, design_rate=DESIGN_RATE, alpha=ALPHA,
            values={f"{'smallest' if what == 'robust' else 'largest'} drop": extreme.tolist()},
            name=f"residual CNN, one layer reset to {source}: some layer is {what} in most seeds")
    return evidence.check_over_seeds(per_seed, decide)


def report(evidence, title: str, values: dict, source: str) -> None:
    names, drops, accs = values["layers"][0], np.array(values[f"drops {source}"]), values["accuracy"]
    rows = [[name, float(drops[:, j].mean()), float(drops[:, j].min()), float(drops[:, j].max()),
             f"{int(np.sum(drops[:, j] <= ROBUST_MAX_DROP))}/{len(drops)}",
             f"{int(np.sum(drops[:, j] >= CRITICAL_MIN_DROP))}/{len(drops)}",
             layer_verdict(drops[:, j], robust_max=ROBUST_MAX_DROP, critical_min=CRITICAL_MIN_DROP)]
            for j, name in enumerate(names)]
    evidence.table(f"{title} (trained test accuracy {np.mean(accs):.3f}, {len(accs)} seeds)",
                   ["layer", "mean drop", "min drop", "max drop", "robust in", "critical in", "verdict"], rows)
    evidence.record_value(f"{title}: accuracy drops (seed x layer)", drops.tolist())


@claim(CARD)
def test_resetting_a_layer_to_checkpoint_0_reveals_robust_and_critical_layers(arm, evidence, zoo):
    profile = evidence.profile
    cnn = families.RESIDUAL_CNN.recipe(profile)
    sources = SOURCES[:1] if arm is Arm.CLAIM else SOURCES[1:]
    per_seed = evidence.per_seed(lambda seeds: reset_drops(zoo, cnn, seeds, sources, reverse=arm is not Arm.CLAIM),
                                 family=families.RESIDUAL_CNN)
    if arm is Arm.CLAIM:
        _, values = per_seed.used_by(*(some_layer(evidence, per_seed, "checkpoint 0", what)
                                       for what in ("robust", "critical")))
        report(evidence, "Residual CNN on digits, one layer reset to checkpoint 0", values, "checkpoint 0")
        mlp = families.DEEP_MLP.recipe(profile)
        mlp_per_seed = evidence.per_seed(lambda seeds: reset_drops(zoo, mlp, seeds, sources, reverse=False),
                                         family=families.DEEP_MLP)
        mlp_values = mlp_per_seed.upto(mlp_per_seed.schedule.looks[0])   # a table, no check: the first look
        report(evidence, "Deep plain MLP on MNIST-1D, one layer reset to checkpoint 0", mlp_values, "checkpoint 0")
        _plot(evidence, {name: (values["layers"][0], np.array(values["drops checkpoint 0"])) for name, values in
                         (("residual CNN on digits", values), ("deep plain MLP on MNIST-1D", mlp_values))})
        return
    seeds, values = per_seed.used_by(some_layer(evidence, per_seed, "fresh random weights", "robust"))
    unchanged = [not np.any(row) for row in values["drops trained weights"]]
    evidence.check(stats.holds_in_every_case(
        unchanged, seeds=seeds,
        name="sanity check (zero by construction): resetting a layer to its trained weights changes no accuracy"),
        expect=True)
    report(evidence, "Control: residual CNN, one layer re-randomized", values, "fresh random weights")


def _plot(evidence, panels: dict) -> None:
    fig, axes = plt.subplots(1, len(panels), figsize=(11, 3.8), constrained_layout=True)
    for ax, (title, (names, drops)) in zip(axes, panels.items()):
        x = np.arange(len(names))
        for row in drops:
            ax.plot(x, row, ".", color="grey", alpha=0.6)
        ax.bar(x, drops.mean(0), color="tab:blue", alpha=0.6, label="mean over seeds")
        ax.axhline(ROBUST_MAX_DROP, color="tab:green", ls="--", lw=1, label="robust below")
        ax.axhline(CRITICAL_MIN_DROP, color="tab:red", ls="--", lw=1, label="critical above")
        ax.set_xticks(x, [_short(n) for n in names], rotation=60, fontsize=8)
        ax.set(title=title, ylabel="test accuracy lost by the reset")
    axes[0].legend(fontsize=8)
    fig.suptitle("4.5 one layer reset to its checkpoint-0 weights (dots: seeds)")
    evidence.save_figure(fig, "layer-resets")


def _short(name: str) -> str:
    """'blocks.1.f.0.0' -> 'block1.conv1', 'hidden.4.0' -> 'layer5', 'stem.0' -> 'stem'."""
    parts = name.split(".")
    if parts[0] == "blocks":
        return f"block{parts[1]}.conv{int(parts[3]) + 1}"
    if parts[0] == "hidden":
        return f"layer{int(parts[1]) + 1}"
    return parts[0]
