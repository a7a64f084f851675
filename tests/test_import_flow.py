"""Imports run one way — derivations → numerics → models → grading → report → genverify — and
no module imports itself back through a circle.

The graph is read from the source with :mod:`ast` (nothing is imported): every ``import``
and ``from ... import`` anywhere in a module, deferred imports inside functions included, and
``importlib.import_module("literal")``. Within grading the layers are finer: the isolation
worker, then reading and comparing answers, then the key, then students' code, then the
modules that deliver results. A module may import from its own layer or an earlier one.
Each rule has a twin that adds a deliberate back-import or circle and must be caught.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("derivations", "numerics", "models", "grading", "report", "genverify")

# (prefix, layer): the longest matching prefix decides a module's layer.
LAYERS: tuple[tuple[str, int], ...] = (
    ("derivations", 0),
    ("numerics", 1),
    ("models", 2),
    ("grading.isolation", 3),
    ("grading.answers", 4),
    ("grading.key", 5),
    ("grading.code", 6),
    ("grading", 7),
    ("report", 8),
    ("genverify", 9),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_sources() -> dict[str, str]:
    """Every project module's name and source text."""
    return {module_name(path): path.read_text("utf-8")
            for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def layer(module: str) -> int | None:
    matches = [(len(prefix), rank) for prefix, rank in LAYERS
               if module == prefix or module.startswith(prefix + ".")]
    return max(matches)[1] if matches else None


def imported_modules(module: str, source: str, known: Iterable[str]) -> set[str]:
    """The project modules that ``module``'s source imports (ast only, no side effects)."""
    known = set(known)
    is_package = any(k.startswith(module + ".") for k in known)
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()

    def add(name: str) -> None:
        while name and name not in known:  # a name imported from a module: keep the module
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            add(node.args[0].value)
    return found


def import_graph(sources: Mapping[str, str]) -> dict[str, set[str]]:
    return {module: imported_modules(module, source, sources)
            for module, source in sources.items()}


def back_imports(graph: Mapping[str, set[str]]) -> list[str]:
    """Every import from a later layer into an earlier one, as ``a -> b`` lines."""
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets
                  if layer(a) is not None and layer(b) is not None and layer(b) > layer(a))


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return project_sources()


def test_every_project_module_belongs_to_a_layer(sources):
    assert [m for m in sources if layer(m) is None] == []


def test_imports_run_one_way_from_derivations_to_the_command_line(sources):
    assert back_imports(import_graph(sources)) == []


def test_no_module_imports_itself_back_through_a_circle(sources):
    assert circles(import_graph(sources)) == []


def test_derivations_import_nothing_but_sympy_from_outside_the_standard_library(sources):
    graph = import_graph(sources)
    assert {b for a, targets in graph.items() if a.startswith("derivations")
            for b in targets if not b.startswith("derivations")} == set()


def test_the_graph_sees_deferred_relative_and_importlib_imports():
    known = ["grading", "grading.key", "grading.key.registry", "grading.key.homework",
             "report", "report.run"]
    source = ("import os\n"
              "def f():\n    from report.run import main\n"
              "def g():\n    from . import homework\n"
              "def h():\n    importlib.import_module('report')\n")
    assert imported_modules("grading.key.registry", source, known) == {
        "report.run", "grading.key.homework", "report"}


def test_a_deliberate_back_import_is_caught(sources):
    twin = dict(sources)
    twin["derivations.core"] += "\n\ndef _leak():\n    from grading.key.registry import grade\n"
    assert back_imports(import_graph(twin)) == ["derivations.core -> grading.key.registry"]


def test_a_deliberate_circle_is_caught(sources):
    twin = dict(sources)
    twin["grading.key.registry"] += "\n\ndef _load():\n    from grading.key import homework\n"
    (circle,) = circles(import_graph(twin))
    assert {"grading.key.homework", "grading.key.registry"} <= set(circle)
