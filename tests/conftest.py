"""Fixtures shared by every test: the backend (each installed one) and float64 for checks."""

from __future__ import annotations

import importlib.util
import os

# Under pytest-xdist (`-n auto`), one worker per core: a library that also starts a thread
# per core in each worker (PyTorch's and OpenBLAS's OpenMP pools) oversubscribes the cores.
# With -n 2 on 2 cores, one thread per worker took the CPU time of the torch tests of
# test_nn_functional_layers.py from 90 s to 76 s, and of test_nn_layers.py from 88-91 s to
# 80-85 s. Set before NumPy or torch is first imported (they read it then); an explicit
# OMP_NUM_THREADS wins.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest
from backend_limits import cost_reason, limit_reason
from hypothesis import HealthCheck, settings

import dualgrad

# Hypothesis profiles: `ci` (the default) keeps the fuzzer to a few hundred programs; `long`
# (pytest --hypothesis-profile=long tests/test_fuzz.py) runs it for as long as you let it. The
# backend and mode fixtures only select a context, so sharing them between examples is safe.
_FUZZ = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("ci", max_examples=60, **_FUZZ)
settings.register_profile("long", max_examples=1_000, **_FUZZ)
settings.load_profile("ci")

# name -> (module that must be importable, how to install it)
BACKENDS = {
    "numpy": ("numpy", "pip install dualgrad"),
    "jax": ("jax", "pip install 'dualgrad[jax]'"),
    "array_api_strict": ("array_api_strict", "pip install 'dualgrad[dev]'"),
    "torch": ("torch", "pip install 'dualgrad[torch]'"),
    "dask": ("dask", "pip install 'dualgrad[dask]'"),
    "cupy": ("cupy", "pip install 'dualgrad[cupy]' on a machine with an NVIDIA GPU"),
}


def _no_gpu() -> str | None:
    """Why CuPy cannot run here (None when it can): it is installed but sees no GPU."""
    import cupy

    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as err:
        return f"backend cupy needs a CUDA GPU: {err}"
    return None if count else "backend cupy needs a CUDA GPU; none is visible"


if importlib.util.find_spec("jax") is not None:
    import jax

    # The checks run in float64, which JAX computes only in its 64-bit mode. dualgrad never
    # turns it on by itself (it is a process-wide JAX setting); the test session does.
    jax.config.update("jax_enable_x64", True)


def _backend_param(name: str) -> object:
    module, install = BACKENDS[name]
    reason = f"backend {name} needs {module}: {install}"
    if importlib.util.find_spec(module) is not None:
        reason = _no_gpu() if name == "cupy" else None
    return pytest.param(
        name, id=name, marks=pytest.mark.skipif(reason is not None, reason=reason or "")
    )


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Apply tests/backend_limits.py: known library limits, and the operator table's share."""
    every_variant = os.environ.get("DUALGRAD_TEST_ALL_VARIANTS") == "1"
    first_variant: dict[tuple[str, str, int], str] = {}
    for item in items:
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        backend = params.get("backend", params.get("backend_name"))
        if not isinstance(backend, str):
            continue
        parts = item.callspec.id.split("-")
        if backend in parts:
            parts.remove(backend)
        reason = limit_reason(backend, item.originalname, "-".join(parts))
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, run=False))
            continue
        variant = params.get("variant")
        reason = cost_reason(backend)
        if variant is None or reason is None or every_variant:
            continue
        key = (item.originalname, backend, id(variant.spec))
        if first_variant.setdefault(key, variant.id) != variant.id:
            item.add_marker(pytest.mark.skip(reason=reason))
