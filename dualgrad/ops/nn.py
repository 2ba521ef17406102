"""Fused primitives for neural networks, where composing would lose accuracy or overflow
(log_softmax, softplus, ...), and relu.

``axis`` arrives as a tuple of negative ints. No rule exponentiates a positive number: every
``exp`` here sees a value <= 0, so logits of any size give finite values and derivatives.
"""

from __future__ import annotations

__all__ = ["log_sigmoid", "log_softmax", "relu", "softmax", "softplus"]

from ._primitive import Primitive, unary


# --- relu -----------------------------------------------------------------------------------
# One pass each way, as a hand-written network does: NaN stays NaN, and the derivative at 0 is
# 0, as in PyTorch. The derivatives multiply by the mask rather than select with where(), which
# is ten times slower on NumPy; so, unlike PyTorch, an infinite or NaN cotangent where the unit
# is off gives NaN, not 0.
def _relu_mask(xp, ans, like):
    return xp.astype(ans > 0, like.dtype)


relu = Primitive(
    "relu",
    forward=lambda xp, x: xp.maximum(x, 0),  # a weak 0: integer tensors stay integer
    vjp=(lambda xp, g, ans, x: g * _relu_mask(xp, ans, g),),
    jvp=(lambda xp, t, ans, x: t * _relu_mask(xp, ans, t),),
    elementwise=True,
)


# --- softmax, log_softmax -------------------------------------------------------------------
def _empty_along(x, axis):
    """Whether an axis to normalize along has length 0 (then so has the result: nothing to do,
    and max() of an empty axis would raise)."""
    return any(x.shape[a] == 0 for a in axis)


def _shifted(xp, x, axis):
    """``x`` minus its maximum over ``axis``, so that every exponent is <= 0."""
    return x - xp.max(x, axis=axis, keepdims=True)


def _log_softmax_forward(xp, x, *, axis):
    if _empty_along(x, axis):
        return x
    shifted = _shifted(xp, x, axis)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def _softmax_forward(xp, x, *, axis):
    if _empty_along(x, axis):
        return x
    unnormalized = xp.exp(_shifted(xp, x, axis))
    return unnormalized / xp.sum(unnormalized, axis=axis, keepdims=True)


log_softmax = Primitive(
    "log_softmax",
    forward=_log_softmax_forward,
    vjp=(lambda xp, g, ans, x, *, axis: g - xp.exp(ans) * xp.sum(g, axis=axis, keepdims=True),),
    jvp=(lambda xp, t, ans, x, *, axis: t - xp.sum(xp.exp(ans) * t, axis=axis, keepdims=True),),
    grad_fn="LogSoftmax",
)
softmax = Primitive(
    "softmax",
    forward=_softmax_forward,
    vjp=(lambda xp, g, ans, x, *, axis: ans * (g - xp.sum(g * ans, axis=axis, keepdims=True)),),
    jvp=(lambda xp, t, ans, x, *, axis: ans * (t - xp.sum(t * ans, axis=axis, keepdims=True)),),
)


# --- softplus, log_sigmoid ------------------------------------------------------------------
def _sigmoid(xp, x):
    """1 / (1 + exp(-x)) without overflow: the exponent is -|x|, chosen per side by ``where`` so
    that the derivative at 0 is right too (``abs`` would give it 0 there)."""
    positive = x >= 0.0
    e = xp.exp(xp.where(positive, -x, x))
    return xp.where(positive, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus_of(xp, z):
    """log(1 + exp(z)) as max(z, 0) + log1p(exp(-|z|)) (forward only: backend arrays)."""
    return xp.maximum(z, xp.zeros_like(z)) + xp.log1p(xp.exp(-xp.abs(z)))


def _softplus_forward(xp, x, *, beta, threshold):
    z = x * beta
    # PyTorch's softplus is the identity above the threshold.
    return xp.where(z > threshold, x, _softplus_of(xp, z) / beta)


def _softplus_derivative(xp, x, beta, threshold):
    z = x * beta
    return xp.where(z > threshold, xp.ones_like(x), _sigmoid(xp, z))


softplus = Primitive(
    "softplus",
    forward=_softplus_forward,
    vjp=(
        lambda xp, g, ans, x, *, beta, threshold: g * _softplus_derivative(xp, x, beta, threshold),
    ),
    jvp=(
        lambda xp, t, ans, x, *, beta, threshold: t * _softplus_derivative(xp, x, beta, threshold),
    ),
    elementwise=True,
)
# log(sigmoid(x)) = -softplus(-x); its derivative is sigmoid(-x).
log_sigmoid = unary(
    "log_sigmoid",
    d=lambda xp, x, ans: _sigmoid(xp, -x),
    forward=lambda xp, x: -_softplus_of(xp, -x),
    grad_fn="LogSigmoid",
)
