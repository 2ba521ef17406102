"""The Dask backend: lazy all the way through backward, on one machine and on a cluster."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import dualgrad
import dualgrad.nn.functional as F

INSTALL = "the dask backend needs Dask: pip install 'dualgrad[dask]'"
dask = pytest.importorskip("dask", reason=INSTALL)
da = pytest.importorskip("dask.array", reason=INSTALL)


@contextmanager
def counted_computes() -> Iterator[list[Any]]:
    """Run Dask's synchronous scheduler, recording the keys of every compute asked of it."""
    computes: list[Any] = []

    def scheduler(graph: Any, keys: Any, **kwargs: Any) -> Any:
        computes.append(keys)
        return dask.get(graph, keys, **kwargs)

    with dask.config.set(scheduler=scheduler):
        yield computes


@pytest.fixture
def dask_backend() -> Iterator[Any]:
    with dualgrad.use_backend("dask") as backend:
        yield backend


def _least_squares(x: Any, y: Any, w: Any, b: Any) -> Any:
    return ((x @ w + b - y) ** 2).mean()


W0 = np.linspace(-1.0, 1.0, 10).tolist()


def _gradient(x: Any, y: Any) -> np.ndarray:
    """The least-squares gradient in ``(w, b)`` at ``(W0, 0.3)``, on the backend of ``x``."""
    x, y = dualgrad.tensor(x), dualgrad.tensor(y)
    with dualgrad.use_backend(x.backend.name):
        w = dualgrad.tensor(W0, dtype=dualgrad.float64, requires_grad=True)
        b = dualgrad.tensor(0.3, dtype=dualgrad.float64, requires_grad=True)
    _least_squares(x, y, w, b).backward()
    return dualgrad.concat([w.grad, b.grad[None]])


def _design(rows: int, chunk: int) -> tuple[Any, Any]:
    """A chunked design matrix with 10 features and its targets, generated lazily."""
    rng = da.random.default_rng(0)
    x = rng.standard_normal((rows, 10), chunks=(chunk, 10))
    y = x @ da.arange(1.0, 11.0) + 0.5 + 0.1 * rng.standard_normal(rows, chunks=chunk)
    return x, y


def test_training_step_computes_nothing(dask_backend: Any) -> None:
    x, y = _design(1000, 250)
    w = dualgrad.zeros(10, dtype=dualgrad.float64, requires_grad=True)
    b = dualgrad.zeros((), dtype=dualgrad.float64, requires_grad=True)
    optimizer = dualgrad.optim.SGD([w, b], lr=0.1, momentum=0.9)
    with counted_computes() as computes:
        for _ in range(2):
            optimizer.zero_grad()
            loss = _least_squares(dualgrad.tensor(x), dualgrad.tensor(y), w, b)
            loss.backward()
            optimizer.step()
        assert computes == []
        assert isinstance(w.array, da.Array)
        assert isinstance(w.grad.array, da.Array)
        w.detach().numpy()
    assert len(computes) == 1  # asked for once, computed once


def test_functions_that_check_values_compute_nothing(dask_backend: Any) -> None:
    """Value checks (label ranges, probabilities in [0, 1]) are skipped on a lazy backend, and
    the gradients of indexing and the special functions build graphs too."""
    logits = dualgrad.randn(6, 4, dtype=dualgrad.float64, requires_grad=True)
    labels = dualgrad.tensor([0, 3, 1, 1, 2, 0])
    with counted_computes() as computes:
        probabilities = dualgrad.sigmoid(logits)
        loss = (
            F.cross_entropy(logits, labels)
            + F.binary_cross_entropy(probabilities, dualgrad.ones_like(probabilities) / 2)
            + logits[1:, ::2].sum()
            + logits[[0, 0, 2]].sum()
            + dualgrad.special.erf(logits).sum()
            + dualgrad.special.erfc(logits).sum()
        )
        loss.backward()
        assert computes == []
    assert np.isfinite(logits.grad.numpy()).all()


def test_gradients_equal_the_numpy_backend() -> None:
    x, y = _design(400, 100)
    lazy = _gradient(x, y)
    assert lazy.backend.name == "dask"
    np.testing.assert_allclose(lazy.numpy(), _gradient(x.compute(), y.compute()).numpy(), 1e-12)


def test_tensor_adopts_a_dask_array_without_computing() -> None:
    x = da.ones((4, 3), chunks=2)
    with counted_computes() as computes:
        t = dualgrad.tensor(x, requires_grad=True)
    assert computes == []
    assert t.backend.name == "dask"
    assert t.array is x


def test_boolean_mask_says_the_shape_depends_on_values(dask_backend: Any) -> None:
    x = dualgrad.randn(5, dtype=dualgrad.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match=r"boolean mask: the result's shape depends"):
        x[x > 0]
    with pytest.raises(NotImplementedError, match=r"dualgrad.where\(mask, x, 0\)"):
        x[np.array([True, False, True, False, True])]


def test_repeat_with_counts_in_a_tensor_says_the_shape_depends_on_values(
    dask_backend: Any,
) -> None:
    x = dualgrad.arange(3.0)
    counts = dualgrad.tensor([1, 0, 2])
    with pytest.raises(NotImplementedError, match=r"repeat with counts in a tensor.*tolist"):
        dualgrad.repeat(x, counts)
    np.testing.assert_array_equal(dualgrad.repeat(x, [1, 0, 2]).numpy(), [0.0, 2.0, 2.0])


@pytest.mark.parametrize(
    "function",
    [
        dualgrad.nonzero,
        dualgrad.unique_values,
        dualgrad.unique_counts,
        dualgrad.unique_inverse,
        dualgrad.unique_all,
    ],
)
def test_value_dependent_shapes_say_so_and_compute_nothing(
    dask_backend: Any, function: Any
) -> None:
    x = dualgrad.tensor([0.0, 2.0, 2.0, 0.0, 5.0])
    expected = r"the result's shape depends on the values"
    with counted_computes() as computes, pytest.raises(NotImplementedError, match=expected):
        function(x)
    assert computes == []


def _fit_line(epochs: int, persist_each_epoch: bool) -> tuple[Any, Any, list[int]]:
    """The tutorial's linear regression (y = 2x + 1), by gradient descent on the active backend.

    Returns the fitted ``w`` and ``b`` and, after each epoch, how many tasks ``w``'s graph holds.
    """
    x = dualgrad.linspace(-1.0, 1.0, 10, dtype=dualgrad.float64)[:, None]
    y = 2 * x + 1 + 0.1 * dualgrad.cos(dualgrad.arange(10.0, dtype=dualgrad.float64))[:, None]
    w = dualgrad.zeros((1, 1), dtype=dualgrad.float64, requires_grad=True)
    b = dualgrad.zeros(1, dtype=dualgrad.float64, requires_grad=True)
    tasks = []
    for _ in range(epochs):
        ((dualgrad.matmul(x, w) + b - y) ** 2).mean().backward()
        with dualgrad.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
            if persist_each_epoch:  # what a Dask user does in an iterative algorithm
                w_values, b_values = dask.persist(w.array, b.array)
                w.copy_(dualgrad.tensor(w_values))
                b.copy_(dualgrad.tensor(b_values))
        w.grad.zero_()
        b.grad.zero_()
        tasks.append(len(w.array.dask) if persist_each_epoch else 0)
    return w, b, tasks


EPOCHS = 15


def test_training_loop_persisting_each_epoch_keeps_the_graph_small() -> None:
    """Unpersisted, the parameters' graph holds every epoch (Dask then copies all of its layers
    into each new array: building costs time quadratic in the epochs); persisted once an epoch,
    it holds one task, and the fit equals the NumPy backend's."""
    with dualgrad.use_backend("dask"), counted_computes() as computes:
        w, b, tasks = _fit_line(EPOCHS, persist_each_epoch=True)
        assert len(computes) == EPOCHS  # one persist an epoch, nothing else
        assert tasks == [1] * EPOCHS
        unpersisted = [len(_fit_line(n, persist_each_epoch=False)[0].array.dask) for n in (2, 3)]
        assert len(computes) == EPOCHS  # building them computed nothing
        assert unpersisted[0] < unpersisted[1]  # each epoch adds to the graph
    with dualgrad.use_backend("numpy"):
        expected_w, expected_b, _ = _fit_line(EPOCHS, persist_each_epoch=False)
    assert w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.detach().numpy(), expected_w.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.detach().numpy(), expected_b.detach().numpy(), rtol=1e-12)


def _holds_dualgrad(obj: object) -> bool:
    """Whether ``obj`` is dualgrad's: an instance of its classes, or one of its functions."""
    module = getattr(obj, "__module__", None) if callable(obj) else type(obj).__module__
    return isinstance(module, str) and module.split(".")[0] == "dualgrad"


def test_graph_is_freed_by_reference_counting_and_only_dask_makes_cycles(
    dask_backend: Any,
) -> None:
    """Dask's own graph building leaves reference cycles (the signature of ``operator.mul``
    that its meta computation inspects, ``Array.__dask_keys__``'s recursive closure), so the
    memory tests' "no cycles at all" cannot hold here; dualgrad's tape must still free itself
    by reference counting and put nothing of its own in a cycle."""
    x = dualgrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        hidden = dualgrad.exp(x @ x)
        y = hidden.sum() + (x * x).mean()
        node, intermediate = weakref.ref(y.grad_fn), weakref.ref(hidden)
        y.backward()
        del hidden, y
        assert node() is None, "the tape node outlived its output"
        assert intermediate() is None, "an intermediate tensor outlived the graph"
        gc.collect()
        ours = [obj for obj in gc.garbage if _holds_dualgrad(obj)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert ours == []
    assert x.grad is not None


def test_least_squares_gradient_on_a_local_cluster_equals_numpy() -> None:
    """A 1e6 x 10 design matrix in ten chunks; the gradient computed by two workers."""
    distributed = pytest.importorskip("distributed", reason=INSTALL)
    x, y = _design(1_000_000, 100_000)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,  # threads: no worker start-up cost
            protocol="tcp",  # still talking over the network, on loopback
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        gradient = _gradient(x, y)
        with distributed.get_task_stream(client) as tasks:
            on_cluster = gradient.numpy()  # the Client is Dask's scheduler while it is open
        x_local, y_local = client.compute([x, y], sync=True)
    workers = {task["worker"] for task in tasks.data}
    assert workers and all(worker.startswith("tcp://127.0.0.1:") for worker in workers)
    np.testing.assert_allclose(on_cluster, _gradient(x_local, y_local).numpy(), rtol=1e-10)
