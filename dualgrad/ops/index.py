"""Indexing: ``x[key]`` and its transpose, the scatter-add ``index_add``.

``key`` is a tuple of ints, slices, ``None``, ``Ellipsis`` and integer or boolean backend arrays,
with NumPy's meaning on every backend. A cotangent or tangent with leading batch axes is indexed
with full slices in front of a basic key, and through flat positions when the key holds arrays
(see ``_positions``).
"""

from __future__ import annotations

__all__ = ["argsort", "getitem", "index_add"]

import math

from array_api_compat import array_namespace

from ._primitive import Primitive


# --- keys the Array API does not take --------------------------------------------------------
# The standard allows integer arrays only beside integers, in a key naming every axis, and a mask
# only as the sole index; NumPy allows them anywhere. A cotangent's or tangent's leading batch
# axes need full slices in front of the key, which makes any array key non-standard, and NumPy
# would move the axes of split advanced indices (x[i, :, j], x[0, :, j]) in front of the batch
# axes. So such keys are turned into flat positions, computed by NumPy's rules from the key alone,
# and a block is gathered with one 1-D integer array, which every namespace takes.
def _is_array(part):
    return hasattr(part, "shape")


def _is_mask(part):
    return _is_array(part) and part.dtype == array_namespace(part).bool


def _basic(key):
    """Whether batch axes can be taken by full slices in front of the key: it holds no arrays.

    (Nor NumPy's rare Python-bool indices, which are left to the namespace as they are.)
    """
    return not any(_is_array(part) for part in key) or any(isinstance(part, bool) for part in key)


def _standard(key, ndim):
    """Whether every Array API namespace takes this key holding arrays as it is."""
    if len(key) == 1 and _is_mask(key[0]):
        return key[0].ndim == ndim
    return len(key) == ndim and all(
        isinstance(part, int) or (_is_array(part) and not _is_mask(part)) for part in key
    )


_SPLIT = object()


def _index_dtype(ns):
    """The namespace's default integer dtype: int64, or int32 where 64-bit integers are off (JAX
    by default, whose int64 would be truncated with a warning)."""
    return ns.arange(0).dtype


def _positions(key, shape):
    """Flat positions, in a C-ordered array of ``shape``, of the elements ``array[key]`` picks.

    NumPy's rules: masks stand for their ``nonzero()`` arrays, integers beside arrays are
    advanced indices too, and the advanced indices' broadcast axes replace them in place when
    they are adjacent, else go first. The result is an integer array of ``array[key]``'s shape.
    """
    # The key's own namespace builds the positions: it holds raw arrays even when a rule's ``xp``
    # is dualgrad's differentiable namespace.
    ns = array_namespace(*(part for part in key if _is_array(part)))
    integer = _index_dtype(ns)
    parts = []
    for part in key:
        parts.extend(ns.nonzero(part) if _is_mask(part) else (part,))
    named = sum(part is not None and part is not Ellipsis for part in parts)
    fill = [slice(None)] * (len(shape) - named)
    at = next((k for k, part in enumerate(parts) if part is Ellipsis), len(parts))
    # NumPy counts an Ellipsis between advanced indices as splitting them, even when it stands
    # for no axes; a placeholder keeps that.
    parts = parts[:at] + (fill or [_SPLIT]) + parts[at + 1 :] if at < len(parts) else parts + fill

    strides = [math.prod(shape[axis + 1 :]) for axis in range(len(shape))]
    advanced, indices, others = [], [], []  # others: (part position, length, flat offsets)
    axis = 0
    for k, part in enumerate(parts):
        if part is _SPLIT:
            continue
        if part is None:
            others.append((k, 1, None))
            continue
        if isinstance(part, slice):
            steps = range(*part.indices(shape[axis]))
            offsets = ns.arange(steps.start, steps.stop, steps.step, dtype=integer)
            others.append((k, len(steps), offsets * strides[axis]))
        else:
            # take() checks the bounds and wraps negative indices, as indexing would.
            index = ns.asarray(part, dtype=integer)
            wrapped = ns.take(ns.arange(shape[axis], dtype=integer), ns.reshape(index, (-1,)))
            advanced.append(k)
            indices.append(ns.reshape(wrapped, index.shape) * strides[axis])
        axis += 1
    # Result axes: the other parts' axes in order, with the advanced indices' broadcast axes in
    # place of the first advanced index when they are adjacent, else in front.
    indices = ns.broadcast_arrays(*indices)
    broadcast = indices[0].shape
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
    lead = sum(k < advanced[0] for k, _, _ in others) if adjacent else 0
    sizes = [n for _, n, _ in others]
    result = (*sizes[:lead], *broadcast, *sizes[lead:])
    positions = ns.zeros(result, dtype=integer)
    for j, (_, n, offsets) in enumerate(others):
        if offsets is not None:
            place = j if j < lead else j + len(broadcast)
            placed = tuple(n if d == place else 1 for d in range(len(result)))
            positions = positions + ns.reshape(offsets, placed)
    for index in indices:
        placed = (1,) * lead + broadcast + (1,) * (len(others) - lead)
        positions = positions + ns.reshape(index, placed)
    return positions


def _flat_positions(key, batch, shape):
    """Positions, in a flattened ``batch + shape`` block, of ``block[..., *key]``'s elements."""
    positions = _positions(key, shape)
    ns = array_namespace(positions)
    starts = ns.arange(math.prod(batch), dtype=positions.dtype) * math.prod(shape)
    flat = ns.reshape(starts, (-1, 1)) + ns.reshape(positions, (1, -1))
    return ns.reshape(flat, (-1,)), positions.shape


def _positive_steps(key, shape):
    """``key`` with each negative-step slice replaced by the positive-step slice of the same
    elements, and the result axes those slices give, to be flipped back.

    PyTorch refuses negative steps ("step must be greater than zero"); every namespace has flip.
    Keys holding arrays are left as they are (NumPy's rare Python bools beside arrays).
    """
    if any(_is_array(part) for part in key) or not any(
        isinstance(part, slice) and (part.step or 1) < 0 for part in key
    ):
        return key, ()
    # None and Python bools add a result axis without taking one of x's
    new_axis = [part is None or isinstance(part, bool) for part in key]
    named = sum(not new and part is not Ellipsis for part, new in zip(key, new_axis, strict=True))
    parts, flipped, axis, result_axis = [], [], 0, 0
    for part, new in zip(key, new_axis, strict=True):
        if part is Ellipsis:
            axis += len(shape) - named
            result_axis += len(shape) - named
        elif new:
            result_axis += 1
        elif isinstance(part, slice):
            taken = range(*part.indices(shape[axis]))
            if taken.step < 0:
                part = slice(taken[-1], taken[0] + 1, -taken.step) if taken else slice(0, 0)
                flipped.append(result_axis)
            axis += 1
            result_axis += 1
        else:
            axis += 1  # an integer
        parts.append(part)
    return tuple(parts), tuple(flipped)


def _gather(xp, block, key, shape):
    """``block[..., *key]`` with NumPy's rules, for a block of shape ``batch + shape``."""
    batch = block.shape[: block.ndim - len(shape)]
    if _basic(key):
        key, flipped = _positive_steps(key, shape)
        taken = block[(slice(None),) * len(batch) + key]
        return xp.flip(taken, axis=tuple(len(batch) + a for a in flipped)) if flipped else taken
    if not batch and _standard(key, len(shape)):
        return block[key]
    flat, indexed_shape = _flat_positions(key, batch, shape)
    return xp.reshape(xp.reshape(block, (-1,))[(flat,)], batch + indexed_shape)


def _scatter_add(xp, block, key, values, shape):
    """``block`` with ``values`` added at ``block[..., *key]``, for a block ``batch + shape``."""
    batch = block.shape[: block.ndim - len(shape)]
    if _basic(key):
        return xp.index_add(block, (slice(None),) * len(batch) + key, values)
    if not batch:
        return xp.index_add(block, key, values)  # backends scatter with NumPy's rules
    flat, _ = _flat_positions(key, batch, shape)
    added = xp.index_add(xp.reshape(block, (-1,)), (flat,), xp.reshape(values, (-1,)))
    return xp.reshape(added, block.shape)


# --- getitem, index_add ---------------------------------------------------------------------
def _getitem_vjp(xp, g, ans, x, *, key):
    batch = g.shape[: g.ndim - ans.ndim]
    zeros = xp.broadcast_to(xp.zeros_like(x), batch + x.shape)
    return _scatter_add(xp, zeros, key, g, x.shape)


getitem = Primitive(
    "getitem",
    forward=lambda xp, x, *, key: _gather(xp, x, key, x.shape),
    vjp=(_getitem_vjp,),
    jvp=(lambda xp, t, ans, x, *, key: _gather(xp, t, key, x.shape),),
    linear=True,
    grad_fn="Index",
)


def _index_add_values_jvp(xp, t, ans, x, values, *, key):
    batch = t.shape[: t.ndim - values.ndim]
    zeros = xp.broadcast_to(xp.zeros_like(x), batch + x.shape)
    return _scatter_add(xp, zeros, key, t, x.shape)


index_add = Primitive(
    "index_add",
    forward=lambda xp, x, values, *, key: xp.index_add(x, key, values),
    vjp=(
        lambda xp, g, ans, x, values, *, key: g,
        lambda xp, g, ans, x, values, *, key: _gather(xp, g, key, x.shape),
    ),
    jvp=(lambda xp, t, ans, x, values, *, key: t, _index_add_values_jvp),
    linear=True,
    grad_fn="IndexPut",
)


# --- argsort: indices, no gradients ------------------------------------------------------------
# sort is a plain function (argsort, then a gather through getitem), so its gradient follows the
# permutation; only the indices need a primitive.
argsort = Primitive(
    "argsort",
    forward=lambda xp, x, *, axis, descending, stable: xp.argsort(
        x, axis=axis, descending=descending, stable=stable
    ),
    vjp=(None,),
    jvp=(None,),
)
