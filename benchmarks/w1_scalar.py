"""W1, the tutorial's scalar: ``y = x**2 + 3*x + 1; y.backward()`` on a 0-d float64 tensor."""

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


def _dualgrad(mode: str) -> Any:
    import dualgrad

    def step() -> Any:
        x = dualgrad.tensor(X, dtype=dualgrad.float64, requires_grad=True)
        _f(x).backward()
        return x.grad

    def in_mode() -> Any:
        with dualgrad.use_mode(mode):
            return step()

    return step if mode == "reverse" else in_mode


def _torch() -> Any:
    torch = module("torch")

    def step() -> Any:
        x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
        _f(x).backward()
        return x.grad

    return step


def _jax(jit: bool) -> Any:
    jax = module("jax")
    jax.config.update("jax_enable_x64", True)
    grad = jax.jit(jax.grad(_f)) if jit else jax.grad(_f)
    return lambda: grad(jax.numpy.asarray(X)).block_until_ready()


def _autograd() -> Any:
    grad = module("autograd").grad(_f)
    return lambda: grad(X)


def run(settings: Settings) -> list[Result]:
    """Microseconds per iteration (create x, forward, backward)."""
    builders = {
        "numpy": _numpy,
        "dualgrad": lambda: _dualgrad("reverse"),
        "dualgrad-forward": lambda: _dualgrad("forward"),
        "torch": _torch,
        "jax": lambda: _jax(jit=False),
        "jax.jit": lambda: _jax(jit=True),
        "autograd": _autograd,
    }
    number = 20 if settings.quick else 300
    return [
        timed(
            "W1",
            "tutorial scalar: x**2 + 3x + 1, backward",
            "µs/iter",
            builders,
            settings,
            scale=1e6,
            number=number,
            repeats=9,
        )
    ]
