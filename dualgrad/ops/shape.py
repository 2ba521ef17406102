"""Shape primitives: reshape, permute_dims, broadcast_to, concat. All linear.

Broadcasting has its one owner here: the shape shapes broadcast to (``broadcast_shapes``), the
sum of a cotangent back over broadcast axes (``unbroadcast``) and the lining up of a tangent
with the shape its input was broadcast to (``broadcast_tangent``). They are ``broadcast_to``'s
rules, and the engines call them (through ``dualgrad._rules``) for the inputs an elementwise
primitive broadcast itself.
"""

from __future__ import annotations

__all__ = ["broadcast_to", "concat", "permute_dims", "reshape"]

import functools

from ._primitive import Primitive


def _batch(g, unbatched_ndim):
    """The leading batch axes of a cotangent or tangent."""
    return g.shape[: g.ndim - unbatched_ndim]


# --- reshape --------------------------------------------------------------------------------
reshape = Primitive(
    "reshape",
    forward=lambda xp, x, *, shape: xp.reshape(x, shape),
    vjp=(lambda xp, g, ans, x, *, shape: xp.reshape(g, _batch(g, ans.ndim) + x.shape),),
    jvp=(lambda xp, t, ans, x, *, shape: xp.reshape(t, _batch(t, x.ndim) + ans.shape),),
    linear=True,
    grad_fn="View",
)


# --- permute_dims ---------------------------------------------------------------------------
def _permute_batched(xp, g, axes):
    """Permute the trailing ``len(axes)`` axes of ``g`` by ``axes`` (negative ints)."""
    nb = g.ndim - len(axes)
    return xp.permute_dims(g, tuple(range(nb)) + tuple(g.ndim + a for a in axes))


def _inverse(axes):
    ndim = len(axes)
    inverse = [0] * ndim
    for position, axis in enumerate(axes):
        inverse[axis + ndim] = position - ndim
    return tuple(inverse)


permute_dims = Primitive(
    "permute_dims",
    forward=lambda xp, x, *, axes: xp.permute_dims(x, tuple(x.ndim + a for a in axes)),
    vjp=(lambda xp, g, ans, x, *, axes: _permute_batched(xp, g, _inverse(axes)),),
    jvp=(lambda xp, t, ans, x, *, axes: _permute_batched(xp, t, axes),),
    linear=True,
    grad_fn="Permute",
)


# --- broadcast_to ---------------------------------------------------------------------------
def broadcast_shapes(op_name, *shapes):
    """The shape the given shapes broadcast to, or a ValueError naming them all."""
    shape = _broadcast_shape(shapes)
    if shape is None:
        listed = " and ".join(str(tuple(shape)) for shape in shapes)
        msg = f"{op_name}: shapes {listed} cannot be broadcast together"
        raise ValueError(msg)
    return shape


@functools.lru_cache(maxsize=256)  # a model meets a few shapes, at every step
def _broadcast_shape(shapes):
    ndim = max(len(shape) for shape in shapes)
    result = [1] * ndim
    for shape in shapes:
        offset = ndim - len(shape)
        for i, size in enumerate(shape, offset):
            if size != result[i] and size != 1:
                if result[i] != 1:
                    return None
                result[i] = size
    return tuple(result)


def unbroadcast(xp, g, ans, x, *, shape):
    """``g`` summed over the axes ``x`` was broadcast along to reach ``shape``.

    The one place that sums cotangents over broadcast axes (the axes broadcast_to added in
    front, and the axes where x had length 1): broadcast_to's vjp, and the engine's for the
    inputs an elementwise primitive broadcast itself.
    """
    added, stretched = _broadcast_axes(tuple(shape), tuple(x.shape))
    # One reduction where one does it (a bias: only added axes), else one and a reshape.
    if not stretched:
        return xp.sum(g, axis=added) if added else g
    if not added:
        return xp.sum(g, axis=stretched, keepdims=True)
    g = xp.sum(g, axis=added + stretched, keepdims=True)
    return xp.reshape(g, _batch(g, len(shape)) + x.shape)


@functools.lru_cache(maxsize=256)
def _broadcast_axes(
    shape: tuple[int, ...], x_shape: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes broadcasting ``x_shape`` to ``shape`` added in front, and those it stretched
    from length 1, as negative ints (so they hold whatever batch axes lead)."""
    lead = len(shape) - len(x_shape)
    added = tuple(range(-len(shape), -len(x_shape)))
    stretched = tuple(
        i - len(x_shape) for i, n in enumerate(x_shape) if n == 1 and shape[lead + i] != 1
    )
    return added, stretched


def broadcast_tangent(xp, t, ans, x, *, shape):
    """``x``'s tangent ``t`` (with any leading batch axes) broadcast as ``x`` is to ``shape``.

    The axes broadcast_to adds go between a tangent's batch axes and x's axes, where
    broadcasting alone would not put them.
    """
    batch = _batch(t, x.ndim)
    t = xp.reshape(t, batch + (1,) * (len(shape) - x.ndim) + x.shape)
    return xp.broadcast_to(t, batch + shape)


broadcast_to = Primitive(
    "broadcast_to",
    forward=lambda xp, x, *, shape: xp.broadcast_to(x, shape),
    vjp=(unbroadcast,),
    jvp=(broadcast_tangent,),
    linear=True,
    grad_fn="Expand",
)


# --- concat ---------------------------------------------------------------------------------
def _concat_vjp(xp, g, ans, *xs, axis, index):
    start = sum(x.shape[axis] for x in xs[:index])
    part = (slice(start, start + xs[index].shape[axis]),) + (slice(None),) * (-axis - 1)
    return g[(..., *part)]


def _concat_jvp(xp, tangents, ans, *xs, axis):
    given = next(t for t in tangents if t is not None)
    batch = _batch(given, xs[0].ndim)
    filled = [
        xp.broadcast_to(xp.zeros_like(x), batch + x.shape) if t is None else t
        for t, x in zip(tangents, xs, strict=True)
    ]
    return xp.concat(filled, axis=axis)


concat = Primitive(
    "concat",
    forward=lambda xp, *xs, axis: xp.concat(list(xs), axis=axis),
    vjp=_concat_vjp,
    jvp=_concat_jvp,
    linear=True,
    variadic=True,
    grad_fn="Cat",
)
