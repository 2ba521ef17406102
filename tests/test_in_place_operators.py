"""The thirteen in-place operators (``+=`` ... ``>>=``, ``@=``): the Array API standard's
semantics (the tensor itself changes; its shape and dtype never do) with PyTorch's autograd
rules (a leaf that requires grad refuses, a non-leaf records the update, a tensor saved for
backward and then changed is caught)."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from tensors import assert_close, values

import dualgrad

# operator symbol -> (in-place function, out-of-place function)
ARITHMETIC = {
    "+=": (operator.iadd, operator.add),
    "-=": (operator.isub, operator.sub),
    "*=": (operator.imul, operator.mul),
    "/=": (operator.itruediv, operator.truediv),
    "//=": (operator.ifloordiv, operator.floordiv),
    "%=": (operator.imod, operator.mod),
    "**=": (operator.ipow, operator.pow),
}
BITWISE = {
    "&=": (operator.iand, operator.and_),
    "|=": (operator.ior, operator.or_),
    "^=": (operator.ixor, operator.xor),
    "<<=": (operator.ilshift, operator.lshift),
    ">>=": (operator.irshift, operator.rshift),
}
INTEGER = {name: ops for name, ops in ARITHMETIC.items() if name != "/="} | BITWISE


def _state(t):
    return (values(t).copy(), t.dtype, t._version, t.grad_fn, t.requires_grad)


def _assert_same_state(t, state):
    got = _state(t)
    np.testing.assert_array_equal(got[0], state[0])
    assert got[1:] == state[1:]


@pytest.mark.parametrize("name", list(ARITHMETIC))
def test_float_in_place_operator_changes_the_tensor_itself(name, backend):
    in_place, out_of_place = ARITHMETIC[name]
    x = dualgrad.tensor([[1.5, 2.0, 3.25], [0.5, 4.0, 1.0]], dtype=dualgrad.float32)
    other = dualgrad.tensor([2.0, 0.5, 1.5], dtype=dualgrad.float32)  # broadcasts into x
    expected = out_of_place(x, other)
    version = x._version
    result = in_place(x, other)
    assert result is x
    assert x.dtype is dualgrad.float32
    assert x._version == version + 1
    assert_close(x, expected)


@pytest.mark.parametrize("name", list(INTEGER))
def test_integer_in_place_operator_changes_the_tensor_itself(name, backend):
    in_place, out_of_place = INTEGER[name]
    x = dualgrad.tensor([7, 12, 5], dtype=dualgrad.int16)
    for other in (dualgrad.tensor([3, 2, 1], dtype=dualgrad.int16), 2):
        expected = out_of_place(x, other)
        result = in_place(x, other)
        assert result is x
        assert x.dtype is dualgrad.int16
        np.testing.assert_array_equal(values(x), values(expected))


@pytest.mark.parametrize("name", ["&=", "|=", "^="])
def test_bool_in_place_operator_changes_the_tensor_itself(name, backend):
    in_place, out_of_place = BITWISE[name]
    x = dualgrad.tensor([True, True, False, False])
    other = dualgrad.tensor([True, False, True, False])
    expected = out_of_place(x, other)
    assert in_place(x, other) is x
    assert x.dtype is dualgrad.bool
    np.testing.assert_array_equal(values(x), values(expected))


def test_matmul_in_place_by_a_square_matrix(backend):
    x = dualgrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y = dualgrad.tensor([[0.0, 1.0], [2.0, -1.0]])
    expected = x @ y
    x @= y
    assert_close(x, expected)


@pytest.mark.parametrize(
    ("make", "other", "pattern"),
    [
        (lambda: dualgrad.tensor([1, 2, 3]), 1.5, "float32.*int64"),
        (lambda: dualgrad.tensor([1, 2, 3]), "float32", "float32.*int64"),
        (lambda: dualgrad.tensor([True, False]), "int64", "int64.*bool"),
    ],
    ids=["int64+=1.5", "int64+=float32", "bool|=int64"],
)
def test_promotion_to_a_higher_kind_raises_and_changes_nothing(make, other, pattern, backend):
    x = make()
    if isinstance(other, str):
        other = dualgrad.ones(x.shape, dtype=getattr(dualgrad, other))
    before = _state(x)
    operators = [operator.ior] if x.dtype is dualgrad.bool else [operator.iadd, operator.imul]
    for in_place in operators:
        with pytest.raises(TypeError, match=pattern):
            in_place(x, other)
        _assert_same_state(x, before)


@pytest.mark.parametrize(
    ("dtype", "other"),
    [("float32", "float64"), ("int8", "int64")],
    ids=["float32+=float64", "int8+=int64"],
)
def test_promotion_within_a_kind_casts_back_as_pytorch_does(dtype, other, backend):
    x = dualgrad.tensor([1, 2, 3], dtype=getattr(dualgrad, dtype))
    x += dualgrad.ones(3, dtype=getattr(dualgrad, other))
    assert x.dtype is getattr(dualgrad, dtype)
    np.testing.assert_array_equal(values(x), [2, 3, 4])


def test_integer_true_division_in_place_raises(backend):
    x = dualgrad.tensor([4, 6])
    with pytest.raises(TypeError, match=r"can't be cast to the tensor's dualgrad\.int64"):
        x /= 2
    np.testing.assert_array_equal(values(x), [4, 6])


@pytest.mark.parametrize("name", list(INTEGER))
def test_broadcast_that_would_grow_the_tensor_raises_and_changes_nothing(name, backend):
    in_place, _ = INTEGER[name]
    x = dualgrad.tensor([1, 2, 3])
    before = _state(x)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        in_place(x, dualgrad.ones((2, 3), dtype=dualgrad.int64))
    _assert_same_state(x, before)


def test_matmul_in_place_that_would_change_the_shape_raises(backend):
    x = dualgrad.ones((2, 3))
    before = _state(x)
    with pytest.raises(ValueError, match=r"\(2, 4\).*\(2, 3\)"):
        x @= dualgrad.ones((3, 4))
    _assert_same_state(x, before)


@pytest.mark.parametrize("name", [*ARITHMETIC, "@="])
def test_in_place_on_a_leaf_that_requires_grad_raises(name, backend, mode):
    in_place = operator.imatmul if name == "@=" else ARITHMETIC[name][0]
    x = dualgrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    before = _state(x)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        in_place(x, dualgrad.tensor([[1.0, 0.5], [2.0, 1.0]]))
    _assert_same_state(x, before)
    with dualgrad.no_grad():  # as an optimizer's update: allowed, and x stays a leaf
        in_place(x, dualgrad.tensor([[1.0, 0.5], [2.0, 1.0]]))
    assert x.is_leaf and x.requires_grad


@pytest.mark.parametrize("name", [*ARITHMETIC, "@="])
def test_in_place_on_a_non_leaf_gives_the_out_of_place_gradients(name, backend, mode):
    if name == "@=":
        in_place, out_of_place = operator.imatmul, operator.matmul
    else:
        in_place, out_of_place = ARITHMETIC[name]
    grads = []
    for update in (in_place, out_of_place):
        x = dualgrad.tensor([[1.5, 2.0], [0.75, 3.0]], dtype=dualgrad.float64, requires_grad=True)
        z = dualgrad.tensor([[0.5, 1.25], [2.0, 0.8]], dtype=dualgrad.float64, requires_grad=True)
        y = x * 2.0  # a non-leaf, positive: ** and // are smooth there
        y = update(y, z)
        (y * x).sum().backward()  # x is used again after the update
        grads.append((values(y), x.grad, z.grad))
    (got_y, *got), (want_y, *want) = grads
    assert_close(got_y, want_y)
    for got_grad, want_grad in zip(got, want, strict=True):
        if want_grad is None:  # // does not reach z: its derivative is zero where defined
            assert got_grad is None
        else:
            assert_close(got_grad, want_grad, rtol=1e-10)


def test_in_place_with_an_operand_that_requires_grad_makes_the_tensor_require_grad(backend, mode):
    """As in PyTorch: y (no grad) **= w (requires grad) puts y on w's graph."""
    w = dualgrad.tensor([2.0, 3.0], dtype=dualgrad.float64, requires_grad=True)
    y = dualgrad.tensor([1.5, 0.5], dtype=dualgrad.float64)
    y **= w
    assert y.requires_grad and not y.is_leaf
    y.sum().backward()
    assert_close(w.grad, np.log([1.5, 0.5]) * np.array([1.5, 0.5]) ** np.array([2.0, 3.0]))


def test_in_place_on_a_tensor_saved_for_backward_is_caught(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y * y  # saves y
    y **= 2
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
