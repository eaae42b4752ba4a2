"""The seed families that several claims share, and every family's floor, in one place.

A claim's checks draw seeds from its own family (named by its id) unless they share trained models
with another claim: then both name the same family here, and the models are cached under the same
seeds. A floor raises the first look of every check on the family, at every scale (see
claimcheck/seeds.py::SeedFamily and claimcheck/sequential.py).
"""
from __future__ import annotations

from claimcheck.seeds import SeedFamily

SWISH_VS_RELU = SeedFamily(
    "3.4", floor=5,
    why="the Swish - ReLU difference has sd ~1.5 pp at 20 epochs (pilot, 10 seeds): 3 seeds cannot reach "
        "alpha at the 2-point margin")

CONFIDENCE_PENALTY = SeedFamily(
    "3.5", floor=5,
    why="smoke's 3 seeds measured a 0.065 confidence drop at p = 0.011 (pilot): too few for alpha 0.01")

RESIDUAL_TWINS = SeedFamily(
    "residual-twins",
    why="the residual/plain MLP twins of claims/section7/twins.py, trained once per seed and shared by 7.2 "
        "(degradation), 7.5 (block deletion) and 6.5 (loss landscapes)")
