"""PyTorch's tensor ``repr``: ``tensor([1., 2.], requires_grad=True)`` and the rest.

Follows the layout rules of PyTorch's printer (precision 4, line width 80, integer-valued floats
printed as ``2.``, scientific notation for wide ranges, summarizing past 1000 elements with
3 edge items, all changed by ``set_printoptions``) so that programs print what they print under
PyTorch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _dtypes, config

if TYPE_CHECKING:
    from .tensor import Tensor


@dataclasses.dataclass
class PrintOptions:
    """PyTorch's print options (``set_printoptions``), with its defaults. ``sci_mode`` None
    lets the printer choose scientific notation by the values' range."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


OPTIONS = PrintOptions()
_PROFILES = {
    "default": PrintOptions(),
    "short": PrintOptions(precision=2, edgeitems=2),
    "full": PrintOptions(threshold=math.inf),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set how tensors print, as ``torch.set_printoptions``: digits after the point
    (``precision``), the element count past which a tensor is summarized (``threshold``) with
    ``edgeitems`` at each end, the line width, scientific notation (``sci_mode``: True, False,
    or None to choose by the values), or a ``profile`` ("default", "short", "full") whose
    settings the other arguments then override.

    Raises:
        ValueError: ``profile`` is none of those three.

    Example:
        >>> import dualgrad
        >>> dualgrad.set_printoptions(precision=2)
        >>> dualgrad.tensor([1.23456, 2.0])
        tensor([1.23, 2.00])
        >>> dualgrad.set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PROFILES:
            msg = f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}"
            raise ValueError(msg)
        for field in ("precision", "threshold", "edgeitems", "linewidth"):
            setattr(OPTIONS, field, getattr(_PROFILES[profile], field))
    given = {"precision": precision, "threshold": threshold}
    given |= {"edgeitems": edgeitems, "linewidth": linewidth}
    for field, value in given.items():
        if value is not None:
            setattr(OPTIONS, field, value)
    OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The print options, as keyword arguments of ``set_printoptions``."""
    return dataclasses.asdict(OPTIONS)


@contextlib.contextmanager
def printoptions(**options: Any) -> Iterator[None]:
    """Print with ``options`` (``set_printoptions``'s) inside the block, as before after it."""
    before = get_printoptions()
    set_printoptions(**options)
    try:
        yield
    finally:
        set_printoptions(**before)


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
        if OPTIONS.sci_mode is not None:
            self.sci_mode = OPTIONS.sci_mode
        precision = OPTIONS.precision
        for value in finite.tolist():
            if self.sci_mode:
                width = len(f"{value:.{precision}e}")
            elif self.int_mode:
                width = len(f"{value:.0f}") + 1
            else:
                width = len(f"{value:.{precision}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value: Any) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{OPTIONS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if not (math.isinf(value) or math.isnan(value)):
                text += "."
        else:
            text = f"{value:.{OPTIONS.precision}f}"
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
    edge = OPTIONS.edgeitems
    if values.shape[0] > 2 * edge:
        values = np.concatenate([values[:edge], values[-edge:]])
    return np.stack([_summarized(row) for row in values]) if values.ndim > 1 else values


def _body(
    values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter | _ComplexFormatter
) -> str:
    if values.ndim == 0:
        return formatter.format(values.item())
    length = values.shape[0]
    edge = OPTIONS.edgeitems
    show_edges = summarize and length > 2 * edge
    if values.ndim == 1:
        items = values.tolist()
        if show_edges:
            data = [formatter.format(v) for v in items[:edge]] + [" ..."]
            data += [formatter.format(v) for v in items[-edge:]]
        else:
            data = [formatter.format(v) for v in items]
        per_line = max(1, (OPTIONS.linewidth - indent) // (formatter.max_width + 2))
        lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
        return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(edge) if show_edges else range(length)
    parts = [_body(values[i], indent + 1, summarize, formatter) for i in rows]
    if show_edges:
        parts.append("...")
        parts += [
            _body(values[i], indent + 1, summarize, formatter)
            for i in range(length - edge, length)
        ]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    pieces = [text]
    last_line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        # Break lines where PyTorch breaks them: measure ``dtype=dualgrad.float64`` as PyTorch's
        # shorter ``dtype=torch.float64``, so the output differs from PyTorch's in that name only.
        width = len(suffix.replace("dualgrad.", "torch."))
        if last_line_length + width + 2 > OPTIONS.linewidth:
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
    if shows_dtype and dtype is _dtypes.int32 and tensor._backend.default_integer() is dtype:
        shows_dtype = False  # JAX's default integer outside its 64-bit mode: its "long"
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if dtype is not default:
            suffixes.append(f"dtype={dtype!r}")
        body = "[]"
    else:
        if shows_dtype:
            suffixes.append(f"dtype={dtype!r}")
        summarize = values.size > OPTIONS.threshold
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
