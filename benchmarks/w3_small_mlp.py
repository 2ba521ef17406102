"""W3, a small MLP step: batch 64, 32-64-64-1, tanh, MSE, SGD, float32.

Also the compiled step: ``dualgrad.jit`` of the PyTorch-style step on the JAX backend against
the same step hand-written as ``jax.jit(jax.value_and_grad(...))`` plus the update.
"""

from __future__ import annotations

from typing import Any

from . import _mlp
from ._workload import Result, Settings, timed

SPEC = _mlp.Spec(sizes=(32, 64, 64, 1), batch=64, activation="tanh", loss="mse")


def _step(make: Any) -> Any:
    return lambda: make()[0]


def run(settings: Settings) -> list[Result]:
    """Microseconds per training step."""
    builders = {
        "numpy": _step(lambda: _mlp.numpy_step(SPEC)),
        "dualgrad": _step(lambda: _mlp.dualgrad_step(SPEC)),
        "dualgrad-forward": lambda: "forward mode costs one pass per parameter (6,401 here)",
        "dualgrad.jit": _step(lambda: _mlp.dualgrad_step(SPEC, jit=True)),
        "torch": _step(lambda: _mlp.torch_step(SPEC)),
        "jax": _step(lambda: _mlp.jax_step(SPEC, jit=False)),
        "jax.jit": _step(lambda: _mlp.jax_step(SPEC, jit=True)),
        "autograd": _step(lambda: _mlp.autograd_step(SPEC)),
    }
    return [
        timed(
            "W3",
            "small MLP step: 64 x 32-64-64-1, tanh, MSE, SGD, float32",
            "µs/step",
            builders,
            settings,
            scale=1e6,
            number=10 if settings.quick else 100,
            repeats=9,
            warmup=5,
        )
    ]
