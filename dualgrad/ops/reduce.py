"""Reductions. ``axis`` arrives as a tuple of negative ints, so it counts from the right and
stays correct when a cotangent or tangent carries leading batch axes."""

from __future__ import annotations

import math

__all__ = [
    "all",
    "any",
    "argmax",
    "argmin",
    "cumulative_prod",
    "cumulative_sum",
    "euclidean_norm",
    "logsumexp",
    "max",
    "mean",
    "min",
    "prod",
    "sum",
]

from ._primitive import Primitive


def _with_kept_axes(xp, g, x, axis, keepdims):
    """A reduction's cotangent (with any leading batch axes), reshaped to broadcast against x."""
    if keepdims or g.ndim == 0:  # a 0-d cotangent (of a full reduction) broadcasts as it is
        return g
    batch = g.shape[: g.ndim - (x.ndim - len(axis))]
    kept = tuple(1 if i - x.ndim in axis else n for i, n in enumerate(x.shape))
    return xp.reshape(g, batch + kept)


def _expand_back(xp, g, x, axis, keepdims):
    """Broadcast a reduction's cotangent (with any leading batch axes) back to ``x``'s shape."""
    g = _with_kept_axes(xp, g, x, axis, keepdims)
    return xp.broadcast_to(g, g.shape[: g.ndim - x.ndim] + x.shape)


def _mean_vjp(xp, g, ans, x, *, axis, keepdims):
    # The division materializes the spread cotangent anyway: adding zeros broadcasts it in the
    # same pass, without broadcast_to's fixed cost (which dominates on small arrays).
    return _with_kept_axes(xp, g, x, axis, keepdims) / _count(x, axis) + xp.zeros_like(x)


def _count(x, axis):
    return math.prod(x.shape[a] for a in axis)


def _mean(xp, x, axis, keepdims):
    """The sum over the count, as NumPy computes its mean: its ``mean`` is a Python function
    around those two steps and costs twice as much on small arrays. Half precision keeps the
    library's mean, which sums in float32 (a float16 sum overflows past 65504)."""
    if x.dtype == getattr(xp, "float16", None):
        return xp.mean(x, axis=axis, keepdims=keepdims)
    return xp.sum(x, axis=axis, keepdims=keepdims) / _count(x, axis)


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
    forward=lambda xp, x, *, axis, keepdims: _mean(xp, x, axis, keepdims),
    vjp=(_mean_vjp,),
    jvp=(lambda xp, t, ans, x, *, axis, keepdims: _mean(xp, t, axis, keepdims),),
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


# --- prod -----------------------------------------------------------------------------------
def _reversed(xp, a, axis):
    """``a`` reversed along the (negative) ``axis`` (``flip``: PyTorch has no negative steps)."""
    return xp.flip(a, axis=axis)


def _prod_of_others(xp, x, axis):
    """For each element of ``x``, the product of the others in its reduction: no division, so
    it is exact where ``x`` has zeros. The reduced axes are moved last and flattened; then the
    product of all elements before and of all after each one come from exclusive cumulative
    products from the left and from the right."""
    kept = tuple(a for a in range(-x.ndim, 0) if a not in axis)
    order = tuple(x.ndim + a for a in kept + axis)
    moved = xp.permute_dims(x, order)
    flat = xp.reshape(moved, (*moved.shape[: len(kept)], _count(x, axis)))
    before = xp.cumulative_prod(flat, axis=-1, include_initial=True)[..., :-1]
    after = _reversed(
        xp,
        xp.cumulative_prod(_reversed(xp, flat, -1), axis=-1, include_initial=True)[..., :-1],
        -1,
    )
    others = xp.reshape(before * after, moved.shape)
    inverse = [0] * x.ndim
    for position, source in enumerate(order):
        inverse[source] = position
    return xp.permute_dims(others, tuple(inverse))


prod = Primitive(
    "prod",
    forward=lambda xp, x, *, axis, keepdims: xp.prod(x, axis=axis, keepdims=keepdims),
    vjp=(
        lambda xp, g, ans, x, *, axis, keepdims: (
            _expand_back(xp, g, x, axis, keepdims) * _prod_of_others(xp, x, axis)
        ),
    ),
    jvp=(
        lambda xp, t, ans, x, *, axis, keepdims: xp.sum(
            t * _prod_of_others(xp, x, axis), axis=axis, keepdims=keepdims
        ),
    ),
)


# --- euclidean_norm -------------------------------------------------------------------------
# The 2-norm, behind vector_norm, the Frobenius norm and std. As a composition, sqrt(sum(x*x)),
# its derivative where every element is 0 is sqrt's inf times sum's 0: nan. Here it is the zero
# subgradient, as PyTorch's norms and std give: the rules divide x (all 0 there) by a norm
# whose zeros are replaced by ones.
def _norm_divisor(xp, ans, x, axis, keepdims):
    ans = _with_kept_axes(xp, ans, x, axis, keepdims)
    return xp.where(ans == 0, xp.ones_like(ans), ans)


euclidean_norm = Primitive(
    "euclidean_norm",
    forward=lambda xp, x, *, axis, keepdims: xp.sqrt(xp.sum(x * x, axis=axis, keepdims=keepdims)),
    vjp=(
        lambda xp, g, ans, x, *, axis, keepdims: (
            _with_kept_axes(xp, g, x, axis, keepdims)
            * (x / _norm_divisor(xp, ans, x, axis, keepdims))
        ),
    ),
    jvp=(
        lambda xp, t, ans, x, *, axis, keepdims: xp.sum(
            t * (x / _norm_divisor(xp, ans, x, axis, keepdims)), axis=axis, keepdims=keepdims
        ),
    ),
)


# --- logsumexp ------------------------------------------------------------------------------
def _logsumexp_forward(xp, x, *, axis, keepdims):
    if _count(x, axis) == 0:  # a shape test: the sum of no exponentials is 0, its log -inf
        shape = tuple(1 if i - x.ndim in axis else n for i, n in enumerate(x.shape))
        out = xp.full(shape, -math.inf, dtype=x.dtype)
        return out if keepdims else xp.reshape(out, _drop(x, axis))
    # Subtract the largest element, so that exp never overflows and at least one term is 1; an
    # infinite maximum is left out, so that rows of -inf give -inf and rows with +inf give +inf.
    shift = xp.max(x, axis=axis, keepdims=True)
    shift = xp.where(xp.isfinite(shift), shift, xp.zeros_like(shift))
    total = xp.sum(xp.exp(x - shift), axis=axis, keepdims=True)
    # A row of -inf sums to 0: its log is -inf, computed without log(0)'s divide-by-zero warning
    positive = total > 0
    logs = xp.log(xp.where(positive, total, xp.ones_like(total)))
    out = xp.where(positive, logs, xp.full_like(total, -math.inf)) + shift
    return out if keepdims else xp.reshape(out, _drop(x, axis))


def _drop(x, axis):
    return tuple(n for i, n in enumerate(x.shape) if i - x.ndim not in axis)


def _softmax_weights(xp, ans, x, axis, keepdims):
    """d logsumexp / d x: the softmax of ``x`` over ``axis``, from the saved result."""
    return xp.exp(x - _expand_back(xp, ans, x, axis, keepdims))


logsumexp = Primitive(
    "logsumexp",
    forward=_logsumexp_forward,
    vjp=(
        lambda xp, g, ans, x, *, axis, keepdims: (
            _expand_back(xp, g, x, axis, keepdims) * _softmax_weights(xp, ans, x, axis, keepdims)
        ),
    ),
    jvp=(
        lambda xp, t, ans, x, *, axis, keepdims: xp.sum(
            t * _softmax_weights(xp, ans, x, axis, keepdims), axis=axis, keepdims=keepdims
        ),
    ),
)


# --- cumulative_sum, cumulative_prod --------------------------------------------------------
# ``axis`` is one negative int. ``include_initial`` is not a param: dualgrad.cumulative_sum and
# cumulative_prod concatenate the initial 0 or 1 themselves.
def _reverse_cumulative_sum(xp, g, axis):
    """``out[i] = sum(g[j] for j >= i)`` along ``axis``: the transpose of a cumulative sum."""
    return _reversed(xp, xp.cumulative_sum(_reversed(xp, g, axis), axis=axis), axis)


cumulative_sum = Primitive(
    "cumulative_sum",
    forward=lambda xp, x, *, axis: xp.cumulative_sum(x, axis=axis),
    vjp=(lambda xp, g, ans, x, *, axis: _reverse_cumulative_sum(xp, g, axis),),
    jvp=(lambda xp, t, ans, x, *, axis: xp.cumulative_sum(t, axis=axis),),
    linear=True,
    grad_fn="Cumsum",
)


# d ans[k] / d x[i] = prod(x[j] for j <= k if j != i) for i <= k. Away from zeros that is
# ans[k] / x[i] (PyTorch's formula). Along a row with zeros, with z the first of them:
# - a nonzero x[i] still gets sum(g[k] * ans[k] for k >= i) / x[i] (exact: for i > z every term
#   carries the factor x[z] = 0, and so do ans[k] for k >= z);
# - x[z] gets sum(g[k] * skip[k] for k >= z), where skip is the cumulative product with x[z]
#   replaced by 1 (skip[k] = prod(x[j] for j <= k if j != z) for k >= z);
# - later zeros get 0 (each term carries the factor x[z] = 0).
# So first derivatives are exact with any zeros. Second derivatives are exact with at most one
# zero per row; with exactly two, d(cotangent of the second) / d(first) is missed (taken as 0).
# Where ans[k] underflows to 0 without a zero in x, the cotangents from those k are lost too.
def _cumulative_prod_parts(xp, x, axis):
    zero = x == 0
    zeros_so_far = xp.cumulative_sum(xp.astype(zero, x.dtype), axis=axis)
    first_zero = xp.logical_and(zero, zeros_so_far == 1)
    ones = xp.ones_like(x)
    safe_x = xp.where(zero, ones, x)
    skip = xp.cumulative_prod(xp.where(first_zero, ones, x), axis=axis)
    return zero, first_zero, safe_x, skip


def _cumulative_prod_vjp(xp, g, ans, x, *, axis):
    zero, first_zero, safe_x, skip = _cumulative_prod_parts(xp, x, axis)
    at_nonzero = _reverse_cumulative_sum(xp, g * ans, axis) / safe_x
    at_first_zero = _reverse_cumulative_sum(xp, g * skip, axis)
    at_zero = xp.where(first_zero, at_first_zero, xp.zeros_like(at_first_zero))
    return xp.where(zero, at_zero, at_nonzero)


def _cumulative_prod_jvp(xp, t, ans, x, *, axis):
    zero, first_zero, safe_x, skip = _cumulative_prod_parts(xp, x, axis)
    ratio = t / safe_x
    from_nonzero = ans * xp.cumulative_sum(xp.where(zero, xp.zeros_like(ratio), ratio), axis=axis)
    from_first_zero = skip * xp.cumulative_sum(
        xp.where(first_zero, t, xp.zeros_like(t)), axis=axis
    )
    return from_nonzero + from_first_zero


cumulative_prod = Primitive(
    "cumulative_prod",
    forward=lambda xp, x, *, axis: xp.cumulative_prod(x, axis=axis),
    vjp=(_cumulative_prod_vjp,),
    jvp=(_cumulative_prod_jvp,),
    grad_fn="Cumprod",
)


# --- argmax, argmin: indices, no gradients --------------------------------------------------
# ``axis`` is one negative int (dualgrad.argmax flattens first for None); results are int64.
argmax = Primitive(
    "argmax",
    forward=lambda xp, x, *, axis, keepdims: xp.astype(
        xp.argmax(x, axis=axis, keepdims=keepdims), xp.int64
    ),
    vjp=(None,),
    jvp=(None,),
)
argmin = Primitive(
    "argmin",
    forward=lambda xp, x, *, axis, keepdims: xp.astype(
        xp.argmin(x, axis=axis, keepdims=keepdims), xp.int64
    ),
    vjp=(None,),
    jvp=(None,),
)
