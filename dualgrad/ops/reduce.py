"""Reductions. ``axis`` arrives as a tuple of negative ints, so it counts from the right and
stays correct when a cotangent or tangent carries leading batch axes."""

from __future__ import annotations

import math

__all__ = ["all", "any", "max", "mean", "min", "sum"]

from ._primitive import Primitive


def _expand_back(xp, g, x, axis, keepdims):
    """Broadcast a reduction's cotangent (with any leading batch axes) back to ``x``'s shape."""
    batch = g.shape[: g.ndim - (x.ndim if keepdims else x.ndim - len(axis))]
    if not keepdims:
        kept = tuple(1 if i - x.ndim in axis else n for i, n in enumerate(x.shape))
        g = xp.reshape(g, batch + kept)
    return xp.broadcast_to(g, batch + x.shape)


def _count(x, axis):
    return math.prod(x.shape[a] for a in axis)


# --- sum, mean ------------------------------------------------------------------------------
sum = Primitive(
    "sum",
    forward=lambda xp, x, *, axis, keepdims: xp.sum(x, axis=axis, keepdims=keepdims),
    vjp=(lambda xp, g, ans, x, *, axis, keepdims: _expand_back(xp, g, x, axis, keepdims),),
    jvp=(lambda xp, t, ans, x, *, axis, keepdims: xp.sum(t, axis=axis, keepdims=keepdims),),
    linear=True,
)
mean = Primitive(
    "mean",
    forward=lambda xp, x, *, axis, keepdims: xp.mean(x, axis=axis, keepdims=keepdims),
    vjp=(
        lambda xp, g, ans, x, *, axis, keepdims: (
            _expand_back(xp, g, x, axis, keepdims) / _count(x, axis)
        ),
    ),
    jvp=(lambda xp, t, ans, x, *, axis, keepdims: xp.mean(t, axis=axis, keepdims=keepdims),),
    linear=True,
)


# --- max, min -------------------------------------------------------------------------------
# The gradient is split evenly between tied extreme values, as PyTorch's amax/amin do.
def _extreme_weights(xp, ans, x, axis, keepdims):
    """Each element's share of the extreme: 1/count where it attains it, else 0."""
    ans_kept = ans if keepdims else _expand_back(xp, ans, x, axis, False)
    hits = xp.astype(x == ans_kept, x.dtype)
    return hits / xp.sum(hits, axis=axis, keepdims=True)


def _extreme_vjp(xp, g, ans, x, *, axis, keepdims):
    return _expand_back(xp, g, x, axis, keepdims) * _extreme_weights(xp, ans, x, axis, keepdims)


def _extreme_jvp(xp, t, ans, x, *, axis, keepdims):
    weights = _extreme_weights(xp, ans, x, axis, keepdims)
    return xp.sum(t * weights, axis=axis, keepdims=keepdims)


max = Primitive(
    "max",
    forward=lambda xp, x, *, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims),
    vjp=(_extreme_vjp,),
    jvp=(_extreme_jvp,),
)
min = Primitive(
    "min",
    forward=lambda xp, x, *, axis, keepdims: xp.min(x, axis=axis, keepdims=keepdims),
    vjp=(_extreme_vjp,),
    jvp=(_extreme_jvp,),
)


# --- boolean reductions: no gradients -------------------------------------------------------
any = Primitive(
    "any",
    forward=lambda xp, x, *, axis, keepdims: xp.any(x, axis=axis, keepdims=keepdims),
    vjp=(None,),
    jvp=(None,),
)
all = Primitive(
    "all",
    forward=lambda xp, x, *, axis, keepdims: xp.all(x, axis=axis, keepdims=keepdims),
    vjp=(None,),
    jvp=(None,),
)
