"""6.2: one θ for any input resolution (global average pooling), and the FixRes effect at small scale."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.memo import measurement
from claims import families
from claims.section6 import imagenet
from claims.section6.fixres import (
    ARMS,
    CROPS_LARGE,
    CROPS_SMALL,
    LARGE_SIZE,
    N_TEST,
    N_TRAIN,
    TEST_SIZES,
    TRAIN_SIZE,
    TRANSLATE_SMALL,
    fixres_recipe,
    fixres_test_views,
    sample_views,
)
from claims.shared.model_state import same_state, state_snapshot
from claims.shared.resolution import flops
from fixtures.training import evaluate

models = LazyModule("torchvision.models")  # imported on use, not when the test is collected
plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

ALPHA = 0.01
SIZES = ((64, 64), (128, 128), (224, 224), (320, 320), (160, 256))
DESIGN_SIZE = 224
IMAGENET_SIZES = (128, 160, 224, 288, 320)
MIN_IMAGENET_ACC = 0.3          # above chance by 30 points: ResNet-50 is ~76% top-1 at 224 (torchvision V1)
# Pilot (standard scale, default seed base, 5 seeds; accuracy at K = 16 -> best K above 16):
# crops 8-100%: 0.672 -> 0.764 (K = 24 in 5/5 seeds), gain +0.092 +- 0.013 (0.082-0.108);
# translation-only: 0.762 -> 0.793 (K = 20 in 5/5), gain +0.031 +- 0.003 (0.027-0.035), and -0.042 at K = 24.
MIN_FIXRES_GAIN = 0.04          # above the control's largest pilot gain (0.035), below the claim's smallest (0.082)
# Not asserted: crops at 16 tested at 24 minus crops at 24 tested at 24 was +0.003 +- 0.021 over 10 seeds under the
# default seed base (non-inferior at a 0.03 margin, p = 0.0003) but -0.045 +- 0.032 over 5 seeds under base 1 (NOT
# SUPPORTED at that margin): the comparison is reported per seed, not asserted (see NOT_ASSERTED_NI).
NOT_ASSERTED_NI = "a 3-point non-inferiority margin held under one seed base and failed under another"
MAX_FLOPS_FRACTION = 0.5        # (16 / 24)^2 = 0.44 for a fully convolutional trunk; the head adds a little
CARD = Card(
    id="6.2",
    budget_s=320,
    title="Global average pooling lets the same θ classify any input resolution",
    question="Let F(·^{224x224}, θ) be a CNN trained on 224 x 224 images. Propose a solution that uses θ "
             "without any change to predict samples of arbitrary resolution W x H. Which component of the "
             "architecture makes it possible? (Touvron et al. 2019: train at one scale, test at a larger one.)",
    answer="Global (adaptive) average pooling before the classifier: the convolutions accept any W x H and "
           "produce a C x h x w map, and averaging over h x w always yields C numbers, so the fully connected "
           "layer's shape no longer depends on the input size. torchvision's ResNet-50 (AdaptiveAvgPool2d(1)) "
           "gives 1,000 logits at every size with unchanged weights; with flatten in its place the head only fits "
           "the one size it was built for. The same θ may even do better above its training size (FixRes): "
           "random-resized crops make objects look larger in training than in the test view, so a network trained "
           f"at {TRAIN_SIZE} px with crops of 8-100% of the image classifies rendered digits better at a larger test "
           f"size (by more than {MIN_FIXRES_GAIN:.2f} in accuracy); without the apparent-size discrepancy "
           "(translation-only crops) the larger test size gains less than that minimum. Training at "
           f"{TRAIN_SIZE} px costs under {MAX_FLOPS_FRACTION:.0%} of the FLOPs of training at {LARGE_SIZE} px; whether "
           f"it then matches the {LARGE_SIZE} px network at K = {LARGE_SIZE} is reported per seed, not asserted: "
           "within 3 points under one seed base, 4.5 points below under another.",
    method=f"(1) resnet50(weights=None) in eval mode, one random image per size (64, 128, 224, 320 and 160 x 256): "
           "logits shape and finiteness, pooled features (2048 x 1 x 1), and the state dict compared bit for bit "
           "after all sizes. (2) With local ImageNet weights (--resnet50-weights PATH) and labelled images "
           "(DL_CLAIMS_IMAGENET_DIR, see claims/section6/conftest.py): top-1 accuracy at 128-320 px, each more "
           f"than {MIN_IMAGENET_ACC} above chance (exact binomial over that one model's images); skipped with "
           "the reason otherwise. (3) FixRes (Touvron et al. 2019) on rendered digits (fixtures/datasets.py: "
           "0-9 in 16 matplotlib fonts, 25-90% of the frame, +-20 degrees, 1/f-noise background, 64 px; "
           f"{N_TRAIN:,} training and {N_TEST:,} test images at standard scale): a ~20k-parameter ResNet with "
           "global pooling (models/staged_resnet.py) trained with random-resized crops (area 8-100%, aspect "
           f"3/4-4/3) at {TRAIN_SIZE} px, tested with FixRes' protocol (resize to int(K / 0.875), centre crop K) "
           f"for K in {', '.join(map(str, TEST_SIZES))}; on sequential seeds, alpha {ALPHA}, one-sided paired "
           f"sign tests over seeds: (a) in the median seed, the best K above {TRAIN_SIZE} beats K = {TRAIN_SIZE} by "
           f"more than {MIN_FIXRES_GAIN:.2f}; (b) training at {TRAIN_SIZE} px costs under {MAX_FLOPS_FRACTION:.0%} of "
           f"the FLOPs of the same training at {LARGE_SIZE} px (torch's FlopCounterMode; exact), and the two networks' "
           f"accuracies at K = {LARGE_SIZE} are reported per seed.",
    control="(1) The same ResNet-50 with avgpool replaced by flatten and the head sized for 224 x 224 "
            "(2048 x 7 x 7 inputs): 'logits at every size' must fail. (3) The same network and training with "
            f"translation-only crops: squares of the test view's extent at {TRAIN_SIZE} px (int({TRAIN_SIZE} / "
            "0.875) of the image side) at a random position, which keep the test view's object size; it trains as "
            "well (its accuracy at 16 px is in the table, higher than the cropped network's), and (a) must fail "
            "for it. (b) has no control (a FLOPs count).",
)


def flatten_head_resnet50() -> nn.Module:
    """ResNet-50 whose global pooling is replaced by flatten; the head is sized for 224 x 224 (7 x 7 map)."""
    model = models.resnet50(weights=None)
    model.avgpool = nn.Identity()               # ResNet.forward then flattens (B, 2048, h, w)
    model.fc = nn.Linear(2048 * 7 * 7, 1000)
    return model.eval()


@torch.no_grad()
def logits_or_error(model: nn.Module, size: tuple[int, int]) -> tuple[tuple | None, str]:
    try:
        out = model(torch.rand(1, 3, *size))
    except RuntimeError as error:
        return None, str(error).splitlines()[0][:90]
    return tuple(out.shape), "finite" if bool(torch.isfinite(out).all()) else "non-finite"


@measurement
def resnet50_outputs(zoo, flatten_head: bool) -> dict:
    """One random image per size through resnet50(weights=None) (or its flatten-head variant): per size the
    logits' shape (None on an error) and a note, the pooling layer's output shapes, and whether the weights
    stayed bit-identical."""
    model = flatten_head_resnet50() if flatten_head else models.resnet50(weights=None).eval()
    snapshot, pooled = state_snapshot(model), []
    hook = model.avgpool.register_forward_hook(lambda m, i, o: pooled.append(tuple(o.shape)))
    try:
        results = [logits_or_error(model, size) for size in SIZES]
    finally:
        hook.remove()
    return {"results": results, "pooled": pooled, "unchanged": same_state(model, snapshot)}


@claim(CARD)
def test_resnet50_gives_logits_at_every_input_size_with_the_same_weights(arm, evidence, zoo):
    measured = resnet50_outputs(zoo, flatten_head=arm is not Arm.CLAIM)
    results, pooled = dict(zip(SIZES, measured["results"])), measured["pooled"]
    ok = {size: shape == (1, 1000) and note == "finite" for size, (shape, note) in results.items()}
    evidence.table("Output per input size", ["H x W", "logits", "detail"],
                   [[f"{h} x {w}", str(results[h, w][0]), results[h, w][1]] for h, w in SIZES])
    evidence.note(f"avgpool output shapes: {pooled}")
    evidence.check(stats.exact(measured["unchanged"], name="the weights are unchanged after every forward",
                               detail="state_dict compared bit for bit"), expect=True)
    evidence.check(stats.exact(ok[DESIGN_SIZE, DESIGN_SIZE], detail=str(results[DESIGN_SIZE, DESIGN_SIZE]),
                               name=f"1,000 finite logits at {DESIGN_SIZE} x {DESIGN_SIZE}"), expect=True)
    evidence.check(stats.exact(all(ok.values()), n=len(SIZES), name="1,000 finite logits at every input size",
                               detail=f"{sum(ok.values())}/{len(SIZES)} sizes"))


@claim(CARD, control=False)
def test_imagenet_resnet50_stays_accurate_across_test_resolutions(arm, evidence, imagenet_files):
    model = imagenet.load_resnet50(imagenet_files.weights)
    samples = imagenet.labelled_images(imagenet_files.images, imagenet_files.limit)
    hits = {size: imagenet.top1_hits(model, samples, size) for size in IMAGENET_SIZES}
    accuracy = {size: h / len(samples) for size, h in hits.items()}
    evidence.record_value("imagenet_top1", {str(k): v for k, v in accuracy.items()})
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot(list(accuracy), list(accuracy.values()), "o-")
    ax.set(xlabel="test resolution (px)", ylabel="top-1 accuracy", title=f"6.2 ResNet-50, {len(samples)} images")
    evidence.save_figure(fig, "imagenet-resolution")
    for size in IMAGENET_SIZES:
        evidence.check(stats.one_model_above_chance(
            hits[size], len(samples), chance=1 / 1000, min_effect=MIN_IMAGENET_ACC, alpha=ALPHA,
            name=f"top-1 accuracy at {size} x {size} far above chance"))


@measurement
def fixres_accuracies(zoo, recipe, seeds: list[int]) -> list[list[float]]:
    """Per seed, the test accuracy of `recipe`'s model at each of TEST_SIZES under FixRes' test protocol (the whole
    64 px image resized to int(K / 0.875), centre crop K)."""
    views = fixres_test_views(zoo, recipe.data)              # the same images for every seed: made once
    out = []
    for seed in seeds:
        trained = zoo.trained(recipe, seed)
        out.append([evaluate(trained.model, view, trained.data.y_test)[1] for view in views])
    return out


def fixres_per_seed(evidence, zoo, arms: tuple[str, ...]):
    """Per-seed accuracy curves (one list over TEST_SIZES per seed) of the models of `arms` (keys of ARMS)."""
    recipes = {name: fixres_recipe(evidence.profile, ARMS[name]) for name in arms}
    return evidence.per_seed(lambda seeds: {name: fixres_accuracies(zoo, r, seeds) for name, r in recipes.items()},
                             family=families.FIXRES)


def at_size(curves: list[list[float]], size: int) -> np.ndarray:
    return np.array(curves)[:, TEST_SIZES.index(size)]


def best_above(curves: list[list[float]], size: int) -> np.ndarray:
    return np.array(curves)[:, [i for i, k in enumerate(TEST_SIZES) if k > size]].max(1)


@claim(CARD)
def test_testing_above_the_training_size_beats_it_after_random_resized_crops(arm, evidence, zoo):
    tested = CROPS_SMALL if arm is Arm.CLAIM else TRANSLATE_SMALL
    per_seed = fixres_per_seed(evidence, zoo, (CROPS_SMALL, TRANSLATE_SMALL))
    try:
        evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
            best_above(v[tested], TRAIN_SIZE), at_size(v[tested], TRAIN_SIZE), min_effect=MIN_FIXRES_GAIN,
            alpha=ALPHA, name=f"the best test size above {TRAIN_SIZE} px beats {TRAIN_SIZE} px ({tested})",
            labels=(f"best acc above {TRAIN_SIZE} px", f"acc at {TRAIN_SIZE} px")))
    finally:
        curves = per_seed.upto(len(per_seed.seeds))
        _fixres_report(evidence, curves, "test-size-curves")
        if arm is Arm.CLAIM:
            _sample_figure(evidence, zoo)


@measurement
def forward_flops(zoo, arch, size: int) -> int:
    """FLOPs of one forward pass of `arch` on a size x size image (stored: counting them imports torch._dynamo,
    about 2 s, which a warm run need not pay)."""
    return flops(arch.build(), (1, 1, size, size))


@claim(CARD, control=False)
def test_training_at_16_px_costs_under_half_the_flops_of_24_px_and_is_compared_at_24_px(arm, evidence, zoo):
    per_seed = fixres_per_seed(evidence, zoo, (CROPS_SMALL, CROPS_LARGE))
    arch = fixres_recipe(evidence.profile, ARMS[CROPS_SMALL]).arch
    fraction = forward_flops(zoo, arch, TRAIN_SIZE) / forward_flops(zoo, arch, LARGE_SIZE)
    evidence.check(stats.exact(
        fraction < MAX_FLOPS_FRACTION, name=f"training at {TRAIN_SIZE} px costs less than {MAX_FLOPS_FRACTION:.0%} "
        f"of the FLOPs of training at {LARGE_SIZE} px", detail=f"{fraction:.3f} (forward FLOPs per image, torch's "
        "FlopCounterMode; same epochs, images and optimizer, so the training FLOPs have the same ratio)"))
    curves = per_seed.upto(per_seed.schedule.looks[0])
    diff = at_size(curves[CROPS_SMALL], LARGE_SIZE) - at_size(curves[CROPS_LARGE], LARGE_SIZE)
    evidence.note(f"Reported, not asserted ({NOT_ASSERTED_NI}): accuracy at K = {LARGE_SIZE} of the network trained at "
                  f"{TRAIN_SIZE} px minus the one trained at {LARGE_SIZE} px, per seed: "
                  + ", ".join(f"{d:+.3f}" for d in diff) + f"; mean {diff.mean():+.3f}, sd {diff.std(ddof=1):.3f}.")
    _fixres_report(evidence, curves, "train-size-curves")


def _fixres_report(evidence, curves: dict[str, list], figure: str) -> None:
    n = len(next(iter(curves.values())))
    rows = []
    for name, c in curves.items():
        a = np.array(c)
        rows.append([name, *(f"{m:.3f} ± {sd:.3f}" for m, sd in zip(a.mean(0), a.std(0, ddof=1)))])
    evidence.table(f"Test accuracy per test size K (FixRes' test view; mean ± sd over {n} seeds)",
                   ["model", *(f"K = {k}" for k in TEST_SIZES)], rows)
    gains = {name: best_above(c, TRAIN_SIZE) - at_size(c, TRAIN_SIZE) for name, c in curves.items()
             if name != CROPS_LARGE}
    if CROPS_LARGE in curves:
        evidence.note(f"{CROPS_LARGE}: best test size {TEST_SIZES[int(np.argmax(np.mean(curves[CROPS_LARGE], 0)))]} "
                      f"px on average (accuracy {np.mean(curves[CROPS_LARGE], 0).max():.3f}; reported, not asserted)")
    evidence.note("Best test size above 16 px minus 16 px, mean over seeds: "
                  + ", ".join(f"{name} {g.mean():+.3f}" for name, g in gains.items())
                  + f"; accuracy at {TRAIN_SIZE} px: "
                  + ", ".join(f"{name} {at_size(c, TRAIN_SIZE).mean():.3f}" for name, c in curves.items()
                              if name != CROPS_LARGE) + " (reported, not asserted)")
    evidence.record_value("fixres_curves", {name: np.array(c).tolist() for name, c in curves.items()})
    fig, ax = plt.subplots(figsize=(6.4, 4))
    colors = {CROPS_SMALL: "tab:blue", TRANSLATE_SMALL: "tab:grey", CROPS_LARGE: "tab:orange"}
    for name, c in curves.items():
        for i, row in enumerate(c):
            ax.plot(TEST_SIZES, row, "o-", color=colors[name], alpha=0.6, ms=3, label=name if i == 0 else None)
    ax.axvline(TRAIN_SIZE, color="k", ls=":", label="training size 16 px")
    ax.set(xlabel="test size K (px): resize to int(K / 0.875), centre crop K", ylabel="test accuracy",
           title=f"6.2 FixRes on rendered digits ({n} seeds, one line per seed)")
    ax.legend(fontsize=8)
    evidence.save_figure(fig, figure)


def _sample_figure(evidence, zoo) -> None:
    """Rendered sources, the training crops of both arms and FixRes' test views at 16, 24 and 32 px."""
    views = sample_views(zoo, n=6)
    fig, axes = plt.subplots(len(views), 6, figsize=(7.5, 1.35 * len(views)))
    for r, (title, images) in enumerate(views.items()):
        for c in range(6):
            axes[r, c].imshow(images[c, 0].numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(title, fontsize=7, rotation=0, ha="right", va="center")
    fig.suptitle("6.2 rendered digits: sources, training crops, test views", fontsize=9)
    evidence.save_figure(fig, "rendered-samples")
