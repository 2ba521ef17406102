"""Creating tensors: from Python data and arrays, filled, ranges, random."""

from __future__ import annotations

__all__ = [
    "arange",
    "asarray",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "linspace",
    "manual_seed",
    "ones",
    "ones_like",
    "rand",
    "randn",
    "tensor",
    "zeros",
    "zeros_like",
]

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _dtypes, config
from ._dtypes import DType
from .backends import Backend, backend_for_array, get_backend_by_name, seed_all
from .tensor import Tensor

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


def _finish(array: Any, backend: Backend, requires_grad: bool) -> Tensor:
    return Tensor(array, backend, requires_grad=requires_grad)


def tensor(
    data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A new leaf tensor holding a copy of ``data``.

    Python floats become the default dtype (float32), ints int64 and bools bool, as in PyTorch.
    An array of a backend (NumPy, JAX, ...) keeps its dtype and its backend, whatever the default.

    Args:
        data: a number, nested sequences of numbers, a backend array, or a Tensor.
        dtype: the dtype to store (``dualgrad.float64``, ...).
        device: the backend's device for the array (None: the backend's default).
        requires_grad: record operations on the tensor for ``backward()``.

    Raises:
        TypeError: ``requires_grad=True`` with a non-floating dtype, or an unknown dtype.

    Example:
        >>> import dualgrad
        >>> dualgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
        tensor([1., 2., 3.], requires_grad=True)
    """
    dtype = None if dtype is None else as_dtype(dtype)
    if isinstance(data, Tensor):
        data = data._array
    backend = backend_for_array(data)
    if backend is None and isinstance(data, np.ndarray | np.generic):
        backend = get_backend_by_name("numpy")
    if backend is not None:
        array = backend.from_numpy(np.array(data)) if backend.name == "numpy" else data
        if dtype is not None and backend.dtype_of(array) is not dtype:
            array = backend.xp.astype(array, backend.native_dtype(dtype))
    else:
        backend = config.get_backend()
        try:
            values = np.array(data)
        except ValueError as err:  # NumPy's word for ragged nesting
            msg = (
                f"tensor(): the nested sequences have different lengths ({err}); "
                "give every row the same length"
            )
            raise ValueError(msg) from err
        if values.dtype.kind not in "biufc":
            msg = (
                f"tensor(): could not convert {type(data).__name__} to numbers; pass a number, "
                "a (nested) list of numbers or an array"
            )
            raise TypeError(msg)
        if dtype is None:
            dtype = _inferred_dtype(values)
        array = backend.from_numpy(values.astype(dtype.name, copy=False))
    if device is not None:
        array = _to_device(array, device)
    return _finish(array, backend, requires_grad)


def _inferred_dtype(values: np.ndarray) -> DType:
    kind = values.dtype.kind
    if kind == "f":
        return config.get_default_dtype()
    if kind == "c":
        return (
            _dtypes.complex128
            if config.get_default_dtype() is _dtypes.float64
            else _dtypes.complex64
        )
    if kind in "iu":
        return _dtypes.int64
    return _dtypes.BY_NAME[values.dtype.name]


def _to_device(array: Any, device: Any) -> Any:
    from array_api_compat import to_device

    return to_device(array, device)


def asarray(
    obj: Any, /, *, dtype: Any = None, device: Any = None, copy: bool | None = None
) -> Tensor:
    """``obj`` as a Tensor: a Tensor is returned as it is (graph kept) unless ``dtype`` differs.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([1.0, 2.0])
        >>> dualgrad.asarray(x) is x
        True
    """
    if isinstance(obj, Tensor):
        if dtype is not None and as_dtype(dtype) is not obj.dtype:
            return obj.astype(as_dtype(dtype))
        return obj.clone() if copy else obj
    return tensor(obj, dtype=dtype, device=device)


def _shape(size: tuple[Any, ...]) -> tuple[int, ...]:
    """PyTorch accepts ``zeros(2, 3)`` and ``zeros((2, 3))`` alike."""
    if len(size) == 1 and isinstance(size[0], Sequence):
        size = tuple(size[0])
    if not all(isinstance(n, int | np.integer) and n >= 0 for n in size):
        msg = f"sizes must be non-negative integers, got {size}"
        raise ValueError(msg)
    return tuple(int(n) for n in size)


def _filled(
    fill: str, size: tuple[Any, ...], shape: Any, dtype: Any, device: Any, requires_grad: bool
) -> Tensor:
    if shape is not None:  # the Array API's keyword
        if size:
            msg = f"{fill}: give the shape positionally or as shape=, not both"
            raise TypeError(msg)
        size = (shape,)
    backend = config.get_backend()
    dtype = config.get_default_dtype() if dtype is None else as_dtype(dtype)
    kwargs = {} if device is None else {"device": device}
    array = getattr(backend.namespace, fill)(
        _shape(size), dtype=backend.native_dtype(dtype), **kwargs
    )
    return _finish(array, backend, requires_grad)


def zeros(
    *size: Any,
    shape: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of zeros of the given shape (default dtype float32)."""
    return _filled("zeros", size, shape, dtype, device, requires_grad)


def ones(
    *size: Any,
    shape: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of ones of the given shape (default dtype float32)."""
    return _filled("ones", size, shape, dtype, device, requires_grad)


def empty(
    *size: Any,
    shape: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of the given shape; its values are zeros (arrays here are never uninitialised)."""
    return _filled("zeros", size, shape, dtype, device, requires_grad)


def full(
    shape: Sequence[int] | int,
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of the given shape filled with ``fill_value`` (dtype inferred from it)."""
    backend = config.get_backend()
    dtype = _inferred_dtype(np.asarray(fill_value)) if dtype is None else as_dtype(dtype)
    kwargs = {} if device is None else {"device": device}
    array = backend.namespace.full(
        _shape((shape,)), fill_value, dtype=backend.native_dtype(dtype), **kwargs
    )
    return _finish(array, backend, requires_grad)


def _like(fill: str, x: Tensor, dtype: Any, requires_grad: bool, *args: Any) -> Tensor:
    backend = x._backend
    native = None if dtype is None else backend.native_dtype(as_dtype(dtype))
    return _finish(
        getattr(backend.namespace, fill)(x._array, *args, dtype=native), backend, requires_grad
    )


def zeros_like(
    x: Tensor, /, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Zeros with the shape, dtype and backend of ``x``."""
    return _like("zeros_like", x, dtype, requires_grad)


def ones_like(
    x: Tensor, /, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Ones with the shape, dtype and backend of ``x``."""
    return _like("ones_like", x, dtype, requires_grad)


def empty_like(
    x: Tensor, /, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor like ``x`` (filled with zeros)."""
    return _like("zeros_like", x, dtype, requires_grad)


def full_like(
    x: Tensor,
    /,
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``fill_value`` with the shape, dtype and backend of ``x``."""
    return _like("full_like", x, dtype, requires_grad, fill_value)


def arange(
    start: Any,
    /,
    stop: Any = None,
    step: Any = 1,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Evenly spaced values in ``[start, stop)``: int64 for integer arguments, else float32.

    ``stop`` is PyTorch's ``end``; with one argument, it is the stop and the start is 0.
    """
    end = stop
    if end is None:
        start, end = 0, start
    if dtype is None:
        integral = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = _dtypes.int64 if integral else config.get_default_dtype()
    backend = config.get_backend()
    dtype = as_dtype(dtype)
    array = backend.namespace.arange(start, end, step, dtype=backend.native_dtype(dtype))
    return _finish(array, backend, requires_grad)


def linspace(
    start: Any,
    stop: Any,
    /,
    num: int | None = None,
    *,
    steps: int | None = None,
    dtype: Any = None,
    device: Any = None,
    endpoint: bool = True,
    requires_grad: bool = False,
) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` (inclusive if ``endpoint``).

    ``steps`` is PyTorch's name for ``num``; give one of them.
    """
    if (num is None) == (steps is None):
        msg = "linspace: give the number of values as num (or PyTorch's steps), exactly once"
        raise TypeError(msg)
    backend = config.get_backend()
    dtype = config.get_default_dtype() if dtype is None else as_dtype(dtype)
    array = backend.namespace.linspace(
        start,
        stop,
        num if steps is None else steps,
        dtype=backend.native_dtype(dtype),
        endpoint=endpoint,
    )
    return _finish(array, backend, requires_grad)


def eye(
    n_rows: int,
    n_cols: int | None = None,
    /,
    *,
    k: int = 0,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The ``n_rows`` x ``n_cols`` matrix with ones on diagonal ``k`` (0: the main one)."""
    backend = config.get_backend()
    dtype = config.get_default_dtype() if dtype is None else as_dtype(dtype)
    array = backend.namespace.eye(n_rows, n_cols, k=k, dtype=backend.native_dtype(dtype))
    return _finish(array, backend, requires_grad)


def _random(draw: str, size: tuple[Any, ...], dtype: Any, requires_grad: bool) -> Tensor:
    backend = config.get_backend()
    dtype = config.get_default_dtype() if dtype is None else as_dtype(dtype)
    if not dtype.is_floating_point:
        msg = f"{draw}: expected a floating dtype, got {dtype}"
        raise TypeError(msg)
    return _finish(getattr(backend, draw)(_shape(size), dtype), backend, requires_grad)


def randn(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Samples from the standard normal distribution, from the backend's seeded generator.

    Example:
        >>> import dualgrad
        >>> dualgrad.manual_seed(0)
        >>> dualgrad.randn(2, 3).shape
        (2, 3)
    """
    return _random("randn", size, dtype, requires_grad)


def rand(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples from the uniform distribution on [0, 1), from the backend's seeded generator."""
    return _random("rand", size, dtype, requires_grad)


def manual_seed(seed: int) -> None:
    """Seed the random generator of every backend, so runs repeat exactly."""
    seed_all(int(seed))
