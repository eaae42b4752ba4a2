"""6.4: a classifier built only from convolutions, padding and a reshape."""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.memo import measurement
from claims import families
from claims.shared.resolution import FCN_FIT, MULTIRES, RESOLUTIONS, resize, trained_with
from models.fully_conv import disallowed_modules, has_linear

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

ALPHA = 0.01
CHANCE = 0.1
MIN_ABOVE_CHANCE = 0.5  # accuracy > 60%; pilots (11 seeds) 4 px: 0.68-0.89, 6 px 0.91-0.95, 8 px 0.90-0.96
CARD = Card(
    id="6.4",
    budget_s=10,
    title="A network of convolutions, padding and a reshape classifies images at several resolutions",
    question="Build a convolutional network that classifies images using only convolutional layers, padding and "
             "(optionally) reshape/flatten: no fully connected layer.",
    answer="Stride-2 3 x 3 convolutions with padding 1 halve each side (n -> ceil(n/2)), so three of them bring any "
           "input up to 8 x 8 to 1 x 1; a 1 x 1 convolution then maps the channels to the 10 class scores and a "
           "reshape turns (B, 10, 1, 1) into logits (models/fully_conv.py). A 1 x 1 convolution on a 1 x 1 map is "
           "exactly a fully connected layer in disguise, which is why the construction needs no nn.Linear; and "
           "because nothing depends on the input size, the same weights classify 4 x 4, 6 x 6 and 8 x 8 digits "
           "(trained at randomly drawn resolutions). No pooling is used either.",
    method=f"Structure: every submodule is a Conv2d, ReLU, padding or reshape (no nn.Linear, no pooling, no "
           f"normalization), and a forward pass gives logits (B, 10) at every resolution. Trained on {FCN_FIT} digits, "
           f"each batch resized (antialiased bilinear) to a resolution drawn from {{4, 6, 8}}, He init, Adam 3e-3, "
           f"20 epochs. Asserted on sequential seeds (at least 5 at the first look), alpha {ALPHA}: at each "
           f"resolution the median seed's test accuracy is more than {MIN_ABOVE_CHANCE} above chance ({CHANCE}); "
           f"one-sided sign test over seeds.",
    control="(1) A conventional CNN (the same stride-1 convolutions, then flatten and an nn.Linear head sized for "
            "8 x 8): the structural assertion and 'logits at every resolution' must fail. (2) The same fully "
            "convolutional network trained the same way on the same images with their training labels shuffled "
            "(it trains, but nothing links image and label): the accuracy test must fail at every resolution.",
)


def conventional_cnn(channels: int = 32) -> nn.Module:
    """The control: convolutions, then flatten and a fully connected head for 8 x 8 inputs."""
    return nn.Sequential(nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                         nn.Flatten(1), nn.Linear(channels * 8 * 8, 10)).eval()


@torch.no_grad()
def runs_at(model: nn.Module, size: int) -> bool:
    try:
        return tuple(model(torch.zeros(2, 1, size, size)).shape) == (2, 10)
    except RuntimeError:
        return False


@measurement
def accuracy_per_resolution(zoo, recipe, seeds: list[int]) -> dict[str, list[float]]:
    """Per seed, the test accuracy at each of RESOLUTIONS (keyed "4 px", ...) of the classifier of `recipe`
    trained at MULTIRES."""
    out: dict[str, list[float]] = {f"{r} px": [] for r in RESOLUTIONS}
    for seed in seeds:
        model, data = trained_with(zoo, recipe, MULTIRES, seed)
        for r in RESOLUTIONS:
            with torch.no_grad():
                out[f"{r} px"].append(float((model(resize(data.x_test, r)).argmax(1) == data.y_test).double().mean()))
    return out


@claim(CARD)
def test_a_network_of_only_convolutions_classifies_digits_at_several_resolutions(arm, evidence, zoo):
    recipe = families.FULLY_CONV.recipe(evidence.profile)
    _structure_checks(evidence, recipe.arch.build() if arm is Arm.CLAIM else conventional_cnn())
    if arm is Arm.CONTROL:
        recipe = dataclasses.replace(recipe, data=dataclasses.replace(recipe.data, labels="shuffled"))
    per_seed = evidence.per_seed(lambda seeds: accuracy_per_resolution(zoo, recipe, seeds), family=families.FULLY_CONV)
    for r in RESOLUTIONS:
        evidence.check_over_seeds(per_seed, lambda v, r=r: stats.greater_than(
            v[f"{r} px"], reference=CHANCE, min_effect=MIN_ABOVE_CHANCE, alpha=ALPHA, label="test accuracy",
            name=f"test accuracy at {r} x {r} far above chance"
                 + (" (training labels shuffled)" if arm is Arm.CONTROL else "")))
    _report(evidence, per_seed.seeds, per_seed.upto(len(per_seed.seeds)), arm)


def _report(evidence, seeds: list[int], accuracy: dict[str, list[float]], arm: Arm) -> None:
    evidence.table("Test accuracy per resolution (per seed)", ["seed", *accuracy],
                   [[s, *(a[i] for a in accuracy.values())] for i, s in enumerate(seeds)])
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for i in range(len(seeds)):
        ax.plot(RESOLUTIONS, [a[i] for a in accuracy.values()], "o-", alpha=0.7)
    ax.axhline(CHANCE, color="grey", ls=":", label="chance")
    ax.set(xlabel="input resolution (px)", ylabel="test accuracy", ylim=(0, 1), xticks=RESOLUTIONS,
           title=f"6.4 convolutions only, one θ{'' if arm is Arm.CLAIM else ', shuffled training labels'} "
                 f"({len(seeds)} seeds)")
    ax.legend()
    evidence.save_figure(fig, "accuracy-per-resolution")


def _structure_checks(evidence, model: nn.Module) -> None:
    extra = disallowed_modules(model)
    evidence.check(stats.exact(
        not extra and not has_linear(model), name="only convolutions, padding, activations and reshape (no nn.Linear)",
        detail=f"other modules: {extra}" if extra else "every submodule is Conv2d / ReLU / padding / Flatten"))
    sizes = {r: runs_at(model, r) for r in RESOLUTIONS}
    evidence.check(stats.exact(all(sizes.values()), n=len(sizes), name="logits (B, 10) at every resolution",
                               detail=", ".join(f"{r} px: {'ok' if ok else 'shape error'}" for r, ok in sizes.items())))
