"""Imports flow one way: claims -> fixtures/models -> claimcheck; no claim reaches into another claim."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("layer, forbidden", [
    ("claimcheck", ("fixtures", "models", "claims", "torch", "torchvision")),
    ("fixtures", ("claims",)),
    ("models", ("claims", "fixtures")),
    ("tests/engine", ("fixtures", "models", "claims", "torch", "torchvision")),   # the engine's tests: the engine alone
])
def test_a_lower_layer_imports_nothing_from_the_layers_above(layer, forbidden):
    offenders = [f"{path.relative_to(ROOT)}: {name}" for path in python_files(layer)
                 for name in imported_modules(path) if name.split(".")[0] in forbidden]
    assert not offenders, offenders


def test_no_engine_test_loads_the_deep_learning_layer_as_a_plugin():
    """Not with `-p fixtures.plugin` in a scratch project either (pytester runs take it as a string)."""
    offenders = [f"{path.relative_to(ROOT)}: {node.value!r}" for path in python_files("tests/engine")
                 for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.Constant) and isinstance(node.value, str) and "fixtures" in node.value]
    assert not offenders, offenders


def claims_modules_imported(path: Path) -> set[str]:
    """The modules of claims/ that `path` imports, `from claims.section6 import landscape` read as
    claims.section6.landscape."""
    names = set()
    for name in imported_modules(path):
        if name.split(".")[0] == "claims":
            names.add(name)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("claims"):
            names.update(f"{node.module}.{alias.name}" for alias in node.names
                         if (ROOT / node.module.replace(".", "/") / f"{alias.name}.py").exists())
    return names


def test_a_claim_imports_no_other_claims_module_and_no_test_module():
    """claims/sectionN imports nothing from another section; claims/shared/ and the modules at the top of claims/
    (families.py, figure_style.py) import no section at all; nothing imports a test module."""
    offenders = []
    for path in python_files("claims"):
        own = path.relative_to(ROOT / "claims").parts[0]
        for name in claims_modules_imported(path):
            parts = name.split(".")
            if len(parts) < 2:
                continue
            if parts[1].startswith("section") and parts[1] != own:
                offenders.append(f"{path.relative_to(ROOT)}: {name} (another section)")
            if parts[-1].startswith("test_"):
                offenders.append(f"{path.relative_to(ROOT)}: {name} (a test module)")
    for path in python_files("tests"):
        offenders += [f"{path.relative_to(ROOT)}: {name} (a test module)" for name in imported_modules(path)
                      if name.startswith("claims.") and name.split(".")[-1].startswith("test_")]
    assert not offenders, offenders


def test_a_helper_beside_the_claims_of_a_section_serves_one_claim_module():
    """Within a section, code that several claim modules (test_*.py, one topic each) use lives in claims/shared/:
    a helper module in claims/sectionN/ is used by at most one claim module, directly or through the section's
    other helpers (5.2's windows.py imports its deficits.py). The section's conftest.py serves all its claims
    and does not count; claims/shared/ and claims/families.py are for everyone."""
    offenders = []
    for section in sorted((ROOT / "claims").glob("section*")):
        package = f"claims.{section.name}"
        modules = {f"{package}.{p.stem}": p for p in section.glob("*.py") if p.stem not in ("__init__", "conftest")}
        uses = {name: {m for m in claims_modules_imported(path) if m in modules} for name, path in modules.items()}
        users: dict[str, set[str]] = {name: set() for name in modules}
        for claim_module in (name for name in modules if name.rsplit(".", 1)[1].startswith("test_")):
            reached, todo = set(), list(uses[claim_module])
            while todo:
                helper = todo.pop()
                if helper not in reached:
                    reached.add(helper)
                    todo.extend(uses[helper])
            for helper in reached:
                users[helper].add(claim_module)
        offenders += [f"{name} is used by {sorted(users[name])}: move it to claims/shared/"
                      for name in modules if len(users[name]) > 1]
    assert not offenders, offenders


ENGINE_IMPORTS_WITHOUT_TORCH = """
import importlib, pkgutil, sys

attempts = []


class NoTorch:
    \"\"\"Makes torch and torchvision unimportable and records every attempt, even one that catches the error.\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision"):
            attempts.append(name)
            raise ImportError(f"{name} is unimportable in this test")
        return None


sys.meta_path.insert(0, NoTorch())
import claimcheck

names = sorted(m.name for m in pkgutil.iter_modules(claimcheck.__path__, "claimcheck."))
for name in names:
    importlib.import_module(name)
assert not attempts, f"tried to import {attempts}"
assert not any(m.split(".")[0] in ("torch", "torchvision") for m in sys.modules)
print(len(names))
"""


def test_every_engine_module_imports_without_torch():
    result = subprocess.run([sys.executable, "-c", ENGINE_IMPORTS_WITHOUT_TORCH], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(list((ROOT / "claimcheck").glob("*.py"))) - 1   # all but __init__.py
