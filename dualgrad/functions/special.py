"""Special functions (``dualgrad.ops.special``) under SciPy's names, differentiable.

``dualgrad.special`` re-exports them with the compositions SciPy users expect; ``erf`` is at the
top level too, as in PyTorch. The forwards the Array API lacks come from the backend (see
``dualgrad.backends``). Integer and bool tensors are computed in the default float dtype. They
are on the differentiable namespace too: ``gammaln``'s rule calls ``polygamma``.
"""

from __future__ import annotations

__all__ = [
    "digamma",
    "erf",
    "erfc",
    "erfinv",
    "gammaln",
    "log_ndtr",
    "logit",
    "ndtr",
    "ndtri",
    "polygamma",
    "xlog1py",
    "xlogy",
]

import math
import operator

from .. import ops
from .._dispatch import apply, elementwise
from ..tensor import Tensor, method
from ._args import as_tensor, floating
from .elementwise import binary, binary_doc, log, log1p, unary, unary_doc

_SQRT_HALF = math.sqrt(0.5)


def erf(x: Tensor, /) -> Tensor:
    """The error function, ``2/sqrt(pi) * integral of exp(-t**2) from 0 to x``, elementwise.

    Integer and bool tensors are computed in the default float dtype.

    Args:
        x: the input tensor.

    Returns:
        ``erf(x)``, with derivative ``2/sqrt(pi) * exp(-x**2)``.

    Raises:
        TypeError: ``x`` is not a Tensor.

    Example:
        >>> import dualgrad
        >>> dualgrad.erf(dualgrad.tensor([0.0, 10.0]))
        tensor([0., 1.])
    """
    return elementwise(ops.erf, floating(as_tensor(x, "erf")))


method(erf)

erfc = unary(ops.erfc, unary_doc("complementary error function ``1 - erf(x)``", "everywhere"))
erfinv = unary(ops.erfinv, unary_doc("inverse error function", "on (-1, 1)"))
gammaln = unary(
    ops.gammaln,
    unary_doc(
        "``log|gamma(x)|``", "away from the poles at 0, -1, -2, ...; the derivative is ``digamma``"
    ),
)
log_ndtr = unary(
    ops.log_ndtr,
    unary_doc(
        "logarithm of the standard normal CDF, accurate far into the lower tail,", "everywhere"
    ),
)
ndtri = unary(ops.ndtri, unary_doc("inverse of the standard normal CDF", "on (0, 1)"))
xlogy = binary(
    ops.xlogy,
    binary_doc(
        "``x1 * log(x2)``, 0 where ``x1 == 0`` (SciPy's ``xlogy``)",
        "differentiable for ``x2 > 0``",
    ),
)
xlog1py = binary(
    ops.xlog1py,
    binary_doc(
        "``x1 * log1p(x2)``, 0 where ``x1 == 0`` (SciPy's ``xlog1py``)",
        "differentiable for ``x2 > -1``",
    ),
)


def polygamma(n: int, x: Tensor, /) -> Tensor:
    """The ``n``-th derivative of ``digamma``, elementwise; its derivative is ``polygamma(n+1)``.

    Args:
        n: the order, a non-negative Python int (0 gives ``digamma``).
        x: a Tensor; integer and bool tensors are computed in the default float dtype.

    Returns:
        A Tensor of ``x``'s shape.

    Raises:
        TypeError: ``n`` is not an int, or ``x`` is not a Tensor.
        ValueError: ``n`` is negative.

    Example:
        >>> import dualgrad
        >>> dualgrad.special.polygamma(1, dualgrad.tensor([1.0]))  # pi**2 / 6
        tensor([1.6449])
    """
    try:
        order = operator.index(n)
    except TypeError:
        msg = f"polygamma: the order n must be an int, got {type(n).__name__}"
        raise TypeError(msg) from None
    if order < 0:
        msg = f"polygamma: the order n must be non-negative, got {order}"
        raise ValueError(msg)
    x = floating(as_tensor(x, "polygamma"))
    return apply(ops.polygamma, (x,), {"n": order})


def digamma(x: Tensor, /) -> Tensor:
    """The logarithmic derivative of the gamma function, ``polygamma(0, x)``.

    Example:
        >>> import dualgrad
        >>> dualgrad.special.digamma(dualgrad.tensor([1.0]))  # minus Euler's constant
        tensor([-0.5772])
    """
    return polygamma(0, x)


def ndtr(x: Tensor, /) -> Tensor:
    """The standard normal CDF, ``erfc(-x / sqrt(2)) / 2`` (accurate in the lower tail).

    Example:
        >>> import dualgrad
        >>> dualgrad.special.ndtr(dualgrad.tensor([0.0]))
        tensor([0.5000])
    """
    return 0.5 * erfc(-_SQRT_HALF * floating(as_tensor(x, "ndtr")))


def logit(x: Tensor, /) -> Tensor:
    """``log(x / (1 - x))``, the inverse of ``expit``; differentiable on (0, 1).

    Example:
        >>> import dualgrad
        >>> dualgrad.special.logit(dualgrad.tensor([0.5]))
        tensor([0.])
    """
    x = floating(as_tensor(x, "logit"))
    return log(x) - log1p(-x)
