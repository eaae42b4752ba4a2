"""Seeds derived from identity: the base seed, the claim id and the seed index.

A claim's seeds never depend on test order or on which xdist worker runs it, so any failure
reproduces alone with the same `--claims-seed`.
"""
from __future__ import annotations

import dataclasses
import hashlib


def derive(base: int, *parts: object) -> int:
    """A 31-bit seed from the base and any identifying parts (claim id, arm, seed index, ...)."""
    text = ":".join(str(p) for p in (base, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") & 0x7FFFFFFF


def claim_seeds(base: int, claim_id: str, count: int) -> list[int]:
    """The seeds of one claim: seed i is the same in every run with this base."""
    return [derive(base, claim_id, i) for i in range(count)]


@dataclasses.dataclass(frozen=True)
class SeedFamily:
    """A named sequence of seeds: seed i is derive(base, name, i) in every run with that base.

    The one seed concept of the suite. Every per-seed check draws its seeds from a family: by default
    the claim's own (named by its id); claims that share trained models share a family (their models
    are cached under the same seeds). `floor` raises the first look of every check on the family to
    at least that many seeds, for checks whose test has no power below it; it is written for the standard
    scale and scaled to the run's profile where the schedule is built (config.ScaleProfile.seed_floor: 3/5 at
    smoke, as it is at paper).
    """

    name: str
    floor: int = 0
    why: str = ""  # provenance of the floor, shown on the card

    def seeds(self, base: int, count: int) -> list[int]:
        return claim_seeds(base, self.name, count)
