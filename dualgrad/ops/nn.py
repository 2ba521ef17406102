"""Primitives for neural networks: fused where composing would lose accuracy, overflow or
take many more passes (log_softmax, softplus, standardize, ...), relu, and the patch gathering
behind convolution and pooling (unfold, fold).

``axis`` arrives as a tuple of negative ints. No rule exponentiates a positive number: every
``exp`` here sees a value <= 0, so logits of any size give finite values and derivatives.
"""

from __future__ import annotations

__all__ = [
    "binary_cross_entropy",
    "fold",
    "log_sigmoid",
    "log_softmax",
    "nll_loss",
    "relu",
    "softmax",
    "softplus",
    "standardize",
    "unfold",
]

from ._primitive import Primitive, binary, unary


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


# --- nll_loss -------------------------------------------------------------------------------
# Each counted target's log-probability, negated and weighted by its class's weight, then summed
# or averaged, in one node (PyTorch's NllLossBackward0): the loss of every classifier that ends
# in cross_entropy. Composed of one-hot masks, where, sum and divide it dispatched thirteen
# operations and recorded eight nodes. The loss is linear in ``x``: both rules are the same pick
# (and its transpose), so they read only the target and the weights.
# Inputs: ``x`` (classes along ``axis``), ``target`` (class indices: ``x``'s shape without that
# axis; ``ignore_index`` marks those that count for nothing) and ``weight`` (one per class; not
# differentiable, as in PyTorch; ``weighted`` False: ones, not read). ``reduction`` "mean"
# divides by the counted targets' weights.
def _along_classes(a, axis):
    """``a`` (one value per target) with a class axis of length 1 at ``axis``."""
    return a[(..., None) + (slice(None),) * (-axis - 1)]


def _hits(xp, x, target, counted, axis, ignore_index):
    """True where each counted target's class lies along ``axis`` of ``x`` (``x``'s shape);
    ``counted``: the targets that are not ``ignore_index``."""
    classes = x.shape[axis]
    labels = xp.arange(classes)
    if axis != -1:
        labels = xp.reshape(labels, (classes,) + (1,) * (-axis - 1))
    hits = _along_classes(target, axis) == labels
    if 0 <= ignore_index < classes:  # an ignored target would hit a class
        hits = hits & _along_classes(counted, axis)
    return hits


def _class_values(xp, weight, axis):
    """``weight`` (one per class) along ``axis``."""
    return weight if axis == -1 else xp.reshape(weight, weight.shape + (1,) * (-axis - 1))


def _picked(xp, hits, values, axis):
    """The values at the hits, one per target (0 where none: an ignored target)."""
    return xp.sum(xp.where(hits, values, xp.zeros_like(values)), axis=axis)


def _weights(xp, hits, counted, weight, axis, weighted, dtype):
    """Each target's weight: its class's, 0 where ignored; unweighted, 1 where counted (the
    same for a weight of ones, without picking it)."""
    if weighted:
        return _picked(xp, hits, _class_values(xp, weight, axis), axis)
    return xp.astype(counted, dtype)


def _nll_pick(xp, values, target, weight, *, axis, ignore_index, reduction, weighted):
    """The loss as a function of ``values`` of ``x``'s shape (with any leading batch axes):
    the forward on ``x``, the jvp on a tangent."""
    counted = target != ignore_index
    hits = _hits(xp, values, target, counted, axis, ignore_index)
    weights = _weights(xp, hits, counted, weight, axis, weighted, values.dtype)
    # where(): 0, not -0, for an ignored target, as PyTorch gives
    losses = xp.where(
        counted, -(weights * _picked(xp, hits, values, axis)), xp.zeros_like(weights)
    )
    if reduction == "none":
        return losses
    total = xp.sum(losses, axis=tuple(range(-target.ndim, 0))) if target.ndim else losses
    return total / xp.sum(weights) if reduction == "mean" else total


def _nll_vjp(xp, g, ans, x, target, weight, *, axis, ignore_index, reduction, weighted):
    counted = target != ignore_index
    hits = _hits(xp, x, target, counted, axis, ignore_index)
    weights = _weights(xp, hits, counted, weight, axis, weighted, x.dtype)
    if reduction != "none":  # g has the leading batch axes only: spread it over the targets
        g = xp.reshape(g, g.shape + (1,) * target.ndim)
        if reduction == "mean":  # a total weight of 0 (every target ignored) hits nothing
            total = xp.sum(weights)
            g = g / xp.where(total == 0, xp.ones_like(total), total)
    spread = _along_classes(-(g * weights), axis)
    return xp.where(hits, spread, xp.zeros_like(spread))


def _nll_jvp(xp, t, ans, x, target, weight, **params):
    return _nll_pick(xp, t, target, weight, **params)


nll_loss = Primitive(
    "nll_loss",
    forward=_nll_pick,
    vjp=(_nll_vjp, None, None),
    jvp=(_nll_jvp, None, None),
    vjp_reads=((1, 2), None, None),
    vjp_reads_ans=False,
    grad_fn="NllLoss",
)


# --- binary_cross_entropy -------------------------------------------------------------------
# -(y log x + (1 - y) log(1 - x)) with each log clamped at -100, as PyTorch computes it, so
# that a prediction of exactly 0 or 1 (a saturated float32 sigmoid) gives a finite loss. The
# derivative in x is PyTorch's, (x - y) / max(x (1 - x), eps), not that of the clamped
# composition: at the ends, a right prediction gets 0 and a wrong one a large push back,
# where the clamp is flat and would give it none. In y it is the difference of the logs.
_BCE_EPSILON = 9.999999960041972e-13  # PyTorch's 1e-12, which it stores as a float32


def _clamped_log(xp, x):
    """``max(log(x), -100)``, without log(0)'s divide-by-zero warning."""
    positive = x > 0
    logs = xp.log(xp.where(positive, x, xp.ones_like(x)))
    return xp.where(positive & (logs > -100.0), logs, xp.full_like(x, -100.0))


binary_cross_entropy = binary(
    "binary_cross_entropy",
    forward=lambda xp, x, y: -(y * _clamped_log(xp, x) + (1.0 - y) * _clamped_log(xp, 1.0 - x)),
    dx=lambda xp, x, y, ans: (x - y) / xp.maximum(x * (1.0 - x), xp.full_like(x, _BCE_EPSILON)),
    dy=lambda xp, x, y, ans: _clamped_log(xp, 1.0 - x) - _clamped_log(xp, x),
)


# --- unfold, fold: im2col and col2im --------------------------------------------------------
# unfold gathers every kernel-sized patch of an image (..., C, H, W) into a column, giving
# (..., C * kh * kw, L): L = oh * ow patches in row-major order, each column ordered by channel,
# then kernel row, then kernel column (PyTorch's layout). A convolution is then one matmul with
# the weight reshaped to (out_channels, C * kh * kw). fold adds columns back into an image,
# overlapping patches summing: it is unfold's transpose, so each is the other's derivative.
# Both are built from slices, stack, concat and reshape only, which dualgrad's differentiable
# namespace has too, so their rules also run on Tensors (higher order). Params are pairs (rows,
# columns): kernel_size, dilation, padding (zeros, on both sides), stride; fold's output_size is
# the image's (H, W) without padding.
def _zeros(xp, like, shape):
    """Zeros of ``shape`` in ``like``'s dtype, on either namespace (dualgrad's has no zeros()):
    the sum of an empty slice is a 0-d zero, at no cost."""
    return xp.broadcast_to(xp.zeros_like(xp.sum(like[..., :0])), shape)


def _pad_axis(xp, x, before, after, axis):
    """``x`` with ``before`` and ``after`` zeros along ``axis`` (-1 or -2)."""
    parts = [x]
    shape = list(x.shape)
    if before:
        shape[axis] = before
        parts.insert(0, _zeros(xp, x, tuple(shape)))
    if after:
        shape[axis] = after
        parts.append(_zeros(xp, x, tuple(shape)))
    return xp.concat(parts, axis=axis) if len(parts) > 1 else x


def _patches(size, kernel, dilation, stride):
    """How many patches fit along an (already padded) axis of ``size``."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def _unfold(xp, x, *, kernel_size, dilation, padding, stride):
    (kh, kw), (dh, dw), (sh, sw) = kernel_size, dilation, stride
    x = _pad_axis(xp, x, padding[0], padding[0], -2)
    x = _pad_axis(xp, x, padding[1], padding[1], -1)
    oh, ow = _patches(x.shape[-2], kh, dh, sh), _patches(x.shape[-1], kw, dw, sw)
    shifted = [
        x[..., i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    columns = xp.stack(shifted, axis=-3)  # (..., C, kh * kw, oh, ow)
    channels = x.shape[-3]
    return xp.reshape(columns, (*columns.shape[:-4], channels * kh * kw, oh * ow))


def _placed(xp, block, offset, stride, total, axis):
    """``block`` spread along ``axis`` (-1 or -2) into ``total`` positions: its element k at
    ``offset + stride * k``, zeros elsewhere."""
    count = block.shape[axis]
    if stride > 1 and count > 1:
        # Interleave stride - 1 zeros after each element: stack along a new axis, then merge.
        spread = xp.stack([block] + [xp.zeros_like(block)] * (stride - 1), axis=axis)
        merged = list(block.shape)
        merged[axis] = count * stride
        block = xp.reshape(spread, tuple(merged))
        span = stride * (count - 1) + 1
        block = block[..., :span] if axis == -1 else block[..., :span, :]
    return _pad_axis(xp, block, offset, total - offset - block.shape[axis], axis)


def _fold(xp, columns, *, output_size, kernel_size, dilation, padding, stride):
    (kh, kw), (dh, dw), (sh, sw), (ph, pw) = kernel_size, dilation, stride, padding
    height, width = output_size[0] + 2 * ph, output_size[1] + 2 * pw
    oh, ow = _patches(height, kh, dh, sh), _patches(width, kw, dw, sw)
    channels = columns.shape[-2] // (kh * kw)
    blocks = xp.reshape(columns, (*columns.shape[:-2], channels, kh, kw, oh, ow))
    image = None
    for i in range(kh):
        # The kernel row's patches, summed into full-width rows first: kh placements of rows
        # cost less than kh * kw placements of whole images.
        rows = None
        for j in range(kw):
            placed = _placed(xp, blocks[..., i, j, :, :], j * dw, sw, width, -1)
            rows = placed if rows is None else rows + placed
        placed = _placed(xp, rows, i * dh, sh, height, -2)
        image = placed if image is None else image + placed
    return image[..., ph : height - ph, pw : width - pw]


unfold = Primitive(
    "unfold",
    forward=_unfold,
    vjp=(lambda xp, g, ans, x, **params: _fold(xp, g, output_size=x.shape[-2:], **params),),
    jvp=(lambda xp, t, ans, x, **params: _unfold(xp, t, **params),),
    linear=True,
    vjp_reads_ans=False,
    grad_fn="Im2Col",
)


def _fold_transpose(xp, g, *, output_size, **params):
    return _unfold(xp, g, **params)


fold = Primitive(
    "fold",
    forward=_fold,
    vjp=(lambda xp, g, ans, x, **params: _fold_transpose(xp, g, **params),),
    jvp=(lambda xp, t, ans, x, **params: _fold(xp, t, **params),),
    linear=True,
    vjp_reads_ans=False,
    grad_fn="Col2Im",
)


# --- standardize: (x - mean) / sqrt(var + eps), the core of layer and batch normalization ----
# One primitive rather than six: its Jacobian, with y the output and r = 1 / sqrt(var + eps),
# is r * (I - 1/n - y y^T / n) over the normalized axes, symmetric, so one rule gives both the
# vjp and the jvp, in one pass instead of a backward through mean, subtract, var, add, sqrt and
# divide. ``axis``: the normalized axes, negative; ``eps``: added to the biased variance.
def _inverse_std(xp, x, axis, eps):
    return 1.0 / xp.sqrt(xp.var(x, axis=axis, keepdims=True) + eps)


def _standardize_forward(xp, x, *, axis, eps):
    centered = x - xp.mean(x, axis=axis, keepdims=True)
    variance = xp.mean(centered * centered, axis=axis, keepdims=True)
    return centered * (1.0 / xp.sqrt(variance + eps))


def _standardize_derivative(xp, v, ans, x, *, axis, eps):
    """``J v`` (= ``J^T v``) for a cotangent or tangent ``v``."""
    mean_v = xp.mean(v, axis=axis, keepdims=True)
    mean_vy = xp.mean(v * ans, axis=axis, keepdims=True)
    return _inverse_std(xp, x, axis, eps) * (v - mean_v - ans * mean_vy)


standardize = Primitive(
    "standardize",
    forward=_standardize_forward,
    vjp=(_standardize_derivative,),
    jvp=(_standardize_derivative,),
)
