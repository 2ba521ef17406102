"""The shape family's composite functions: forward against NumPy, gradients against finite
differences, forward against reverse mode, and against PyTorch, on every backend.

``index_put`` (and ``x[key] = v``, which calls it) has its own tests at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from rule_checks import make_tensor
from tensors import assert_close

import dualgrad
from dualgrad.testing import check_modes, gradcheck


@dataclass(frozen=True)
class Case:
    """A composite on one input shape: ours, NumPy's and (if any) PyTorch's."""

    shape: tuple[int, ...]
    ours: Callable[[Any], Any]
    numpy: Callable[[np.ndarray], np.ndarray]
    torch: Callable[[Any, Any], Any] | None = None


IDX = np.array([2, 0, 2, 1])
ALONG = np.array([[0, 2, 2], [1, 1, 0], [3, 0, 1]])  # shape (3, 3): along axis 1 of (3, 4)

CASES: dict[str, Case] = {
    "flatten": Case((2, 3, 4), lambda x: dualgrad.flatten(x), np.ravel, lambda t, x: x.flatten()),
    "flatten-dims": Case(
        (2, 3, 4),
        lambda x: dualgrad.flatten(x, 1, 2),
        lambda x: x.reshape(2, 12),
        lambda t, x: t.flatten(x, 1, 2),
    ),
    "flatten-0d": Case((), dualgrad.flatten, np.ravel, lambda t, x: t.flatten(x)),
    "moveaxis": Case(
        (2, 3, 4),
        lambda x: dualgrad.moveaxis(x, 0, -1),
        lambda x: np.moveaxis(x, 0, -1),
        lambda t, x: t.movedim(x, 0, -1),
    ),
    "moveaxis-many": Case(
        (2, 3, 4),
        lambda x: dualgrad.moveaxis(x, (0, 1), (2, 0)),
        lambda x: np.moveaxis(x, (0, 1), (2, 0)),
        lambda t, x: t.movedim(x, (0, 1), (2, 0)),
    ),
    "broadcast_arrays": Case(
        (3, 1),
        lambda x: dualgrad.stack(dualgrad.broadcast_arrays(x, x * x, dualgrad.sum(x))),
        lambda x: np.stack(np.broadcast_arrays(x, x * x, np.sum(x))),
        lambda t, x: t.stack(t.broadcast_tensors(x, x * x, t.sum(x))),
    ),
    "unstack": Case(
        (3, 4),
        lambda x: dualgrad.concat(
            [u * (i + 1) for i, u in enumerate(dualgrad.unstack(x, axis=1))]
        ),
        lambda x: np.concat([x[:, i] * (i + 1) for i in range(4)]),
        lambda t, x: t.cat([u * (i + 1) for i, u in enumerate(t.unbind(x, 1))]),
    ),
    "flip": Case((3, 4), dualgrad.flip, np.flip, lambda t, x: t.flip(x, (0, 1))),
    "flip-axis": Case(
        (2, 3, 4),
        lambda x: dualgrad.flip(x, axis=(0, -1)),
        lambda x: np.flip(x, axis=(0, -1)),
        lambda t, x: t.flip(x, (0, -1)),
    ),
    "flip-0d": Case((), dualgrad.flip, np.flip),
    "roll": Case(
        (3, 4),
        lambda x: dualgrad.roll(x, 5),
        lambda x: np.roll(x, 5),
        lambda t, x: t.roll(x, 5),
    ),
    "roll-axes": Case(
        (3, 4),
        lambda x: dualgrad.roll(x, (1, -1, 3), axis=(0, 1, 0)),
        lambda x: np.roll(x, (1, -1, 3), axis=(0, 1, 0)),
        lambda t, x: t.roll(x, (1, -1, 3), (0, 1, 0)),
    ),
    "roll-empty": Case((2, 0), lambda x: dualgrad.roll(x, 1, axis=1), lambda x: x),
    "tile": Case(
        (2, 3),
        lambda x: dualgrad.tile(x, (2, 1, 3)),
        lambda x: np.tile(x, (2, 1, 3)),
        lambda t, x: t.tile(x, (2, 1, 3)),
    ),
    "tile-short": Case(
        (2, 3), lambda x: dualgrad.tile(x, (2,)), lambda x: np.tile(x, 2), lambda t, x: x.tile(2)
    ),
    "repeat-int": Case(
        (2, 3),
        lambda x: dualgrad.repeat(x, 2, axis=1),
        lambda x: np.repeat(x, 2, axis=1),
        lambda t, x: t.repeat_interleave(x, 2, dim=1),
    ),
    "repeat-flat": Case(
        (2, 3),
        lambda x: dualgrad.repeat(x, 3),
        lambda x: np.repeat(x, 3),
        lambda t, x: t.repeat_interleave(x, 3),
    ),
    "repeat-counts": Case(
        (3, 2),
        lambda x: dualgrad.repeat(x, dualgrad.tensor([2, 0, 3]), axis=0),
        lambda x: np.repeat(x, [2, 0, 3], axis=0),
        lambda t, x: t.repeat_interleave(x, t.tensor([2, 0, 3]), dim=0),
    ),
    "take": Case(
        (3, 4),
        lambda x: dualgrad.take(x, IDX, axis=1),
        lambda x: np.take(x, IDX, axis=1),
        lambda t, x: t.index_select(x, 1, t.from_numpy(IDX)),
    ),
    "take-1d": Case(
        (4,),
        lambda x: dualgrad.take(x, dualgrad.tensor([-1, 0, 0])),
        lambda x: np.take(x, [-1, 0, 0]),
    ),
    "take_along_axis": Case(
        (3, 4),
        lambda x: dualgrad.take_along_axis(x, ALONG, axis=1),
        lambda x: np.take_along_axis(x, ALONG, axis=1),
        lambda t, x: t.take_along_dim(x, t.from_numpy(ALONG), 1),
    ),
    "take_along_axis-broadcast": Case(
        (3, 4),
        lambda x: dualgrad.take_along_axis(x, ALONG[:1].T, axis=0),
        lambda x: np.take_along_axis(x, ALONG[:1].T, axis=0),
        lambda t, x: t.take_along_dim(x, t.from_numpy(ALONG[:1].T.copy()), 0),
    ),
    "sort": Case(
        (3, 4), dualgrad.sort, lambda x: np.sort(x, axis=-1), lambda t, x: t.sort(x).values
    ),
    "sort-descending": Case(
        (2, 3, 4),
        lambda x: dualgrad.sort(x, axis=0, descending=True),
        lambda x: -np.sort(-x, axis=0),
        lambda t, x: t.sort(x, 0, descending=True).values,
    ),
    "sort-0d": Case((), dualgrad.sort, lambda x: x),  # NumPy has no axis -1 to sort 0-d along
}


def _input(backend: Any, shape: tuple[int, ...]) -> dualgrad.Tensor:
    rng = np.random.default_rng(len(shape))
    return make_tensor(backend, rng.uniform(-2.0, 2.0, shape), requires_grad=True)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_forward_matches_numpy(case: Case, backend: Any) -> None:
    x = _input(backend, case.shape)
    assert_close(
        case.ours(x).detach().numpy(), case.numpy(x.detach().numpy()), 1e-12, 1e-12, "forward"
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_gradients_match_finite_differences(case: Case, backend: Any) -> None:
    assert gradcheck(case.ours, (_input(backend, case.shape),))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_forward_and_reverse_mode_agree(case: Case, backend: Any) -> None:
    check_modes(case.ours, _input(backend, case.shape))


WITH_TORCH = {name: case for name, case in CASES.items() if case.torch}


@pytest.mark.parametrize("case", WITH_TORCH.values(), ids=WITH_TORCH.keys())
def test_gradients_match_pytorch(case: Case, backend: Any) -> None:
    torch = pytest.importorskip("torch")
    x = _input(backend, case.shape)
    out = case.ours(x)
    u = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(make_tensor(backend, u))
    x_torch = torch.from_numpy(x.detach().numpy().copy()).requires_grad_(True)
    out_torch = case.torch(torch, x_torch)
    assert_close(out.detach().numpy(), out_torch.detach().numpy(), 1e-12, 1e-12, "forward")
    out_torch.backward(torch.from_numpy(u))
    assert_close(x.grad.numpy(), x_torch.grad.numpy(), 1e-10, 1e-12, "gradient")


def test_sort_gradient_follows_the_permutation(backend: Any) -> None:
    x = make_tensor(backend, [3.0, 1.0, 2.0], requires_grad=True)
    (dualgrad.sort(x) * make_tensor(backend, [10.0, 20.0, 30.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 10.0, 20.0])


def test_argsort_never_carries_gradients(backend: Any) -> None:
    x = make_tensor(backend, [[3.0, 1.0, 2.0]], requires_grad=True)
    order = dualgrad.argsort(x, axis=1, descending=True)
    assert (order.requires_grad, order.grad_fn, order.numpy().tolist()) == (
        False,
        None,
        [[0, 2, 1]],
    )


def test_argsort_of_a_0d_tensor_is_0(backend: Any) -> None:
    assert dualgrad.argsort(make_tensor(backend, 5.0)).numpy().tolist() == 0


def test_unstack_gives_a_tuple_of_slices(backend: Any) -> None:
    parts = dualgrad.unstack(make_tensor(backend, [[1.0, 2.0], [3.0, 4.0]]))
    assert [p.numpy().tolist() for p in parts] == [[1.0, 2.0], [3.0, 4.0]]


def test_take_requires_axis_beyond_1d(backend: Any) -> None:
    with pytest.raises(ValueError, match="axis is required"):
        dualgrad.take(make_tensor(backend, np.ones((2, 3))), [0])


def test_take_rejects_float_indices(backend: Any) -> None:
    with pytest.raises(TypeError, match="indices must be"):
        dualgrad.take(make_tensor(backend, [1.0, 2.0]), make_tensor(backend, [0.0]))


def test_repeat_rejects_counts_of_the_wrong_length(backend: Any) -> None:
    with pytest.raises(ValueError, match="length 1 or 3"):
        dualgrad.repeat(make_tensor(backend, [1.0, 2.0, 3.0]), [1, 2])


def test_moveaxis_rejects_mismatched_axes(backend: Any) -> None:
    with pytest.raises(ValueError, match="as many axes"):
        dualgrad.moveaxis(make_tensor(backend, np.ones((2, 3))), (0, 1), 0)


def test_flatten_rejects_start_after_end(backend: Any) -> None:
    with pytest.raises(ValueError, match="comes after"):
        dualgrad.flatten(make_tensor(backend, np.ones((2, 3))), 1, 0)


# --- index_put ----------------------------------------------------------------------------------
MASK = np.array(
    [[True, False, True, False], [False, False, True, True], [True, True, False, False]]
)
PUTS: dict[str, tuple[Any, tuple[int, ...]]] = {
    "slices": ((slice(1, None), slice(None, None, 2)), (2, 2)),
    "int-broadcast-values": ((1,), (4,)),
    "scalar-values": ((slice(None), 2), ()),
    "integer-arrays": ((np.array([0, 2]), np.array([1, 3])), (2,)),
    "array-and-slice": ((np.array([2, 0]), slice(1, 3)), (1, 2)),
    "mask": ((MASK,), (6,)),
    "0d-ellipsis": ((Ellipsis,), ()),
}


def _put_inputs(backend: Any, values_shape: tuple[int, ...]) -> list[dualgrad.Tensor]:
    rng = np.random.default_rng(3)
    x = make_tensor(backend, rng.uniform(-2, 2, (3, 4)), requires_grad=True)
    values = make_tensor(backend, rng.uniform(-2, 2, values_shape), requires_grad=True)
    return [x, values]


@pytest.mark.parametrize(("key", "values_shape"), PUTS.values(), ids=PUTS.keys())
def test_index_put_matches_numpy_assignment(key: Any, values_shape: Any, backend: Any) -> None:
    x, values = _put_inputs(backend, values_shape)
    expected = x.detach().numpy().copy()
    expected[key] = values.detach().numpy()
    np.testing.assert_array_equal(dualgrad.index_put(x, key, values).detach().numpy(), expected)


@pytest.mark.parametrize(("key", "values_shape"), PUTS.values(), ids=PUTS.keys())
def test_index_put_gradients(key: Any, values_shape: Any, backend: Any) -> None:
    inputs = _put_inputs(backend, values_shape)
    assert gradcheck(lambda x, v: dualgrad.index_put(x, key, v), inputs)
    check_modes(lambda x, v: dualgrad.index_put(x, key, v), *inputs)


@pytest.mark.parametrize(("key", "values_shape"), PUTS.values(), ids=PUTS.keys())
def test_index_put_gradients_match_pytorch(key: Any, values_shape: Any, backend: Any) -> None:
    torch = pytest.importorskip("torch")
    x, values = _put_inputs(backend, values_shape)
    u = np.random.default_rng(4).standard_normal((3, 4))
    dualgrad.index_put(x, key, values).backward(make_tensor(backend, u))
    x_torch, values_torch = (
        torch.from_numpy(t.detach().numpy().copy()).requires_grad_(True) for t in (x, values)
    )
    torch_key = tuple(torch.from_numpy(p) if isinstance(p, np.ndarray) else p for p in key)
    out = x_torch.clone()
    out[torch_key] = values_torch
    out.backward(torch.from_numpy(u))
    assert_close(x.grad.numpy(), x_torch.grad.numpy(), 1e-12, 1e-12, "x")
    assert_close(values.grad.numpy(), values_torch.grad.numpy(), 1e-12, 1e-12, "values")


def test_index_put_last_write_wins_and_gets_the_gradient(backend: Any) -> None:
    """With index 1 written twice, the later value (20) lands and alone gets its gradient.

    The earlier duplicate (10) never reaches the output, so its gradient is 0 (PyTorch would
    give it the gradient of position 1 too); position 1 of ``x`` gets 0, as any written one.
    """
    x = make_tensor(backend, [1.0, 2.0, 3.0], requires_grad=True)
    values = make_tensor(backend, [10.0, 30.0, 20.0], requires_grad=True)
    out = dualgrad.index_put(x, np.array([1, 2, 1]), values)
    np.testing.assert_array_equal(out.detach().numpy(), [1.0, 20.0, 30.0])
    (out * make_tensor(backend, [1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(values.grad.numpy(), [0.0, 3.0, 2.0])


def test_index_put_repeated_indices_gradients(backend: Any) -> None:
    inputs = _put_inputs(backend, (4,))
    key = (np.array([2, 0, 2, 2]), np.array([1, 3, 1, 1]))
    assert gradcheck(lambda x, v: dualgrad.index_put(x, key, v), inputs)
    check_modes(lambda x, v: dualgrad.index_put(x, key, v), *inputs)


def test_index_put_converts_values_to_the_dtype_of_x(backend: Any) -> None:
    x = make_tensor(backend, [1.0, 2.0], "float32", requires_grad=True)
    values = make_tensor(backend, 5.0, "float64", requires_grad=True)
    out = dualgrad.index_put(x, 0, values)
    out.sum().backward()
    assert (out.dtype, values.grad.dtype, values.grad.numpy().tolist()) == (
        dualgrad.float32,
        dualgrad.float64,
        1.0,
    )


def test_index_put_rejects_values_that_do_not_broadcast(backend: Any) -> None:
    x = make_tensor(backend, np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"cannot be broadcast to the shape \(2, 4\)"):
        dualgrad.index_put(x, slice(0, 2), make_tensor(backend, np.ones(3)))


def test_index_put_leaves_x_unchanged(backend: Any) -> None:
    x = make_tensor(backend, [1.0, 2.0])
    dualgrad.index_put(x, 0, 5.0)
    assert x.detach().numpy().tolist() == [1.0, 2.0]


def test_setitem_records_index_put_in_the_graph(backend: Any) -> None:
    """``y[key] = v`` on a non-leaf: gradients reach the overwritten tensor and the values."""
    x = make_tensor(backend, [1.0, 2.0, 3.0, 4.0], requires_grad=True)
    values = make_tensor(backend, [10.0, 20.0], requires_grad=True)
    y = x * 2.0
    y[np.array([0, 2])] = values * 3.0
    np.testing.assert_array_equal(y.detach().numpy(), [30.0, 4.0, 60.0, 8.0])
    (y * make_tensor(backend, [1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 4.0, 0.0, 8.0])
    np.testing.assert_array_equal(values.grad.numpy(), [3.0, 9.0])
