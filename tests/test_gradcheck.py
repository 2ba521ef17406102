"""dualgrad.autograd.gradcheck and gradgradcheck: PyTorch's signature and options, built on
dualgrad.testing.gradcheck; each option catches the wrong derivative it is for."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rule_checks import make_tensor

import dualgrad
from dualgrad.autograd import Function, gradcheck, gradgradcheck
from dualgrad.testing import GradcheckError


def _inputs(backend: Any) -> tuple[Any, Any]:
    x = make_tensor(backend, [0.5, 2.0, -1.0], requires_grad=True)
    w = make_tensor(backend, [[0.3, -1.0, 0.2], [2.0, 0.1, 0.5]], requires_grad=True)
    return x, w


def _two_outputs(x: Any, w: Any) -> tuple[Any, Any]:
    return dualgrad.tanh(w @ x), (x * w).sum()


def test_gradcheck_passes_with_every_check(backend: Any) -> None:
    assert gradcheck(
        _two_outputs,
        _inputs(backend),
        check_forward_ad=True,
        check_batched_grad=True,
        check_batched_forward_grad=True,
        check_grad_dtypes=True,
    )
    assert gradcheck(_two_outputs, _inputs(backend), check_forward_ad=True, fast_mode=True)


def test_gradgradcheck_passes_rev_over_rev_and_fwd_over_rev(backend: Any) -> None:
    assert gradgradcheck(_two_outputs, _inputs(backend), check_fwd_over_rev=True)
    x, w = _inputs(backend)
    cotangents = (make_tensor(backend, [1.0, -0.5]), make_tensor(backend, 2.0))
    assert gradgradcheck(_two_outputs, (x, w), cotangents, check_batched_grad=True)
    assert gradgradcheck(_two_outputs, (x, w), fast_mode=True)


class WrongBackward(Function):
    """``x ** 2`` with a backward that is off by a factor (and a correct jvp)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return 3.0 * x * g

    @staticmethod
    def jvp(ctx: Any, t: Any) -> Any:
        (x,) = ctx.saved_tensors
        return 2.0 * x * t


class WrongJvp(WrongBackward):
    """``x ** 2`` with a correct backward and a jvp that is off by a factor."""

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return 2.0 * x * g

    @staticmethod
    def jvp(ctx: Any, t: Any) -> Any:
        (x,) = ctx.saved_tensors
        return 3.0 * x * t


def test_gradcheck_catches_a_wrong_backward_and_can_return_false(backend: Any) -> None:
    x = make_tensor(backend, [0.5, 2.0], requires_grad=True)
    with pytest.raises(GradcheckError, match=r"reverse mode.*input 0"):
        gradcheck(WrongBackward.apply, (x,))
    with pytest.raises(RuntimeError):  # GradcheckError is a RuntimeError, as PyTorch's
        gradcheck(WrongBackward.apply, (x,), fast_mode=True)
    assert gradcheck(WrongBackward.apply, (x,), raise_exception=False) is False


def test_check_forward_ad_catches_a_wrong_jvp(backend: Any) -> None:
    x = make_tensor(backend, [0.5, 2.0], requires_grad=True)
    assert gradcheck(WrongJvp.apply, (x,))  # reverse mode alone is right
    with pytest.raises(GradcheckError, match="forward mode"):
        gradcheck(WrongJvp.apply, (x,), check_forward_ad=True)
    with pytest.raises(GradcheckError, match="forward mode, fast_mode"):
        gradcheck(WrongJvp.apply, (x,), check_forward_ad=True, fast_mode=True)


def test_gradgradcheck_catches_a_wrong_second_derivative(backend: Any) -> None:
    class WrongSecond(Function):
        """``x ** 3`` whose backward is right at first order but built from a detached x,
        so its own derivative with respect to x is lost."""

        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (x,) = ctx.saved_tensors
            return 3.0 * x.detach() ** 2 * g

    x = make_tensor(backend, [0.5, 2.0], requires_grad=True)
    assert gradcheck(WrongSecond.apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(WrongSecond.apply, (x,))
    assert gradgradcheck(WrongSecond.apply, (x,), raise_exception=False) is False


def test_gradcheck_rejects_contradicting_options() -> None:
    x = dualgrad.tensor([1.0], dtype=dualgrad.float64, requires_grad=True)
    with pytest.raises(ValueError, match="at least one of check_forward_ad"):
        gradcheck(dualgrad.sin, (x,), check_backward_ad=False)
    with pytest.raises(ValueError, match="check_batched_grad=True requires"):
        gradcheck(
            dualgrad.sin,
            (x,),
            check_backward_ad=False,
            check_forward_ad=True,
            check_batched_grad=True,
        )
    with pytest.raises(ValueError, match="at least one of check_fwd_over_rev"):
        gradgradcheck(dualgrad.sin, (x,), check_rev_over_rev=False)
    with pytest.raises(NotImplementedError, match="sparse"):
        gradcheck(dualgrad.sin, (x,), masked=True)


def test_gradcheck_needs_float64_inputs_that_require_grad() -> None:
    with pytest.raises(TypeError, match="float64"):
        gradcheck(dualgrad.sin, (dualgrad.tensor([1.0], requires_grad=True),))
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(dualgrad.sin, (dualgrad.tensor([1.0], dtype=dualgrad.float64),))


def test_gradgradcheck_checks_the_number_of_grad_outputs(backend: Any) -> None:
    with pytest.raises(ValueError, match="1 grad_outputs for 2"):
        gradgradcheck(_two_outputs, _inputs(backend), (make_tensor(backend, [1.0, 1.0]),))


def test_gradcheck_of_layers_in_float64(backend: Any) -> None:
    rng = np.random.default_rng(0)
    x = make_tensor(backend, rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = make_tensor(backend, rng.standard_normal((2, 2, 2, 2)), requires_grad=True)
    F = dualgrad.nn.functional
    assert gradcheck(lambda x, w: F.max_pool2d(F.conv2d(x, w, padding=1), 2), (x, w))
    assert gradcheck(lambda x: F.layer_norm(x, (4,)), (x,), check_forward_ad=True)
