"""The documentation runs: every Python block of every page and of the README, and the site
builds strictly.

The convention each page follows:

- Every ```python block runs, in order, the blocks of a page sharing one namespace. Each page
  starts from dualgrad's defaults: the numpy backend, reverse mode, float32, grad enabled. A
  page that prints random numbers seeds them itself (``dualgrad.manual_seed``).
- A ```text block that directly follows a ```python block (only blank lines between) is the
  exact standard output of that Python block.
- A page that needs optional packages starts with ``<!-- requires: module other_module -->``;
  it is skipped, with the reason, where one of them is missing.

The README is read differently: a newcomer copies one snippet at a time, so each of its
```python blocks runs on its own, in a fresh interpreter, in an empty working directory, with
no ``DUALGRAD_*`` variable set. Its only other blocks are shell commands.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import dualgrad

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCS_DIR = REPO_ROOT / "docs"
PAGES = sorted(DOCS_DIR.glob("*.md"))
README = REPO_ROOT / "README.md"

FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[ \t]*$")
REQUIRES = re.compile(r"\A\s*<!--\s*requires:(?P<modules>[^>]*?)-->")


@dataclass
class Block:
    """One fenced code block: its language, its text and the page lines it spans."""

    lang: str
    code: str
    first_line: int  # 1-based line of the first code line
    fence_open: int  # 1-based line of the opening fence
    fence_close: int  # 1-based line of the closing fence


def fenced_blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown page, indented ones (admonitions, tabs) included."""
    lines = text.splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        opening = FENCE_OPEN.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = opening["indent"]
        close = index + 1
        while close < len(lines) and lines[close].strip() != "```":
            close += 1
        if close == len(lines):
            msg = f"code fence opened on line {index + 1} is never closed"
            raise ValueError(msg)
        body = [line.removeprefix(indent) for line in lines[index + 1 : close]]
        code = "".join(line + "\n" for line in body)
        blocks.append(Block(opening["lang"], code, index + 2, index + 1, close + 1))
        index = close + 1
    return blocks


def runnable_blocks(text: str) -> list[tuple[Block, str | None]]:
    """Each Python block with the exact output its following ``text`` block shows, if any."""
    blocks = fenced_blocks(text)
    lines = text.splitlines()
    pairs = []
    for position, block in enumerate(blocks):
        if block.lang != "python":
            continue
        expected = None
        after = blocks[position + 1] if position + 1 < len(blocks) else None
        if after is not None and after.lang == "text":
            between = lines[block.fence_close : after.fence_open - 1]
            if all(not line.strip() for line in between):
                expected = after.code
        pairs.append((block, expected))
    return pairs


def required_modules(text: str) -> list[str]:
    """The modules named by the page's leading ``<!-- requires: ... -->`` comment."""
    match = REQUIRES.match(text)
    return match["modules"].split() if match else []


def reset_dualgrad() -> None:
    """dualgrad's defaults, as a fresh interpreter has them."""
    dualgrad.set_backend("numpy")
    dualgrad.set_mode("reverse")
    dualgrad.set_default_dtype(dualgrad.float32)
    dualgrad.set_grad_enabled(True)


@pytest.fixture
def fresh_dualgrad():
    reset_dualgrad()
    yield
    reset_dualgrad()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_python_block_runs_and_prints_what_the_page_shows(
    page: Path, fresh_dualgrad: None
) -> None:
    text = page.read_text(encoding="utf-8")
    missing = [name for name in required_modules(text) if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"{page.name} needs {', '.join(missing)}: pip install {' '.join(missing)}")
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for block, expected in runnable_blocks(text):
        # Padding with blank lines makes tracebacks point at the page's own line numbers.
        source = "\n" * (block.first_line - 1) + block.code
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            exec(compile(source, str(page), "exec"), namespace)
        if expected is not None:
            assert stdout.getvalue() == expected, (
                f"{page.name}, block on line {block.fence_open}: printed output differs from "
                f"the text block after it"
            )


def readme_snippets() -> list[Block]:
    return fenced_blocks(README.read_text(encoding="utf-8"))


def test_readme_has_only_python_and_shell_snippets() -> None:
    assert {block.lang for block in readme_snippets()} == {"python", "bash"}


@pytest.mark.parametrize(
    "block",
    [block for block in readme_snippets() if block.lang == "python"],
    ids=lambda block: f"line{block.fence_open}",
)
def test_every_readme_snippet_runs_on_its_own(block: Block, tmp_path: Path) -> None:
    # Padding with blank lines makes tracebacks point at the README's own line numbers.
    script = tmp_path / "README.md.py"
    script.write_text("\n" * (block.first_line - 1) + block.code, encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if not name.startswith("DUALGRAD_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"README.md, block on line {block.fence_open}:\n{result.stderr}"


def test_block_parser_pairs_python_with_the_text_block_right_after_it() -> None:
    page = (
        "<!-- requires: jax dask -->\n"
        "```python\nprint(1)\n```\n\n```text\n1\n```\n"
        "```python\nx = 2\n```\nprose\n```text\nnot output\n```\n"
        "!!! note\n    ```python\n    print(x)\n    ```\n"
    )
    pairs = runnable_blocks(page)
    assert [(block.code, expected) for block, expected in pairs] == [
        ("print(1)\n", "1\n"),
        ("x = 2\n", None),
        ("print(x)\n", None),
    ]
    assert [block.first_line for block, _ in pairs] == [3, 10, 18]
    assert required_modules(page) == ["jax", "dask"]


def test_unclosed_fence_is_reported_with_its_line() -> None:
    with pytest.raises(ValueError, match="line 2 is never closed"):
        fenced_blocks("text\n```python\nprint(1)\n")


def test_site_builds_strictly(tmp_path: Path) -> None:
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason=f"{module} not installed: pip install -e '.[docs]'")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # mkdocs-material's banner, not ours
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "index.html").is_file()
    # The API reference is rendered from the docstrings: signatures, sections and doctests.
    reference = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    assert "Compile <code>fn</code> (a training step, say) into one XLA program" in reference
    assert 'id="dualgrad.nn.Conv2d"' in reference
    assert reference.count('class="doc-section-title">Examples:') > 100


def _griffe_extension() -> object:
    pytest.importorskip("griffe", reason="griffe not installed: pip install -e '.[docs]'")
    path = DOCS_DIR / "hooks" / "griffe_example_sections.py"
    spec = importlib.util.spec_from_file_location("griffe_example_sections", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_reads_grouped_parameters_as_one_entry_each() -> None:
    docstring = (
        "Convolve.\n\nArgs:\n    input: the image.\n    stride, dilation: ints or\n"
        "        pairs.\n    groups: how many.\n\nReturns:\n    a, b: not parameters.\n"
    )
    assert _griffe_extension()._split_grouped_parameters(docstring) == (
        "Convolve.\n\nArgs:\n    input: the image.\n    stride: ints or\n        pairs.\n"
        "    dilation: ints or\n        pairs.\n    groups: how many.\n\nReturns:\n"
        "    a, b: not parameters."
    )
