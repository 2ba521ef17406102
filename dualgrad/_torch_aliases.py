"""PyTorch spellings of Array API functions, for code written against ``torch``."""

from __future__ import annotations

from collections.abc import Sequence

from . import functions as fn
from .tensor import Tensor

__all__ = ["cat", "clamp", "div", "mul", "neg", "permute", "sub", "transpose", "unsqueeze"]

mul = fn.multiply
sub = fn.subtract
div = fn.divide
neg = fn.negative
clamp = fn.clip
unsqueeze = fn.expand_dims


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along ``dim`` (``concat``)."""
    return fn.concat(tensors, axis=dim)


def permute(x: Tensor, dims: Sequence[int]) -> Tensor:
    """Reorder the axes (``permute_dims``)."""
    return fn.permute_dims(x, dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two axes."""
    return x.transpose(dim0, dim1)  # type: ignore[attr-defined, no-any-return]
