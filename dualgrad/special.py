"""Special functions under SciPy's names, differentiable in both modes on every backend.

The forwards the Array API lacks come from the backend: ``jax.scipy.special`` on JAX, and
``scipy.special`` (the optional ``scipy`` extra) on NumPy and other backends; the rest are
written with the standard's functions. Every derivative rule is itself differentiable. The
functions are the special family's (``dualgrad.functions.special``) and, under SciPy's names,
a few of the others'; this namespace only re-exports them.

Example:
    >>> import dualgrad
    >>> x = dualgrad.tensor([0.5, 2.0], requires_grad=True)
    >>> dualgrad.special.xlogy(x, x).sum().backward()  # d/dx x log x = log x + 1
    >>> x.grad
    tensor([0.3069, 1.6931])
"""

from __future__ import annotations

from .functions.elementwise import sigmoid as expit
from .functions.nn import log_sigmoid as log_expit
from .functions.nn import log_softmax, softmax
from .functions.reduce import logsumexp
from .functions.special import (
    digamma,
    erf,
    erfc,
    erfinv,
    gammaln,
    log_ndtr,
    logit,
    ndtr,
    ndtri,
    polygamma,
    xlog1py,
    xlogy,
)

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
