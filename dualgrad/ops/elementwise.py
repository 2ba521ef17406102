"""Elementwise primitives. Inputs arrive promoted to one dtype, in shapes that broadcast
together; tangents arrive lined up with the output's shape, and cotangents are summed back to
the inputs' shapes by the engines (see ``_primitive``'s docstring).

Complex inputs: a rule ``g * f'(x)`` is right as written for a holomorphic function (exp, log,
the trigonometric functions, products, quotients, powers): the rules transpose under the pairing
``Re(sum(u * v))`` (``_primitive``'s docstring). Functions that are not holomorphic (``abs``,
and the complex parts in ``numbers``) have rules of their own.
"""

from __future__ import annotations

import math

from ._primitive import Primitive, binary, nondiff, piecewise_constant, unary


def _nonzero(xp, ans):
    """``ans`` with its zeros replaced by ones: a divisor for rules whose numerator is 0 there."""
    return xp.where(ans == 0, xp.ones_like(ans), ans)


def _ones_where(xp, mask, like):
    """``mask`` as 1.0 / 0.0 in the dtype of ``like``."""
    return xp.astype(mask, like.dtype)


# --- linear ---------------------------------------------------------------------------------
add = Primitive(
    "add",
    forward=lambda xp, x, y: x + y,
    vjp=(lambda xp, g, ans, x, y: g, lambda xp, g, ans, x, y: g),
    jvp=(lambda xp, t, ans, x, y: t, lambda xp, t, ans, x, y: t),
    linear=True,
    elementwise=True,
)
subtract = Primitive(
    "subtract",
    forward=lambda xp, x, y: x - y,
    vjp=(lambda xp, g, ans, x, y: g, lambda xp, g, ans, x, y: -g),
    jvp=(lambda xp, t, ans, x, y: t, lambda xp, t, ans, x, y: -t),
    linear=True,
    elementwise=True,
    grad_fn="Sub",
)
negative = Primitive(
    "negative",
    forward=lambda xp, x: -x,
    vjp=(lambda xp, g, ans, x: -g,),
    jvp=(lambda xp, t, ans, x: -t,),
    linear=True,
    elementwise=True,
    grad_fn="Neg",
)
positive = Primitive(
    "positive",
    forward=lambda xp, x: +x,
    vjp=(lambda xp, g, ans, x: g,),
    jvp=(lambda xp, t, ans, x: t,),
    linear=True,
    elementwise=True,
)


def _astype_vjp(xp, g, ans, x, *, dtype):
    # Real to complex embeds the reals: its transpose keeps the real part. (Complex to real is
    # never this primitive: dualgrad.astype takes the real part first.)
    if dtype.is_complex and not xp.isdtype(x.dtype, "complex floating"):
        g = xp.real(g)
    return xp.astype(g, x.dtype)


astype = Primitive(
    "astype",
    # ``dtype`` is a dualgrad DType; both namespaces spell their dtypes by the same names.
    forward=lambda xp, x, *, dtype: xp.astype(x, getattr(xp, dtype.name)),
    vjp=(_astype_vjp,),
    jvp=(lambda xp, t, ans, x, *, dtype: xp.astype(t, ans.dtype),),
    linear=True,
    grad_fn="ToCopy",
)

# --- products and quotients -----------------------------------------------------------------
multiply = binary(
    "multiply",
    dx=lambda xp, x, y, ans: y,
    dy=lambda xp, x, y, ans: x,
    forward=lambda xp, x, y: x * y,
    grad_fn="Mul",
    reads=((1,), (0,)),  # each partial is the other factor
    reads_ans=False,
)
divide = binary(
    "divide",
    dx=lambda xp, x, y, ans: 1.0 / y,
    dy=lambda xp, x, y, ans: -ans / y,
    forward=lambda xp, x, y: x / y,
    grad_fn="Div",
    reads=((1,), (1,)),  # both partials read the divisor (and the output), not the dividend
)


# --- pow ------------------------------------------------------------------------------------
def _pow_dx(xp, x, y, ans):
    # y * x**(y-1) is 0 * inf at x = 0, y = 0; the derivative of x**0 is 0 (PyTorch agrees).
    return xp.where(y == 0, xp.zeros_like(x), y * x ** (y - 1))


def _pow_dy(xp, x, y, ans):
    # ans * log(x), with log(0) * 0 taken as 0 (the limit for y > 0), as PyTorch does.
    safe_x = xp.where(x == 0, xp.ones_like(x), x)
    return ans * xp.log(safe_x)


pow = binary("pow", dx=_pow_dx, dy=_pow_dy, forward=lambda xp, x, y: x**y)


# Small integer powers by multiplication, as PyTorch computes them: the library's general power
# (libm's pow per element) is tens of times slower on negative bases, ~150 us for 2,000 values.
# At most two roundings more than pow's one: the same value to within an ulp or two. A negative
# power is the reciprocal of the positive one, so where x**n leaves the normal range (float32:
# beyond about 1e38 or below 1e-38) the result is 0 or short of digits where pow's is subnormal
# or large.
_MULTIPLIED = {
    2: lambda x: x * x,
    3: lambda x: x * x * x,
    4: lambda x: (x * x) * (x * x),
}


def _power(xp, x, exponent):
    """``x ** exponent``, by multiplication for the integers 2 to 4 and -2 to -4 (3.0 too).

    NumPy has fast paths of its own for 0, 1, -1 and 0.5.
    """
    if exponent in _MULTIPLIED:
        return _MULTIPLIED[exponent](x)
    if -exponent in _MULTIPLIED:
        return 1.0 / _MULTIPLIED[-exponent](x)
    return x**exponent


def _scalar_pow_d(xp, x, exponent):
    # The derivative as cheap as the exponent allows; x**0 is constant (0 * x**-1 would be nan
    # at x = 0).
    if exponent == 0:
        return xp.zeros_like(x)
    if exponent == 1:
        return xp.ones_like(x)
    if exponent == 2:
        return x + x  # exactly 2 * x, without converting a Python number
    return exponent * _power(xp, x, exponent - 1)


# ``x ** c`` for a Python number ``c``, PyTorch's pow(Tensor, Scalar): the exponent is a param,
# so neither pass computes the log or the where that a tensor exponent needs.
pow_scalar = Primitive(
    "pow_scalar",
    forward=lambda xp, x, *, exponent: _power(xp, x, exponent),
    vjp=(lambda xp, g, ans, x, *, exponent: g * _scalar_pow_d(xp, x, exponent),),
    jvp=(lambda xp, t, ans, x, *, exponent: t * _scalar_pow_d(xp, x, exponent),),
    elementwise=True,
    grad_fn="Pow",
)

# --- transcendental -------------------------------------------------------------------------
# ``reads_ans=False`` where the derivative is a function of ``x`` alone: a recorded backward
# (``create_graph=True``) then need not recompute the output as a function of the input.
exp = unary("exp", d=lambda xp, x, ans: ans)
log = unary("log", d=lambda xp, x, ans: 1.0 / x, reads_ans=False)
sin = unary("sin", d=lambda xp, x, ans: xp.cos(x), reads_ans=False)
cos = unary("cos", d=lambda xp, x, ans: -xp.sin(x), reads_ans=False)
tanh = unary("tanh", d=lambda xp, x, ans: 1.0 - ans * ans)
sqrt = unary("sqrt", d=lambda xp, x, ans: 0.5 / ans)
square = unary(
    "square", d=lambda xp, x, ans: 2.0 * x, forward=lambda xp, x: x * x, reads_ans=False
)


# The modulus of a complex x is not holomorphic: its tangent is Re(conj(x) t) / |x|, whose
# transpose is g conj(x) / |x|. Its output is real, so a real input is the case whose dtypes
# agree (one comparison, in abs's rules only). At 0 the subgradient 0, as sign(0) is.
def _abs_vjp(xp, g, ans, x):
    if ans.dtype == x.dtype:
        return g * xp.sign(x)
    return g * xp.conj(x) / _nonzero(xp, ans)


def _abs_jvp(xp, t, ans, x):
    if ans.dtype == x.dtype:
        return t * xp.sign(x)
    return xp.real(xp.conj(x) * t) / _nonzero(xp, ans)


abs = Primitive(
    "abs", forward=lambda xp, x: xp.abs(x), vjp=(_abs_vjp,), jvp=(_abs_jvp,), elementwise=True
)
sign = piecewise_constant("sign")
floor = piecewise_constant("floor")
ceil = piecewise_constant("ceil")
trunc = piecewise_constant("trunc")
round = piecewise_constant("round")
remainder = binary(
    "remainder",
    dx=lambda xp, x, y, ans: xp.ones_like(x),
    dy=lambda xp, x, y, ans: -xp.floor(x / y),
    forward=lambda xp, x, y: x % y,
)


# --- maximum, minimum, clip -----------------------------------------------------------------
# At ties the gradient is split evenly between the two inputs, as PyTorch does.
def _share_of_first(xp, wins, ties, like):
    return _ones_where(xp, wins, like) + 0.5 * _ones_where(xp, ties, like)


maximum = binary(
    "maximum",
    dx=lambda xp, x, y, ans: _share_of_first(xp, x > y, x == y, x),
    dy=lambda xp, x, y, ans: _share_of_first(xp, y > x, x == y, x),
)
minimum = binary(
    "minimum",
    dx=lambda xp, x, y, ans: _share_of_first(xp, x < y, x == y, x),
    dy=lambda xp, x, y, ans: _share_of_first(xp, y < x, x == y, x),
)


def _where_else_zero(xp, mask, g):
    return xp.where(mask, g, xp.zeros_like(g))


# clip(x, low, high): x passes its gradient where it lies within [low, high], bounds included
# (PyTorch's clamp); outside, the bound it was clipped to receives it. Assumes low <= high.
clip = Primitive(
    "clip",
    forward=lambda xp, x, low, high: xp.minimum(xp.maximum(x, low), high),
    vjp=(
        lambda xp, g, ans, x, low, high: _where_else_zero(xp, (x >= low) & (x <= high), g),
        lambda xp, g, ans, x, low, high: _where_else_zero(xp, x < low, g),
        lambda xp, g, ans, x, low, high: _where_else_zero(xp, x > high, g),
    ),
    jvp=(
        lambda xp, t, ans, x, low, high: _where_else_zero(xp, (x >= low) & (x <= high), t),
        lambda xp, t, ans, x, low, high: _where_else_zero(xp, x < low, t),
        lambda xp, t, ans, x, low, high: _where_else_zero(xp, x > high, t),
    ),
    elementwise=True,
    grad_fn="Clamp",
)

where = Primitive(
    "where",
    forward=lambda xp, condition, x, y: xp.where(condition, x, y),
    vjp=(
        None,
        lambda xp, g, ans, condition, x, y: _where_else_zero(xp, condition, g),
        lambda xp, g, ans, condition, x, y: _where_else_zero(xp, ~condition, g),
    ),
    jvp=(
        None,
        lambda xp, t, ans, condition, x, y: _where_else_zero(xp, condition, t),
        lambda xp, t, ans, condition, x, y: _where_else_zero(xp, ~condition, t),
    ),
    elementwise=True,
)

# --- integer-valued and boolean results: no gradients ---------------------------------------
floor_divide = nondiff("floor_divide", 2)
equal = nondiff("equal", 2)
not_equal = nondiff("not_equal", 2)
less = nondiff("less", 2)
less_equal = nondiff("less_equal", 2)
greater = nondiff("greater", 2)
greater_equal = nondiff("greater_equal", 2)
logical_and = nondiff("logical_and", 2)
logical_or = nondiff("logical_or", 2)
logical_xor = nondiff("logical_xor", 2)
logical_not = nondiff("logical_not", 1)
bitwise_and = nondiff("bitwise_and", 2)
bitwise_or = nondiff("bitwise_or", 2)
bitwise_xor = nondiff("bitwise_xor", 2)
bitwise_invert = nondiff("bitwise_invert", 1)
isnan = nondiff("isnan", 1)
isinf = nondiff("isinf", 1)
isfinite = nondiff("isfinite", 1)


# --- inverse trigonometric, hyperbolic, logarithms ------------------------------------------
# Products like (1 - x) * (1 + x) instead of 1 - x * x keep precision near the domain's ends.
_LN2 = 0.6931471805599453
_LN10 = 2.302585092994046

tan = unary("tan", d=lambda xp, x, ans: 1.0 + ans * ans)
asin = unary("asin", d=lambda xp, x, ans: 1.0 / xp.sqrt((1.0 - x) * (1.0 + x)), reads_ans=False)
acos = unary("acos", d=lambda xp, x, ans: -1.0 / xp.sqrt((1.0 - x) * (1.0 + x)), reads_ans=False)
atan = unary("atan", d=lambda xp, x, ans: 1.0 / (1.0 + x * x), reads_ans=False)
sinh = unary("sinh", d=lambda xp, x, ans: xp.cosh(x), reads_ans=False)
cosh = unary("cosh", d=lambda xp, x, ans: xp.sinh(x), reads_ans=False)
# 1 / sqrt(x^2 + 1) through hypot, which does not overflow for large |x|.
asinh = unary("asinh", d=lambda xp, x, ans: 1.0 / xp.hypot(x, xp.ones_like(x)), reads_ans=False)
acosh = unary("acosh", d=lambda xp, x, ans: 1.0 / xp.sqrt((x - 1.0) * (x + 1.0)), reads_ans=False)
atanh = unary("atanh", d=lambda xp, x, ans: 1.0 / ((1.0 - x) * (1.0 + x)), reads_ans=False)
expm1 = unary("expm1", d=lambda xp, x, ans: ans + 1.0)
log1p = unary("log1p", d=lambda xp, x, ans: 1.0 / (1.0 + x), reads_ans=False)
log2 = unary("log2", d=lambda xp, x, ans: 1.0 / (x * _LN2), reads_ans=False)
log10 = unary("log10", d=lambda xp, x, ans: 1.0 / (x * _LN10), reads_ans=False)


# sigmoid: 1 / (1 + exp(-x)) overflows exp for x << 0; with e = exp(-|x|) <= 1 neither branch
# of the where overflows, and sigmoid(x) = e / (1 + e) there keeps tiny results accurate.
def _sigmoid_forward(xp, x):
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


sigmoid = unary("sigmoid", d=lambda xp, x, ans: ans * (1.0 - ans), forward=_sigmoid_forward)


# --- sinc -----------------------------------------------------------------------------------
# sin(pi x) / (pi x), and its limit 1 at x = 0 (NumPy's and PyTorch's normalized sinc). The
# derivative (cos(pi x) - sinc(x)) / x has the limit 0 there. Both divide by a safe x, so that
# the branch where() discards computes no 0 / 0 (nor a NaN derivative).
def _sinc_forward(xp, x):
    zero = x == 0
    y = math.pi * xp.where(zero, xp.ones_like(x), x)
    return xp.where(zero, xp.ones_like(x), xp.sin(y) / y)


def _sinc_derivative(xp, x, ans):
    zero = x == 0
    safe = xp.where(zero, xp.ones_like(x), x)
    return xp.where(zero, xp.zeros_like(x), (xp.cos(math.pi * safe) - ans) / safe)


sinc = unary("sinc", d=_sinc_derivative, forward=_sinc_forward)


# --- atan2, hypot, logaddexp, copysign ------------------------------------------------------
# atan2(x1, x2) is the angle of the point (x2, x1); dividing by hypot twice avoids overflowing
# x1^2 + x2^2. At the origin, where the angle has no derivative, both partials are 0, as
# PyTorch's backward gives (its forward mode gives nan there).
def _atan2_dx(xp, x, y, ans):
    h = _nonzero(xp, xp.hypot(x, y))
    return y / h / h


def _atan2_dy(xp, x, y, ans):
    h = _nonzero(xp, xp.hypot(x, y))
    return -x / h / h


atan2 = binary("atan2", dx=_atan2_dx, dy=_atan2_dy)


# hypot at the origin: the zero subgradient (as abs has at 0, and as the 2-norm has, in
# PyTorch too) rather than 0 / 0 (PyTorch's hypot gives nan there).
hypot = binary(
    "hypot",
    dx=lambda xp, x, y, ans: x / _nonzero(xp, ans),
    dy=lambda xp, x, y, ans: y / _nonzero(xp, ans),
)
# The native kernels are stable (max(x, y) + log1p(exp(-|x - y|))); exp(x - ans) <= 1.
logaddexp = binary(
    "logaddexp",
    dx=lambda xp, x, y, ans: xp.exp(x - ans),
    dy=lambda xp, x, y, ans: xp.exp(y - ans),
)


# copysign(x, y) = |x| with y's sign bit: +-1 in x (signed zeros included), piecewise constant in
# y, whose derivative is zero wherever it exists (PyTorch agrees).
def _copysign_dx(xp, x, y, ans):
    one = xp.ones_like(x)
    return xp.where(xp.signbit(x) == xp.signbit(y), one, -one)


copysign = Primitive(
    "copysign",
    forward=lambda xp, x, y: xp.copysign(x, y),
    vjp=(
        lambda xp, g, ans, x, y: g * _copysign_dx(xp, x, y, ans),
        lambda xp, g, ans, x, y: xp.zeros_like(g),
    ),
    jvp=(
        lambda xp, t, ans, x, y: t * _copysign_dx(xp, x, y, ans),
        lambda xp, t, ans, x, y: xp.zeros_like(t),
    ),
    elementwise=True,
)
signbit = nondiff("signbit", 1)
bitwise_left_shift = nondiff("bitwise_left_shift", 2)
bitwise_right_shift = nondiff("bitwise_right_shift", 2)

__all__ = [name for name, value in globals().items() if isinstance(value, Primitive)]
