"""Where the time of W8, W3, W2 and W6 goes, piece by piece.

Run ``python -m benchmarks.where_time_goes W8`` (or W3, W3jit, W2, W6).

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


def _vjp_of(node: Any, g: Any) -> list[Any]:
    """One tape node's input cotangents, as the backward walk computes them (first order)."""
    from dualgrad import _rules
    from dualgrad.tensor import array_of

    values = [array_of(tensor) for tensor in node.inputs]
    return _rules.input_cotangents(
        node.prim,
        node.params,
        node.parents,
        g,
        node.ans,
        values,
        node.broadcasts,
        node.inputs[0]._backend,
        False,
    )


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
        sent = _vjp_of(node, g)
        node, g = next(
            ((p, c) for p, c in zip(node.parents, sent, strict=True) if type(p) is Node),
            (None, None),
        )

    def rules_of(node: Node) -> Callable[[], Any]:
        return lambda: _vjp_of(node, cotangents[node])

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


def _w3_jit_pieces() -> list[Piece]:
    """The small MLP's step compiled, by dualgrad.jit and by jax.jit, and the call inside.

    Count the main thread's instructions (``--measure instructions`` does): XLA runs the step
    on a worker thread, whose busy-waiting depends on timing; the Python around the compiled
    call, the part dualgrad's code decides, runs on the main thread.
    """
    import inspect
    from sys import getrefcount

    from dualgrad import _jit
    from dualgrad.autograd.graph import bump_versions

    from . import _mlp
    from .w3_small_mlp import SPEC

    dualgrad_step, _ = _mlp.dualgrad_step(SPEC, jit=True)
    jax_step, _ = _mlp.jax_step(SPEC, jit=True)
    for _ in range(3):  # eager, traced, compiled
        dualgrad_step()
    jitted = inspect.getclosurevars(dualgrad_step).nonlocals["compiled"]
    (compiled,) = inspect.getclosurevars(jitted).nonlocals["compiled"].values()
    x, y = compiled.args
    present = [()] * len(compiled.unfed)

    def compiled_call() -> None:
        arrays = [t._array for t in compiled.written]
        out, new, *_ = compiled.jitted([x._array, y._array], [], arrays, [], present)
        for i, t in enumerate(compiled.written):
            t._array = new[i]
        out.block_until_ready()

    # The pieces of the Python around the compiled call (see _Compiled.__call__), one by one.
    # None holds a state array: the step would copy each array held elsewhere before giving
    # it to XLA to reuse.
    written, leaves, backend = compiled.written, compiled.grad_leaves, compiled.backend
    packed = leaves[0]._grad._packed
    stand_ins = [object() for _ in written]

    def write_back() -> None:
        for t in written:
            t._array = t._array  # as the step writes each its new array
        bump_versions(written)

    return [
        ("W3 step under jax.jit (value_and_grad and the update)", jax_step),
        ("W3 step under dualgrad.jit", dualgrad_step),
        ("  the compiled call alone (arrays in, back into the Tensors)", compiled_call),
        ("  the arguments' signature (the compiled step's key)", lambda: _jit._signature((x, y))),
        ("  the arguments' arrays", lambda: [(x, y)[i]._array for i in compiled.positions]),
        ("  the state's arrays", lambda: [t._array for t in written]),
        ("  no one else holds them (XLA reuses them)", lambda: max(map(getrefcount, stand_ins))),
        ("  whether each leaf has a .grad", lambda: [p._grad is None or () for p in leaves]),
        ("  the new arrays and versions back into the Tensors", write_back),
        ("  the leaves' new .grad Tensors (Packed.give)", lambda: packed.give(leaves, backend)),
        ("  the result Tensor", lambda: _jit._to_tensors(x._array, backend)),
        ("nothing (the cost of calling a piece)", lambda: None),
    ]


def _w2_pieces() -> list[Piece]:
    """The 200-op chain's pass and the per-op costs inside it (0-d float64)."""
    import dualgrad
    from dualgrad.autograd.nan_safe_mode import is_nan_safe_mode_enabled

    from .w2_chain import START, chain

    x = dualgrad.tensor(START, dtype=dualgrad.float64, requires_grad=True)
    traced = dualgrad.sin(x)
    constant = dualgrad.tensor(START, dtype=dualgrad.float64)

    def step() -> None:
        x.grad = None
        chain(dualgrad, x).backward()

    def one_op_backward() -> None:
        x.grad = None
        dualgrad.sin(x).backward()

    def forward_mode_step() -> None:
        with dualgrad.use_mode("forward"):
            step()

    return [
        ("W2 pass (200 ops forward, backward)", step),
        ("forward, recorded (200 ops)", lambda: chain(dualgrad, x)),
        ("forward under no_grad (200 ops)", lambda: chain(dualgrad, constant)),
        ("one op and its backward: x.grad = None; sin(x).backward()", one_op_backward),
        ("  sin(x), recorded", lambda: dualgrad.sin(x)),
        ("  t * 1.0001, recorded", lambda: traced * 1.0001),
        ("  t + 0.1, recorded", lambda: traced + 0.1),
        ("W2 pass in forward mode", forward_mode_step),
        ("Tensor.shape", lambda: x.shape),
        ("is_nan_safe_mode_enabled()", is_nan_safe_mode_enabled),
    ]


def _w6_pieces() -> list[Piece]:
    """The Hessian-vector product by autograd.grad twice, and its two halves; by dualgrad.hvp."""
    import dualgrad

    from .w6_hvp import _data, _double_backward, _dualgrad_hvp

    hvp = _double_backward(dualgrad, quick=False)
    a, x0, v = (dualgrad.tensor(array) for array in _data(quick=False))

    def forward() -> Any:
        x = x0.detach().requires_grad_(True)
        return x, dualgrad.log1p(dualgrad.exp(a @ x)).sum() + 0.5 * (x * x).sum()

    def first() -> Any:
        x, f = forward()
        return x, dualgrad.autograd.grad(f, x, create_graph=True)[0]

    def both() -> None:
        x, g = first()
        dualgrad.autograd.grad(g, x, v)

    return [
        ("W6: autograd.grad twice", hvp),
        ("forward, recorded", forward),
        ("forward and grad(create_graph=True)", first),
        ("forward and both grads", both),
        ("W6 hvp: dualgrad.hvp", _dualgrad_hvp(quick=False)),
    ]


WORKLOADS = ("W8", "W3", "W3jit", "W2", "W6")


def _pieces(workload: str) -> list[Piece]:
    return {
        "W8": _w8_pieces,
        "W3": _w3_pieces,
        "W3jit": _w3_jit_pieces,
        "W2": _w2_pieces,
        "W6": _w6_pieces,
    }[workload]()


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
            "--separate-threads=yes",
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
        # Part 1 is everything before the first marker; part k + 1 is piece k. Thread 1, the
        # main thread, runs every piece (JAX's workers run compiled steps).
        for k in range(len(names) + 1):
            text = (Path(f"{out}.{k + 1}-01")).read_text()
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
    parser.add_argument(
        "workload", choices=("W8", "W3", "W3jit", "W2", "W6"), nargs="?", default="W8"
    )
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
    calls = options.calls or {"W8": 100, "W3": 20, "W3jit": 40, "W2": 5, "W6": 5}[options.workload]
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
