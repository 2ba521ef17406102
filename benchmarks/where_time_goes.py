"""Where the time of W8 and W3 goes, piece by piece: ``python -m benchmarks.where_time_goes``.

Each piece (one epoch, the forward pass recorded or not, the backward pass, one vjp rule, the
update, ``zero_()``, one node's creation, ...) is run many times in a row, and its cost is
reported per call. Two measures:

- ``--measure instructions`` (default where valgrind is installed): the process re-runs itself
  under ``valgrind --tool=callgrind``, which counts the instructions each piece executes (a
  marker call between pieces makes callgrind write one count per piece). Instruction counts do
  not depend on the load of a shared machine, so two versions of the code compare exactly.
- ``--measure cpu``: the median CPU time per call over interleaved samples.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import _threads

Piece = tuple[str, Callable[[], Any]]


def _w8_pieces() -> list[Piece]:
    """The tutorial's epoch (float32, 10 x 1 data) and its parts."""
    import numpy as np

    import dualgrad
    from dualgrad import _dispatch, ops
    from dualgrad.autograd import engine
    from dualgrad.autograd.graph import Node
    from dualgrad.tensor import Tensor

    from .w8_linear_regression import _data

    x_np, y_np, w_np, b_np = _data()
    x, y = dualgrad.tensor(x_np), dualgrad.tensor(y_np)
    w = dualgrad.tensor(w_np, requires_grad=True)
    b = dualgrad.tensor(b_np, requires_grad=True)
    ((x @ w + b - y) ** 2).mean().backward()
    lr = 0.1
    no_grad = dualgrad.no_grad

    def epoch() -> None:
        nonlocal w, b
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()

    def forward_no_grad() -> None:
        with no_grad():
            ((x @ w + b - y) ** 2).mean()

    def update() -> None:
        nonlocal w, b
        with no_grad():
            w -= lr * w.grad
            b -= lr * b.grad

    def scaled_grad() -> None:
        with no_grad():
            lr * w.grad

    def no_grad_alone() -> None:
        with no_grad():
            pass

    def zero() -> None:
        w.grad.zero_()
        b.grad.zero_()

    def numpy_forward() -> None:
        d = x_np @ w_np + b_np - y_np
        np.sum(d * d) / d.size

    # The backward pass on a graph of leaves that no piece changes in place.
    w_kept = dualgrad.tensor(w_np, requires_grad=True)
    b_kept = dualgrad.tensor(b_np, requires_grad=True)
    loss = ((x @ w_kept + b_kept - y) ** 2).mean()
    loss.backward(retain_graph=True)
    cotangents = {}
    node, g = loss._node, np.asarray(1.0, dtype="float32")
    while type(node) is Node:
        cotangents[node] = g
        sent = engine._node_cotangents(node, g, False)
        node, g = next(
            ((p, c) for p, c in zip(node.parents, sent, strict=True) if type(p) is Node),
            (None, None),
        )

    def rules_of(node: Node) -> Callable[[], Any]:
        return lambda: engine._node_cotangents(node, cotangents[node], False)

    grad_w = np.ones((1, 1), dtype="float32")
    prediction = x @ w_kept + b_kept
    difference = prediction - y
    squared = difference**2
    pow_node = squared._node
    backend = x._backend
    constant = dualgrad.tensor(y_np)
    operands = (prediction, y)
    arrays = (prediction._array, y._array)

    def record() -> None:
        _dispatch.record(ops.subtract, {}, operands, Tensor._wrap(difference._array, backend))

    return [
        ("W8 epoch (forward, backward, update, zero_)", epoch),
        ("forward, recorded (5 ops)", lambda: ((x @ w + b - y) ** 2).mean()),
        ("forward under no_grad (5 ops)", forward_no_grad),
        ("forward in NumPy by hand", numpy_forward),
        ("backward (5 nodes)", lambda: loss.backward(retain_graph=True)),
        *((f"  the vjp of {node.name()}", rules_of(node)) for node in cotangents),
        ("  accumulate into an existing .grad", lambda: engine._accumulate(w_kept, grad_w, False)),
        ("  the seed of backward()", lambda: engine._root_cotangent(loss, None, 0, False)),
        ("update: with no_grad(): w -= lr * w.grad; b -= lr * b.grad", update),
        ("  with no_grad(): (enter and exit)", no_grad_alone),
        ("  with no_grad(): lr * w.grad", scaled_grad),
        ("zero_: w.grad.zero_(); b.grad.zero_()", zero),
        ("one op, prediction - y: the operator", lambda: prediction - y),
        ("  _dispatch.apply, recorded", lambda: _dispatch.apply(ops.subtract, operands, {})),
        ("  _dispatch.record alone", record),
        ("  the primitive's forward", lambda: ops.subtract.forward(backend.xp, *arrays)),
        ("  NumPy's subtraction", lambda: arrays[0] - arrays[1]),
        ("  Tensor._wrap alone", lambda: Tensor._wrap(difference._array, backend)),
        (
            "  a node's version check, were it needed",
            lambda: engine._check_versions(pow_node, pow_node.inputs),
        ),
        ("constant - constant (nothing recorded)", lambda: constant - y),
    ]


def _w3_pieces() -> list[Piece]:
    """The small MLP's step (raw update) and its parts, and the same update by optim.SGD."""
    import dualgrad

    from . import _mlp
    from .w3_small_mlp import SPEC

    weights, x_np, y_np = SPEC.data()
    params = [dualgrad.tensor(w, requires_grad=True) for w in weights]
    x, y = dualgrad.tensor(x_np), dualgrad.tensor(y_np)
    step, loss_of = _mlp._pytorch_style(SPEC, dualgrad, params)
    _, numpy_forward = _mlp.numpy_step(SPEC)

    def forward_no_grad() -> None:
        with dualgrad.no_grad():
            loss_of(x, y)

    def forward_and_backward() -> None:
        for p in params:
            p.grad = None
        loss_of(x, y).backward()

    def update() -> None:
        with dualgrad.no_grad():
            for p in params:
                p -= _mlp.LR * p.grad

    optimizer = dualgrad.optim.SGD(params, lr=_mlp.LR)
    forward_and_backward()
    grads = [p.grad for p in params]

    def zero_grad_and_put_back() -> None:
        optimizer.zero_grad()
        for p, grad in zip(params, grads, strict=True):
            p.grad = grad

    def put_back() -> None:
        for p, grad in zip(params, grads, strict=True):
            p.grad = grad

    def set_none() -> None:
        for p in params:
            p.grad = None

    return [
        ("W3 step (raw update)", lambda: step(x, y)),
        ("forward, recorded (11 ops)", lambda: loss_of(x, y)),
        ("forward under no_grad", forward_no_grad),
        ("forward in NumPy by hand", numpy_forward),
        ("p.grad = None x 6, forward, backward", forward_and_backward),
        ("update x 6: p -= lr * p.grad under no_grad", update),
        ("optimizer.step() (SGD, 6 parameters)", optimizer.step),
        ("optimizer.zero_grad(), then the grads put back", zero_grad_and_put_back),
        ("  the grads put back alone", put_back),
        ("p.grad = None x 6 (last: it leaves no grads)", set_none),
    ]


def _pieces(workload: str) -> list[Piece]:
    return _w8_pieces() if workload == "W8" else _w3_pieces()


def _run_marked(workload: str, calls: int) -> None:
    """The child under callgrind: each piece's calls, after a marker that starts a new count."""
    pieces = _pieces(workload)
    for _, piece in pieces:
        piece()
        piece()
    for _, piece in pieces:
        zlib.crc32(b"")  # callgrind --dump-before=zlib_crc32: a count per piece
        for _ in range(calls):
            piece()
    zlib.crc32(b"")
    print(json.dumps([name for name, _ in pieces]))


def _instructions(workload: str, calls: int) -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--dump-before=zlib_crc32",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "benchmarks.where_time_goes",
            workload,
            "--child",
            str(calls),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        names = json.loads(done.stdout.strip().splitlines()[-1])
        counts = []
        # Part 1 is everything before the first marker; part k + 1 is piece k.
        for k in range(len(names) + 1):
            text = (Path(f"{out}.{k + 1}")).read_text()
            summary = next(line for line in text.splitlines() if line.startswith("summary:"))
            counts.append(int(summary.split()[1]))
    return [(name, counts[k + 1] / calls) for k, name in enumerate(names)]


def _cpu(workload: str, calls: int, repeats: int = 7) -> list[tuple[str, float]]:
    pieces = _pieces(workload)
    for _, piece in pieces:
        piece()
    samples: dict[str, list[float]] = {name: [] for name, _ in pieces}
    for _ in range(repeats):
        for name, piece in pieces:
            start = time.process_time()
            for _ in range(calls):
                piece()
            samples[name].append((time.process_time() - start) / calls)
    return [(name, statistics.median(samples[name]) * 1e6) for name, _ in pieces]


def main(argv: list[str] | None = None) -> int:
    """Print each piece's cost per call."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.where_time_goes")
    parser.add_argument("workload", choices=("W8", "W3"), nargs="?", default="W8")
    parser.add_argument("--measure", choices=("instructions", "cpu"), default=None)
    parser.add_argument("--calls", type=int, default=None, help="calls per piece")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    _threads.pin(1)
    if options.child is not None:
        _run_marked(options.workload, options.child)
        return 0
    measure = options.measure or ("instructions" if shutil.which("valgrind") else "cpu")
    if measure == "instructions" and not shutil.which("valgrind"):
        parser.error("--measure instructions needs valgrind (apt-get install valgrind)")
    calls = options.calls or {"W8": 100, "W3": 20}[options.workload]
    if measure == "instructions":
        rows, unit = _instructions(options.workload, calls), "instructions"
    else:
        rows, unit = _cpu(options.workload, calls * 10), "µs (CPU)"
    print(f"{options.workload}, per call, in {unit}:")
    digits = 0 if measure == "instructions" else 2
    for name, cost in rows:
        print(f"  {name:62s} {cost:12,.{digits}f}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
