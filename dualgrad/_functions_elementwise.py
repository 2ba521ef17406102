"""Elementwise functions beyond the core set (inverse trigonometric, hyperbolic, log1p, ...).

Public functions here are re-exported by ``dualgrad._functions`` (so derivative rules find them on
the differentiable namespace) and by ``dualgrad``.

Integer and bool tensors given to the floating-point functions (``log1p``, ``atan2``, ...) are
computed in the default float dtype, as in PyTorch; Python numbers stay weakly typed.
"""

from __future__ import annotations

from typing import Any

from . import ops
from ._dispatch import elementwise

# ``dualgrad._functions`` imports this module last, so the names below already exist there.
from ._functions import _elementwise_function, _tensor, astype, divide
from .config import get_default_dtype
from .tensor import Tensor

__all__ = [
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "bitwise_left_shift",
    "bitwise_right_shift",
    "copysign",
    "cosh",
    "expm1",
    "hypot",
    "log1p",
    "log2",
    "log10",
    "logaddexp",
    "reciprocal",
    "sigmoid",
    "signbit",
    "sinh",
    "tan",
]


def _is_inexact(operand: Any) -> bool:
    if isinstance(operand, Tensor):
        return operand.dtype.is_floating_point or operand.dtype.is_complex
    return isinstance(operand, float | complex)


def _floating(op_name: str, *operands: Any) -> list[Any]:
    """The operands, with integer and bool tensors in the default float dtype if none is float."""
    if not any(isinstance(operand, Tensor) for operand in operands):
        kinds = ", ".join(type(operand).__name__ for operand in operands)
        msg = f"{op_name}: expected at least one Tensor, got {kinds}; wrap with dualgrad.asarray"
        raise TypeError(msg)
    if any(_is_inexact(operand) for operand in operands):
        return list(operands)
    dtype = get_default_dtype()
    return [
        astype(operand, dtype) if isinstance(operand, Tensor) else float(operand)
        for operand in operands
    ]


def _unary(prim: ops.Primitive, doc: str) -> Any:
    def function(x: Tensor, /) -> Tensor:
        return elementwise(prim, *_floating(prim.name, _tensor(x, prim.name)))

    function.__name__ = function.__qualname__ = prim.name
    function.__doc__ = doc
    return function


def _binary(prim: ops.Primitive, doc: str) -> Any:
    def function(x1: Any, x2: Any, /) -> Tensor:
        return elementwise(prim, *_floating(prim.name, x1, x2))

    function.__name__ = function.__qualname__ = prim.name
    function.__doc__ = doc
    return function


def _unary_doc(what: str, domain: str) -> str:
    return (
        f"Elementwise {what}, following the Array API; differentiable {domain}.\n\n"
        "Args:\n    x: a Tensor; integer and bool tensors are computed in the default float "
        "dtype.\n\nReturns:\n    A Tensor of ``x``'s shape."
    )


def _binary_doc(what: str, derivative: str) -> str:
    return (
        f"Elementwise {what}, following the Array API; {derivative}.\n\n"
        "Args:\n    x1: a Tensor or a Python number.\n    x2: a Tensor or a Python number; the "
        "two broadcast together.\n\nReturns:\n    A Tensor of the broadcast shape."
    )


tan = _unary(ops.tan, _unary_doc("tangent", "away from the poles"))
asin = _unary(ops.asin, _unary_doc("inverse sine", "on (-1, 1)"))
acos = _unary(ops.acos, _unary_doc("inverse cosine", "on (-1, 1)"))
atan = _unary(ops.atan, _unary_doc("inverse tangent", "everywhere"))
sinh = _unary(ops.sinh, _unary_doc("hyperbolic sine", "everywhere"))
cosh = _unary(ops.cosh, _unary_doc("hyperbolic cosine", "everywhere"))
asinh = _unary(ops.asinh, _unary_doc("inverse hyperbolic sine", "everywhere"))
acosh = _unary(ops.acosh, _unary_doc("inverse hyperbolic cosine", "for x > 1"))
atanh = _unary(ops.atanh, _unary_doc("inverse hyperbolic tangent", "on (-1, 1)"))
expm1 = _unary(ops.expm1, _unary_doc("``exp(x) - 1``, accurate for small x,", "everywhere"))
log1p = _unary(ops.log1p, _unary_doc("``log(1 + x)``, accurate for small x,", "for x > -1"))
log2 = _unary(ops.log2, _unary_doc("base-2 logarithm", "for x > 0"))
log10 = _unary(ops.log10, _unary_doc("base-10 logarithm", "for x > 0"))
atan2 = _binary(
    ops.atan2,
    _binary_doc("angle of the point ``(x2, x1)``", "differentiable away from the origin"),
)
hypot = _binary(
    ops.hypot,
    _binary_doc(
        "``sqrt(x1**2 + x2**2)`` without overflow",
        "differentiable away from the origin, where the gradient is zero",
    ),
)
logaddexp = _binary(
    ops.logaddexp,
    _binary_doc(
        "``log(exp(x1) + exp(x2))`` without overflow", "differentiable wherever it is finite"
    ),
)
copysign = _binary(
    ops.copysign,
    _binary_doc(
        "``|x1|`` with the sign of ``x2``",
        "the gradient is +-1 in ``x1`` and zero in ``x2`` (piecewise constant)",
    ),
)


def _nondiff(prim: ops.Primitive, nin: int, doc: str) -> Any:
    function = _elementwise_function(prim, nin)
    function.__doc__ = doc
    return function


signbit = _nondiff(
    ops.signbit, 1, "Whether the sign bit of ``x`` is set (True for -0.0); never differentiable."
)
bitwise_left_shift = _nondiff(
    ops.bitwise_left_shift, 2, "``x1 << x2`` on integer tensors; never differentiable."
)
bitwise_right_shift = _nondiff(
    ops.bitwise_right_shift, 2, "``x1 >> x2`` on integer tensors; never differentiable."
)


def sigmoid(x: Tensor, /) -> Tensor:
    """The logistic function ``1 / (1 + exp(-x))``, finite and accurate for any ``x``.

    Args:
        x: a Tensor; integer and bool tensors are computed in the default float dtype.

    Returns:
        A Tensor of ``x``'s shape with values in [0, 1]; its derivative is ``s * (1 - s)``.

    Raises:
        TypeError: ``x`` is not a Tensor.

    Example:
        >>> import dualgrad
        >>> dualgrad.sigmoid(dualgrad.tensor([-1000.0, 0.0, 1000.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    return elementwise(ops.sigmoid, *_floating("sigmoid", _tensor(x, "sigmoid")))


def reciprocal(x: Tensor, /) -> Tensor:
    """``1 / x`` elementwise; integer and bool tensors give the default float dtype.

    Args:
        x: a Tensor.

    Returns:
        A Tensor of ``x``'s shape; the derivative is ``-1 / x**2``.

    Raises:
        TypeError: ``x`` is not a Tensor.

    Example:
        >>> import dualgrad
        >>> dualgrad.reciprocal(dualgrad.tensor([2.0, -4.0]))
        tensor([ 0.5000, -0.2500])
    """
    x = _tensor(x, "reciprocal")
    # divide's rules are reciprocal's (-ans / x), so composing loses nothing.
    return divide(1.0, x)
