"""Write docs/operators.md, the list of every primitive, from the op table (tests/op_db.py).

Run from the repository root: ``python tests/render_operators.py``. A test fails when the page
and the table disagree, so the list cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import importlib
import pkgutil

from op_db import OP_DB
from test_rules import TORCH_OPS

from dualgrad import ops

PAGE = Path(__file__).resolve().parent.parent / "docs" / "operators.md"


def render() -> str:
    """The page: one row per primitive, by family, in table order."""
    lines = [
        "# Operators",
        "",
        "Every primitive dualgrad differentiates, generated from the op table that drives the",
        "tests (`tests/op_db.py`; regenerate with `python tests/render_operators.py`). Each is",
        "checked on every installed backend, in reverse and forward mode, against finite",
        "differences, by the dot-product test, with batched cotangents and tangents, at second",
        "order, and against PyTorch where the last column says so. Functions built from these",
        "(`var`, `std`, the `nn.functional` losses, ...) are differentiable through them.",
        "",
        "| primitive | family | differentiable in inputs | checked against PyTorch |",
        "| --- | --- | --- | --- |",
    ]
    families = _families()
    seen = set()
    for spec in OP_DB:
        if spec.name in seen:
            continue
        seen.add(spec.name)
        prim = spec.prim
        family = families[prim.name]
        if prim.variadic:
            inputs = "all"
        else:
            positions = [str(i) for i in range(len(prim.vjp)) if prim.vjp[i] is not None]
            inputs = ", ".join(positions) if positions else "none (no gradient)"
        torch = "yes" if spec.torch is not None or spec.name in TORCH_OPS else ""
        lines.append(f"| `{spec.name}` | {family} | {inputs} | {torch} |")
    return "\n".join(lines) + "\n"


def _families() -> dict[str, str]:
    """Each primitive's family: the ``dualgrad.ops`` module that declares it."""
    families = {}
    for info in pkgutil.iter_modules(ops.__path__):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"dualgrad.ops.{info.name}")
            for value in vars(module).values():
                if isinstance(value, ops.Primitive):
                    families.setdefault(value.name, info.name)
    return families


def main() -> None:
    """Write the page."""
    PAGE.write_text(render())
    print(f"wrote {PAGE}")


if __name__ == "__main__":
    main()
