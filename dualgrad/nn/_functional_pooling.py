"""Pooling, as ``torch.nn.functional``: ``max_pool2d``, ``avg_pool2d`` and
``adaptive_avg_pool2d``.

The fixed-window pools gather their windows with ``unfold`` (see ``_functional_conv``) and
reduce each column. Max pooling picks the first largest element of each window by ``argmax``
and selects it through a one-hot mask, so the gradient goes to that one element as in PyTorch
(``max`` would split it between ties, common after a ReLU). Adaptive average pooling averages
windows of varying size, which is a matmul on each side by a constant averaging matrix.
"""

from __future__ import annotations

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "max_pool2d"]

import math
from typing import Any

import numpy as np

from .. import functions as fn
from .._dispatch import named
from .._dtypes import int64
from ..functions._args import require_floating
from ..tensor import Tensor
from ._args import constant_on, pair
from ._functional_conv import pad


def _output_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """PyTorch's pooling output length: with ``ceil_mode`` a last partial window counts, unless
    it would start in the padding past the end."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    count = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (count - 1) * stride >= size + padding:
        count -= 1
    return count


def _windows(
    name: str,
    x: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
) -> tuple[dict[str, tuple[int, int]], tuple[int, int], tuple[int, int]]:
    """The checked window options, the output size, and the padding past the end that a last
    partial window (``ceil_mode``) reads."""
    kernel = pair(kernel_size, "kernel_size", name, minimum=1)
    stride = kernel if stride is None or stride == () else pair(stride, "stride", name, minimum=1)
    padding = pair(padding, "padding", name)
    dilation = pair(dilation, "dilation", name, minimum=1)
    for p, k, d in zip(padding, kernel, dilation, strict=True):
        if p > (d * (k - 1) + 1) // 2:
            msg = (
                f"{name}: padding should be at most half of the effective kernel size, got "
                f"padding={padding}, kernel_size={kernel} and dilation={dilation}"
            )
            raise ValueError(msg)
    if x.ndim not in (3, 4):
        msg = f"{name}: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got {tuple(x.shape)}"
        raise ValueError(msg)
    size = x.shape[-2:]
    out = tuple(
        _output_size(*options, ceil_mode)
        for options in zip(size, kernel, stride, padding, dilation, strict=True)
    )
    if min(out) < 1:
        msg = (
            f"{name}: the input's spatial size {size} is too small for kernel_size={kernel}, "
            f"dilation={dilation}, padding={padding} (output {out})"
        )
        raise ValueError(msg)
    overhang = tuple(
        max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
        for o, s, d, k, n, p in zip(out, stride, dilation, kernel, size, padding, strict=True)
    )
    params = {"kernel_size": kernel, "dilation": dilation, "padding": padding, "stride": stride}
    return params, out, overhang  # type: ignore[return-value]


def _columns(x: Tensor, params: dict[str, tuple[int, int]], out: tuple[int, int]) -> Tensor:
    """``x``'s windows, ``(..., C, kh * kw, oh * ow)``."""
    columns = fn.nn.unfold(x, **params)
    kh, kw = params["kernel_size"]
    return fn.reshape(columns, (*x.shape[:-2], kh * kw, out[0] * out[1]))


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The largest element of each window, as ``torch.nn.functional.max_pool2d``; its gradient
    goes to the first largest element of the window (NaN counts as largest).

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``, floating point.
        kernel_size: the window, an int or (rows, columns).
        stride: the step between windows (default: ``kernel_size``).
        padding: implicit -inf on both sides, at most half the window.
        dilation: the spacing of a window's elements.
        ceil_mode: count a last partial window too.
        return_indices: also return where each maximum is, as a flat index into ``H * W``.

    Returns:
        ``(N, C, oh, ow)`` (or without N), and with ``return_indices`` the int64 indices too.

    Raises:
        ValueError: bad options, or an input too small for one window.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.max_pool2d(dualgrad.arange(16.0).reshape(1, 4, 4), 2)
        tensor([[[ 5.,  7.],
                 [13., 15.]]])
    """
    x = require_floating(input, "max_pool2d")
    params, out, overhang = _windows(
        "max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode
    )
    (ph, pw), (eh, ew) = params["padding"], overhang
    if ph or pw or eh or ew:
        x = pad(x, (pw, pw + ew, ph, ph + eh), value=-math.inf)
    columns = _columns(x, {**params, "padding": (0, 0)}, out)
    kh, kw = params["kernel_size"]
    first_max = fn.argmax(columns, axis=-2)  # (..., oh * ow)
    positions = constant_on(x, np.arange(kh * kw).reshape(-1, 1), int64)
    chosen = positions == fn.expand_dims(first_max, axis=-2)
    pooled = fn.sum(fn.where(chosen, columns, 0.0), axis=-2)
    pooled = named(fn.reshape(pooled, (*x.shape[:-2], *out)), "MaxPool2DWithIndicesBackward0")
    if not return_indices:
        return pooled
    return pooled, _max_indices(input, first_max, params, out)


def _max_indices(
    x: Tensor, first_max: Tensor, params: dict[str, tuple[int, int]], out: tuple[int, int]
) -> Tensor:
    """Each maximum's flat index into the unpadded ``H * W`` (PyTorch's ``return_indices``)."""
    (_, kw), (sh, sw), (ph, pw), (dh, dw) = (
        params[key] for key in ("kernel_size", "stride", "padding", "dilation")
    )
    width = x.shape[-1]
    grid = np.arange(out[0] * out[1])
    top = constant_on(x, (grid // out[1]) * sh - ph, int64)
    left = constant_on(x, (grid % out[1]) * sw - pw, int64)
    rows = top + (first_max // kw) * dh
    columns = left + (first_max % kw) * dw
    return fn.reshape(rows * width + columns, (*x.shape[:-2], *out))


def _divisors(
    size: tuple[int, int],
    params: dict[str, tuple[int, int]],
    out: tuple[int, int],
    count_include_pad: bool,
) -> np.ndarray:
    """How many elements each window averages: PyTorch's rule, where the padding counts (unless
    ``count_include_pad`` is False) but a partial window's overhang never does."""
    counts = []
    for n, k, s, p, o in zip(
        size, params["kernel_size"], params["stride"], params["padding"], out, strict=True
    ):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        counts.append(end - start)
    return np.outer(counts[0], counts[1])


def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each window, as ``torch.nn.functional.avg_pool2d``.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``, floating point.
        kernel_size: the window, an int or (rows, columns).
        stride: the step between windows (default: ``kernel_size``).
        padding: implicit zeros on both sides, at most half the window.
        ceil_mode: count a last partial window too (its overhang never counts).
        count_include_pad: count the padding's zeros in the mean.
        divisor_override: divide every window's sum by this instead.

    Raises:
        ValueError: bad options, or an input too small for one window.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.avg_pool2d(dualgrad.arange(16.0).reshape(1, 4, 4), 2)
        tensor([[[ 2.5000,  4.5000],
                 [10.5000, 12.5000]]])
    """
    x = require_floating(input, "avg_pool2d")
    params, out, (eh, ew) = _windows("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and (
        not isinstance(divisor_override, int) or divisor_override == 0
    ):
        msg = f"avg_pool2d: divisor_override must be a non-zero int, got {divisor_override!r}"
        raise ValueError(msg)
    size = x.shape[-2:]
    # Zeros for a partial last window; unfold pads the rest. The order of zeros does not
    # change a sum, and the divisors below count them as PyTorch does.
    padded = pad(x, (0, ew, 0, eh)) if eh or ew else x
    sums = fn.sum(_columns(padded, params, out), axis=-2)
    sums = fn.reshape(sums, (*x.shape[:-2], *out))
    if divisor_override is not None:
        averages = sums / divisor_override
    else:
        divisors = _divisors(size, params, out, count_include_pad)
        if np.all(divisors == divisors.flat[0]):
            averages = sums / float(divisors.flat[0])
        else:
            averages = sums / constant_on(x, divisors, x.dtype)
    return named(averages, "AvgPool2DBackward0")


def _averaging_matrix(size: int, out: int) -> np.ndarray:
    """``(out, size)``: row i averages PyTorch's adaptive window
    ``[floor(i * size / out), ceil((i + 1) * size / out))``."""
    matrix = np.zeros((out, size))
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a given output size, as ``torch.nn.functional.adaptive_avg_pool2d``:
    output row i averages input rows ``floor(i * H / oh)`` up to ``ceil((i + 1) * H / oh)``,
    and likewise for columns.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``, floating point.
        output_size: ``oh`` for a square output, or ``(oh, ow)``; None keeps the input's size.

    Raises:
        ValueError: not 3-d or 4-d, or an output size that is not positive.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.adaptive_avg_pool2d(dualgrad.arange(16.0).reshape(1, 4, 4), 1)
        tensor([[[7.5000]]])
    """
    x = require_floating(input, "adaptive_avg_pool2d")
    if x.ndim not in (3, 4):
        msg = f"adaptive_avg_pool2d: expected a 3-d or 4-d input, got {tuple(x.shape)}"
        raise ValueError(msg)
    sizes = output_size if isinstance(output_size, tuple | list) else (output_size,) * 2
    if len(sizes) != 2:
        msg = f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}"
        raise ValueError(msg)
    size = x.shape[-2:]
    out = tuple(n if o is None else o for o, n in zip(sizes, size, strict=True))
    out = pair(out, "output_size", "adaptive_avg_pool2d", minimum=1)
    if all(n % o == 0 for n, o in zip(size, out, strict=True)):
        # Equal windows: sum and divide, as PyTorch does.
        (h, w), (oh, ow) = size, out
        blocks = fn.reshape(x, (*x.shape[:-2], oh, h // oh, ow, w // ow))
        return fn.mean(blocks, axis=(-3, -1))
    rows = constant_on(x, _averaging_matrix(size[0], out[0]), x.dtype)
    columns = constant_on(x, _averaging_matrix(size[1], out[1]).T, x.dtype)
    return fn.matmul(fn.matmul(rows, x), columns)
