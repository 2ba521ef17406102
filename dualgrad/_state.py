"""Helpers shared by ``nn.Module``, the optimizers and their state dicts."""

from __future__ import annotations

__all__ = ["converted_like", "zero_grads"]

from collections.abc import Iterable

from .tensor import Tensor


def zero_grads(params: Iterable[Tensor], set_to_none: bool) -> None:
    """Reset each tensor's gradient: to None, or to zeros cut from any graph."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad.detach_()
            p.grad.zero_()


def converted_like(value: Tensor, target: Tensor) -> Tensor:
    """A new constant Tensor with ``value``'s values on ``target``'s backend, in its dtype.

    Loading state is an explicit copy (as PyTorch's across devices), so unlike an operation it
    may cross backends.
    """
    if value._backend is target._backend:
        array = value._array
    else:
        array = target._backend.from_numpy(value._backend.to_numpy(value._array))
    fresh = Tensor._wrap(array, target._backend)
    return fresh if fresh.dtype is target.dtype else fresh.astype(target.dtype)
