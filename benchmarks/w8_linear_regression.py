"""W8, the tutorial's linear regression: y = 2x + 1 from 10 noisy samples, 100 epochs of
gradient descent with in-place updates under no_grad, float64."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._peers import module
from ._workload import Result, Settings, timed

EPOCHS = 100
LR = 0.01


def _data() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 1))
    y = 2 * x + 1 + 0.1 * rng.standard_normal((10, 1))
    return x, y, rng.standard_normal((1, 1)), rng.standard_normal(1)


def _numpy() -> Any:
    x, y, w0, b0 = _data()

    def fit() -> Any:
        w, b = w0, b0
        for _ in range(EPOCHS):
            d = x @ w + b - y
            g = 2 * d / d.size  # d loss / d prediction
            w, b = w - LR * (x.T @ g), b - LR * g.sum(axis=0)
        return w, b

    return fit


def _tutorial(lib: Any, mode: str | None = None) -> Any:
    """The tutorial's loop, verbatim, for dualgrad and PyTorch alike."""
    x, y, w0, b0 = (lib.tensor(array) for array in _data())

    def fit() -> Any:
        w = w0.clone().requires_grad_(True)
        b = b0.clone().requires_grad_(True)
        for _ in range(EPOCHS):
            y_pred = lib.matmul(x, w) + b
            loss = ((y_pred - y) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                w -= LR * w.grad
                b -= LR * b.grad
            w.grad.zero_()
            b.grad.zero_()
        return w, b

    if mode is None:
        return fit

    def in_mode() -> Any:
        with lib.use_mode(mode):
            return fit()

    return in_mode


def _dualgrad(mode: str | None) -> Any:
    import dualgrad

    return _tutorial(dualgrad, mode)


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
            w, b = w - LR * gw, b - LR * gb
        return w, b

    return fit


def _jax(jit: bool) -> Any:
    jax = module("jax")
    jax.config.update("jax_enable_x64", True)
    value_and_grad = jax.value_and_grad
    if jit:
        return _functional(jax.numpy, lambda f: jax.jit(value_and_grad(f)))
    return _functional(jax.numpy, value_and_grad)


def run(settings: Settings) -> list[Result]:
    """Milliseconds per fit of 100 epochs."""
    builders = {
        "numpy": _numpy,
        "dualgrad": lambda: _dualgrad(None),
        "dualgrad-forward": lambda: _dualgrad("forward"),
        "torch": lambda: _tutorial(module("torch")),
        "jax": lambda: _jax(jit=False),
        "jax.jit": lambda: _jax(jit=True),
        "autograd": lambda: _functional(
            module("autograd.numpy"), module("autograd").value_and_grad
        ),
    }
    return [
        timed(
            "W8",
            f"tutorial linear regression, {EPOCHS} epochs",
            "ms",
            builders,
            settings,
            scale=1e3,
            number=1 if settings.quick else 5,
            repeats=9,
            warmup=1,
        )
    ]
