"""W2, an op chain: 200 alternating elementwise ops on a size-10 float64 array, then backward.

The five ops cycle: sin, scale (``* 0.9``), shift (``+ 0.1``), tanh, ``exp(-|x|)``; the
result is summed and differentiated. Reported per op, forward and backward together.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._peers import module
from ._workload import Result, Settings, timed

OPS = 200
SIZE = 10


def _start() -> np.ndarray:
    return np.random.default_rng(0).standard_normal(SIZE)


def _op(lib: Any, i: int, x: Any) -> Any:
    """Op ``i`` of the chain, for every library that spells sin, tanh, exp, abs alike."""
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


def chain(lib: Any, x: Any) -> Any:
    """The 200 ops, then the sum."""
    for i in range(OPS):
        x = _op(lib, i, x)
    return x.sum()


def _numpy() -> Any:
    start = _start()

    def step() -> Any:
        saved = []  # each op's input, for the backward pass
        x = start
        for i in range(OPS):
            saved.append(x)
            x = _op(np, i, x)
        g = np.ones_like(x)
        for i in reversed(range(OPS)):
            x = saved[i]
            kind = i % 5
            if kind == 0:
                g = g * np.cos(x)
            elif kind == 1:
                g = g * 0.9
            elif kind == 3:
                t = np.tanh(x)
                g = g * (1 - t * t)
            elif kind == 4:
                g = g * -np.exp(-np.abs(x)) * np.sign(x)
        return g

    return step


def _dualgrad(mode: str) -> Any:
    import dualgrad

    start = _start()

    def step() -> Any:
        x = dualgrad.tensor(start, requires_grad=True)
        chain(dualgrad, x).backward()
        return x.grad

    def in_mode() -> Any:
        with dualgrad.use_mode(mode):
            return step()

    return step if mode == "reverse" else in_mode


def _torch() -> Any:
    torch = module("torch")
    start = torch.from_numpy(_start())

    def step() -> Any:
        x = start.clone().requires_grad_(True)
        chain(torch, x).backward()
        return x.grad

    return step


def _jax(jit: bool) -> Any:
    jax = module("jax")
    jax.config.update("jax_enable_x64", True)
    grad = jax.grad(lambda x: chain(jax.numpy, x))
    grad = jax.jit(grad) if jit else grad
    start = jax.numpy.asarray(_start())
    return lambda: grad(start).block_until_ready()


def _autograd() -> Any:
    autograd = module("autograd")
    grad = autograd.grad(lambda x: chain(module("autograd.numpy"), x))
    start = _start()
    return lambda: grad(start)


def run(settings: Settings) -> list[Result]:
    """Microseconds per op, forward and backward."""
    builders = {
        "numpy": _numpy,
        "dualgrad": lambda: _dualgrad("reverse"),
        "dualgrad-forward": lambda: _dualgrad("forward"),
        "torch": _torch,
        "jax": lambda: _jax(jit=False),
        "jax.jit": lambda: _jax(jit=True),
        "autograd": _autograd,
    }
    return [
        timed(
            "W2",
            f"op chain: {OPS} elementwise ops on size {SIZE}, backward",
            "µs/op",
            builders,
            settings,
            scale=1e6 / OPS,
            number=2 if settings.quick else 20,
            repeats=9,
            warmup=1,
        )
    ]
