"""Shape and indexing functions beyond the core set (flip, roll, tile, take, sort, index_put ...).

Public functions here are re-exported by ``dualgrad._functions`` (so derivative rules find them on
the differentiable namespace) and by ``dualgrad``. All but ``argsort`` are compositions of the
core primitives (reshape, permute_dims, broadcast_to, concat, getitem, index_add, where), which
lose nothing here: the gradients are the same gathers, scatters and sums a dedicated rule would
write. ``argsort`` is a primitive with no gradient.
"""

from __future__ import annotations

__all__ = [
    "argsort",
    "broadcast_arrays",
    "flatten",
    "flip",
    "index_put",
    "moveaxis",
    "repeat",
    "roll",
    "sort",
    "take",
    "take_along_axis",
    "tile",
    "unstack",
]

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
from array_api_compat import array_namespace

from . import ops
from ._dispatch import apply, broadcast_shapes
from ._functions import (
    AxisError,
    _check_integer_bounds,
    _index_part,
    _indexed_axes,
    _tensor,
    astype,
    broadcast_to,
    concat,
    getitem,
    index_add,
    permute_dims,
    reshape,
    where,
)
from .ops.index import _basic, _positions
from .tensor import Tensor


def _axis(axis: Any, ndim: int, op_name: str) -> int:
    """One axis as a non-negative int, checked against ``ndim``."""
    try:
        axis = operator.index(axis)
    except TypeError:
        msg = f"{op_name}: axis must be an int, got {axis!r}"
        raise TypeError(msg) from None
    if not -ndim <= axis < ndim:
        msg = f"{op_name}: axis {axis} is out of range for a tensor with {ndim} dimensions"
        raise AxisError(msg)
    return axis % ndim


def _axes(axis: Any, ndim: int, op_name: str) -> tuple[int, ...]:
    """An int or a sequence of ints as non-negative axes, in the order given."""
    parts = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    return tuple(_axis(a, ndim, op_name) for a in parts)


def _int_tensor(indices: Any, x: Tensor, op_name: str) -> Tensor:
    """``indices`` (a Tensor or integer data) as an integer Tensor on ``x``'s backend."""
    if not isinstance(indices, Tensor):
        values = np.asarray(indices)
        if values.size == 0:
            values = values.astype(np.int64)  # an empty list reads as float64
        if values.dtype.kind not in "iu":
            msg = f"{op_name}: indices must be integers, got {values.dtype}"
            raise TypeError(msg)
        return Tensor(x._backend.from_numpy(values.astype(np.int64)), x._backend)
    if indices.dtype.kind not in "iu":
        msg = f"{op_name}: indices must be an integer tensor, got {indices.dtype}"
        raise TypeError(msg)
    if indices._backend is not x._backend:
        msg = (
            f"{op_name}: the indices come from backend {indices._backend.name}, the tensor from "
            f"{x._backend.name}; create both under one backend"
        )
        raise TypeError(msg)
    return indices


# --- reshaping ------------------------------------------------------------------------------
def flatten(x: Tensor, /, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """``x`` with the axes ``start_dim`` through ``end_dim`` (inclusive) merged into one.

    As ``torch.flatten``: a 0-d tensor becomes 1-d.

    Example:
        >>> import dualgrad
        >>> dualgrad.flatten(dualgrad.ones(2, 3, 4), 1).shape
        (2, 12)
    """
    x = _tensor(x, "flatten")
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = _axis(start_dim, x.ndim, "flatten"), _axis(end_dim, x.ndim, "flatten")
    if start > end:
        msg = f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}"
        raise ValueError(msg)
    merged = math.prod(x.shape[start : end + 1])
    return reshape(x, (*x.shape[:start], merged, *x.shape[end + 1 :]))


def moveaxis(
    x: Tensor, source: int | Sequence[int], destination: int | Sequence[int], /
) -> Tensor:
    """``x`` with the axes ``source`` moved to the positions ``destination``, others in order.

    Example:
        >>> import dualgrad
        >>> dualgrad.moveaxis(dualgrad.ones(2, 3, 4), 0, -1).shape
        (3, 4, 2)
    """
    x = _tensor(x, "moveaxis")
    sources, destinations = (
        _axes(source, x.ndim, "moveaxis"),
        _axes(destination, x.ndim, "moveaxis"),
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
    return permute_dims(x, order)


def broadcast_arrays(*arrays: Tensor) -> list[Tensor]:
    """The tensors broadcast against each other to one shape.

    Example:
        >>> import dualgrad
        >>> [t.shape for t in dualgrad.broadcast_arrays(dualgrad.ones(3, 1), dualgrad.ones(4))]
        [(3, 4), (3, 4)]
    """
    tensors = [_tensor(t, "broadcast_arrays") for t in arrays]
    shape = broadcast_shapes("broadcast_arrays", *(t.shape for t in tensors))
    return [broadcast_to(t, shape) for t in tensors]


def unstack(x: Tensor, /, *, axis: int = 0) -> tuple[Tensor, ...]:
    """The slices of ``x`` along ``axis``, as a tuple (the inverse of ``stack``).

    Example:
        >>> import dualgrad
        >>> [t.shape for t in dualgrad.unstack(dualgrad.ones(2, 3), axis=1)]
        [(2,), (2,), (2,)]
    """
    x = _tensor(x, "unstack")
    if x.ndim == 0:
        msg = "unstack: expected a tensor with at least 1 dimension, got a 0-d tensor"
        raise ValueError(msg)
    axis = _axis(axis, x.ndim, "unstack")
    return tuple(getitem(x, (slice(None),) * axis + (i,)) for i in range(x.shape[axis]))


# --- reordering -----------------------------------------------------------------------------
def flip(x: Tensor, /, *, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` with the order of its elements reversed along ``axis`` (every axis when None).

    Example:
        >>> import dualgrad
        >>> dualgrad.flip(dualgrad.tensor([1.0, 2.0, 3.0]))
        tensor([3., 2., 1.])
    """
    x = _tensor(x, "flip")
    axes = range(x.ndim) if axis is None else _axes(axis, x.ndim, "flip")
    if len(set(axes)) != len(axes):
        msg = f"flip: repeated axis in {axis}"
        raise ValueError(msg)
    if not axes:
        return x
    key = tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(x.ndim))
    return getitem(x, key)


def roll(
    x: Tensor,
    /,
    shift: int | Sequence[int],
    *,
    axis: int | Sequence[int] | None = None,
) -> Tensor:
    """``x`` with its elements shifted by ``shift`` along ``axis``, wrapping around.

    With ``axis`` None, ``x`` is rolled as if flattened, then restored to its shape. An int
    ``shift`` applies to every axis given; a tuple pairs with a tuple ``axis``.

    Example:
        >>> import dualgrad
        >>> dualgrad.roll(dualgrad.tensor([1.0, 2.0, 3.0]), 1)
        tensor([3., 1., 2.])
    """
    x = _tensor(x, "roll")
    if axis is None:
        if not isinstance(shift, int | np.integer):
            msg = f"roll: shift must be an int when axis is None, got {shift!r}"
            raise TypeError(msg)
        return reshape(roll(reshape(x, (-1,)), shift, axis=0), x.shape)
    axes = _axes(axis, x.ndim, "roll")
    shifts = (shift,) * len(axes) if isinstance(shift, int | np.integer) else tuple(shift)
    if len(shifts) != len(axes):
        msg = f"roll: shift {shift} and axis {axis} must have the same length"
        raise ValueError(msg)
    total = dict.fromkeys(axes, 0)
    for a, s in zip(axes, shifts, strict=True):
        total[a] += operator.index(s)
    for a, s in total.items():
        n = x.shape[a]
        s = s % n if n else 0
        if s:
            before = (slice(None),) * a
            x = concat(
                [
                    getitem(x, (*before, slice(n - s, None))),
                    getitem(x, (*before, slice(0, n - s))),
                ],
                axis=a,
            )
    return x


# --- repeating ------------------------------------------------------------------------------
def tile(x: Tensor, repetitions: Sequence[int], /) -> Tensor:
    """``x`` repeated ``repetitions[i]`` times along axis i, as whole blocks.

    Shorter ``repetitions`` are padded with 1s in front; a longer one adds leading axes to ``x``.
    The gradient sums over the copies.

    Example:
        >>> import dualgrad
        >>> dualgrad.tile(dualgrad.tensor([1.0, 2.0]), (2,))
        tensor([1., 2., 1., 2.])
    """
    x = _tensor(x, "tile")
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


def repeat(
    x: Tensor, repeats: int | Tensor | Sequence[int], /, *, axis: int | None = None
) -> Tensor:
    """Each element of ``x`` repeated along ``axis`` (``x`` flattened first when None).

    ``repeats`` is an int (every element the same number of times) or one count per element
    along ``axis`` (a 1-d integer tensor or sequence, or of length 1 to broadcast). The
    gradient of each element sums over its copies. This is ``torch.repeat_interleave``; the
    method ``Tensor.repeat`` is PyTorch's and means ``tile``.

    Example:
        >>> import dualgrad
        >>> dualgrad.repeat(dualgrad.tensor([1.0, 2.0]), 2)
        tensor([1., 1., 2., 2.])
    """
    x = _tensor(x, "repeat")
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _axis(axis, x.ndim, "repeat")
    n = x.shape[axis]
    if isinstance(repeats, int | np.integer):
        if repeats < 0:
            msg = f"repeat: repeats must be non-negative, got {repeats}"
            raise ValueError(msg)
        shape = (*x.shape[: axis + 1], 1, *x.shape[axis + 1 :])
        spread = (*x.shape[: axis + 1], int(repeats), *x.shape[axis + 1 :])
        out = broadcast_to(reshape(x, shape), spread)
        return reshape(out, (*x.shape[:axis], n * int(repeats), *x.shape[axis + 1 :]))
    # The output's length depends on the counts' values, so they are read here.
    if isinstance(repeats, Tensor):
        repeats._backend.check_static_shape(
            "repeat with counts in a tensor",
            "pass the counts as a Python int or list, or compute them first (repeats.tolist())",
        )
        counts = np.asarray(repeats._backend.to_numpy(repeats._array))
    else:
        counts = np.asarray(repeats)
    if counts.ndim != 1 or counts.dtype.kind not in "iu" or counts.shape[0] not in (1, n):
        msg = (
            f"repeat: repeats must be an int or a 1-d sequence of ints of length 1 or {n} "
            f"(axis {axis}'s length), got {counts.dtype} of shape {counts.shape}"
        )
        raise ValueError(msg)
    if (counts < 0).any():
        msg = f"repeat: repeats must be non-negative, got {counts.tolist()}"
        raise ValueError(msg)
    positions = np.repeat(np.arange(n), np.broadcast_to(counts, (n,)))
    return take(x, positions, axis=axis)


# --- gathering ------------------------------------------------------------------------------
def take(x: Tensor, indices: Any, /, *, axis: int | None = None) -> Tensor:
    """The elements of ``x`` at ``indices`` along ``axis``.

    ``axis`` may be left out only for a 1-d ``x``. ``indices`` (an integer tensor or sequence,
    1-d in the Array API, any shape here, as in NumPy) replace that axis; negative indices count
    from the end. The gradient scatters back, adding where an index repeats.

    Example:
        >>> import dualgrad
        >>> dualgrad.take(dualgrad.tensor([1.0, 2.0, 3.0]), dualgrad.tensor([2, 0]))
        tensor([3., 1.])
    """
    x = _tensor(x, "take")
    if axis is None:
        if x.ndim != 1:
            msg = f"take: axis is required for a tensor of shape {x.shape}; pass axis=..."
            raise ValueError(msg)
        axis = 0
    axis = _axis(axis, x.ndim, "take")
    indices = _int_tensor(indices, x, "take")
    return getitem(x, (*(slice(None),) * axis, indices))


def take_along_axis(x: Tensor, indices: Any, /, *, axis: int = -1) -> Tensor:
    """The elements of ``x`` at ``indices`` along ``axis``, matched position by position.

    ``indices`` has ``x``'s number of dimensions; along the other axes it broadcasts against
    ``x`` (as ``torch.take_along_dim``). The gradient scatters back, adding repeats.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([[3.0, 1.0], [2.0, 4.0]])
        >>> dualgrad.take_along_axis(x, dualgrad.tensor([[1], [0]]), axis=1)
        tensor([[1.],
                [2.]])
    """
    x = _tensor(x, "take_along_axis")
    indices = _int_tensor(indices, x, "take_along_axis")
    if x.ndim == 0 or indices.ndim != x.ndim:
        msg = (
            f"take_along_axis: indices of shape {indices.shape} must have as many dimensions "
            f"as x of shape {x.shape} (at least 1)"
        )
        raise ValueError(msg)
    axis = _axis(axis, x.ndim, "take_along_axis")
    others = [(a, n) for a, n in enumerate(x.shape) if a != axis]
    broadcast_shapes(
        "take_along_axis",
        tuple(n for a, n in others),
        tuple(n for a, n in enumerate(indices.shape) if a != axis),
    )
    # Every axis gets an integer array (a standard key on every backend): the positions along
    # the other axes, shaped to broadcast, and the indices along ``axis``.
    key = tuple(
        indices
        if a == axis
        else np.arange(x.shape[a]).reshape([-1 if b == a else 1 for b in range(x.ndim)])
        for a in range(x.ndim)
    )
    return getitem(x, key)


# --- sorting --------------------------------------------------------------------------------
def argsort(
    x: Tensor, /, *, axis: int = -1, descending: bool = False, stable: bool = True
) -> Tensor:
    """The indices that sort ``x`` along ``axis``; never carries gradients.

    Example:
        >>> import dualgrad
        >>> dualgrad.argsort(dualgrad.tensor([3.0, 1.0, 2.0]))
        tensor([1, 2, 0])
    """
    x = _tensor(x, "argsort")
    if x.ndim == 0:
        flat = apply(ops.argsort, (reshape(x, (1,)),), _sort_params(-1, descending, stable))
        return reshape(flat, ())
    axis = _axis(axis, x.ndim, "argsort") - x.ndim
    return apply(ops.argsort, (x,), _sort_params(axis, descending, stable))


def _sort_params(axis: int, descending: bool, stable: bool) -> dict[str, Any]:
    return {"axis": axis, "descending": builtins.bool(descending), "stable": builtins.bool(stable)}


def sort(x: Tensor, /, *, axis: int = -1, descending: bool = False, stable: bool = True) -> Tensor:
    """``x`` sorted along ``axis``; the gradient follows the permutation back.

    Example:
        >>> import dualgrad
        >>> dualgrad.sort(dualgrad.tensor([3.0, 1.0, 2.0]), descending=True)
        tensor([3., 2., 1.])
    """
    x = _tensor(x, "sort")
    if x.ndim == 0:
        return x
    order = argsort(x, axis=axis, descending=descending, stable=stable)
    return take_along_axis(x, order, axis=axis)


# --- writing --------------------------------------------------------------------------------
def index_put(x: Tensor, key: Any, values: Any, /) -> Tensor:
    """A copy of ``x`` with ``x[key]`` set to ``values``: the out-of-place ``x[key] = values``.

    ``key`` is any key ``x[key]`` takes (NumPy's rules); ``values`` (a Tensor or a number)
    broadcasts to ``x[key]``'s shape and is converted to ``x``'s dtype. Where an integer index
    repeats, the last write wins, as in NumPy.

    Gradients: ``x`` gets the output's gradient with zeros at the written positions; ``values``
    gets the output's gradient at its positions (``g[key]``), summed over its broadcasting. With
    repeated indices only the element that wins a position gets that position's gradient; the
    overwritten ones get 0, since they do not reach the output (PyTorch gives every duplicate
    the gradient).

    Example:
        >>> import dualgrad
        >>> dualgrad.index_put(dualgrad.zeros(4), dualgrad.tensor([1, 3]), 1.0)
        tensor([0., 1., 0., 1.])
    """
    x = _tensor(x, "index_put")
    parts = key if isinstance(key, tuple) else (key,)
    canonical = tuple(_index_part(part, x) for part in parts)
    _check_integer_bounds(canonical, x)
    if _indexed_axes(canonical, x) < x.ndim and not builtins.any(p is Ellipsis for p in canonical):
        canonical = (*canonical, Ellipsis)
    backend = x._backend
    zeros = Tensor(backend.xp.zeros(x.shape, dtype=backend.native_dtype(x.dtype)), backend)
    # Written positions: where a scatter of ones lands (without gradients).
    written_shape = getitem(zeros, canonical).shape
    ones = Tensor(backend.xp.ones(written_shape, dtype=backend.native_dtype(x.dtype)), backend)
    written = index_add(zeros, canonical, ones) > 0
    if not isinstance(values, Tensor):
        values = (
            Tensor(backend.scalar(values, x.dtype), backend)
            if np.ndim(values) == 0
            else (Tensor(backend.from_numpy(np.asarray(values, dtype=x.dtype.name)), backend))
        )
    if values._backend is not backend:
        msg = (
            f"index_put: values come from backend {values._backend.name}, x from "
            f"{backend.name}; create both under one backend"
        )
        raise TypeError(msg)
    if values.dtype is not x.dtype:
        values = astype(values, x.dtype)
    try:
        fits = broadcast_shapes("index_put", values.shape, written_shape) == written_shape
    except ValueError:
        fits = False
    if not fits:
        msg = (
            f"index_put: values of shape {values.shape} cannot be broadcast to the shape "
            f"{written_shape} of x[key] (x has shape {x.shape})"
        )
        raise ValueError(msg)
    values = broadcast_to(values, written_shape)
    if not _basic(canonical):
        winners = Tensor(_last_writes(canonical, x.shape), backend)
        values = where(winners, values, getitem(zeros, canonical))
    return index_add(where(written, zeros, x), canonical, values)


def _last_writes(key: tuple[Any, ...], shape: tuple[int, ...]) -> Any:
    """For each element of ``x[key]``, whether no later element writes its position."""
    positions = _positions(key, shape)
    ns = array_namespace(positions)
    flat = ns.reshape(positions, (-1,))
    if flat.shape[0] == 0:
        return ns.reshape(flat == 0, positions.shape)
    order = ns.argsort(flat, stable=True)
    ordered = ns.take(flat, order)
    last = ns.concat([ordered[:-1] != ordered[1:], ns.ones((1,), dtype=ns.bool)])
    return ns.reshape(ns.take(last, ns.argsort(order, stable=True)), positions.shape)
