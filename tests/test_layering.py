"""The package's imports follow its layers, and no import cycle remains but the late binding.

Each module of ``dualgrad`` belongs to one layer (``LAYERS``, bottom first; docs/design.md says
what each holds). An import *points up* when the module it names is in a higher layer than the
module that imports it. Counted here: every ``import`` and ``from ... import`` statement in a
module, at any depth (inside functions too), except under ``if TYPE_CHECKING:``; ``from a
import b`` names the module ``a.b`` when that is a module, else ``a``. A submodule import names
that submodule only: the package ``__init__`` Python runs first only re-exports.

Exactly one import points up: the late binding in ``dualgrad/_namespace.py``, through which the
engines reach the differentiable namespace that higher-order rules run on (and Tensor its Array
API namespace). Apart from it the import graph has no cycle, within a layer either.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dualgrad"

# Bottom first. A module's layer is the first whose patterns match its dotted name.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundations",
        (
            "dualgrad._dtypes",
            "dualgrad._dtype_aliases",
            "dualgrad._device",
            "dualgrad._size",
            "dualgrad.backends",
            "dualgrad.backends.*",
            "dualgrad.config",
            "dualgrad.ops",
            "dualgrad.ops.*",
            "dualgrad._recorder",
            "dualgrad._fast",
            "dualgrad._settings_used",
            "dualgrad._namespace",
            "dualgrad._batching",
            "dualgrad.autograd._switch",
            "dualgrad.autograd.grad_mode",
            "dualgrad.autograd.anomaly_mode",
            "dualgrad.autograd.nan_safe_mode",
        ),
    ),
    (
        "tensor and tape",
        ("dualgrad.autograd.graph", "dualgrad._printing", "dualgrad.tensor", "dualgrad._views"),
    ),
    (
        "engines",
        (
            "dualgrad._rules",
            "dualgrad.forward_ad",
            "dualgrad._dispatch",
            "dualgrad.autograd.engine",
        ),
    ),
    ("functions", ("dualgrad.functions", "dualgrad.functions.*")),
    (
        "namespaces and features",
        (
            "dualgrad.linalg",
            "dualgrad.fft",
            "dualgrad.special",
            "dualgrad._array_api",
            "dualgrad._torch_aliases",
            "dualgrad.amp",
            "dualgrad.cuda",
            "dualgrad.accelerator",
            "dualgrad.autograd",
            "dualgrad.autograd.functional",
            "dualgrad.autograd.function",
            "dualgrad.autograd.gradcheck",
            "dualgrad.func",
            "dualgrad._vmap",
            "dualgrad._functional_call",
            "dualgrad.tree_util",
            "dualgrad._packed_grads",
            "dualgrad._jit",
            "dualgrad._state",
            "dualgrad._generator",
            "dualgrad.testing",
            "dualgrad.serialization",
            "dualgrad.serialization.*",
            "dualgrad.nn",
            "dualgrad.nn.*",
            "dualgrad.optim",
            "dualgrad.optim.*",
            "dualgrad.utils",
            "dualgrad.utils.*",
            "dualgrad.demo",
            "dualgrad.demo.*",
        ),
    ),
    ("package", ("dualgrad", "dualgrad.__main__")),
]

# The one import allowed to point up (and to close a cycle): see dualgrad/_namespace.py.
LATE_BINDING = {("dualgrad._namespace", "dualgrad")}


def module_names(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements under ``node``, skipping ``if TYPE_CHECKING:`` bodies."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for orelse in child.orelse:
                yield from _statements(orelse)
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        else:
            yield from _statements(child)


def imports(modules: dict[str, Path]) -> list[tuple[str, str, int]]:
    """``(importer, imported, line)`` for every import of one package module by another."""
    found = []
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for statement in _statements(ast.parse(path.read_text(), str(path))):
            if isinstance(statement, ast.Import):
                targets = [alias.name for alias in statement.names]
            else:
                base = statement.module or ""
                if statement.level:
                    anchor = name.split(".")
                    drop = statement.level - 1 if is_package else statement.level
                    anchor = anchor[: len(anchor) - drop]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in statement.names
                ]
            for target in dict.fromkeys(targets):
                while target and target not in modules:
                    target = target.rpartition(".")[0]  # ``import a.b.c`` of a name in a.b
                if target and target != name:
                    found.append((name, target, statement.lineno))
    return found


def layer_of(module: str, layers: list[tuple[str, tuple[str, ...]]] = LAYERS) -> int:
    """The index of the layer holding ``module``; a ValueError if none does."""
    for index, (_, patterns) in enumerate(layers):
        if any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns):
            return index
    msg = f"{module} is in no layer: add it to LAYERS in tests/test_layering.py"
    raise ValueError(msg)


def upward(
    found: list[tuple[str, str, int]], layers: list[tuple[str, tuple[str, ...]]] = LAYERS
) -> list[tuple[str, str, int]]:
    """The imports that point up the layers."""
    return [(a, b, line) for a, b, line in found if layer_of(b, layers) > layer_of(a, layers)]


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    graph: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return components


FOUND = imports(module_names())


def test_every_module_has_a_layer() -> None:
    for module in module_names():
        layer_of(module)


def test_only_the_late_binding_points_up_the_layers() -> None:
    pointing_up = {(a, b) for a, b, _ in upward(FOUND)}
    assert pointing_up == LATE_BINDING, sorted(pointing_up - LATE_BINDING)


def test_no_import_cycle_but_the_late_binding() -> None:
    edges = {(a, b) for a, b, _ in FOUND} - LATE_BINDING
    assert cycles(edges) == []


def test_the_late_binding_closes_a_cycle() -> None:
    """The check above would pass vacuously if the counting missed imports."""
    edges = {(a, b) for a, b, _ in FOUND}
    assert any("dualgrad._namespace" in component for component in cycles(edges))


def test_tensor_imports_no_engine() -> None:
    engines = {"dualgrad._dispatch", "dualgrad.autograd.engine", "dualgrad.forward_ad"}
    assert {b for a, b, _ in FOUND if a == "dualgrad.tensor"} & engines == set()
