"""Neural-network functions with numerically stable primitives (softmax, log_softmax, losses ...).

Public functions here are re-exported by ``dualgrad._functions`` (so derivative rules find them on
the differentiable namespace) and by ``dualgrad``. The activations and losses themselves live in
``dualgrad.nn.functional``, under PyTorch's names.
"""

from __future__ import annotations

__all__ = ["erf"]

from typing import Any

from . import ops
from ._dispatch import elementwise
from .config import get_default_dtype
from .tensor import Tensor


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
    return elementwise(ops.erf, _floating(x, "erf"))


def _floating(x: Any, op_name: str) -> Tensor:
    """``x`` as a Tensor, integer and bool ones converted to the default float dtype."""
    if not isinstance(x, Tensor):
        msg = (
            f"{op_name}: expected a Tensor, got {type(x).__name__}; wrap it with dualgrad.asarray"
        )
        raise TypeError(msg)
    if x.dtype.is_floating_point or x.dtype.is_complex:
        return x
    from ._functions import astype

    return astype(x, get_default_dtype())
