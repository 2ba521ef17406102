"""Argument handling shared by ``dualgrad.nn.functional``'s modules beyond what
``dualgrad.functions._args`` has: values for checking, the int-or-pair options of convolution
and pooling, and constants on a tensor's backend."""

from __future__ import annotations

__all__ = ["InputTypeError", "InputValueError", "constant_on", "ntuple", "pair", "values_of"]

import operator
from typing import Any

import numpy as np

from .. import _recorder, config
from ..functions.creation import asarray
from ..tensor import Tensor


def values_of(x: Tensor) -> np.ndarray | None:
    """``x``'s values for checking them, or None while they are abstract (under jax.jit or
    dualgrad.jit, whose tracers cannot be converted) or lazy (Dask, which would compute them):
    the checks are then skipped."""
    if _recorder.recorder is not None or x._backend.lazy:
        return None
    try:
        return np.asarray(x._backend.to_numpy(x._array))
    except TypeError:  # jax's TracerArrayConversionError
        return None


def pair(value: Any, option: str, name: str, *, minimum: int = 0) -> tuple[int, int]:
    """An int or a pair of ints (rows, columns), as ``kernel_size=3`` or ``stride=(2, 1)``,
    each at least ``minimum``."""
    return ntuple(value, 2, option, name, minimum=minimum)  # type: ignore[return-value]


def ntuple(value: Any, n: int, option: str, name: str, *, minimum: int = 0) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints, each at least ``minimum``, as a tuple of ``n``."""
    try:
        values = (operator.index(value),) * n if not hasattr(value, "__len__") else value
        values = tuple(operator.index(v) for v in values)
    except TypeError:
        msg = f"{name}: {option} must be an int or a tuple of {n} ints, got {value!r}"
        raise TypeError(msg) from None
    if len(values) != n:
        msg = f"{name}: {option} must be an int or a tuple of {n} ints, got {value!r}"
        raise ValueError(msg)
    if any(v < minimum for v in values):
        msg = f"{name}: {option} must be at least {minimum}, got {value!r}"
        raise ValueError(msg)
    return values


def constant_on(x: Tensor, values: Any, dtype: Any) -> Tensor:
    """``values`` (NumPy or Python data) as a constant Tensor of ``dtype`` on ``x``'s backend,
    whichever backend is active."""
    with config.use_backend(x.backend.name):
        return asarray(values, dtype=dtype)


class InputValueError(ValueError, RuntimeError):
    """A bad value or shape where PyTorch raises RuntimeError: ``except ValueError`` (dualgrad's
    convention) and ``except RuntimeError`` (ported PyTorch code) both catch it."""


class InputTypeError(TypeError, RuntimeError):
    """A bad dtype where PyTorch raises RuntimeError; caught as TypeError or RuntimeError."""
