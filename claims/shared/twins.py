"""The residual/plain MLP twins of 7.5 (block deletion; the model family RESIDUAL_TWINS of claims/families.py), and
the training-fit measures 7.2 reuses for its own twins.

One recipe per (depth, residual): the same Recipe object in every claim means one cache entry,
trained once per seed. Digits, width 64, BN + He init (models/residual.py), Adam 1e-3, batch 64.
"""
from __future__ import annotations

import torch

from fixtures.training import TrainSpec, evaluate
from fixtures.zoo import DataSpec, Recipe
from models.residual import ResMLPConfig

WIDTH = 64
DEEP = 16      # pilot, 10 epochs: plain training loss 0.56-0.82 (74-85% train acc), residual 0.008-0.019
EPOCHS = 10    # pilot: the gap is clear at 10 (3 seeds); 20 epochs cost twice as much for the same verdict


def twin_recipe(profile, depth: int, residual: bool) -> Recipe:
    return Recipe(arch=ResMLPConfig(64, profile.width(WIDTH), depth, 10, residual=residual),
                  data=DataSpec("digits"),
                  train=TrainSpec(epochs=profile.epochs(EPOCHS), lr=1e-3, batch_size=64))


def train_loss(trained) -> float:
    """Cross-entropy on the whole training split, eval mode (BN running statistics)."""
    return evaluate(trained.model, trained.data.x_train, trained.data.y_train)[0]


def train_hits(trained) -> tuple[int, int]:
    with torch.no_grad():
        pred = trained.model(trained.data.x_train).argmax(1)
    return int((pred == trained.data.y_train).sum()), len(pred)
