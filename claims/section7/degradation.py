"""7.2's plain/residual MLP twins on MNIST-1D, where He et al.'s degradation persists as the budget grows.

The twins of claims/shared/twins.py (digits, 7.5's) do not serve 7.2: digits is nearly
linearly separable, so with twice the epochs and width (paper scale) the plain 16-block net catches up with
the plain 2-block one (gap 0.0086 nats, 10 seeds). On MNIST-1D (4,000 training signals of length 40, the
package's default data set, the same for every seed; seeds vary initialization and batch order) the shallow
net is far from zero loss, and the deep plain net's deficit stays put as the budget doubles.

Pilot (3-6 seeds, 1 thread, training cross-entropy on the whole training split, eval mode), plain nets:

    width, epochs      2 blocks     8 blocks     16 blocks  16 - 2 (mean)     8 - 2 (mean)            24 blocks
    64, 5 (smoke)      1.24-1.28    1.25-1.26    1.80-1.90  0.56-0.62 (0.60)  -0.02 to 0.03 (0.00)    -
    64, 10 (standard)  0.96-1.01    0.90-0.94    1.45-1.54  0.45-0.58 (0.50)  -0.10 to -0.02 (-0.07)  1.92-2.17
    128, 20 (paper)    0.101-0.107  0.069-0.080  0.64-0.73  0.54-0.63 (0.57)  -0.04 to -0.03 (-0.03)  1.15-1.16
    64, 40             0.20-0.23    0.17-0.20    0.74-0.77  0.52-0.55 (0.54)  -0.06 to -0.02 (-0.04)  1.15-1.31
    128, 40            0.011-0.013  0.014-0.023  0.15-0.21  0.14-0.20 (0.18)  0.00 to 0.01 (0.01)     0.66-0.67

(standard: 6 seeds; the others 3.) The gap stays at 0.5-0.6 nats from smoke to paper and at four times the
epochs; only at 4x epochs and 2x width, with the 2-block net near zero loss, does it narrow (to 0.18).

Residual 16 blocks (2 blocks): 0.96-1.02 (1.29-1.30) at smoke, 0.56-0.70 (1.02-1.07) at standard, 0.014-0.047
(0.22-0.23) at paper. At 24 blocks and the standard budget the plain net barely leaves chance (18-26% training
accuracy); at 8 it is not worse than at 2 yet (the control's depth).
"""
from __future__ import annotations

from claimcheck.config import ScaleProfile
from fixtures.training import TrainSpec
from fixtures.zoo import DataSpec, Recipe
from models.residual import ResMLPConfig

MNIST1D_FEATURES, MNIST1D_CLASSES = 40, 10
WIDTH = 64     # x2 at paper scale (profile.width)
EPOCHS = 10    # x0.5 at smoke, x2 at paper (profile.epochs): the gap is 0.45-0.63 nats at all three budgets
DEEP = 16      # degraded, not broken: 40-44% training accuracy at standard, 28-32% at smoke, 72-78% at paper
MID = 8        # the control: plain 8 - plain 2 = -0.06 (standard), -0.03 (paper), 0.00 (smoke) nats
SHALLOW = 2
LR, BATCH = 1e-3, 64


def degradation_recipe(depth: int, residual: bool, profile: ScaleProfile) -> Recipe:
    """A twin of `depth` Linear-BN-ReLU blocks (He init, models/residual.py), with or without identity skips,
    trained with Adam on MNIST-1D at this scale's budget."""
    return Recipe(arch=ResMLPConfig(MNIST1D_FEATURES, profile.width(WIDTH), depth, MNIST1D_CLASSES,
                                    residual=residual),
                  data=DataSpec("mnist1d"),
                  train=TrainSpec(epochs=profile.epochs(EPOCHS), lr=LR, batch_size=BATCH))
