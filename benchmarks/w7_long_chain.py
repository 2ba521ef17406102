"""W7, a long scalar chain: n ops alternating ``x * 0.999999`` and ``x + 1e-6`` on a 0-d
float64 tensor, then backward. Seconds, and the peak memory per recorded op.

Each peer runs in a fresh interpreter (``python -m benchmarks.w7_long_chain --peer P --ops N``)
so that its peak resident memory belongs to the chain alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from ._peers import missing, module
from ._timing import CLOCKS
from ._workload import Result, Settings

PEERS = ("numpy", "dualgrad", "dualgrad-forward", "torch", "autograd")
_NOT_HERE = {
    "dualgrad.jit": "compiling a trace this long is not what this measures",
    "jax": "tracing a Python loop this long is not what JAX is for",
    "jax.jit": "tracing a Python loop this long is not what JAX is for",
}


def _chain(x: Any, ops: int) -> Any:
    for i in range(ops):
        x = x * 0.999999 if i % 2 == 0 else x + 1e-6
    return x


def _case(peer: str, ops: int) -> Callable[[], Any]:
    if peer == "numpy":
        import numpy as np

        def by_hand() -> Any:
            x = _chain(np.asarray(2.0), ops)  # the forward values; each op's derivative is known
            g = np.asarray(1.0)
            for i in reversed(range(ops)):
                if i % 2 == 0:
                    g = g * 0.999999
            return x, g

        return by_hand
    if peer.startswith("dualgrad"):
        import dualgrad

        mode = "forward" if peer == "dualgrad-forward" else "reverse"

        def on_tape() -> Any:
            with dualgrad.use_mode(mode):
                x = dualgrad.tensor(2.0, dtype=dualgrad.float64, requires_grad=True)
                _chain(x, ops).backward()
                return x.grad

        return on_tape
    if peer == "torch":
        torch = module("torch")
        torch.set_num_threads(1)

        def in_torch() -> Any:
            x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
            _chain(x, ops).backward()
            return x.grad

        return in_torch
    grad = module("autograd").grad(lambda x: _chain(x, ops))
    return lambda: grad(2.0)


def _status_bytes(field: str) -> int:
    """A memory figure of this process from /proc/self/status (Linux), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    msg = f"/proc/self/status has no {field}"
    raise RuntimeError(msg)


def _measure(peer: str, ops: int, repeats: int, clock: str) -> dict[str, float]:
    """In this interpreter: the first run's peak memory per op, and the median seconds."""
    case = _case(peer, min(ops, 1000))
    case()  # warm-up on a short chain: imports and first-call costs
    case = _case(peer, ops)
    before = _status_bytes("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # reset the peak (VmHWM) to the present resident size
    except OSError:
        pass  # not allowed here: the peak may then include the warm-up's, an overestimate
    now = CLOCKS[clock]
    seconds = []
    for _ in range(repeats):
        start = now()
        case()
        seconds.append(now() - start)
    peak = _status_bytes("VmHWM")
    return {"seconds": statistics.median(seconds), "bytes_per_op": max(peak - before, 0) / ops}


def _in_subprocess(peer: str, ops: int, repeats: int, clock: str) -> dict[str, float]:
    command = [sys.executable, "-m", "benchmarks.w7_long_chain", "--peer", peer]
    command += ["--ops", str(ops), "--repeats", str(repeats), "--clock", clock]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _result(id: str, ops: int, peers: list[str], settings: Settings, repeats: int) -> Result:
    result = Result(id, f"scalar chain of {ops:,} ops, backward", "s")
    for peer in settings.peers:
        reason = missing(peer) or _NOT_HERE.get(peer)
        if peer not in peers:
            reason = reason or f"only dualgrad runs the {ops:,}-op chain"
        if reason:
            result.skipped[peer] = reason
            continue
        figures = _in_subprocess(peer, ops, repeats, settings.clock)
        result.samples[peer] = [figures["seconds"]]
        result.extra.setdefault("bytes/op", {})[peer] = figures["bytes_per_op"]
    return result


def run(settings: Settings) -> list[Result]:
    """Seconds per chain (forward and backward), and peak bytes per op."""
    if settings.quick:
        return [_result("W7 10k", 10_000, list(PEERS), settings, repeats=1)]
    return [
        _result("W7 100k", 100_000, list(PEERS), settings, repeats=2),
        _result("W7 1M", 1_000_000, ["dualgrad"], settings, repeats=1),
    ]


def main() -> None:
    """Measure one peer here and print the figures as JSON (the runner's subprocess)."""
    parser = argparse.ArgumentParser(description="W7 for one peer, in this interpreter")
    parser.add_argument("--peer", required=True, choices=PEERS)
    parser.add_argument("--ops", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--clock", choices=CLOCKS, default="cpu")
    options = parser.parse_args()
    print(json.dumps(_measure(options.peer, options.ops, options.repeats, options.clock)))


if __name__ == "__main__":
    main()
