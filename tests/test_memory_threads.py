"""Memory stays flat over long training, graphs free themselves, and settings stay per thread.

The training loops run with the cyclic garbage collector off: reference counting alone must free
each step's graph, so a reference cycle between nodes and tensors shows up as growth.
"""

from __future__ import annotations

import gc
import sys
import threading
import tracemalloc
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from tensors import leaf

import dualgrad

STEPS = 100_000  # a long training run, of the smallest model there is
WARM_UP = 2_000  # steps before measuring: caches and free lists fill up first
TRACED = 500  # steps measured under tracemalloc, which slows every allocation


@contextmanager
def collector_off() -> Iterator[None]:
    """The cyclic garbage collector disabled (reference counting still frees acyclic garbage)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _training_step() -> Callable[[], Any]:
    """One step of fitting ``w * 3 = 1`` with SGD: forward, backward, update."""
    w = leaf(0.5, requires_grad=True)
    optimizer = dualgrad.optim.SGD([w], lr=0.01, momentum=0.5)

    def step() -> Any:
        optimizer.zero_grad()
        loss = (w * 3.0 - 1.0) ** 2
        loss.backward()
        optimizer.step()
        return w

    return step


def _peak_rss_kib() -> int:
    resource = pytest.importorskip("resource", reason="peak RSS is read with the Unix module")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB elsewhere


def test_long_training_keeps_peak_rss_flat(mode: str) -> None:
    step = _training_step()
    with collector_off():
        for _ in range(WARM_UP):
            step()
        before = _peak_rss_kib()
        for _ in range(STEPS - WARM_UP):
            w = step()
        growth = _peak_rss_kib() - before
        cycles = gc.collect()
    # A leak of even 20 bytes a step would raise the peak by about 2 MiB over the run.
    assert growth < 1024, f"peak RSS grew by {growth} KiB over {STEPS} steps"
    assert cycles == 0, f"the loop left {cycles} objects in reference cycles"
    assert float(w.item()) == pytest.approx(1.0 / 3.0)


def test_training_step_allocates_nothing_that_outlives_it(mode: str) -> None:
    step = _training_step()
    with collector_off():
        tracemalloc.start()
        try:
            for _ in range(WARM_UP):  # traced memory settles within about 1,000 steps
                step()
            start = tracemalloc.get_traced_memory()[0]
            for _ in range(TRACED):
                step()
            growth = tracemalloc.get_traced_memory()[0] - start
        finally:
            tracemalloc.stop()
    # Each step's graph holds about a kilobyte: a leaked one per step would be 500 KiB.
    assert growth < 16 * 1024, f"{growth} bytes still held after {TRACED} steps"


def test_graph_is_freed_by_reference_counting(backend: Any) -> None:
    x = leaf([1.0, 2.0, 3.0], requires_grad=True)
    with collector_off():
        hidden = dualgrad.tanh(x * 2.0)
        loss = (hidden * hidden).sum()
        node = weakref.ref(loss.grad_fn)
        intermediate = weakref.ref(hidden)
        loss.backward()
        del hidden, loss
        assert node() is None, "the tape node outlived its output"
        assert intermediate() is None, "an intermediate tensor outlived the graph"
        assert gc.collect() == 0


def test_backward_creates_no_reference_cycles(backend: Any, mode: str) -> None:
    x = leaf([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        y = dualgrad.exp(x @ x).sum() + (x * x).mean()
        y.backward()
        del y
        found = gc.collect()
        kinds = sorted({type(obj).__name__ for obj in gc.garbage})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert found == 0, f"reference cycles of {kinds}"


# --- threads ----------------------------------------------------------------------------------
def _in_thread(function: Callable[[], Any]) -> Any:
    """Run ``function`` in a new thread, return its result (or raise its exception)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = function()
        except BaseException as err:  # handed to the calling thread
            box["error"] = err

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def test_no_grad_in_one_thread_leaves_others_recording() -> None:
    x = leaf([1.0], requires_grad=True)
    with dualgrad.no_grad():
        inside = _in_thread(lambda: (dualgrad.is_grad_enabled(), (x * 2).requires_grad))
        assert not dualgrad.is_grad_enabled()
    assert inside == (True, True)


def test_grad_mode_set_in_a_thread_does_not_leak_out() -> None:
    def switch_off() -> bool:
        dualgrad.set_grad_enabled(False)
        return dualgrad.is_grad_enabled()

    assert _in_thread(switch_off) is False
    assert dualgrad.is_grad_enabled()
    assert (leaf([1.0], requires_grad=True) * 2).requires_grad


def test_grad_mode_is_per_thread_while_threads_overlap() -> None:
    barrier = threading.Barrier(2)
    seen: dict[str, list[bool]] = {}

    def worker(name: str, enabled: bool) -> None:
        x = leaf([1.0], requires_grad=True)
        with dualgrad.set_grad_enabled(enabled):
            barrier.wait()  # both are inside their own setting now
            seen[name] = [dualgrad.is_grad_enabled(), (x * 2).requires_grad]
            barrier.wait()

    threads = [
        threading.Thread(target=worker, args=("on", True)),
        threading.Thread(target=worker, args=("off", False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"on": [True, True], "off": [False, False]}


def test_backend_and_mode_are_per_thread() -> None:
    def elsewhere() -> tuple[str, str]:
        with dualgrad.use_backend("array_api_strict"), dualgrad.use_mode("forward"):
            return dualgrad.get_backend().name, dualgrad.get_mode()

    with dualgrad.use_backend("numpy"), dualgrad.use_mode("reverse"):
        assert _in_thread(elsewhere) == ("array_api_strict", "forward")
        assert (dualgrad.get_backend().name, dualgrad.get_mode()) == ("numpy", "reverse")


def test_independent_graphs_run_backward_concurrently(backend: Any, mode: str) -> None:
    threads_count, rounds = 4, 20
    barrier = threading.Barrier(threads_count)
    results: dict[int, list[np.ndarray]] = {}

    def worker(index: int) -> None:
        grads = []
        with dualgrad.use_backend(backend.name), dualgrad.use_mode(mode):
            for round_ in range(rounds):
                x = leaf(np.arange(6.0).reshape(2, 3) + index + round_, requires_grad=True)
                loss = (dualgrad.sin(x) * x).sum()
                barrier.wait()  # every thread runs backward at the same moment
                loss.backward()
                grads.append(x.grad.numpy())
        results[index] = grads

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index in range(threads_count):
        for round_, got in enumerate(results[index]):
            x = np.arange(6.0).reshape(2, 3) + index + round_
            np.testing.assert_allclose(got, np.cos(x) * x + np.sin(x), rtol=1e-12)


def test_concurrent_backward_into_a_shared_leaf_adds_every_contribution() -> None:
    # Large enough that each addition into .grad takes a while (NumPy lets other threads run
    # meanwhile): without a lock around the read-modify-write, most contributions get lost.
    threads_count, rounds, size = 8, 50, 1_000_000
    with dualgrad.use_backend("numpy"):
        w = leaf(np.zeros(size), requires_grad=True)
    barrier = threading.Barrier(threads_count)

    def worker() -> None:
        with dualgrad.use_mode("reverse"):
            barrier.wait()  # every thread starts at the same moment
            for _ in range(rounds):
                (w * 1.0).sum().backward()

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    grad = w.grad.numpy()
    expected = threads_count * rounds
    assert np.all(grad == expected), f"{np.sum(grad != expected)} elements lost contributions"
