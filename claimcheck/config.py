"""Run configuration: scale profiles and the validated options of one pytest run."""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
from pathlib import Path

DEFAULT_SEED_BASE = 20260527  # fixed so that the same command gives the same numbers
STANDARD_FIRST_LOOK = 5       # the standard scale's first-look seeds, for which seed-family floors are written


@dataclasses.dataclass(frozen=True)
class ScaleProfile:
    """Sizes a claim reads instead of writing literal epoch counts or seed counts.

    seeds: seeds at the first look of a sequential check (it extends to 5x; claimcheck/sequential.py).
    epoch_factor: multiplies a claim's base epoch count (rounded up, at least 1).
    width_factor: multiplies a claim's base width (paper scale grows the models).
    data_fraction: fraction of a claim's base sample count (smoke runs on less data).
    examples: hypothesis examples per property test.
    inconclusive_skips: a scale for iterating, not for verdicts (smoke): a check that reaches its last look
        undecided (INCONCLUSIVE) ends its arm as a pytest skip that names the check and the seeds it would need,
        not as a failure (claimcheck/evidence.py); a decided wrong verdict still fails. At the other scales every
        check must decide.
    """

    name: str
    seeds: int
    epoch_factor: float
    width_factor: float
    data_fraction: float
    examples: int
    inconclusive_skips: bool = False

    def epochs(self, base: int, *, at_least: int | None = None) -> int:
        """base x epoch_factor, rounded up, at least 1, and at least `at_least` when given (e.g. the base itself:
        a smaller scale does not train less)."""
        scaled = max(1, math.ceil(base * self.epoch_factor))
        return scaled if at_least is None else max(scaled, at_least)

    def width(self, base: int) -> int:
        return max(1, round(base * self.width_factor))

    def samples(self, base: int) -> int:
        return max(1, round(base * self.data_fraction))

    def seed_floor(self, floor: int) -> int:
        """A seed family's floor (claimcheck/seeds.py, written for standard's first look of STANDARD_FIRST_LOOK
        seeds) at this scale: scaled by this scale's first look over standard's where that is smaller (smoke:
        3/5, rounded up: 40 -> 24, 50 -> 30, 10 -> 6), kept as it is where it is not (paper's first look is
        already 10). The one place the rule lives: the schedule of every check is built with it
        (Evidence.per_seed)."""
        return -(-floor * min(self.seeds, STANDARD_FIRST_LOOK) // STANDARD_FIRST_LOOK)


PROFILES: dict[str, ScaleProfile] = {
    "smoke": ScaleProfile("smoke", seeds=3, epoch_factor=0.5, width_factor=1.0,
                          data_fraction=0.5, examples=15, inconclusive_skips=True),
    "standard": ScaleProfile("standard", seeds=STANDARD_FIRST_LOOK, epoch_factor=1.0, width_factor=1.0,
                             data_fraction=1.0, examples=40),
    "paper": ScaleProfile("paper", seeds=10, epoch_factor=2.0, width_factor=2.0,
                          data_fraction=1.0, examples=200),
}
DEVICES = ("auto", "cpu", "cuda")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything a claim may read about the run; built once from the command line and the ini file."""

    profile: ScaleProfile
    seeds: int
    seed_base: int
    device: str  # resolved: "cpu" or "cuda" ("auto" only on an xdist controller, which runs no test)
    report_dir: Path
    cache_dir: Path
    root: Path = Path(".")                 # the project root (pytest's rootdir)
    packages: tuple[str, ...] = ()         # ini claims_packages: versions in every stored key and the report
    sources: tuple[str, ...] = ()          # ini claims_sources: folders whose code stored measurements follow
    project_identity: tuple[tuple[str, object], ...] = ()  # from pytest_claims_run_identity hooks
    title: str = "claimcheck"              # ini claims_title: names the report, the summary and the header
    reference_s: float | None = None       # --claims-reference: the project's reference workload, measured first
    shard: tuple[int, int] | None = None   # --claims-shard G/N: (G, N)

    @property
    def scale(self) -> str:
        return self.profile.name

    def identity(self) -> dict:
        """What of the run a stored result may depend on (not the report or cache folders)."""
        return {"scale": self.scale, "seed_base": self.seed_base, "seeds": self.seeds, "device": self.device,
                **dict(self.project_identity)}

    def describe(self) -> str:
        from claimcheck.sequential import LOOK_MULTIPLES

        return (f"scale={self.scale} seeds={self.seeds}->{self.seeds * LOOK_MULTIPLES[-1]} (sequential) "
                f"seed-base={self.seed_base} "
                f"device={self.device} "
                f"report={self.report_dir} cache={self.cache_dir}")


# --- option parsers: each names its flag and the accepted values -------------------------------

def _choice(flag: str, valid: tuple[str, ...]):
    def parse(value: str) -> str:
        if value not in valid:
            raise argparse.ArgumentTypeError(
                f"{flag}: invalid value {value!r}; valid values are: {', '.join(valid)}")
        return value
    parse.__name__ = flag.lstrip("-").replace("-", "_")
    return parse


parse_scale = _choice("--claims-scale", tuple(PROFILES))
parse_device = _choice("--claims-device", DEVICES)


def _int_at_least(flag: str, low: int):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or number < low:
            raise argparse.ArgumentTypeError(
                f"{flag}: invalid value {value!r}; expected an integer >= {low}")
        return number
    parse.__name__ = flag.lstrip("-").replace("-", "_")
    return parse


def writable_folder(flag: str, value: str, root: Path) -> Path:
    """The folder of `flag`, relative paths taken from the project root (pytest's rootdir). It must be a
    writable directory, or not exist yet under a writable one (it is created when first written to).
    Raises ValueError naming the flag otherwise."""
    if not str(value).strip():
        raise ValueError(f"{flag}: empty value; expected a folder path")
    path = (root / Path(value).expanduser()).resolve()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{flag}: {value!r} is a file, not a folder")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{flag}: cannot write to {value!r} ({existing} is not a writable folder)")
    return path


def parse_shard(value: str) -> tuple[int, int]:
    """--claims-shard G/N: group G (1-based) of N groups."""
    group, _, groups = value.partition("/")
    if not (group.strip().isdigit() and groups.strip().isdigit()) or not 1 <= int(group) <= int(groups):
        raise argparse.ArgumentTypeError(f"--claims-shard: invalid value {value!r}; expected G/N with "
                                         f"1 <= G <= N, e.g. 1/3")
    return int(group), int(groups)


parse_shard.__name__ = "claims_shard"
parse_seed_count = _int_at_least("--claims-seeds", 2)
parse_seed_base = _int_at_least("--claims-seed", 0)


def resolve_device(requested: str, cuda_available: bool) -> str:
    """Map auto/cpu/cuda to a concrete device; asking for cuda without CUDA is a usage error."""
    if requested == "cuda" and not cuda_available:
        raise ValueError("--claims-device cuda: CUDA is not available on this machine; valid values here: auto, cpu")
    if requested == "auto":
        return "cuda" if cuda_available else "cpu"
    return requested
