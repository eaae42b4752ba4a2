"""What identifies a stored result besides its own arguments: library versions, code fingerprints, files.

Every stored measurement's spec holds the versions of the project's packages (ini `claims_packages`)
and a sha256 of the project's sources (ini `claims_sources`) and of the engine modules a value can
depend on, so editing a measurement or upgrading a library misses the store instead of reusing a
stale result.
"""
from __future__ import annotations

import functools
import hashlib
import sys
from importlib import metadata
from pathlib import Path

ENGINE_DIR = Path(__file__).resolve().parent
# Engine modules that only decide, render or gather results: no measurement or figure depends on them, so
# editing them keeps the store warm.
REPORTING_MODULES = frozenset({"report.py", "cards.py", "merge.py", "stability.py", "html.py", "plugin.py",
                               "session.py", "options.py", "scheduling.py", "junit.py",
                               "evidence.py", "sequential.py", "hookspecs.py", "files.py",
                               "latency.py", "replay.py", "verdicts.py"})


def package_versions(names) -> dict[str, str]:
    """The installed version of each distribution in `names` ("not installed" when absent). A name that no
    distribution has is looked up as the import package another one provides: `xgboost` from the CPU build
    `xgboost-cpu` is keyed and reported with that distribution's version."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = _provider_version(name)
    return found


def _provider_version(name: str) -> str:
    providers = metadata.packages_distributions().get(name.replace("-", "_"), [])
    for dist in sorted(set(providers)):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


@functools.cache
def library_versions(names: tuple[str, ...]) -> dict[str, str]:
    """package_versions, read once per process."""
    return package_versions(names)


def digest_files(paths, root: Path) -> str:
    """sha256 over the files' paths (relative to `root`) and contents, in path order."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def python_files(root: Path, entry: str) -> list[Path]:
    """The .py files of a folder (recursively) or the file itself, under `root`."""
    path = root / entry
    if path.is_dir():
        return sorted(path.rglob("*.py"))
    return [path] if path.is_file() else []


@functools.cache
def _engine_sources() -> str:
    return digest_files([p for p in ENGINE_DIR.glob("*.py") if p.name not in REPORTING_MODULES], ENGINE_DIR)


@functools.cache
def shared_sources(root: Path, sources: tuple[str, ...]) -> str:
    """sha256 of the engine's computing modules and the project's shared sources (test modules excluded:
    each counts only for the measurements it defines)."""
    files = [p for entry in sources for p in python_files(root, entry) if not p.name.startswith("test_")]
    return hashlib.sha256((_engine_sources() + digest_files(files, root)).encode()).hexdigest()


@functools.cache
def source_fingerprint(module_name: str, root: Path, sources: tuple[str, ...]) -> str:
    """A hash of the shared sources and of `module_name`'s own file."""
    own = Path(sys.modules[module_name].__file__).read_bytes()
    return hashlib.sha256(shared_sources(root, sources).encode() + own).hexdigest()


@functools.cache
def module_fingerprint(module_name: str) -> str:
    """sha256 of one module's own source file."""
    return hashlib.sha256(Path(sys.modules[module_name].__file__).read_bytes()).hexdigest()


@functools.cache
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_identity(path: Path | None) -> str | None:
    """A file by its content (sha256), so the same file under another path gives the same identity."""
    if path is None:
        return None
    stat = Path(path).stat()
    return _file_sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
