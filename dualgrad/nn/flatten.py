"""``Flatten`` and ``Unflatten``: merge a range of axes into one, and split one into several."""

from __future__ import annotations

__all__ = ["Flatten", "Unflatten"]

import math
from collections.abc import Sequence

from .. import functions as fn
from ..tensor import Tensor
from .module import Module


class Flatten(Module):
    """Merge the axes ``start_dim`` through ``end_dim`` into one, as ``torch.nn.Flatten``
    (by default every axis after the batch axis).

    Example:
        >>> import dualgrad
        >>> dualgrad.nn.Flatten()(dualgrad.ones(2, 3, 4)).shape
        torch.Size([2, 12])
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return fn.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size``, as ``torch.nn.Unflatten`` (one entry may be
    -1: inferred).

    Raises:
        TypeError: ``unflattened_size`` is not a sequence of ints.
        ValueError: (when called) sizes whose product is not the axis's length.

    Example:
        >>> import dualgrad
        >>> dualgrad.nn.Unflatten(1, (2, 5))(dualgrad.ones(3, 10)).shape
        torch.Size([3, 2, 5])
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, Sequence) or not all(
            isinstance(n, int) for n in unflattened_size
        ):
            msg = f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}"
            raise TypeError(msg)
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        if not -input.ndim <= self.dim < input.ndim:
            msg = (
                f"Unflatten: dim {self.dim} is out of range "
                f"for an input of shape {tuple(input.shape)}"
            )
            raise IndexError(msg)
        dim = self.dim % input.ndim
        length, sizes = input.shape[dim], self.unflattened_size
        known = math.prod(n for n in sizes if n != -1)
        fits = length == known if -1 not in sizes else known and length % known == 0
        if not fits or sizes.count(-1) > 1:
            msg = (
                f"Unflatten: sizes {sizes} do not split axis {self.dim} of length {length} "
                f"(shape {tuple(input.shape)})"
            )
            raise ValueError(msg)
        return fn.reshape(input, (*input.shape[:dim], *sizes, *input.shape[dim + 1 :]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
