"""Normalization, as ``torch.nn.functional``: ``layer_norm``, ``batch_norm`` and ``group_norm``.

Both standardize over some axes with one primitive (``dualgrad.ops.standardize``: ``(x - mean)
/ sqrt(var + eps)`` with the biased variance, and its one-pass derivative), then scale and
shift per feature or channel. Batch norm in training also updates the running statistics in
place, with the unbiased variance, as PyTorch does; in evaluation it normalizes with them.
"""

from __future__ import annotations

__all__ = ["batch_norm", "group_norm", "layer_norm"]

import math
from typing import Any

from .. import functions as fn
from .._dispatch import named
from ..autograd.grad_mode import no_grad
from ..functions._args import as_tensor, require_floating
from ..tensor import Tensor
from ._args import InputValueError


def _affine(
    y: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple[int, ...]
) -> Tensor:
    """``y * weight + bias``, each reshaped to ``shape`` first (either may be None)."""
    if weight is not None:
        y = y * fn.reshape(weight, shape)
    if bias is not None:
        y = y + fn.reshape(bias, shape)
    return y


def _check_parameter(value: Any, shape: tuple[int, ...], what: str, name: str) -> Tensor | None:
    if value is None:
        return None
    value = as_tensor(value, name)
    if value.shape != shape:
        msg = f"{name}: {what} must have shape {shape}, got {tuple(value.shape)}"
        raise ValueError(msg)
    return value


def layer_norm(
    input: Tensor,
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Standardize over the trailing ``normalized_shape`` axes, then ``* weight + bias``, as
    ``torch.nn.functional.layer_norm``.

    Args:
        input: ``(..., *normalized_shape)``, floating point.
        normalized_shape: an int or a tuple: the trailing axes to normalize over.
        weight, bias: of ``normalized_shape``, elementwise (None: 1 and 0).
        eps: added to the (biased) variance.

    Raises:
        ValueError: ``input`` does not end in ``normalized_shape``, or weight or bias have
            another shape.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.layer_norm(dualgrad.tensor([[1.0, 3.0]]), (2,))
        tensor([[-1.0000,  1.0000]])
    """
    x = require_floating(input, "layer_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or x.shape[x.ndim - len(shape) :] != shape or len(shape) > x.ndim:
        msg = (
            f"layer_norm: normalized_shape {shape} must be the trailing axes of the input, got "
            f"an input of shape {tuple(x.shape)}"
        )
        raise ValueError(msg)
    weight = _check_parameter(weight, shape, "weight", "layer_norm")
    bias = _check_parameter(bias, shape, "bias", "layer_norm")
    axis = tuple(range(-len(shape), 0))
    y = fn.nn.standardize(x, axis=axis, eps=eps)
    return named(_affine(y, weight, bias, shape), "NativeLayerNormBackward0")


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Standardize each sample's channels in ``num_groups`` groups (each group over its
    channels and every further axis), then ``* weight + bias`` per channel, as
    ``torch.nn.functional.group_norm`` (Wu & He, 2018).

    Args:
        input: ``(N, C, ...)``, floating point, ``C`` divisible by ``num_groups``.
        num_groups: how many groups the channels split into.
        weight, bias: ``(C,)`` (None: 1 and 0).
        eps: added to the (biased) variance.

    Raises:
        ValueError: fewer than 2 axes, ``C`` not divisible by ``num_groups`` (both also
            RuntimeErrors, as PyTorch's), or weight or bias of another shape.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.group_norm(dualgrad.tensor([[1.0, 3.0, 0.0, 4.0]]), 2)
        tensor([[-1.0000,  1.0000, -1.0000,  1.0000]])
    """
    x = require_floating(input, "group_norm")
    if x.ndim < 2:
        msg = f"Expected at least 2 dimensions for input tensor but received {x.ndim}"
        raise InputValueError(msg)
    batch, channels = x.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        msg = (
            "Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(x.shape)} and num_groups={num_groups}"
        )
        raise InputValueError(msg)
    weight = _check_parameter(weight, (channels,), "weight", "group_norm")
    bias = _check_parameter(bias, (channels,), "bias", "group_norm")
    group_size = channels // num_groups * math.prod(x.shape[2:])
    grouped = fn.reshape(x, (batch, num_groups, group_size))
    y = fn.reshape(fn.nn.standardize(grouped, axis=(-1,), eps=eps), x.shape)
    shape = (channels,) + (1,) * (x.ndim - 2)
    return named(_affine(y, weight, bias, shape), "NativeGroupNormBackward0")


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel (axis 1) over the batch and any further axes, as
    ``torch.nn.functional.batch_norm``.

    In training the batch's statistics normalize, and running statistics that are given move
    towards them in place: ``running = (1 - momentum) * running + momentum * batch``, with the
    unbiased variance. Otherwise the running statistics normalize.

    Args:
        input: ``(N, C)``, ``(N, C, L)`` or ``(N, C, H, W)`` (any ``(N, C, ...)``).
        running_mean, running_var: ``(C,)`` buffers, or None (then ``training`` must be True).
        weight, bias: ``(C,)`` (None: 1 and 0).
        training: use (and update with) the batch's statistics.
        momentum: the weight of the batch in the running statistics.
        eps: added to the variance.

    Raises:
        ValueError: shapes that do not fit, a single value per channel in training, or no
            running statistics outside training.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> mean, var = dualgrad.zeros(1), dualgrad.ones(1)
        >>> F.batch_norm(dualgrad.tensor([[1.0], [3.0]]), mean, var, training=True)
        tensor([[-1.0000],
                [ 1.0000]])
        >>> mean, var
        (tensor([0.2000]), tensor([1.1000]))
    """
    x = require_floating(input, "batch_norm")
    if x.ndim < 2:
        msg = f"batch_norm: expected an input (N, C, ...) of at least 2 axes, got {tuple(x.shape)}"
        raise ValueError(msg)
    channels = x.shape[1]
    shape = (channels,) + (1,) * (x.ndim - 2)
    running_mean = _check_parameter(running_mean, (channels,), "running_mean", "batch_norm")
    running_var = _check_parameter(running_var, (channels,), "running_var", "batch_norm")
    weight = _check_parameter(weight, (channels,), "weight", "batch_norm")
    bias = _check_parameter(bias, (channels,), "bias", "batch_norm")
    if not training:
        if running_mean is None or running_var is None:
            msg = (
                "batch_norm: running_mean and running_var are needed outside training; pass "
                "them, or training=True to use the batch's statistics"
            )
            raise ValueError(msg)
        inverse_std = 1.0 / fn.sqrt(fn.reshape(running_var, shape) + eps)
        y = (x - fn.reshape(running_mean, shape)) * inverse_std
        return named(_affine(y, weight, bias, shape), "NativeBatchNormBackward0")
    count = math.prod(x.shape) // channels if channels else 0
    if count <= 1:
        msg = (
            f"batch_norm: expected more than 1 value per channel when training, got an input "
            f"of shape {tuple(x.shape)}; use a larger batch or call model.eval()"
        )
        raise ValueError(msg)
    axis = (-x.ndim, *range(-x.ndim + 2, 0))
    if running_mean is not None or running_var is not None:
        _update_running_stats(x, axis, running_mean, running_var, momentum)
    y = fn.nn.standardize(x, axis=axis, eps=eps)
    return named(_affine(y, weight, bias, shape), "NativeBatchNormBackward0")


def _update_running_stats(
    x: Tensor,
    axis: tuple[int, ...],
    running_mean: Tensor | None,
    running_var: Tensor | None,
    momentum: float,
) -> None:
    with no_grad():
        values = x.detach()
        if running_mean is not None:
            batch_mean = fn.mean(values, axis=axis)
            running_mean.copy_(running_mean * (1.0 - momentum) + batch_mean * momentum)
        if running_var is not None:
            batch_var = fn.var(values, axis=axis, correction=1)
            running_var.copy_(running_var * (1.0 - momentum) + batch_var * momentum)
