"""The families of seeds and trained models that claims share, and every family's floor, in one place.

A claim's checks draw seeds from its own family (named by its id) unless they share trained models with another
claim, or need a floor: then they name a family here.

- A SeedFamily names seeds: every check on it, in any claim, gets the same seeds. Its floor raises the first look
  of every check on the family, written for standard and scaled by the profile (3/5 at smoke:
  claimcheck/config.py::ScaleProfile.seed_floor; claimcheck/seeds.py::SeedFamily, claimcheck/sequential.py), and
  `why` gives the floor's provenance.
- A ModelFamily is a SeedFamily whose models are trained from one recipe (its code in a claims/shared/ module): a
  claim builds the recipe with `FAMILY.recipe(evidence.profile, ...)`, trains it with `zoo.trained_many(recipe,
  seeds)` and draws the seeds with `evidence.per_seed(values_for, family=FAMILY)`, so every claim of the family
  trains the same models for the same seeds and loads them from the cache.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from claimcheck.seeds import SeedFamily
from claims.shared import deep_mlp, residual_cnn, resolution, twins
from fixtures.zoo import Recipe


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelFamily(SeedFamily):
    """A seed family and the recipe its models are trained from: `recipe(profile, *variant)` -> Recipe (the
    variant, for a family of several models, e.g. the residual and the plain twin)."""

    recipe: Callable[..., Recipe]


SWISH_VS_RELU = SeedFamily(
    "3.4", floor=5,
    why="the Swish - ReLU difference has sd ~1.5 pp at 20 epochs (pilot, 10 seeds): 3 seeds cannot reach "
        "alpha at the 2-point margin")

CONFIDENCE_PENALTY = SeedFamily(
    "3.5", floor=40,
    why="the accuracy non-inferiority of beta = 0.3 to cross-entropy (2-point margin, per-seed difference sd 1.1-2 "
        "points) holds in 80-100% of seeds per base (sweeps: 12 of 15 at smoke, 85-100% at standard); at 15-25 "
        "seeds its sign test ended INCONCLUSIVE at smoke (base 2) and replayed 0.935 at standard; at 40 its exact "
        "power is 0.957 at 80% of seeds, 0.996 at 85% (two MNIST-1D MLPs a seed, under a second each)")

RESIDUAL_TWINS = ModelFamily(
    "residual-twins", recipe=twins.twin_recipe,
    why="the residual/plain MLP twins of claims/shared/twins.py (digits), trained once per seed for 7.5 (block "
        "deletion); 7.2 and 6.5 train twins of their own (claims/section7/degradation.py, "
        "claims/section6/test_loss_landscape.py)")

DIGIT_CNN = ModelFamily(
    "digit-cnn", recipe=resolution.cnn_recipe,
    why="the 8 x 8 digit CNN of claims/shared/resolution.py (cnn_recipe), trained once per seed (6.1's layer "
        "separability)")

FIXRES = SeedFamily(
    "6.2-fixres", floor=5,
    why="the rendered-digit ResNets of claims/section6/fixres.py (crops 8-100% at 16 and 24 px, translation-only at "
        "16 px), trained once per seed and shared by 6.2's two FixRes tests; the floor of 5 trains five at smoke's "
        "first look for the exact checks that read it (the sign tests of the median seed decide only from 7 seeds "
        "at alpha 0.01: from the third look at smoke, the second at standard)")

FULLY_CONV = ModelFamily(
    "fully-conv", floor=5, recipe=resolution.fcn_recipe,
    why="the fully convolutional digit classifier of claims/shared/resolution.py (fcn_recipe, 20 epochs at every "
        "scale), shared by 6.4 and 6.3; five seeds at smoke's first look for the checks that read them (6.3's "
        "accuracy gap to 8 px -0.7 points, sd 0.8, pilot); the sign tests of the median seed decide only from 7 "
        "seeds at alpha 0.01")

LEAKAGE_SIMULATIONS = SeedFamily(
    "1.1", floor=50,
    why="one simulated data set per seed (cheap, no training: ~0.7 s per data set for the three models); the six "
        "'accuracy is chance' sign TOSTs at +/-3 pp must all hold, with their margin only ~1.2 sd of the per-seed "
        "accuracy away (sd 1.8-2.7 pp, mean -0.4 to +0.5 pp from chance; pilot, 4 seed bases x 80 data sets); "
        "replayed (python -m claimcheck.replay --floor 1.1=N), the sign TOSTs pass again 0.80-0.83 of the time at "
        "20 data sets, 0.94-0.97 at 40, 0.98-0.99 at 50")

CORESET_SPLITS = SeedFamily(
    "1.6", floor=50,
    why="one digits split per seed, 8 k-center selections and 8 random subsets on it (no training, ~0.15 s); the 1-NN "
        "gain of the k-center core-sets over random subsets is small against its spread (pilot, 4 seed bases x 80 "
        "splits: +1.65 to +1.75 pp, sd 0.90 to 0.97 pp, so ~90% of seeds exceed the 0.5 pp minimum gain); the "
        "catalogue sized it at >= 20 paired seeds; the sign test of the median gain at alpha 0.01 has exact power "
        "0.96 at 20 seeds when 90% of seeds exceed the minimum, 0.998 at 30 (0.83 and 0.97 at 85%); the sweep at 30 "
        "(6 standard bases) saw 25-29 of 30 seeds above it and replayed pass rates 0.965-1.0: at 50 "
        "power is 0.9999 at 85%")

RANDOM_LABELS = SeedFamily(
    "2.3", floor=10,
    why="'fits random labels' is a rate over seeds: even when every seed fits, the exact binomial test of a rate "
        "above 0.5 has p = 0.5^n, which reaches the first look's share of alpha 0.01 (0.001-0.004) only from "
        "10 seeds")

DEEP_MLP = ModelFamily(
    "mnist1d-deep-mlp", floor=5, recipe=deep_mlp.deep_mlp_recipe,
    why="the deep plain MLP of claims/shared/deep_mlp.py (12 x 64 on MNIST-1D), trained once per seed and shared "
        "by 4.3 (concatenated layers), 4.4 (tunnel) and 4.5's MLP table; five seeds at smoke's first look, as at "
        "standard (its paired sign tests decide only from 7 seeds at alpha 0.01)")

RESIDUAL_CNN = ModelFamily(
    "digits-residual-cnn", floor=10, recipe=residual_cnn.residual_cnn_recipe,
    why="the residual CNN of claims/shared/residual_cnn.py, shared by 4.5's claim and control (5.3 trains its "
        "recipe differently, on seeds of its own); 'some layer is robust' "
        "and 'some layer is critical' are rates over seeds, and even when every seed has the property the exact "
        "binomial test of a rate above 0.5 has p = 0.5^n, below the first look's share of alpha 0.01 only from "
        "10 seeds")

SIMULATED_REPRESENTATIONS = SeedFamily(
    "4.2-simulated", floor=50,
    why="4.2's independent Gaussian representations (numpy only, about a millisecond per seed); the debiased CKA "
        "TOST at +/-0.1 (per-seed sd 0.056-0.057 at p = 80 and at p = 10, pilot 4 seed bases x 60) went to 12 seeds "
        "at smoke and replayed at 0.93 (0.88-1.0 over 4 bases x 5 replay seeds from smoke's 3); from 20 seeds at the "
        "first look it replayed at 1.0 at every base and scale under the t-TOST; the sign TOST at 20 (17-20 of 20 "
        "seeds inside each edge, 6 standard bases) replayed 0.93-1.0, so 50")

TIMING_BLOCKS = SeedFamily(
    "4.1 timing blocks", floor=10,
    why="a timing block (paired rounds in a seeded order) is the unit of 4.1's latency sign tests: 10 blocks at the "
        "first look, up to 25 at standard (pilot block-to-block sd of the log ratio 0.01-0.05 quiet, 0.1-0.4 beside "
        "busy processes)")
