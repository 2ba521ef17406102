"""Convolution and padding, as ``torch.nn.functional``: ``conv1d``, ``conv2d``, ``unfold``,
``fold`` and ``pad``.

A convolution is im2col and one matmul: ``unfold`` (a primitive, ``dualgrad.ops.unfold``) lays
every kernel-sized patch of the input out as a column, and the weight, reshaped to
``(out_channels, in_channels * kh * kw)``, multiplies all columns at once on the backend's
matmul; groups split both along the channels. Its derivatives are those of unfold (``fold``) and
matmul, in both modes. ``conv1d`` is ``conv2d`` on images one row high.
"""

from __future__ import annotations

__all__ = ["conv1d", "conv2d", "fold", "pad", "unfold"]

from collections.abc import Sequence
from typing import Any

from .. import functions as fn
from .._dispatch import named
from ..functions._args import as_tensor, require_floating
from ..tensor import Tensor
from ._args import ntuple, pair


def filled_like(x: Tensor, shape: tuple[int, ...], value: float) -> Tensor:
    """A constant of ``shape`` filled with ``value``, in ``x``'s dtype, backend and device (made
    from the sum of an empty slice of ``x``, which costs nothing)."""
    seed = fn.full_like(fn.sum(x.detach()[..., :0]), value, dtype=x.dtype)
    return fn.broadcast_to(seed, shape)


# --- unfold, fold ---------------------------------------------------------------------------
def _patch_count(size: int, kernel: int, dilation: int, padding: int, stride: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _patch_params(
    name: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any
) -> dict[str, tuple[int, int]]:
    return {
        "kernel_size": pair(kernel_size, "kernel_size", name, minimum=1),
        "dilation": pair(dilation, "dilation", name, minimum=1),
        "padding": pair(padding, "padding", name),
        "stride": pair(stride, "stride", name, minimum=1),
    }


def _patch_grid(name: str, size: tuple[int, int], params: dict[str, Any]) -> tuple[int, int]:
    """The number of patches along rows and columns; raises if there is none."""
    counts = tuple(
        _patch_count(n, k, d, p, s)
        for n, k, d, p, s in zip(
            size,
            params["kernel_size"],
            params["dilation"],
            params["padding"],
            params["stride"],
            strict=True,
        )
    )
    if min(counts) < 1:
        msg = (
            f"{name}: an input of spatial size {size} with kernel_size={params['kernel_size']}, "
            f"dilation={params['dilation']}, padding={params['padding']} holds no patch "
            f"(calculated {counts}); use a larger input or a smaller kernel"
        )
        raise ValueError(msg)
    return counts  # type: ignore[return-value]


def unfold(
    input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
) -> Tensor:
    """Every kernel-sized patch of ``input`` as a column (im2col), as PyTorch's ``unfold``.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        kernel_size, dilation, padding, stride: ints or (rows, columns) pairs; the padding is
            zeros on both sides.

    Returns:
        ``(N, C * kh * kw, L)`` (or without N): column ``l`` holds patch ``l`` (row-major over
        the ``L = oh * ow`` positions), ordered by channel, then kernel row, then column.

    Raises:
        ValueError: ``input`` is not 3-d or 4-d, or holds no patch.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.unfold(dualgrad.ones(1, 2, 4, 4), kernel_size=3).shape
        torch.Size([1, 18, 4])
    """
    x = as_tensor(input, "unfold")
    if x.ndim not in (3, 4):
        msg = (
            f"unfold: expected a 3-d or 4-d input (C, H, W) or (N, C, H, W), got {tuple(x.shape)}"
        )
        raise ValueError(msg)
    params = _patch_params("unfold", kernel_size, dilation, padding, stride)
    _patch_grid("unfold", x.shape[-2:], params)
    return fn.nn.unfold(x, **params)


def fold(
    input: Tensor,
    output_size: Any,
    kernel_size: Any,
    dilation: Any = 1,
    padding: Any = 0,
    stride: Any = 1,
) -> Tensor:
    """Columns added back into an image (col2im), overlapping patches summing: ``unfold``'s
    transpose, as ``torch.nn.functional.fold``.

    Args:
        input: ``(N, C * kh * kw, L)`` or ``(C * kh * kw, L)``.
        output_size: the image's (H, W).
        kernel_size, dilation, padding, stride: as ``unfold`` gave the columns.

    Raises:
        ValueError: shapes that do not fit the options.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.fold(F.unfold(dualgrad.ones(1, 1, 3, 3), 2), (3, 3), 2)
        tensor([[[[1., 2., 1.],
                  [2., 4., 2.],
                  [1., 2., 1.]]]])
    """
    x = as_tensor(input, "fold")
    params = _patch_params("fold", kernel_size, dilation, padding, stride)
    size = pair(output_size, "output_size", "fold", minimum=1)
    kh, kw = params["kernel_size"]
    if x.ndim not in (2, 3) or x.shape[-2] % (kh * kw):
        msg = (
            f"fold: expected an input (N, C * {kh} * {kw}, L) or (C * {kh} * {kw}, L), "
            f"got {tuple(x.shape)}"
        )
        raise ValueError(msg)
    oh, ow = _patch_grid("fold", size, params)
    if x.shape[-1] != oh * ow:
        msg = (
            f"fold: an output of size {size} with these options has {oh} * {ow} = {oh * ow} "
            f"patches, but the input has {x.shape[-1]} columns"
        )
        raise ValueError(msg)
    return fn.nn.fold(x, output_size=size, **params)


# --- pad --------------------------------------------------------------------------------------
_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _along(axis: int, ndim: int, part: slice) -> tuple[slice, ...]:
    return (slice(None),) * axis + (part,) + (slice(None),) * (ndim - axis - 1)


def _pad_axis(x: Tensor, axis: int, before: int, after: int, mode: str, value: float) -> Tensor:
    size = x.shape[axis]
    if mode == "constant" and (before < 0 or after < 0):
        x = x[_along(axis, x.ndim, slice(max(-before, 0), size - max(-after, 0)))]
        before, after = max(before, 0), max(after, 0)
    parts = []
    for count, at_start in ((before, True), (after, False)):
        if count == 0:
            parts.append(None)
            continue
        if mode == "constant":
            shape = list(x.shape)
            shape[axis] = count
            block = filled_like(x, tuple(shape), value)
        elif mode == "reflect":  # mirrored about the edge element, which is not repeated
            edge = slice(1, count + 1) if at_start else slice(size - count - 1, size - 1)
            block = fn.flip(x[_along(axis, x.ndim, edge)], axis=axis)
        elif mode == "replicate":
            edge = slice(0, 1) if at_start else slice(size - 1, size)
            shape = list(x.shape)
            shape[axis] = count
            block = fn.broadcast_to(x[_along(axis, x.ndim, edge)], tuple(shape))
        else:  # circular: the other end wraps around
            edge = slice(size - count, size) if at_start else slice(0, count)
            block = x[_along(axis, x.ndim, edge)]
        parts.append(block)
    start, end = parts
    pieces = [p for p in (start, x, end) if p is not None]
    return fn.concat(pieces, axis=axis) if len(pieces) > 1 else x


def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """``input`` padded as ``torch.nn.functional.pad``: ``pad`` lists (before, after) counts
    for the last axis, then the one before it, and so on.

    Args:
        input: the tensor.
        pad: an even number of ints; with ``"constant"``, negative counts crop.
        mode: ``"constant"`` (``value``, default 0), ``"reflect"`` (mirrored about the edge),
            ``"replicate"`` (the edge repeated) or ``"circular"`` (wrapped around). The last
            three pad at most the 3 last axes, behind a batch and a channel axis (or only a
            channel axis), and need counts no larger than the axis (smaller, for reflect).

    Raises:
        ValueError: an odd number of counts, more axes than ``input`` has, an unknown mode, or
            counts the mode cannot take.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.pad(dualgrad.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
        tensor([[3., 2., 1., 2., 3., 2.]])
    """
    x = as_tensor(input, "pad")
    counts = ntuple(pad, len(pad), "pad", "pad", minimum=-(2**62)) if len(pad) else ()
    if len(counts) % 2:
        msg = (
            f"pad: the padding needs an even number of counts (before, after per axis), got {pad}"
        )
        raise ValueError(msg)
    axes = len(counts) // 2
    if axes > x.ndim:
        msg = f"pad: {axes} axes to pad but the input {tuple(x.shape)} has {x.ndim}"
        raise ValueError(msg)
    if mode not in _PAD_MODES:
        msg = f"pad: unknown mode {mode!r}; choose one of {', '.join(_PAD_MODES)}"
        raise ValueError(msg)
    if mode != "constant":
        if value not in (None, 0):
            msg = f"pad: padding mode {mode!r} does not take a value; value is for 'constant'"
            raise ValueError(msg)
        if not 1 <= axes <= 3 or not axes + 1 <= x.ndim <= axes + 2:
            msg = (
                f"pad: mode {mode!r} pads 1 to 3 trailing axes of a tensor with a channel axis "
                f"(and a batch axis) in front; got {axes} axes to pad for shape {tuple(x.shape)}"
            )
            raise ValueError(msg)
    for k in range(axes):
        axis, before, after = x.ndim - 1 - k, counts[2 * k], counts[2 * k + 1]
        size = x.shape[axis]
        if mode != "constant":
            limit = size - 1 if mode == "reflect" else size
            if min(before, after) < 0 or max(before, after) > limit or size == 0:
                msg = (
                    f"pad: mode {mode!r} needs counts between 0 and {limit} for axis {axis} of "
                    f"size {size}, got ({before}, {after})"
                )
                raise ValueError(msg)
        elif size + min(before, 0) + min(after, 0) < 0:
            msg = f"pad: cropping ({before}, {after}) removes more than axis {axis}'s {size}"
            raise ValueError(msg)
    for k in range(axes):
        axis = x.ndim - 1 - k
        x = _pad_axis(x, axis, counts[2 * k], counts[2 * k + 1], mode, value or 0.0)
    return x


# --- convolution ------------------------------------------------------------------------------
def _same_padding(
    name: str, kernel: tuple[int, ...], dilation: tuple[int, ...], stride: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """padding='same': the symmetric padding, and what the end of each axis needs on top (the
    odd one out of an even kernel goes at the end, as in PyTorch)."""
    if any(s != 1 for s in stride):
        msg = f"{name}: padding='same' is not supported for strided convolutions; use stride=1"
        raise ValueError(msg)
    totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    return tuple(t // 2 for t in totals), tuple(t - 2 * (t // 2) for t in totals)


def _padding(
    name: str, padding: Any, kernel: tuple[int, ...], dilation: Any, stride: Any
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The symmetric padding per spatial axis and any extra at the ends."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * n, (0,) * n
        if padding == "same":
            return _same_padding(name, kernel, dilation, stride)
        msg = f"{name}: padding must be 'valid', 'same', an int or a tuple, got {padding!r}"
        raise ValueError(msg)
    return ntuple(padding, n, "padding", name), (0,) * n


def _check_conv(
    name: str, x: Tensor, weight: Tensor, bias: Tensor | None, groups: int, spatial: int
) -> bool:
    """Check the operands of a convolution; returns whether the input has a batch axis."""
    if weight.ndim != spatial + 2:
        msg = (
            f"{name}: the weight must be {spatial + 2}-d (out_channels, in_channels / groups, "
            f"kernel...), got {tuple(weight.shape)}"
        )
        raise ValueError(msg)
    if x.ndim not in (spatial + 1, spatial + 2):
        msg = (
            f"{name}: expected a {spatial + 1}-d (unbatched) or {spatial + 2}-d (batched) input, "
            f"got {tuple(x.shape)}"
        )
        raise ValueError(msg)
    if x.dtype is not weight.dtype or (bias is not None and bias.dtype is not x.dtype):
        kinds = f"input {x.dtype}, weight {weight.dtype}"
        kinds += "" if bias is None else f", bias {bias.dtype}"
        msg = f"{name}: the operands must share one dtype, got {kinds}; convert them first"
        raise TypeError(msg)
    if not isinstance(groups, int) or groups < 1:
        msg = f"{name}: groups must be a positive int, got {groups!r}"
        raise ValueError(msg)
    out_channels, channels = weight.shape[0], x.shape[-spatial - 1]
    if channels != weight.shape[1] * groups or out_channels % groups:
        msg = (
            f"{name}: the weight {tuple(weight.shape)} does "
            f"not fit an input with {channels} channels "
            f"in {groups} group(s): it needs in_channels * groups == {channels} and "
            f"out_channels divisible by {groups}"
        )
        raise ValueError(msg)
    if bias is not None and bias.shape != (out_channels,):
        msg = (
            f"{name}: bias must have shape ({out_channels},), "
            f"one per channel, got {tuple(bias.shape)}"
        )
        raise ValueError(msg)
    return x.ndim == spatial + 2


def _convolve(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    params: dict[str, tuple[int, int]],
    groups: int,
) -> Tensor:
    """The 2-d convolution of a batch ``(N, C, H, W)`` (padding already checked)."""
    oh, ow = _patch_grid("conv2d", x.shape[-2:], params)
    batch, out_channels = x.shape[0], weight.shape[0]
    columns = fn.nn.unfold(x, **params)  # (N, C * kh * kw, L)
    if groups == 1:
        kernels = fn.reshape(weight, (out_channels, -1))
    else:
        # Channels are the columns' outer order, so each group's rows are contiguous.
        columns = fn.reshape(columns, (batch, groups, -1, oh * ow))
        kernels = fn.reshape(weight, (groups, out_channels // groups, -1))
    out = fn.reshape(fn.matmul(kernels, columns), (batch, out_channels, oh, ow))
    if bias is not None:
        out = out + fn.reshape(bias, (out_channels, 1, 1))
    return named(out, "ConvolutionBackward0")


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-d cross-correlation (what deep learning calls convolution), as
    ``torch.nn.functional.conv2d``.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        weight: ``(out_channels, C / groups, kh, kw)``.
        bias: ``(out_channels,)``.
        stride, dilation: ints or (rows, columns) pairs.
        padding: an int, a pair, ``"valid"`` (none) or ``"same"`` (the output keeps the
            input's size; stride 1 only), zeros.
        groups: split the channels into this many independent convolutions.

    Returns:
        ``(N, out_channels, oh, ow)`` (or without N).

    Raises:
        ValueError: shapes or options that do not fit.
        TypeError: operands of different dtypes.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.conv2d(dualgrad.ones(1, 1, 3, 3), dualgrad.ones(1, 1, 2, 2))
        tensor([[[[4., 4.],
                  [4., 4.]]]])
    """
    x, w = require_floating(input, "conv2d"), require_floating(weight, "conv2d")
    b = None if bias is None else as_tensor(bias, "conv2d")
    batched = _check_conv("conv2d", x, w, b, groups, spatial=2)
    kernel = tuple(w.shape[-2:])
    dilation = pair(dilation, "dilation", "conv2d", minimum=1)
    stride = pair(stride, "stride", "conv2d", minimum=1)
    symmetric, extra = _padding("conv2d", padding, kernel, dilation, stride)
    if any(extra):
        x = pad(x, (0, extra[1], 0, extra[0]))
    if not batched:
        x = fn.expand_dims(x, axis=0)
    params = _patch_params("conv2d", kernel, dilation, symmetric, stride)
    out = _convolve(x, w, b, params, groups)
    return out if batched else fn.squeeze(out, axis=0)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-d cross-correlation, as ``torch.nn.functional.conv1d``: ``conv2d`` of images one row
    high.

    Args:
        input: ``(N, C, L)`` or ``(C, L)``.
        weight: ``(out_channels, C / groups, k)``.
        bias: ``(out_channels,)``.
        stride, dilation: ints.
        padding: an int, ``"valid"`` or ``"same"`` (stride 1 only), zeros.
        groups: split the channels into this many independent convolutions.

    Returns:
        ``(N, out_channels, l_out)`` (or without N).

    Raises:
        ValueError: shapes or options that do not fit.
        TypeError: operands of different dtypes.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.conv1d(dualgrad.ones(1, 1, 4), dualgrad.ones(1, 1, 2), padding=1)
        tensor([[[1., 2., 2., 2., 1.]]])
    """
    x, w = require_floating(input, "conv1d"), require_floating(weight, "conv1d")
    b = None if bias is None else as_tensor(bias, "conv1d")
    batched = _check_conv("conv1d", x, w, b, groups, spatial=1)
    (dilation,) = ntuple(dilation, 1, "dilation", "conv1d", minimum=1)
    (stride,) = ntuple(stride, 1, "stride", "conv1d", minimum=1)
    (symmetric,), (extra,) = _padding(
        "conv1d", padding, tuple(w.shape[-1:]), (dilation,), (stride,)
    )
    if extra:
        x = pad(x, (0, extra))
    if not batched:
        x = fn.expand_dims(x, axis=0)
    params = _patch_params("conv1d", (1, w.shape[-1]), (1, dilation), (0, symmetric), (1, stride))
    rows = fn.expand_dims(x, axis=-2)  # (N, C, 1, L)
    out = _convolve(rows, fn.expand_dims(w, axis=-2), b, params, groups)
    out = fn.squeeze(out, axis=-2)
    return out if batched else fn.squeeze(out, axis=0)
