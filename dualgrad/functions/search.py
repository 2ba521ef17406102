"""Searching (``dualgrad.ops.search``): ``nonzero``, ``searchsorted``, ``isin`` and the sets
(``unique_*``). Indices, counts and set results never carry gradients.
"""

from __future__ import annotations

__all__ = [
    "isin",
    "nonzero",
    "searchsorted",
    "unique_all",
    "unique_counts",
    "unique_inverse",
    "unique_values",
]

from typing import Any, NamedTuple

from .. import ops
from .._dispatch import apply
from ..tensor import Tensor, method
from ._args import as_tensor
from .index import getitem, take
from .reduce import any
from .shape import permute_dims, reshape


# --- searching --------------------------------------------------------------------------------
def nonzero(x: Tensor, /, *, as_tuple: bool | None = None) -> Any:
    """The indices of the non-zero elements, one int64 tensor per axis (Array API).

    PyTorch's ``as_tuple`` picks its face: ``as_tuple=True`` is the standard's tuple too,
    ``as_tuple=False`` PyTorch's ``(count, ndim)`` tensor, which the method ``x.nonzero()``
    gives by default. (``dualgrad.nonzero(x)`` alone is the standard's.)

    Raises:
        ValueError: ``x`` is 0-d (the standard leaves it undefined).
    """
    x = as_tensor(x, "nonzero")
    if x.ndim == 0:
        msg = "nonzero: expected at least one dimension, got a 0-d tensor; reshape it to (1,)"
        raise ValueError(msg)
    x._backend.check_static_shape("nonzero", "compute the tensor's values first")
    stacked = apply(ops.nonzero, (x,), {})
    if as_tuple is False:
        return permute_dims(stacked, (1, 0))
    return tuple(getitem(stacked, (i, ...)) for i in range(x.ndim))


def _nonzero_method(self: Tensor, *, as_tuple: bool = False) -> Any:
    """PyTorch's ``nonzero``: the indices as one ``(count, ndim)`` tensor, or a tuple of them
    per axis with ``as_tuple=True``."""
    return nonzero(self, as_tuple=bool(as_tuple))


method(_nonzero_method, "nonzero")


def searchsorted(x1: Tensor, x2: Any, /, *, side: str = "left", sorter: Any = None) -> Tensor:
    """Where each element of ``x2`` would be inserted into the sorted 1-D ``x1`` (int64).

    Raises:
        ValueError: ``x1`` is not 1-D, or ``side`` is not "left" or "right".
    """
    x1 = as_tensor(x1, "searchsorted")
    if x1.ndim != 1:
        msg = f"searchsorted: x1 must be 1-D, got shape {tuple(x1.shape)}"
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
    x = as_tensor(x, op_name)
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
