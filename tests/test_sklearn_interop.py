"""scikit-learn's array-API estimators and functions, differentiated through dualgrad on the
numpy and jax backends.

scikit-learn's array-API dispatch needs SciPy imported with ``SCIPY_ARRAY_API=1``, which SciPy
reads when it is first imported, so the checks run in a fresh interpreter
(``tests/sklearn_interop.py``), whatever this process imported before; each case, backend and
mode is then its own test here. scikit-learn is an optional test dependency
(``pip install 'dualgrad[sklearn]'``): without it these tests are skipped.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn_interop import BACKENDS, CASES, MODES, render_table

TESTS = Path(__file__).resolve().parent
DOCS = TESTS.parent / "docs"
TABLE_PAGE = DOCS / "scikit-learn.md"
EXAMPLE_PAGE = DOCS / "hyperparameter-gradients.md"
needs_sklearn = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("sklearn", "scipy", "jax")),
    reason="needs scikit-learn, SciPy and JAX (the reference): pip install 'dualgrad[sklearn]'",
)
CASE_IDS = [f"{case.name}:{case.differentiated}" for case in CASES]


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str, str, str], dict]:
    """Every case's outcome, ``(name, call, backend, mode) -> row``, from one subprocess (which
    computes each reference once for all backends)."""
    completed = subprocess.run(
        [sys.executable, str(TESTS / "sklearn_interop.py"), *BACKENDS],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    rows = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    return {(row["name"], row["call"], row["backend"], row["mode"]): row for row in rows}


@needs_sklearn
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_each_case_behaves_as_the_table_says(results: dict, case, backend: str, mode: str) -> None:
    """Gradient equal to finite differences (and jax.grad where JAX runs it), a refusal where
    the case says it raises, a Python float where scikit-learn returns one."""
    row = results[(case.name, case.differentiated, backend, mode)]
    assert row["ok"], row["error"]


@needs_sklearn
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_jax_grad_runs_where_the_table_says(results: dict, case) -> None:
    row = results[(case.name, case.differentiated, "jax.grad", "-")]
    assert row["ok"], row["error"]


@needs_sklearn
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "case", [case for case in CASES if case.nan_safe], ids=lambda case: case.name
)
def test_cases_that_need_nan_safe_mode_give_nan_without_it(
    results: dict, case, backend: str
) -> None:
    row = results[(case.name, case.differentiated, backend, "trap")]
    assert row["ok"], row["error"]


def test_the_docs_table_lists_the_cases_checked() -> None:
    """docs/scikit-learn.md shows ``render_table()`` as it is."""
    assert render_table() in TABLE_PAGE.read_text()


@needs_sklearn
@pytest.mark.parametrize("page", [TABLE_PAGE, EXAMPLE_PAGE], ids=lambda page: page.name)
def test_the_docs_scripts_print_what_the_page_shows(page: Path, tmp_path: Path) -> None:
    """Each page's scikit-learn script (a ``py`` block, which the docs test does not run
    in-process: SciPy must be imported after ``SCIPY_ARRAY_API`` is set) runs in a fresh
    interpreter, in an empty folder (the example draws its figure there)."""
    pattern = r"```py\n(?P<code>.*?)```\n\n```text\n(?P<output>.*?)```"
    found = re.search(pattern, page.read_text(), re.S)
    assert found is not None, f"{page.name} has no py block followed by its output"
    completed = subprocess.run(
        [sys.executable, "-c", found["code"]],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert completed.stdout == found["output"]
