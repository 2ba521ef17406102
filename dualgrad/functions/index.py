"""Indexing functions (``dualgrad.ops.index``): ``x[key]`` and its transpose ``index_add``, the
out-of-place ``x[key] = values`` (``index_put``), and the functions that pick elements by
position: ``take``, ``take_along_axis``, ``diagonal``, ``flip``, ``roll``, ``unstack``,
``repeat``, sorting.

All but ``argsort`` are ``getitem`` and ``index_add`` or compositions of them, whose gradients
are the gathers and scatter-adds a dedicated rule would write. ``argsort`` has no gradient.
Keys follow NumPy's rules; integer data in a key becomes a backend array here. ``getitem`` and
``index_add`` are ``x[key]`` and its transpose, for the rules; they are not in ``__all__``.
"""

from __future__ import annotations

__all__ = [
    "argsort",
    "chunk",
    "diagonal",
    "flip",
    "index_put",
    "repeat",
    "roll",
    "sort",
    "split",
    "take",
    "take_along_axis",
    "topk",
    "unbind",
    "unstack",
]

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
from array_api_compat import array_namespace

from .. import _batching, ops
from .._dispatch import apply, lift, lifted, named
from .._views import view
from ..ops.index import _basic, _positions
from ..ops.shape import broadcast_shapes
from ..tensor import Tensor, method, same_backend
from ._args import as_tensor, axis_index, axis_indices, normalize_axes
from ._methods import ValuesIndices, in_place, values_indices
from .elementwise import astype, where
from .shape import broadcast_to, concat, expand_dims, permute_dims, reshape


# --- x[key] -----------------------------------------------------------------------------------
def getitem(x: Tensor, key: Any) -> Tensor:
    """``x[key]`` with NumPy's indexing rules; the gradient scatters back (adding repeats)."""
    x = _lifted_to_key(x, key)
    mask = _lone_scalar_mask(key, x)
    if mask is not None:  # a new leading axis, kept (True) or emptied (False), as NumPy has it
        return getitem(expand_dims(x, axis=0), reshape(mask, (1,)))
    out = apply(ops.getitem, (x,), {"key": _canonical_key(key, x)})
    if out._node is None:  # nothing recorded, nothing to name
        return out
    name = _torch_index_name(key)
    return out if name is None else named(out, name)


def _lifted_to_key(x: Tensor, key: Any) -> Tensor:
    """``x`` as a value of the vmap level of the key's index arrays (Tensors, or a canonical
    key's arrays) where that level is above ``x``'s: each example picks from its own ``x``."""
    for part in key if isinstance(key, tuple) else (key,):
        if isinstance(part, Tensor):
            if part._backend is not x._backend:
                x = lifted("index", (x, part))[0]
        elif type(part) is _batching.BatchedArray and part.level.depth > _batching.depth(
            x._backend
        ):
            x = lift(x, part.level)
    return x


def _torch_index_name(key: Any) -> str | None:
    """PyTorch's name for the backward of ``x[key]`` with a basic key (ints, slices, None,
    Ellipsis): its last step's that does something (``x[1:, 0]`` selects last). None for an
    advanced key: the primitive's own ``IndexBackward0``."""
    parts = key if isinstance(key, tuple) else (key,)
    if not builtins.all(
        part is None or part is Ellipsis or type(part) is slice or _is_int(part) for part in parts
    ):
        return None
    for part in reversed(parts):
        if part is None:
            return "UnsqueezeBackward0"
        if _is_int(part):
            return "SelectBackward0"
        # (fields compared by identity: a bound may be a Tensor, whose == is elementwise)
        if type(part) is slice and not (part.start is part.stop is part.step is None):
            return "SliceBackward0"
    return "SliceBackward0"  # x[:] and x[...]


def _is_int(part: Any) -> bool:
    return isinstance(part, int | np.integer) and not isinstance(part, builtins.bool | np.bool_)


def _lone_scalar_mask(key: Any, x: Tensor) -> Tensor | None:
    """The mask of a key that is one 0-d boolean array (the standard's ``x[mask]`` with a 0-d
    mask, which not every backend takes as it is), as a Tensor on ``x``'s backend; else None."""
    parts = key if isinstance(key, tuple) else (key,)
    if len(parts) == 2 and parts[1] is Ellipsis:
        parts = parts[:1]
    if len(parts) != 1 or getattr(parts[0], "ndim", None) != 0:
        return None
    (part,) = parts
    if isinstance(part, Tensor):
        if part.dtype.kind != "b":
            return None
        same_backend("index", (x, part))
    elif isinstance(part, np.ndarray | np.generic) and part.dtype.kind == "b":
        part = Tensor(x._backend.from_numpy(np.asarray(part)), x._backend)
    else:
        return None
    _check_mask("b", 0, x)
    return part


def _canonical_key(key: Any, x: Tensor) -> tuple[Any, ...]:
    """``key`` as the rules take it: a tuple of ints, slices, None, Ellipsis and backend arrays,
    checked against ``x``'s shape."""
    parts = key if isinstance(key, tuple) else (key,)
    canonical = tuple(_index_part(part, x) for part in parts)
    _check_integer_bounds(canonical, x)
    if _indexed_axes(canonical, x) < x.ndim and not builtins.any(p is Ellipsis for p in canonical):
        # The Array API wants partial keys spelled out (NumPy agrees); a key naming every axis
        # stays as it is, since the standard allows integer arrays only beside integers.
        canonical = (*canonical, Ellipsis)
    return canonical


def _index_part(part: Any, x: Tensor) -> Any:
    if part is None or part is Ellipsis or isinstance(part, builtins.bool):
        return part
    if isinstance(part, int | np.integer):
        return operator.index(part)
    if isinstance(part, slice):
        return slice(
            *(None if v is None else operator.index(v) for v in (part.start, part.stop, part.step))
        )
    if isinstance(part, Tensor):
        if part.dtype.kind not in "iub":
            msg = f"tensors used as indices must be integer or bool, got {part.dtype}"
            raise IndexError(msg)
        same_backend("index", (x, part))
        _check_mask(part.dtype.kind, part.ndim, x)
        if part.dtype.kind == "b" and part.ndim == 0:
            return builtins.bool(part)  # a 0-d mask indexes as True or False does
        return part._array
    if type(part) is _batching.BatchedArray:
        return part  # inside vmap, a canonical key's array again (checked when it became one)
    values = np.asarray(part)
    if values.dtype.kind not in "iub":
        msg = (
            "only integers, slices, None, Ellipsis and integer or bool arrays are valid "
            f"indices, got {part!r}"
        )
        raise IndexError(msg)
    _check_mask(values.dtype.kind, values.ndim, x)
    if values.dtype.kind == "b" and values.ndim == 0:
        return builtins.bool(values)
    return x._backend.from_numpy(values.astype(np.int64) if values.dtype.kind in "iu" else values)


def _check_mask(kind: str, ndim: int, x: Tensor) -> None:
    """A boolean mask picks as many elements as it holds True (a 0-d one: all or none): a lazy
    backend cannot know how many before computing, and refuses."""
    if kind == "b":
        x._backend.check_static_shape(
            "indexing with a boolean mask",
            "keep the shape with dualgrad.where(mask, x, 0), or compute the mask "
            "(mask.numpy()) and index with its integer positions, numpy.nonzero(mask)",
        )


def _indexed_axes(key: tuple[Any, ...], x: Tensor) -> int:
    """How many of ``x``'s axes a canonical key consumes (a mask: one per dimension)."""
    count = 0
    for part in key:
        if part is None or part is Ellipsis or isinstance(part, builtins.bool):
            continue
        is_mask = hasattr(part, "shape") and x._backend.dtype_of(part).kind == "b"
        count += part.ndim if is_mask else 1
    return count


def _check_integer_bounds(key: tuple[Any, ...], x: Tensor) -> None:
    """IndexError for an integer out of range (some backends, like JAX, would clamp it)."""
    if _indexed_axes(key, x) > x.ndim:
        msg = f"too many indices for a tensor of shape {tuple(x.shape)}: {len(key)} were given"
        raise IndexError(msg)
    axis = 0
    for position, part in enumerate(key):
        if part is Ellipsis:
            axis = x.ndim - _indexed_axes(key[position + 1 :], x)
        elif part is None or isinstance(part, builtins.bool):
            continue
        elif isinstance(part, int):
            if not -x.shape[axis] <= part < x.shape[axis]:
                msg = f"index {part} is out of bounds for axis {axis} with size {x.shape[axis]}"
                raise IndexError(msg)
            axis += 1
        else:
            if not isinstance(part, slice):
                _check_array_part(part, axis, x)
            axis += _indexed_axes((part,), x)


def _check_array_part(part: Any, axis: int, x: Tensor) -> None:
    """IndexError for a mask whose shape is not that of the axes it indexes, and for an integer
    array with an index out of range where the backend would not raise itself (JAX clamps)
    and its values can be read."""
    backend = x._backend
    if backend.dtype_of(part).kind == "b":
        indexed = tuple(x.shape[axis : axis + part.ndim])
        if tuple(part.shape) != indexed:
            msg = (
                f"the shape of the mask {tuple(part.shape)} at axis {axis} does not match the "
                f"shape {indexed} of the indexed tensor's axes there (shape {tuple(x.shape)})"
            )
            raise IndexError(msg)
        return
    # Inside vmap, every example's indices at once: the arrays below the levels.
    while type(part) is _batching.BatchedArray:
        part, backend = part.value, part.level.base
    if not backend.checks_index_bounds and backend.readable(part) and math.prod(part.shape):
        values = np.asarray(backend.to_numpy(part))
        length = x.shape[axis]
        outside = values[(values < -length) | (values >= length)]
        if outside.size:
            msg = f"index {outside[0]} is out of bounds for axis {axis} with size {length}"
            raise IndexError(msg)


def index_add(x: Tensor, key: tuple[Any, ...], values: Tensor) -> Tensor:
    """A copy of ``x`` with ``values`` added at ``x[key]`` (the transpose of ``getitem``)."""
    return apply(ops.index_add, (_lifted_to_key(x, key), values), {"key": key})


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
    x = _lifted_to_key(as_tensor(x, "index_put"), key)
    mask = _lone_scalar_mask(key, x)
    if mask is not None:  # all of x, or none of it
        if not isinstance(values, Tensor):
            values = Tensor(x._backend.scalar(values, x.dtype), x._backend)
        return where(mask, astype(values, x.dtype, copy=False), x)
    canonical = _canonical_key(key, x)
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
    same_backend("index_put", (x, values))
    if values.dtype is not x.dtype:
        values = astype(values, x.dtype)
    try:
        fits = broadcast_shapes("index_put", values.shape, written_shape) == written_shape
    except ValueError:
        fits = False
    if not fits:
        msg = (
            f"index_put: values of shape {tuple(values.shape)} cannot be broadcast to the shape "
            f"{tuple(written_shape)} of x[key] (x has shape {tuple(x.shape)})"
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


def _setitem(self: Tensor, key: Any, value: Any) -> None:
    """``self[key] = value``, recorded in the graph: the gradient reaches both the overwritten
    tensor (zero where overwritten) and ``value``. PyTorch writes a basic key through a view
    (its grad_fn is then ``CopySlices``), any other with ``index_put_``."""
    if _is_view_key(key):
        self._update(lambda x: named(index_put(x, key, value), "CopySlices"), "__setitem__")
    else:
        self._update(lambda x: index_put(x, key, value), "__setitem__")


class _Indexed:
    """How ``base[key]`` is made as a view of ``base``, and written back (see ``_views``).
    ``one_of``: for a piece of ``unbind``, ``split`` or ``chunk``, the function's name as
    PyTorch's errors give it and the piece's place among its outputs (PyTorch refuses recorded
    changes to those)."""

    __slots__ = ("key", "one_of")

    def __init__(self, key: Any, one_of: tuple[str, int] | None = None) -> None:
        self.key = key
        self.one_of = one_of

    def make(self, base: Tensor) -> Tensor:
        return getitem(base, self.key)

    def write(self, base: Tensor, values: Tensor) -> None:
        _setitem(base, self.key, values)


def indexed_view(
    out: Tensor, base: Tensor, key: Any, one_of: tuple[str, int] | None = None
) -> Tensor:
    """``out``, which is ``base[key]``, as a view of ``base`` (see ``_Indexed``)."""
    return view(out, base, _Indexed(key, one_of))


def _is_view_key(key: Any) -> bool:
    """Whether ``x[key]`` is a view in PyTorch: basic indexing (integers, 0-d integer tensors,
    slices, None and ``...``); indexing with arrays, lists or masks copies."""
    for part in key if type(key) is tuple else (key,):
        if type(part) in _BASIC_PARTS or isinstance(part, np.integer):
            continue  # bool is no basic part: NumPy reads x[True] as a mask
        if not (isinstance(part, Tensor) and part.ndim == 0 and part.dtype.kind in "iu"):
            return False
    return True


_BASIC_PARTS = frozenset((int, slice, type(None), type(Ellipsis)))


def _getitem_method(self: Tensor, key: Any) -> Tensor:
    """``self[key]``: a view of ``self`` where ``key`` is basic (see ``_is_view_key``)."""
    out = getitem(self, key)
    return indexed_view(out, self, key) if _is_view_key(key) else out


method(_getitem_method, "__getitem__")
method(_setitem, "__setitem__")


# --- gathering ------------------------------------------------------------------------------
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
    same_backend(op_name, (x, indices))
    return indices


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
    x = as_tensor(x, "take")
    if axis is None:
        if x.ndim != 1:
            msg = f"take: axis is required for a tensor of shape {tuple(x.shape)}; pass axis=..."
            raise ValueError(msg)
        axis = 0
    axis = axis_index(axis, x.ndim, "take")
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
    x = as_tensor(x, "take_along_axis")
    indices = _int_tensor(indices, x, "take_along_axis")
    if x.ndim == 0 or indices.ndim != x.ndim:
        msg = (
            "take_along_axis: indices of shape "
            f"{tuple(indices.shape)} must have as many dimensions "
            f"as x of shape {tuple(x.shape)} (at least 1)"
        )
        raise ValueError(msg)
    axis = axis_index(axis, x.ndim, "take_along_axis")
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


def diagonal(x: Tensor, /, *, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal of the matrices spanned by ``axis1`` and ``axis2``, as a last axis.

    As NumPy's and PyTorch's ``diagonal``: the two axes are removed and the diagonal appended.
    ``dualgrad.linalg.diagonal`` is the Array API's version, on the last two axes.

    Args:
        x: a tensor with at least 2 dimensions.
        offset: which diagonal (positive above the main one, negative below).
        axis1: the rows' axis.
        axis2: the columns' axis.

    Returns:
        A tensor of ``x``'s other axes followed by the diagonal's length.

    Raises:
        ValueError: ``x`` has fewer than 2 dimensions, or ``axis1`` and ``axis2`` are one axis.

    Example:
        >>> import dualgrad
        >>> dualgrad.diagonal(dualgrad.tensor([[1.0, 2.0], [3.0, 4.0]]), offset=1)
        tensor([2.])
    """
    x = as_tensor(x, "diagonal")
    if x.ndim < 2:
        msg = f"diagonal: expected at least 2 dimensions, got shape {tuple(x.shape)}"
        raise ValueError(msg)
    (first,) = normalize_axes(axis1, x.ndim, "diagonal")
    (second,) = normalize_axes(axis2, x.ndim, "diagonal")
    if first == second:
        msg = f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2}"
        raise ValueError(msg)
    others = [a for a in range(-x.ndim, 0) if a not in (first, second)]
    x = permute_dims(x, (*others, first, second))
    offset = operator.index(offset)
    rows, cols = x.shape[-2:]
    length = builtins.max(
        0, builtins.min(rows + builtins.min(offset, 0), cols - builtins.max(offset, 0))
    )
    steps = np.arange(length)
    return x[..., steps + builtins.max(-offset, 0), steps + builtins.max(offset, 0)]


def _diagonal(self: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal over axes ``dim1`` and ``dim2`` (PyTorch's ``diagonal``)."""
    return diagonal(self, offset=offset, axis1=dim1, axis2=dim2)


method(_diagonal, "diagonal")


# --- reordering and repeating ---------------------------------------------------------------
def flip(x: Tensor, /, *, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` with the order of its elements reversed along ``axis`` (every axis when None).

    Example:
        >>> import dualgrad
        >>> dualgrad.flip(dualgrad.tensor([1.0, 2.0, 3.0]))
        tensor([3., 2., 1.])
    """
    x = as_tensor(x, "flip")
    axes = range(x.ndim) if axis is None else axis_indices(axis, x.ndim, "flip")
    if len(set(axes)) != len(axes):
        msg = f"flip: repeated axis in {axis}"
        raise ValueError(msg)
    if not axes:
        return x
    key = tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(x.ndim))
    return named(getitem(x, key), "FlipBackward0")


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
    x = as_tensor(x, "roll")
    if axis is None:
        if not isinstance(shift, int | np.integer):
            msg = f"roll: shift must be an int when axis is None, got {shift!r}"
            raise TypeError(msg)
        return reshape(roll(reshape(x, (-1,)), shift, axis=0), x.shape)
    axes = axis_indices(axis, x.ndim, "roll")
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


def unstack(x: Tensor, /, *, axis: int = 0) -> tuple[Tensor, ...]:
    """The slices of ``x`` along ``axis``, as a tuple (the inverse of ``stack``).

    Example:
        >>> import dualgrad
        >>> [t.shape for t in dualgrad.unstack(dualgrad.ones(2, 3), axis=1)]
        [torch.Size([2]), torch.Size([2]), torch.Size([2])]
    """
    x = as_tensor(x, "unstack")
    if x.ndim == 0:
        msg = "unstack: expected a tensor with at least 1 dimension, got a 0-d tensor"
        raise ValueError(msg)
    axis = axis_index(axis, x.ndim, "unstack")
    return tuple(
        named(getitem(x, (slice(None),) * axis + (i,)), "UnbindBackward0")
        for i in range(x.shape[axis])
    )


def unbind(x: Tensor, /, dim: int = 0) -> tuple[Tensor, ...]:
    """PyTorch's ``unstack``: the slices of ``x`` along ``dim``, views of ``x``."""
    pieces = unstack(x, axis=dim)
    lead = (slice(None),) * axis_index(dim, x.ndim, "unbind")
    return tuple(
        indexed_view(piece, x, (*lead, i), ("Unbind", i)) for i, piece in enumerate(pieces)
    )


def split(x: Tensor, split_size_or_sections: Any, /, dim: int = 0) -> tuple[Tensor, ...]:
    """``x`` cut along ``dim`` into pieces of ``split_size_or_sections`` elements (the last
    may be shorter), or of the listed sizes, as ``torch.split``: views of ``x``.

    Raises:
        ValueError: a non-positive size, or sizes that do not add up to the axis length.

    Example:
        >>> import dualgrad
        >>> [t.tolist() for t in dualgrad.split(dualgrad.arange(5), 2)]
        [[0, 1], [2, 3], [4]]
    """
    x = as_tensor(x, "split")
    axis = axis_index(dim, x.ndim, "split")
    length = x.shape[axis]
    name = "SplitWithSizesBackward0"
    if isinstance(split_size_or_sections, int | np.integer):
        name = "SplitBackward0"
        size = int(split_size_or_sections)
        if size <= 0:
            msg = f"split: the size of a piece must be positive, got {size}"
            raise ValueError(msg)
        sizes = [builtins.min(size, length - start) for start in range(0, length, size)]
    else:
        sizes = [int(n) for n in split_size_or_sections]
        if builtins.sum(sizes) != length or builtins.any(n < 0 for n in sizes):
            msg = f"split: sizes {sizes} do not add up to the length {length} of axis {dim}"
            raise ValueError(msg)
    pieces, start = [], 0
    for size in sizes or [0]:
        key = (slice(None),) * axis + (slice(start, start + size),)
        one_of = (name.removesuffix("Backward0"), len(pieces))
        pieces.append(indexed_view(named(getitem(x, key), name), x, key, one_of))
        start += size
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, /, dim: int = 0) -> tuple[Tensor, ...]:
    """``x`` cut along ``dim`` into ``chunks`` pieces of equal length (the last may be
    shorter, and there may be fewer pieces), as ``torch.chunk``.

    Raises:
        ValueError: ``chunks`` is not positive.

    Example:
        >>> import dualgrad
        >>> [t.tolist() for t in dualgrad.chunk(dualgrad.arange(5), 2)]
        [[0, 1, 2], [3, 4]]
    """
    x = as_tensor(x, "chunk")
    if chunks <= 0:
        msg = f"chunk: the number of chunks must be positive, got {chunks}"
        raise ValueError(msg)
    length = x.shape[axis_index(dim, x.ndim, "chunk")]
    return split(x, builtins.max(-(-length // chunks), 1), dim)


method(unbind)
method(split)
method(chunk)


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
    x = as_tensor(x, "repeat")
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = axis_index(axis, x.ndim, "repeat")
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
            f"(axis {axis}'s length), got {counts.dtype} of shape {tuple(counts.shape)}"
        )
        raise ValueError(msg)
    if (counts < 0).any():
        msg = f"repeat: repeats must be non-negative, got {counts.tolist()}"
        raise ValueError(msg)
    positions = np.repeat(np.arange(n), np.broadcast_to(counts, (n,)))
    return take(x, positions, axis=axis)


method(lambda self, dims=None: flip(self, axis=dims), "flip")
method(lambda self, shifts, dims=None: roll(self, shifts, axis=dims), "roll")
method(lambda self, repeats, dim=None: repeat(self, repeats, axis=dim), "repeat_interleave")


# --- sorting --------------------------------------------------------------------------------
def argsort(
    x: Tensor,
    /,
    dim: int | None = None,
    descending: bool = False,
    *,
    axis: int = -1,
    stable: bool = True,
) -> Tensor:
    """The indices that sort ``x`` along ``axis`` (PyTorch's ``dim``, also positional); never
    carries gradients.

    Example:
        >>> import dualgrad
        >>> dualgrad.argsort(dualgrad.tensor([3.0, 1.0, 2.0]))
        tensor([1, 2, 0])
    """
    x = as_tensor(x, "argsort")
    if dim is not None:
        axis = dim
    if x.ndim == 0:
        flat = apply(ops.argsort, (reshape(x, (1,)),), _sort_params(-1, descending, stable))
        return reshape(flat, ())
    axis = axis_index(axis, x.ndim, "argsort") - x.ndim
    return apply(ops.argsort, (x,), _sort_params(axis, descending, stable))


def _sort_params(axis: int, descending: bool, stable: bool) -> dict[str, Any]:
    return {"axis": axis, "descending": builtins.bool(descending), "stable": builtins.bool(stable)}


def sort(
    x: Tensor,
    /,
    dim: int | None = None,
    descending: bool = False,
    *,
    axis: int = -1,
    stable: bool = True,
) -> Any:
    """``x`` sorted along ``axis``; the gradient follows the permutation back.

    With PyTorch's ``dim`` (positional or keyword) the result is PyTorch's: the named tuple
    ``(values, indices)``; without it, the Array API's: the values.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([3.0, 1.0, 2.0])
        >>> dualgrad.sort(x, descending=True)
        tensor([3., 2., 1.])
        >>> dualgrad.sort(x, 0).indices
        tensor([1, 2, 0])
    """
    x = as_tensor(x, "sort")
    if dim is not None:
        return _sort(x, dim, descending, stable)
    if x.ndim == 0:
        return x
    order = argsort(x, axis=axis, descending=descending, stable=stable)
    return take_along_axis(x, order, axis=axis)


def _argsort(
    self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
) -> Tensor:
    """Indices that sort along ``dim``."""
    return argsort(self, axis=dim, descending=descending, stable=stable)


def _sort(
    self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
) -> ValuesIndices:
    """``(values, indices)`` sorted along ``dim``, as PyTorch's ``sort``; the values carry the
    gradient through the permutation."""
    indices = argsort(self, axis=dim, descending=descending, stable=stable)
    values = named(take_along_axis(self, indices, axis=dim), "SortBackward0")
    return values_indices("sort", values, indices)


def topk(
    x: Tensor, k: int, /, dim: int = -1, largest: bool = True, sorted: bool = True
) -> ValuesIndices:
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, as
    ``torch.topk``; the values carry the gradient back to where they came from.

    Raises:
        ValueError: ``k`` is out of range.

    Example:
        >>> import dualgrad
        >>> dualgrad.topk(dualgrad.tensor([1.0, 5.0, 3.0]), 2)
        torch.return_types.topk(
        values=tensor([5., 3.]),
        indices=tensor([1, 2]))
    """
    x = as_tensor(x, "topk")
    length = x.shape[axis_index(dim, x.ndim, "topk")] if x.ndim else 1
    if not 0 <= k <= length:
        msg = f"topk: k={k} is out of range for an axis of length {length}"
        raise ValueError(msg)
    values, indices = _sort(x, dim, descending=largest, stable=True)
    axis = axis_index(dim, x.ndim, "topk") if x.ndim else 0
    first = (slice(None),) * axis + (slice(0, k),)
    values = named(getitem(values, first), "TopkBackward0")
    return values_indices("topk", values, getitem(indices, first))


method(_argsort, "argsort")
method(_sort, "sort")
method(topk)


method(lambda self, indices: take(reshape(self, (-1,)), indices, axis=0), "take")


# --- PyTorch's gather and scatter along one axis -------------------------------------------
def _index_select(self: Tensor, dim: int, index: Any) -> Tensor:
    """The slices of ``self`` at ``index`` (1-D) along ``dim``, as PyTorch's ``index_select``."""
    return named(take(self, index, axis=dim), "IndexSelectBackward0")


def _along_index(x: Tensor, dim: int, index: Tensor, op_name: str) -> tuple[Any, ...]:
    """The full integer key that addresses ``x`` at ``index`` along ``dim`` and at the same
    positions as ``index`` along every other axis (``index`` may be smaller there)."""
    if index.ndim != x.ndim:
        msg = (
            f"{op_name}: index of shape {tuple(index.shape)} must have as many dimensions as "
            f"the tensor of shape {tuple(x.shape)}"
        )
        raise ValueError(msg)
    axis = axis_index(dim, x.ndim, op_name)
    if builtins.any(index.shape[a] > x.shape[a] for a in range(x.ndim) if a != axis):
        msg = (
            f"{op_name}: index of shape {tuple(index.shape)} is larger than the tensor of "
            f"shape {tuple(x.shape)} outside dim {dim}"
        )
        raise ValueError(msg)
    return tuple(
        index
        if a == axis
        else np.arange(index.shape[a]).reshape([-1 if b == a else 1 for b in range(x.ndim)])
        for a in range(x.ndim)
    )


def _gather(self: Tensor, dim: int, index: Any) -> Tensor:
    """``out[i][j] = self[i][index[i][j]]`` (for ``dim=1``), as PyTorch's ``gather``; the
    gradient scatters back, adding repeats."""
    index = _int_tensor(index, self, "gather")
    return named(getitem(self, _along_index(self, dim, index, "gather")), "GatherBackward0")


def _scatter_add(self: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """A copy of ``self`` with ``src``'s elements added at ``index`` along ``dim`` (repeats
    add up), as PyTorch's ``scatter_add``; differentiable in ``self`` and ``src``."""
    index = _int_tensor(index, self, "scatter_add")
    key = _along_index(self, dim, index, "scatter_add")
    src = as_tensor(src, "scatter_add")
    used = getitem(src, tuple(slice(0, n) for n in index.shape))
    return index_add(self, _canonical_key(key, self), astype(used, self.dtype))


def _scatter(self: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
    """A copy of ``self`` with ``src``'s elements (or the number ``value``) written at
    ``index`` along ``dim``, as PyTorch's ``scatter``: ``out[i][index[i][j]] = src[i][j]`` for
    ``dim=1``. Where an index repeats, the last write wins (PyTorch leaves it unspecified).
    Differentiable in ``self`` (zero where written) and ``src``.

    Raises:
        TypeError: neither or both of ``src`` and ``value`` are given.
    """
    if (src is None) == (value is None):
        msg = "scatter: give the values to write as src (a Tensor or a number) or as value="
        raise TypeError(msg)
    index = _int_tensor(index, self, "scatter")
    key = _along_index(self, dim, index, "scatter")
    if isinstance(src, Tensor):
        same_backend("scatter", (self, src))
        src = getitem(src, tuple(slice(0, n) for n in index.shape))
    return index_put(self, key, value if src is None else src)


def _index_key(x: Tensor, dim: int, index: Any, op_name: str) -> tuple[Any, ...]:
    """The key of ``x``'s slices at ``index`` (1-d) along ``dim``."""
    index = _int_tensor(index, x, op_name)
    if index.ndim > 1:
        msg = f"{op_name}: index must be 0-d or 1-d, got shape {tuple(index.shape)}"
        raise ValueError(msg)
    return (slice(None),) * axis_index(dim, x.ndim, op_name) + (index,)


def _index_add(self: Tensor, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
    """A copy of ``self`` with ``alpha * source`` added to its slices at ``index`` along
    ``dim`` (repeats add up), as PyTorch's ``index_add``; differentiable in both tensors."""
    key = _canonical_key(_index_key(self, dim, index, "index_add"), self)
    source = as_tensor(source, "index_add")
    if alpha != 1:
        source = source * alpha
    return index_add(self, key, astype(source, self.dtype, copy=False))


def _index_fill(self: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """A copy of ``self`` with its slices at ``index`` along ``dim`` set to ``value``, as
    PyTorch's ``index_fill``."""
    return index_put(self, _index_key(self, dim, index, "index_fill"), value)


def _masked_select(self: Tensor, mask: Any) -> Tensor:
    """The elements of ``self`` where ``mask`` (broadcast with it) is true, as a 1-d Tensor, as
    PyTorch's ``masked_select``; the gradient goes back to those positions."""
    mask = as_tensor(mask, "masked_select")
    shape = broadcast_shapes("masked_select", self.shape, mask.shape)
    return getitem(broadcast_to(self, shape), broadcast_to(mask, shape))


method(_index_select, "index_select")
method(_gather, "gather")
method(_masked_select, "masked_select")
for _function, _name in (
    (_scatter_add, "scatter_add"),
    (_scatter, "scatter"),
    (_index_add, "index_add"),
    (_index_fill, "index_fill"),
):
    method(_function, _name)
    method(in_place(_function, f"{_name}_"), f"{_name}_")
