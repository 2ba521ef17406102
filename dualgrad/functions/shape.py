"""Shape functions (``dualgrad.ops.shape``): reshaping, reordering and adding axes, broadcasting,
joining; and the Tensor methods with PyTorch's spellings of them (``view``, ``permute``, ``T``).

All are the linear primitives ``reshape``, ``permute_dims``, ``broadcast_to`` and ``concat``, or
compositions of them (a composition loses nothing here: the gradients are the same reshapes and
sums a dedicated rule would write). Functions that pick elements by position (``flip``,
``roll``, ``take``, ...) are the indexing family's.
"""

from __future__ import annotations

__all__ = [
    "broadcast_arrays",
    "broadcast_to",
    "concat",
    "expand_dims",
    "flatten",
    "moveaxis",
    "permute_dims",
    "reshape",
    "squeeze",
    "stack",
    "tile",
]

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import ops
from .._dispatch import apply, named
from .._views import view
from ..ops.shape import broadcast_shapes
from ..tensor import Tensor, method
from ._args import AxisError, as_tensor, axis_index, axis_indices, normalize_axes, promoted
from ._methods import shape_args


# --- reshaping ------------------------------------------------------------------------------
def reshape(x: Tensor, /, shape: Sequence[int], *, copy: bool | None = None) -> Tensor:
    """``x`` with a new shape of the same size (one length may be -1)."""
    x = as_tensor(x, "reshape")
    shape = tuple(int(n) for n in ((shape,) if isinstance(shape, int | np.integer) else shape))
    size = x.numel()
    if shape.count(-1) > 1:
        msg = f"reshape: only one length can be -1, got {shape}"
        raise ValueError(msg)
    if -1 in shape:
        known = -math.prod(shape)
        if known == 0 or size % known:
            msg = f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} into {shape}"
            raise ValueError(msg)
        shape = tuple(size // known if n == -1 else n for n in shape)
    if math.prod(shape) != size:
        msg = f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} into {shape}"
        raise ValueError(msg)
    if shape == x.shape:
        return x
    return apply(ops.reshape, (x,), {"shape": shape})


def flatten(x: Tensor, /, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """``x`` with the axes ``start_dim`` through ``end_dim`` (inclusive) merged into one.

    As ``torch.flatten``: a 0-d tensor becomes 1-d.

    Example:
        >>> import dualgrad
        >>> dualgrad.flatten(dualgrad.ones(2, 3, 4), 1).shape
        torch.Size([2, 12])
    """
    x = as_tensor(x, "flatten")
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = axis_index(start_dim, x.ndim, "flatten"), axis_index(end_dim, x.ndim, "flatten")
    if start > end:
        msg = (
            f"flatten: start_dim {start_dim} comes after "
            f"end_dim {end_dim} for shape {tuple(x.shape)}"
        )
        raise ValueError(msg)
    merged = math.prod(x.shape[start : end + 1])
    return reshape(x, (*x.shape[:start], merged, *x.shape[end + 1 :]))


def expand_dims(x: Tensor, /, axis: int = 0) -> Tensor:
    """``x`` with a new axis of length 1 at position ``axis``."""
    x = as_tensor(x, "expand_dims")
    if not -x.ndim - 1 <= axis <= x.ndim:
        msg = f"expand_dims: axis {axis} is out of range for a tensor with {x.ndim} dimensions"
        raise AxisError(msg)
    position = axis if axis >= 0 else x.ndim + 1 + axis
    return named(reshape(x, (*x.shape[:position], 1, *x.shape[position:])), "UnsqueezeBackward0")


def squeeze(x: Tensor, /, axis: Any = None, *, dim: Any = None) -> Tensor:
    """``x`` without the given length-1 axes (all of them when ``axis`` is None).

    ``axis`` (positional or keyword) is the Array API's: an axis whose length is not 1 is a
    ValueError. ``dim=`` is PyTorch's, which leaves such an axis as it is (as does the method,
    ``x.squeeze(dim)``).

    Raises:
        ValueError: an ``axis`` whose length is not 1.
        TypeError: both ``axis`` and ``dim``.
    """
    x = as_tensor(x, "squeeze")
    if dim is not None:
        if axis is not None:
            msg = "squeeze: give the axis once, as dim (PyTorch) or axis (Array API), not both"
            raise TypeError(msg)
        return _squeeze_method(x, dim)
    if axis is None:
        axes = tuple(i - x.ndim for i, n in enumerate(x.shape) if n == 1)
    else:
        axes = normalize_axes(axis, x.ndim, "squeeze")
        if builtins.any(x.shape[a] != 1 for a in axes):
            msg = (
                f"squeeze: axis {axis} of a tensor of shape "
                f"{tuple(x.shape)} does not have length 1; "
                "PyTorch's dim= leaves such an axis as it is"
            )
            raise ValueError(msg)
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i - x.ndim not in axes))


def _squeeze_method(self: Tensor, dim: Any = None) -> Tensor:
    """``self`` without the length-1 axes among ``dim`` (all of them when None); an axis of
    another length stays, as in PyTorch."""
    if dim is None:
        return squeeze(self)
    axes = normalize_axes(dim, self.ndim, "squeeze")
    return squeeze(self, axis=tuple(a for a in axes if self.shape[a] == 1))


# --- the methods PyTorch documents as views (see dualgrad._views) ---------------------------
class _Reshaped:
    """How a view of another shape is made from its base, and written back into it."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def make(self, base: Tensor) -> Tensor:
        return reshape(base, self.shape)

    def write(self, base: Tensor, values: Tensor) -> None:
        _copy_(base, reshape(values, base.shape))


class _Permuted:
    """How a view with its base's axes reordered is made, and written back."""

    __slots__ = ("axes",)

    def __init__(self, axes: Sequence[int], ndim: int) -> None:
        self.axes = tuple(int(a) % ndim for a in axes) if ndim else ()

    def make(self, base: Tensor) -> Tensor:
        return permute_dims(base, self.axes)

    def write(self, base: Tensor, values: Tensor) -> None:
        inverse = sorted(range(len(self.axes)), key=self.axes.__getitem__)
        _copy_(base, permute_dims(values, inverse))


def reshaped_view(out: Tensor, base: Tensor) -> Tensor:
    """``out``, ``base`` with another shape, as a view of ``base``."""
    return view(out, base, _Reshaped(tuple(out.shape)))


def permuted_view(base: Tensor, axes: Sequence[int], name: str | None = None) -> Tensor:
    """``permute_dims(base, axes)`` as a view of ``base``; ``name``: its grad_fn's."""
    out = permute_dims(base, axes)
    return view(out if name is None else named(out, name, base), base, _Permuted(axes, base.ndim))


def _reshaping(function: Any) -> Any:
    """The method of a function that gives its first argument another shape: a view."""

    def viewing(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return reshaped_view(function(self, *args, **kwargs), self)

    viewing.__name__ = viewing.__qualname__ = function.__name__
    viewing.__doc__ = function.__doc__
    return viewing


def _reshape(self: Tensor, *shape: Any) -> Tensor:
    """``self`` with a new shape; ``reshape(2, 3)`` and ``reshape((2, 3))`` both work."""
    return reshape(self, shape_args(shape))


def _permute(self: Tensor, *dims: Any) -> Tensor:
    """Reorder the axes (PyTorch's ``permute``): a view."""
    return permuted_view(self, shape_args(dims))


def _transpose(self: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap axes ``dim0`` and ``dim1`` (PyTorch's ``transpose``): a view."""
    axes = list(range(self.ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return permuted_view(self, axes, "TransposeBackward0")


def _reversed_axes(self: Tensor, name: str | None = None) -> Tensor:
    """All axes reversed (``.T``, ``t()``): a view; ``name``: its grad_fn's."""
    return permuted_view(self, tuple(reversed(range(self.ndim))), name)


method(_reshaping(_reshape), "reshape", "view")
method(_permute, "permute")
method(_transpose, "transpose")
method(lambda self: _reversed_axes(self, "TBackward0"), "t")
method(property(_reversed_axes), "T")
method(flatten, adapt=_reshaping)


# --- reordering -----------------------------------------------------------------------------
def permute_dims(x: Tensor, /, axes: Sequence[int]) -> Tensor:
    """``x`` with its axes reordered: output axis i is input axis ``axes[i]``."""
    x = as_tensor(x, "permute_dims")
    normalized = tuple(int(a) - x.ndim if a >= 0 else int(a) for a in axes)
    if sorted(normalized) != list(range(-x.ndim, 0)):
        msg = (
            f"permute_dims: {tuple(axes)} is not a permutation "
            f"of the {x.ndim} axes of {tuple(x.shape)}"
        )
        raise ValueError(msg)
    if normalized == tuple(range(-x.ndim, 0)):
        return x
    return apply(ops.permute_dims, (x,), {"axes": normalized})


def _moved_order(
    x: Tensor, source: int | Sequence[int], destination: int | Sequence[int]
) -> list[int]:
    """The axes of ``moveaxis(x, source, destination)``, as ``permute_dims`` takes them."""
    x = as_tensor(x, "moveaxis")
    sources, destinations = (
        axis_indices(source, x.ndim, "moveaxis"),
        axis_indices(destination, x.ndim, "moveaxis"),
    )
    if len(sources) != len(destinations):
        msg = f"moveaxis: source {source} and destination {destination} must name as many axes"
        raise ValueError(msg)
    if len(set(sources)) != len(sources) or len(set(destinations)) != len(destinations):
        msg = f"moveaxis: repeated axis in source {source} or destination {destination}"
        raise ValueError(msg)
    order = [a for a in range(x.ndim) if a not in sources]
    for dest, src in sorted(zip(destinations, sources, strict=True)):
        order.insert(dest, src)
    return order


def moveaxis(
    x: Tensor, source: int | Sequence[int], destination: int | Sequence[int], /
) -> Tensor:
    """``x`` with the axes ``source`` moved to the positions ``destination``, others in order.

    Example:
        >>> import dualgrad
        >>> dualgrad.moveaxis(dualgrad.ones(2, 3, 4), 0, -1).shape
        torch.Size([3, 4, 2])
    """
    x = as_tensor(x, "moveaxis")
    return permute_dims(x, _moved_order(x, source, destination))


method(lambda self, axes: permuted_view(self, axes), "permute_dims")
method(
    lambda self, source, destination: permuted_view(self, _moved_order(self, source, destination)),
    "moveaxis",
    "movedim",
)


# --- broadcasting -----------------------------------------------------------------------------
def broadcast_to(x: Tensor, /, shape: Sequence[int]) -> Tensor:
    """``x`` repeated along new leading axes and along its length-1 axes to ``shape``."""
    x = as_tensor(x, "broadcast_to")
    shape = tuple(int(n) for n in shape)
    if len(shape) < x.ndim or broadcast_shapes("broadcast_to", x.shape, shape) != shape:
        msg = f"broadcast_to: cannot broadcast a tensor of shape {tuple(x.shape)} to {shape}"
        raise ValueError(msg)
    if shape == x.shape:
        return x
    return apply(ops.broadcast_to, (x,), {"shape": shape})


def broadcast_arrays(*arrays: Tensor) -> list[Tensor]:
    """The tensors broadcast against each other to one shape.

    Example:
        >>> import dualgrad
        >>> [t.shape for t in dualgrad.broadcast_arrays(dualgrad.ones(3, 1), dualgrad.ones(4))]
        [torch.Size([3, 4]), torch.Size([3, 4])]
    """
    tensors = [as_tensor(t, "broadcast_arrays") for t in arrays]
    shape = broadcast_shapes("broadcast_arrays", *(t.shape for t in tensors))
    return [broadcast_to(t, shape) for t in tensors]


def tile(x: Tensor, repetitions: Sequence[int], /) -> Tensor:
    """``x`` repeated ``repetitions[i]`` times along axis i, as whole blocks.

    Shorter ``repetitions`` are padded with 1s in front; a longer one adds leading axes to ``x``.
    The gradient sums over the copies.

    Example:
        >>> import dualgrad
        >>> dualgrad.tile(dualgrad.tensor([1.0, 2.0]), (2,))
        tensor([1., 2., 1., 2.])
    """
    x = as_tensor(x, "tile")
    reps = (repetitions,) if isinstance(repetitions, int | np.integer) else tuple(repetitions)
    reps = tuple(operator.index(r) for r in reps)
    if builtins.any(r < 0 for r in reps):
        msg = f"tile: repetitions must be non-negative, got {reps}"
        raise ValueError(msg)
    ndim = builtins.max(len(reps), x.ndim)
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - x.ndim) + x.shape
    interleaved = tuple(d for r, n in zip(reps, shape, strict=True) for d in (1, n))
    spread = tuple(d for r, n in zip(reps, shape, strict=True) for d in (r, n))
    out = broadcast_to(reshape(x, interleaved), spread)
    return reshape(out, tuple(r * n for r, n in zip(reps, shape, strict=True)))


def _expand(self: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to ``sizes``; -1 keeps a length (PyTorch's ``expand``)."""
    sizes = shape_args(sizes)
    lead = len(sizes) - self.ndim
    shape = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
    return broadcast_to(self, shape)


def _tile(self: Tensor, *repetitions: Any) -> Tensor:
    """``tile``, with the repetitions as separate arguments too (PyTorch's ``repeat``)."""
    return named(tile(self, shape_args(repetitions)), "RepeatBackward0", self)


def _copy_(self: Tensor, source: Any) -> Tensor:
    """Copy ``source``'s values (broadcast to this shape) in place."""
    return self._update(lambda x: broadcast_to(source, x.shape), "copy_")


method(_reshaping(_squeeze_method), "squeeze")
method(_reshaping(lambda self, other: reshape(self, other.shape)), "view_as", "reshape_as")
method(lambda self, other: broadcast_to(self, other.shape), "expand_as")
# Every dualgrad tensor is a whole array of its own: contiguous already.
method(lambda self, memory_format=None: self, "contiguous")
method(expand_dims, "expand_dims", "unsqueeze", adapt=_reshaping)
method(broadcast_to)
method(_expand, "expand")
method(_tile, "tile", "repeat")  # PyTorch's repeat tiles
method(_copy_, "copy_")


# --- joining --------------------------------------------------------------------------------
def concat(arrays: Sequence[Tensor], /, dim: int | None = None, *, axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis (flattened first when ``axis`` is None); PyTorch's
    ``dim`` (also positional) is taken too."""
    if dim is not None:
        axis = dim
    tensors = [as_tensor(t, "concat") for t in arrays]
    if not tensors:
        msg = "concat: expected a non-empty sequence of tensors"
        raise ValueError(msg)
    if axis is None:
        tensors, axis = [reshape(t, (-1,)) for t in tensors], 0
    ndim = tensors[0].ndim
    (normalized,) = normalize_axes(axis, ndim, "concat")
    for t in tensors:
        others_match = t.ndim == ndim and builtins.all(
            a == b
            for i, (a, b) in enumerate(zip(t.shape, tensors[0].shape, strict=True))
            if i - ndim != normalized
        )
        if not others_match:
            shapes = ", ".join(str(tuple(u.shape)) for u in tensors)
            msg = f"concat: shapes {shapes} differ outside axis {axis}"
            raise ValueError(msg)
    tensors = promoted(tensors)
    return apply(ops.concat, tuple(tensors), {"axis": normalized})


def stack(arrays: Sequence[Tensor], /, dim: int | None = None, *, axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis; PyTorch's ``dim`` (also positional) is
    taken too."""
    if dim is not None:
        axis = dim
    tensors = [as_tensor(t, "stack") for t in arrays]
    if not tensors:
        msg = "stack: expected a non-empty sequence of tensors"
        raise ValueError(msg)
    if builtins.any(t.shape != tensors[0].shape for t in tensors):
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        msg = f"stack: expected tensors of one shape, got {shapes}"
        raise ValueError(msg)
    return named(concat([expand_dims(t, axis) for t in tensors], axis=axis), "StackBackward0")
