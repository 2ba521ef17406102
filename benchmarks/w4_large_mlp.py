"""W4, a large MLP step: batch 256, 784-1024-1024-10, relu, log-softmax cross-entropy, SGD,
float32. Timed twice: the whole step, and the forward pass alone (without recording), whose
ratio is the cheap-gradient ratio (the operation count gives about 2.7)."""

from __future__ import annotations

from typing import Any

from . import _mlp
from ._workload import Result, Settings, timed

FULL = _mlp.Spec(sizes=(784, 1024, 1024, 10), batch=256, activation="relu", loss="xent")
QUICK = _mlp.Spec(sizes=(784, 128, 128, 10), batch=32, activation="relu", loss="xent")

_NO_FORWARD_MODE = "forward mode costs one pass per parameter (1.9 million here)"


def _builders(spec: _mlp.Spec, part: int) -> dict[str, Any]:
    def pick(make: Any) -> Any:
        return lambda: make()[part]

    return {
        "numpy": pick(lambda: _mlp.numpy_step(spec)),
        "dualgrad": pick(lambda: _mlp.dualgrad_step(spec)),
        "dualgrad-forward": lambda: _NO_FORWARD_MODE,
        "torch": pick(lambda: _mlp.torch_step(spec)),
        "jax.jit": pick(lambda: _mlp.jax_step(spec, jit=True)),
        "autograd": pick(lambda: _mlp.autograd_step(spec)),
    }


def run(settings: Settings) -> list[Result]:
    """Milliseconds per step, and per forward pass alone."""
    spec = QUICK if settings.quick else FULL
    shape = "-".join(map(str, spec.sizes))
    options = {"scale": 1e3, "number": 2, "repeats": 7, "warmup": 1}
    step = timed(
        "W4 step",
        f"large MLP step: {spec.batch} x {shape}, relu, cross-entropy, SGD, float32",
        "ms/step",
        _builders(spec, 0),
        settings,
        **options,
    )
    forward = timed(
        "W4 forward",
        "the same MLP's forward pass alone (loss, nothing recorded)",
        "ms",
        _builders(spec, 1),
        settings,
        **options,
    )
    return [step, forward]
