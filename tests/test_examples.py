"""The tutorial's programs in examples/ print exactly what PyTorch 2 prints."""

from __future__ import annotations

import importlib.util

import pytest
from pytorch_programs import DUALGRAD_IMPORT, REPO_ROOT, TORCH_MISSING, run_python, with_import

EXAMPLES_DIR = REPO_ROOT / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))

# What each example printed under PyTorch 2.13.0 (CPU); test_example_matches_live_pytorch
# keeps these honest wherever torch is installed.
EXPECTED = {
    "01_requires_grad": "True\ntensor([1., 2., 3.], requires_grad=True)\n",
    "02_computing_gradients": "tensor(7.)\n",
    "03_gradient_flow": "tensor(8.)\ntensor(4.)\n",
    "04_stop_tracking": "False\nFalse\nTrue\ntensor(1.)\ntensor(2.)\n",
    "05_accumulation": "tensor(2.)\ntensor(4.)\ntensor(6.)\nNone\n",
    "06_linear_regression": "2\n1\nTrue\nTrue True\n",
    "exercise_1_cube": "8.0\ntensor(12.)\n",
    "exercise_2_layer": "(4, 2)\n(3, 2)\n(2,)\nTrue True\nTrue\nTrue\nTrue\n",
    "exercise_3_quadratic_minimum": "3.0\n1.0\n",
}

example_files = pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)


def test_every_example_has_expected_output():
    assert {path.stem for path in EXAMPLES} == set(EXPECTED)


@example_files
def test_example_imports_dualgrad_as_torch(path):
    assert path.read_text().count(DUALGRAD_IMPORT) == 1


@example_files
def test_example_prints_what_pytorch_prints(path, backend_name):
    result = run_python(path, DUALGRAD_BACKEND=backend_name)
    assert result.stdout == EXPECTED[path.stem], result.stderr


@example_files
def test_example_matches_live_pytorch(path, tmp_path):
    if importlib.util.find_spec("torch") is None:
        pytest.skip(TORCH_MISSING)
    torch_version = tmp_path / path.name
    torch_version.write_text(with_import(path.read_text(), "torch"))
    result = run_python(torch_version)
    assert result.stdout == EXPECTED[path.stem], result.stderr


@example_files
def test_example_runs_in_forward_mode_too(path, backend_name):
    result = run_python(path, DUALGRAD_MODE="forward", DUALGRAD_BACKEND=backend_name)
    assert result.stdout == EXPECTED[path.stem], result.stderr
