"""The reduce family's public functions: prod, var, std, logsumexp, cumulative sums and
products, argmax and argmin. Their rules are also checked through ``tests/op_db_reduce.py``;
here: zeros, extreme values, the composites (var, std), options and errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rule_checks import make_tensor
from tensors import assert_close

import dualgrad
from dualgrad.autograd import grad
from dualgrad.testing import check_modes, gradcheck

RNG = np.random.default_rng(0)
X = RNG.uniform(-2.0, 2.0, (3, 4))
WITH_ONE_ZERO = np.array([[1.5, 0.0, -2.0, 0.5], [0.7, -1.2, 1.1, 2.0]])
WITH_TWO_ZEROS = np.array([[1.5, 0.0, -2.0, 0.0, 0.5], [0.0, 0.0, 1.1, 2.0, -0.3]])


def _leaf(backend: Any, values: Any) -> dualgrad.Tensor:
    return make_tensor(backend, values, requires_grad=True)


# --- var, std -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize(
    ("axis", "correction", "keepdims"),
    [(None, 0, False), (1, 1, False), ((0, 1), 1, True), (0, 2.5, False)],
)
def test_var_and_std_match_numpy_with_ddof(
    backend: Any, name: str, axis: Any, correction: float, keepdims: bool
) -> None:
    ours = getattr(dualgrad, name)(
        make_tensor(backend, X), axis=axis, correction=correction, keepdims=keepdims
    )
    expected = getattr(np, name)(X, axis=axis, ddof=correction, keepdims=keepdims)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_gradients(backend: Any, name: str) -> None:
    function = getattr(dualgrad, name)
    for kwargs in ({"axis": 1, "correction": 1}, {"axis": None}, {"axis": 0, "keepdims": True}):
        assert gradcheck(lambda x, kwargs=kwargs: function(x, **kwargs), (_leaf(backend, X),))
        check_modes(lambda x, kwargs=kwargs: function(x, **kwargs), _leaf(backend, X))


def test_var_rejects_integer_tensors_and_negative_correction(backend: Any) -> None:
    with pytest.raises(TypeError, match="floating point"):
        dualgrad.var(make_tensor(backend, [1, 2], "int64"))
    with pytest.raises(ValueError, match="correction must be non-negative, got -1"):
        dualgrad.var(make_tensor(backend, X), correction=-1)


# --- prod ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("values", [WITH_ONE_ZERO, WITH_TWO_ZEROS], ids=["one-zero", "two-zeros"])
@pytest.mark.parametrize("axis", [None, 1, 0, (0, 1)])
def test_prod_gradient_with_zeros_matches_finite_differences(
    backend: Any, values: np.ndarray, axis: Any
) -> None:
    assert gradcheck(lambda x: dualgrad.prod(x, axis=axis), (_leaf(backend, values),))
    check_modes(lambda x: dualgrad.prod(x, axis=axis), _leaf(backend, values))


def test_prod_gradient_with_one_zero_is_the_product_of_the_others(backend: Any) -> None:
    x = _leaf(backend, [2.0, 0.0, 3.0, 4.0])
    dualgrad.prod(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 24.0, 0.0, 0.0])


def _differentiable(x: dualgrad.Tensor) -> dualgrad.Tensor:
    """``x`` itself, or a leaf copy that requires grad (gradcheck's perturbed inputs do not)."""
    return x if x.requires_grad else x.detach().requires_grad_(True)


def test_prod_second_order_with_zeros_matches_finite_differences(backend: Any) -> None:
    def gradient(x: dualgrad.Tensor) -> dualgrad.Tensor:
        with dualgrad.enable_grad():
            x = _differentiable(x)
            out = dualgrad.prod(x, axis=1)
            (first,) = grad(out, [x], grad_outputs=dualgrad.ones_like(out), create_graph=True)
        return first

    for values in (WITH_ONE_ZERO, WITH_TWO_ZEROS):
        assert gradcheck(gradient, (_leaf(backend, values),))


def test_prod_widens_integers_and_takes_a_dtype(backend: Any) -> None:
    x = make_tensor(backend, [[1, 2], [3, 4]], "int32")
    assert dualgrad.prod(x).dtype == dualgrad.int64
    assert int(dualgrad.prod(x).numpy()) == 24
    assert dualgrad.prod(x, axis=0, dtype=dualgrad.float64).dtype == dualgrad.float64


# --- cumulative_sum, cumulative_prod -------------------------------------------------------------
@pytest.mark.parametrize("values", [WITH_ONE_ZERO, WITH_TWO_ZEROS], ids=["one-zero", "two-zeros"])
@pytest.mark.parametrize("axis", [1, 0])
def test_cumulative_prod_gradient_with_zeros_matches_finite_differences(
    backend: Any, values: np.ndarray, axis: int
) -> None:
    assert gradcheck(lambda x: dualgrad.cumulative_prod(x, axis=axis), (_leaf(backend, values),))
    check_modes(lambda x: dualgrad.cumulative_prod(x, axis=axis), _leaf(backend, values))


def test_cumulative_prod_second_order_with_one_zero_matches_finite_differences(
    backend: Any,
) -> None:
    weights = make_tensor(backend, RNG.standard_normal(WITH_ONE_ZERO.shape))

    def gradient(x: dualgrad.Tensor) -> dualgrad.Tensor:
        with dualgrad.enable_grad():
            x = _differentiable(x)
            out = dualgrad.cumulative_prod(x, axis=1)
            (first,) = grad(out, [x], grad_outputs=weights, create_graph=True)
        return first

    assert gradcheck(gradient, (_leaf(backend, WITH_ONE_ZERO),))


@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
def test_cumulative_include_initial_matches_numpy(backend: Any, name: str) -> None:
    function = getattr(dualgrad, name)
    for axis in (0, 1, -1):
        ours = function(make_tensor(backend, X), axis=axis, include_initial=True)
        expected = getattr(np, name)(X, axis=axis, include_initial=True)
        np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12)
        assert gradcheck(
            lambda x, axis=axis: function(x, axis=axis, include_initial=True),
            (_leaf(backend, X),),
        )


@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
def test_cumulative_dtypes(backend: Any, name: str) -> None:
    function = getattr(dualgrad, name)
    assert function(make_tensor(backend, [True, True, False], "bool")).dtype == dualgrad.int64
    assert function(make_tensor(backend, [1, 2, 3], "int32")).dtype == dualgrad.int64
    ints = function(make_tensor(backend, [1, 2, 3], "int64"), dtype=dualgrad.float32)
    assert ints.dtype == dualgrad.float32


@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
def test_cumulative_needs_an_axis_beyond_one_dimension(backend: Any, name: str) -> None:
    function = getattr(dualgrad, name)
    with pytest.raises(ValueError, match=r"axis is required for a tensor of shape \(3, 4\)"):
        function(make_tensor(backend, X))
    with pytest.raises(ValueError, match="0-d"):
        function(make_tensor(backend, 1.0))


# --- logsumexp ----------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_logsumexp_is_finite_at_large_magnitudes(backend: Any, scale: float) -> None:
    values = scale * np.array([[1.0, 1.0, 0.999], [1.0, 0.5, 0.0]])
    x = _leaf(backend, values)
    out = dualgrad.logsumexp(x, axis=1)
    shift = values.max(axis=1)
    expected = shift + np.log(np.exp(values - shift[:, None]).sum(axis=1))
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-14)
    out.sum().backward()
    softmax = np.exp(values - expected[:, None])
    assert np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_allclose(x.grad.numpy(), softmax, rtol=1e-12, atol=1e-300)


def test_logsumexp_of_infinities_and_of_nothing(backend: Any) -> None:
    x = make_tensor(backend, [[-np.inf, -np.inf], [np.inf, 1.0]])
    np.testing.assert_array_equal(dualgrad.logsumexp(x, axis=1).numpy(), [-np.inf, np.inf])
    empty = make_tensor(backend, np.zeros((2, 0)))
    np.testing.assert_array_equal(dualgrad.logsumexp(empty, axis=1).numpy(), [-np.inf, -np.inf])


# --- argmax, argmin -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize(
    ("axis", "keepdims"), [(None, False), (None, True), (0, False), (-1, True)]
)
def test_arg_extremes_are_int64_without_gradients(
    backend: Any, name: str, axis: Any, keepdims: bool
) -> None:
    x = _leaf(backend, X)
    out = getattr(dualgrad, name)(x, axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(X, axis=axis, keepdims=keepdims)
    assert out.dtype == dualgrad.int64
    assert (out.requires_grad, out.grad_fn) == (False, None)
    np.testing.assert_array_equal(out.numpy(), expected, strict=True)


def test_argmax_takes_the_first_of_ties(backend: Any) -> None:
    x = make_tensor(backend, [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    np.testing.assert_array_equal(dualgrad.argmax(x, axis=1).numpy(), [1, 0])
    np.testing.assert_array_equal(dualgrad.argmin(x, axis=1).numpy(), [0, 2])


def test_max_of_an_empty_stack_of_rows_is_empty(backend: Any, mode: Any) -> None:
    rows = make_tensor(backend, np.zeros((0, 3)))
    rows.requires_grad_()
    for extreme in (dualgrad.max, dualgrad.min):
        out = extreme(rows, axis=-1)
        assert tuple(out.shape) == (0,)
        out.sum().backward()
        assert tuple(rows.grad.shape) == (0, 3)
        with pytest.raises(ValueError, match="no elements"):
            extreme(rows, axis=0)  # nothing to choose from in each column
    stack = make_tensor(backend, np.zeros((0, 2, 3)))
    assert tuple(dualgrad.linalg.matrix_norm(stack, ord=-float("inf")).shape) == (0,)


def test_max_norms_of_an_empty_matrix_are_zero_as_in_numpy(backend: Any) -> None:
    for shape in ((0, 0), (2, 0), (0, 3)):
        empty = make_tensor(backend, np.zeros(shape))
        for ord in (1, 2, float("inf"), "fro", "nuc"):
            assert_close(dualgrad.linalg.matrix_norm(empty, ord=ord), 0.0, what=f"{shape} {ord}")


def test_argmax_of_nothing_raises(backend: Any) -> None:
    with pytest.raises(ValueError, match="no elements"):
        dualgrad.argmax(make_tensor(backend, np.zeros((2, 0))), axis=1)
    with pytest.raises(ValueError, match="no elements"):
        dualgrad.argmin(make_tensor(backend, np.zeros((0,))))
    with pytest.raises(TypeError, match="axis must be an int or None"):
        dualgrad.argmax(make_tensor(backend, X), axis=(0, 1))
