"""7.2: skip connections between blocks remove the degradation problem (He et al. 2016)."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given

from claimcheck import stats
from claimcheck.evidence import Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.memo import measurement
from claims import families
from claims.shared.block_net import BLOCK_NET_SIZES
from claims.shared.twins import DEEP, MID, SHALLOW, train_hits, train_loss, twin_recipe
from models.blocks import BlockNetConfig, Skip
from models.mlp import parameter_count

plt = LazyModule("matplotlib.pyplot")  # imported when a figure is drawn, not when the test is collected

ALPHA = 0.01
MIN_GAP = 0.2       # pilot (3 seeds): plain 16 - plain 2 = 0.46-0.72 nats; plain 6 - plain 2 = -0.05
RES_MARGIN = 0.05   # pilot: residual 16 = 0.008-0.019 vs residual 2 = 0.09-0.10 (better, not just non-inferior)
FIT_ABOVE_CHANCE = 0.3  # pilot: plain 16 reaches 74-85% training accuracy (chance 10%)

CARD = Card(
    id="7.2",
    title="Skip connections between blocks stop deeper nets from training worse",
    question="Do the same as in 7.1, but insert skip connections between the building blocks.",
    answer="Each block is wrapped as y = x + block(x) (models/blocks.py, skip=True): an identity shortcut "
           "between consecutive blocks that adds no parameter and keeps every shape. What it buys is He et "
           "al.'s degradation result: with BN and He init a deep plain stack trains, but reaches a higher "
           "training loss than a shallow one (an optimization failure, not overfitting), while the same stack "
           "with skips trains at least as well as its shallow version.",
    method=f"Residual/plain MLP twins on digits (width 64, blocks Linear-BN-ReLU, He init, Adam 1e-3, batch 64, "
           f"10 epochs; shared with 6.5 and 7.5). Training cross-entropy on the whole training split (eval mode) "
           f"per seed. Asserted on sequential seeds at alpha {ALPHA}: plain {DEEP} blocks minus plain {SHALLOW} "
           f"blocks > {MIN_GAP} nats (one-sided paired t-test); residual {DEEP} is non-inferior to residual "
           f"{SHALLOW} (margin {RES_MARGIN} nats); the deep plain net's per-seed training accuracy is more than "
           f"{FIT_ABOVE_CHANCE} above chance (it degrades, it is not broken; one-sample t-test over seeds). The "
           "structural side (skip = no new parameter, y = x + f(x)) is the property test beside it.",
    control=f"The same degradation test at shallow depth: plain {MID} vs plain {SHALLOW} blocks; the gap must vanish.",
)


@measurement
def training_fit(zoo, recipe, seeds: list[int]) -> dict:
    """Per seed, for the twin of `recipe`: "train_loss" (whole training split, eval mode), "train_hits" ((correct,
    samples) on the training split) and "loss_curve" (the running training loss per epoch)."""
    runs = zoo.trained_many(recipe, seeds)
    return {"train_loss": [train_loss(t) for t in runs], "train_hits": [train_hits(t) for t in runs],
            "loss_curve": [t.history.train_loss for t in runs]}


@claim(CARD)
def test_deep_plain_nets_train_worse_than_shallow_ones_and_residual_ones_do_not(arm, evidence, zoo):
    deep = DEEP if arm == "claim" else MID
    configs = [(deep, False), (SHALLOW, False)] + ([(DEEP, True), (SHALLOW, True)] if arm == "claim" else [])

    def fits(seeds: list[int]) -> dict[str, list]:
        out = {}
        for depth, residual in configs:
            fit = training_fit(zoo, twin_recipe(depth, residual, evidence.profile), seeds)
            name = f"{'residual' if residual else 'plain'} {depth}"
            out[f"loss {name}"], out[f"curve {name}"] = fit["train_loss"], fit["loss_curve"]
            out[f"accuracy {name}"] = [hits / n for hits, n in fit["train_hits"]]
        return out

    per_seed = evidence.per_seed(fits, family=families.RESIDUAL_TWINS)
    evidence.check_over_seeds(per_seed, lambda v: stats.paired_greater(
        v[f"loss plain {deep}"], v[f"loss plain {SHALLOW}"], min_effect=MIN_GAP, alpha=ALPHA,
        name=f"plain {deep} blocks has a higher training loss than plain {SHALLOW}",
        labels=(f"loss plain {deep}", f"loss plain {SHALLOW}")))
    if arm == "claim":
        evidence.check_over_seeds(per_seed, lambda v: stats.greater_than(
            v[f"accuracy plain {DEEP}"], reference=0.1, min_effect=FIT_ABOVE_CHANCE, alpha=ALPHA,
            label="training accuracy",
            name=f"plain {DEEP} still fits the training set far above chance (degraded, not broken)"), expect=True)
        evidence.check_over_seeds(per_seed, lambda v: stats.non_inferior(
            -np.array(v[f"loss residual {DEEP}"]), -np.array(v[f"loss residual {SHALLOW}"]), margin=RES_MARGIN,
            alpha=ALPHA, name=f"residual {DEEP} trains at least as well as residual {SHALLOW}",
            labels=(f"-loss residual {DEEP}", f"-loss residual {SHALLOW}")), expect=True)
    values = per_seed.upto(len(per_seed.seeds))
    names = [f"{'residual' if r else 'plain'} {d}" for d, r in sorted(configs, key=lambda k: (k[1], k[0]))]
    _table_and_figure(evidence, per_seed.seeds, names, {n: values[f"curve {n}"] for n in names},
                      {n: values[f"loss {n}"] for n in names})


def _table_and_figure(evidence, seeds: list[int], names: list[str], curves: dict, loss: dict) -> None:
    evidence.table("Training cross-entropy (whole training split) per seed", ["seed", *names],
                   [[s, *(loss[n][i] for n in names)] for i, s in enumerate(seeds)])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    for j, name in enumerate(names):
        left.scatter(np.full(len(loss[name]), j), loss[name], color=f"C{j}")
        for i, curve in enumerate(curves[name]):
            right.plot(range(1, len(curve) + 1), curve, color=f"C{j}", alpha=0.6, label=name if i == 0 else None)
    left.set(xticks=range(len(names)), xticklabels=names, yscale="log", ylabel="training cross-entropy",
             title=f"7.2 after training ({len(seeds)} seeds)")
    right.set(xlabel="epoch", ylabel="running training loss", yscale="log", title="training curves")
    right.legend(fontsize=8)
    evidence.save_figure(fig, "degradation")


# Structure: the residual twins' skips (the block net of 7.1 with skip=True).


@claim(CARD, control=False)
def test_skips_between_blocks_add_no_parameter_and_compute_x_plus_block_of_x(arm, evidence):
    examples = evidence.profile.examples

    @stats.property_settings(examples)
    @given(**BLOCK_NET_SIZES)
    def check(n, channels, in_channels, classes, side, batch):
        config = BlockNetConfig(in_channels, classes, channels, n, skip=True)
        net = config.build().eval()
        plain = BlockNetConfig(in_channels, classes, channels, n, skip=False).build()
        assert parameter_count(net) == parameter_count(plain), "skips must add no parameter"
        assert all(isinstance(b, Skip) for b in net.blocks) and len(net.blocks) == n
        x = net.stem(torch.randn(batch, in_channels, side, side))
        with torch.no_grad():
            for wrapper in net.blocks:
                y = wrapper(x)
                assert torch.allclose(y, x + wrapper.block(x), atol=1e-6), "skip output != x + block(x)"
                x = y
        assert net(torch.randn(batch, in_channels, side, side)).shape == (batch, classes)

    evidence.check(stats.property_holds(
        check, examples=examples,
        name="with skips: same parameter count as without; every block outputs x + block(x); output (B, classes)"))
