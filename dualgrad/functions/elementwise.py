"""Elementwise functions (``dualgrad.ops.elementwise``): arithmetic, comparisons, logic, bits,
the transcendental functions, ``where``, ``clip`` and ``astype``; and Tensor's operators.

Tensors and Python numbers mix, NumPy style: Python numbers are weakly typed and shapes
broadcast (the dispatcher's ``elementwise``). Integer and bool tensors given to functions
defined on real numbers (``log1p``, ``atan2``, ``sigmoid``, ...) are computed in the default
float dtype, as in PyTorch.
"""

from __future__ import annotations

__all__ = [
    "abs",
    "acos",
    "acosh",
    "add",
    "asin",
    "asinh",
    "astype",
    "atan",
    "atan2",
    "atanh",
    "bitwise_and",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "ceil",
    "clip",
    "copysign",
    "cos",
    "cosh",
    "divide",
    "equal",
    "exp",
    "expm1",
    "floor",
    "floor_divide",
    "greater",
    "greater_equal",
    "hypot",
    "isfinite",
    "isinf",
    "isnan",
    "less",
    "less_equal",
    "log",
    "log1p",
    "log2",
    "log10",
    "logaddexp",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "maximum",
    "minimum",
    "multiply",
    "negative",
    "not_equal",
    "positive",
    "pow",
    "reciprocal",
    "remainder",
    "round",
    "sigmoid",
    "sign",
    "signbit",
    "sin",
    "sinc",
    "sinh",
    "sqrt",
    "square",
    "subtract",
    "tan",
    "tanh",
    "trunc",
    "where",
]

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops
from .._dispatch import apply, elementwise, named
from ..tensor import Tensor, method
from ._args import as_dtype, as_tensor, floating, is_inexact
from ._methods import in_place, reflected


# --- the forms of elementwise functions -------------------------------------------------------
def function_of(prim: ops.Primitive, nin: int, doc: str | None = None) -> Any:
    """The public function of an elementwise primitive of ``nin`` inputs, as it is."""
    if nin == 1:

        def function(x: Tensor, /) -> Tensor:
            # One Tensor has nothing to promote or broadcast: straight to the dispatcher
            # (a Tensor without the call that checks for one, a subclass through it).
            if type(x) is not Tensor:
                x = as_tensor(x, prim.name)
            return apply(prim, (x,), {})

    else:

        def function(x1: Any, x2: Any, /) -> Tensor:
            return elementwise(prim, x1, x2)

    function.__name__ = function.__qualname__ = prim.name
    function.__doc__ = doc or (
        f"Elementwise ``{prim.name}``, following the Array API; differentiable where defined."
    )
    return function


def unary(prim: ops.Primitive, doc: str) -> Any:
    """The public function of a one-input primitive defined on real numbers: integer and bool
    tensors are computed in the default float dtype."""

    def function(x: Tensor, /) -> Tensor:
        # One Tensor has nothing to promote or broadcast: straight to the dispatcher.
        if type(x) is not Tensor:
            x = as_tensor(x, prim.name)
        # (Per backend: dtypes of two libraries may hash alike, and array_api_strict's warn
        # when compared with NumPy's.)
        inexact = x._backend.inexact.get(x._array.dtype)
        if inexact is None:
            inexact = x._backend.inexact[x._array.dtype] = x.dtype.is_inexact
        if not inexact:
            x = floating(x)
        return apply(prim, (x,), {})

    function.__name__ = function.__qualname__ = prim.name
    function.__doc__ = doc
    return function


def binary(prim: ops.Primitive, doc: str) -> Any:
    """The public function of a two-input primitive defined on real numbers: with no floating
    operand, integer and bool tensors (and Python ints) are computed in the default float."""

    def function(x1: Any, x2: Any, /) -> Tensor:
        if not (is_inexact(x1) or is_inexact(x2)):
            x1, x2 = floating(x1), floating(x2)
        return elementwise(prim, x1, x2)

    function.__name__ = function.__qualname__ = prim.name
    function.__doc__ = doc
    return function


def unary_doc(what: str, domain: str) -> str:
    """The docstring of a ``unary`` function."""
    return (
        f"Elementwise {what}, following the Array API; differentiable {domain}.\n\n"
        "Args:\n    x: a Tensor; integer and bool tensors are computed in the default float "
        "dtype.\n\nReturns:\n    A Tensor of ``x``'s shape."
    )


def binary_doc(what: str, derivative: str) -> str:
    """The docstring of a ``binary`` function."""
    return (
        f"Elementwise {what}, following the Array API; {derivative}.\n\n"
        "Args:\n    x1: a Tensor or a Python number.\n    x2: a Tensor or a Python number; the "
        "two broadcast together.\n\nReturns:\n    A Tensor of the broadcast shape."
    )


def _operator(function: Callable[..., Tensor], name: str, reflected_name: str) -> None:
    """``function`` as Tensor's operator ``name``, its reflection (``__radd__``) and, where
    Tensor does not define it itself, its in-place form (``__ipow__``)."""
    method(function, name)
    method(function, reflected_name, adapt=reflected)
    in_place_name = f"__i{name[2:]}"
    if in_place_name not in vars(Tensor):  # += -= *= /= have their own fast path there
        method(in_place(function, in_place_name), in_place_name)


# --- arithmetic -------------------------------------------------------------------------------
add = function_of(ops.add, 2)
subtract = function_of(ops.subtract, 2)
multiply = function_of(ops.multiply, 2)


def divide(x1: Any, x2: Any, /) -> Tensor:
    """True division; integer and bool tensors are divided in the default float dtype."""
    return elementwise(ops.divide, _true_division(x1), _true_division(x2))


def _true_division(x: Any) -> Any:
    return floating(x) if isinstance(x, Tensor) else x


def pow(x1: Any, x2: Any, /) -> Tensor:
    """Elementwise ``pow``, following the Array API; differentiable where defined.

    A floating Tensor raised to a Python number takes the scalar-exponent primitive, whose
    rules are cheaper (as PyTorch's ``pow(Tensor, Scalar)``).
    """
    if (
        isinstance(x1, Tensor)
        and (type(x2) is int or type(x2) is float)
        and x1.dtype.is_floating_point
    ):
        return apply(ops.pow_scalar, (x1,), {"exponent": x2})
    return elementwise(ops.pow, x1, x2)


maximum = function_of(ops.maximum, 2)
minimum = function_of(ops.minimum, 2)
remainder = function_of(ops.remainder, 2)
floor_divide = function_of(ops.floor_divide, 2)
negative = function_of(ops.negative, 1)
positive = function_of(ops.positive, 1)
abs = function_of(ops.abs, 1)

for _function, _name, _reflected in (
    (add, "__add__", "__radd__"),
    (subtract, "__sub__", "__rsub__"),
    (multiply, "__mul__", "__rmul__"),
    (divide, "__truediv__", "__rtruediv__"),
    (floor_divide, "__floordiv__", "__rfloordiv__"),
    (remainder, "__mod__", "__rmod__"),
    (pow, "__pow__", "__rpow__"),
):
    _operator(_function, _name, _reflected)
# PyTorch's names for a number minus a tensor and a number to a tensor's power.
method(lambda self, other: named(subtract(other, self), "RsubBackward1"), "__rsub__")
method(lambda self, other: named(pow(other, self), "PowBackward2"), "__rpow__")
method(add, "add")
method(subtract, "sub", "subtract")
method(multiply, "mul", "multiply")
method(divide, "div", "divide")
method(pow)
method(maximum)
method(minimum)
method(negative, "__neg__", "neg", "negative")
method(positive, "__pos__")
method(abs, "__abs__", "abs")

# --- exponentials, logarithms, powers, trigonometry ---------------------------------------------
exp = method(unary(ops.exp, unary_doc("exponential", "everywhere")))
log = method(unary(ops.log, unary_doc("natural logarithm", "for x > 0")))
sin = method(unary(ops.sin, unary_doc("sine", "everywhere")))
cos = method(unary(ops.cos, unary_doc("cosine", "everywhere")))
tanh = method(unary(ops.tanh, unary_doc("hyperbolic tangent", "everywhere")))
sqrt = method(unary(ops.sqrt, unary_doc("square root", "for x > 0")))
square = method(function_of(ops.square, 1))
tan = method(unary(ops.tan, unary_doc("tangent", "away from the poles")))
asin = method(unary(ops.asin, unary_doc("inverse sine", "on (-1, 1)")), "asin", "arcsin")
acos = method(unary(ops.acos, unary_doc("inverse cosine", "on (-1, 1)")), "acos", "arccos")
atan = method(unary(ops.atan, unary_doc("inverse tangent", "everywhere")), "atan", "arctan")
sinh = method(unary(ops.sinh, unary_doc("hyperbolic sine", "everywhere")))
cosh = method(unary(ops.cosh, unary_doc("hyperbolic cosine", "everywhere")))
asinh = method(
    unary(ops.asinh, unary_doc("inverse hyperbolic sine", "everywhere")), "asinh", "arcsinh"
)
acosh = method(
    unary(ops.acosh, unary_doc("inverse hyperbolic cosine", "for x > 1")), "acosh", "arccosh"
)
atanh = method(
    unary(ops.atanh, unary_doc("inverse hyperbolic tangent", "on (-1, 1)")), "atanh", "arctanh"
)
expm1 = method(unary(ops.expm1, unary_doc("``exp(x) - 1``, accurate for small x,", "everywhere")))
log1p = method(unary(ops.log1p, unary_doc("``log(1 + x)``, accurate for small x,", "for x > -1")))
log2 = method(unary(ops.log2, unary_doc("base-2 logarithm", "for x > 0")))
log10 = method(unary(ops.log10, unary_doc("base-10 logarithm", "for x > 0")))
atan2 = method(
    binary(
        ops.atan2,
        binary_doc("angle of the point ``(x2, x1)``", "differentiable away from the origin"),
    ),
    "atan2",
    "arctan2",
)
hypot = method(
    binary(
        ops.hypot,
        binary_doc(
            "``sqrt(x1**2 + x2**2)`` without overflow",
            "differentiable away from the origin, where the gradient is zero",
        ),
    )
)
logaddexp = method(
    binary(
        ops.logaddexp,
        binary_doc(
            "``log(exp(x1) + exp(x2))`` without overflow", "differentiable wherever it is finite"
        ),
    )
)
copysign = method(
    binary(
        ops.copysign,
        binary_doc(
            "``|x1|`` with the sign of ``x2``",
            "the gradient is +-1 in ``x1`` and zero in ``x2`` (piecewise constant)",
        ),
    )
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
    return elementwise(ops.sigmoid, floating(as_tensor(x, "sigmoid")))


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
    x = as_tensor(x, "reciprocal")
    # divide's rules are reciprocal's (-ans / x), so composing loses nothing.
    return divide(1.0, x)


def sinc(x: Tensor, /) -> Tensor:
    """The normalized sinc function ``sin(pi * x) / (pi * x)``, and 1 at 0, as ``torch.sinc``.

    Args:
        x: a Tensor; integer and bool tensors are computed in the default float dtype.

    Returns:
        A Tensor of ``x``'s shape; the derivative is ``(cos(pi * x) - sinc(x)) / x``, and 0
        at 0.

    Raises:
        TypeError: ``x`` is not a Tensor.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([0.0, 0.5, -2.5], requires_grad=True)
        >>> dualgrad.sinc(x)
        tensor([1.0000, 0.6366, 0.1273], grad_fn=<SincBackward0>)
        >>> dualgrad.sinc(x).sum().backward()
        >>> x.grad
        tensor([ 0.0000, -1.2732,  0.0509])
    """
    return elementwise(ops.sinc, floating(as_tensor(x, "sinc")))


method(sigmoid)
method(reciprocal)
method(sinc)


# --- rounding and signs: piecewise constant ------------------------------------------------------
@method
def sign(x: Tensor, /) -> Tensor:
    """The sign of each element: -1, 0 or 1; for a complex element ``x / |x|`` (0 at 0).

    Piecewise constant for real input (its gradient is zero); for complex input it is computed
    from ``abs`` and a division, so it is differentiable where ``x`` is not 0.
    """
    x = as_tensor(x, "sign")
    if x.dtype.is_complex:
        modulus = abs(x)
        zero = modulus == 0
        return where(zero, 0.0, x / where(zero, 1.0, modulus))
    return apply(ops.sign, (x,), {})


floor = method(function_of(ops.floor, 1))
ceil = method(function_of(ops.ceil, 1))
trunc = method(function_of(ops.trunc, 1))
round = method(function_of(ops.round, 1))
signbit = method(
    function_of(
        ops.signbit,
        1,
        "Whether the sign bit of ``x`` is set (True for -0.0); never differentiable.",
    )
)

# --- comparisons, logic, bits, tests: never differentiable ---------------------------------------
equal = method(function_of(ops.equal, 2), "__eq__")
not_equal = method(function_of(ops.not_equal, 2), "__ne__")
less = method(function_of(ops.less, 2), "__lt__")
less_equal = method(function_of(ops.less_equal, 2), "__le__")
greater = method(function_of(ops.greater, 2), "__gt__")
greater_equal = method(function_of(ops.greater_equal, 2), "__ge__")
for _name, _comparison in (
    ("eq", equal),
    ("ne", not_equal),
    ("lt", less),
    ("le", less_equal),
    ("gt", greater),
    ("ge", greater_equal),
):
    method(_comparison, _name)  # PyTorch's method names of the comparison operators
logical_and = function_of(ops.logical_and, 2)
logical_or = function_of(ops.logical_or, 2)
logical_xor = function_of(ops.logical_xor, 2)
logical_not = method(function_of(ops.logical_not, 1))
bitwise_and = function_of(ops.bitwise_and, 2)
bitwise_or = function_of(ops.bitwise_or, 2)
bitwise_xor = function_of(ops.bitwise_xor, 2)
bitwise_invert = method(function_of(ops.bitwise_invert, 1), "__invert__")
bitwise_left_shift = function_of(
    ops.bitwise_left_shift, 2, "``x1 << x2`` on integer tensors; never differentiable."
)
bitwise_right_shift = function_of(
    ops.bitwise_right_shift, 2, "``x1 >> x2`` on integer tensors; never differentiable."
)
isnan = method(function_of(ops.isnan, 1))
isinf = method(function_of(ops.isinf, 1))
isfinite = method(function_of(ops.isfinite, 1))

for _function, _name, _reflected in (
    (bitwise_and, "__and__", "__rand__"),
    (bitwise_or, "__or__", "__ror__"),
    (bitwise_xor, "__xor__", "__rxor__"),
    (bitwise_left_shift, "__lshift__", "__rlshift__"),
    (bitwise_right_shift, "__rshift__", "__rrshift__"),
):
    _operator(_function, _name, _reflected)


# --- selection ----------------------------------------------------------------------------------
def where(condition: Any, x1: Any, x2: Any, /) -> Tensor:
    """``x1`` where ``condition`` holds, else ``x2``; differentiable in ``x1`` and ``x2``.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([-1.0, 2.0])
        >>> dualgrad.where(x > 0, x, 0.0)
        tensor([0., 2.])
    """
    return elementwise(ops.where, condition, x1, x2)


def clip(x: Tensor, /, min: Any = None, max: Any = None) -> Tensor:
    """Clamp ``x`` into ``[min, max]``; either bound may be None, a number or a Tensor.

    The gradient passes to ``x`` where it lies within the bounds (bounds included), as in
    PyTorch's ``clamp``, and to a Tensor bound where ``x`` was clipped to it. With neither
    bound, the result is a copy of ``x`` (the Array API standard's rule; PyTorch's ``clamp``
    raises there).
    """
    x = as_tensor(x, "clip")
    dtype = x.dtype
    if dtype.is_floating_point:
        low, high = -np.inf if min is None else min, np.inf if max is None else max
    else:
        info = np.iinfo(dtype.name) if dtype.kind != "b" else None
        low = (info.min if info else False) if min is None else min
        high = (info.max if info else True) if max is None else max
    clipped = elementwise(ops.clip, x, low, high)
    # PyTorch's clamp with number bounds is ClampBackward1
    bounded_by_numbers = not isinstance(min, Tensor) and not isinstance(max, Tensor)
    return named(clipped, "ClampBackward1") if bounded_by_numbers else clipped


method(clip, "clip", "clamp")


def _clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """``clamp`` in place."""
    return self._update(lambda x: clip(x, min, max), "clamp_")


def _masked_fill(self: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``self`` with ``value`` where ``mask`` is true, as PyTorch's ``masked_fill``."""
    if isinstance(value, Tensor):
        fill = value.astype(self.dtype)
    elif self.dtype.kind == "b":
        fill = bool(value)
    elif self.dtype.kind in "iu" and isinstance(value, float):
        fill = int(value)  # converted to the tensor's dtype, as PyTorch does: 0.5 fills 0
    else:
        fill = value
    return named(where(mask, fill, self), "MaskedFillBackward0")


def _masked_fill_(self: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``masked_fill`` in place."""
    return self._update(lambda x: _masked_fill(x, mask, value), "masked_fill_")


method(_clamp_, "clamp_", "clip_")
method(_masked_fill, "masked_fill")
method(_masked_fill_, "masked_fill_")


# --- dtypes -------------------------------------------------------------------------------------
def astype(x: Tensor, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Tensor:
    """``x`` converted to ``dtype``; the gradient is converted back.

    ``device`` must be None or ``x``'s device: tensors stay on the device they were made on.
    """
    x = as_tensor(x, "astype")
    if device is not None and device != x.device:
        msg = (
            f"astype: cannot move a tensor on {x.device} to {device}; "
            "create it on that device instead (device= of dualgrad.asarray)"
        )
        raise ValueError(msg)
    dtype = as_dtype(dtype)
    if dtype is x.dtype and not copy:
        return x
    x._backend.native_dtype(dtype)  # a dtype the backend cannot hold raises here, as on creation
    if x.dtype.is_complex and not dtype.is_complex:
        x = apply(ops.real, (x,), {})  # the real part, as PyTorch keeps (NumPy would warn)
        if dtype is x.dtype:
            return x
    return apply(ops.astype, (x,), {"dtype": dtype})


def _clone(self: Tensor) -> Tensor:
    """A copy that stays in the graph (its gradient flows back to ``self``)."""
    if self.dtype.kind == "b":  # the standard's positive has no bool; bool carries no graph
        return astype(self, self.dtype, copy=True)
    return named(positive(self), "CloneBackward0")


method(astype)
method(_clone, "clone")


# --- PyTorch's in-place forms and one-sided clamps ----------------------------------------------
def _clamp_min(self: Tensor, min: Any) -> Tensor:
    """``clamp(min=min)``."""
    return clip(self, min, None)


def _clamp_max(self: Tensor, max: Any) -> Tensor:
    """``clamp(max=max)``."""
    return clip(self, None, max)


def _rsqrt(x: Tensor) -> Tensor:
    """``1 / sqrt(x)``, as ``torch.rsqrt``."""
    return reciprocal(sqrt(x))


method(_clamp_min, "clamp_min")
method(_clamp_max, "clamp_max")
method(_rsqrt, "rsqrt")
for _function, _name in (
    (abs, "abs"),
    (negative, "neg"),
    (exp, "exp"),
    (log, "log"),
    (sqrt, "sqrt"),
    (_rsqrt, "rsqrt"),
    (sin, "sin"),
    (cos, "cos"),
    (tanh, "tanh"),
    (sigmoid, "sigmoid"),
    (reciprocal, "reciprocal"),
    (square, "square"),
    (floor, "floor"),
    (ceil, "ceil"),
    (trunc, "trunc"),
    (pow, "pow"),
    (_clamp_min, "clamp_min"),
    (_clamp_max, "clamp_max"),
):
    method(in_place(_function, f"{_name}_"), f"{_name}_")
