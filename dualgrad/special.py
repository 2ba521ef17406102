"""Special functions under SciPy's names, differentiable in both modes on every backend.

The forwards the Array API lacks come from the backend: ``jax.scipy.special`` on JAX, and
``scipy.special`` (the optional ``scipy`` extra) on NumPy and other backends; the rest are
written with the standard's functions. Every derivative rule is itself differentiable.

Example:
    >>> import dualgrad
    >>> x = dualgrad.tensor([0.5, 2.0], requires_grad=True)
    >>> dualgrad.special.xlogy(x, x).sum().backward()  # d/dx x log x = log x + 1
    >>> x.grad
    tensor([0.3069, 1.6931])
"""

from __future__ import annotations

__all__ = [
    "digamma",
    "erf",
    "erfc",
    "erfinv",
    "expit",
    "gammaln",
    "log_expit",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "ndtr",
    "ndtri",
    "polygamma",
    "softmax",
    "xlog1py",
    "xlogy",
]

import math
from typing import Any

from . import ops
from ._dispatch import apply
from ._functions import _tensor, log, log1p, normalize_axes
from ._functions_elementwise import _floating
from ._functions_elementwise import sigmoid as expit
from ._functions_nn import erf
from ._functions_reduce import logsumexp
from ._functions_special import (
    digamma,
    erfc,
    erfinv,
    gammaln,
    log_ndtr,
    ndtri,
    polygamma,
    xlog1py,
    xlogy,
)
from .tensor import Tensor

_SQRT_HALF = math.sqrt(0.5)


def ndtr(x: Tensor, /) -> Tensor:
    """The standard normal CDF, ``erfc(-x / sqrt(2)) / 2`` (accurate in the lower tail).

    Example:
        >>> import dualgrad
        >>> dualgrad.special.ndtr(dualgrad.tensor([0.0]))
        tensor([0.5000])
    """
    return 0.5 * erfc(-_SQRT_HALF * _floating_tensor(x, "ndtr"))


def logit(x: Tensor, /) -> Tensor:
    """``log(x / (1 - x))``, the inverse of ``expit``; differentiable on (0, 1).

    Example:
        >>> import dualgrad
        >>> dualgrad.special.logit(dualgrad.tensor([0.5]))
        tensor([0.])
    """
    x = _floating_tensor(x, "logit")
    return log(x) - log1p(-x)


def log_expit(x: Tensor, /) -> Tensor:
    """``log(expit(x))``, finite for any ``x``.

    Example:
        >>> import dualgrad
        >>> dualgrad.special.log_expit(dualgrad.tensor([-1000.0]))
        tensor([-1000.])
    """
    return apply(ops.log_sigmoid, (_floating_tensor(x, "log_expit"),), {})


def softmax(x: Tensor, /, *, axis: Any = None) -> Tensor:
    """``exp(x)`` normalized to sum to 1 over ``axis`` (every axis when None), as SciPy's.

    Example:
        >>> import dualgrad
        >>> dualgrad.special.softmax(dualgrad.tensor([1000.0, 1000.0]))
        tensor([0.5000, 0.5000])
    """
    x = _floating_tensor(x, "softmax")
    return apply(ops.softmax, (x,), {"axis": normalize_axes(axis, x.ndim, "softmax")})


def log_softmax(x: Tensor, /, *, axis: Any = None) -> Tensor:
    """``x - logsumexp(x)`` over ``axis`` (every axis when None): finite for any ``x``.

    Example:
        >>> import dualgrad
        >>> dualgrad.special.log_softmax(dualgrad.tensor([0.0, 0.0]))
        tensor([-0.6931, -0.6931])
    """
    x = _floating_tensor(x, "log_softmax")
    return apply(ops.log_softmax, (x,), {"axis": normalize_axes(axis, x.ndim, "log_softmax")})


def _floating_tensor(x: Any, op_name: str) -> Tensor:
    (x,) = _floating(op_name, _tensor(x, op_name))
    return x
