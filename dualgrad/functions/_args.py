"""Argument handling shared by the public functions, written once.

Every public function checks its arguments with these before it hands a primitive to the
dispatcher: that an argument is a Tensor (``as_tensor``), that it is floating point or made so
(``require_floating``, ``floating``), axes as the rules want them (``normalize_axes``,
``axis_index``), dtypes (``as_dtype``, ``promoted``). Each takes the value first and, where it
can fail, the name of the calling function last, which its message starts with. The check that
tensors share a backend is ``dualgrad.tensor.same_backend``: the dispatcher makes it too.
"""

from __future__ import annotations

__all__ = [
    "AxisError",
    "as_dtype",
    "as_tensor",
    "axis_index",
    "axis_indices",
    "floating",
    "is_inexact",
    "normalize_axes",
    "promoted",
    "require_floating",
    "same_backend",
]

import builtins
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _dtypes, config, ops
from .._dispatch import apply
from .._dtypes import DType
from ..tensor import Tensor, same_backend


class AxisError(ValueError, IndexError):
    """An axis out of range (both a ValueError, as in NumPy, and an IndexError, as in PyTorch)."""


# --- tensors and their dtypes -----------------------------------------------------------------
def as_tensor(x: Any, op_name: str) -> Tensor:
    """``x`` itself if it is a Tensor, else a TypeError saying how to make one."""
    if isinstance(x, Tensor):
        return x
    msg = f"{op_name}: expected a Tensor, got {type(x).__name__}; wrap it with dualgrad.asarray"
    raise TypeError(msg)


def is_inexact(x: Any) -> bool:
    """Whether ``x`` (a Tensor or a Python number) is floating point or complex."""
    if isinstance(x, Tensor):
        return x.dtype.is_floating_point or x.dtype.is_complex
    return isinstance(x, float | complex)


def floating(x: Any) -> Any:
    """``x`` made floating, for a function defined on real numbers (as PyTorch computes them):
    an integer or bool Tensor in the default float dtype, a Python int or bool as a float.
    Anything else is returned as it is (the dispatcher names what it cannot take)."""
    if isinstance(x, Tensor):
        if x.dtype.is_floating_point or x.dtype.is_complex:
            return x
        return apply(ops.astype, (x,), {"dtype": config.get_default_dtype()})
    return float(x) if isinstance(x, int) else x


def require_floating(x: Any, op_name: str) -> Tensor:
    """``x`` itself if it is a floating point Tensor, else a TypeError saying how to convert."""
    x = as_tensor(x, op_name)
    if not x.dtype.is_floating_point:
        msg = (
            f"{op_name}: expected a floating point tensor, got {x.dtype}; "
            "convert it first, e.g. x.to(dualgrad.float32)"
        )
        raise TypeError(msg)
    return x


def promoted(tensors: Sequence[Tensor]) -> list[Tensor]:
    """The tensors converted to their common dtype."""
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = _dtypes.promote_types(dtype, t.dtype)
    return [t if t.dtype is dtype else apply(ops.astype, (t,), {"dtype": dtype}) for t in tensors]


_PYTHON_TYPES = {builtins.bool: _dtypes.bool, int: _dtypes.int64, float: None, complex: None}


def as_dtype(dtype: Any) -> DType:
    """A dualgrad dtype from a dtype, its name, or a Python or NumPy type."""
    if isinstance(dtype, DType):
        return dtype
    if dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype] or config.get_default_dtype()
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", None) or str(dtype)
    try:
        return _dtypes.BY_NAME[name]
    except KeyError:
        try:
            return _dtypes.BY_NAME[np.dtype(dtype).name]
        except TypeError:
            pass
    choices = ", ".join(_dtypes.BY_NAME)
    msg = f"unknown dtype {dtype!r}; choose one of: {choices}"
    raise TypeError(msg)


# --- axes -------------------------------------------------------------------------------------
def normalize_axes(axis: Any, ndim: int, op_name: str) -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence of ints) as a sorted tuple of negative ints, the
    form the rules take; None means every axis."""
    if axis is None:
        return tuple(range(-ndim, 0))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    normalized = []
    for a in axes:
        if not -builtins.max(ndim, 1) <= a < builtins.max(ndim, 1):
            msg = f"{op_name}: axis {a} is out of range for a tensor with {ndim} dimensions"
            raise AxisError(msg)
        normalized.append(int(a) - ndim if a >= 0 else int(a))
    if len(set(normalized)) != len(normalized):
        msg = f"{op_name}: repeated axis in {axis}"
        raise ValueError(msg)
    return tuple(sorted(normalized)) if ndim else ()


def axis_index(axis: Any, ndim: int, op_name: str) -> int:
    """One axis as a non-negative int, checked against ``ndim``."""
    try:
        axis = operator.index(axis)
    except TypeError:
        msg = f"{op_name}: axis must be an int, got {axis!r}"
        raise TypeError(msg) from None
    if not -ndim <= axis < ndim:
        msg = f"{op_name}: axis {axis} is out of range for a tensor with {ndim} dimensions"
        raise AxisError(msg)
    return axis % ndim


def axis_indices(axis: Any, ndim: int, op_name: str) -> tuple[int, ...]:
    """An int or a sequence of ints as non-negative axes, in the order given."""
    parts = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    return tuple(axis_index(a, ndim, op_name) for a in parts)
