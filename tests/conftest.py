"""Fixtures shared by every test: the backend (each installed one) and float64 for checks."""

from __future__ import annotations

import importlib.util

import pytest

import dualgrad

# name -> (module that must be importable, how to install it)
BACKENDS = {
    "numpy": ("numpy", "pip install dualgrad"),
    "array_api_strict": ("array_api_strict", "pip install 'dualgrad[dev]'"),
}


def _backend_param(name: str) -> object:
    module, install = BACKENDS[name]
    missing = importlib.util.find_spec(module) is None
    reason = f"backend {name} needs {module}: {install}"
    return pytest.param(name, id=name, marks=pytest.mark.skipif(missing, reason=reason))


@pytest.fixture(params=[_backend_param(name) for name in BACKENDS])
def backend(request: pytest.FixtureRequest) -> object:
    """Every test using this runs once per backend, with tensors created on it."""
    with dualgrad.use_backend(request.param) as active:
        yield active


@pytest.fixture
def float64():
    """Make float64 the default dtype for the test (finite differences need it)."""
    previous = dualgrad.get_default_dtype()
    dualgrad.set_default_dtype(dualgrad.float64)
    yield
    dualgrad.set_default_dtype(previous)
