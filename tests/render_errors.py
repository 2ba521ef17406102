"""Write docs/errors.md, the error catalogue, from the table in tests/bad_inputs.py.

Run from the repository root: ``python tests/render_errors.py``. Each row is run to show the
message it gives; a test fails when the page and the table disagree, so the page cannot drift.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bad_inputs import CATALOGUE, Misuse

import dualgrad

PAGE = Path(__file__).resolve().parent.parent / "docs" / "errors.md"

INTRO = """\
# Error catalogue

Every misuse dualgrad knows of, the exception it raises and the message it gives: what went
wrong, with the offending values, and what to do. A misuse changes nothing: no tensor's value,
`.grad`, `requires_grad` or version counter moves when one of these is raised; a `backward()`
that fails part way leaves every `.grad` as it was, and an optimizer step that fails changes no
parameter. The tests run every row and check all of that.

In the code column the lines are separated by `;`: every line but the last prepares, the last
one is the mistake. This page is generated from the table that drives those tests
(`tests/bad_inputs.py`; regenerate with `python tests/render_errors.py`).

NaN derivatives are not errors by default (they flow into `.grad`, as in PyTorch); under
`dualgrad.autograd.detect_anomaly()` the first operation whose derivative has NaN raises,
naming the operation and showing where the forward pass created it.

A file is bad input too: whatever a file holds, `dualgrad.load` returns what `dualgrad.save`
wrote or raises `dualgrad.SerializationError` (a `ValueError`) naming the file and what is
wrong with it (see [Saving and loading](nn-and-optim.md#what-save-and-load-guarantee)).
"""


def message(misuse: Misuse) -> str:
    """The message the misuse gives, run in a fresh namespace (memory addresses removed)."""
    namespace = {"dualgrad": dualgrad}
    exec(misuse.setup, namespace)
    with dualgrad.use_backend("numpy"), dualgrad.use_mode("reverse"):
        try:
            exec(misuse.code, namespace)
        except misuse.error as err:
            text = str(err).split("\n", 1)[0]  # the anomaly traceback is machine-specific
            return re.sub(r" at 0x[0-9a-f]+", "", text)
    msg = f"{misuse.name}: no {misuse.error.__name__} raised"
    raise AssertionError(msg)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The page: the introduction, the table, and the definitions some rows use."""
    lines = [
        INTRO,
        "| misuse | code | raises | message |",
        "| --- | --- | --- | --- |",
    ]
    for misuse in CATALOGUE:
        code = "; ".join(misuse.code.splitlines())
        lines.append(
            f"| {_cell(misuse.name)} | `{_cell(code)}` | `{misuse.error.__name__}` "
            f"| {_cell(message(misuse))} |"
        )
    setups = [misuse for misuse in CATALOGUE if misuse.setup]
    if setups:
        lines += ["", "Definitions the rows above use:", ""]
        for misuse in setups:
            block = ["```python", "import dualgrad", "", misuse.setup.rstrip(), "```"]
            lines += [f"{misuse.name}:", "", *block, ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    PAGE.write_text(render())
    print(f"wrote {PAGE}")
