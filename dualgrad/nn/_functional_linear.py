"""``dropout`` and ``linear``, as ``torch.nn.functional``, and the in-place helper of the
activations (here so that attention can use them without importing ``functional``)."""

from __future__ import annotations

__all__ = ["applied", "dropout", "linear"]

from typing import Any

from .. import functions as _functions
from .. import ops
from .._dispatch import apply, named
from ..functions._args import as_tensor, require_floating
from ..tensor import Tensor


def applied(x: Tensor, inplace: bool, compute: Any, grad_fn: str | None = None) -> Tensor:
    """``compute(x)``, its node named ``grad_fn`` if given (``_dispatch.named``); with
    ``inplace``, ``x`` overwritten with it, as PyTorch's ``relu_`` etc.

    The value is computed from a copy, so the operation's saved input is not the tensor that
    the in-place update then changes (a leaf that requires grad still refuses the update).
    """
    if not inplace:
        return compute(x) if grad_fn is None else named(compute(x), grad_fn)
    return x.copy_(compute(x.clone()))


# --- dropout, linear ------------------------------------------------------------------------
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The mask comes from the input's backend generator, which ``dualgrad.manual_seed`` seeds.

    Raises:
        ValueError: ``p`` is outside [0, 1].
    """
    x = require_floating(input, "dropout")
    if not 0.0 <= p <= 1.0:
        msg = f"dropout probability has to be between 0 and 1, but got {p}"
        raise ValueError(msg)
    if not training or p == 0.0:
        return x
    backend = x._backend
    uniform = Tensor._wrap(backend.rand(x.shape, x.dtype), backend)
    scale = _functions.astype(uniform >= p, x.dtype) * (0.0 if p == 1.0 else 1.0 / (1.0 - p))
    return applied(x, inplace, lambda v: v * scale)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``; ``weight`` is ``(out_features, in_features)``.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.linear(dualgrad.ones(2, 3), dualgrad.ones(4, 3), dualgrad.zeros(4)).shape
        torch.Size([2, 4])
    """
    x, w = as_tensor(input, "linear"), as_tensor(weight, "linear")
    if w.ndim == 2 and x.ndim >= 1 and x.shape[-1] == w.shape[1] and x.dtype == w.dtype:
        out = apply(ops.linear, (x, w), {})  # one node for the product with the transpose
    else:  # the general path promotes, or says what does not fit
        out = _functions.matmul(x, _functions.matrix_transpose(w) if w.ndim >= 2 else w)
    if bias is None:
        return out
    # PyTorch's names: one addmm for a batch of rows, a product reshaped otherwise.
    return named(
        out + as_tensor(bias, "linear"), "AddmmBackward0" if x.ndim == 2 else "ViewBackward0"
    )
