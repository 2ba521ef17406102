"""Write docs/pytorch-names.md, the PyTorch names dualgrad has and has not, from the table in
tests/pytorch_names.py.

Run from the repository root: ``python tests/render_pytorch_names.py``. A test fails when the page
and the table disagree, and the table's own tests check every row against dualgrad and PyTorch.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pytorch_names import NAMES, SECTIONS, Name

PAGE = Path(__file__).resolve().parent.parent / "docs" / "pytorch-names.md"

INTRO = """\
# PyTorch names

The names PyTorch training and autograd programs use, collected from PyTorch's tutorials, small
public projects and the PyTorch programs dualgrad's tests run (`tests/programs/`), and whether
`import dualgrad as torch` gives each one. Where PyTorch accepts several calling forms of a name
and dualgrad does not take them all, each form has its own row.

Every row is tested: a supported row's name exists in dualgrad and its snippet gives what
PyTorch gives; an unsupported row's snippet really fails or gives something else. The snippets
run with `torch` bound to the library, `np` to NumPy, `io` to the io module and `x` to
`torch.tensor([[1., -2., 3.], [4., 5., -6.]])`; the value of the last line is what is compared.
This page is generated from that table (`tests/pytorch_names.py`; regenerate with
`python tests/render_pytorch_names.py`).
"""


# Characters Markdown would read inside the inline HTML (emphasis, code spans, cell ends).
MARKDOWN_ENTITIES = str.maketrans({"_": "&#95;", "*": "&#42;", "`": "&#96;", "|": "&#124;"})


def _code(snippet: str) -> str:
    """A snippet as inline HTML code: its lines kept, nothing in it read as Markdown."""
    lines = []
    for line in snippet.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        text = html.escape(line.lstrip(" ")).translate(MARKDOWN_ENTITIES)
        # `d[0]['lr']` would read as a link to a reference named 'lr'.
        text = text.replace("][", "]&#91;")
        lines.append("&nbsp;" * indent + text)
    return "<code>" + "<br>".join(lines) + "</code>"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _row(row: Name) -> str:
    status = "yes" if row.supported else "no"
    name = f"`{row.form}`" if row.form else f"`{row.name}`"
    return f"| {name} | {status} | {_code(row.snippet)} | {_cell(row.why or row.note)} |"


def render() -> str:
    """The page: the introduction, a count, and one table per section."""
    supported = sum(row.supported for row in NAMES)
    lines = [INTRO, f"{supported} of the {len(NAMES)} rows are supported.", ""]
    for title, rows in SECTIONS.items():
        lines += [
            f"## {title}",
            "",
            "| name | supported | snippet | why not, or what differs |",
            "| --- | --- | --- | --- |",
            *(_row(row) for row in rows),
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    PAGE.write_text(render())
    print(f"wrote {PAGE}")
