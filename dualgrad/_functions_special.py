"""Special functions under SciPy's names (``erfc``, ``gammaln``, ``xlogy``, ...), differentiable.

Public functions here are re-exported by ``dualgrad._functions`` (so derivative rules find them
on the differentiable namespace: ``gammaln``'s rule calls ``polygamma``) and, with the
compositions SciPy users expect (``expit``, ``logit``, ``ndtr``, ``softmax``, ...), by
``dualgrad.special``. Integer and bool tensors are computed in the default float dtype.
"""

from __future__ import annotations

__all__ = [
    "digamma",
    "erfc",
    "erfinv",
    "gammaln",
    "log_ndtr",
    "ndtri",
    "polygamma",
    "xlog1py",
    "xlogy",
]

import operator

from . import ops
from ._dispatch import apply
from ._functions import _tensor
from ._functions_elementwise import _binary, _binary_doc, _floating, _unary, _unary_doc
from .tensor import Tensor

erfc = _unary(ops.erfc, _unary_doc("complementary error function ``1 - erf(x)``", "everywhere"))
erfinv = _unary(ops.erfinv, _unary_doc("inverse error function", "on (-1, 1)"))
gammaln = _unary(
    ops.gammaln,
    _unary_doc(
        "``log|gamma(x)|``", "away from the poles at 0, -1, -2, ...; the derivative is ``digamma``"
    ),
)
log_ndtr = _unary(
    ops.log_ndtr,
    _unary_doc(
        "logarithm of the standard normal CDF, accurate far into the lower tail,", "everywhere"
    ),
)
ndtri = _unary(ops.ndtri, _unary_doc("inverse of the standard normal CDF", "on (0, 1)"))
xlogy = _binary(
    ops.xlogy,
    _binary_doc(
        "``x1 * log(x2)``, 0 where ``x1 == 0`` (SciPy's ``xlogy``)",
        "differentiable for ``x2 > 0``",
    ),
)
xlog1py = _binary(
    ops.xlog1py,
    _binary_doc(
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
    (x,) = _floating("polygamma", _tensor(x, "polygamma"))
    return apply(ops.polygamma, (x,), {"n": order})


def digamma(x: Tensor, /) -> Tensor:
    """The logarithmic derivative of the gamma function, ``polygamma(0, x)``.

    Example:
        >>> import dualgrad
        >>> dualgrad.special.digamma(dualgrad.tensor([1.0]))  # minus Euler's constant
        tensor([-0.5772])
    """
    return polygamma(0, x)
