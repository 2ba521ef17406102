"""Custom operations: ``dualgrad.autograd.Function`` with backward and jvp, in both modes.

A custom Function whose rules match a built-in composition must give that composition's
gradients under ``backward()`` in either mode, through the function transforms, and to second
order.
"""

from __future__ import annotations

import numpy as np
import pytest
from tensors import leaf as _t
from tensors import values

import dualgrad
import dualgrad.forward_ad as fwAD
from dualgrad.autograd import Function

MODES = dualgrad.config.MODES
RNG = np.random.default_rng(99)
X4 = RNG.standard_normal(4)
Y4 = RNG.standard_normal(4)
X23 = RNG.standard_normal((2, 3))


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad

    @staticmethod
    def jvp(ctx, tangent):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * tangent


class MulAdd(Function):
    """``x * y + x``: two Tensor inputs."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y + x

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * (y + 1), grad * x

    @staticmethod
    def jvp(ctx, tx, ty):
        x, y = ctx.saved_tensors
        return tx * (y + 1) + x * ty


class SinTimesMatmul(Function):
    """``sin(x) @ w``: a matrix input, a rule that is not elementwise."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return dualgrad.sin(x) @ w

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return (grad @ dualgrad.matrix_transpose(w)) * dualgrad.cos(x), (
            dualgrad.matrix_transpose(dualgrad.sin(x)) @ grad
        )

    @staticmethod
    def jvp(ctx, tx, tw):
        x, w = ctx.saved_tensors
        return (dualgrad.cos(x) * tx) @ w + dualgrad.sin(x) @ tw


class Scale(Function):
    """PyTorch 2 style: ``forward`` without ctx, ``setup_context``; non-Tensor arguments."""

    @staticmethod
    def forward(x, factor, label):
        return x * factor

    @staticmethod
    def setup_context(ctx, inputs, output):
        _, factor, label = inputs
        ctx.factor = factor
        ctx.label = label

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None, None

    @staticmethod
    def jvp(ctx, tangent, factor_tangent, label_tangent):
        assert factor_tangent is None
        assert label_tangent is None
        return tangent * ctx.factor


class CubeNoJvp(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad


# --- gradients equal the built-in op's, in both modes ------------------------------------------
def test_custom_function_gradient_equals_builtin_op(backend, mode, float64):
    x = _t(X4, requires_grad=True)
    (Cube.apply(x) * _t(Y4)).sum().backward()
    reference = _t(X4, requires_grad=True)
    (reference**3 * _t(Y4)).sum().backward()
    assert np.allclose(values(x.grad), values(reference.grad))
    assert np.allclose(values(x.grad), 3 * X4**2 * Y4)


def test_custom_function_with_two_inputs_gradients_equal_builtin(backend, mode, float64):
    x, y = _t(X4, requires_grad=True), _t(Y4, requires_grad=True)
    dualgrad.tanh(MulAdd.apply(x, y)).sum().backward()
    rx, ry = _t(X4, requires_grad=True), _t(Y4, requires_grad=True)
    dualgrad.tanh(rx * ry + rx).sum().backward()
    assert np.allclose(values(x.grad), values(rx.grad))
    assert np.allclose(values(y.grad), values(ry.grad))


def test_custom_matrix_function_gradients_equal_builtin(backend, mode, float64):
    w0 = RNG.standard_normal((3, 4))
    x, w = _t(X23, requires_grad=True), _t(w0, requires_grad=True)
    (SinTimesMatmul.apply(x, w) ** 2).mean().backward()
    rx, rw = _t(X23, requires_grad=True), _t(w0, requires_grad=True)
    ((dualgrad.sin(rx) @ rw) ** 2).mean().backward()
    assert np.allclose(values(x.grad), values(rx.grad))
    assert np.allclose(values(w.grad), values(rw.grad))


def test_custom_function_gradients_same_in_both_modes(backend, float64):
    grads = {}
    for mode_name in MODES:
        with dualgrad.use_mode(mode_name):
            x, y = _t(X4, requires_grad=True), _t(Y4, requires_grad=True)
            (Cube.apply(MulAdd.apply(x, y)) * dualgrad.sin(x)).sum().backward()
            grads[mode_name] = (values(x.grad), values(y.grad))
    for forward, reverse in zip(grads["forward"], grads["reverse"], strict=True):
        assert np.allclose(forward, reverse)


def test_custom_function_input_not_requiring_grad_gets_no_grad(backend, mode, float64):
    x, y = _t(X4, requires_grad=True), _t(Y4)
    MulAdd.apply(x, y).sum().backward()
    assert y.grad is None
    assert np.allclose(values(x.grad), Y4 + 1)


def test_custom_function_on_inputs_not_requiring_grad_is_constant(backend, mode):
    y = Cube.apply(_t(X4))
    assert not y.requires_grad
    assert y.grad_fn is None


def test_custom_function_forward_value(backend, mode, float64):
    assert np.allclose(values(Cube.apply(_t(X4, requires_grad=True))), X4**3)


def test_custom_function_gradient_of_non_scalar_output(backend, mode, float64):
    x = _t(X4, requires_grad=True)
    Cube.apply(x).backward(gradient=_t(Y4))
    assert np.allclose(values(x.grad), 3 * X4**2 * Y4)


def test_custom_function_gradients_accumulate(backend, mode, float64):
    x = _t(X4, requires_grad=True)
    Cube.apply(x).sum().backward()
    Cube.apply(x).sum().backward()
    assert np.allclose(values(x.grad), 6 * X4**2)


# --- PyTorch 2 style and non-Tensor arguments --------------------------------------------------
def test_setup_context_style_function_gradient(backend, mode, float64):
    x = _t(X4, requires_grad=True)
    (Scale.apply(x, 2.5, "label") ** 2).sum().backward()
    assert np.allclose(values(x.grad), 2 * 2.5 * X4 * 2.5)


def test_setup_context_receives_inputs_and_output(backend):
    seen = {}

    class Record(Function):
        @staticmethod
        def forward(x, factor):
            return x * factor

        @staticmethod
        def setup_context(ctx, inputs, output):
            seen["inputs"], seen["output"] = inputs, output

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    x = _t(X4, requires_grad=True)
    Record.apply(x, 2.0)
    assert seen["inputs"][0] is x
    assert seen["inputs"][1] == 2.0
    assert np.allclose(values(seen["output"]), 2 * X4)


def test_non_tensor_arguments_reach_forward_and_backward_returns_none_for_them(
    backend, mode, float64
):
    class Power(Function):
        @staticmethod
        def forward(ctx, x, exponent):
            ctx.save_for_backward(x)
            ctx.exponent = exponent
            return x**exponent

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return ctx.exponent * x ** (ctx.exponent - 1) * grad, None

        @staticmethod
        def jvp(ctx, tangent, exponent_tangent):
            (x,) = ctx.saved_tensors
            return ctx.exponent * x ** (ctx.exponent - 1) * tangent

    x = _t(np.abs(X4) + 0.5, requires_grad=True)
    Power.apply(x, 4).sum().backward()
    assert np.allclose(values(x.grad), 4 * (np.abs(X4) + 0.5) ** 3)


def test_needs_input_grad_reports_which_inputs_require_grad(backend):
    flags = []

    class Flags(Function):
        @staticmethod
        def forward(ctx, x, y, factor):
            flags.append(ctx.needs_input_grad)
            return x * y * factor

        @staticmethod
        def backward(ctx, grad):
            return grad, grad, None

    Flags.apply(_t(X4, requires_grad=True), _t(Y4), 2.0)
    assert flags == [(True, False, False)]


# --- through the transforms and dual numbers ---------------------------------------------------
@pytest.mark.parametrize("jacobian", [dualgrad.jacrev, dualgrad.jacfwd], ids=["rev", "fwd"])
def test_jacobian_through_custom_function(jacobian, backend, float64):
    jac = jacobian(lambda x: Cube.apply(dualgrad.sin(x)))(_t(X4))
    assert np.allclose(values(jac), np.diag(3 * np.sin(X4) ** 2 * np.cos(X4)))


@pytest.mark.parametrize("jacobian", [dualgrad.jacrev, dualgrad.jacfwd], ids=["rev", "fwd"])
def test_jacobian_through_custom_matrix_function_equals_builtin(jacobian, backend, float64):
    w = _t(RNG.standard_normal((3, 4)))
    ours = jacobian(lambda x: SinTimesMatmul.apply(x, w))(_t(X23))
    builtin = jacobian(lambda x: dualgrad.sin(x) @ w)(_t(X23))
    assert ours.shape == (2, 4, 2, 3)
    assert np.allclose(values(ours), values(builtin))


def test_jacobian_through_custom_function_argnums_tuple(backend, float64):
    jx, jy = dualgrad.jacfwd(MulAdd.apply, argnums=(0, 1))(_t(X4), _t(Y4))
    rx, ry = dualgrad.jacrev(MulAdd.apply, argnums=(0, 1))(_t(X4), _t(Y4))
    assert np.allclose(values(jx), np.diag(Y4 + 1))
    assert np.allclose(values(jy), np.diag(X4))
    assert np.allclose(values(rx), values(jx))
    assert np.allclose(values(ry), values(jy))


def test_hessian_through_custom_function(backend, float64):
    hessian = dualgrad.hessian(lambda x: (Cube.apply(x) * dualgrad.sin(x)).sum())(_t(X4))
    # d2/dx2 [x^3 sin x] = 6x sin x + 6x^2 cos x - x^3 sin x
    diagonal = 6 * X4 * np.sin(X4) + 6 * X4**2 * np.cos(X4) - X4**3 * np.sin(X4)
    assert np.allclose(values(hessian), np.diag(diagonal))


def test_hessian_through_custom_two_input_function(backend, float64):
    def f(z):
        return (MulAdd.apply(z, dualgrad.sin(z)) ** 2).sum()

    def builtin(z):
        return ((z * dualgrad.sin(z) + z) ** 2).sum()

    ours = dualgrad.hessian(f)(_t(X4))
    assert np.allclose(values(ours), values(dualgrad.hessian(builtin)(_t(X4))))


def test_custom_function_with_make_dual_uses_jvp(backend, float64):
    with fwAD.dual_level():
        out = Cube.apply(fwAD.make_dual(_t(X4), _t(Y4)))
        tangent = fwAD.unpack_dual(out).tangent
    assert np.allclose(values(tangent), 3 * X4**2 * Y4)


def test_custom_function_jvp_gets_zeros_for_input_without_tangent(backend, float64):
    with fwAD.dual_level():
        out = MulAdd.apply(fwAD.make_dual(_t(X4), _t(np.ones(4))), _t(Y4))
        tangent = fwAD.unpack_dual(out).tangent
    assert np.allclose(values(tangent), Y4 + 1)


# --- double backward ---------------------------------------------------------------------------
def test_double_backward_through_custom_function(backend, float64):
    with dualgrad.use_mode("reverse"):
        x = _t(X4, requires_grad=True)
        (gradient,) = dualgrad.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
        assert gradient.requires_grad
        (gradient * _t(Y4)).sum().backward()
    assert np.allclose(values(gradient), 3 * X4**2)
    assert np.allclose(values(x.grad), 6 * X4 * Y4)


def test_backward_create_graph_through_custom_function_gives_second_derivative(backend, float64):
    with dualgrad.use_mode("reverse"):
        x = _t(1.5, requires_grad=True)
        Cube.apply(x).backward(create_graph=True)
        first = x.grad
        x.grad = None
        first.backward()
    assert np.isclose(first.item(), 3 * 1.5**2)
    assert np.isclose(x.grad.item(), 6 * 1.5)


def test_nested_grad_through_custom_function(backend, float64):
    second = dualgrad.grad(dualgrad.grad(Cube.apply))(_t(1.5))
    assert np.isclose(second.item(), 6 * 1.5)


# --- grad_fn ----------------------------------------------------------------------------------
def test_custom_function_grad_fn_named_after_class(backend, mode):
    y = Cube.apply(_t([2.0], requires_grad=True))
    assert y.grad_fn.name() == "CubeBackward"
    assert repr(y.grad_fn).startswith("<CubeBackward")


def test_custom_function_output_repr_shows_grad_fn(mode):
    with dualgrad.use_backend("numpy"):
        y = Cube.apply(_t(2.0, requires_grad=True, dtype=dualgrad.float32))
    assert repr(y) == "tensor(8., grad_fn=<CubeBackward>)"


# --- errors -----------------------------------------------------------------------------------
def test_backward_returning_wrong_number_of_gradients_raises(backend, mode):
    class TwoGrads(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, grad

        @staticmethod
        def jvp(ctx, tangent):
            return tangent * 2

    x = _t(X4, requires_grad=True)
    y = TwoGrads.apply(x).sum()
    if mode == "forward":  # forward mode never calls backward: the jvp gives the gradient
        y.backward()
        assert np.allclose(values(x.grad), 2.0)
        return
    with pytest.raises(RuntimeError, match=r"TwoGrads\.backward returned 2 gradients, expected 1"):
        y.backward()
    assert x.grad is None


def test_backward_returning_wrong_number_of_gradients_raises_in_jacrev(backend):
    class TwoGrads(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, grad

    with pytest.raises(RuntimeError, match="returned 2 gradients, expected 1"):
        dualgrad.jacrev(TwoGrads.apply)(_t(X4))


def test_backward_returning_gradient_of_wrong_shape_raises(backend):
    class WrongShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad[:1]

    x = _t(X4, requires_grad=True)
    with dualgrad.use_mode("reverse"):
        y = WrongShape.apply(x).sum()
        with pytest.raises(ValueError, match=r"shape \(1,\).*shape \(4,\)"):
            y.backward()
    assert x.grad is None


def test_jvp_returning_tangent_of_wrong_shape_raises(backend):
    class WrongTangent(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def jvp(ctx, tangent):
            return tangent.sum()

    with pytest.raises(ValueError, match=r"WrongTangent.jvp.*shape \(4,\)"):
        dualgrad.jvp(WrongTangent.apply, (_t(X4),), (_t(Y4),))


def test_forward_returning_non_tensor_raises(backend, mode):
    class ReturnsFloat(Function):
        @staticmethod
        def forward(ctx, x):
            return 3.0

    with pytest.raises(TypeError, match=r"ReturnsFloat\.forward must return one Tensor"):
        ReturnsFloat.apply(_t(X4, requires_grad=True))


def test_forward_returning_tuple_raises(backend, mode):
    class ReturnsPair(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

    with pytest.raises(TypeError, match="must return one Tensor, got tuple"):
        ReturnsPair.apply(_t(X4, requires_grad=True))


def test_missing_jvp_in_forward_mode_raises(backend):
    x = _t(X4, requires_grad=True)
    with dualgrad.use_mode("forward"), pytest.raises(RuntimeError, match="does not define jvp"):
        CubeNoJvp.apply(x)
    assert x.grad is None


def test_missing_jvp_in_jacfwd_raises(backend):
    with pytest.raises(RuntimeError, match="does not define jvp"):
        dualgrad.jacfwd(CubeNoJvp.apply)(_t(X4))


def test_missing_jvp_is_fine_in_reverse_mode(backend, float64):
    x = _t(X4, requires_grad=True)
    with dualgrad.use_mode("reverse"):
        CubeNoJvp.apply(x).sum().backward()
    assert np.allclose(values(x.grad), 3 * X4**2)


def test_missing_backward_in_reverse_mode_raises(backend):
    class ForwardOnly(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def jvp(ctx, tangent):
            return tangent * 2

    x = _t(X4, requires_grad=True)
    with dualgrad.use_mode("reverse"):
        y = ForwardOnly.apply(x).sum()
        with pytest.raises(RuntimeError, match="does not define backward"):
            y.backward()


def test_missing_backward_is_fine_in_forward_mode(backend, float64):
    class ForwardOnly(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def jvp(ctx, tangent):
            return tangent * 2

    x = _t(X4, requires_grad=True)
    with dualgrad.use_mode("forward"):
        ForwardOnly.apply(x).sum().backward()
    assert np.allclose(values(x.grad), 2.0)


def test_save_for_backward_of_non_tensor_raises(backend):
    class SavesFloat(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3.0)
            return x * 2

    with pytest.raises(TypeError, match="can only save Tensors or None, got float"):
        SavesFloat.apply(_t(X4, requires_grad=True))


def test_custom_function_under_vmap_of_grad_and_jacrev(backend, mode, float64):
    # The rules run on a vmap level's batched arrays: backward sees one Tensor per call, with
    # the batch hidden, and gives each example's gradient.
    x = np.array([[0.5, -1.0], [2.0, 0.25], [1.5, 3.0]])
    per_example = dualgrad.vmap(dualgrad.grad(lambda v: Cube.apply(v).sum()))(_t(x))
    assert np.allclose(values(per_example), 3 * x**2)
    jacobians = dualgrad.vmap(dualgrad.jacrev(Cube.apply))(_t(x))
    assert np.allclose(values(jacobians), [np.diag(3 * row**2) for row in x])
