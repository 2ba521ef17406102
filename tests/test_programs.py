"""PyTorch programs run under dualgrad and print what PyTorch prints, number for number.

Each file in tests/programs/ is an ordinary PyTorch program (``import torch``), written the way
PyTorch's tutorials and small projects write them. Run with ``import dualgrad as torch`` in place
of that line and nothing else changed, it must print what PyTorch 2.13.0 printed
(tests/programs/expected/, written by ``python tests/pytorch_programs.py record``): the same text,
the same integers (epochs, counts, shapes), and every other number within float32 tolerance of
PyTorch's (loss trajectories, final parameters, accuracies). The programs take their data and
their initial weights from NumPy's seeded generator, so that both libraries start equal.

Every program runs on the numpy backend in reverse mode; it also runs in forward mode (on numpy)
and on the jax backend (in reverse mode, in JAX's default 32-bit mode, as a user's script would)
unless ``NOT_RUN`` says why it cannot. Forward mode is not run a second time on jax: its engine
does not depend on the backend (the operator table checks every rule on every backend), and the
jax run's cost is JAX compiling each operation for each new shape, which a second mode doubles.
"""

from __future__ import annotations

import functools
import importlib.util
import re

import pytest
from pytorch_programs import (
    DUALGRAD_IMPORT,
    EXPECTED_DIR,
    PROGRAMS,
    TORCH_IMPORT,
    TORCH_MISSING,
    output_difference,
    run_programs,
)

# float32 tolerance: every program printed the same numbers to within 2e-5 (relative) when
# its PyTorch run was repeated in float64, so rounding alone stays well inside these bounds.
RTOL = 1e-4
ATOL = 1e-5

# (program, backend, mode) that does not run, and why; "*" matches any backend or mode.
NOT_RUN = {
    ("poly_custom_function", "*", "forward"): (
        "LegendrePolynomial3 defines forward and backward only: forward mode propagates "
        "tangents through a Function's jvp, which it does not define (PyTorch's forward AD "
        "raises for such a Function too)"
    ),
    ("build_model", "*", "forward"): (
        "its model has 669,706 parameters, and forward mode carries one tangent per parameter: "
        "the first layer's weight alone would take a 401,408 x 401,408 block (a MemoryError "
        "that says to use reverse mode)"
    ),
    ("autograd_mechanics", "*", "forward"): (
        "it reads the .grad of a non-leaf (retain_grad), hooks a non-leaf and differentiates "
        "a gradient (create_graph=True): all three need the recorded graph of reverse mode; "
        "forward mode records no intermediate values"
    ),
}

RUNS = (("numpy", "reverse"), ("numpy", "forward"), ("jax", "reverse"))
BACKEND_MODULES = {"numpy": "numpy", "jax": "jax"}  # what each backend needs installed


def _not_run(program: str, backend: str, mode: str) -> str | None:
    for (name, not_backend, not_mode), reason in NOT_RUN.items():
        if name == program and not_backend in ("*", backend) and not_mode in ("*", mode):
            return reason
    return None


def _runs() -> list[object]:
    """One parameter per program, backend and mode that must run."""
    params = []
    for backend, mode in RUNS:
        module = BACKEND_MODULES[backend]
        missing = importlib.util.find_spec(module) is None
        marks = pytest.mark.skipif(missing, reason=f"backend {backend} needs {module}")
        for path in PROGRAMS:
            if _not_run(path.stem, backend, mode) is None:
                name = f"{path.stem}-{backend}-{mode}"
                params.append(pytest.param(path, backend, mode, id=name, marks=marks))
    return params


@functools.cache
def _dualgrad_outputs(backend: str, mode: str) -> dict[str, dict[str, str | None]]:
    """What every program prints under dualgrad on ``backend`` in ``mode`` (one interpreter)."""
    return run_programs("dualgrad", PROGRAMS, DUALGRAD_BACKEND=backend, DUALGRAD_MODE=mode)


@functools.cache
def _torch_outputs() -> dict[str, dict[str, str | None]]:
    return run_programs("torch", PROGRAMS)


def _expected(path) -> str:
    return (EXPECTED_DIR / f"{path.stem}.txt").read_text()


def test_every_program_has_pytorch_output_recorded():
    assert {path.stem for path in PROGRAMS} == {path.stem for path in EXPECTED_DIR.glob("*.txt")}
    assert len(PROGRAMS) >= 15


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda path: path.stem)
def test_program_is_plain_pytorch_imported_once(path):
    source = path.read_text()
    assert source.count(TORCH_IMPORT) == 1
    assert DUALGRAD_IMPORT not in source and "dualgrad" not in source
    # Any other spelling (`from torch import nn`, `import torch.nn as nn`) would need a second
    # change to run under dualgrad: submodules are reached as attributes (`torch.nn`).
    assert not re.search(r"^\s*(from\s+torch\b|import\s+torch\.)", source, re.MULTILINE)


def test_not_run_table_names_real_programs_and_runs():
    stems = {path.stem for path in PROGRAMS}
    for program, backend, mode in NOT_RUN:
        assert program in stems
        assert backend in ("*", *BACKEND_MODULES)
        assert mode in ("*", "reverse", "forward")


@pytest.mark.parametrize(("path", "backend", "mode"), _runs())
def test_program_prints_what_pytorch_prints(path, backend, mode):
    result = _dualgrad_outputs(backend, mode)[path.stem]
    difference = output_difference(result["stdout"], _expected(path), RTOL, ATOL)
    assert result["error"] is None and difference is None, (
        f"{path.name} under `import dualgrad as torch` ({backend}, {mode} mode):\n"
        f"{result['error'] or ''}{difference or ''}"
    )


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda path: path.stem)
def test_recorded_output_is_what_live_pytorch_prints(path):
    if importlib.util.find_spec("torch") is None:
        pytest.skip(TORCH_MISSING)
    result = _torch_outputs()[path.stem]
    assert result["error"] is None, result["error"]
    difference = output_difference(result["stdout"], _expected(path), RTOL, ATOL)
    assert difference is None, (
        f"{difference}\n(re-record: python tests/pytorch_programs.py record)"
    )


def test_output_comparison_holds_text_and_integers_exactly_and_floats_closely():
    expected = "epoch 3 loss 0.25 tensor([1., 2.])\n"
    assert (
        output_difference(
            "epoch 3 loss 0.2500001 tensor([1.0000, 2.0000])\n", expected, RTOL, ATOL
        )
        is None
    )
    assert output_difference("epoch 4 loss 0.25 tensor([1., 2.])\n", expected, RTOL, ATOL)
    assert output_difference("epoch 3 loss 0.26 tensor([1., 2.])\n", expected, RTOL, ATOL)
    assert output_difference("epoch 3 cost 0.25 tensor([1., 2.])\n", expected, RTOL, ATOL)
    assert output_difference("epoch 3 loss 0.25 array([1., 2.])\n", expected, RTOL, ATOL)
    assert "2 lines, PyTorch printed 1; the first missing or extra line: 'more'" in (
        output_difference(expected + "more\n", expected, RTOL, ATOL)
    )
    assert "0 lines, PyTorch printed 1; the first missing or extra line: 'epoch" in (
        output_difference("", expected, RTOL, ATOL)
    )
    assert (
        output_difference("nan inf -inf 1e-05\n", "nan inf -inf 1.00001e-05\n", RTOL, ATOL) is None
    )
