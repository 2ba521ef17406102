"""dualgrad.testing.check_modes: forward mode against reverse mode, on the user's functions."""

from __future__ import annotations

from typing import Any

import pytest

import dualgrad
from dualgrad.testing import GradcheckError, check_modes


class _InconsistentSquare(dualgrad.autograd.Function):
    """x**2 with a correct backward and a deliberately wrong jvp (3x instead of 2x)."""

    @staticmethod
    def forward(ctx: Any, x: dualgrad.Tensor) -> dualgrad.Tensor:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, grad: dualgrad.Tensor) -> dualgrad.Tensor:
        (x,) = ctx.saved_tensors
        return 2 * x * grad

    @staticmethod
    def jvp(ctx: Any, tangent: dualgrad.Tensor) -> dualgrad.Tensor:
        (x,) = ctx.saved_tensors
        return 3 * x * tangent


def test_check_modes_reports_agreement(backend: Any) -> None:
    x = dualgrad.tensor([0.5, 1.0, 2.0], dtype=dualgrad.float64)
    w = dualgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=dualgrad.float64)
    report = check_modes(lambda x, w: dualgrad.tanh(w @ x) * x[:2], x, w)
    assert report.largest_difference < 1e-12
    assert [(i, comparison) for i, comparison, _ in report.rows] == [
        (0, "backward() reverse vs forward"),
        (1, "backward() reverse vs forward"),
        (0, "jacrev vs jacfwd"),
        (1, "jacrev vs jacfwd"),
    ]
    assert "input 1: jacrev vs jacfwd" in str(report)


def test_check_modes_raises_when_the_engines_disagree(backend: Any) -> None:
    x = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64)
    with pytest.raises(GradcheckError, match=r"engines disagree.*\n.*input 0: backward"):
        check_modes(_InconsistentSquare.apply, x)


def test_check_modes_needs_a_floating_tensor() -> None:
    with pytest.raises(ValueError, match="no input is a floating point Tensor"):
        check_modes(lambda n: dualgrad.ones(n), 3)


def test_check_modes_leaves_its_inputs_alone(backend: Any) -> None:
    x = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64)
    check_modes(lambda x: x**3, x)
    assert x.grad is None
    assert not x.requires_grad
