"""Creating tensors: from Python data and arrays, filled, ranges, grids, random; and filling
one in place (``zero_``, ``fill_``)."""

from __future__ import annotations

__all__ = [
    "arange",
    "as_tensor",
    "asarray",
    "empty",
    "empty_like",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "linspace",
    "meshgrid",
    "ones",
    "ones_like",
    "tensor",
    "zeros",
    "zeros_like",
]

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _dtypes, config
from .._device import device_of_array, native_device
from .._dtypes import DType
from .._size import Size
from ..backends import Backend, backend_for_array
from ..tensor import Tensor, method
from . import _args
from ._args import as_dtype
from .elementwise import where
from .shape import broadcast_to, reshape


def _finish(array: Any, backend: Backend, requires_grad: bool, device: Any = None) -> Tensor:
    """A new leaf of ``array``, on ``device`` (None: the default device, if one is set)."""
    return Tensor(placed(array, backend, device), backend, requires_grad=requires_grad)


def placed(array: Any, backend: Backend, device: Any) -> Any:
    """``array`` on the device of ``backend`` that ``device`` names (None: the default device
    set by ``set_default_device``, else where it is); raises if the backend lacks it."""
    native = native_device(backend, device)
    if native is None or device_of_array(array) == native:
        return array  # already there: no copy, no call into the library
    from array_api_compat import to_device

    return to_device(array, native)


def tensor(
    data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A new leaf tensor holding a copy of ``data``.

    Python floats become the default dtype (float32), ints int64 and bools bool, as in PyTorch.
    A NumPy array keeps its dtype and lands on the active backend, as with ``asarray`` (so a
    script run with ``DUALGRAD_BACKEND=jax`` gets JAX tensors from its NumPy data); an array of
    another library (JAX, torch, ...) keeps its dtype and its backend.

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
    if isinstance(data, np.ndarray | np.generic) or (
        backend is not None and backend.name == "numpy"
    ):
        # NumPy data lands on the active backend, as with asarray, keeping its dtype.
        _check_array_dtype(data)
        backend = config.get_backend()
        values = np.array(data)
        if dtype is not None:
            values = values.astype(dtype.name, copy=False)
        array = backend.from_numpy(values)
    elif backend is not None:
        array = data
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
    return _finish(array, backend, requires_grad, device)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a Tensor, as ``torch.as_tensor``: a Tensor of that dtype and device is
    returned as it is (graph kept) and converted otherwise; other data is copied into a new
    tensor as ``tensor`` does.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([1.0, 2.0])
        >>> dualgrad.as_tensor(x) is x
        True
    """
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)  # type: ignore[attr-defined, no-any-return]
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A NumPy array as a Tensor of the same dtype and shape, on the active backend.

    Unlike PyTorch's, the Tensor does not share the array's memory: it holds a copy, so that
    neither changes with the other (dualgrad tensors own their arrays; see the guide for
    PyTorch users).

    Raises:
        TypeError: ``array`` is not a NumPy array, or has a dtype dualgrad lacks.

    Example:
        >>> import dualgrad, numpy as np
        >>> dualgrad.from_numpy(np.arange(3.0))
        tensor([0., 1., 2.], dtype=dualgrad.float64)
    """
    if not isinstance(array, np.ndarray):
        msg = f"from_numpy: expected a NumPy ndarray, got {type(array).__name__}"
        raise TypeError(msg)
    return asarray(array, copy=True)


def legacy_tensor(args: tuple[Any, ...], dtype: DType | None = None) -> Tensor:
    """``torch.Tensor(data)`` (the data in the default dtype, or ``dtype``: ``LongTensor``'s)
    or ``torch.Tensor(*sizes)`` (a tensor of that shape, zero-filled where PyTorch leaves it
    uninitialized)."""
    dtype = dtype or config.get_default_dtype()
    if not args:
        return empty(0, dtype=dtype)
    if all(isinstance(n, int | np.integer) and not isinstance(n, bool) for n in args):
        return empty(*args, dtype=dtype)
    if len(args) == 1 and isinstance(args[0], Size):
        return empty(args[0], dtype=dtype)
    if len(args) == 1:
        return tensor(args[0].detach() if isinstance(args[0], Tensor) else args[0], dtype=dtype)
    msg = (
        f"Tensor(): expected data (a sequence, array or Tensor) or sizes (ints), got "
        f"{', '.join(type(arg).__name__ for arg in args)}"
    )
    raise TypeError(msg)


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
    return Tensor(placed(array, backend, device), backend)


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
    array = getattr(backend.namespace, fill)(_shape(size), dtype=backend.native_dtype(dtype))
    return _finish(array, backend, requires_grad, device)


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
    array = backend.namespace.full(_shape((shape,)), fill_value, dtype=backend.native_dtype(dtype))
    return _finish(array, backend, requires_grad, device)


def _like(
    fill: str, x: Tensor, dtype: Any, device: Any, requires_grad: bool, *args: Any
) -> Tensor:
    backend = x._backend
    native = None if dtype is None else backend.native_dtype(as_dtype(dtype))
    array = getattr(backend.namespace, fill)(x._array, *args, dtype=native)
    if device is None:  # on x's device, not the default device: PyTorch's rule
        return Tensor(array, backend, requires_grad=requires_grad)
    return _finish(array, backend, requires_grad, device)


def zeros_like(
    x: Tensor, /, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Zeros with the shape, dtype and backend of ``x``."""
    return _like("zeros_like", x, dtype, device, requires_grad)


def ones_like(
    x: Tensor, /, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Ones with the shape, dtype and backend of ``x``."""
    return _like("ones_like", x, dtype, device, requires_grad)


def empty_like(
    x: Tensor, /, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor like ``x`` (filled with zeros)."""
    return _like("zeros_like", x, dtype, device, requires_grad)


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
    return _like("full_like", x, dtype, device, requires_grad, fill_value)


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
    return _finish(array, backend, requires_grad, device)


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
    return _finish(array, backend, requires_grad, device)


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
    return _finish(array, backend, requires_grad, device)


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
    tensors = [_args.as_tensor(t, "meshgrid") for t in arrays]
    if builtins.any(t.ndim != 1 for t in tensors):
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
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
