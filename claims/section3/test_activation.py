"""3.4: an activation function (Swish, x * sigmoid(beta x)) proposed and tested."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import expit, lambertw

from claimcheck import stats
from claimcheck.evidence import Arm, Card, claim
from claims import families
from fixtures.training import TrainSpec, evaluate
from fixtures.zoo import DataSpec, Recipe
from models.proposals import ActivationMLPConfig, Swish

CARD = Card(
    id="3.4",
    budget_s=7,
    title="Swish, x sigmoid(beta x): exact properties, and not worse than ReLU on MNIST-1D",
    question="Propose an activation function.",
    answer="Swish (Ramachandran et al. 2018): f(x) = x sigmoid(beta x), f'(x) = s + beta x s (1 - s) with "
           "s = sigmoid(beta x). It is smooth, unbounded above, bounded below and non-monotone: its minimum is "
           "-W(1/e)/beta ~ -0.2785/beta at x = -(1 + W(1/e))/beta ~ -1.2785/beta (W = Lambert W). As beta -> inf it "
           "tends to ReLU (sup |f - ReLU| = W(1/e)/beta) and as beta -> 0 to the linear x/2 (|f - x/2| <= beta x^2/4), "
           "so beta interpolates between a linear unit and ReLU. The paper's ImageNet gains are out of reach of our "
           "seed counts; what we measure is whether, on MNIST-1D, a Swish MLP (beta = 1) is at most 2 accuracy points "
           "worse than the same ReLU MLP after 20 epochs: it is, and in pilots it was 2.5-2.8 points better (not "
           "asserted as a gain; the table below gives the run's accuracies).",
    method="Properties (hypothesis over x and beta, oracle scipy.special.lambertw): f >= its closed-form minimum, "
           "attained with zero derivative; the two limits' error bounds; autograd's derivative equals the formula "
           "and central finite differences. Training: MLP 40-64-64-10 on standardized MNIST-1D, Adam 1e-2, batch "
           "256, 20 epochs (never fewer), identical initial weights and batches for both activations per seed; "
           "the median seed's test accuracy by a one-sided paired non-inferiority sign test with a 2-point margin "
           "at alpha 0.01, on sequential seeds (at least 5 at the first look); and, in both arms, a sign test over "
           "seeds that the contender's test accuracy in the median seed is more than 0.1 above chance (0.1): it "
           "trains.",
    control="The identity activation, trained the same way: the MLP is then a linear map, which trains (about 32% "
            "test accuracy, MNIST-1D's logistic-regression level, far above chance) but is known to be worse than "
            "the ReLU MLP by far more than the margin (pilot: 28 points). The same non-inferiority test must fail.",
)
W = float(lambertw(1 / np.e).real)   # 0.27846...: the oracle for Swish's minimum
BASE_EPOCHS = 20
MIN_EPOCHS = 20      # pilot (10 seeds): Swish - ReLU = -0.9 pp (sd 1.7) at 10 epochs, +2.2 pp (sd 1.5) at 20; a
                     # shorter (smoke) budget would measure learning speed, not the activation's final accuracy
MARGIN = 0.02        # non-inferiority margin: 2 accuracy points, about one test-sampling SE of the difference
ALPHA = 0.01
LINEAR = ("identity", 1.0)   # pilot (10 + 15 seeds, two bases, 20 epochs): test accuracy 31.8% and 31.7% (sd 0.8-0.9),
                             # 27.9 and 27.1 points below ReLU (sd 1.8-2.1); Swish - ReLU +2.5 and +2.8 (sd 1.6-1.7)
CHANCE = 0.1
MIN_ABOVE_CHANCE = 0.1   # "it trains": identity's 31.8% (MNIST-1D's logistic reference 32%) is 22 points above chance
TOL = 1e-9


def recipe(activation: str, param: float, epochs: int) -> Recipe:
    return Recipe(arch=ActivationMLPConfig(40, (64, 64), 10, activation, param),
                  data=DataSpec("mnist1d", standardize=True), train=TrainSpec(epochs=epochs, lr=1e-2, batch_size=256))


@claim(CARD, control=False)
def test_swish_has_its_closed_form_minimum_and_tends_to_relu_and_to_x_over_2(arm, evidence):
    examples = evidence.profile.examples

    @stats.property_settings(examples)
    @given(x=st.floats(-50, 50), log_beta=st.floats(-4, 4))
    def check(x, log_beta):
        beta = 10.0 ** log_beta
        swish = Swish(beta)
        t = torch.tensor([x, -(1 + W) / beta], dtype=torch.float64, requires_grad=True)
        f = swish(t)
        (grad,) = torch.autograd.grad(f.sum(), t)
        fx, fmin = f[0].item(), f[1].item()
        assert abs(fmin + W / beta) <= TOL * (1 + W / beta), "minimum value is not -W(1/e)/beta"
        assert abs(grad[1].item()) <= 1e-9, "derivative at the minimum is not 0"
        assert fx >= fmin - TOL, f"f({x}) = {fx} is below the minimum {fmin}"
        assert abs(fx - max(x, 0.0)) <= W / beta + TOL * (1 + abs(x)), "farther from ReLU than W(1/e)/beta"
        assert abs(fx - x / 2) <= beta * x * x / 4 + TOL * (1 + abs(x)), "farther from x/2 than beta x^2/4"
        s = float(expit(beta * x))
        assert abs(grad[0].item() - (s + beta * x * s * (1 - s))) <= 1e-9 * (1 + beta * abs(x)), "f' differs"
        h = 1e-6 / max(1.0, beta)
        at = torch.tensor([x + h, x - h], dtype=torch.float64)
        fd = (swish(at)[0] - swish(at)[1]) / (2 * h)
        assert abs(fd.item() - grad[0].item()) <= 1e-4 * (1 + beta * abs(x)), "finite differences differ"

    evidence.check(stats.property_holds(
        check, name="min -W(1/e)/beta at -(1+W)/beta; |f - relu| <= W/beta; |f - x/2| <= beta x^2/4; f' formula",
        examples=examples))
    at = torch.tensor([-1.2785], dtype=torch.float64)
    evidence.check(stats.exact(abs(Swish(1.0)(at).item() + 0.2785) < 1e-4, name="beta = 1: f(-1.2785) = -0.2785",
                               detail=f"f(-1.2785) = {Swish(1.0)(at).item():.6f}; W(1/e) = {W:.6f}"))


@claim(CARD)
def test_swish_mlp_is_not_worse_than_relu_on_mnist1d(arm, evidence, zoo):
    epochs = evidence.profile.epochs(BASE_EPOCHS, at_least=MIN_EPOCHS)
    name, param = ("swish", 1.0) if arm is Arm.CLAIM else LINEAR

    def accuracies(seeds: list[int]) -> dict[str, list[float]]:
        acc = {}
        for label, act in ((name, (name, param)), ("relu", ("relu", 1.0))):
            runs = zoo.trained_many(recipe(*act, epochs), seeds)   # a look's seeds trained stacked
            acc[label] = [evaluate(t.model, t.data.x_test, t.data.y_test)[1] for t in runs]
        return acc

    per_seed = evidence.per_seed(accuracies, family=families.SWISH_VS_RELU)
    decision = evidence.check_over_seeds(per_seed, lambda acc: stats.non_inferior(
        acc[name], acc["relu"], margin=MARGIN, alpha=ALPHA,
        name=f"{name} MLP test accuracy is at most {MARGIN:.0%} below ReLU's", labels=(name, "relu")))
    evidence.check_over_seeds(per_seed, lambda acc: stats.greater_than(
        acc[name], reference=CHANCE, min_effect=MIN_ABOVE_CHANCE, alpha=ALPHA, label=f"{name} test accuracy",
        name=f"the {name} MLP trains: test accuracy above chance + {MIN_ABOVE_CHANCE:g}"), expect=True)
    seeds, acc = per_seed.used_by(decision)
    evidence.table(f"MNIST-1D test accuracy after {epochs} epochs", ["seed", "relu", f"{name} ({param})"],
                   [[s, r, a] for s, r, a in zip(seeds, acc["relu"], acc[name])])
