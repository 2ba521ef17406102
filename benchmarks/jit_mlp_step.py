"""One MLP training step compiled whole: ``dualgrad.jit`` against hand-written ``jax.jit``.

The step: batch 64, a 32-64-64-1 tanh MLP, mean squared error, plain SGD, float32 (the
benchmark suite's W3). dualgrad's version is the PyTorch-style loop (``zero_grad``,
``backward``, ``optimizer.step``) under ``dualgrad.jit``; the peer is the same step written
for JAX, ``jax.jit`` of ``jax.value_and_grad`` plus the update. Both run on JAX's default
device (the GPU where JAX has one) and start from the same parameters; the table shows the
median step time and the ratio, and checks that the two loss curves agree.

Run: ``python -m benchmarks.jit_mlp_step [--steps N] [--repeats R] [--json PATH]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import dualgrad

SIZES = (32, 64, 64, 1)
BATCH = 64
LR = 0.01


def _initial(seed: int = 0) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        weights.append(
            (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype("float32")
        )
        weights.append(np.zeros(fan_out, dtype="float32"))
    x = rng.standard_normal((BATCH, SIZES[0])).astype("float32")
    y = rng.standard_normal((BATCH, SIZES[-1])).astype("float32")
    return weights, x, y


def dualgrad_step() -> tuple[Callable[[], Any], Callable[[], float]]:
    """The PyTorch-style step under dualgrad.jit; returns (step, read the last loss)."""
    weights, x_np, y_np = _initial()
    with dualgrad.use_backend("jax"):
        params = [dualgrad.tensor(jnp.asarray(w), requires_grad=True) for w in weights]
        x, y = dualgrad.tensor(jnp.asarray(x_np)), dualgrad.tensor(jnp.asarray(y_np))
    optimizer = dualgrad.optim.SGD(params, lr=LR)

    @dualgrad.jit
    def step(x: dualgrad.Tensor, y: dualgrad.Tensor) -> dualgrad.Tensor:
        optimizer.zero_grad()
        h = x
        for i in range(0, len(params) - 2, 2):
            h = dualgrad.tanh(h @ params[i] + params[i + 1])
        loss = ((h @ params[-2] + params[-1] - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss

    last: list[Any] = [None]

    def run() -> Any:
        last[0] = step(x, y)
        return last[0].array

    return run, lambda: float(last[0].item())


def jax_step() -> tuple[Callable[[], Any], Callable[[], float]]:
    """The same step written for JAX: jax.jit of value_and_grad and the SGD update."""
    weights, x_np, y_np = _initial()
    params = [jnp.asarray(w) for w in weights]
    x, y = jnp.asarray(x_np), jnp.asarray(y_np)

    def loss_fn(params: list[Any], x: Any, y: Any) -> Any:
        h = x
        for i in range(0, len(params) - 2, 2):
            h = jnp.tanh(h @ params[i] + params[i + 1])
        return jnp.mean((h @ params[-2] + params[-1] - y) ** 2)

    @jax.jit
    def step(params: list[Any], x: Any, y: Any) -> tuple[Any, list[Any]]:
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        return loss, [p - LR * g for p, g in zip(params, grads, strict=True)]

    state: dict[str, Any] = {"params": params, "loss": None}

    def run() -> Any:
        state["loss"], state["params"] = step(state["params"], x, y)
        return state["loss"]

    return run, lambda: float(state["loss"])


def _time(run: Callable[[], Any], steps: int, repeats: int) -> tuple[float, list[float]]:
    for _ in range(5):  # warm-up: compilation, and dualgrad.jit's eager first call
        jax.block_until_ready(run())
    medians = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            out = run()
        jax.block_until_ready(out)
        medians.append((time.perf_counter() - start) / steps * 1e6)
    return statistics.median(medians), medians


def _losses(
    make: Callable[[], tuple[Callable[[], Any], Callable[[], float]]], n: int
) -> list[float]:
    run, loss = make()
    curve = []
    for _ in range(n):
        run()
        curve.append(loss())
    return curve


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure both steps, print the table, return (and optionally save) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", default=None, help="write the figures here")
    options = parser.parse_args(argv)

    curve_dualgrad = _losses(dualgrad_step, 20)
    curve_jax = _losses(jax_step, 20)
    largest_gap = max(abs(a - b) for a, b in zip(curve_dualgrad, curve_jax, strict=True))

    ours, _ = _time(dualgrad_step()[0], options.steps, options.repeats)
    theirs, _ = _time(jax_step()[0], options.steps, options.repeats)
    device = str(jax.devices()[0])
    print(f"MLP step {SIZES}, batch {BATCH}, float32, on {device} (median of {options.repeats})")
    print(f"{'peer':<40}{'us/step':>10}{'ratio':>8}")
    print(f"{'jax.jit(value_and_grad) + update':<40}{theirs:>10.1f}{1.0:>8.2f}")
    print(f"{'dualgrad.jit (PyTorch-style step)':<40}{ours:>10.1f}{ours / theirs:>8.2f}")
    print(f"largest loss difference over 20 steps: {largest_gap:.2e}")
    figures = {
        "device": device,
        "dualgrad_jit_us": ours,
        "jax_jit_us": theirs,
        "ratio": ours / theirs,
        "largest_loss_difference": largest_gap,
    }
    if options.json:
        with open(options.json, "w") as file:
            json.dump(figures, file, indent=2)
    return figures


if __name__ == "__main__":
    main()
