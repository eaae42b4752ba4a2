"""The deep plain MLP on MNIST-1D (12 x 64) of claims 4.3, 4.4 and the MLP half of 4.5: the recipe of the model
family DEEP_MLP (claims/families.py).
"""
from __future__ import annotations

from claimcheck.config import ScaleProfile
from fixtures.training import TrainSpec
from fixtures.zoo import DataSpec, Recipe
from models.mlp import MLPConfig

MNIST1D_FEATURES, MNIST1D_CLASSES = 40, 10

# Deep plain MLP: Masarczyk et al.'s tunnel needs depth; 12 x 64 on MNIST-1D shows it. Trained to fit its
# training set: at Adam 1e-3 for 20 epochs it was still under-trained (pilot, 5 seeds: training accuracy
# 0.55-0.58, test 0.45-0.51, still rising); Adam 3e-3 for 40 epochs reaches training accuracy 0.77-0.81 and test
# 0.51-0.57 (60 epochs add ~0.01 test accuracy), with the tunnel intact (probe accuracy flat from layer ~4,
# numerical rank 4-13 in layers 7-12 against 64 at layer 1). 40 epochs at every scale: smoke's 20 left it at
# training accuracy ~0.62 (3 seed bases), the under-trained regime this claim must not rest on.
DEEP_MLP_WIDTH, DEEP_MLP_DEPTH, DEEP_MLP_EPOCHS, DEEP_MLP_LR = 64, 12, 40, 3e-3


def deep_mlp_recipe(profile: ScaleProfile) -> Recipe:
    arch = MLPConfig(MNIST1D_FEATURES, (profile.width(DEEP_MLP_WIDTH),) * DEEP_MLP_DEPTH, MNIST1D_CLASSES)
    return Recipe(arch=arch, data=DataSpec("mnist1d"),
                  train=TrainSpec(epochs=profile.epochs(DEEP_MLP_EPOCHS, at_least=DEEP_MLP_EPOCHS), lr=DEEP_MLP_LR,
                                  batch_size=128),
                  keep_init=True)
