"""6.2: one θ for any input resolution (global average pooling), and the FixRes effect at small scale."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from claimcheck import stats
from claimcheck.evidence import Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.memo import measurement
from claims import families
from claims.section6 import imagenet
from claims.section6.landscape import same_state, state_snapshot
from claims.section6.resolution import RRC, cnn_recipe, recalibrated, resize, trained_with
from fixtures.training import evaluate

models = LazyModule("torchvision.models")  # imported on use, not when the test is collected
plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

ALPHA = 0.01
SIZES = ((64, 64), (128, 128), (224, 224), (320, 320), (160, 256))
DESIGN_SIZE = 224
IMAGENET_SIZES = (128, 160, 224, 288, 320)
MIN_IMAGENET_ACC = 0.3          # above chance by 30 points: ResNet-50 is ~76% top-1 at 224 (torchvision V1)
TRAIN_SIZE, TEST_SIZES = 8, (6, 8, 10, 12, 16)
MIN_FIXRES_GAIN = 0.01          # FixRes reports +1.4 points (ResNet-50, 224 -> 288); pilot here: +0.0..+0.4
N_RECALIBRATE = 512             # training images that re-estimate BN statistics at each test size
FIXRES_MEASURED = (
    "FixRes did not reproduce on 8 px digits: with random-resized crops (35-100% area) in training, larger test "
    "sizes cost less accuracy than without them, but the best test size above 8 px does not beat testing at 8 px "
    "(as in the catalogue's pilot); the per-seed accuracies, the curves with BN statistics recalibrated at each "
    "size and the sequential decision are in the report")
CARD = Card(
    id="6.2",
    title="Global average pooling lets the same θ classify any input resolution",
    question="Let F(·^{224x224}, θ) be a CNN trained on 224 x 224 images. Propose a solution that uses θ "
             "without any change to predict samples of arbitrary resolution W x H. Which component of the "
             "architecture makes it possible? (Touvron et al. 2019: train at one scale, test at a larger one.)",
    answer="Global (adaptive) average pooling before the classifier: the convolutions accept any W x H and "
           "produce a C x h x w map, and averaging over h x w always yields C numbers, so the fully connected "
           "layer's shape no longer depends on the input size. torchvision's ResNet-50 (AdaptiveAvgPool2d(1)) "
           "gives 1,000 logits at every size with unchanged weights; with flatten in its place the head only fits "
           "the one size it was built for. Whether a larger test resolution also helps (FixRes) depends on the "
           "train-time augmentation; at our scale it did not reproduce (see the third test).",
    method=f"(1) resnet50(weights=None) in eval mode, one random image per size (64, 128, 224, 320 and 160 x 256): "
           "logits shape and finiteness, pooled features (2048 x 1 x 1), and the state dict compared bit for bit "
           "after all sizes. (2) With local ImageNet weights (--resnet50-weights PATH) and labelled images "
           "(DL_CLAIMS_IMAGENET_DIR, see claims/section6/conftest.py): top-1 accuracy at 128-320 px, each more "
           f"than {MIN_IMAGENET_ACC} above chance (exact binomial over that one model's images); skipped with "
           "the reason otherwise. (3) FixRes: the 6.1 CNN trained on 8 x 8 digits with random-resized crops (area "
           "35-100%) and without; test accuracy at 6-16 px (bilinear resize), raw and with BN statistics "
           f"recalibrated at each size; asserted on sequential seeds, alpha {ALPHA}: the best test size above 8 "
           f"beats 8 by more than {MIN_FIXRES_GAIN} (one-sided paired t-test over seeds; a strict xfail: it did not "
           "reproduce).",
    control="(1) The same ResNet-50 with avgpool replaced by flatten and the head sized for 224 x 224 "
            "(2048 x 7 x 7 inputs): 'logits at every size' must fail. (3) The CNN trained without random-resized "
            "crops: 'a larger test size helps' must fail.",
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
    measured = resnet50_outputs(zoo, flatten_head=arm != "claim")
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
    evidence.measure("imagenet_top1", {str(k): v for k, v in accuracy.items()})
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot(list(accuracy), list(accuracy.values()), "o-")
    ax.set(xlabel="test resolution (px)", ylabel="top-1 accuracy", title=f"6.2 ResNet-50, {len(samples)} images")
    evidence.save_figure(fig, "imagenet-resolution")
    for size in IMAGENET_SIZES:
        evidence.check(stats.one_model_above_chance(
            hits[size], len(samples), chance=1 / 1000, min_effect=MIN_IMAGENET_ACC, alpha=ALPHA,
            name=f"top-1 accuracy at {size} x {size} far above chance"))


def accuracy_curve(model: nn.Module, data, recalibrate: bool) -> list[float]:
    out = []
    for size in TEST_SIZES:
        net = recalibrated(model, resize(data.x_train[:N_RECALIBRATE], size)) if recalibrate else model
        out.append(evaluate(net, resize(data.x_test, size), data.y_test)[1])
    return out


@measurement
def accuracy_curves(zoo, recipe, seeds: list[int], crops: bool) -> dict[str, list]:
    """Per seed, test accuracy at each of TEST_SIZES of the CNN trained with random-resized crops (RRC) or
    plainly: "raw" (BN statistics as trained) and, with crops, "recalibrated" (re-estimated at each size)."""
    models = ([trained_with(zoo, recipe, RRC, s) for s in seeds] if crops
              else [(t.model, t.data) for t in (zoo.trained(recipe, s) for s in seeds)])
    out = {"raw": [accuracy_curve(m, d, recalibrate=False) for m, d in models]}
    if crops:
        out["recalibrated"] = [accuracy_curve(m, d, recalibrate=True) for m, d in models]
    return out


@claim(CARD, xfail_claim=FIXRES_MEASURED)
def test_testing_above_the_training_resolution_helps_after_random_resized_crops(arm, evidence, zoo):
    recipe = cnn_recipe(evidence.profile)

    def curves(seeds: list[int]) -> dict[str, list]:
        plain = accuracy_curves(zoo, recipe, seeds, crops=False)   # shared with 6.1's models
        out = {"no crops": plain["raw"]}
        if arm == "claim":
            crops = accuracy_curves(zoo, recipe, seeds, crops=True)
            out.update({"crops": crops["raw"], "crops, BN recalibrated": crops["recalibrated"]})
        return out
    per_seed = evidence.per_seed(curves, family=families.DIGIT_CNN)
    tested = "crops" if arm == "claim" else "no crops"
    i8, higher = TEST_SIZES.index(TRAIN_SIZE), [i for i, s in enumerate(TEST_SIZES) if s > TRAIN_SIZE]
    try:
        evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
            np.array(v[tested])[:, higher].max(1), np.array(v[tested])[:, i8], min_effect=MIN_FIXRES_GAIN,
            alpha=ALPHA, name=f"testing above the {TRAIN_SIZE} px training size beats testing at it ({tested})",
            labels=(f"best acc above {TRAIN_SIZE} px", f"acc at {TRAIN_SIZE} px")))
    finally:  # the strict xfail of the claim arm raises above: the report still gets the curves
        _fixres_report(evidence, per_seed.upto(len(per_seed.seeds)))


def _fixres_report(evidence, curves: dict) -> None:
    n = len(next(iter(curves.values())))
    i8 = TEST_SIZES.index(TRAIN_SIZE)
    gain = {name: np.array(c)[:, i8 + 1] - np.array(c)[:, i8] for name, c in curves.items()}
    evidence.note(f"Accuracy at {TEST_SIZES[i8 + 1]} px minus at {TRAIN_SIZE} px, mean over {n} seeds: "
                  + ", ".join(f"{name} {g.mean():+.3f}" for name, g in gain.items()) + " (reported, not asserted)")
    evidence.table(f"Test accuracy per test size (mean over {n} seeds; training size {TRAIN_SIZE} px)",
                   ["model", *(f"{s} px" for s in TEST_SIZES)],
                   [[name, *np.mean(c, 0)] for name, c in curves.items()])
    evidence.measure("fixres_curves", {name: np.array(c).tolist() for name, c in curves.items()})
    fig, ax = plt.subplots(figsize=(6.4, 4))
    colors = {"no crops": "tab:grey", "crops": "tab:blue", "crops, BN recalibrated": "tab:green"}
    for name, c in curves.items():
        for i, row in enumerate(c):
            ax.plot(TEST_SIZES, row, "o-", color=colors[name], alpha=0.6, ms=3, label=name if i == 0 else None)
    ax.axvline(TRAIN_SIZE, color="k", ls=":", label="training size")
    ax.set(xlabel="test resolution (px)", ylabel="test accuracy", ylim=(0, 1),
           title=f"6.2 FixRes on digits ({n} seeds)")
    ax.legend(fontsize=8)
    evidence.save_figure(fig, "fixres-curve")
