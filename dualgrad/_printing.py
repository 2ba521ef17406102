"""PyTorch's tensor ``repr``: ``tensor([1., 2.], requires_grad=True)`` and the rest.

Follows the layout rules of PyTorch's printer (precision 4, line width 80, integer-valued floats
printed as ``2.``, scientific notation for wide ranges, summarizing past 1000 elements with
3 edge items) so that programs print what they print under PyTorch.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _dtypes, config

if TYPE_CHECKING:
    from .tensor import Tensor

PRECISION = 4
LINEWIDTH = 80
THRESHOLD = 1000
EDGEITEMS = 3


class _Formatter:
    """Chooses one number format (and width) for all elements, as PyTorch's printer does."""

    def __init__(self, values: np.ndarray, floating: bool) -> None:
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            for value in values.tolist():
                self.max_width = max(self.max_width, len(str(value)))
            return
        finite = values[np.isfinite(values) & (values != 0)].astype(np.float64)
        if finite.size == 0:
            return
        magnitudes = np.abs(finite)
        low, high = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        wide = high / low > 1000.0 or high > 1.0e8
        self.sci_mode = wide if self.int_mode else wide or low < 1.0e-4
        for value in finite.tolist():
            if self.sci_mode:
                width = len(f"{value:.{PRECISION}e}")
            elif self.int_mode:
                width = len(f"{value:.0f}") + 1
            else:
                width = len(f"{value:.{PRECISION}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value: Any) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{PRECISION}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if not (math.isinf(value) or math.isnan(value)):
                text += "."
        else:
            text = f"{value:.{PRECISION}f}"
        return (self.max_width - len(text)) * " " + text


class _ComplexFormatter:
    """PyTorch's complex layout: the real parts share one format and the imaginary parts
    another, each element printed as ``real+imagj`` (``1.+2.j``, ``-3.2500-1.0000e-03j``)."""

    def __init__(self, values: np.ndarray) -> None:
        self.real = _Formatter(values.real, True)
        self.imag = _Formatter(values.imag, True)
        self.max_width = self.real.max_width + self.imag.max_width + 1

    def format(self, value: Any) -> str:
        imag = (self.imag.format(value.imag) + "j").lstrip()
        sign = "" if imag[0] in "+-" else "+"
        return self.real.format(value.real) + sign + imag


def _summarized(values: np.ndarray) -> np.ndarray:
    """The elements that will be shown: edge items only, along every axis that is too long."""
    if values.ndim == 0:
        return values
    if values.shape[0] > 2 * EDGEITEMS:
        values = np.concatenate([values[:EDGEITEMS], values[-EDGEITEMS:]])
    return np.stack([_summarized(row) for row in values]) if values.ndim > 1 else values


def _body(
    values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter | _ComplexFormatter
) -> str:
    if values.ndim == 0:
        return formatter.format(values.item())
    length = values.shape[0]
    show_edges = summarize and length > 2 * EDGEITEMS
    if values.ndim == 1:
        items = values.tolist()
        if show_edges:
            data = [formatter.format(v) for v in items[:EDGEITEMS]] + [" ..."]
            data += [formatter.format(v) for v in items[-EDGEITEMS:]]
        else:
            data = [formatter.format(v) for v in items]
        per_line = max(1, (LINEWIDTH - indent) // (formatter.max_width + 2))
        lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
        return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(EDGEITEMS) if show_edges else range(length)
    parts = [_body(values[i], indent + 1, summarize, formatter) for i in rows]
    if show_edges:
        parts.append("...")
        parts += [
            _body(values[i], indent + 1, summarize, formatter)
            for i in range(length - EDGEITEMS, length)
        ]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    pieces = [text]
    last_line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        # Break lines where PyTorch breaks them: measure ``dtype=dualgrad.float64`` as PyTorch's
        # shorter ``dtype=torch.float64``, so the output differs from PyTorch's in that name only.
        width = len(suffix.replace("dualgrad.", "torch."))
        if last_line_length + width + 2 > LINEWIDTH:
            pieces.append(",\n" + " " * indent + suffix)
            last_line_length = indent + width
        else:
            pieces.append(", " + suffix)
            last_line_length += width + 2
    pieces.append(")")
    return "".join(pieces)


def tensor_repr(tensor: Tensor) -> str:
    """The string PyTorch would print for a tensor with these values and autograd state."""
    prefix = "tensor("
    indent = len(prefix)
    dtype = tensor.dtype
    values = tensor._backend.to_numpy(tensor._array)
    suffixes = []
    default = config.get_default_dtype()
    default_complex = _dtypes.complex128 if default is _dtypes.float64 else _dtypes.complex64
    shows_dtype = dtype not in (default, default_complex, _dtypes.int64, _dtypes.bool)
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if dtype is not default:
            suffixes.append(f"dtype={dtype!r}")
        body = "[]"
    else:
        if shows_dtype:
            suffixes.append(f"dtype={dtype!r}")
        summarize = values.size > THRESHOLD
        shown = _summarized(values) if summarize else values
        formatter = (
            _ComplexFormatter(shown.reshape(-1))
            if dtype.is_complex
            else _Formatter(shown.reshape(-1), dtype.is_floating_point)
        )
        body = _body(values, indent, summarize, formatter)
    if tensor._node is not None:
        suffixes.append(f"grad_fn=<{tensor._node.name()}>")
    elif tensor._requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)
