"""The Fourier transforms (``dualgrad.ops.fft``), following the Array API's ``fft`` extension
(PyTorch's ``torch.fft``): differentiable in both modes, on any backend whose namespace has the
extension.

Each function pads with zeros or crops its input to the transform's size (``n``, ``s``) with
differentiable slices and concatenations, then applies one primitive. ``norm`` is the Array API's
(``"backward"``, ``"ortho"``, ``"forward"``; PyTorch's ``None`` means ``"backward"``). Real input
to a complex transform is promoted to complex of the same precision, as PyTorch does.
"""

from __future__ import annotations

__all__ = [
    "fft",
    "fftfreq",
    "fftn",
    "fftshift",
    "hfft",
    "ifft",
    "ifftn",
    "ifftshift",
    "ihfft",
    "irfft",
    "irfftn",
    "rfft",
    "rfftfreq",
    "rfftn",
]

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _dtypes, config, ops
from .._device import device_of_array
from .._dispatch import apply
from ..tensor import Tensor
from ._args import as_dtype, as_tensor, axis_indices, floating
from .creation import asarray
from .index import roll
from .numbers import conj
from .shape import concat

_NORMS = ("backward", "ortho", "forward")
_SWAPPED = {"backward": "forward", "ortho": "ortho", "forward": "backward"}
_COMPLEX_OF = {_dtypes.float32: _dtypes.complex64, _dtypes.float64: _dtypes.complex128}


# --- arguments ----------------------------------------------------------------------------------
def _norm(norm: str | None, name: str) -> str:
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        msg = f"{name}: unknown norm {norm!r}; choose one of: {', '.join(_NORMS)}"
        raise ValueError(msg)
    return norm


def _complex_input(x: Any, name: str) -> Tensor:
    """``x`` as a complex Tensor: real floats keep their precision, integers take the default."""
    x = floating(as_tensor(x, name))
    if x.dtype.is_complex:
        return x
    complex_dtype = _COMPLEX_OF.get(x.dtype, _dtypes.complex64)
    return apply(ops.astype, (x,), {"dtype": complex_dtype})


def _real_input(x: Any, name: str) -> Tensor:
    x = floating(as_tensor(x, name))
    if x.dtype.is_complex:
        msg = f"{name}: expected a real tensor, got {x.dtype}; use fft for complex input"
        raise TypeError(msg)
    return x


def _axes_and_sizes(
    x: Tensor, s: Sequence[int] | None, axes: Sequence[int] | None, name: str
) -> tuple[tuple[int, ...], list[int | None]]:
    """The transformed axes (non-negative, in the order given) and each one's size (None: the
    input's), by the Array API's rules: without axes, the last ``len(s)`` axes or all."""
    if axes is None:
        axes = range(x.ndim - len(s), x.ndim) if s is not None else range(x.ndim)
    indices = axis_indices(tuple(axes), x.ndim, name)
    if len(set(indices)) != len(indices):
        msg = f"{name}: repeated axis in axes={tuple(axes)}"
        raise ValueError(msg)
    if s is None:
        return indices, [None] * len(indices)
    s = list(s)
    if len(s) != len(indices):
        msg = f"{name}: s={tuple(s)} and axes={tuple(axes)} differ in length; one size per axis"
        raise ValueError(msg)
    for size in s:
        if size != -1 and size < 1:
            msg = f"{name}: invalid transform size {size} in s={tuple(s)}; sizes are >= 1 (or -1)"
            raise ValueError(msg)
    return indices, [None if size == -1 else int(size) for size in s]


def _resized(x: Tensor, axis: int, size: int | None) -> Tensor:
    """``x`` cropped, or padded with zeros at the end, to ``size`` along ``axis``."""
    length = x.shape[axis]
    if size is None or size == length:
        return x
    if size < length:
        return x[(slice(None),) * axis + (slice(0, size),)]
    padding = list(x.shape)
    padding[axis] = size - length
    array = x._array
    zeros = x._backend.xp.zeros(tuple(padding), dtype=array.dtype, device=device_of_array(array))
    return concat([x, Tensor._wrap(zeros, x._backend)], axis=axis)


def _negative(axes: Sequence[int], ndim: int) -> tuple[int, ...]:
    return tuple(axis - ndim for axis in axes)


def _n(n: int | None, name: str) -> tuple[int] | None:
    if n is None:
        return None
    if n < 1:
        msg = f"{name}: invalid number of points n={n}; pass n >= 1"
        raise ValueError(msg)
    return (int(n),)


# --- complex transforms -------------------------------------------------------------------------
def _c2c(
    x: Any,
    s: Sequence[int] | None,
    axes: Sequence[int] | None,
    norm: str | None,
    *,
    inverse: bool,
    name: str,
) -> Tensor:
    norm = _norm(norm, name)
    x = _complex_input(x, name)
    indices, sizes = _axes_and_sizes(x, s, axes, name)
    for axis, size in zip(indices, sizes, strict=True):
        x = _resized(x, axis, size)
    params = {"axes": _negative(indices, x.ndim), "norm": norm, "inverse": inverse}
    return apply(ops.fft_c2c, (x,), params)


def fft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The one-dimensional discrete Fourier transform along ``axis``.

    Args:
        x: the input; real input is promoted to complex.
        n: the transform's length: the input is cropped or padded with zeros to it (default:
            its length along ``axis``).
        axis: the axis to transform.
        norm: ``"backward"`` (no scaling forward, 1/n inverse), ``"ortho"`` (1/sqrt(n) both
            ways) or ``"forward"`` (1/n forward).

    Example:
        >>> import dualgrad
        >>> dualgrad.fft.fft(dualgrad.tensor([1.0, 2.0, 3.0, 4.0]))
        tensor([10.+0.j, -2.+2.j, -2.+0.j, -2.-2.j])
    """
    return _c2c(x, _n(n, "fft"), (axis,), norm, inverse=False, name="fft")


def ifft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The inverse of ``fft`` (same arguments)."""
    return _c2c(x, _n(n, "ifft"), (axis,), norm, inverse=True, name="ifft")


def fftn(
    x: Tensor,
    /,
    *,
    s: Sequence[int] | None = None,
    axes: Sequence[int] | None = None,
    norm: str = "backward",
) -> Tensor:
    """The n-dimensional discrete Fourier transform over ``axes`` (default: the last
    ``len(s)`` axes, or all), each cropped or padded to its size in ``s`` (-1: as it is)."""
    return _c2c(x, s, axes, norm, inverse=False, name="fftn")


def ifftn(
    x: Tensor,
    /,
    *,
    s: Sequence[int] | None = None,
    axes: Sequence[int] | None = None,
    norm: str = "backward",
) -> Tensor:
    """The inverse of ``fftn`` (same arguments)."""
    return _c2c(x, s, axes, norm, inverse=True, name="ifftn")


# --- real input, half spectrum ------------------------------------------------------------------
def _r2c(
    x: Any, s: Sequence[int] | None, axes: Sequence[int] | None, norm: str | None, name: str
) -> Tensor:
    norm = _norm(norm, name)
    x = _real_input(x, name)
    indices, sizes = _axes_and_sizes(x, s, axes, name)
    for axis, size in zip(indices, sizes, strict=True):
        x = _resized(x, axis, size)
    return apply(ops.fft_r2c, (x,), {"axes": _negative(indices, x.ndim), "norm": norm})


def _c2r(
    x: Any, s: Sequence[int] | None, axes: Sequence[int] | None, norm: str | None, name: str
) -> Tensor:
    norm = _norm(norm, name)
    x = _complex_input(x, name)
    indices, sizes = _axes_and_sizes(x, s, axes, name)
    if not indices:
        msg = f"{name}: no axis to transform; pass axes (or an input with at least one axis)"
        raise ValueError(msg)
    for axis, size in zip(indices[:-1], sizes[:-1], strict=True):
        x = _resized(x, axis, size)
    last = indices[-1]
    n = sizes[-1] if sizes[-1] is not None else 2 * (x.shape[last] - 1)
    if n < 1:
        msg = f"{name}: the output would have {n} points along axis {last}; pass n (or s) >= 1"
        raise ValueError(msg)
    x = _resized(x, last, n // 2 + 1)
    params = {"axes": _negative(indices, x.ndim), "n": n, "norm": norm}
    return apply(ops.fft_c2r, (x,), params)


def rfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The Fourier transform of a real input, its non-negative frequencies only
    (``n // 2 + 1`` of them); arguments as ``fft``.

    Example:
        >>> import dualgrad
        >>> dualgrad.fft.rfft(dualgrad.tensor([1.0, 2.0, 3.0, 4.0]))
        tensor([10.+0.j, -2.+2.j, -2.+0.j])
    """
    return _r2c(x, _n(n, "rfft"), (axis,), norm, "rfft")


def irfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The inverse of ``rfft``: ``n`` real points (default ``2 * (m - 1)`` from ``m``
    frequencies) from a half spectrum. The imaginary parts of the zero frequency (and of the
    Nyquist frequency, for even ``n``) are ignored, as the transform defines them."""
    return _c2r(x, _n(n, "irfft"), (axis,), norm, "irfft")


def rfftn(
    x: Tensor,
    /,
    *,
    s: Sequence[int] | None = None,
    axes: Sequence[int] | None = None,
    norm: str = "backward",
) -> Tensor:
    """The n-dimensional ``rfft``: full transforms over ``axes``, the half spectrum along the
    last of them; arguments as ``fftn``."""
    return _r2c(x, s, axes, norm, "rfftn")


def irfftn(
    x: Tensor,
    /,
    *,
    s: Sequence[int] | None = None,
    axes: Sequence[int] | None = None,
    norm: str = "backward",
) -> Tensor:
    """The inverse of ``rfftn``; ``s`` gives the output's sizes (the last one defaults to
    ``2 * (m - 1)``)."""
    return _c2r(x, s, axes, norm, "irfftn")


# --- Hermitian-symmetric spectra ----------------------------------------------------------------
def hfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The real spectrum of a signal with Hermitian symmetry, given by its first half:
    ``irfft`` of the conjugate, with the norm's scaling reversed."""
    norm = _norm(norm, "hfft")
    return _c2r(conj(_complex_input(x, "hfft")), _n(n, "hfft"), (axis,), _SWAPPED[norm], "hfft")


def ihfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The inverse of ``hfft``: the conjugate of ``rfft``, with the norm's scaling reversed."""
    norm = _norm(norm, "ihfft")
    return conj(_r2c(x, _n(n, "ihfft"), (axis,), _SWAPPED[norm], "ihfft"))


# --- frequencies and shifts ---------------------------------------------------------------------
def _frequencies(values: np.ndarray, n: int, d: float, dtype: Any, device: Any) -> Tensor:
    dtype = config.get_default_dtype() if dtype is None else as_dtype(dtype)
    if dtype is not None and not dtype.is_floating_point:
        msg = f"frequencies are real: expected a real floating dtype, got {dtype}"
        raise TypeError(msg)
    return asarray(values / (d * n), dtype=dtype, device=device)


def _points(n: int, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        msg = f"{name}: n must be a positive int, got {n!r}"
        raise ValueError(msg)
    return int(n)


def fftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Tensor:
    """The sample frequencies of ``fft`` for ``n`` points spaced ``d`` apart: ``[0, 1, ...,
    -1] / (d * n)``, in the default float dtype unless ``dtype`` says otherwise.

    Example:
        >>> import dualgrad
        >>> dualgrad.fft.fftfreq(4)
        tensor([ 0.0000,  0.2500, -0.5000, -0.2500])
    """
    n = _points(n, "fftfreq")
    values = np.concatenate([np.arange((n - 1) // 2 + 1), np.arange(-(n // 2), 0)])
    return _frequencies(values.astype(np.float64), n, d, dtype, device)


def rfftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Tensor:
    """The sample frequencies of ``rfft`` for ``n`` points: ``[0, 1, ..., n // 2] / (d * n)``."""
    n = _points(n, "rfftfreq")
    return _frequencies(np.arange(n // 2 + 1, dtype=np.float64), n, d, dtype, device)


def _shift(x: Any, axes: int | Sequence[int] | None, sign: int, name: str) -> Tensor:
    x = as_tensor(x, name)
    if axes is None:
        axes = tuple(range(x.ndim))
    indices = axis_indices(axes, x.ndim, name)
    if not indices:
        return roll(x, 0, axis=()) if x.ndim else x
    shifts = tuple(sign * (x.shape[axis] // 2) for axis in indices)
    return roll(x, shifts, axis=indices)


def fftshift(x: Tensor, /, *, axes: int | Sequence[int] | None = None) -> Tensor:
    """``x`` with the zero frequency moved to the middle along ``axes`` (default: all).

    Example:
        >>> import dualgrad
        >>> dualgrad.fft.fftshift(dualgrad.fft.fftfreq(5))
        tensor([-0.4000, -0.2000,  0.0000,  0.2000,  0.4000])
    """
    return _shift(x, axes, 1, "fftshift")


def ifftshift(x: Tensor, /, *, axes: int | Sequence[int] | None = None) -> Tensor:
    """The inverse of ``fftshift``: the zero frequency back to the front."""
    return _shift(x, axes, -1, "ifftshift")
