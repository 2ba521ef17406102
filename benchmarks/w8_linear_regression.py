"""W8, the tutorial's linear regression, as the tutorial writes it: y = 2x + 1 from 10 noisy
samples, float32, 100 epochs of ``loss.backward()``, ``w -= lr * w.grad`` under ``no_grad()``
and ``w.grad.zero_()``, learning rate 0.1.

The extra row "W8 float64" is the fit as first benchmarked: float64, learning rate 0.01 and
``matmul(x, w)`` (the same operations).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._peers import module
from ._workload import Result, Settings, timed

EPOCHS = 100
LEARNING_RATE = 0.1


def _data(dtype: str = "float32") -> tuple[np.ndarray, ...]:
    """x, y, and the initial w and b."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 1))
    y = 2 * x + 1 + 0.1 * rng.standard_normal((10, 1))
    return tuple(
        a.astype(dtype) for a in (x, y, rng.standard_normal((1, 1)), rng.standard_normal(1))
    )


def _numpy() -> Any:
    x, y, w0, b0 = _data()
    learning_rate = np.float32(LEARNING_RATE)

    def fit() -> Any:
        w, b = w0, b0
        for _ in range(EPOCHS):
            d = x @ w + b - y
            g = d * np.float32(2 / d.size)  # d loss / d prediction
            w, b = w - learning_rate * (x.T @ g), b - learning_rate * g.sum(axis=0)
        return w, b

    return fit


def _tutorial(lib: Any) -> Any:
    """The tutorial's loop, verbatim (less its printing), for dualgrad and PyTorch alike."""
    x_np, y_np, w_np, b_np = _data()
    x, y = lib.tensor(x_np), lib.tensor(y_np)

    def fit() -> Any:
        w = lib.tensor(w_np, requires_grad=True)
        b = lib.tensor(b_np, requires_grad=True)
        learning_rate = LEARNING_RATE
        for _ in range(EPOCHS):
            prediction = x @ w + b
            loss = ((prediction - y) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                w -= learning_rate * w.grad
                b -= learning_rate * b.grad
            w.grad.zero_()
            b.grad.zero_()
        return w, b

    return fit


def _first_benchmarked(lib: Any) -> Any:
    """The extra row's fit: float64, learning rate 0.01, ``matmul``."""
    x, y, w0, b0 = (lib.tensor(array) for array in _data("float64"))

    def fit() -> Any:
        w = w0.clone().requires_grad_(True)
        b = b0.clone().requires_grad_(True)
        for _ in range(EPOCHS):
            y_pred = lib.matmul(x, w) + b
            loss = ((y_pred - y) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                w -= 0.01 * w.grad
                b -= 0.01 * b.grad
            w.grad.zero_()
            b.grad.zero_()
        return w, b

    return fit


def _in_mode(fit: Any, mode: str) -> Any:
    import dualgrad

    def in_mode() -> Any:
        with dualgrad.use_mode(mode):
            return fit()

    return in_mode


def _functional(lib: Any, value_and_grad: Any) -> Any:
    """The same fit as a function of (w, b), for JAX and HIPS autograd."""
    x, y, w0, b0 = _data()

    def loss(params: Any) -> Any:
        w, b = params
        return lib.mean((x @ w + b - y) ** 2)

    step = value_and_grad(loss)

    def fit() -> Any:
        w, b = w0, b0
        for _ in range(EPOCHS):
            _, (gw, gb) = step((w, b))
            w, b = w - LEARNING_RATE * gw, b - LEARNING_RATE * gb
        return w, b

    return fit


def _jax(jit: bool) -> Any:
    jax = module("jax")
    value_and_grad = jax.value_and_grad
    if jit:
        return _functional(jax.numpy, lambda f: jax.jit(value_and_grad(f)))
    return _functional(jax.numpy, value_and_grad)


def run(settings: Settings) -> list[Result]:
    """Milliseconds per fit of 100 epochs."""
    builders = {
        "numpy": _numpy,
        "dualgrad": lambda: _tutorial(module("dualgrad")),
        "dualgrad-forward": lambda: _in_mode(_tutorial(module("dualgrad")), "forward"),
        "torch": lambda: _tutorial(module("torch")),
        "jax": lambda: _jax(jit=False),
        "jax.jit": lambda: _jax(jit=True),
        "autograd": lambda: _functional(
            module("autograd.numpy"), module("autograd").value_and_grad
        ),
    }
    first = {
        "dualgrad": lambda: _first_benchmarked(module("dualgrad")),
        "torch": lambda: _first_benchmarked(module("torch")),
    }
    options = {
        "scale": 1e3,
        "number": 1 if settings.quick else 5,
        "repeats": 9,
        "warmup": 1,
    }
    return [
        timed(
            "W8",
            f"the tutorial's linear regression, {EPOCHS} epochs, float32",
            "ms",
            builders,
            settings,
            **options,
        ),
        timed(
            "W8 float64",
            "the same fit in float64, learning rate 0.01, matmul(x, w)",
            "ms",
            first,
            settings,
            **options,
        ),
    ]
