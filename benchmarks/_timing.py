"""Timing: warm-up, then repeated samples with the peers interleaved, reported as medians.

Each sample times ``number`` back-to-back calls. Peers take turns sample by sample, so a burst
of load from elsewhere on the machine hits them all alike; only ratios within one run mean
anything on a shared machine.

The clock is the process's CPU time by default (every thread of the process; each peer runs
single-threaded), which other work on a loaded machine disturbs far less than wall time does;
``clock="wall"`` measures elapsed time instead.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def measure(
    cases: dict[str, Callable[[], Any]],
    *,
    number: int,
    repeats: int,
    warmup: int,
    budget: float,
    clock: str = "cpu",
) -> dict[str, list[float]]:
    """Seconds per call of each case: one sample per repeat.

    A sample is ``number`` calls, or fewer for a case so slow that they would take more than
    ``budget`` seconds (JAX eager, say), so that slow peers cannot stretch the run.
    """
    now = CLOCKS[clock]
    calls = {}
    for name, case in cases.items():
        for _ in range(warmup):
            case()
        start = now()
        case()
        calls[name] = max(1, min(number, int(budget / max(now() - start, 1e-9))))
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, case in cases.items():
            start = now()
            for _ in range(calls[name]):
                case()
            samples[name].append((now() - start) / calls[name])
    return samples


def median(values: list[float]) -> float:
    """The median sample."""
    return statistics.median(values)


def ratio(mine: list[float], theirs: list[float]) -> float:
    """How many times ``theirs`` ``mine`` takes: the median of the round-by-round ratios.

    Samples of one round were taken back to back, under the same load; the ratio of the two
    medians would mix rounds of a busy machine with quiet ones. Samples of different lengths
    (different workloads, measured apart) fall back to the ratio of the medians.
    """
    if len(mine) != len(theirs):
        return median(mine) / median(theirs)
    return statistics.median(a / b for a, b in zip(mine, theirs, strict=True))
