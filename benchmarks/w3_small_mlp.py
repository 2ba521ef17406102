"""W3, a small MLP step: batch 64, 32-64-64-1, tanh, MSE, float32, six raw leaf tensors,
``p.grad = None`` and then ``p -= lr * p.grad`` under ``no_grad()``, as a PyTorch user writes it.

Also the compiled step: ``dualgrad.jit`` of that same step on the JAX backend against the step
hand-written as ``jax.jit(jax.value_and_grad(...))`` plus the update. The extra row "W3
optimizer" is the same step through ``optim.SGD`` (``zero_grad``, ``step``).
"""

from __future__ import annotations

from typing import Any

from . import _mlp
from ._workload import Result, Settings, timed

SPEC = _mlp.Spec(sizes=(32, 64, 64, 1), batch=64, activation="tanh", loss="mse")
WITH_OPTIMIZER = _mlp.Spec(
    sizes=(32, 64, 64, 1), batch=64, activation="tanh", loss="mse", update="optimizer"
)


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
    # Only the peers whose code an optimizer object changes (and jax.jit, the jit's yardstick).
    with_optimizer = {
        "dualgrad": _step(lambda: _mlp.dualgrad_step(WITH_OPTIMIZER)),
        "dualgrad.jit": _step(lambda: _mlp.dualgrad_step(WITH_OPTIMIZER, jit=True)),
        "torch": _step(lambda: _mlp.torch_step(WITH_OPTIMIZER)),
        "jax.jit": _step(lambda: _mlp.jax_step(WITH_OPTIMIZER, jit=True)),
    }
    options = {"scale": 1e6, "number": 10 if settings.quick else 100, "repeats": 9, "warmup": 5}
    return [
        timed(
            "W3",
            "small MLP step: 64 x 32-64-64-1, tanh, MSE, raw update, float32",
            "µs/step",
            builders,
            settings,
            **options,
        ),
        timed(
            "W3 optimizer",
            "the same step with optim.SGD (zero_grad, step)",
            "µs/step",
            with_optimizer,
            settings,
            **options,
        ),
    ]
