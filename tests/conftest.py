"""Fixtures shared by every test: the backend (each installed one) and float64 for checks."""

from __future__ import annotations

import importlib.util

import pytest

import dualgrad

# name -> (module that must be importable, how to install it)
BACKENDS = {
    "numpy": ("numpy", "pip install dualgrad"),
    "jax": ("jax", "pip install 'dualgrad[jax]'"),
    "array_api_strict": ("array_api_strict", "pip install 'dualgrad[dev]'"),
}

if importlib.util.find_spec("jax") is not None:
    import jax

    # The checks run in float64, which JAX computes only in its 64-bit mode. dualgrad never
    # turns it on by itself (it is a process-wide JAX setting); the test session does.
    jax.config.update("jax_enable_x64", True)


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


@pytest.fixture(params=[_backend_param(name) for name in BACKENDS])
def backend_name(request: pytest.FixtureRequest) -> str:
    """Every test using this runs once per installed backend, given by name (for subprocesses)."""
    return request.param


@pytest.fixture(params=dualgrad.config.MODES)
def mode(request: pytest.FixtureRequest) -> object:
    """Every test using this runs once in reverse mode and once in forward mode."""
    with dualgrad.use_mode(request.param):
        yield request.param


@pytest.fixture
def float64():
    """Make float64 the default dtype for the test (finite differences need it)."""
    previous = dualgrad.get_default_dtype()
    dualgrad.set_default_dtype(dualgrad.float64)
    yield
    dualgrad.set_default_dtype(previous)
