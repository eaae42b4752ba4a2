"""6.5: loss landscapes with filter-normalized directions (Li et al. 2018)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from claimcheck import stats
from claimcheck.evidence import Card, claim
from claims.section6 import landscape as ls
from claims.section7.twins import DEEP, SHALLOW, borrow_seeds, twin_recipe
from fixtures.measurements import measurement

CARD = Card(
    id="6.5",
    title="Filter-normalized loss landscapes: trained minima, scale invariance, residual smoothness",
    question="Use the loss-landscape technique to visualize the parameter space of a trained network "
             "(convolutional or not).",
    answer="Plot L(θ + α d₁ + β d₂) for random directions d whose every filter is rescaled to the norm of the "
           "matching filter of θ (biases and BN parameters get no direction). Without that normalization a "
           "network whose layers are rescaled (a change BN makes invisible to the function) would show a "
           "different landscape; with it the curves do not change. Around a trained network the loss is a "
           "minimum along every drawn direction. A deep plain net's surface is saddle-shaped (non-convex) over about "
           "half of the 2-D grid and steeper away from θ, while its residual twin's is convex at every grid point "
           "(Li et al.'s skip-connection result, here with 16-block MLPs); at depth 2 the twins look alike.",
    method="The residual/plain 16-block MLPs of 7.2 (shared cache entries), training loss on the first "
           "N_EVAL training samples, BN in eval mode. Every grid point is evaluated with "
           "torch.func.functional_call on a fresh parameter dict, and the model's state_dict is compared "
           "bit for bit before and after (claims/section6/landscape.py). (1) 1-D curves along N_DIRECTIONS "
           "directions, α in [-1, 1]: L(0) is the smallest value in every direction and seed. (2) Each block's "
           "Linear (followed by BN) is rescaled by a random factor in [0.2, 5] (BN running statistics "
           "adjusted, the function unchanged): the filter-normalized curves before and after agree within "
           "REL_TOL in every seed. (3) 2-D 11 x 11 grids: the fraction of grid points whose finite-difference "
           "Hessian has a negative eigenvalue (non-convexity), and the curvature of the parabola fitted to the "
           "1-D section: plain minus residual, one-sided paired t-tests.",
    control="(1) the same net at initialization (not a minimum); (2) raw Gaussian directions without filter "
            f"normalization (the curves change); (3) the twins at depth {SHALLOW} (no smoothness gap).",
)
ALPHA = 0.01
N_EVAL = 256              # training samples per loss evaluation; pilot: verdicts on 256, 512 and 1,257 agree
N_DIRECTIONS = 2          # pilot: trained 16-block nets are minima along 3/3 directions x 3 seeds (10 epochs)
ALPHAS_1D = np.arange(-10, 11) / 10          # 21 points, 0 exactly
ALPHAS_2D = np.arange(-5, 6) / 5             # 11 x 11 grid, 0 exactly
REL_TOL = 1e-2            # float32 and BN eps: pilot gaps <= 1e-4 (curves), 2e-4 (logits); raw directions: 6-96
SCALE_RANGE = (0.2, 5.0)
MIN_NONCONVEX_GAP = 0.1   # pilot (5 seeds): non-convex fraction plain 16 = 0.49-0.56, residual 16 = 0.00-0.02
                          # (smoke: 0.41-0.54 vs 0-0.01); depth 2: 0.00-0.07 both
MIN_LOG_CURVATURE_GAP = 0.0  # pilot: ln(plain/residual) curvature 0.5-1.3 at depth 16, -0.5-0.05 at depth 2


def _twins(zoo, recipe, seeds: list[int]):
    return [zoo.trained(recipe, s) for s in seeds]


def _eval_data(run) -> tuple[torch.Tensor, torch.Tensor]:
    return run.data.x_train[:N_EVAL], run.data.y_train[:N_EVAL]


@measurement
def minimum_curves(zoo, recipe, seeds: list[int], trained: bool) -> dict:
    """1-D filter-normalized loss curves around the trained (or initial) model of each seed: "curves" of
    shape (seeds, N_DIRECTIONS, len(ALPHAS_1D)), and "untouched": whether the model's state stayed
    bit-identical while they were evaluated."""
    curves, untouched = [], []
    for seed, run in zip(seeds, _twins(zoo, recipe, seeds)):
        model = run.model if trained else zoo.build(recipe, seed)
        model = model.to(run.data.x_train.device).eval()
        snapshot, x, y = ls.state_snapshot(model), *_eval_data(run)
        curves.append([ls.curve_1d(model, ls.random_direction(model, seed + k), ALPHAS_1D, x, y)
                       for k in range(N_DIRECTIONS)])
        untouched.append(ls.same_state(model, snapshot))
    return {"curves": np.array(curves), "untouched": untouched}


@claim(CARD)
def test_the_trained_point_is_a_minimum_along_filter_normalized_directions(arm, evidence, zoo):
    seeds = borrow_seeds(evidence)
    measured = minimum_curves(zoo, twin_recipe(DEEP, True, evidence.profile), seeds, trained=arm == "claim")
    curves, untouched = measured["curves"], measured["untouched"]
    minimum = [all(ls.is_minimum_at_zero(ALPHAS_1D, c) for c in seed_curves) for seed_curves in curves]
    evidence.check(stats.holds_in_every_case(
        untouched, seeds=evidence.seeds, name="evaluating the landscape leaves the model's state bit-identical"),
        expect=True)
    evidence.check(stats.holds_in_every_case(
        minimum, seeds=evidence.seeds,
        name=f"L(θ) is the minimum of the 1-D curve along all {N_DIRECTIONS} directions",
        values={"L(0)": [c[0][len(ALPHAS_1D) // 2] for c in curves]}))
    evidence.measure("curves_1d", {"alphas": ALPHAS_1D.tolist(), "losses": np.array(curves).tolist()})
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for i, seed_curves in enumerate(curves):
        for k, c in enumerate(seed_curves):
            ax.plot(ALPHAS_1D, c, color=f"C{i}", ls="-" if k == 0 else "--", alpha=0.8,
                    label=f"seed {i}" if k == 0 else None)
    ax.set(yscale="log", xlabel="α (filter-normalized direction)", ylabel="training loss",
           title=f"6.5 residual {DEEP}-block MLP, {'trained' if arm == 'claim' else 'at initialization'} "
                 "(solid d1, dashed d2)")
    ax.legend(fontsize=8)
    evidence.save_figure(fig, "curves-1d")


@measurement
def rescaling_curves(zoo, recipe, seeds: list[int], direction_seeds: list[int], normalize: bool) -> dict:
    """Per seed, each block of the trained model rescaled by a random factor in SCALE_RANGE: the "factors",
    the relative max logit difference rescaled vs original ("logit_gap"), and the 1-D loss curves along the
    same (filter-normalized or raw) direction "before" and "after" rescaling (arrays (seeds, len(ALPHAS_1D))).
    The factors and the direction of the i-th model are drawn with direction_seeds[i]."""
    factors, logit_gap, before, after = [], [], [], []
    for seed, run in zip(direction_seeds, _twins(zoo, recipe, seeds)):
        rng = np.random.default_rng(seed)
        factors.append(np.exp(rng.uniform(*np.log(SCALE_RANGE), size=len(run.model.blocks))).tolist())
        scaled, (x, y) = ls.rescaled_copy(run.model, factors[-1]), _eval_data(run)
        with torch.no_grad():
            logits, logits_scaled = run.model(x), scaled(x)
        logit_gap.append(float((logits_scaled - logits).abs().max() / logits.abs().max()))
        b, a = (ls.curve_1d(m, ls.random_direction(m, seed, filter_normalize=normalize), ALPHAS_1D, x, y)
                for m in (run.model, scaled))
        before.append(b)
        after.append(a)
    return {"factors": factors, "logit_gap": logit_gap, "before": np.array(before), "after": np.array(after)}


@claim(CARD)
def test_filter_normalization_makes_the_landscape_invariant_to_layer_rescaling(arm, evidence, zoo):
    normalize = arm == "claim"
    own_seeds = evidence.seeds   # factors and directions: 6.5's own seeds; models: 7.2's (borrowed)
    measured = rescaling_curves(zoo, twin_recipe(DEEP, True, evidence.profile), borrow_seeds(evidence), own_seeds,
                                normalize)
    same_function = [g < REL_TOL for g in measured["logit_gap"]]
    gaps = [float(np.max(np.abs(after - before) / np.maximum(np.abs(before), 1e-12)))
            for before, after in zip(measured["before"], measured["after"])]
    shown = (measured["before"][0], measured["after"][0], measured["factors"][0])
    evidence.check(stats.holds_in_every_case(
        same_function, seeds=evidence.seeds, name="the rescaled network computes the same function"), expect=True)
    evidence.check(stats.holds_in_every_case(
        [g < REL_TOL for g in gaps], seeds=evidence.seeds, values={"max relative gap": gaps},
        name=f"1-D loss curves before and after rescaling agree within {REL_TOL:g} (relative)"))
    fig, ax = plt.subplots(figsize=(6.4, 4))
    ax.plot(ALPHAS_1D, shown[0], "o-", label="original")
    ax.plot(ALPHAS_1D, shown[1], "x--", label=f"blocks rescaled by {min(shown[2]):.2f}..{max(shown[2]):.2f}")
    ax.set(yscale="log", xlabel="α", ylabel="training loss",
           title=f"6.5 {'filter-normalized' if normalize else 'raw (unnormalized)'} direction, first seed")
    ax.legend()
    evidence.save_figure(fig, "rescaling")


@measurement
def loss_surfaces(zoo, recipe, seeds: list[int], direction_seeds: list[int]) -> np.ndarray:
    """The 2-D loss surface on ALPHAS_2D x ALPHAS_2D around the trained model of each seed: (seeds, 11, 11).
    The two directions around the i-th model are drawn with direction_seeds[i] (+0, +1)."""
    surfaces = []
    for seed, run in zip(direction_seeds, _twins(zoo, recipe, seeds)):
        d1, d2 = (ls.random_direction(run.model, seed + k) for k in range(2))
        surfaces.append(ls.surface_2d(run.model, d1, d2, ALPHAS_2D, *_eval_data(run)))
    return np.array(surfaces)


@claim(CARD)
def test_a_deep_residual_net_has_a_smoother_landscape_than_its_plain_twin(arm, evidence, zoo):
    depth = DEEP if arm == "claim" else SHALLOW
    own_seeds, seeds = evidence.seeds, borrow_seeds(evidence)
    # Residual first: 7.2 (maybe on another worker) starts with plain. Directions around the residual twins
    # are drawn from 6.5's own seeds, around the plain twins from the borrowed 7.2 seeds: independent draws
    # either way, so the paired comparison (by seed index) is unaffected.
    direction_seeds = {True: own_seeds, False: seeds}
    surfaces = {r: list(loss_surfaces(zoo, twin_recipe(depth, r, evidence.profile), seeds, direction_seeds[r]))
                for r in (True, False)}
    step, mid = ALPHAS_2D[1] - ALPHAS_2D[0], len(ALPHAS_2D) // 2
    nonconvex = {r: [ls.nonconvex_fraction(s, step) for s in v] for r, v in surfaces.items()}
    curv = {r: [np.log(max(ls.curvature(ALPHAS_2D, s[:, mid]), 1e-12)) for s in v] for r, v in surfaces.items()}
    evidence.check(stats.paired_greater(
        nonconvex[False], nonconvex[True], min_effect=MIN_NONCONVEX_GAP, alpha=ALPHA, seeds=evidence.seeds,
        name=f"the plain {depth}-block surface is more non-convex than the residual one",
        labels=("non-convex fraction plain", "non-convex fraction residual")))
    evidence.check(stats.paired_greater(
        curv[False], curv[True], min_effect=MIN_LOG_CURVATURE_GAP, alpha=ALPHA, seeds=evidence.seeds,
        name=f"the plain {depth}-block 1-D section is more curved than the residual one",
        labels=("ln curvature plain", "ln curvature residual")))
    evidence.measure("surfaces_first_seed", {"alphas": ALPHAS_2D.tolist(), "plain": surfaces[False][0].tolist(),
                                             "residual": surfaces[True][0].tolist()})
    _plot_surfaces(evidence, surfaces, depth)


def _plot_surfaces(evidence, surfaces: dict, depth: int) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), layout="constrained")
    fig.get_layout_engine().set(wspace=0.06)  # room between a colorbar label and the next panel
    a, b = np.meshgrid(ALPHAS_2D, ALPHAS_2D, indexing="ij")
    for ax, residual in zip(axes[:2], (False, True)):
        s = np.log10(surfaces[residual][0])
        contour = ax.contourf(a, b, s, levels=20, cmap="viridis")
        ax.contour(a, b, s, levels=20, colors="k", linewidths=0.3)
        fig.colorbar(contour, ax=ax, label="log10 training loss")
        ax.set(xlabel="α (d1)", ylabel="β (d2)",
               title=f"{'residual' if residual else 'plain'} {depth} blocks, first seed")
    mid = len(ALPHAS_2D) // 2
    for residual, color in ((False, "tab:red"), (True, "tab:blue")):
        for i, s in enumerate(surfaces[residual]):
            axes[2].plot(ALPHAS_2D, s[:, mid], color=color, alpha=0.7,
                         label=("residual" if residual else "plain") if i == 0 else None)
    axes[2].set(yscale="log", xlabel="α (d1, β = 0)", ylabel="training loss", title="1-D sections, all seeds")
    axes[2].legend()
    fig.suptitle(f"6.5 filter-normalized loss landscape, {depth}-block MLP twins")
    evidence.save_figure(fig, "surfaces")
