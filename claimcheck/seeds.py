"""Seeds derived from identity: the base seed, the claim id and the seed index.

A claim's seeds never depend on test order or on which xdist worker runs it, so any failure
reproduces alone with the same `--claims-seed`.
"""
from __future__ import annotations

import hashlib
import random
import sys

import numpy as np


def derive(base: int, *parts: object) -> int:
    """A 31-bit seed from the base and any identifying parts (claim id, arm, seed index, ...)."""
    text = ":".join(str(p) for p in (base, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") & 0x7FFFFFFF


def claim_seeds(base: int, claim_id: str, count: int) -> list[int]:
    """The seeds of one claim: seed i is the same in every run with this base."""
    return [derive(base, claim_id, i) for i in range(count)]


def seed_everything(seed: int) -> None:
    """Seed torch, numpy's legacy global RNG and random (for code that reads global state).

    torch is seeded when it has been imported, which every module that uses it does at its top (a
    run of claims without torch never pays for importing it).
    """
    random.seed(seed)
    np.random.seed(seed % (2**32))
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
