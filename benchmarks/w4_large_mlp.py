"""W4, a large MLP step: batch 256, 784-1024-1024-10, ``F.relu``, ``F.log_softmax(dim=1)``,
the loss ``-(onehot * logp).sum(1).mean()``, the raw update, float32. Timed as the whole step,
and the forward pass alone (without recording), whose ratio is the cheap-gradient ratio (the
operation count gives about 2.7). The extra row "W4 optimizer" is the step as first benchmarked:
``F.cross_entropy`` with class indices and ``optim.SGD``."""

from __future__ import annotations

from typing import Any

from . import _mlp
from ._workload import Result, Settings, timed

FULL = (784, 1024, 1024, 10), 256
QUICK = (784, 128, 128, 10), 32

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
    sizes, batch = QUICK if settings.quick else FULL
    spec = _mlp.Spec(sizes, batch, activation="relu", loss="log_softmax")
    first = _mlp.Spec(sizes, batch, activation="relu", loss="cross_entropy", update="optimizer")
    shape = "-".join(map(str, sizes))
    options = {"scale": 1e3, "number": 2, "repeats": 7, "warmup": 1}
    step = timed(
        "W4 step",
        f"large MLP step: {batch} x {shape}, F.relu, F.log_softmax, raw update, float32",
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
    with_optimizer = timed(
        "W4 optimizer",
        "the step with F.cross_entropy (class indices) and optim.SGD",
        "ms/step",
        {
            peer: make
            for peer, make in _builders(first, 0).items()
            if peer in ("numpy", "dualgrad", "torch")
        },
        settings,
        **options,
    )
    return [step, forward, with_optimizer]
