"""Tensor: creation, attributes, operators, indexing, shape methods, errors, and ``repr``
exactly as PyTorch prints it."""

from __future__ import annotations

import importlib.util
import operator

import numpy as np
import pytest
from tensors import values

import dualgrad

TORCH_MISSING = "torch not installed; pip install torch==2.13.0"


def assert_equal(tensor, expected):
    np.testing.assert_array_equal(values(tensor), np.asarray(expected))


# --- creation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "dtype_name"),
    [
        (1.5, "float32"),
        ([1.0, 2.0], "float32"),
        ([1, 2.5], "float32"),
        (3, "int64"),
        ([[1, 2], [3, 4]], "int64"),
        (True, "bool"),
        ([True, False], "bool"),
    ],
    ids=["float", "floats", "mixed", "int", "ints", "bool", "bools"],
)
def test_tensor_infers_dtype_from_python_data(data, dtype_name, backend):
    t = dualgrad.tensor(data)
    assert t.dtype is getattr(dualgrad, dtype_name)
    assert_equal(t, data)
    assert t.backend is backend


@pytest.mark.parametrize("data", [2.0, 7, True], ids=["float", "int", "bool"])
def test_tensor_from_python_scalar_is_zero_dimensional(data, backend):
    t = dualgrad.tensor(data)
    assert t.shape == ()
    assert t.ndim == 0
    assert t.item() == data


@pytest.mark.parametrize(
    ("array", "dtype_name"),
    [
        (np.array([1.0, 2.0]), "float64"),
        (np.array([1.0, 2.0], dtype=np.float32), "float32"),
        (np.array([1, 2], dtype=np.int32), "int32"),
        (np.float64(1.5), "float64"),
    ],
    ids=["float64", "float32", "int32", "numpy-scalar"],
)
def test_tensor_from_numpy_keeps_its_dtype(array, dtype_name):
    t = dualgrad.tensor(array)
    assert t.dtype is getattr(dualgrad, dtype_name)
    assert_equal(t, array)


def test_tensor_with_explicit_dtype_converts(backend):
    t = dualgrad.tensor([1, 2], dtype=dualgrad.float64)
    assert t.dtype is dualgrad.float64
    assert_equal(t, [1.0, 2.0])


def test_tensor_copies_numpy_data():
    array = np.array([1.0, 2.0])
    t = dualgrad.tensor(array)
    array[0] = 100.0
    assert_equal(t, [1.0, 2.0])


@pytest.mark.parametrize("make", ["zeros", "ones"])
def test_filled_creation_accepts_sizes_or_a_tuple(make, backend):
    function = getattr(dualgrad, make)
    fill = 0.0 if make == "zeros" else 1.0
    for t in (function(2, 3), function((2, 3)), function([2, 3])):
        assert t.shape == (2, 3)
        assert t.dtype is dualgrad.float32
        assert t.backend is backend
        assert_equal(t, np.full((2, 3), fill))


def test_zeros_with_dtype_and_requires_grad(backend):
    t = dualgrad.zeros(2, dtype=dualgrad.float64, requires_grad=True)
    assert t.dtype is dualgrad.float64
    assert t.requires_grad
    assert t.is_leaf


def test_zeros_with_negative_size_raises(backend):
    with pytest.raises(ValueError, match=r"non-negative.*-1"):
        dualgrad.zeros(2, -1)


@pytest.mark.parametrize(
    ("fill", "dtype_name"),
    [(7.0, "float32"), (7, "int64"), (True, "bool")],
    ids=["float", "int", "bool"],
)
def test_full_infers_dtype_from_fill_value(fill, dtype_name, backend):
    t = dualgrad.full((2, 3), fill)
    assert t.shape == (2, 3)
    assert t.dtype is getattr(dualgrad, dtype_name)
    assert_equal(t, np.full((2, 3), fill))


def test_arange_of_integers_is_int64(backend):
    t = dualgrad.arange(5)
    assert t.dtype is dualgrad.int64
    assert_equal(t, [0, 1, 2, 3, 4])
    assert_equal(dualgrad.arange(2, 8, 3), [2, 5])


def test_arange_of_floats_is_float32(backend):
    t = dualgrad.arange(1, 2, 0.25)
    assert t.dtype is dualgrad.float32
    assert_equal(t, [1.0, 1.25, 1.5, 1.75])
    assert dualgrad.arange(3.0).dtype is dualgrad.float32


def test_linspace_includes_both_ends(backend):
    t = dualgrad.linspace(0, 1, 5)
    assert t.dtype is dualgrad.float32
    assert_equal(t, [0.0, 0.25, 0.5, 0.75, 1.0])


def test_eye_square_and_rectangular(backend):
    assert_equal(dualgrad.eye(3), np.eye(3))
    assert_equal(dualgrad.eye(2, 3), np.eye(2, 3))
    assert dualgrad.eye(2).dtype is dualgrad.float32


@pytest.mark.parametrize("make", ["zeros_like", "ones_like"])
def test_like_functions_keep_shape_dtype_and_backend(make, backend):
    function = getattr(dualgrad, make)
    source = dualgrad.tensor([[1, 2, 3]])
    t = function(source)
    assert t.shape == (1, 3)
    assert t.dtype is dualgrad.int64
    assert t.backend is backend
    assert_equal(t, np.full((1, 3), 0 if make == "zeros_like" else 1))
    assert function(source, dtype=dualgrad.float64).dtype is dualgrad.float64


@pytest.mark.parametrize("draw", ["randn", "rand"])
def test_random_creation_shape_and_dtype(draw, backend):
    function = getattr(dualgrad, draw)
    t = function(3, 4)
    assert t.shape == (3, 4)
    assert t.dtype is dualgrad.float32
    assert function((2, 2), dtype=dualgrad.float64).dtype is dualgrad.float64
    assert function(2, requires_grad=True).requires_grad


def test_rand_lies_in_unit_interval(backend):
    t = values(dualgrad.rand(1000))
    assert t.min() >= 0.0
    assert t.max() < 1.0


@pytest.mark.parametrize("draw", ["randn", "rand"])
def test_manual_seed_makes_random_draws_repeat(draw, backend):
    function = getattr(dualgrad, draw)
    dualgrad.manual_seed(1234)
    first, second = values(function(5)), values(function(5))
    dualgrad.manual_seed(1234)
    again_first, again_second = values(function(5)), values(function(5))
    np.testing.assert_array_equal(first, again_first)
    np.testing.assert_array_equal(second, again_second)
    assert not np.array_equal(first, second)


def test_random_creation_with_integer_dtype_raises(backend):
    with pytest.raises(TypeError, match=r"floating.*int64"):
        dualgrad.randn(2, dtype=dualgrad.int64)


def test_set_default_dtype_changes_what_floats_become():
    previous = dualgrad.get_default_dtype()
    assert previous is dualgrad.float32
    try:
        dualgrad.set_default_dtype(dualgrad.float64)
        assert dualgrad.get_default_dtype() is dualgrad.float64
        assert dualgrad.tensor(1.5).dtype is dualgrad.float64
        assert dualgrad.zeros(2).dtype is dualgrad.float64
        assert dualgrad.arange(2.0).dtype is dualgrad.float64
        assert (dualgrad.tensor([1, 2]) * 0.5).dtype is dualgrad.float64
        assert dualgrad.tensor(1).dtype is dualgrad.int64
    finally:
        dualgrad.set_default_dtype(previous)
    assert dualgrad.tensor(1.5).dtype is dualgrad.float32


@pytest.mark.parametrize("dtype", ["int64", "bool", "float64-string"])
def test_set_default_dtype_rejects_non_float(dtype):
    value = "float64" if dtype == "float64-string" else getattr(dualgrad, dtype)
    with pytest.raises(TypeError, match=r"floating dtype such as dualgrad\.float64"):
        dualgrad.set_default_dtype(value)
    assert dualgrad.get_default_dtype() is dualgrad.float32


# --- attributes -----------------------------------------------------------------------------
def test_shape_ndim_dtype_and_size(backend):
    t = dualgrad.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4)
    assert isinstance(t.shape, tuple)
    assert t.ndim == 3
    assert t.dtype is dualgrad.float32
    assert t.size() == (2, 3, 4)
    assert t.size(1) == 3
    assert t.size(-1) == 4


def test_item_gives_python_number(backend):
    assert dualgrad.tensor(2.5).item() == 2.5
    assert isinstance(dualgrad.tensor(2.5).item(), float)
    assert isinstance(dualgrad.tensor([3]).item(), int)
    assert dualgrad.tensor([[True]]).item() is True


def test_item_of_several_elements_raises(backend):
    with pytest.raises(ValueError, match="2 elements"):
        dualgrad.tensor([1.0, 2.0]).item()


def test_tolist_gives_nested_python_lists(backend):
    assert dualgrad.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    floats = dualgrad.tensor([0.5, 1.5]).tolist()
    assert floats == [0.5, 1.5]
    assert all(type(v) is float for v in floats)
    assert dualgrad.tensor(2.0).tolist() == 2.0


def test_numpy_gives_an_ndarray_with_the_values(backend):
    t = dualgrad.tensor([[1.0, 2.0]], dtype=dualgrad.float64)
    array = t.numpy()
    assert isinstance(array, np.ndarray)
    assert array.dtype == np.float64
    np.testing.assert_array_equal(array, [[1.0, 2.0]])


def test_numpy_on_tensor_that_requires_grad_raises(backend):
    t = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"requires grad.*detach\(\)\.numpy\(\)"):
        t.numpy()
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        np.asarray(t)
    np.testing.assert_array_equal(t.detach().numpy(), [1.0, 2.0])


def test_array_is_the_backend_native_array(backend):
    t = dualgrad.tensor([1.0, 2.0])
    assert backend.owns(t.array)
    assert not isinstance(t.array, dualgrad.Tensor)
    np.testing.assert_array_equal(np.asarray(t.array), [1.0, 2.0])


def test_T_reverses_axes(backend):
    m = dualgrad.arange(6.0).reshape(2, 3)
    assert_equal(m.T, np.arange(6.0).reshape(2, 3).T)
    assert dualgrad.zeros(2, 3, 4).T.shape == (4, 3, 2)


# --- operators ------------------------------------------------------------------------------
BINARY_OPERATORS = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "eq": operator.eq,
    "ne": operator.ne,
}
X = [1.5, -2.0, 3.0]
Y = [0.5, 4.0, 2.0]


@pytest.mark.parametrize("name", list(BINARY_OPERATORS))
def test_binary_operator_between_tensors_matches_numpy(name, backend):
    op = BINARY_OPERATORS[name]
    x, y = np.array(X, dtype=np.float32), np.array(Y, dtype=np.float32)
    result = op(dualgrad.tensor(X), dualgrad.tensor(Y))
    np.testing.assert_allclose(values(result), op(x, y), rtol=1e-6)


@pytest.mark.parametrize("name", list(BINARY_OPERATORS))
def test_binary_operator_with_python_scalar_on_either_side_matches_numpy(name, backend):
    op = BINARY_OPERATORS[name]
    x = np.array(Y, dtype=np.float32)
    t = dualgrad.tensor(Y)
    np.testing.assert_allclose(values(op(t, 2.0)), op(x, np.float32(2.0)), rtol=1e-6)
    np.testing.assert_allclose(values(op(3.0, t)), op(np.float32(3.0), x), rtol=1e-6)


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (operator.neg, [-1.5, 2.0, -3.0]),
        (operator.pos, [1.5, -2.0, 3.0]),
        (abs, [1.5, 2.0, 3.0]),
    ],
    ids=["neg", "pos", "abs"],
)
def test_unary_operators(op, expected, backend):
    assert_equal(op(dualgrad.tensor(X)), expected)


def test_matmul_operator(backend):
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(12.0).reshape(3, 4)
    got = dualgrad.tensor(a.tolist()) @ dualgrad.tensor(b.tolist())
    np.testing.assert_allclose(values(got), a @ b)
    vector = dualgrad.tensor([1.0, 2.0, 3.0])
    assert (vector @ vector).shape == ()
    assert (vector @ vector).item() == 14.0
    assert (dualgrad.tensor(a.tolist()) @ vector).shape == (2,)


def test_bitwise_operators_on_bool_tensors(backend):
    p = dualgrad.tensor([True, True, False])
    q = dualgrad.tensor([True, False, False])
    assert (p & q).tolist() == [True, False, False]
    assert (p | q).tolist() == [True, True, False]
    assert (p ^ q).tolist() == [False, True, False]
    assert (~p).tolist() == [False, False, True]


@pytest.mark.parametrize(
    ("make", "dtype_name"),
    [
        (lambda: dualgrad.tensor([1.0, 2.0]) * 2.5, "float32"),
        (lambda: 2.5 * dualgrad.tensor([1.0, 2.0]), "float32"),
        (lambda: dualgrad.tensor([1.0, 2.0]) * 2, "float32"),
        (lambda: dualgrad.tensor([1.0], dtype=dualgrad.float64) * 2.5, "float64"),
        (lambda: dualgrad.tensor([1, 2]) * 2.5, "float32"),
        (lambda: dualgrad.tensor([1, 2]) * 2, "int64"),
        (lambda: dualgrad.tensor([1, 2]) / 2, "float32"),
        (lambda: dualgrad.tensor([1, 2]) / dualgrad.tensor([2, 2]), "float32"),
        (lambda: dualgrad.tensor([1, 2]) ** 2, "int64"),
        (lambda: dualgrad.tensor([True]) + 1, "int64"),
        (lambda: dualgrad.tensor([True]) + 1.5, "float32"),
        (lambda: dualgrad.tensor([1, 2], dtype=dualgrad.int32) * 3, "int32"),
    ],
    ids=[
        "f32*float",
        "float*f32",
        "f32*int",
        "f64*float",
        "i64*float",
        "i64*int",
        "i64/int",
        "i64/i64",
        "i64**int",
        "bool+int",
        "bool+float",
        "i32*int",
    ],
)
def test_python_scalars_are_weakly_typed(make, dtype_name, backend):
    assert make().dtype is getattr(dualgrad, dtype_name)


@pytest.mark.parametrize(
    ("a", "b", "dtype_name"),
    [
        ("float32", "float64", "float64"),
        ("int64", "float32", "float32"),
        ("int32", "int64", "int64"),
        ("bool", "int32", "int32"),
    ],
)
def test_tensor_dtypes_promote(a, b, dtype_name, backend):
    x = dualgrad.tensor([1, 0], dtype=getattr(dualgrad, a))
    y = dualgrad.tensor([1, 0], dtype=getattr(dualgrad, b))
    assert (x + y).dtype is getattr(dualgrad, dtype_name)
    assert (y * x).dtype is getattr(dualgrad, dtype_name)


def test_integer_division_by_int_gives_true_division(backend):
    assert_equal(dualgrad.tensor([1, 3]) / 2, [0.5, 1.5])


# --- indexing and iteration ---------------------------------------------------------------
M = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize(
    "key",
    [
        1,
        -1,
        (1, 2),
        slice(1, 3),
        slice(None, None, 2),
        (slice(None), 0),
        (Ellipsis, 1),
        (None, 0),
        (slice(None), slice(1, None, 2)),
    ],
    ids=["int", "negative", "pair", "slice", "step", "column", "ellipsis", "newaxis", "slices"],
)
def test_getitem_with_ints_and_slices_matches_numpy(key, backend):
    got = dualgrad.tensor(M.tolist())[key]
    assert got.shape == M[key].shape
    assert_equal(got, M[key])


def test_getitem_with_integer_tensor(backend):
    index = dualgrad.tensor([2, 0, 2])
    assert_equal(dualgrad.tensor(M.tolist())[index], M[[2, 0, 2]])


def test_getitem_with_integer_list(backend):
    assert_equal(dualgrad.tensor(M.tolist())[[0, 2]], M[[0, 2]])
    assert_equal(dualgrad.tensor(M.tolist())[:, [3, 1]], M[:, [3, 1]])


def test_getitem_with_bool_mask(backend):
    t = dualgrad.tensor(M.tolist())
    assert_equal(t[t > 5.0], M[M > 5.0])
    rows = dualgrad.tensor([True, False, True])
    assert_equal(t[rows], M[[True, False, True]])


def test_getitem_out_of_range_raises(backend):
    with pytest.raises(IndexError):
        dualgrad.tensor([1.0, 2.0])[2]


def test_len_is_the_first_axis(backend):
    assert len(dualgrad.zeros(3, 4)) == 3
    with pytest.raises(TypeError, match="0-d"):
        len(dualgrad.tensor(1.0))


def test_iteration_yields_rows(backend):
    rows = list(dualgrad.tensor(M.tolist()))
    assert len(rows) == 3
    for row, expected in zip(rows, M, strict=True):
        assert isinstance(row, dualgrad.Tensor)
        assert_equal(row, expected)


def test_bool_of_single_element(backend):
    assert bool(dualgrad.tensor([2.0]))
    assert not bool(dualgrad.tensor(0))
    assert bool(dualgrad.tensor([[True]]))


def test_bool_of_several_elements_raises(backend):
    with pytest.raises(RuntimeError, match=r"2 elements is ambiguous.*\.any\(\) or \.all\(\)"):
        bool(dualgrad.tensor([1.0, 2.0]))


def test_bool_of_empty_tensor_raises(backend):
    with pytest.raises(RuntimeError, match="0 elements"):
        bool(dualgrad.zeros(0))


# --- shape methods --------------------------------------------------------------------------
A = np.arange(24.0).reshape(2, 3, 4)


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (lambda t: t.reshape(6, 4), A.reshape(6, 4)),
        (lambda t: t.reshape((4, 6)), A.reshape(4, 6)),
        (lambda t: t.reshape(-1), A.reshape(-1)),
        (lambda t: t.reshape(2, -1), A.reshape(2, -1)),
        (lambda t: t.view(3, 8), A.reshape(3, 8)),
        (lambda t: t.permute(2, 0, 1), A.transpose(2, 0, 1)),
        (lambda t: t.permute((1, 2, 0)), A.transpose(1, 2, 0)),
        (lambda t: t.transpose(0, 2), A.swapaxes(0, 2)),
        (lambda t: t.transpose(-1, -2), A.swapaxes(-1, -2)),
        (lambda t: t.flatten(), A.reshape(-1)),
        (lambda t: t.flatten(1), A.reshape(2, 12)),
        (lambda t: t.flatten(0, 1), A.reshape(6, 4)),
        (lambda t: t.unsqueeze(0), A[None]),
        (lambda t: t.unsqueeze(-1), A[..., None]),
        (lambda t: t.unsqueeze(1), A[:, None]),
        (lambda t: t[:1, :, :1].squeeze(), A[:1, :, :1].squeeze()),
        (lambda t: t[:1].squeeze(0), A[0]),
        (lambda t: t[:, :1].squeeze(1), A[:, 0]),
        (lambda t: t[:1].expand(3, -1, -1), np.broadcast_to(A[:1], (3, 3, 4))),
        (lambda t: t[:, :, :1].expand(2, 3, 5), np.broadcast_to(A[:, :, :1], (2, 3, 5))),
        (lambda t: t[0, 0].expand(2, 4), np.broadcast_to(A[0, 0], (2, 4))),
    ],
    ids=[
        "reshape",
        "reshape-tuple",
        "reshape-minus-one",
        "reshape-infer",
        "view",
        "permute",
        "permute-tuple",
        "transpose",
        "transpose-negative",
        "flatten",
        "flatten-start",
        "flatten-range",
        "unsqueeze-front",
        "unsqueeze-back",
        "unsqueeze-middle",
        "squeeze-all",
        "squeeze-dim0",
        "squeeze-dim1",
        "expand-front",
        "expand-last",
        "expand-new-axis",
    ],
)
def test_shape_method_matches_numpy(method, expected, backend):
    got = method(dualgrad.tensor(A.tolist()))
    assert got.shape == expected.shape
    assert_equal(got, expected)


def test_reshape_to_incompatible_size_raises(backend):
    with pytest.raises(ValueError, match=r"\(2, 3, 4\).*\(5, 5\)"):
        dualgrad.tensor(A.tolist()).reshape(5, 5)


def test_shape_methods_propagate_gradients(backend):
    x = dualgrad.tensor(A.tolist(), dtype=dualgrad.float64, requires_grad=True)
    y = x.permute(2, 0, 1).reshape(4, 6).T.unsqueeze(0).flatten()
    (y * dualgrad.arange(24.0, dtype=dualgrad.float64)).sum().backward()
    expected = np.arange(24.0).reshape(6, 4).T.reshape(4, 2, 3).transpose(1, 2, 0)
    assert_equal(x.grad, expected)


# --- errors ---------------------------------------------------------------------------------
def test_mixing_backends_raises_naming_both():
    with dualgrad.use_backend("numpy"):
        a = dualgrad.tensor([1.0, 2.0])
    with dualgrad.use_backend("array_api_strict"):
        b = dualgrad.tensor([3.0, 4.0])
    assert a.backend is not b.backend
    for combine in (operator.add, operator.mul, operator.matmul):
        with pytest.raises(TypeError, match=r"different backends \(numpy, array_api_strict\)"):
            combine(a, b)
    with pytest.raises(TypeError, match=r"different backends \(array_api_strict, numpy\)"):
        b - a


def test_incompatible_broadcast_raises_with_both_shapes(backend):
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\).*broadcast"):
        dualgrad.zeros(2, 3) + dualgrad.zeros(4)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 1, 4\)"):
        dualgrad.zeros(3) * dualgrad.zeros(2, 1, 4)


def test_incompatible_matmul_raises_with_both_shapes(backend):
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        dualgrad.zeros(2, 3) @ dualgrad.zeros(4, 5)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        dualgrad.zeros(3) @ dualgrad.zeros(2)


def test_operator_with_unsupported_operand_raises_type_error(backend):
    with pytest.raises(TypeError):
        dualgrad.tensor([1.0]) + "a"


# --- repr -----------------------------------------------------------------------------------
# What PyTorch 2.13.0 prints for each expression, with "dtype=torch." written "dtype=dualgrad.";
# test_repr_matches_live_pytorch keeps the table honest wherever torch is installed.
REPR_CASES = [
    ("torch.tensor(7.0)", "tensor(7.)"),
    ("torch.tensor(3)", "tensor(3)"),
    ("torch.tensor(True)", "tensor(True)"),
    (
        "torch.tensor([1.0, 2.0, 3.0], requires_grad=True)",
        "tensor([1., 2., 3.], requires_grad=True)",
    ),
    ("torch.tensor(5.0, requires_grad=True) + 6.0", "tensor(11., grad_fn=<AddBackward0>)"),
    (
        "torch.tensor([1.0, 2.0], requires_grad=True) * 2",
        "tensor([2., 4.], grad_fn=<MulBackward0>)",
    ),
    ("torch.tensor(-0.5)", "tensor(-0.5000)"),
    ("torch.tensor([0.1, 0.25, 1.0 / 3.0])", "tensor([0.1000, 0.2500, 0.3333])"),
    ("torch.tensor([-1.5, 2.25, -10.0])", "tensor([ -1.5000,   2.2500, -10.0000])"),
    ("torch.tensor([-1.0, 2.0, -300.0])", "tensor([  -1.,    2., -300.])"),
    ("torch.tensor([123.456, -0.001])", "tensor([ 1.2346e+02, -1.0000e-03])"),
    ("torch.tensor([-0.0, 1.0])", "tensor([-0., 1.])"),
    (
        "torch.tensor([[1.0, -2.5], [3.25, 4.0]])",
        "tensor([[ 1.0000, -2.5000],\n        [ 3.2500,  4.0000]])",
    ),
    (
        "torch.tensor([[1.0, 2.0], [3.0, 40.0]])",
        "tensor([[ 1.,  2.],\n        [ 3., 40.]])",
    ),
    (
        "torch.arange(24.0).reshape(2, 3, 4) - 12.5",
        (
            "tensor([[[-12.5000, -11.5000, -10.5000,  -9.5000],\n"
            "         [ -8.5000,  -7.5000,  -6.5000,  -5.5000],\n"
            "         [ -4.5000,  -3.5000,  -2.5000,  -1.5000]],\n"
            "\n"
            "        [[ -0.5000,   0.5000,   1.5000,   2.5000],\n"
            "         [  3.5000,   4.5000,   5.5000,   6.5000],\n"
            "         [  7.5000,   8.5000,   9.5000,  10.5000]]])"
        ),
    ),
    (
        "torch.arange(16.0).reshape(2, 2, 2, 2)",
        (
            "tensor([[[[ 0.,  1.],\n"
            "          [ 2.,  3.]],\n"
            "\n"
            "         [[ 4.,  5.],\n"
            "          [ 6.,  7.]]],\n"
            "\n"
            "\n"
            "        [[[ 8.,  9.],\n"
            "          [10., 11.]],\n"
            "\n"
            "         [[12., 13.],\n"
            "          [14., 15.]]]])"
        ),
    ),
    ("torch.tensor([1e-5, 1.0, 1000.0])", "tensor([1.0000e-05, 1.0000e+00, 1.0000e+03])"),
    ("torch.tensor([0.0001, 1.0])", "tensor([1.0000e-04, 1.0000e+00])"),
    ("torch.tensor([1.0, 1000.0])", "tensor([   1., 1000.])"),
    ("torch.tensor([1.0, 1001.0])", "tensor([1.0000e+00, 1.0010e+03])"),
    ("torch.tensor([100000000.0, 1.0])", "tensor([1.0000e+08, 1.0000e+00])"),
    (
        "torch.tensor([[1e-5, 2.0], [3.0, 4e6]])",
        "tensor([[1.0000e-05, 2.0000e+00],\n        [3.0000e+00, 4.0000e+06]])",
    ),
    ("torch.tensor(1e-7)", "tensor(1.0000e-07)"),
    (
        "torch.tensor([float('nan'), float('inf'), -float('inf'), 1.0])",
        "tensor([nan, inf, -inf, 1.])",
    ),
    ("torch.tensor([float('nan'), 1e-5, 1.0])", "tensor([       nan, 1.0000e-05, 1.0000e+00])"),
    ("torch.tensor([1, -20, 300])", "tensor([  1, -20, 300])"),
    (
        "torch.tensor([[1, 2], [30, -4]])",
        "tensor([[ 1,  2],\n        [30, -4]])",
    ),
    (
        "torch.arange(12).reshape(3, 4) * 1000000",
        (
            "tensor([[       0,  1000000,  2000000,  3000000],\n"
            "        [ 4000000,  5000000,  6000000,  7000000],\n"
            "        [ 8000000,  9000000, 10000000, 11000000]])"
        ),
    ),
    ("torch.tensor([True, False, True])", "tensor([ True, False,  True])"),
    ("torch.tensor([1, 2], dtype=torch.int32)", "tensor([1, 2], dtype=dualgrad.int32)"),
    ("torch.tensor([])", "tensor([])"),
    ("torch.zeros(0, 3)", "tensor([], size=(0, 3))"),
    ("torch.zeros(2, 0, 1)", "tensor([], size=(2, 0, 1))"),
    ("torch.tensor([], dtype=torch.int64)", "tensor([], dtype=dualgrad.int64)"),
    ("torch.zeros(0, dtype=torch.float64)", "tensor([], dtype=dualgrad.float64)"),
    (
        "torch.arange(2000.0)",
        (
            "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
            "        1.9990e+03])"
        ),
    ),
    ("torch.arange(2000)", "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
    (
        "torch.arange(1200.0).reshape(40, 30)",
        (
            "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 2.7000e+01, 2.8000e+01,\n"
            "         2.9000e+01],\n"
            "        [3.0000e+01, 3.1000e+01, 3.2000e+01,  ..., 5.7000e+01, 5.8000e+01,\n"
            "         5.9000e+01],\n"
            "        [6.0000e+01, 6.1000e+01, 6.2000e+01,  ..., 8.7000e+01, 8.8000e+01,\n"
            "         8.9000e+01],\n"
            "        ...,\n"
            "        [1.1100e+03, 1.1110e+03, 1.1120e+03,  ..., 1.1370e+03, 1.1380e+03,\n"
            "         1.1390e+03],\n"
            "        [1.1400e+03, 1.1410e+03, 1.1420e+03,  ..., 1.1670e+03, 1.1680e+03,\n"
            "         1.1690e+03],\n"
            "        [1.1700e+03, 1.1710e+03, 1.1720e+03,  ..., 1.1970e+03, 1.1980e+03,\n"
            "         1.1990e+03]])"
        ),
    ),
    (
        "torch.arange(1200.0).reshape(2, 20, 30)",
        (
            "tensor([[[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 2.7000e+01,\n"
            "          2.8000e+01, 2.9000e+01],\n"
            "         [3.0000e+01, 3.1000e+01, 3.2000e+01,  ..., 5.7000e+01,\n"
            "          5.8000e+01, 5.9000e+01],\n"
            "         [6.0000e+01, 6.1000e+01, 6.2000e+01,  ..., 8.7000e+01,\n"
            "          8.8000e+01, 8.9000e+01],\n"
            "         ...,\n"
            "         [5.1000e+02, 5.1100e+02, 5.1200e+02,  ..., 5.3700e+02,\n"
            "          5.3800e+02, 5.3900e+02],\n"
            "         [5.4000e+02, 5.4100e+02, 5.4200e+02,  ..., 5.6700e+02,\n"
            "          5.6800e+02, 5.6900e+02],\n"
            "         [5.7000e+02, 5.7100e+02, 5.7200e+02,  ..., 5.9700e+02,\n"
            "          5.9800e+02, 5.9900e+02]],\n"
            "\n"
            "        [[6.0000e+02, 6.0100e+02, 6.0200e+02,  ..., 6.2700e+02,\n"
            "          6.2800e+02, 6.2900e+02],\n"
            "         [6.3000e+02, 6.3100e+02, 6.3200e+02,  ..., 6.5700e+02,\n"
            "          6.5800e+02, 6.5900e+02],\n"
            "         [6.6000e+02, 6.6100e+02, 6.6200e+02,  ..., 6.8700e+02,\n"
            "          6.8800e+02, 6.8900e+02],\n"
            "         ...,\n"
            "         [1.1100e+03, 1.1110e+03, 1.1120e+03,  ..., 1.1370e+03,\n"
            "          1.1380e+03, 1.1390e+03],\n"
            "         [1.1400e+03, 1.1410e+03, 1.1420e+03,  ..., 1.1670e+03,\n"
            "          1.1680e+03, 1.1690e+03],\n"
            "         [1.1700e+03, 1.1710e+03, 1.1720e+03,  ..., 1.1970e+03,\n"
            "          1.1980e+03, 1.1990e+03]]])"
        ),
    ),
    (
        "torch.arange(1001.0) / 3",
        (
            "tensor([0.0000e+00, 3.3333e-01, 6.6667e-01,  ..., 3.3267e+02, 3.3300e+02,\n"
            "        3.3333e+02])"
        ),
    ),
    (
        "torch.arange(1000.0)",
        (
            "tensor([  0.,   1.,   2.,   3.,   4.,   5.,   6.,   7.,   8.,   9.,  10.,  11.,\n"
            "         12.,  13.,  14.,  15.,  16.,  17.,  18.,  19.,  20.,  21.,  22.,  23.,\n"
            "         24.,  25.,  26.,  27.,  28.,  29.,  30.,  31.,  32.,  33.,  34.,  35.,\n"
            "         36.,  37.,  38.,  39.,  40.,  41.,  42.,  43.,  44.,  45.,  46.,  47.,\n"
            "         48.,  49.,  50.,  51.,  52.,  53.,  54.,  55.,  56.,  57.,  58.,  59.,\n"
            "         60.,  61.,  62.,  63.,  64.,  65.,  66.,  67.,  68.,  69.,  70.,  71.,\n"
            "         72.,  73.,  74.,  75.,  76.,  77.,  78.,  79.,  80.,  81.,  82.,  83.,\n"
            "         84.,  85.,  86.,  87.,  88.,  89.,  90.,  91.,  92.,  93.,  94.,  95.,\n"
            "         96.,  97.,  98.,  99., 100., 101., 102., 103., 104., 105., 106., 107.,\n"
            "        108., 109., 110., 111., 112., 113., 114., 115., 116., 117., 118., 119.,\n"
            "        120., 121., 122., 123., 124., 125., 126., 127., 128., 129., 130., 131.,\n"
            "        132., 133., 134., 135., 136., 137., 138., 139., 140., 141., 142., 143.,\n"
            "        144., 145., 146., 147., 148., 149., 150., 151., 152., 153., 154., 155.,\n"
            "        156., 157., 158., 159., 160., 161., 162., 163., 164., 165., 166., 167.,\n"
            "        168., 169., 170., 171., 172., 173., 174., 175., 176., 177., 178., 179.,\n"
            "        180., 181., 182., 183., 184., 185., 186., 187., 188., 189., 190., 191.,\n"
            "        192., 193., 194., 195., 196., 197., 198., 199., 200., 201., 202., 203.,\n"
            "        204., 205., 206., 207., 208., 209., 210., 211., 212., 213., 214., 215.,\n"
            "        216., 217., 218., 219., 220., 221., 222., 223., 224., 225., 226., 227.,\n"
            "        228., 229., 230., 231., 232., 233., 234., 235., 236., 237., 238., 239.,\n"
            "        240., 241., 242., 243., 244., 245., 246., 247., 248., 249., 250., 251.,\n"
            "        252., 253., 254., 255., 256., 257., 258., 259., 260., 261., 262., 263.,\n"
            "        264., 265., 266., 267., 268., 269., 270., 271., 272., 273., 274., 275.,\n"
            "        276., 277., 278., 279., 280., 281., 282., 283., 284., 285., 286., 287.,\n"
            "        288., 289., 290., 291., 292., 293., 294., 295., 296., 297., 298., 299.,\n"
            "        300., 301., 302., 303., 304., 305., 306., 307., 308., 309., 310., 311.,\n"
            "        312., 313., 314., 315., 316., 317., 318., 319., 320., 321., 322., 323.,\n"
            "        324., 325., 326., 327., 328., 329., 330., 331., 332., 333., 334., 335.,\n"
            "        336., 337., 338., 339., 340., 341., 342., 343., 344., 345., 346., 347.,\n"
            "        348., 349., 350., 351., 352., 353., 354., 355., 356., 357., 358., 359.,\n"
            "        360., 361., 362., 363., 364., 365., 366., 367., 368., 369., 370., 371.,\n"
            "        372., 373., 374., 375., 376., 377., 378., 379., 380., 381., 382., 383.,\n"
            "        384., 385., 386., 387., 388., 389., 390., 391., 392., 393., 394., 395.,\n"
            "        396., 397., 398., 399., 400., 401., 402., 403., 404., 405., 406., 407.,\n"
            "        408., 409., 410., 411., 412., 413., 414., 415., 416., 417., 418., 419.,\n"
            "        420., 421., 422., 423., 424., 425., 426., 427., 428., 429., 430., 431.,\n"
            "        432., 433., 434., 435., 436., 437., 438., 439., 440., 441., 442., 443.,\n"
            "        444., 445., 446., 447., 448., 449., 450., 451., 452., 453., 454., 455.,\n"
            "        456., 457., 458., 459., 460., 461., 462., 463., 464., 465., 466., 467.,\n"
            "        468., 469., 470., 471., 472., 473., 474., 475., 476., 477., 478., 479.,\n"
            "        480., 481., 482., 483., 484., 485., 486., 487., 488., 489., 490., 491.,\n"
            "        492., 493., 494., 495., 496., 497., 498., 499., 500., 501., 502., 503.,\n"
            "        504., 505., 506., 507., 508., 509., 510., 511., 512., 513., 514., 515.,\n"
            "        516., 517., 518., 519., 520., 521., 522., 523., 524., 525., 526., 527.,\n"
            "        528., 529., 530., 531., 532., 533., 534., 535., 536., 537., 538., 539.,\n"
            "        540., 541., 542., 543., 544., 545., 546., 547., 548., 549., 550., 551.,\n"
            "        552., 553., 554., 555., 556., 557., 558., 559., 560., 561., 562., 563.,\n"
            "        564., 565., 566., 567., 568., 569., 570., 571., 572., 573., 574., 575.,\n"
            "        576., 577., 578., 579., 580., 581., 582., 583., 584., 585., 586., 587.,\n"
            "        588., 589., 590., 591., 592., 593., 594., 595., 596., 597., 598., 599.,\n"
            "        600., 601., 602., 603., 604., 605., 606., 607., 608., 609., 610., 611.,\n"
            "        612., 613., 614., 615., 616., 617., 618., 619., 620., 621., 622., 623.,\n"
            "        624., 625., 626., 627., 628., 629., 630., 631., 632., 633., 634., 635.,\n"
            "        636., 637., 638., 639., 640., 641., 642., 643., 644., 645., 646., 647.,\n"
            "        648., 649., 650., 651., 652., 653., 654., 655., 656., 657., 658., 659.,\n"
            "        660., 661., 662., 663., 664., 665., 666., 667., 668., 669., 670., 671.,\n"
            "        672., 673., 674., 675., 676., 677., 678., 679., 680., 681., 682., 683.,\n"
            "        684., 685., 686., 687., 688., 689., 690., 691., 692., 693., 694., 695.,\n"
            "        696., 697., 698., 699., 700., 701., 702., 703., 704., 705., 706., 707.,\n"
            "        708., 709., 710., 711., 712., 713., 714., 715., 716., 717., 718., 719.,\n"
            "        720., 721., 722., 723., 724., 725., 726., 727., 728., 729., 730., 731.,\n"
            "        732., 733., 734., 735., 736., 737., 738., 739., 740., 741., 742., 743.,\n"
            "        744., 745., 746., 747., 748., 749., 750., 751., 752., 753., 754., 755.,\n"
            "        756., 757., 758., 759., 760., 761., 762., 763., 764., 765., 766., 767.,\n"
            "        768., 769., 770., 771., 772., 773., 774., 775., 776., 777., 778., 779.,\n"
            "        780., 781., 782., 783., 784., 785., 786., 787., 788., 789., 790., 791.,\n"
            "        792., 793., 794., 795., 796., 797., 798., 799., 800., 801., 802., 803.,\n"
            "        804., 805., 806., 807., 808., 809., 810., 811., 812., 813., 814., 815.,\n"
            "        816., 817., 818., 819., 820., 821., 822., 823., 824., 825., 826., 827.,\n"
            "        828., 829., 830., 831., 832., 833., 834., 835., 836., 837., 838., 839.,\n"
            "        840., 841., 842., 843., 844., 845., 846., 847., 848., 849., 850., 851.,\n"
            "        852., 853., 854., 855., 856., 857., 858., 859., 860., 861., 862., 863.,\n"
            "        864., 865., 866., 867., 868., 869., 870., 871., 872., 873., 874., 875.,\n"
            "        876., 877., 878., 879., 880., 881., 882., 883., 884., 885., 886., 887.,\n"
            "        888., 889., 890., 891., 892., 893., 894., 895., 896., 897., 898., 899.,\n"
            "        900., 901., 902., 903., 904., 905., 906., 907., 908., 909., 910., 911.,\n"
            "        912., 913., 914., 915., 916., 917., 918., 919., 920., 921., 922., 923.,\n"
            "        924., 925., 926., 927., 928., 929., 930., 931., 932., 933., 934., 935.,\n"
            "        936., 937., 938., 939., 940., 941., 942., 943., 944., 945., 946., 947.,\n"
            "        948., 949., 950., 951., 952., 953., 954., 955., 956., 957., 958., 959.,\n"
            "        960., 961., 962., 963., 964., 965., 966., 967., 968., 969., 970., 971.,\n"
            "        972., 973., 974., 975., 976., 977., 978., 979., 980., 981., 982., 983.,\n"
            "        984., 985., 986., 987., 988., 989., 990., 991., 992., 993., 994., 995.,\n"
            "        996., 997., 998., 999.])"
        ),
    ),
    (
        "torch.arange(30.0) * 1.5",
        (
            "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
            "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,\n"
            "        24.0000, 25.5000, 27.0000, 28.5000, 30.0000, 31.5000, 33.0000, 34.5000,\n"
            "        36.0000, 37.5000, 39.0000, 40.5000, 42.0000, 43.5000])"
        ),
    ),
    (
        "torch.arange(40)",
        (
            "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n"
            "        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,\n"
            "        36, 37, 38, 39])"
        ),
    ),
    (
        "torch.arange(30.0).reshape(2, 15) * 1.25",
        (
            "tensor([[ 0.0000,  1.2500,  2.5000,  3.7500,  5.0000,  6.2500,  7.5000,  8.7500,\n"
            "         10.0000, 11.2500, 12.5000, 13.7500, 15.0000, 16.2500, 17.5000],\n"
            "        [18.7500, 20.0000, 21.2500, 22.5000, 23.7500, 25.0000, 26.2500, 27.5000,\n"
            "         28.7500, 30.0000, 31.2500, 32.5000, 33.7500, 35.0000, 36.2500]])"
        ),
    ),
    (
        "torch.arange(18.0, requires_grad=True) * 1.5",
        (
            "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
            "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,\n"
            "        24.0000, 25.5000], grad_fn=<MulBackward0>)"
        ),
    ),
    (
        "torch.tensor([1.5, 2.0], dtype=torch.float64)",
        "tensor([1.5000, 2.0000], dtype=dualgrad.float64)",
    ),
    (
        "torch.tensor(2.0, dtype=torch.float64, requires_grad=True)",
        "tensor(2., dtype=dualgrad.float64, requires_grad=True)",
    ),
    (
        "torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True) * 3",
        "tensor([3., 6.], dtype=dualgrad.float64, grad_fn=<MulBackward0>)",
    ),
    (
        "torch.arange(15.0, dtype=torch.float64, requires_grad=True) / 7",
        (
            "tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,\n"
            "        1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000], dtype=dualgrad.float64,\n"
            "       grad_fn=<DivBackward0>)"
        ),
    ),
    (
        "torch.arange(20.0, dtype=torch.float64) * 1e9",
        (
            "tensor([0.0000e+00, 1.0000e+09, 2.0000e+09, 3.0000e+09, 4.0000e+09, 5.0000e+09,\n"
            "        6.0000e+09, 7.0000e+09, 8.0000e+09, 9.0000e+09, 1.0000e+10, 1.1000e+10,\n"
            "        1.2000e+10, 1.3000e+10, 1.4000e+10, 1.5000e+10, 1.6000e+10, 1.7000e+10,\n"
            "        1.8000e+10, 1.9000e+10], dtype=dualgrad.float64)"
        ),
    ),
    (
        "torch.tensor([1.0, 2.0], dtype=torch.float16)",
        "tensor([1., 2.], dtype=dualgrad.float16)",
    ),
]


@pytest.mark.parametrize(("expression", "expected"), REPR_CASES, ids=[c[0] for c in REPR_CASES])
def test_repr_prints_what_pytorch_prints(expression, expected):
    assert repr(eval(expression, {"torch": dualgrad})) == expected


@pytest.mark.parametrize(("expression", "expected"), REPR_CASES, ids=[c[0] for c in REPR_CASES])
def test_repr_matches_live_pytorch(expression, expected):
    if importlib.util.find_spec("torch") is None:
        pytest.skip(TORCH_MISSING)
    import torch

    printed_by_torch = repr(eval(expression, {"torch": torch}))
    assert printed_by_torch.replace("dtype=torch.", "dtype=dualgrad.") == expected
    assert repr(eval(expression, {"torch": dualgrad})) == expected


def test_repr_with_float64_default_shows_float32_suffix():
    previous = dualgrad.get_default_dtype()
    try:
        dualgrad.set_default_dtype(dualgrad.float64)
        assert repr(dualgrad.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
        assert (
            repr(dualgrad.tensor([1.5, 2.0], dtype=dualgrad.float32))
            == "tensor([1.5000, 2.0000], dtype=dualgrad.float32)"
        )
    finally:
        dualgrad.set_default_dtype(previous)


def test_repr_is_the_same_on_every_backend(backend):
    t = dualgrad.tensor([[1.0, -2.5], [3.25, 4.0]], requires_grad=True)
    assert (
        repr(t) == "tensor([[ 1.0000, -2.5000],\n        [ 3.2500,  4.0000]], requires_grad=True)"
    )


def test_str_equals_repr(backend):
    t = dualgrad.tensor([1.0, 2.0])
    assert str(t) == repr(t) == "tensor([1., 2.])"
