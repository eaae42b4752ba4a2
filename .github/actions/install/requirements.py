"""The requirements files the install action feeds to pip, from the installed dl-claims's own metadata (so every
version range is pyproject.toml's, written in one place):

    python requirements.py OUT [--extras "dev"] [--only "numpy jinja2 pytest"]

writes OUT/torch.txt (torch and torchvision: for PyTorch's CPU index) and OUT/other.txt (everything else, for
PyPI, with xgboost's CPU build `xgboost-cpu` in place of `xgboost` under the same range). --extras adds those
optional-dependency groups; --only keeps just the named dependencies (and fails on a name the project does not
depend on). Run it after `python -m pip install -e . --no-deps`. Standard library only (Python 3.10+)."""
from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "dl-claims"
CPU_INDEX = ("torch", "torchvision")         # PyTorch's CPU wheels: https://download.pytorch.org/whl/cpu
CPU_BUILDS = {"xgboost": "xgboost-cpu"}      # the same package without its CUDA part
NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
EXTRA = re.compile(r"""^\s*extra\s*==\s*["']([^"']+)["']\s*$""")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def split(requirements: list[str], extras: set[str], only: set[str]) -> tuple[list[str], list[str]]:
    """(lines for the CPU index, lines for PyPI) from the distribution's Requires-Dist lines."""
    torch, other, seen = [], [], set()
    for line in requirements:
        spec, _, marker = line.partition(";")
        if marker.strip():
            extra = EXTRA.match(marker)
            if extra is None:
                raise SystemExit(f"requirements.py: a marker it does not know how to read: {line!r}")
            if canonical(extra.group(1)) not in extras:
                continue
        name = NAME.match(spec).group(1)
        key = canonical(name)
        if only and key not in only:
            continue
        seen.add(key)
        rest = spec.strip()[len(name):]
        if key in CPU_INDEX:
            torch.append(spec.strip())
        else:
            other.append(CPU_BUILDS.get(key, name) + rest)
    missing = only - seen
    if missing:
        raise SystemExit(f"requirements.py: {DISTRIBUTION} does not depend on {', '.join(sorted(missing))}")
    return torch, other


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for torch.txt and other.txt")
    parser.add_argument("--extras", default="", help="optional-dependency groups, space-separated")
    parser.add_argument("--only", default="", help="only these dependencies, space-separated names")
    args = parser.parse_args(argv)
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        raise SystemExit(f"requirements.py: {DISTRIBUTION} is not installed (python -m pip install -e . --no-deps)")
    torch, other = split(requirements, {canonical(e) for e in args.extras.split()},
                         {canonical(n) for n in args.only.split()})
    args.out.mkdir(parents=True, exist_ok=True)
    for name, lines in (("torch.txt", torch), ("other.txt", other)):
        (args.out / name).write_text("".join(f"{line}\n" for line in lines))
        print(f"{args.out / name}: {' '.join(lines) or '(none)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
