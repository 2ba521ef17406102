"""``python -m benchmarks.checkpoint_memory [--layers 50] [--width 256] [--batch 512]``.

The memory activation checkpointing saves: the peak memory of one training step (forward and
backward) of a deep tanh MLP on the NumPy backend, plain and checkpointed three ways, and the
step's time. Peak memory is traced by ``tracemalloc`` (NumPy reports its array buffers to it),
counted from just before the step, so it is the step's own: activations, the tape's saved
values and the gradients. Times are CPU medians of separate, untraced steps. Nothing here is
asserted; the figures go in docs/transforms.md.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import tracemalloc
from collections.abc import Callable

import dualgrad
from dualgrad import nn
from dualgrad.utils.checkpoint import checkpoint, checkpoint_sequential


def _model(layers: int, width: int) -> nn.Sequential:
    dualgrad.manual_seed(0)
    blocks: list[nn.Module] = []
    for _ in range(layers):
        blocks += [nn.Linear(width, width), nn.Tanh()]
    return nn.Sequential(*blocks)


def _steps(model: nn.Sequential, layers: int) -> dict[str, Callable[[dualgrad.Tensor], None]]:
    """One forward and backward pass, four ways."""
    pairs = [model[i : i + 2] for i in range(0, len(model), 2)]  # Linear + Tanh
    segments = round(math.sqrt(layers))

    def plain(x: dualgrad.Tensor) -> None:
        (model(x) ** 2).mean().backward()

    def per_layer(x: dualgrad.Tensor) -> None:
        for pair in pairs:
            x = checkpoint(pair, x, use_reentrant=False)
        (x**2).mean().backward()

    def sqrt_segments(x: dualgrad.Tensor) -> None:
        (checkpoint_sequential(pairs, segments, x, use_reentrant=False) ** 2).mean().backward()

    # The JAX way: a pure function of a pytree of parameters, one remat per layer.
    weights = [(pair[0].weight.detach(), pair[0].bias.detach()) for pair in pairs]

    def layer(w: dualgrad.Tensor, b: dualgrad.Tensor, h: dualgrad.Tensor) -> dualgrad.Tensor:
        return dualgrad.tanh(h @ w.T + b)

    def loss(params: list[tuple[dualgrad.Tensor, dualgrad.Tensor]], x: dualgrad.Tensor, run):
        for w, b in params:
            x = run(w, b, x)
        return (x**2).mean()

    def grad_plain(x: dualgrad.Tensor) -> None:
        dualgrad.grad(loss)(weights, x, layer)

    def grad_remat(x: dualgrad.Tensor) -> None:
        dualgrad.grad(loss)(weights, x, dualgrad.checkpoint(layer))

    return {
        "plain backward()": plain,
        "checkpoint each layer": per_layer,
        f"checkpoint_sequential, {segments} segments": sqrt_segments,
        "dualgrad.grad": grad_plain,
        "dualgrad.grad, dualgrad.checkpoint each layer": grad_remat,
    }


def _peak_memory(step: Callable[[dualgrad.Tensor], None], x: dualgrad.Tensor) -> float:
    """The step's peak traced memory above what was allocated before it, in MiB."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    step(x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - before) / 2**20


def _seconds(step: Callable[[dualgrad.Tensor], None], x: dualgrad.Tensor) -> float:
    """The step's CPU time (not traced: tracing allocations slows the step)."""
    start = time.process_time()
    step(x)
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    """Print the peak memory and median time of each way to take the step."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.checkpoint_memory")
    parser.add_argument("--layers", type=int, default=50)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=5, help="timed steps per way (median)")
    options = parser.parse_args(argv)
    model = _model(options.layers, options.width)
    x = dualgrad.randn(options.batch, options.width)
    activation = options.batch * options.width * 4 / 2**20
    print(
        f"{options.layers}-layer tanh MLP, width {options.width}, batch {options.batch}, "
        f"float32 on NumPy: one activation is {activation:.2f} MiB"
    )
    print(f"{'step':48} {'peak MiB':>9} {'vs plain':>9} {'time s':>8} {'vs plain':>9}")
    steps = _steps(model, options.layers)
    peaks = {}
    for name, step in steps.items():
        step(x)  # warm-up: caches and lazily created objects
        model.zero_grad()
        peaks[name] = _peak_memory(step, x)
    # Timed in turns, so that a burst of load elsewhere hits every way alike.
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(options.repeat):
        for name, step in steps.items():
            times[name].append(_seconds(step, x))
    plain_peak, plain_time = (
        peaks["plain backward()"],
        statistics.median(times["plain backward()"]),
    )
    for name in steps:
        seconds = statistics.median(times[name])
        print(
            f"{name:48} {peaks[name]:9.1f} {peaks[name] / plain_peak:8.2f}x "
            f"{seconds:8.3f} {seconds / plain_time:8.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
