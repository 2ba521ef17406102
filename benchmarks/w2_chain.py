"""W2, an op chain: ``x = exp(tanh(sin(x) * 1.0001 + 0.1))`` forty times (200 ops) on a 0-d
float64 leaf made once (``x.grad = None`` before each pass), then backward. Reported per op,
forward and backward together.

The extra row "W2 size 10" is the chain as first benchmarked: 200 ops cycling sin, ``* 0.9``,
``+ 0.1``, tanh and ``exp(-|x|)`` on a size-10 array made anew each pass, summed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._peers import module
from ._workload import Result, Settings, timed

OPS = 200
BLOCK = 5  # ops in one exp(tanh(sin(x) * 1.0001 + 0.1))
START = 0.3
SIZE = 10  # the extra row's array


def chain(lib: Any, x: Any) -> Any:
    """The 200 ops, for every library that spells sin, tanh and exp alike."""
    for _ in range(OPS // BLOCK):
        x = lib.exp(lib.tanh(lib.sin(x) * 1.0001 + 0.1))
    return x


def _numpy() -> Any:
    def step() -> Any:
        x = np.asarray(START)
        saved = []  # what the backward pass needs of each block
        for _ in range(OPS // BLOCK):
            t = np.tanh(np.sin(x) * 1.0001 + 0.1)
            saved.append((x, t))
            x = np.exp(t)
        g = np.ones_like(x)
        for x, t in reversed(saved):
            g = g * np.exp(t) * (1 - t * t) * 1.0001 * np.cos(x)
        return g

    return step


def _pytorch_style(lib: Any) -> Any:
    """The pass for dualgrad or torch, the same code for both."""
    x = lib.tensor(START, dtype=lib.float64, requires_grad=True)

    def step() -> Any:
        x.grad = None
        chain(lib, x).backward()
        return x.grad

    return step


def _dualgrad(mode: str) -> Any:
    import dualgrad

    step = _pytorch_style(dualgrad)
    if mode == "reverse":
        return step

    def in_mode() -> Any:
        with dualgrad.use_mode(mode):
            return step()

    return in_mode


def _jax(jit: bool) -> Any:
    jax = module("jax")
    jax.config.update("jax_enable_x64", True)
    grad = jax.grad(lambda x: chain(jax.numpy, x))
    grad = jax.jit(grad) if jit else grad
    start = jax.numpy.asarray(START)
    return lambda: grad(start).block_until_ready()


def _autograd() -> Any:
    grad = module("autograd").grad(lambda x: chain(module("autograd.numpy"), x))
    return lambda: grad(START)


# --- the extra row: the first chain, size 10, a new leaf each pass -----------------------------
def _mixed_op(lib: Any, i: int, x: Any) -> Any:
    """Step ``i`` of the first chain (the fifth is three primitives: 240 in all, counted 200)."""
    kind = i % 5
    if kind == 0:
        return lib.sin(x)
    if kind == 1:
        return x * 0.9
    if kind == 2:
        return x + 0.1
    if kind == 3:
        return lib.tanh(x)
    return lib.exp(-lib.abs(x))


def _mixed_chain(lib: Any, x: Any) -> Any:
    for i in range(OPS):
        x = _mixed_op(lib, i, x)
    return x.sum()


def _size_10(lib: Any, mode: str = "reverse") -> Any:
    start = np.random.default_rng(0).standard_normal(SIZE)

    def step() -> Any:
        x = lib.tensor(start, requires_grad=True)
        _mixed_chain(lib, x).backward()
        return x.grad

    if mode == "reverse":
        return step

    def in_mode() -> Any:
        with lib.use_mode(mode):
            return step()

    return in_mode


def run(settings: Settings) -> list[Result]:
    """Microseconds per op, forward and backward."""
    builders = {
        "numpy": _numpy,
        "dualgrad": lambda: _dualgrad("reverse"),
        "dualgrad-forward": lambda: _dualgrad("forward"),
        "torch": lambda: _pytorch_style(module("torch")),
        "jax": lambda: _jax(jit=False),
        "jax.jit": lambda: _jax(jit=True),
        "autograd": _autograd,
    }
    size_10 = {
        "dualgrad": lambda: _size_10(module("dualgrad")),
        "dualgrad-forward": lambda: _size_10(module("dualgrad"), "forward"),
        "torch": lambda: _size_10(module("torch")),
    }
    options = {
        "scale": 1e6 / OPS,
        "number": 2 if settings.quick else 20,
        "repeats": 9,
        "warmup": 1,
    }
    return [
        timed(
            "W2",
            f"op chain: {OPS} ops exp(tanh(sin(x) * 1.0001 + 0.1)) on a 0-d float64, backward",
            "µs/op",
            builders,
            settings,
            **options,
        ),
        timed(
            "W2 size 10",
            f"{OPS} mixed elementwise ops on a size-{SIZE} array, a new leaf each pass",
            "µs/op",
            size_10,
            settings,
            **options,
        ),
    ]
