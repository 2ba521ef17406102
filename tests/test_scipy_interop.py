"""SciPy's array-API functions, differentiated through dualgrad on the numpy and jax backends.

SciPy reads ``SCIPY_ARRAY_API`` when it is first imported, so the checks run in a fresh
interpreter (``tests/scipy_interop.py``), whatever this process imported before and however
pytest-xdist spreads the tests; each case, backend and mode is then its own test here.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from scipy_interop import BACKENDS, CASES, FALLS_BACK_TO_NUMPY, render_table

TESTS = Path(__file__).resolve().parent
PAGE = TESTS.parent / "docs" / "array-api.md"
needs_scipy = pytest.mark.skipif(
    importlib.util.find_spec("scipy") is None or importlib.util.find_spec("jax") is None,
    reason="needs SciPy and JAX (the reference): pip install 'dualgrad[dev]'",
)


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str, str], dict]:
    """Every case's outcome, ``(name, backend, mode) -> result``, from one subprocess (which
    computes each reference gradient once for all backends)."""
    completed = subprocess.run(
        [sys.executable, str(TESTS / "scipy_interop.py"), *BACKENDS],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    rows = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    return {(row["name"], row["backend"], row["mode"]): row for row in rows}


@needs_scipy
@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_gradient_matches_the_reference(results: dict, name: str, backend: str, mode: str) -> None:
    row = results[(name, backend, mode)]
    assert row["ok"], row["error"]


@needs_scipy
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(FALLS_BACK_TO_NUMPY))
def test_functions_that_fall_back_to_numpy_raise(results: dict, name: str, backend: str) -> None:
    """A Tensor that requires grad refuses NumPy conversion: no silently detached results."""
    row = results[(name, backend, "raises")]
    assert row["ok"], row["error"]


def test_the_docs_table_lists_the_functions_checked() -> None:
    """docs/array-api.md shows ``render_table()`` as it is."""
    assert render_table() in PAGE.read_text()


@needs_scipy
def test_the_docs_scipy_example_prints_what_the_page_shows() -> None:
    """The page's SciPy script (a ``py`` block, which the docs test does not run in-process:
    SciPy must be imported after ``SCIPY_ARRAY_API`` is set) runs in a fresh interpreter."""
    pattern = r"```py\n(?P<code>.*?)```\n\n```text\n(?P<output>.*?)```"
    found = re.search(pattern, PAGE.read_text(), re.S)
    assert found is not None, "docs/array-api.md has no py block followed by its output"
    completed = subprocess.run(
        [sys.executable, "-c", found["code"]],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert completed.stdout == found["output"]
