"""Creating tensors: from Python data and arrays, filled, ranges, grids, random; and filling
one in place (``zero_``, ``fill_``)."""

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
    "meshgrid",
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

from .. import _dtypes, config
from .._dtypes import DType
from ..backends import Backend, backend_for_array, get_backend_by_name, seed_all
from ..tensor import Tensor, method
from ._args import as_dtype, as_tensor
from .elementwise import where
from .shape import broadcast_to, reshape


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
        elif dtype.kind == "u" and values.dtype.kind == "f":
            # Python ints beyond int64 (uint64's upper half) read as float64: read them again
            values = np.array(data, dtype=dtype.name)
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
    from array_api_compat import device as device_of
    from array_api_compat import to_device

    # an array already on ``device`` stays as it is: no copy, no call into the library
    return array if device_of(array) == device else to_device(array, device)


def asarray(
    obj: Any, /, *, dtype: Any = None, device: Any = None, copy: bool | None = None
) -> Tensor:
    """``obj`` as a Tensor, as the Array API's ``asarray``.

    - A Tensor is returned as it is (graph kept), converted if ``dtype`` differs.
    - An array of a backend's library other than NumPy (JAX, torch, ...) is wrapped as it is,
      on its own backend: dualgrad never moves arrays between such libraries by itself.
    - Anything else (NumPy arrays and scalars, Python numbers, nested sequences) is data and
      lands on the active backend, so that library code which builds its constants with NumPy
      (SciPy does) meets Tensors of one backend. NumPy arrays keep their dtype; Python numbers
      take dualgrad's defaults.

    ``copy=True`` always copies; ``copy=False`` raises ``ValueError`` where a copy (a dtype
    change, a conversion to another library) cannot be avoided.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([1.0, 2.0])
        >>> dualgrad.asarray(x) is x
        True
    """
    dtype = None if dtype is None else as_dtype(dtype)
    if isinstance(obj, Tensor):
        return _tensor_as(obj, dtype, device, copy)
    _check_array_dtype(obj)
    backend = backend_for_array(obj)
    if backend is not None and backend.name != "numpy":
        array = obj
        if dtype is not None and backend.dtype_of(array) is not dtype:
            _refuse_copy(copy, f"converting {backend.dtype_of(array)} to {dtype}")
            array = backend.xp.astype(array, backend.native_dtype(dtype))
        elif copy:
            array = backend.xp.asarray(array, copy=True)
    else:
        backend = config.get_backend()
        array = _data_on(backend, obj, dtype, copy)
    if device is not None:
        array = _to_device(array, device)
    return Tensor(array, backend)


def _tensor_as(x: Tensor, dtype: DType | None, device: Any, copy: bool | None) -> Tensor:
    """``asarray`` of a Tensor: itself, converted or cloned (graph kept), on its own device."""
    if device is not None and device != x.device:
        msg = (
            f"asarray: a Tensor cannot move from device {x.device!r} to {device!r} with its "
            "graph; create it on that device (device= of tensor or asarray on the data)"
        )
        raise ValueError(msg)
    if dtype is not None and dtype is not x.dtype:
        _refuse_copy(copy, f"converting {x.dtype} to {dtype}")
        return x.astype(dtype)
    return x.clone() if copy else x


def _data_on(backend: Backend, obj: Any, dtype: DType | None, copy: bool | None) -> Any:
    """The active backend's array of NumPy data or Python data (numbers, nested sequences)."""
    if not isinstance(obj, np.ndarray | np.generic):
        _refuse_copy(copy, f"converting {type(obj).__name__} to an array")
        return tensor(obj, dtype=dtype)._array  # made on the active backend, ``backend``
    native = None if dtype is None else np.dtype(dtype.name)
    if native is not None and native != obj.dtype:
        _refuse_copy(copy, f"converting {obj.dtype} to {dtype}")
    if backend.name != "numpy":
        _refuse_copy(copy, f"converting a NumPy array to a {backend.name} array")
    # copied unless asked not to (some libraries would share the memory), so that the Tensor
    # never changes with the caller's array
    values = np.asarray(obj, dtype=native) if copy is False else np.array(obj, dtype=native)
    return backend.from_numpy(values)


def _check_array_dtype(obj: Any) -> None:
    """Refuse an array (NumPy's or a backend's) whose dtype dualgrad does not have."""
    name = getattr(getattr(obj, "dtype", None), "name", None)
    if name is not None and name not in _dtypes.BY_NAME:
        msg = (
            f"asarray: dualgrad has no dtype {name}; convert the array to one of "
            f"{', '.join(_dtypes.BY_NAME)} first"
        )
        raise TypeError(msg)


def _refuse_copy(copy: bool | None, what: str) -> None:
    if copy is False:
        msg = f"asarray: {what} needs a copy, which copy=False forbids; pass copy=None"
        raise ValueError(msg)


def _shape(size: tuple[Any, ...]) -> tuple[int, ...]:
    """PyTorch accepts ``zeros(2, 3)`` and ``zeros((2, 3))`` alike."""
    if len(size) == 1 and isinstance(size[0], Sequence):
        size = tuple(size[0])
    if not all(isinstance(n, int | np.integer) and n >= 0 for n in size):
        msg = f"sizes must be non-negative integers, got {size}"
        raise ValueError(msg)
    return tuple(int(n) for n in size)


def _filled(
    fill: str, shape: Any, size: tuple[Any, ...], dtype: Any, device: Any, requires_grad: bool
) -> Tensor:
    # the Array API's zeros((2, 3)) and zeros(shape=(2, 3)), PyTorch's zeros(2, 3) too
    size = (shape, *size) if size else (shape,)
    backend = config.get_backend()
    dtype = config.get_default_dtype() if dtype is None else as_dtype(dtype)
    kwargs = {} if device is None else {"device": device}
    array = getattr(backend.namespace, fill)(
        _shape(size), dtype=backend.native_dtype(dtype), **kwargs
    )
    return _finish(array, backend, requires_grad)


def zeros(
    shape: Any,
    *size: Any,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of zeros of the given shape (default dtype float32)."""
    return _filled("zeros", shape, size, dtype, device, requires_grad)


def ones(
    shape: Any,
    *size: Any,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of ones of the given shape (default dtype float32)."""
    return _filled("ones", shape, size, dtype, device, requires_grad)


def empty(
    shape: Any,
    *size: Any,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of the given shape; its values are zeros (arrays here are never uninitialised)."""
    return _filled("zeros", shape, size, dtype, device, requires_grad)


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


# --- grids ------------------------------------------------------------------------------------
def meshgrid(*arrays: Tensor, indexing: str = "xy") -> list[Tensor]:
    """Coordinate grids from 1-D tensors: Cartesian (``"xy"``, the first two axes swapped) or
    matrix (``"ij"``) indexing; differentiable through ``broadcast_to``.

    Raises:
        ValueError: an input is not 1-D, or ``indexing`` is not "xy" or "ij".
    """
    if indexing not in ("xy", "ij"):
        msg = f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}"
        raise ValueError(msg)
    tensors = [as_tensor(t, "meshgrid") for t in arrays]
    if builtins.any(t.ndim != 1 for t in tensors):
        shapes = ", ".join(str(t.shape) for t in tensors)
        msg = f"meshgrid: expected 1-D tensors, got shapes {shapes}"
        raise ValueError(msg)
    positions = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        positions[0], positions[1] = 1, 0
    shape = [0] * len(tensors)
    for t, position in zip(tensors, positions, strict=True):
        shape[position] = t.shape[0]
    grids = []
    for t, position in zip(tensors, positions, strict=True):
        view = [1] * len(tensors)
        view[position] = t.shape[0]
        grids.append(broadcast_to(reshape(t, tuple(view)), tuple(shape)))
    return grids


# --- filling in place -----------------------------------------------------------------------
def _zero_(self: Tensor) -> Tensor:
    """Fill with zeros in place."""
    return _fill(self, 0, "zero_")


def _fill_(self: Tensor, value: Any) -> Tensor:
    """Fill with ``value`` in place."""
    return _fill(self, value, "fill_")


def _fill(tensor: Tensor, value: Any, op_name: str) -> Tensor:
    if (
        not tensor._requires_grad
        and tensor._tangents is None
        and (type(value) is float or type(value) is int)
        and tensor.dtype.is_floating_point
    ):
        # A floating constant (a .grad, a buffer): no graph to keep, only values to swap;
        # the common ``grad.zero_()`` of every training step skips _update's generality.
        return tensor._swap_in(tensor._backend.xp.full_like(tensor._array, value))

    # A tensor in the graph stays in it, with zero gradient, as in PyTorch.
    def filled(x: Tensor) -> Tensor:
        constant = full_like(x, value)
        if not x._requires_grad:
            return constant
        return where(ones_like(x, dtype="bool"), constant, x)

    return tensor._update(filled, op_name)


method(_zero_, "zero_")
method(_fill_, "fill_")
