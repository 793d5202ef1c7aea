"""Who may import whom (DESIGN.md; README, "Architecture"), checked over every module.

Each module of ours is parsed with ``ast`` (nothing is imported), and every ``import`` /
``from ... import`` in it, at module level or inside a function, is held against the rules below.
``importlib.import_module("...")`` with a literal name counts as an import too.  A failure names the
module, the line and the import that breaks a rule, and the rule.

- ``firmware_config`` imports nothing of ours; ``contracts`` only ``firmware_config``; the neutral
  ``i18n`` (languages) only those two; the neutral ``runtime`` those three.
- ``vision`` imports only ``firmware_config``; ``edge`` imports ``vision``, ``firmware_config``,
  ``contracts``, ``runtime`` and ``i18n``; ``analytics`` imports ``firmware_config``, ``contracts``,
  ``runtime`` and ``i18n``.  Device (``edge``, ``vision``) and hub (``analytics``) never import each other.
- ``training`` may import ``vision`` (to evaluate with the device's own detector),
  ``firmware_config`` and ``contracts``.
- The device path (``vision``, ``edge`` and the neutral packages they use) never imports torch,
  ultralytics or another package of the ``train`` extra, not even lazily inside a function.
- ``tillsight_cli`` is a thin dispatcher: at module level it imports only itself and the neutral
  packages; a side (``vision``, ``edge``, ``analytics``, ``training``, ``benchmarks``) only inside
  the function that runs a subcommand (or under ``if TYPE_CHECKING:``, which never runs).
- ``benchmarks`` measure the device and the hub: they may import either side and the neutral
  packages, never ``training`` (torch) and never the command line; one benchmark module drives one
  side (the device-to-hub benchmark keeps its device and hub halves in separate modules).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

NEUTRAL = frozenset({"firmware_config", "contracts", "runtime", "i18n"})
SIDES = frozenset({"vision", "edge", "analytics", "training", "benchmarks"})
OURS = NEUTRAL | SIDES | {"tillsight_cli"}

# package -> the other packages of ours it may import (its own package is always allowed)
ALLOWED: dict[str, frozenset[str]] = {
    "firmware_config": frozenset(),
    "contracts": frozenset({"firmware_config"}),
    "runtime": frozenset({"firmware_config", "contracts", "i18n"}),
    "i18n": frozenset({"firmware_config", "contracts"}),  # languages: catalogues and formatting, both sides
    "vision": frozenset({"firmware_config"}),
    "edge": frozenset({"vision", "firmware_config", "contracts", "runtime", "i18n"}),
    "analytics": frozenset({"firmware_config", "contracts", "runtime", "i18n"}),
    "training": frozenset({"vision", "firmware_config", "contracts"}),
    "benchmarks": frozenset({"vision", "edge", "analytics", "firmware_config", "contracts", "runtime", "i18n"}),
    "tillsight_cli": NEUTRAL | SIDES,  # sides only inside functions: see CLI_MODULE_LEVEL
}
CLI_MODULE_LEVEL = NEUTRAL | {"tillsight_cli"}
DEVICE_PATH = frozenset({"vision", "edge"}) | NEUTRAL
TRAINING_ONLY = frozenset({"torch", "torchvision", "ultralytics", "timm", "onnxslim", "onnx"})


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    path: Path
    line: int
    target: str  # the imported module, dotted
    lazy: bool  # inside a function (runs only when the function does)
    type_checking: bool  # under ``if TYPE_CHECKING:`` (never runs)

    @property
    def package(self) -> str:
        return self.module.split(".")[0]

    @property
    def target_package(self) -> str:
        return self.target.split(".")[0]

    def __str__(self) -> str:
        where = "inside a function" if self.lazy else "at module level"
        return f"{self.module} ({self.path.relative_to(REPO)}:{self.line}) imports {self.target} {where}"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, path: Path) -> None:
        self.module, self.path = module, path
        self.found: list[Import] = []
        self._depth = 0
        self._type_checking = 0

    def _add(self, node: ast.AST, target: str) -> None:
        self.found.append(Import(self.module, self.path, getattr(node, "lineno", 0), target, self._depth > 0,
                                 self._type_checking > 0))

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            self._type_checking += 1
            for child in node.body:
                self.visit(child)
            self._type_checking -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:  # a relative import stays inside its own package
            self._add(node, node.module)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and not node.args[0].value.startswith("."):
            self._add(node, node.args[0].value)
        self.generic_visit(node)


def _modules() -> Iterator[tuple[str, Path]]:
    for package in sorted(OURS):
        root = REPO / package
        assert (root / "__init__.py").is_file(), f"the rules name {package}, which is no package of the repo"
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def all_imports() -> list[Import]:
    found: list[Import] = []
    for module, path in _modules():
        collector = _Collector(module, path)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found += collector.found
    return found


def violations(imports: list[Import]) -> list[str]:
    """One line per import that breaks a rule, naming the module, the import and the rule."""
    problems: list[str] = []
    for imp in imports:
        pkg, target = imp.package, imp.target_package
        if target in OURS and target != pkg and target not in ALLOWED[pkg]:
            allowed = ", ".join(sorted(ALLOWED[pkg])) or "nothing of ours"
            problems.append(f"{imp}: {pkg} may import only {allowed}")
        if pkg in DEVICE_PATH and target in TRAINING_ONLY:
            problems.append(f"{imp}: the device path ({pkg}) never imports {target}, not even lazily")
        if pkg == "tillsight_cli" and target in OURS and target not in CLI_MODULE_LEVEL \
                and not imp.lazy and not imp.type_checking:
            problems.append(f"{imp}: the command line imports {target} only inside the function that runs "
                            "its subcommand")
    bench_sides: dict[str, set[str]] = {}
    for imp in imports:
        if imp.package == "benchmarks" and imp.target_package in ("edge", "analytics"):
            bench_sides.setdefault(imp.module, set()).add(imp.target_package)
    for module, sides in sorted(bench_sides.items()):
        if len(sides) > 1:
            problems.append(f"{module} imports both edge and analytics: one benchmark module drives one side")
    return problems


def test_every_package_imports_only_what_the_rules_allow() -> None:
    problems = violations(all_imports())
    assert not problems, "import rules broken:\n" + "\n".join(problems)


def test_the_rules_cover_every_package_of_ours() -> None:
    """A new top-level package must be given a rule here (and in DESIGN.md) before it is used."""
    packages = {p.name for p in REPO.iterdir() if (p / "__init__.py").is_file() and p.name != "tests"}
    assert packages <= OURS, f"packages with no import rule: {sorted(packages - OURS)}"


def _imports_of(module: str, source: str) -> list[Import]:
    collector = _Collector(module, REPO / (module.replace(".", "/") + ".py"))
    collector.visit(ast.parse(source))
    return collector.found


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("vision.example", "from edge.store import Store\n", "vision.example (vision/example.py:1) imports edge.store"),
    ("analytics.example", "def f():\n    import vision.detector\n", "analytics may import only"),
    ("edge.example", "def f():\n    import torch\n", "never imports torch, not even lazily"),
    ("vision.example", "import importlib\nimportlib.import_module('ultralytics')\n", "never imports ultralytics"),
    ("firmware_config.example", "from contracts import topics\n", "firmware_config may import only nothing of ours"),
    ("tillsight_cli.example", "from edge.appliance import run\n", "only inside the function"),
    ("training.example", "from analytics.db import make_engine\n", "training may import only"),
])
def test_a_broken_rule_is_named(module: str, source: str, expected: str) -> None:
    problems = violations(_imports_of(module, source))
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize(("module", "source"), [
    ("tillsight_cli.example", "def run(args):\n    from edge.appliance import run\n"),
    ("tillsight_cli.example", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from analytics.llm import X\n"),
    ("edge.example", "from vision.detector import Detector\nfrom runtime import notify\nfrom . import sibling\n"),
    ("training.example", "import torch\nfrom vision.detector import Detector\n"),
    ("benchmarks.example", "def f():\n    from ultralytics import YOLO\n"),
])
def test_what_the_rules_allow_passes(module: str, source: str) -> None:
    assert violations(_imports_of(module, source)) == []


def test_the_hubs_gallery_package_reads_galleries_only_through_the_contract() -> None:
    """``analytics.gallery`` keeps the stores' galleries as the wire carries them: it imports the
    contract (``contracts.gallery``), the hub database and itself, never the device's gallery code."""
    allowed = ("analytics.gallery", "analytics.db", "contracts")
    wrong = [str(imp) for imp in all_imports() if imp.module.startswith("analytics.gallery")
             and imp.target_package in OURS and not imp.target.startswith(allowed)]
    assert wrong == []
