"""The elementwise family's public functions: composites, dtypes, stability at extremes."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from rule_checks import make_tensor

import dualgrad
from dualgrad.testing import check_modes, gradcheck

# Each new differentiable function, with inputs drawn inside its domain.
UNARY: dict[str, tuple[float, float]] = {
    "tan": (-1.2, 1.2),
    "asin": (-0.9, 0.9),
    "acos": (-0.9, 0.9),
    "atan": (-3.0, 3.0),
    "sinh": (-2.0, 2.0),
    "cosh": (-2.0, 2.0),
    "asinh": (-3.0, 3.0),
    "acosh": (1.1, 4.0),
    "atanh": (-0.9, 0.9),
    "expm1": (-2.0, 2.0),
    "log1p": (-0.75, 3.0),
    "log2": (0.25, 4.0),
    "log10": (0.25, 4.0),
    "sigmoid": (-6.0, 6.0),
    "reciprocal": (0.5, 2.0),
}
BINARY = ("atan2", "hypot", "logaddexp", "copysign")


def _draw(backend: Any, low: float, high: float, dtype: str = "float64", **kw: Any) -> Any:
    values = np.random.default_rng(0).uniform(low, high, (3, 4))
    return make_tensor(backend, values, dtype, **kw)


# --- reciprocal, the one composite -------------------------------------------------------------
def test_reciprocal_gradients_match_finite_differences(backend: Any) -> None:
    signs = make_tensor(backend, [1.0, -1.0, 1.0, -1.0])
    x = (_draw(backend, 0.5, 2.0) * signs).requires_grad_()
    assert gradcheck(dualgrad.reciprocal, (x,))


def test_reciprocal_modes_agree(backend: Any) -> None:
    check_modes(dualgrad.reciprocal, _draw(backend, 0.5, 2.0))


def test_reciprocal_matches_numpy(backend: Any) -> None:
    x = _draw(backend, 0.5, 2.0)
    np.testing.assert_allclose(dualgrad.reciprocal(x).numpy(), 1.0 / x.numpy(), rtol=1e-15)


# --- dtypes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", BINARY)
def test_python_scalar_keeps_float32(name: str, backend: Any) -> None:
    function = getattr(dualgrad, name)
    x = _draw(backend, 0.5, 2.0, "float32", requires_grad=True)
    out = function(x, 2.5) + function(2.5, x)
    out.sum().backward()
    assert (out.dtype, x.grad.dtype) == (dualgrad.float32, dualgrad.float32)


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradient_and_tangent_stay_float32(name: str, backend: Any) -> None:
    function = getattr(dualgrad, name)
    x = _draw(backend, *UNARY[name], "float32", requires_grad=True)
    out = function(x)
    out.sum().backward()
    with dualgrad.forward_ad.dual_level():
        dual = dualgrad.forward_ad.make_dual(x.detach(), dualgrad.ones_like(x))
        tangent = dualgrad.forward_ad.unpack_dual(function(dual)).tangent
    assert (out.dtype, x.grad.dtype, tangent.dtype) == (dualgrad.float32,) * 3
    assert np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("name", BINARY)
def test_binary_gradients_stay_float32(name: str, backend: Any) -> None:
    x1 = _draw(backend, 0.5, 2.0, "float32", requires_grad=True)
    x2 = make_tensor(backend, [-1.5, 0.5, 1.0, -0.75], "float32", requires_grad=True)
    getattr(dualgrad, name)(x1, x2).sum().backward()
    assert (x1.grad.dtype, x2.grad.dtype) == (dualgrad.float32, dualgrad.float32)
    assert (x1.grad.shape, x2.grad.shape) == ((3, 4), (4,))


@pytest.mark.parametrize("name", [*UNARY, *BINARY])
def test_integers_compute_in_the_default_float_dtype(name: str, backend: Any) -> None:
    low, high = UNARY.get(name, (1.0, 2.0))
    x = make_tensor(backend, [round((low + high) / 2)] * 3, "int64")
    out = getattr(dualgrad, name)(x) if name in UNARY else getattr(dualgrad, name)(x, x)
    assert out.dtype == dualgrad.get_default_dtype()


def test_integer_tensor_with_float32_tensor_gives_float32(backend: Any) -> None:
    x = make_tensor(backend, [1, 2, 3], "int64")
    y = make_tensor(backend, [0.5, 1.0, 2.0], "float32")
    assert dualgrad.atan2(x, y).dtype == dualgrad.float32


def test_comparisons_of_ints_and_bools_carry_no_gradient(backend: Any) -> None:
    x = make_tensor(backend, [0.5, -1.0, 2.0], requires_grad=True)
    ints = make_tensor(backend, [1, -1, 2], "int64")
    bools = make_tensor(backend, [True, False, True], "bool")
    results = [
        x < ints,
        dualgrad.equal(ints, 2),
        dualgrad.logical_and(bools, x > 0),
        dualgrad.signbit(x),
        dualgrad.bitwise_left_shift(ints, 2),
        dualgrad.bitwise_right_shift(ints, 1),
    ]
    assert [(r.requires_grad, r.grad_fn) for r in results] == [(False, None)] * len(results)
    assert dualgrad.signbit(x).tolist() == [False, True, False]


def test_non_tensor_raises_type_error() -> None:
    with pytest.raises(TypeError, match=r"log1p: expected a Tensor, got list"):
        dualgrad.log1p([1.0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"atan2: expected at least one Tensor"):
        dualgrad.atan2(1.0, 2.0)


# --- stability and special points ---------------------------------------------------------------
EXTREMES: dict[str, Callable[[Any], Any]] = {
    "sigmoid": dualgrad.sigmoid,
    "logaddexp": lambda x: dualgrad.logaddexp(x, x * 0.5),
    "logaddexp_equal": lambda x: dualgrad.logaddexp(x, x),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("function", EXTREMES.values(), ids=EXTREMES.keys())
def test_finite_at_plus_minus_1000(
    function: Callable[[Any], Any], dtype: str, backend: Any
) -> None:
    x = make_tensor(backend, [-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype, requires_grad=True)
    out = function(x)
    out.sum().backward()
    assert np.isfinite(out.detach().numpy()).all()
    assert np.isfinite(x.grad.numpy()).all()


def test_sigmoid_values_and_gradients_at_extremes(backend: Any) -> None:
    x = make_tensor(backend, [-1000.0, -50.0, 0.0, 1000.0], requires_grad=True)
    out = dualgrad.sigmoid(x)
    out.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), [0.0, math.exp(-50.0), 0.5, 1.0], rtol=1e-14)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, math.exp(-50.0), 0.25, 0.0], rtol=1e-12)


def test_logaddexp_at_extremes(backend: Any) -> None:
    x = make_tensor(backend, [-1000.0, 1000.0, 1000.0], requires_grad=True)
    y = make_tensor(backend, [-1000.0, 1000.0, -1000.0], requires_grad=True)
    out = dualgrad.logaddexp(x, y)
    out.sum().backward()
    expected = [-1000.0 + math.log(2.0), 1000.0 + math.log(2.0), 1000.0]
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5, 1.0])
    np.testing.assert_allclose(y.grad.numpy(), [0.5, 0.5, 0.0])


def test_copysign_gradient_is_the_sign_flip(backend: Any) -> None:
    x = make_tensor(backend, [2.0, -2.0, 0.0, 3.0], requires_grad=True)
    y = make_tensor(backend, [-1.0, -1.0, -0.0, 1.0], requires_grad=True)
    dualgrad.copysign(x, y).sum().backward()
    assert x.grad.tolist() == [-1.0, 1.0, -1.0, 1.0]
    assert y.grad.tolist() == [0.0] * 4


def test_hypot_gradient_at_the_origin_is_zero(backend: Any) -> None:
    x = make_tensor(backend, [0.0, 3.0], requires_grad=True)
    y = make_tensor(backend, [0.0, 4.0], requires_grad=True)
    dualgrad.hypot(x, y).sum().backward()
    assert (x.grad.tolist(), y.grad.tolist()) == ([0.0, 0.6], [0.0, 0.8])


def test_hypot_and_asinh_gradients_do_not_overflow(backend: Any) -> None:
    x = make_tensor(backend, [1e200, -1e200], requires_grad=True)
    (dualgrad.hypot(x, x) + dualgrad.asinh(x)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2**0.5, -(2**0.5)], rtol=1e-15)
