"""3.6: exploring a hyper-parameter space, and predicting the accuracy at hyper-parameter values never tried."""
from __future__ import annotations

import math
import warnings

import numpy as np
from matplotlib.lines import Line2D

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from claimcheck.lazy import LazyModule
from claimcheck.memo import measurement
from claimcheck.seeds import derive
from claims.section3.hparam_search import Config, Space, held_out_sets, nearest_configuration, pooled_predictions
from fixtures.training import TrainSpec, evaluate
from fixtures.zoo import DataSpec, Recipe
from models.init_mlp import INITS, InitMLPConfig

plt = LazyModule("matplotlib.pyplot")   # imported when a figure is drawn, not when the test is collected
scipy_stats = LazyModule("scipy.stats")

SPACE = Space(optimizers=("sgd", "adam"), inits=INITS, lrs=(1e-4, 1e-3, 1e-2, 1e-1))
BETWEEN = (3e-4, 3e-3, 3e-2)   # never on the grid: half a decade from both neighbours (interpolation)
BEYOND = (3e-5, 3e-1)          # never on the grid: half a decade below and above it (extrapolation)
FOLDS = held_out_sets(SPACE, BETWEEN, BEYOND)
OFF_GRID = ("between", "beyond")
BETWEEN_TEXT = f"lr {', '.join(f'{lr:g}' for lr in BETWEEN)} (between the grid's points)"
BEYOND_TEXT = f"lr {', '.join(f'{lr:g}' for lr in BEYOND)} (beyond the grid)"
BASE_EPOCHS = 4      # pilot (20 seeds, 4 epochs): grid accuracies from 0.10 (SGD at 1e-4) to 0.96
BASE_WIDTH = 64      # hidden width; paper scale doubles it (and the epochs)
ALPHA = 0.01
# Under the control's permutation the held-out accuracies are a uniformly random arrangement given the fitted
# ones, so each seed's Spearman rho is symmetric about 0: P(rho > 0) <= 1/2 exactly, the sign test's null.
PERMUTED_NULL = "Y permuted across each seed's configurations: the held-out rho is symmetric about 0"
MIN_ERROR_CUT = 0.0  # "better than trivial": any reduction of the mean absolute error. Pilot (20 seeds per base,
                     # standard: bases 20260527, 1, 2; smoke, paper: 20260527, 1), smoke / standard / paper, XGBoost's
                     # error below the mean predictor's by:
                     # between the grid's points 0.21 / 0.14 / 0.09 (sd <= 0.02), beyond it 0.33 / 0.35 / 0.30,
                     # a grid end left out 0.31 / 0.30 / 0.17, an init left out 0.17 / 0.20 / 0.15 (sd <= 0.016)
INNER_REASON = (
    "measured (20 seeds per base): with a whole inner grid learning rate (1e-3 or 1e-2) left out of the fit, "
    "XGBoost's mean absolute error on it is LARGER than the mean predictor's: standard 0.324 vs 0.291 "
    "(difference -0.033, sd 0.007; bases 20260527, 1, 2: -0.033, -0.034, -0.033), smoke -0.005 (sd 0.006), "
    "paper -0.094 (sd 0.010). The untried value lands in a leaf of a tried neighbour two decades away, across "
    "the steepest rise of accuracy; at standard the nearest-configuration baseline (0.169) and a GP (0.157) do "
    "better than the mean")
NEAREST_REASON = (
    "measured (20 seeds per base): between the grid's points (3e-4, 3e-3, 3e-2) XGBoost's mean absolute error "
    "is LARGER than the nearest tried configuration's (same optimizer and init, linear in log lr): standard "
    "0.124 vs 0.050 (difference -0.075, sd 0.005; bases 20260527, 1, 2: -0.074, -0.076, -0.075), smoke -0.038 "
    "(sd 0.009), paper -0.054 (sd 0.007); beyond the grid both predict the end value (-0.002 to -0.004, shown, "
    "not asserted)")

CARD = Card(
    id="3.6",
    budget_s=45,
    title="A regressor on encoded configurations predicts learning rates and initializations never tried better "
          "than the mean, not better than the nearest tried configuration",
    question="Design a technique to explore an n-dimensional hyper-parameter space (e.g. grid search) with at least "
             "optimizer, initialization and initial learning rate, two or more options each. Seen as a feature "
             "space, could the model's performance be predicted for hyper-parameter values not observed?",
    answer="Grid search: train one model per point of optimizer {SGD+momentum, Adam} x initialization {PyTorch "
           "default, Xavier-normal, N(0, 0.01^2)} x initial learning rate {1e-4, 1e-3, 1e-2, 1e-1} (24 runs) and "
           "measure test accuracy. Each configuration is a row of X (one-hot optimizer, one-hot init, log10 lr) "
           "and its accuracy the entry of Y; a regressor (XGBoost) fitted on the tried rows predicts rows whose "
           "values were never tried. Measured over seeds (one grid per seed), XGBoost predicts better than the "
           "mean of the tried accuracies: at learning rates between the grid's points (3e-4, 3e-3, 3e-2) and half "
           "a decade beyond it (3e-5, 3e-1), at the grid's lowest or highest rate left out of the fit, and for an "
           "initialization left out; and its predictions rank the untried configurations (Spearman rho > 0). It "
           "is not better than trivial in the stronger sense (two strict xfails, numbers in their reasons): "
           "between the grid's points the nearest tried configuration (same optimizer and init, accuracy "
           "interpolated linearly in log lr) errs 4 to 8 points less (by scale), and with a whole inner grid "
           "rate left out (1e-3 or 1e-2, a two-decade gap across which accuracy rises steeply) XGBoost errs more "
           "than the mean. "
           "XGBoost's trees split the log-lr axis at the tried values, so along it the prediction is a step "
           "function (figure): an untried rate gets the prediction of a tried one (here the one below it), and "
           "beyond the grid the end value's, which is the nearest baseline's rule there; a tree ensemble cannot "
           "follow a trend. So the answer is yes in the weak sense (better than the mean), not in the strong one: "
           "interpolating along the learning rate of the same optimizer and initialization does at least as well. "
           "Model-based search (SMBO, Bayesian optimization) uses smooth surrogates such as a Gaussian process "
           "for that reason; here a GP (in the table, not asserted) is about as good as the nearest baseline "
           "between the grid's points, not consistently better.",
    method=f"Per seed, one grid (the seed is the unit of replication: it draws the digits split, every "
           f"initialization and batch order, shared by the grid's configurations): MLP 64-{BASE_WIDTH}-10 on "
           f"standardized digits, batch 128, {BASE_EPOCHS} epochs (smoke 2; paper 8 epochs, width "
           f"{2 * BASE_WIDTH}), trained at the 24 grid configurations and at 30 never fitted: learning rates "
           f"{', '.join(f'{v:g}' for v in BETWEEN)} (between the grid's points) and "
           f"{', '.join(f'{v:g}' for v in BEYOND)} (beyond it) for every optimizer and init. Held-out values "
           "(each configuration predicted by a fit that never saw its value): between and beyond, fitted on the "
           "grid; a grid end (1e-4 or 1e-1) left out, fitted on the other 18 grid runs; an inner grid rate (1e-3 "
           "or 1e-2) left out, likewise; an initialization left out, fitted on the 16 runs of the other two "
           "(one-hot: an unseen category). Predictors: the mean of the fitted accuracies; the nearest tried "
           "configuration (linear interpolation in log lr between the two nearest fitted rates of the same "
           "optimizer and init, the nearest rate's accuracy beyond them; for an init left out, the mean over the "
           "other inits at the same optimizer and rate); XGBoost (200 trees, depth 3, learning rate 0.1); a GP "
           "(constant x ARD RBF + white noise, normalized Y), declared before the pilot as the smooth alternative "
           "and shown only, since its difference from the nearest baseline changed sign with the training budget "
           "in pilots. Per-seed statistic: the mean absolute error over a way of holding out's predicted "
           f"configurations. Tests on sequential seeds, alpha {ALPHA}, about the median seed: one-sided paired sign "
           "tests over seeds that the mean predictor's (or the nearest baseline's) error exceeds XGBoost's, and a "
           "one-sided sign test over seeds that the median seed's Spearman rho between XGBoost's predictions and the "
           "measured accuracies of the 30 off-grid configurations exceeds 0. Which comparisons are asserted and "
           "which are strict xfails was decided from pilots (20 seeds per base; standard under bases 20260527, 1, "
           "2, smoke and paper under 20260527 and 1); the table and the figure show all of them.",
    control="The same procedure with Y shuffled across the 54 configurations of each seed (one permutation per "
            "seed: the same accuracies and noise, the link between configuration and accuracy removed); no check "
            "may be supported. Under the permutation the held-out accuracies are exchangeable given the fitted "
            "ones, so the expected Spearman rho is 0.",
)


def recipe(config: Config, epochs: int, width: int) -> Recipe:
    opt, init, lr = config
    return Recipe(arch=InitMLPConfig(64, (width,), 10, init), data=DataSpec("digits", standardize=True),
                  train=TrainSpec(epochs=epochs, lr=lr, batch_size=128, optimizer=opt))


def label(config: Config) -> str:
    return "/".join(map(str, config[:2])) + f"/{config[2]:g}"


def xgboost():
    from xgboost import XGBRegressor  # imported on use: about 2 s, and warm runs load cached results

    return XGBRegressor(n_estimators=200, max_depth=3, learning_rate=0.1, n_jobs=1, random_state=0)


def gaussian_process():
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    dims = len(SPACE.encode(SPACE.grid()[0]))
    kernel = ConstantKernel(1.0) * RBF(np.ones(dims), (1e-2, 1e3)) + WhiteKernel(1e-2, (1e-6, 1.0))
    return GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=2, random_state=0)


REGRESSORS = {"xgboost": xgboost, "gp": gaussian_process}
PREDICTORS = ("mean", "nearest", *REGRESSORS)


@measurement
def accuracies(zoo, seeds: list[int], epochs: int, width: int) -> dict[str, list[float]]:
    """{configuration label: test accuracy per seed} over the grid and the off-grid learning rates."""
    configs = SPACE.grid() + SPACE.grid(BETWEEN) + SPACE.grid(BEYOND)
    return {label(c): [evaluate(t.model, t.data.x_test, t.data.y_test)[1]
                       for t in zoo.trained_many(recipe(c, epochs, width), seeds)] for c in configs}


def seed_values(acc: dict[str, list[float]], i: int, seed: int, shuffled: bool) -> dict[str, float]:
    """Seed i's accuracy per configuration; permuted across all configurations when `shuffled` (the control)."""
    names, values = list(acc), np.array([acc[n][i] for n in acc])
    if shuffled:
        values = np.random.default_rng(derive(seed, "shuffle")).permutation(values)
    return dict(zip(names, values.tolist()))


@measurement
def held_out_errors(zoo, seeds: list[int], epochs: int, width: int, shuffled: bool) -> dict[str, list[float]]:
    """Per seed: '<held out>/<predictor>' -> mean absolute error over the held-out configurations, and
    'off grid/rho' -> Spearman rho of XGBoost's predictions and Y over the between + beyond configurations."""
    from sklearn.exceptions import ConvergenceWarning

    acc = accuracies(zoo, seeds, epochs, width)
    out: dict[str, list[float]] = {}
    for i, seed in enumerate(seeds):
        y = seed_values(acc, i, seed, shuffled)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)   # the GP's hyper-parameters at a bound
            preds = {name: pooled_predictions(SPACE, folds, lambda c: y[label(c)], REGRESSORS)
                     for name, folds in FOLDS.items()}
        for name, p in preds.items():
            for predictor in PREDICTORS:
                out.setdefault(f"{name}/{predictor}", []).append(float(np.abs(p[predictor] - p["measured"]).mean()))
        rho = scipy_stats.spearmanr(np.concatenate([preds[n]["xgboost"] for n in OFF_GRID]),
                                    np.concatenate([preds[n]["measured"] for n in OFF_GRID])).statistic
        out.setdefault("off grid/rho", []).append(0.0 if math.isnan(rho) else float(rho))
    return out


def per_seed_errors(evidence, zoo, arm: Arm):
    epochs, width = evidence.profile.epochs(BASE_EPOCHS), evidence.profile.width(BASE_WIDTH)
    return evidence.per_seed(lambda seeds: held_out_errors(zoo, seeds, epochs, width, shuffled=arm is Arm.CONTROL))


def lower_error(v: dict[str, list[float]], held_out: str, baseline: str, what: str):
    return stats.paired_greater(
        v[f"{held_out}/{baseline}"], v[f"{held_out}/xgboost"], min_effect=MIN_ERROR_CUT, alpha=ALPHA,
        name=f"{what}: XGBoost's mean absolute error is below the {baseline} predictor's",
        labels=(f"MAE {baseline}", "MAE xgboost"))


@claim(CARD)
def test_xgboost_predicts_learning_rates_and_inits_never_tried_better_than_the_mean(arm, evidence, zoo):
    per_seed = per_seed_errors(evidence, zoo, arm)
    for held_out, what in (("between", BETWEEN_TEXT), ("beyond", BEYOND_TEXT),
                           ("end left out", "the grid's lowest or highest lr left out"),
                           ("init left out", "an initialization left out")):
        evidence.check_over_seeds(per_seed, lambda v, h=held_out, w=what: lower_error(v, h, "mean", w))
    evidence.check_over_seeds(per_seed, lambda v: stats.greater_than(
        v["off grid/rho"], reference=0.0, min_effect=0.0, alpha=ALPHA,
        name="XGBoost's predictions rank the 30 off-grid configurations (per-seed Spearman rho > 0)",
        label="Spearman rho"), null_by_construction=None if arm is Arm.CLAIM else PERMUTED_NULL)
    v = per_seed.upto(len(per_seed.seeds))
    n = len(per_seed.seeds)
    evidence.table(f"Mean absolute error of each predictor on held-out values (mean over {n} seeds, sd)",
                   ["held out", "configurations per seed", *PREDICTORS],
                   [[name, sum(len(f.predicted) for f in FOLDS[name]),
                     *(f"{np.mean(v[f'{name}/{p}']):.3f} ({np.std(v[f'{name}/{p}'], ddof=1):.3f})"
                       for p in PREDICTORS)] for name in FOLDS])
    evidence.save_figure(errors_figure(v, n, arm), "held-out-errors")
    epochs, width = evidence.profile.epochs(BASE_EPOCHS), evidence.profile.width(BASE_WIDTH)
    seed = per_seed.seeds[0]
    y = seed_values(accuracies(zoo, [seed], epochs, width), 0, seed, shuffled=arm is Arm.CONTROL)
    evidence.save_figure(curves_figure(y, seed, arm), "accuracy-vs-lr")


@claim(CARD, xfail_claim=INNER_REASON)
def test_xgboost_predicts_an_inner_grid_learning_rate_left_out_better_than_the_mean(arm, evidence, zoo):
    per_seed = per_seed_errors(evidence, zoo, arm)
    evidence.check_over_seeds(per_seed, lambda v: lower_error(
        v, "inner left out", "mean", "an inner grid lr (1e-3 or 1e-2) left out"))


@claim(CARD, xfail_claim=NEAREST_REASON)
def test_xgboost_predicts_learning_rates_between_the_grid_points_better_than_the_nearest_configuration(
        arm, evidence, zoo):
    per_seed = per_seed_errors(evidence, zoo, arm)
    evidence.check_over_seeds(per_seed, lambda v: lower_error(v, "between", "nearest", BETWEEN_TEXT))


def errors_figure(v: dict[str, list[float]], n: int, arm: Arm):
    fig, ax = plt.subplots(figsize=(7.5, 4))
    colors = {"mean": "tab:grey", "nearest": "tab:green", "xgboost": "tab:blue", "gp": "tab:orange"}
    width = 0.8 / len(PREDICTORS)
    for j, p in enumerate(PREDICTORS):
        for k, name in enumerate(FOLDS):
            values = np.array(v[f"{name}/{p}"])
            x = k + (j - (len(PREDICTORS) - 1) / 2) * width
            ax.bar(x, values.mean(), width, color=colors[p], alpha=0.75, label=p if k == 0 else None)
            ax.scatter(np.full(len(values), x), values, s=6, color="black", zorder=3)
    ax.set_xticks(range(len(FOLDS)), list(FOLDS))
    what = "measured Y" if arm is Arm.CLAIM else "Y shuffled across configurations (control)"
    ax.set(ylabel="mean absolute error (accuracy)", title=f"3.6 held-out values: {what}, {n} seeds (dots)")
    ax.legend(fontsize=8, ncol=4, loc="upper center")
    ax.set_ylim(0, max(0.6, ax.get_ylim()[1] * 1.1))
    return fig


def curves_figure(y: dict[str, float], seed: int, arm: Arm):
    """Seed `seed`'s accuracy vs lr per optimizer and init: the grid (fitted), the off-grid runs (held out),
    and what XGBoost, the GP and the nearest baseline fitted on the grid predict along the lr axis."""
    from sklearn.exceptions import ConvergenceWarning

    grid = SPACE.grid()
    fitted_y = np.array([y[label(c)] for c in grid])
    x_fit = np.stack([SPACE.encode(c) for c in grid])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        models = {name: make().fit(x_fit, fitted_y) for name, make in REGRESSORS.items()}
    dense = np.logspace(math.log10(min(BEYOND)) - 0.25, math.log10(max(BEYOND)) + 0.25, 200)
    fig, axes = plt.subplots(len(SPACE.optimizers), len(SPACE.inits), figsize=(11, 6), sharex=True, sharey=True)
    styles = {"nearest": ("tab:green", "-"), "xgboost": ("tab:blue", "-"), "gp": ("tab:orange", "--")}
    for (r, opt), (c, init) in ((a, b) for a in enumerate(SPACE.optimizers) for b in enumerate(SPACE.inits)):
        ax = axes[r, c]
        line = [(opt, init, float(lr)) for lr in dense]
        curves = {"nearest": nearest_configuration(grid, fitted_y, line)}
        x_line = np.stack([SPACE.encode(k) for k in line])
        curves.update({name: np.ravel(m.predict(x_line)) for name, m in models.items()})
        for name, curve in curves.items():
            ax.plot(dense, curve, color=styles[name][0], ls=styles[name][1], lw=1.3)
        ax.scatter(SPACE.lrs, [y[label((opt, init, lr))] for lr in SPACE.lrs], color="black", s=28, zorder=3)
        off = BETWEEN + BEYOND
        ax.scatter(off, [y[label((opt, init, lr))] for lr in off], facecolors="white", edgecolors="red", s=34, zorder=3)
        for edge in (min(SPACE.lrs), max(SPACE.lrs)):
            ax.axvline(edge, color="grey", lw=0.6, ls=":")
        ax.set_xscale("log")
        ax.set_title(f"{opt}, {init}", fontsize=9)
        if r == len(SPACE.optimizers) - 1:
            ax.set_xlabel("initial learning rate")
        if c == 0:
            ax.set_ylabel("test accuracy")
    handles = [Line2D([], [], color=col, ls=ls, label=f"{name} (fitted on the grid)")
               for name, (col, ls) in styles.items()]
    handles += [Line2D([], [], ls="", marker="o", color="black", label="grid run (fitted)"),
                Line2D([], [], ls="", marker="o", markerfacecolor="white", markeredgecolor="red",
                       label="off-grid run (never fitted)")]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8)
    what = "measured" if arm is Arm.CLAIM else "Y shuffled across configurations (control)"
    fig.suptitle(f"3.6 one grid (seed {seed}), {what}: predictions along the learning-rate axis", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    return fig
