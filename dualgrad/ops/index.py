"""Indexing: ``x[key]`` and its transpose, the scatter-add ``index_add``.

``key`` is a tuple of ints, slices, ``None``, ``Ellipsis`` and integer or boolean backend arrays.
A cotangent or tangent with leading batch axes is indexed with full slices in front of the key.
"""

from __future__ import annotations

__all__ = ["getitem", "index_add"]

from ._primitive import Primitive


def _batched(key, g, unbatched_ndim):
    return (slice(None),) * (g.ndim - unbatched_ndim) + key


def _getitem_vjp(xp, g, ans, x, *, key):
    batch = g.shape[: g.ndim - ans.ndim]
    zeros = xp.broadcast_to(xp.zeros_like(x), batch + x.shape)
    return xp.index_add(zeros, _batched(key, g, ans.ndim), g)


getitem = Primitive(
    "getitem",
    forward=lambda xp, x, *, key: x[key],
    vjp=(_getitem_vjp,),
    jvp=(lambda xp, t, ans, x, *, key: t[_batched(key, t, x.ndim)],),
    linear=True,
    grad_fn="Index",
)


def _index_add_values_jvp(xp, t, ans, x, values, *, key):
    batch = t.shape[: t.ndim - values.ndim]
    zeros = xp.broadcast_to(xp.zeros_like(x), batch + x.shape)
    return xp.index_add(zeros, _batched(key, t, values.ndim), t)


index_add = Primitive(
    "index_add",
    forward=lambda xp, x, values, *, key: xp.index_add(x, key, values),
    vjp=(
        lambda xp, g, ans, x, values, *, key: g,
        lambda xp, g, ans, x, values, *, key: g[_batched(key, g, ans.ndim)],
    ),
    jvp=(lambda xp, t, ans, x, values, *, key: t, _index_add_values_jvp),
    linear=True,
    grad_fn="IndexPut",
)
