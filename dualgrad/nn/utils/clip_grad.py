"""Gradient clipping, as ``torch.nn.utils``: ``clip_grad_norm_`` and ``clip_grad_value_``."""

from __future__ import annotations

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

import math
from collections.abc import Iterable
from typing import Any

from ... import functions as fn
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor


def _gradients(parameters: Tensor | Iterable[Tensor], name: str) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            msg = f"{name}: expected Tensors, got a {type(p).__name__}"
            raise TypeError(msg)
    return [p.grad for p in params if p.grad is not None]


def _norm(x: Tensor, norm_type: float) -> Tensor:
    return fn.linalg.vector_norm(x, ord=norm_type)


@no_grad()
def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale the gradients in place so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if concatenated; each gradient is
    multiplied by ``min(1, max_norm / (norm + 1e-6))``, as PyTorch does.

    Args:
        parameters: a Tensor or an iterable of Tensors; those without a gradient are skipped.
        max_norm: the largest norm allowed.
        norm_type: the p of the p-norm (``math.inf``: the largest absolute value).
        error_if_nonfinite: raise when the norm is NaN or infinite, instead of scaling.
        foreach: accepted for PyTorch's signature (one implementation here).

    Returns:
        The norm before clipping, a 0-d Tensor (0. when there is no gradient).

    Raises:
        RuntimeError: with ``error_if_nonfinite``, a NaN or infinite norm (nothing is scaled).
        TypeError: an element that is not a Tensor.

    Example:
        >>> import dualgrad
        >>> w = dualgrad.tensor([3.0, 4.0], requires_grad=True)
        >>> (w * w / 2).sum().backward()
        >>> dualgrad.nn.utils.clip_grad_norm_([w], max_norm=1.0)
        tensor(5.)
        >>> w.grad
        tensor([0.6000, 0.8000])
    """
    grads = _gradients(parameters, "clip_grad_norm_")
    if not grads:
        return fn.tensor(0.0)
    norm_type = float(norm_type)
    norms = fn.stack([_norm(g, norm_type) for g in grads])
    total = _norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        msg = (
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
        raise RuntimeError(msg)
    scale = fn.clip(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale.astype(g.dtype))
    return total


@no_grad()
def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: Any = None
) -> None:
    """Clamp every gradient elementwise to ``[-clip_value, clip_value]``, in place.

    Raises:
        TypeError: an element that is not a Tensor.

    Example:
        >>> import dualgrad
        >>> w = dualgrad.tensor([1.0, -5.0], requires_grad=True)
        >>> (w * w).sum().backward()
        >>> dualgrad.nn.utils.clip_grad_value_([w], clip_value=3.0)
        >>> w.grad
        tensor([ 2., -3.])
    """
    clip_value = float(clip_value)
    for g in _gradients(parameters, "clip_grad_value_"):
        g.copy_(fn.clip(g, -clip_value, clip_value))
