"""W1, the tutorial's scalar: ``y = x**2 + 3*x + 1; y.backward()`` on a 0-d float64 leaf, made
once, with ``x.grad = None`` before each iteration (as a user resets it). The extra row "W1
fresh leaf" makes the leaf anew in each iteration instead (``tensor(2.0, requires_grad=True)``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._peers import module
from ._workload import Result, Settings, timed

X = 2.0


def _f(x: Any) -> Any:
    return x**2 + 3 * x + 1


def _numpy() -> Any:
    def step() -> Any:
        x = np.asarray(X)
        y = _f(x)
        return y, 2 * x + 3  # dy/dx by hand

    return step


def _pytorch_style(lib: Any, *, fresh_leaf: bool) -> Any:
    """The iteration for dualgrad or torch, the same code for both."""
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)

    def step() -> Any:
        x.grad = None
        _f(x).backward()
        return x.grad

    def with_fresh_leaf() -> Any:
        fresh = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        _f(fresh).backward()
        return fresh.grad

    return with_fresh_leaf if fresh_leaf else step


def _dualgrad(mode: str, *, fresh_leaf: bool = False) -> Any:
    import dualgrad

    step = _pytorch_style(dualgrad, fresh_leaf=fresh_leaf)
    if mode == "reverse":
        return step

    def in_mode() -> Any:
        with dualgrad.use_mode(mode):
            return step()

    return in_mode


def _jax(jit: bool) -> Any:
    jax = module("jax")
    jax.config.update("jax_enable_x64", True)
    grad = jax.jit(jax.grad(_f)) if jit else jax.grad(_f)
    return lambda: grad(jax.numpy.asarray(X)).block_until_ready()


def _autograd() -> Any:
    grad = module("autograd").grad(_f)
    return lambda: grad(X)


def run(settings: Settings) -> list[Result]:
    """Microseconds per iteration (forward, backward)."""
    builders = {
        "numpy": _numpy,
        "dualgrad": lambda: _dualgrad("reverse"),
        "dualgrad-forward": lambda: _dualgrad("forward"),
        "torch": lambda: _pytorch_style(module("torch"), fresh_leaf=False),
        "jax": lambda: _jax(jit=False),
        "jax.jit": lambda: _jax(jit=True),
        "autograd": _autograd,
    }
    fresh_leaf = {
        "dualgrad": lambda: _dualgrad("reverse", fresh_leaf=True),
        "dualgrad-forward": lambda: _dualgrad("forward", fresh_leaf=True),
        "torch": lambda: _pytorch_style(module("torch"), fresh_leaf=True),
    }
    options = {"scale": 1e6, "number": 20 if settings.quick else 300, "repeats": 9}
    return [
        timed(
            "W1",
            "tutorial scalar: x**2 + 3x + 1, backward, x.grad = None",
            "µs/iter",
            builders,
            settings,
            **options,
        ),
        timed(
            "W1 fresh leaf",
            "the same with a new leaf each iteration",
            "µs/iter",
            fresh_leaf,
            settings,
            **options,
        ),
    ]
