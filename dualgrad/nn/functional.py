"""Activations, dropout, ``linear``, losses, convolution, pooling, normalization and embedding,
under PyTorch's names and signatures.

``import dualgrad.nn.functional as F`` reads as in PyTorch. Everything here is differentiable in
both modes and numerically stable: softmax, log_softmax, softplus and log_sigmoid are fused
primitives (``dualgrad.ops.nn``), and no function exponentiates a large positive number, so
logits of +-1000 give finite values and gradients.

Example:
    >>> import dualgrad
    >>> import dualgrad.nn.functional as F
    >>> logits = dualgrad.tensor([[1000.0, -1000.0]], requires_grad=True)
    >>> loss = F.cross_entropy(logits, dualgrad.tensor([1]))
    >>> loss
    tensor(2000., grad_fn=<NllLossBackward0>)
"""

from __future__ import annotations

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "cosine_similarity",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "fold",
    "gelu",
    "group_norm",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_sigmoid",
    "log_softmax",
    "logsigmoid",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "relu",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
    "unfold",
]

import math
import warnings
from typing import Any

import numpy as np

from .. import functions as _functions
from .. import ops, special
from .._dispatch import apply, elementwise, named
from .._dtypes import int64
from ..autograd.grad_mode import is_grad_enabled
from ..functions._args import as_tensor, require_floating
from ..functions.nn import torch_dim
from ..tensor import Tensor
from ._args import values_of as _values
from ._functional_attention import scaled_dot_product_attention
from ._functional_conv import conv1d, conv2d, fold, pad, unfold
from ._functional_embedding import embedding
from ._functional_linear import applied as _applied
from ._functional_linear import dropout, linear
from ._functional_norm import batch_norm, group_norm, layer_norm
from ._functional_pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ._functional_vector import cosine_similarity, normalize, one_hot


# --- activations ----------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``, with gradient 0 at 0 as in PyTorch (NaN stays NaN).

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.relu(dualgrad.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """
    x = as_tensor(input, "relu")
    return _applied(x, inplace, _functions.relu)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``negative_slope * input`` (slope at 0, as in PyTorch)."""
    x = as_tensor(input, "leaky_relu")
    return _applied(
        x, inplace, lambda v: _functions.where(v > 0, v, v * negative_slope), "LeakyReluBackward0"
    )


def _expm1_nonpositive(x: Tensor) -> Tensor:
    """``exp(x) - 1`` for ``x <= 0``, accurate near 0: 2 tanh(x/2) / (1 - tanh(x/2))."""
    half = _functions.tanh(x * 0.5)
    return 2.0 * half / (1.0 - half)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``alpha * (exp(input) - 1)``."""
    x = require_floating(input, "elu")

    def compute(v: Tensor) -> Tensor:
        nonpositive = v <= 0
        # exp only ever sees values <= 0, so the unused side cannot overflow into a NaN gradient.
        negative_side = alpha * _expm1_nonpositive(_functions.where(nonpositive, v, 0.0))
        return _functions.where(nonpositive, negative_side, v)

    return _applied(x, inplace, compute, "EluBackward0")


_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit: ``input * Phi(input)``, exact or with PyTorch's tanh formula.

    Args:
        input: a floating point tensor.
        approximate: ``"none"`` (through ``erf``) or ``"tanh"``.

    Raises:
        ValueError: ``approximate`` is neither.
    """
    x = require_floating(input, "gelu")
    if approximate == "none":
        return named(x * 0.5 * (1.0 + _functions.erf(x * _SQRT_HALF)), "GeluBackward0")
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
        return named(0.5 * x * (1.0 + _functions.tanh(inner)), "GeluBackward0")
    msg = f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}"
    raise ValueError(msg)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-input))``, without overflow."""
    return _functions.sigmoid(require_floating(input, "sigmoid"))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * sigmoid(input)``."""
    x = require_floating(input, "silu")
    return _applied(x, inplace, lambda v: v * sigmoid(v), "SiluBackward0")


def tanh(input: Tensor) -> Tensor:
    """The hyperbolic tangent."""
    return _functions.tanh(as_tensor(input, "tanh"))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * input)) / beta``, and ``input`` itself where ``beta * input >
    threshold``, as in PyTorch; computed without overflow for any input."""
    x = require_floating(input, "softplus")
    return _functions.softplus(x, beta=beta, threshold=threshold)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(input))``, finite for any input (``-softplus(-input)``)."""
    return _functions.log_sigmoid(require_floating(input, "logsigmoid"))


log_sigmoid = logsigmoid  # the name used by dualgrad.ops and PyTorch's aten


def _with_dtype(x: Tensor, dtype: Any) -> Tensor:
    return x if dtype is None else _functions.astype(x, dtype)


def softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Tensor:
    """``exp(input)`` normalized to sum to 1 along ``dim``, without overflow.

    Args:
        input: a floating point tensor.
        dim: the axis to normalize along.
        dtype: if given, ``input`` is converted to it first.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.softmax(dualgrad.tensor([1000.0, 1000.0]), dim=0)
        tensor([0.5000, 0.5000])
    """
    x = require_floating(_with_dtype(as_tensor(input, "softmax"), dtype), "softmax")
    return _functions.softmax(x, axis=torch_dim(x, dim, "softmax"))


def log_softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Tensor:
    """``input - logsumexp(input)`` along ``dim``: log-probabilities, finite for any logits."""
    x = require_floating(_with_dtype(as_tensor(input, "log_softmax"), dtype), "log_softmax")
    return _functions.log_softmax(x, axis=torch_dim(x, dim, "log_softmax"))


# --- losses: reductions ---------------------------------------------------------------------
_REDUCTIONS = ("none", "mean", "sum")


def _reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """The reduction, with PyTorch's deprecated ``size_average`` and ``reduce`` taking over."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in _REDUCTIONS:
        msg = f"{reduction!r} is not a valid value for reduction; choose one of {_REDUCTIONS}"
        raise ValueError(msg)
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return _functions.mean(loss)
    if reduction == "sum":
        return _functions.sum(loss)
    return loss


def _pointwise_loss(
    name: str, input: Any, target: Any, weight: Any, reduction: str, elementwise_loss: Any
) -> tuple[Tensor, Tensor | None]:
    x, y = require_floating(input, name), as_tensor(target, name)
    if x.shape != y.shape:
        warnings.warn(
            f"{name}: using a target size ({tuple(y.shape)}) that is different to the input size "
            f"({tuple(x.shape)}); they are broadcast, which is likely not what you want",
            UserWarning,
            stacklevel=3,
        )
    if weight is not None and as_tensor(weight, name).shape != x.shape:
        msg = (
            f"{name}: weight of shape {tuple(weight.shape)} "
            f"must have the input's shape {tuple(x.shape)}"
        )
        raise ValueError(msg)
    return elementwise_loss(x - y), weight


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Squared error; with ``weight``, ``'mean'`` divides by the sum of the weights."""
    reduction = _reduction(size_average, reduce, reduction)
    loss, weight = _pointwise_loss("mse_loss", input, target, weight, reduction, _square)
    return named(_weighted(loss, weight, reduction), "MseLossBackward0")


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Absolute error (gradient 0 where input equals target); with ``weight``, ``'mean'``
    divides by the sum of the weights."""
    reduction = _reduction(size_average, reduce, reduction)
    loss, weight = _pointwise_loss("l1_loss", input, target, weight, reduction, _functions.abs)
    return _weighted(loss, weight, reduction)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """``0.5 * d**2`` where ``|d| <= delta``, else ``delta * (|d| - 0.5 * delta)``, for
    ``d = input - target``; with ``weight``, ``'mean'`` is the plain mean of the weighted loss,
    as in PyTorch."""
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        msg = f"huber_loss: delta must be positive, got {delta}"
        raise ValueError(msg)

    def huber(d: Tensor) -> Tensor:
        size = _functions.abs(d)
        return _functions.where(size <= delta, 0.5 * d * d, delta * (size - 0.5 * delta))

    loss, weight = _pointwise_loss("huber_loss", input, target, weight, reduction, huber)
    return named(
        _reduce(loss if weight is None else loss * weight, reduction), "HuberLossBackward0"
    )


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta``, for
    ``d = input - target`` (``huber_loss / beta``; ``l1_loss`` when ``beta`` is 0).

    Raises:
        ValueError: a negative ``beta``.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.smooth_l1_loss(dualgrad.tensor([0.5, 3.0]), dualgrad.zeros(2), reduction="none")
        tensor([0.1250, 2.5000])
    """
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        msg = f"smooth_l1_loss: beta must be >= 0, got {beta}"
        raise ValueError(msg)

    def smooth_l1(d: Tensor) -> Tensor:
        size = _functions.abs(d)
        if beta == 0:
            return size
        return _functions.where(size < beta, (0.5 / beta) * d * d, size - 0.5 * beta)

    loss, _ = _pointwise_loss("smooth_l1_loss", input, target, None, reduction, smooth_l1)
    return named(_reduce(loss, reduction), "SmoothL1LossBackward0")


_KL_REDUCTIONS = ("none", "batchmean", "sum", "mean")


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """The Kullback-Leibler divergence of ``target`` from the distribution whose log-probabilities
    are ``input``: pointwise ``target * (log(target) - input)`` (0 where ``target`` is 0), or
    ``exp(target) * (target - input)`` with ``log_target``.

    Args:
        input: log-probabilities.
        target: probabilities (log-probabilities with ``log_target``), of the input's shape.
        reduction: ``'batchmean'`` (the sum over the batch size: the mathematical KL divergence
            per sample), ``'sum'``, ``'mean'`` (over every element, with PyTorch's warning that
            this is not the divergence) or ``'none'``.

    Raises:
        ValueError: an unknown reduction.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> log_q = dualgrad.log(dualgrad.tensor([[0.5, 0.5]]))
        >>> F.kl_div(log_q, dualgrad.tensor([[1.0, 0.0]]), reduction="batchmean")
        tensor(0.6931)
    """
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, "mean")
    elif reduction not in _KL_REDUCTIONS:
        msg = f"{reduction!r} is not a valid value for reduction; choose one of {_KL_REDUCTIONS}"
        raise ValueError(msg)
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size. 'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.",
            UserWarning,
            stacklevel=2,
        )
    x, y = require_floating(input, "kl_div"), require_floating(target, "kl_div")
    loss = _functions.exp(y) * (y - x) if log_target else special.xlogy(y, y) - y * x
    if reduction == "batchmean":
        total = _functions.sum(loss)
        return total / x.shape[0] if x.ndim else total
    return _reduce(loss, reduction)


def _square(d: Tensor) -> Tensor:
    return d * d


def _weighted(loss: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    if weight is None:
        return _reduce(loss, reduction)
    loss = loss * weight
    if reduction == "mean":
        return _functions.sum(loss) / _functions.sum(weight)
    return _reduce(loss, reduction)


# --- losses: classes ------------------------------------------------------------------------
def _class_axis(x: Tensor, name: str) -> int:
    if x.ndim == 0:
        msg = f"{name}: input must have a class axis, got a 0-d tensor"
        raise ValueError(msg)
    return 0 if x.ndim == 1 else 1


def _class_weight(weight: Any, x: Tensor, axis: int, name: str) -> Tensor | None:
    """``weight`` (one per class) shaped to broadcast along the class axis of ``x``."""
    if weight is None:
        return None
    weight = as_tensor(weight, name)
    classes = x.shape[axis]
    if weight.shape != (classes,):
        msg = (
            f"{name}: weight must have shape ({classes},), "
            f"one per class, got {tuple(weight.shape)}"
        )
        raise ValueError(msg)
    return _functions.reshape(weight, (classes,) + (1,) * (x.ndim - axis - 1))


def _class_target(x: Tensor, target: Any, ignore_index: int, name: str) -> Tensor:
    """The checked class-index target of ``x`` (its class axis at 1, or 0 if 1-D); an unsigned
    one as the default integer, to compare with class labels."""
    axis = _class_axis(x, name)
    target = as_tensor(target, name)
    if target.dtype.kind not in "iu":
        msg = f"{name}: class-index targets must be integers, got {target.dtype}"
        raise TypeError(msg)
    expected = x.shape[:axis] + x.shape[axis + 1 :]
    if target.shape != expected:
        msg = (
            f"{name}: expected a target of shape {expected} for input {tuple(x.shape)}, "
            f"got {tuple(target.shape)}"
        )
        raise ValueError(msg)
    classes = x.shape[axis]
    values = _values(target)
    if values is not None:
        bad = values[(values != ignore_index) & ((values < 0) | (values >= classes))]
        if bad.size:
            msg = f"Target {int(bad.flat[0])} is out of bounds for {classes} classes."
            raise IndexError(msg)
    if target.dtype.kind == "u":
        return _functions.astype(target, x._backend.native_dtype(int64))
    return target


def _constant_class_weight(weight: Any, x: Tensor, name: str) -> Tensor:
    """``weight`` (one per class, ones when None), checked; a constant, as in PyTorch, which
    refuses a weight that requires grad."""
    classes = x.shape[_class_axis(x, name)]
    if weight is None:
        backend = x._backend
        return Tensor._wrap(backend.namespace.ones(classes, dtype=x._array.dtype), backend)
    weight = as_tensor(weight, name)
    if weight.requires_grad and is_grad_enabled():
        msg = f"{name}: not differentiable with respect to weight; pass weight.detach()"
        raise RuntimeError(msg)
    if weight.shape != (classes,):
        msg = (
            f"{name}: weight must have shape ({classes},), "
            f"one per class, got {tuple(weight.shape)}"
        )
        raise ValueError(msg)
    weight = weight.detach()
    return weight if weight.dtype == x.dtype else _functions.astype(weight, x.dtype)


def _nll(
    x: Tensor, target: Tensor, weight: Tensor, weighted: bool, ignore_index: int, reduction: str
) -> Tensor:
    """``nll_loss`` of log-probabilities ``x`` with a target and a class weight already checked
    (``_class_target``, ``_constant_class_weight``; ``weighted``: one was given): one
    primitive."""
    params = {
        "axis": _class_axis(x, "nll_loss") - x.ndim,
        "ignore_index": ignore_index,
        "reduction": reduction,
        "weighted": weighted,
    }
    return apply(ops.nll_loss, (x, target, weight), params)


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices: ``-weight[t] * input[n, t]`` per target ``t``.

    Args:
        input: log-probabilities, ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: class indices, ``()``, ``(N,)`` or ``(N, d1, ...)``.
        weight: one weight per class, a constant (no gradient reaches it, as in PyTorch).
        ignore_index: targets equal to it contribute nothing, to the sum or to the count.
        reduction: ``'mean'`` divides by the summed weights of the counted targets (NaN when
            none counts), ``'sum'`` adds, ``'none'`` keeps one loss per target.

    Raises:
        TypeError: the target is not integer.
        ValueError: shapes do not fit.
        IndexError: a target is outside ``[0, C)`` and not ``ignore_index``.
        RuntimeError: ``weight`` requires grad (while grad mode is on).
    """
    reduction = _reduction(size_average, reduce, reduction)
    x = require_floating(input, "nll_loss")
    target = _class_target(x, target, ignore_index, "nll_loss")
    class_weight = _constant_class_weight(weight, x, "nll_loss")
    return _nll(x, target, class_weight, weight is not None, ignore_index, reduction)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy between logits and class indices or class probabilities, as in PyTorch.

    Computed as ``nll_loss(log_softmax(input, class axis), ...)``, finite for any logits.

    Args:
        input: unnormalized logits, ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: class indices (integer, ``input``'s shape without the class axis) or class
            probabilities (floating, ``input``'s shape).
        weight: one weight per class; with class indices a constant (no gradient reaches it,
            as in PyTorch).
        ignore_index: for class indices, targets equal to it count for nothing.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``. With class indices, ``'mean'`` divides
            by the summed weights of the counted targets; with probabilities, by the number of
            targets (``numel / C``), weights or not.
        label_smoothing: in [0, 1]: the target is mixed with the uniform distribution.

    Raises:
        TypeError: a target of another dtype.
        ValueError: shapes that do not fit, ``label_smoothing`` outside [0, 1], or an
            ``ignore_index`` >= 0 with probabilities.
        IndexError: a class index outside ``[0, C)`` and not ``ignore_index``.
        RuntimeError: with class indices, ``weight`` requires grad (while grad mode is on).
    """
    reduction = _reduction(size_average, reduce, reduction)
    x = require_floating(input, "cross_entropy")
    target = as_tensor(target, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        msg = f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        raise ValueError(msg)
    axis = _class_axis(x, "cross_entropy")
    classes = x.shape[axis]
    log_probs = _functions.log_softmax(x, axis=axis)
    if target.dtype.is_floating_point:
        class_weight = _class_weight(weight, x, axis, "cross_entropy")
        return _cross_entropy_probabilities(
            log_probs, target, class_weight, axis, ignore_index, reduction, label_smoothing
        )
    target = _class_target(x, target, ignore_index, "cross_entropy")
    class_weight = _constant_class_weight(weight, x, "cross_entropy")
    nll = _nll(log_probs, target, class_weight, weight is not None, ignore_index, reduction)
    if label_smoothing == 0.0:
        return nll
    # PyTorch: (1 - eps) * nll + eps / C * (the loss against the uniform distribution)
    counted = target != ignore_index
    weights = _functions.where(counted, class_weight[_functions.where(counted, target, 0)], 0.0)
    weighted = (
        log_probs
        if weight is None
        else log_probs * _class_weight(class_weight, x, axis, "cross_entropy")
    )
    smooth = _functions.where(counted, -_functions.sum(weighted, axis=axis), 0.0)
    if reduction == "mean":
        smooth = _functions.sum(smooth) / _functions.sum(weights)
    else:
        smooth = _reduce(smooth, reduction)
    return (1.0 - label_smoothing) * nll + smooth * (label_smoothing / classes)


def _cross_entropy_probabilities(
    log_probs: Tensor,
    target: Tensor,
    class_weight: Tensor | None,
    axis: int,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
) -> Tensor:
    if target.shape != log_probs.shape:
        msg = (
            f"cross_entropy: class-probability targets must have the input's shape "
            f"{tuple(log_probs.shape)}, got {tuple(target.shape)}"
        )
        raise ValueError(msg)
    if ignore_index >= 0:
        msg = "cross_entropy: ignore_index is not supported for class-probability targets"
        raise ValueError(msg)
    classes = log_probs.shape[axis]
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    # where(), not a plain product: a zero target with a -inf log-probability contributes 0.
    terms = _functions.where(target == 0, 0.0, log_probs * target)
    if class_weight is not None:
        terms = terms * class_weight
    if reduction == "none":
        return -_functions.sum(terms, axis=axis)
    total = -_functions.sum(terms)
    if reduction == "sum":
        return total
    count = log_probs.numel() // classes if classes else 0
    return total / count if count else total * math.nan


# --- losses: binary -------------------------------------------------------------------------
def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``-weight * (target * log(input) + (1 - target) * log(1 - input))``, logs clamped at
    -100 as in PyTorch, with PyTorch's derivative at the ends (see ``ops.nn``): 0 where the
    input is exactly the target, a large push where it is exactly the wrong end.

    Raises:
        ValueError: shapes differ, or an input lies outside [0, 1].
    """
    reduction = _reduction(size_average, reduce, reduction)
    x, y = (
        require_floating(input, "binary_cross_entropy"),
        as_tensor(target, "binary_cross_entropy"),
    )
    if x.shape != y.shape:
        msg = (
            f"binary_cross_entropy: target size {tuple(y.shape)} "
            f"differs from input size {tuple(x.shape)}; "
            "make them the same"
        )
        raise ValueError(msg)
    values = _values(x)
    if values is not None and np.any((values < 0) | (values > 1)):
        msg = "binary_cross_entropy: all elements of input should be between 0 and 1"
        raise ValueError(msg)
    loss = elementwise(ops.binary_cross_entropy, x, y)
    if weight is not None:
        loss = loss * as_tensor(weight, "binary_cross_entropy")
    return named(_reduce(loss, reduction), "BinaryCrossEntropyBackward0")


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross entropy of ``sigmoid(input)``, computed from the logits without overflow:
    ``(1 - target) * input - (1 + (pos_weight - 1) * target) * logsigmoid(input)``.

    Args:
        pos_weight: weight of the positive term, broadcast along the last (class) axis.

    Raises:
        ValueError: shapes differ.
    """
    reduction = _reduction(size_average, reduce, reduction)
    x = require_floating(input, "binary_cross_entropy_with_logits")
    y = as_tensor(target, "binary_cross_entropy_with_logits")
    if x.shape != y.shape:
        msg = (
            f"binary_cross_entropy_with_logits: target size {tuple(y.shape)} differs from input "
            f"size {tuple(x.shape)}; make them the same"
        )
        raise ValueError(msg)
    log_sig = logsigmoid(x)
    if pos_weight is None:
        loss = (1.0 - y) * x - log_sig
    else:
        log_weight = (as_tensor(pos_weight, "binary_cross_entropy_with_logits") - 1.0) * y + 1.0
        loss = (1.0 - y) * x - log_weight * log_sig
    if weight is not None:
        loss = loss * as_tensor(weight, "binary_cross_entropy_with_logits")
    return named(_reduce(loss, reduction), "BinaryCrossEntropyWithLogitsBackward0")
