"""Special functions (SciPy's names): the error function and its relatives, log-gamma and
polygamma, the normal distribution's tails, ``xlogy``.

The backends' namespaces carry the forwards the standard lacks (``erf``, ``erfc``, ``erfinv``,
``gammaln``, ``polygamma``, ``log_ndtr``, ``ndtri``; see ``dualgrad.backends``); ``xlogy`` and
``xlog1py`` are written with standard functions. Every derivative is again a function here or in
the standard, so derivatives of any order follow.
"""

from __future__ import annotations

import math

__all__ = [
    "erf",
    "erfc",
    "erfinv",
    "gammaln",
    "log_ndtr",
    "ndtri",
    "polygamma",
    "xlog1py",
    "xlogy",
]

from ._primitive import Primitive, unary

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_SQRT_2PI = math.sqrt(2.0 * math.pi)

erf = unary("erf", d=lambda xp, x, ans: _TWO_OVER_SQRT_PI * xp.exp(-(x * x)))
erfc = unary("erfc", d=lambda xp, x, ans: -_TWO_OVER_SQRT_PI * xp.exp(-(x * x)))
# x = erfinv(y) solves erf(x) = y, so dx/dy = 1 / erf'(x).
erfinv = unary("erfinv", d=lambda xp, x, ans: _SQRT_PI_OVER_TWO * xp.exp(ans * ans))
gammaln = unary("gammaln", d=lambda xp, x, ans: xp.polygamma(0, x))
# log Phi(x): Phi'(x) / Phi(x) = phi(x) / exp(ans), taken in logs so that it stays finite far
# into the lower tail, where Phi(x) underflows.
log_ndtr = unary("log_ndtr", d=lambda xp, x, ans: xp.exp(-0.5 * (x * x) - ans) * (1.0 / _SQRT_2PI))
# The inverse of Phi: 1 / phi(ans).
ndtri = unary("ndtri", d=lambda xp, x, ans: _SQRT_2PI * xp.exp(0.5 * (ans * ans)))


# polygamma(n, x), the n-th derivative of digamma; ``n`` is a non-negative Python int param.
def _polygamma_forward(xp, x, *, n):
    return xp.polygamma(n, x)


polygamma = Primitive(
    "polygamma",
    forward=_polygamma_forward,
    vjp=(lambda xp, g, ans, x, *, n: g * xp.polygamma(n + 1, x),),
    jvp=(lambda xp, t, ans, x, *, n: t * xp.polygamma(n + 1, x),),
    elementwise=True,
)


# xlogy(x, y) = x * log(y), taken as 0 where x == 0 (unless y is nan), as SciPy does. The
# logarithm's argument is replaced by a harmless one where x == 0, so no log(0) is evaluated.
def _x_times_log(xp, x, y, log, harmless):
    safe_y = xp.where(x == 0, xp.full_like(y, harmless), y)
    return xp.where(xp.isnan(y), y, x * log(safe_y))


def _x_over(xp, x, y):
    """``x / y``, with 0 where ``x == 0`` (the derivative of ``0 * log(y)`` is 0 in ``y``)."""
    safe_y = xp.where(x == 0, xp.ones_like(y), y)
    return x / safe_y


xlogy = Primitive(
    "xlogy",
    forward=lambda xp, x, y: _x_times_log(xp, x, y, xp.log, 1.0),
    vjp=(
        lambda xp, g, ans, x, y: g * xp.log(y),
        lambda xp, g, ans, x, y: g * _x_over(xp, x, y),
    ),
    jvp=(
        lambda xp, t, ans, x, y: t * xp.log(y),
        lambda xp, t, ans, x, y: t * _x_over(xp, x, y),
    ),
    elementwise=True,
)
xlog1py = Primitive(
    "xlog1py",
    forward=lambda xp, x, y: _x_times_log(xp, x, y, xp.log1p, 0.0),
    vjp=(
        lambda xp, g, ans, x, y: g * xp.log1p(y),
        lambda xp, g, ans, x, y: g * _x_over(xp, x, 1.0 + y),
    ),
    jvp=(
        lambda xp, t, ans, x, y: t * xp.log1p(y),
        lambda xp, t, ans, x, y: t * _x_over(xp, x, 1.0 + y),
    ),
    elementwise=True,
)
