"""The targets dualgrad aims for, checked against one run's medians (ratios, same run)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._timing import median, ratio
from ._workload import Result

Lookup = Callable[[str, str], list[float] | None]  # a peer's samples in a workload


@dataclass(frozen=True)
class Target:
    """``measure(lookup)`` must come out at most ``limit``."""

    name: str
    measure: Callable[[Lookup], float | None]
    limit: float | None  # None: reached when it was measured at all
    unit: str = "x"


def _ratio(task: str, peer: str, other_task: str, other: str) -> Callable[[Lookup], float | None]:
    def measure(lookup: Lookup) -> float | None:
        mine, theirs = lookup(task, peer), lookup(other_task, other)
        if mine is None or theirs is None:
            return None
        # Peers of one workload were sampled round by round; two workloads were not.
        return ratio(mine, theirs) if task == other_task else median(mine) / median(theirs)

    return measure


def _versus(task: str, peer: str, other: str) -> Callable[[Lookup], float | None]:
    return _ratio(task, peer, task, other)


def _bytes_per_op(results: dict[str, Result]) -> Callable[[Lookup], float | None]:
    def measure(lookup: Lookup) -> float | None:
        for id in ("W7 1M", "W7 100k", "W7 10k"):
            if id in results and "dualgrad" in results[id].extra.get("bytes/op", {}):
                return results[id].extra["bytes/op"]["dualgrad"]
        return None

    return measure


def _seconds(task: str, peer: str) -> Callable[[Lookup], float | None]:
    def measure(lookup: Lookup) -> float | None:
        samples = lookup(task, peer)
        return None if samples is None else median(samples)

    return measure


def targets(results: dict[str, Result]) -> list[Target]:
    """Every target, as a measure over the results and its limit."""
    return [
        # The workloads as users write them (see the workload modules), and their targets.
        Target("W1 dualgrad <= 0.7 x torch", _versus("W1", "dualgrad", "torch"), 0.7),
        Target("W2 dualgrad <= 0.7 x torch", _versus("W2", "dualgrad", "torch"), 0.7),
        Target("W3 dualgrad <= 0.7 x torch", _versus("W3", "dualgrad", "torch"), 0.7),
        Target(
            "W4 dualgrad step <= 1.05 x hand-written NumPy step",
            _versus("W4 step", "dualgrad", "numpy"),
            1.05,
        ),
        Target(
            "W4 dualgrad step / forward <= 3.0",
            _ratio("W4 step", "dualgrad", "W4 forward", "dualgrad"),
            3.0,
        ),
        Target(
            "W6 autograd.grad twice <= torch double backward",
            _versus("W6", "dualgrad", "torch"),
            1.0,
        ),
        Target(
            "W6 dualgrad.hvp <= torch double backward", _versus("W6 hvp", "dualgrad", "torch"), 1.0
        ),
        Target("W8 dualgrad <= 0.7 x torch", _versus("W8", "dualgrad", "torch"), 0.7),
        Target(
            "W3 dualgrad.jit <= 1.1 x jax.jit(value_and_grad)",
            _versus("W3", "dualgrad.jit", "jax.jit"),
            1.1,
        ),
        # Further targets, reached before and kept.
        Target(
            "W2 dualgrad forward mode <= 1.0 x torch",
            _versus("W2", "dualgrad-forward", "torch"),
            1.0,
        ),
        Target("W5 jacfwd <= torch.func.jacfwd", _versus("W5 jacfwd", "dualgrad", "torch"), 1.0),
        Target("W5 jacrev <= torch.func.jacrev", _versus("W5 jacrev", "dualgrad", "torch"), 1.0),
        Target(
            "W7 100k-op chain no slower than torch", _versus("W7 100k", "dualgrad", "torch"), 1.0
        ),
        Target(
            "W7 peak memory < 1 KB per recorded op", _bytes_per_op(results), 1024, unit=" B/op"
        ),
        Target("W7 1,000,000-op chain completes", _seconds("W7 1M", "dualgrad"), None, " s"),
    ]


def check(results: dict[str, Result]) -> list[dict[str, object]]:
    """Each target's measured value and status: reached, not reached, or not measured."""

    def lookup(task: str, peer: str) -> list[float] | None:
        result = results.get(task)
        if result is None or peer not in result.samples:
            return None
        return result.samples[peer]

    rows = []
    for target in targets(results):
        value = target.measure(lookup)
        if value is None:
            status = "not measured"
        else:
            reached = target.limit is None or value <= target.limit
            status = "reached" if reached else "not reached"
        rows.append({"target": target.name, "value": value, "unit": target.unit, "status": status})
    return rows
