"""W5, a Jacobian: f(x) = tanh(A x) * x from R^100 to R^100, by jacfwd and by jacrev."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._peers import module
from ._workload import Result, Settings, timed

N = 100


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((N, N)) / np.sqrt(N), rng.standard_normal(N)


def _numpy() -> Any:
    a, x = _data()

    def jacobian() -> np.ndarray:
        t = np.tanh(a @ x)
        # d(t_i x_i)/dx_j = delta_ij t_i + x_i (1 - t_i^2) A_ij
        return np.diag(t) + (x * (1 - t * t))[:, None] * a

    return jacobian


def _dualgrad(transform: str) -> Any:
    import dualgrad

    a_np, x_np = _data()
    a, x = dualgrad.tensor(a_np), dualgrad.tensor(x_np)
    jacobian = getattr(dualgrad, transform)(lambda x: dualgrad.tanh(a @ x) * x)
    return lambda: jacobian(x)


def _torch(transform: str) -> Any:
    torch = module("torch")
    a_np, x_np = _data()
    a, x = torch.from_numpy(a_np), torch.from_numpy(x_np)
    jacobian = getattr(torch.func, transform)(lambda x: torch.tanh(a @ x) * x)
    return lambda: jacobian(x)


def _jax(transform: str, jit: bool) -> Any:
    jax = module("jax")
    jax.config.update("jax_enable_x64", True)
    a_np, x_np = _data()
    a, x = jax.numpy.asarray(a_np), jax.numpy.asarray(x_np)
    jacobian = getattr(jax, transform)(lambda x: jax.numpy.tanh(a @ x) * x)
    jacobian = jax.jit(jacobian) if jit else jacobian
    return lambda: jacobian(x).block_until_ready()


def _autograd() -> Any:
    anp = module("autograd.numpy")
    a, x = _data()
    jacobian = module("autograd").jacobian(lambda x: anp.tanh(a @ x) * x)
    return lambda: jacobian(x)


def run(settings: Settings) -> list[Result]:
    """Milliseconds per Jacobian, for each transform."""
    results = []
    for transform in ("jacfwd", "jacrev"):
        builders = {
            "numpy": _numpy,
            "dualgrad": lambda transform=transform: _dualgrad(transform),
            "torch": lambda transform=transform: _torch(transform),
            "jax": lambda transform=transform: _jax(transform, jit=False),
            "jax.jit": lambda transform=transform: _jax(transform, jit=True),
            "autograd": (
                _autograd
                if transform == "jacrev"
                else lambda: "autograd has no vectorized forward-mode Jacobian"
            ),
        }
        results.append(
            timed(
                f"W5 {transform}",
                f"Jacobian of tanh(A x) * x, R^{N} -> R^{N}, by {transform}",
                "ms",
                builders,
                settings,
                scale=1e3,
                number=3 if settings.quick else 20,
                repeats=7,
            )
        )
    return results
