"""The rest of the Array API's functions: complex parts, counting and searching, sets, ``diff``,
``meshgrid``, ``nextafter``, ``isin``.

Public functions here are re-exported by ``dualgrad._functions`` and by ``dualgrad``. Indices,
counts and set results never carry gradients; ``diff`` and ``meshgrid`` are built from
differentiable functions.
"""

from __future__ import annotations

__all__ = [
    "conj",
    "count_nonzero",
    "diff",
    "imag",
    "isin",
    "meshgrid",
    "nextafter",
    "nonzero",
    "real",
    "searchsorted",
    "unique_all",
    "unique_counts",
    "unique_inverse",
    "unique_values",
]

import builtins
from typing import Any, NamedTuple

from . import ops
from ._dispatch import apply, elementwise
from ._dtypes import int64
from ._functions import (
    _elementwise_function,
    _tensor,
    any,
    astype,
    broadcast_to,
    concat,
    getitem,
    not_equal,
    positive,
    reshape,
    sum,
    zeros_like,
)
from ._functions_shape import _axis, take
from .tensor import Tensor


# --- complex parts --------------------------------------------------------------------------
def _complex_part(prim: ops.Primitive, on_real: Any) -> Any:
    def function(x: Tensor, /) -> Tensor:
        x = _tensor(x, prim.name)
        return elementwise(prim, x) if x.dtype.is_complex else on_real(x)

    function.__name__ = function.__qualname__ = prim.name
    return function


conj = _complex_part(ops.conj, positive)
conj.__doc__ = "The complex conjugate; a real tensor is returned as a copy in the graph."
real = _complex_part(ops.real, positive)
real.__doc__ = "The real part (float for complex input); a real tensor is copied in the graph."
imag = _complex_part(ops.imag, zeros_like)
imag.__doc__ = "The imaginary part (float for complex input); zeros for a real tensor."

nextafter = _elementwise_function(ops.nextafter, 2)
nextafter.__doc__ = (
    "The next representable float after ``x1`` towards ``x2``; never differentiable (as in "
    "PyTorch and JAX)."
)


# --- counting and searching -----------------------------------------------------------------
def count_nonzero(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The number of non-zero elements over ``axis`` (all axes when None), as int64.

    Example:
        >>> import dualgrad
        >>> dualgrad.count_nonzero(dualgrad.tensor([[0.0, 1.0], [2.0, 3.0]]), axis=1)
        tensor([1, 2])
    """
    x = _tensor(x, "count_nonzero")
    return sum(astype(not_equal(x, 0), int64), axis=axis, keepdims=keepdims)


def nonzero(x: Tensor, /) -> tuple[Tensor, ...]:
    """The indices of the non-zero elements, one int64 tensor per axis.

    Raises:
        ValueError: ``x`` is 0-d (the standard leaves it undefined).
    """
    x = _tensor(x, "nonzero")
    if x.ndim == 0:
        msg = "nonzero: expected at least one dimension, got a 0-d tensor; reshape it to (1,)"
        raise ValueError(msg)
    x._backend.check_static_shape("nonzero", "compute the tensor's values first")
    stacked = apply(ops.nonzero, (x,), {})
    return tuple(getitem(stacked, (i, ...)) for i in range(x.ndim))


def searchsorted(x1: Tensor, x2: Any, /, *, side: str = "left", sorter: Any = None) -> Tensor:
    """Where each element of ``x2`` would be inserted into the sorted 1-D ``x1`` (int64).

    Raises:
        ValueError: ``x1`` is not 1-D, or ``side`` is not "left" or "right".
    """
    x1 = _tensor(x1, "searchsorted")
    if x1.ndim != 1:
        msg = f"searchsorted: x1 must be 1-D, got shape {x1.shape}"
        raise ValueError(msg)
    if side not in ("left", "right"):
        msg = f"searchsorted: side must be 'left' or 'right', got {side!r}"
        raise ValueError(msg)
    if sorter is not None:
        x1 = take(x1, sorter)
    if not isinstance(x2, Tensor):
        x2 = Tensor._wrap(x1._backend.scalar(x2, x1.dtype), x1._backend)
    return apply(ops.searchsorted, (x1, x2), {"side": side})


def isin(x1: Any, x2: Any, /, *, invert: bool = False) -> Tensor:
    """Whether each element of ``x1`` occurs in ``x2`` (its negation when ``invert``)."""
    if not isinstance(x1, Tensor):
        x1 = Tensor._wrap(x2._backend.scalar(x1, x2.dtype), x2._backend)
    if not isinstance(x2, Tensor):
        x2 = Tensor._wrap(x1._backend.scalar(x2, x1.dtype), x1._backend)
    flat = reshape(x2, (1,) * x1.ndim + (-1,))
    found = any(reshape(x1, (*x1.shape, 1)) == flat, axis=-1)
    return ~found if invert else found


# --- sets -------------------------------------------------------------------------------------
class UniqueAllResult(NamedTuple):
    """``unique_all``'s result."""

    values: Tensor
    indices: Tensor
    inverse_indices: Tensor
    counts: Tensor


class UniqueCountsResult(NamedTuple):
    """``unique_counts``'s result."""

    values: Tensor
    counts: Tensor


class UniqueInverseResult(NamedTuple):
    """``unique_inverse``'s result."""

    values: Tensor
    inverse_indices: Tensor


def _set_input(x: Any, op_name: str) -> Tensor:
    x = _tensor(x, op_name)
    x._backend.check_static_shape(op_name, "compute the tensor's values first")
    return x


def unique_values(x: Tensor, /) -> Tensor:
    """The distinct elements of ``x`` as a 1-D tensor (in the backend's order, which the
    ``unique_*`` functions share); never differentiable."""
    return apply(ops.unique_values, (_set_input(x, "unique_values"),), {})


def unique_counts(x: Tensor, /) -> UniqueCountsResult:
    """The distinct elements and how often each occurs."""
    x = _set_input(x, "unique_counts")
    return UniqueCountsResult(unique_values(x), apply(ops.unique_counts, (x,), {}))


def unique_inverse(x: Tensor, /) -> UniqueInverseResult:
    """The distinct elements, and for each element of ``x`` the index of its value among them
    (of ``x``'s shape)."""
    x = _set_input(x, "unique_inverse")
    return UniqueInverseResult(unique_values(x), apply(ops.unique_inverse, (x,), {}))


def unique_all(x: Tensor, /) -> UniqueAllResult:
    """The distinct elements, the index of each one's first occurrence, the inverse indices
    and the counts."""
    x = _set_input(x, "unique_all")
    return UniqueAllResult(
        unique_values(x),
        apply(ops.unique_indices, (x,), {}),
        apply(ops.unique_inverse, (x,), {}),
        apply(ops.unique_counts, (x,), {}),
    )


# --- diff, meshgrid ---------------------------------------------------------------------------
def diff(
    x: Tensor,
    /,
    *,
    axis: int = -1,
    n: int = 1,
    prepend: Tensor | None = None,
    append: Tensor | None = None,
) -> Tensor:
    """The ``n``-th forward difference along ``axis``, after joining ``prepend`` and ``append``.

    Differentiable: each difference is a subtraction of two slices.

    Raises:
        ValueError: ``x`` is 0-d or ``n`` is negative.

    Example:
        >>> import dualgrad
        >>> dualgrad.diff(dualgrad.tensor([1.0, 4.0, 9.0, 16.0]), n=2)
        tensor([2., 2.])
    """
    x = _tensor(x, "diff")
    if x.ndim == 0:
        msg = "diff: expected at least one dimension, got a 0-d tensor"
        raise ValueError(msg)
    if n < 0:
        msg = f"diff: n must be non-negative, got {n}"
        raise ValueError(msg)
    axis = _axis(axis, x.ndim, "diff")
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = concat([_tensor(p, "diff") for p in parts], axis=axis)
    before = (slice(None),) * axis
    for _ in range(n):
        if x.shape[axis] == 0:
            break  # nothing left to difference
        x = getitem(x, (*before, slice(1, None))) - getitem(x, (*before, slice(None, -1)))
    return x


def meshgrid(*arrays: Tensor, indexing: str = "xy") -> list[Tensor]:
    """Coordinate grids from 1-D tensors: Cartesian (``"xy"``, the first two axes swapped) or
    matrix (``"ij"``) indexing; differentiable through ``broadcast_to``.

    Raises:
        ValueError: an input is not 1-D, or ``indexing`` is not "xy" or "ij".
    """
    if indexing not in ("xy", "ij"):
        msg = f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}"
        raise ValueError(msg)
    tensors = [_tensor(t, "meshgrid") for t in arrays]
    if builtins.any(t.ndim != 1 for t in tensors):
        shapes = ", ".join(str(t.shape) for t in tensors)
        msg = f"meshgrid: expected 1-D tensors, got shapes {shapes}"
        raise ValueError(msg)
    positions = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        positions[0], positions[1] = 1, 0
    shape = [0] * len(tensors)
    for t, position in zip(tensors, positions, strict=True):
        shape[position] = t.shape[0]
    grids = []
    for t, position in zip(tensors, positions, strict=True):
        view = [1] * len(tensors)
        view[position] = t.shape[0]
        grids.append(broadcast_to(reshape(t, tuple(view)), tuple(shape)))
    return grids
