"""Function transforms: grad, value_and_grad, vjp, jvp, jacrev, jacfwd, hessian, hvp.

Jacobians are checked three ways (reverse, forward, central finite differences), Hessians
against analytic values, and, where PyTorch is installed, against ``torch.func``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensors import leaf as _t
from tensors import values

import dualgrad


def _finite_difference_jacobian(f, x, eps=1e-6):
    """d f / d x by central differences: shape ``out.shape + x.shape``."""
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = eps
        step = step.reshape(x.shape)
        columns.append((values(f(_t(x + step))) - values(f(_t(x - step)))) / (2 * eps))
    out_shape = columns[0].shape
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape)


RNG = np.random.default_rng(2024)
X4 = RNG.standard_normal(4)
X5 = RNG.standard_normal(5)
X23 = RNG.standard_normal((2, 3))
X34 = RNG.standard_normal((3, 4))
W34 = RNG.standard_normal((3, 4))
B3 = RNG.standard_normal(3)


# --- grad -------------------------------------------------------------------------------------
def test_grad_of_scalar_function(backend, float64):
    gradient = dualgrad.grad(lambda x: (dualgrad.sin(x) * x).sum())(_t(X4))
    assert np.allclose(values(gradient), np.cos(X4) * X4 + np.sin(X4))


def test_grad_argnums_int_differentiates_that_argument(backend, float64):
    def f(x, y):
        return (x * x * y).sum()

    gradient = dualgrad.grad(f, argnums=1)(_t(X4), _t(X4[::-1].copy()))
    assert np.allclose(values(gradient), X4 * X4)


def test_grad_negative_argnums_counts_from_the_end(backend, float64):
    gradient = dualgrad.grad(lambda x, y: (x * y).sum(), argnums=-1)(_t(X4), _t(X5[:4]))
    assert np.allclose(values(gradient), X4)


def test_grad_argnums_tuple_gives_tuple_of_gradients(backend, float64):
    def f(x, y):
        return (x * x * y).sum()

    y0 = X4[::-1].copy()
    grads = dualgrad.grad(f, argnums=(0, 1))(_t(X4), _t(y0))
    assert isinstance(grads, tuple)
    assert len(grads) == 2
    assert np.allclose(values(grads[0]), 2 * X4 * y0)
    assert np.allclose(values(grads[1]), X4 * X4)


def test_grad_argnums_out_of_range_raises(backend):
    with pytest.raises(ValueError, match="argnums 2 is out of range"):
        dualgrad.grad(lambda x, y: (x * y).sum(), argnums=2)(_t(X4), _t(X4))


def test_grad_has_aux_returns_gradient_and_aux(backend, float64):
    def f(x):
        return (x**2).sum(), {"doubled": x * 2}

    gradient, aux = dualgrad.grad(f, has_aux=True)(_t(X4))
    assert np.allclose(values(gradient), 2 * X4)
    assert np.allclose(values(aux["doubled"]), 2 * X4)


def test_grad_has_aux_without_pair_raises(backend):
    with pytest.raises(TypeError, match="must return a pair"):
        dualgrad.grad(lambda x: (x**2).sum(), has_aux=True)(_t(X4))


def test_grad_of_raw_numpy_arrays_returns_numpy_arrays(float64):
    gradient = dualgrad.grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(X4, 2 * X4)
    assert all(type(g) is np.ndarray for g in gradient)
    assert np.allclose(gradient[0], 2 * X4)
    assert np.allclose(gradient[1], X4)


def test_grad_of_raw_backend_arrays_returns_backend_arrays(backend, float64):
    raw = backend.from_numpy(X4)
    gradient = dualgrad.grad(lambda x: (x**3).sum())(raw)
    assert not isinstance(gradient, dualgrad.Tensor)
    assert type(gradient) is type(raw)
    assert np.allclose(backend.to_numpy(gradient), 3 * X4**2)


def test_grad_of_tensor_returns_tensor_not_requiring_grad(backend, float64):
    gradient = dualgrad.grad(lambda x: (x**2).sum())(_t(X4))
    assert isinstance(gradient, dualgrad.Tensor)
    assert not gradient.requires_grad


def test_grad_of_non_scalar_output_raises(backend):
    with pytest.raises(TypeError, match=r"scalar.*shape \(4,\).*jacrev"):
        dualgrad.grad(lambda x: x**2)(_t(X4))


def test_grad_of_integer_input_raises(backend):
    with pytest.raises(TypeError, match="floating point"):
        dualgrad.grad(lambda x: (x * 1.0).sum())(_t([1, 2], dtype=dualgrad.int64))


def test_grad_leaves_input_grad_untouched(backend, float64):
    x = _t(X4, requires_grad=True)
    dualgrad.grad(lambda x: (x**2).sum())(x)
    assert x.grad is None


def test_grad_is_the_same_under_forward_mode(backend, float64):
    def f(x):
        return (dualgrad.tanh(x) * x).sum()

    expected = values(dualgrad.grad(f)(_t(X4)))
    with dualgrad.use_mode("forward"):
        assert np.allclose(values(dualgrad.grad(f)(_t(X4))), expected)


def test_grad_of_function_ignoring_input_is_zeros(backend, float64):
    gradient = dualgrad.grad(lambda x: dualgrad.ones(()) * 3.0)(_t(X23))
    assert gradient.shape == (2, 3)
    assert np.all(values(gradient) == 0.0)


def test_grad_of_ignored_argument_is_zeros(backend, float64):
    grads = dualgrad.grad(lambda x, y: (y**2).sum(), argnums=(0, 1))(_t(X23), _t(X4))
    assert np.all(values(grads[0]) == 0.0)
    assert grads[0].shape == (2, 3)
    assert np.allclose(values(grads[1]), 2 * X4)


def test_nested_grad_gives_second_derivative(backend, float64):
    def f(x):
        return x**3 * dualgrad.sin(x)

    x0 = 0.7
    second = dualgrad.grad(dualgrad.grad(f))(_t(x0))
    expected = 6 * x0 * np.sin(x0) + 6 * x0**2 * np.cos(x0) - x0**3 * np.sin(x0)
    assert np.isclose(second.item(), expected)


def test_triple_nested_grad_gives_third_derivative(backend, float64):
    third = dualgrad.grad(dualgrad.grad(dualgrad.grad(lambda x: x**5)))(_t(1.5))
    assert np.isclose(third.item(), 60 * 1.5**2)


def test_inner_grad_over_closure_stays_differentiable(backend, float64):
    # d/dx [d/dy (x * y**2) at y = c] = d/dx [2 x c] = 2 c: the inner input c is a constant,
    # but the inner gradient depends on the outer x through the closure
    c = 0.8

    def inner_gradient(x):
        return dualgrad.grad(lambda y: x * y**2)(_t(c))

    assert np.isclose(dualgrad.grad(inner_gradient)(_t(1.3)).item(), 2 * c)


def test_inner_jvp_over_closure_stays_differentiable(backend, float64):
    # d/dx [d/dy (x * y**2) at y = c] by forward over forward
    c = 0.8

    def inner_tangent(x):
        return dualgrad.jvp(lambda y: x * y**2, (_t(c),), (_t(1.0),))[1]

    _, outer = dualgrad.jvp(inner_tangent, (_t(1.3),), (_t(1.0),))
    assert np.isclose(outer.item(), 2 * c)


CLOSURE_TRANSFORMS = {
    "grad": lambda f, x: dualgrad.grad(lambda v: f(v).sum())(x),
    "value_and_grad": lambda f, x: dualgrad.value_and_grad(lambda v: f(v).sum())(x)[1],
    "vjp": lambda f, x: dualgrad.vjp(f, x)[1](dualgrad.ones_like(x))[0],
    "jvp": lambda f, x: dualgrad.jvp(f, (x,), (dualgrad.ones_like(x),))[1],
    "jacrev": lambda f, x: dualgrad.jacrev(f)(x),
    "jacfwd": lambda f, x: dualgrad.jacfwd(f)(x),
    "hessian": lambda f, x: dualgrad.hessian(lambda v: f(v).sum())(x),
    "vmap(grad)": lambda f, x: dualgrad.vmap(dualgrad.grad(lambda v: f(v).sum()))(x[None]),
}


@pytest.mark.parametrize("name", list(CLOSURE_TRANSFORMS))
def test_derivatives_stay_differentiable_in_a_closures_parameters(name, backend, float64):
    # As torch.func: a transform of a function that reads a parameter (a critic's weight in a
    # gradient penalty) gives derivatives that backpropagate into that parameter.
    w = _t([0.5, -1.5, 2.0, 1.0], requires_grad=True)
    transform = CLOSURE_TRANSFORMS[name]
    result = transform(lambda v: w * dualgrad.sin(v) * v, _t(X4))
    assert result.requires_grad
    result.sum().backward()
    # Every result is linear in w, its elements w_i times a function of x (a diagonal for the
    # Jacobians and the Hessian): d/dw_i of their sum is the sum of what w_i multiplies.
    with dualgrad.no_grad():
        ones = dualgrad.ones_like(w)
        at_one = transform(lambda v: ones * dualgrad.sin(v) * v, _t(X4))
    expected = values(at_one).reshape(-1, 4).sum(axis=0)
    assert np.allclose(values(w.grad), expected)
    with dualgrad.no_grad():  # outside the graph, nothing is kept
        assert not transform(lambda v: w * dualgrad.sin(v) * v, _t(X4)).requires_grad


def test_nested_grad_of_vector_function_gives_hessian_diagonal_sum(backend, float64):
    def laplacian_term(x):
        return dualgrad.grad(lambda y: (dualgrad.sin(y) * y).sum())(x).sum()

    gradient = dualgrad.grad(laplacian_term)(_t(X4))
    # d/dx_i of (cos x_i * x_i + sin x_i) = 2 cos x_i - x_i sin x_i
    assert np.allclose(values(gradient), 2 * np.cos(X4) - X4 * np.sin(X4))


def test_grad_of_a_jvp_differentiates_the_tangent(backend, float64):
    # Reverse over forward: the tangent (sin(x) * x)' v depends on x, and its gradient is
    # (2 cos x - x sin x) v.
    v = np.array([0.5, -1.0, 2.0, 0.25])

    def directional(x):
        return dualgrad.jvp(lambda y: (dualgrad.sin(y) * y).sum(), (x,), (_t(v),))[1]

    gradient = dualgrad.grad(directional)(_t(X4))
    assert np.allclose(values(gradient), (2 * np.cos(X4) - X4 * np.sin(X4)) * v)


def test_grad_over_jacfwd_of_jacrev_differentiates_the_hessian(backend, float64):
    # sum of the Hessian of sum(y**3) is sum(6 y): its gradient is 6 everywhere.
    def hessian_sum(x):
        return dualgrad.jacfwd(dualgrad.jacrev(lambda y: (y**3).sum()))(x).sum()

    assert np.allclose(values(dualgrad.grad(hessian_sum)(_t(X4))), 6.0)


# --- value_and_grad ---------------------------------------------------------------------------
def test_value_and_grad_returns_value_and_gradient(backend, float64):
    value, gradient = dualgrad.value_and_grad(lambda x: (x**3).sum())(_t(X4))
    assert np.isclose(value.item(), np.sum(X4**3))
    assert np.allclose(values(gradient), 3 * X4**2)


def test_value_and_grad_has_aux_returns_value_aux_pair(backend, float64):
    (value, aux), gradient = dualgrad.value_and_grad(
        lambda x: ((x**2).sum(), "aux"), has_aux=True
    )(_t(X4))
    assert np.isclose(value.item(), np.sum(X4**2))
    assert aux == "aux"
    assert np.allclose(values(gradient), 2 * X4)


def test_value_and_grad_of_raw_numpy_arrays_returns_numpy(float64):
    value, gradient = dualgrad.value_and_grad(lambda x: (x**2).sum())(X4)
    assert not isinstance(value, dualgrad.Tensor)
    assert np.isclose(float(value), np.sum(X4**2))
    assert type(gradient) is np.ndarray


# --- vjp --------------------------------------------------------------------------------------
def test_vjp_gives_output_and_cotangent(backend, float64):
    w = _t(W34)
    out, vjp_fn = dualgrad.vjp(lambda x: dualgrad.tanh(w @ x), _t(X4))
    u = RNG.standard_normal(3)
    (cotangent,) = vjp_fn(_t(u))
    assert np.allclose(values(out), np.tanh(W34 @ X4))
    assert np.allclose(values(cotangent), W34.T @ (u * (1 - np.tanh(W34 @ X4) ** 2)))


def test_vjp_fn_can_be_called_twice_with_same_result(backend, float64):
    _, vjp_fn = dualgrad.vjp(lambda x: dualgrad.exp(x) * x, _t(X4))
    u = _t(RNG.standard_normal(4))
    (first,) = vjp_fn(u)
    (second,) = vjp_fn(u)
    assert np.allclose(values(first), values(second))
    assert np.allclose(values(first), values(u) * np.exp(X4) * (1 + X4))


def test_vjp_fn_with_different_cotangents_is_linear(backend, float64):
    _, vjp_fn = dualgrad.vjp(lambda x: dualgrad.sin(x) * x, _t(X4))
    u, v = RNG.standard_normal(4), RNG.standard_normal(4)
    (gu,) = vjp_fn(_t(u))
    (gv,) = vjp_fn(_t(v))
    (guv,) = vjp_fn(_t(2 * u - v))
    assert np.allclose(values(guv), 2 * values(gu) - values(gv))


def test_vjp_of_several_primals_gives_one_cotangent_each(backend, float64):
    _, vjp_fn = dualgrad.vjp(lambda x, y: x * y, _t(X4), _t(X5[:4]))
    gx, gy = vjp_fn(_t(np.ones(4)))
    assert np.allclose(values(gx), X5[:4])
    assert np.allclose(values(gy), X4)


def test_vjp_tuple_outputs_take_tuple_cotangents(backend, float64):
    out, vjp_fn = dualgrad.vjp(lambda x: (x**2, dualgrad.sum(x, axis=0)), _t(X23))
    assert isinstance(out, tuple)
    u = RNG.standard_normal((2, 3))
    v = RNG.standard_normal(3)
    (cotangent,) = vjp_fn((_t(u), _t(v)))
    assert np.allclose(values(cotangent), 2 * X23 * u + v[None, :])


def test_vjp_has_aux_returns_aux_third(backend, float64):
    _, vjp_fn, aux = dualgrad.vjp(lambda x: (x * 3, x.shape), _t(X4), has_aux=True)
    assert aux == (4,)
    assert np.allclose(values(vjp_fn(_t(np.ones(4)))[0]), 3.0)


def test_vjp_wrong_cotangent_shape_raises(backend):
    _, vjp_fn = dualgrad.vjp(lambda x: x * 2, _t(X4))
    with pytest.raises(ValueError, match=r"cotangent has shape \(3,\).*output has shape \(4,\)"):
        vjp_fn(_t(np.ones(3)))


def test_vjp_wrong_number_of_cotangents_raises(backend):
    _, vjp_fn = dualgrad.vjp(lambda x: (x * 2, x * 3), _t(X4))
    expected = r"structure PyTreeDef\(\(\*,\)\).*PyTreeDef\(\(\*, \*\)\)"
    with pytest.raises(ValueError, match=expected):
        vjp_fn((_t(np.ones(4)),))


# --- jvp --------------------------------------------------------------------------------------
def test_jvp_gives_output_and_jacobian_vector_product(backend, float64):
    w = _t(W34)
    v = RNG.standard_normal(4)
    out, tangent = dualgrad.jvp(lambda x: dualgrad.tanh(w @ x), (_t(X4),), (_t(v),))
    assert np.allclose(values(out), np.tanh(W34 @ X4))
    assert np.allclose(values(tangent), (1 - np.tanh(W34 @ X4) ** 2) * (W34 @ v))


def test_jvp_of_several_primals_sums_their_contributions(backend, float64):
    tx, ty = RNG.standard_normal(4), RNG.standard_normal(4)
    _, tangent = dualgrad.jvp(lambda x, y: x * y, (_t(X4), _t(X5[:4])), (_t(tx), _t(ty)))
    assert np.allclose(values(tangent), tx * X5[:4] + X4 * ty)


def test_jvp_tuple_outputs_give_tuple_tangents(backend, float64):
    out, tangents = dualgrad.jvp(
        lambda x: (x**2, dualgrad.sum(x, axis=1)), (_t(X23),), (_t(np.ones((2, 3))),)
    )
    assert isinstance(out, tuple)
    assert isinstance(tangents, tuple)
    assert np.allclose(values(tangents[0]), 2 * X23)
    assert np.allclose(values(tangents[1]), [3.0, 3.0])


def test_jvp_output_not_depending_on_input_has_zero_tangent(backend, float64):
    _, tangent = dualgrad.jvp(lambda x: dualgrad.ones((2,)) * 5.0, (_t(X4),), (_t(X4),))
    assert tangent.shape == (2,)
    assert np.all(values(tangent) == 0.0)


def test_jvp_has_aux_returns_aux_third(backend, float64):
    _, tangent, aux = dualgrad.jvp(
        lambda x: (dualgrad.exp(x), "aux"), (_t(X4),), (_t(np.ones(4)),), has_aux=True
    )
    assert aux == "aux"
    assert np.allclose(values(tangent), np.exp(X4))


def test_jvp_wrong_tangent_shape_raises(backend):
    with pytest.raises(ValueError, match=r"tangent has shape \(3,\) but its primal has \(4,\)"):
        dualgrad.jvp(lambda x: x * 2, (_t(X4),), (_t(np.ones(3)),))


def test_jvp_wrong_number_of_tangents_raises(backend):
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        dualgrad.jvp(lambda x, y: x * y, (_t(X4), _t(X4)), (_t(X4),))


def test_jvp_of_raw_numpy_arrays_returns_numpy(float64):
    out, tangent = dualgrad.jvp(lambda x: x**2, (X4,), (np.ones(4),))
    assert type(out) is np.ndarray
    assert type(tangent) is np.ndarray
    assert np.allclose(tangent, 2 * X4)


# --- jacrev, jacfwd ---------------------------------------------------------------------------
JACOBIAN_FUNCTIONS = {
    "matmul_tanh": (lambda x: dualgrad.tanh(_t(W34) @ x + _t(B3)), X4),
    "getitem": (lambda x: x[1, ::-1] * x[0, :] + x[:, 1:].sum(), X23),
    "sum_max_axis": (
        lambda x: dualgrad.sum(x**2, axis=1) * dualgrad.max(x, axis=1),
        X34,
    ),
    "mean_axis_keepdims": (
        lambda x: dualgrad.exp(x - dualgrad.mean(x, axis=0, keepdims=True)),
        X23,
    ),
    "broadcasting": (lambda x: x * _t(X4) + x**2, X34[:, :1].copy()),
    "matrix_in_vector_out": (lambda x: dualgrad.sin(x) @ _t(X4), X34),
    "scalar_out": (lambda x: (dualgrad.cos(x) * x).sum(), X5),
    "concat_stack": (
        lambda x: dualgrad.stack(
            [dualgrad.concat([x, x**2], axis=0), dualgrad.concat([x[::-1] * 2, x], axis=0)],
            axis=1,
        ),
        X23[0].copy(),
    ),
}


@pytest.mark.parametrize("name", JACOBIAN_FUNCTIONS)
def test_jacrev_equals_jacfwd(name, backend, float64):
    f, x0 = JACOBIAN_FUNCTIONS[name]
    reverse = dualgrad.jacrev(f)(_t(x0))
    forward = dualgrad.jacfwd(f)(_t(x0))
    assert reverse.shape == forward.shape == f(_t(x0)).shape + x0.shape
    assert np.allclose(values(reverse), values(forward), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", JACOBIAN_FUNCTIONS)
def test_jacfwd_matches_finite_differences(name, backend, float64):
    f, x0 = JACOBIAN_FUNCTIONS[name]
    expected = _finite_difference_jacobian(f, x0)
    assert np.allclose(values(dualgrad.jacfwd(f)(_t(x0))), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", JACOBIAN_FUNCTIONS)
def test_jacrev_matches_finite_differences(name, backend, float64):
    f, x0 = JACOBIAN_FUNCTIONS[name]
    expected = _finite_difference_jacobian(f, x0)
    assert np.allclose(values(dualgrad.jacrev(f)(_t(x0))), expected, rtol=1e-6, atol=1e-8)


def _two_argument_function(x, y):
    return dualgrad.expand_dims(dualgrad.sin(x), axis=-1) * y + (x**2).sum()


@pytest.mark.parametrize("jacobian", [dualgrad.jacrev, dualgrad.jacfwd], ids=["rev", "fwd"])
def test_jacobian_argnums_tuple_gives_one_jacobian_per_argument(jacobian, backend, float64):
    x0, y0 = X4[:3].copy(), X5[:2].copy()
    jx, jy = jacobian(_two_argument_function, argnums=(0, 1))(_t(x0), _t(y0))
    assert jx.shape == (3, 2, 3)
    assert jy.shape == (3, 2, 2)
    expected_x = _finite_difference_jacobian(lambda x: _two_argument_function(x, _t(y0)), x0)
    expected_y = _finite_difference_jacobian(lambda y: _two_argument_function(_t(x0), y), y0)
    assert np.allclose(values(jx), expected_x, rtol=1e-6, atol=1e-8)
    assert np.allclose(values(jy), expected_y, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("jacobian", [dualgrad.jacrev, dualgrad.jacfwd], ids=["rev", "fwd"])
def test_jacobian_argnums_int_differentiates_that_argument(jacobian, backend, float64):
    x0, y0 = X4[:3].copy(), X5[:2].copy()
    jy = jacobian(_two_argument_function, argnums=1)(_t(x0), _t(y0))
    expected = _finite_difference_jacobian(lambda y: _two_argument_function(_t(x0), y), y0)
    assert np.allclose(values(jy), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("jacobian", [dualgrad.jacrev, dualgrad.jacfwd], ids=["rev", "fwd"])
def test_jacobian_has_aux_returns_aux(jacobian, backend, float64):
    jac, aux = jacobian(lambda x: (x**2, "aux"), has_aux=True)(_t(X4))
    assert aux == "aux"
    assert np.allclose(values(jac), np.diag(2 * X4))


@pytest.mark.parametrize("jacobian", [dualgrad.jacrev, dualgrad.jacfwd], ids=["rev", "fwd"])
def test_jacobian_of_function_ignoring_input_is_zeros(jacobian, backend, float64):
    jac = jacobian(lambda x: dualgrad.ones((3,)) * 2.0)(_t(X4))
    assert jac.shape == (3, 4)
    assert np.all(values(jac) == 0.0)


@pytest.mark.parametrize("jacobian", [dualgrad.jacrev, dualgrad.jacfwd], ids=["rev", "fwd"])
def test_jacobian_of_raw_numpy_array_is_numpy(jacobian, float64):
    jac = jacobian(lambda x: dualgrad.sin(x))(X4)
    assert type(jac) is np.ndarray
    assert np.allclose(jac, np.diag(np.cos(X4)))


@pytest.mark.parametrize("jacobian", [dualgrad.jacrev, dualgrad.jacfwd], ids=["rev", "fwd"])
def test_jacobian_of_tuple_output_gives_one_jacobian_per_output(jacobian, backend, float64):
    squares, total = jacobian(lambda x: (x**2, dualgrad.sin(x).sum()))(_t(X4))
    assert np.allclose(values(squares), np.diag(2 * X4))
    assert np.allclose(values(total), np.cos(X4))


@pytest.mark.parametrize("jacobian", [dualgrad.jacrev, dualgrad.jacfwd], ids=["rev", "fwd"])
def test_jacobian_of_tuple_output_with_argnums_tuple_nests_outputs_outside(
    jacobian, backend, float64
):
    x0, y0 = X4[:2].copy(), X5[:3].copy()
    (a_x, a_y), (b_x, b_y) = jacobian(lambda x, y: (x.sum() * y, x * 2), argnums=(0, 1))(
        _t(x0), _t(y0)
    )
    assert np.allclose(values(a_x), np.repeat(y0[:, None], 2, axis=1))
    assert np.allclose(values(a_y), np.eye(3) * x0.sum())
    assert np.allclose(values(b_x), 2 * np.eye(2))
    assert np.allclose(values(b_y), np.zeros((2, 3)))


class _CallCounter:
    def __init__(self, f):
        self.f = f
        self.calls = 0

    def __call__(self, *args):
        self.calls += 1
        return self.f(*args)


def test_jacfwd_calls_function_once_for_many_inputs(backend, float64):
    f = _CallCounter(lambda x: dualgrad.tanh(_t(W34) @ x))
    dualgrad.jacfwd(f)(_t(X4))
    assert f.calls == 1


def test_jacrev_calls_function_once_for_many_outputs(backend, float64):
    f = _CallCounter(lambda x: dualgrad.tanh(_t(W34) @ x))
    dualgrad.jacrev(f)(_t(X4))
    assert f.calls == 1


def test_jacfwd_calls_function_once_for_all_argnums(backend, float64):
    f = _CallCounter(_two_argument_function)
    dualgrad.jacfwd(f, argnums=(0, 1))(_t(X4[:3]), _t(X5[:2]))
    assert f.calls == 1


def test_jacrev_calls_function_at_most_once_per_argnum(backend, float64):
    f = _CallCounter(_two_argument_function)
    dualgrad.jacrev(f, argnums=(0, 1))(_t(X4[:3]), _t(X5[:2]))
    assert 1 <= f.calls <= 2


def test_hessian_calls_function_once(backend, float64):
    f = _CallCounter(lambda x: (dualgrad.sin(x) * x).sum())
    dualgrad.hessian(f)(_t(X5))
    assert f.calls == 1


# Random programs: jacfwd == jacrev whatever the composition of primitives.
_MATRIX = np.array([[0.5, -1.0, 0.25], [1.5, 0.3, -0.7], [-0.2, 0.8, 1.1]])
UNARY = {
    "sin": dualgrad.sin,
    "cos": dualgrad.cos,
    "tanh": dualgrad.tanh,
    "exp_tanh": lambda v: dualgrad.exp(dualgrad.tanh(v)),
    "square": lambda v: v * v,
    "sqrt_1p_square": lambda v: dualgrad.sqrt(1 + v * v),
    "negative": lambda v: -v,
    "scale": lambda v: 0.5 * v - 1.0,
    "flip_last": lambda v: v[..., ::-1],
    "center": lambda v: v - dualgrad.mean(v, axis=-1, keepdims=True),
    "times_sum_first": lambda v: v * dualgrad.sum(v, axis=0, keepdims=True),
    "times_max_last": lambda v: v * dualgrad.max(v, axis=-1, keepdims=True),
    "matmul": lambda v: v @ _t(_MATRIX),
    "abs_plus": lambda v: dualgrad.abs(v) + v,
    "where_positive": lambda v: dualgrad.where(v > 0, v * v, dualgrad.sin(v)),
}
BINARY = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "divide": lambda a, b: a / (1 + b * b),
    "maximum": dualgrad.maximum,
    "minimum": dualgrad.minimum,
}


@st.composite
def _programs(draw):
    shape = draw(st.sampled_from([(3,), (2, 3), (4, 3)]))
    steps = []
    for step in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            steps.append(
                ("unary", draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, step)))
            )
        else:
            operands = (draw(st.integers(0, step)), draw(st.integers(0, step)))
            steps.append(("binary", draw(st.sampled_from(sorted(BINARY))), operands))
    seed = draw(st.integers(0, 2**16))
    return shape, steps, seed


def _run_program(steps, x):
    computed = [x]
    for kind, name, operands in steps:
        if kind == "unary":
            computed.append(UNARY[name](computed[operands]))
        else:
            computed.append(BINARY[name](computed[operands[0]], computed[operands[1]]))
    return computed[-1]


@settings(max_examples=60, deadline=None)
@given(_programs())
def test_random_programs_have_jacfwd_equal_to_jacrev(program):
    shape, steps, seed = program
    x0 = np.random.default_rng(seed).uniform(-1.5, 1.5, shape)
    with dualgrad.use_backend("numpy"):
        x = _t(x0)
        forward = values(dualgrad.jacfwd(lambda x: _run_program(steps, x))(x))
        reverse = values(dualgrad.jacrev(lambda x: _run_program(steps, x))(x))
    scale = max(1.0, float(np.max(np.abs(reverse))))
    assert forward.shape == reverse.shape == shape + shape
    assert np.allclose(forward, reverse, rtol=1e-9, atol=1e-12 * scale), steps


# --- hessian, hvp -----------------------------------------------------------------------------
def _sin_sum_times_sum(x):
    return dualgrad.sin(x).sum() * x.sum()


def _sin_sum_times_sum_hessian(x):
    total = x.sum()
    return np.diag(-np.sin(x) * total) + np.cos(x)[:, None] + np.cos(x)[None, :]


def test_hessian_matches_analytic_hessian(backend, float64):
    hessian = dualgrad.hessian(_sin_sum_times_sum)(_t(X5))
    assert hessian.shape == (5, 5)
    assert np.allclose(values(hessian), _sin_sum_times_sum_hessian(X5))


def test_hessian_of_quadratic_form_is_symmetric_part(backend, float64):
    a = RNG.standard_normal((4, 4))
    hessian = dualgrad.hessian(lambda x: 0.5 * (x @ (_t(a) @ x)))(_t(X4))
    assert np.allclose(values(hessian), (a + a.T) / 2)


def test_hessian_of_matrix_input_has_shape_of_input_twice(backend, float64):
    hessian = dualgrad.hessian(lambda x: (x**3).sum())(_t(X23))
    assert hessian.shape == (2, 3, 2, 3)
    assert np.allclose(values(hessian).reshape(6, 6), np.diag(6 * X23.reshape(-1)))


def test_hessian_argnums_selects_argument(backend, float64):
    def f(x, y):
        return (x**2 * y**3).sum()

    hessian = dualgrad.hessian(f, argnums=1)(_t(X4), _t(X5[:4]))
    assert np.allclose(values(hessian), np.diag(6 * X4**2 * X5[:4]))


def test_hessian_argnums_tuple_gives_blocks(backend, float64):
    def f(x, y):
        return (x * x).sum() * dualgrad.sin(y).sum()

    x0, y0 = X4[:2].copy(), X5[:3].copy()
    (h_xx, h_xy), (h_yx, h_yy) = dualgrad.hessian(f, argnums=(0, 1))(_t(x0), _t(y0))
    s, q = np.sin(y0).sum(), (x0 * x0).sum()
    assert np.allclose(values(h_xx), 2 * s * np.eye(2))
    assert np.allclose(values(h_xy), 2 * x0[:, None] * np.cos(y0)[None, :])
    assert np.allclose(values(h_yx), values(h_xy).T)
    assert np.allclose(values(h_yy), np.diag(-np.sin(y0) * q))


def test_hvp_matches_hessian_times_vector(backend, float64):
    v = RNG.standard_normal(5)
    _, product = dualgrad.hvp(_sin_sum_times_sum, (_t(X5),), (_t(v),))
    hessian = values(dualgrad.hessian(_sin_sum_times_sum)(_t(X5)))
    assert np.allclose(values(product), hessian @ v)


def test_hvp_returns_function_value(backend, float64):
    value, _ = dualgrad.hvp(_sin_sum_times_sum, (_t(X5),), (_t(np.ones(5)),))
    assert np.isclose(value.item(), np.sin(X5).sum() * X5.sum())


def test_hvp_of_several_primals_gives_one_product_each(backend, float64):
    def f(x, y):
        return (x * x * y).sum()

    tx, ty = RNG.standard_normal(4), RNG.standard_normal(4)
    y0 = X5[:4]
    _, (hx, hy) = dualgrad.hvp(f, (_t(X4), _t(y0)), (_t(tx), _t(ty)))
    # H = [[diag(2y), diag(2x)], [diag(2x), 0]]
    assert np.allclose(values(hx), 2 * y0 * tx + 2 * X4 * ty)
    assert np.allclose(values(hy), 2 * X4 * tx)


def test_jacrev_of_jacrev_equals_hessian(backend, float64):
    reverse_over_reverse = dualgrad.jacrev(dualgrad.jacrev(_sin_sum_times_sum))(_t(X5))
    assert np.allclose(values(reverse_over_reverse), _sin_sum_times_sum_hessian(X5))


def test_jacfwd_of_jacfwd_equals_hessian(backend, float64):
    forward_over_forward = dualgrad.jacfwd(dualgrad.jacfwd(_sin_sum_times_sum))(_t(X5))
    assert np.allclose(values(forward_over_forward), _sin_sum_times_sum_hessian(X5))


# --- against torch.func -----------------------------------------------------------------------
def _mlp_loss(x, w, b, lib):
    return (lib.tanh(x @ w + b) ** 2).sum() * lib.sin(x).sum()


def test_hessian_matches_torch_func_hessian(float64):
    torch = pytest.importorskip("torch")
    w, b = RNG.standard_normal((4, 3)), RNG.standard_normal(3)
    ours = dualgrad.hessian(lambda x: _mlp_loss(x, _t(w), _t(b), dualgrad))(_t(X4))
    theirs = torch.func.hessian(
        lambda x: _mlp_loss(x, torch.from_numpy(w), torch.from_numpy(b), torch)
    )(torch.from_numpy(X4))
    assert np.allclose(values(ours), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_hessian_argnums_tuple_matches_torch_func_hessian(float64):
    torch = pytest.importorskip("torch")

    def f(x, y, lib):
        return (lib.tanh(x) * x).sum() * lib.exp(y).sum() + (x.sum() * y**2).sum()

    x0, y0 = X4[:3].copy(), X5[:2].copy()
    ours = dualgrad.hessian(lambda x, y: f(x, y, dualgrad), argnums=(0, 1))(_t(x0), _t(y0))
    theirs = torch.func.hessian(lambda x, y: f(x, y, torch), argnums=(0, 1))(
        torch.from_numpy(x0), torch.from_numpy(y0)
    )
    for our_row, their_row in zip(ours, theirs, strict=True):
        for mine, reference in zip(our_row, their_row, strict=True):
            assert np.allclose(values(mine), reference.numpy(), rtol=1e-10, atol=1e-12)


def test_jacrev_matches_torch_func_jacrev(float64):
    torch = pytest.importorskip("torch")

    def f(x, y, lib):
        return lib.exp(lib.tanh(x @ y)) * x.sum(-1, keepdim=True)

    y0 = RNG.standard_normal((4, 2))
    ours = dualgrad.jacrev(lambda x, y: f(x, y, dualgrad), argnums=(0, 1))(_t(X34), _t(y0))
    theirs = torch.func.jacrev(lambda x, y: f(x, y, torch), argnums=(0, 1))(
        torch.from_numpy(X34), torch.from_numpy(y0)
    )
    for mine, reference in zip(ours, theirs, strict=True):
        assert np.allclose(values(mine), reference.numpy(), rtol=1e-10, atol=1e-12)


def test_jacfwd_matches_torch_func_jacfwd(float64):
    torch = pytest.importorskip("torch")
    ours = dualgrad.jacfwd(lambda x: dualgrad.sin(x) * dualgrad.sum(x * x, axis=0))(_t(X23))
    theirs = torch.func.jacfwd(lambda x: torch.sin(x) * (x * x).sum(0))(torch.from_numpy(X23))
    assert np.allclose(values(ours), theirs.numpy(), rtol=1e-10, atol=1e-12)
