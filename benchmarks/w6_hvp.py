"""W6, a Hessian-vector product of f(x) = sum(log(1 + exp(A x))) + |x|^2 / 2, with x in
R^1000 and A of shape 500 x 1000, float64.

Row "W6": dualgrad and PyTorch run the same code, ``autograd.grad`` twice (the first with
``create_graph=True``); the other peers use their own Hessian-vector product. Row "W6 hvp":
``dualgrad.hvp`` against the same PyTorch double backward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._peers import module
from ._workload import Result, Settings, timed


def _data(quick: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, n = (50, 100) if quick else (500, 1000)
    rng = np.random.default_rng(0)
    return rng.standard_normal((m, n)) / np.sqrt(n), rng.standard_normal(n), rng.standard_normal(n)


def _numpy(quick: bool) -> Any:
    a, x, v = _data(quick)

    def hvp() -> np.ndarray:
        s = 1 / (1 + np.exp(-(a @ x)))  # the logistic sigmoid of A x
        return a.T @ (s * (1 - s) * (a @ v)) + v

    return hvp


def _dualgrad_hvp(quick: bool) -> Any:
    import dualgrad

    a_np, x_np, v_np = _data(quick)
    a, x, v = (dualgrad.tensor(array) for array in (a_np, x_np, v_np))

    def f(x: Any) -> Any:
        return dualgrad.log1p(dualgrad.exp(a @ x)).sum() + 0.5 * (x * x).sum()

    return lambda: dualgrad.hvp(f, (x,), (v,))[1]


def _double_backward(lib: Any, quick: bool) -> Any:
    """``autograd.grad`` twice, for dualgrad or torch (PyTorch's fastest hvp: reverse over
    reverse)."""
    a, x0, v = (lib.tensor(array) for array in _data(quick))

    def hvp() -> Any:
        x = x0.detach().requires_grad_(True)
        f = lib.log1p(lib.exp(a @ x)).sum() + 0.5 * (x * x).sum()
        (g,) = lib.autograd.grad(f, x, create_graph=True)
        (h,) = lib.autograd.grad(g, x, v)
        return h

    return hvp


def _jax(quick: bool, jit: bool) -> Any:
    jax = module("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    a, x, v = (jnp.asarray(array) for array in _data(quick))

    def f(x: Any) -> Any:
        return jnp.log1p(jnp.exp(a @ x)).sum() + 0.5 * (x * x).sum()

    def hvp(x: Any, v: Any) -> Any:
        return jax.jvp(jax.grad(f), (x,), (v,))[1]  # forward over reverse

    hvp = jax.jit(hvp) if jit else hvp
    return lambda: hvp(x, v).block_until_ready()


def _autograd(quick: bool) -> Any:
    anp = module("autograd.numpy")
    a, x, v = _data(quick)

    def f(x: Any) -> Any:
        return anp.sum(anp.log1p(anp.exp(a @ x))) + 0.5 * anp.sum(x * x)

    hvp = module("autograd").hessian_vector_product(f)
    return lambda: hvp(x, v)


def run(settings: Settings) -> list[Result]:
    """Milliseconds per Hessian-vector product."""
    quick = settings.quick
    builders = {
        "numpy": lambda: _numpy(quick),
        "dualgrad": lambda: _double_backward(module("dualgrad"), quick),
        "torch": lambda: _double_backward(module("torch"), quick),
        "jax": lambda: _jax(quick, jit=False),
        "jax.jit": lambda: _jax(quick, jit=True),
        "autograd": lambda: _autograd(quick),
    }
    hvp = {
        "dualgrad": lambda: _dualgrad_hvp(quick),
        "torch": lambda: _double_backward(module("torch"), quick),
    }
    options = {"scale": 1e3, "number": 3 if quick else 20, "repeats": 7}
    return [
        timed(
            "W6",
            "Hessian-vector product of sum(log(1 + exp(A x))) + |x|^2 / 2, A 500 x 1000, "
            "autograd.grad twice",
            "ms",
            builders,
            settings,
            **options,
        ),
        timed("W6 hvp", "the same by dualgrad.hvp", "ms", hvp, settings, **options),
    ]
