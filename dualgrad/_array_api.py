"""What makes the ``dualgrad`` module an Array API namespace beyond its functions: the version,
``__array_namespace_info__``, the dtype functions (``finfo``, ``isdtype``, ``result_type``, ...),
the constants, and ``Tensor.__array_namespace__``, which names the ``dualgrad`` module.

The standard's dtypes are dualgrad's dtype objects; ``float32`` stays the default floating dtype
(as in PyTorch), so ``default_dtypes()`` reports ``get_default_dtype()`` rather than float64.
"""

from __future__ import annotations

__all__ = [
    "SUPPORTED_API_VERSIONS",
    "__array_api_version__",
    "__array_namespace_info__",
    "broadcast_shapes",
    "can_cast",
    "check_api_version",
    "e",
    "finfo",
    "from_dlpack",
    "iinfo",
    "inf",
    "isdtype",
    "nan",
    "newaxis",
    "pi",
    "result_type",
]

import builtins
import math
from typing import Any, NamedTuple

import numpy as np

from . import _dtypes, _namespace, config
from ._device import native_device
from ._dtypes import ALL_DTYPES, KIND_RANK, SCALAR_KIND, DType, promote_types
from .functions._args import as_dtype
from .functions.numbers import isdtype
from .ops import shape
from .tensor import Tensor, method

__array_api_version__ = "2024.12"
# The versions whose functions dualgrad has (each later one adds to the earlier ones).
SUPPORTED_API_VERSIONS = ("2021.12", "2022.12", "2023.12", "2024.12")

e = math.e
inf = math.inf
nan = math.nan
pi = math.pi
newaxis = None


def check_api_version(api_version: str | None) -> None:
    """Raise ``ValueError`` unless ``api_version`` is None or a version dualgrad implements."""
    if api_version is not None and api_version not in SUPPORTED_API_VERSIONS:
        msg = (
            f"dualgrad does not implement Array API version {api_version!r}; "
            f"choose one of: {', '.join(SUPPORTED_API_VERSIONS)} (or None for "
            f"{__array_api_version__})"
        )
        raise ValueError(msg)


def _array_namespace(self: Tensor, api_version: str | None = None) -> Any:
    """The ``dualgrad`` module: code written against the Array API runs on Tensors.

    Raises:
        ValueError: ``api_version`` is not one dualgrad implements.
    """
    check_api_version(api_version)
    return _namespace.package()


method(_array_namespace, "__array_namespace__")


# --- DLPack and devices -----------------------------------------------------------------------
def _exportable(self: Tensor, what: str) -> Any:
    """The array behind ``self``, for a consumer outside the graph (refused if it would drop a
    gradient, as PyTorch's ``__dlpack__`` and ``numpy()`` refuse)."""
    if self.requires_grad or self._tangents is not None:
        msg = (
            f"{what}: can't export a Tensor that requires grad or carries tangents (the "
            "gradient would be dropped); use tensor.detach() first"
        )
        raise RuntimeError(msg)
    return self._array


def _dlpack(
    self: Tensor,
    /,
    *,
    stream: Any = None,
    max_version: tuple[int, int] | None = None,
    dl_device: tuple[Any, int] | None = None,
    copy: builtins.bool | None = None,
) -> Any:
    """The backend array's DLPack capsule, so that ``from_dlpack`` of any library reads the
    Tensor's memory.

    Raises:
        RuntimeError: the Tensor requires grad (detach it first).
    """
    array = _exportable(self, "__dlpack__")
    given = {"stream": stream, "max_version": max_version, "dl_device": dl_device, "copy": copy}
    return array.__dlpack__(**{key: value for key, value in given.items() if value is not None})


def _dlpack_device(self: Tensor, /) -> tuple[Any, int]:
    """The DLPack device type and id of the backend array (``(1, 0)``: the CPU)."""
    return self._array.__dlpack_device__()


def _to_device(self: Tensor, device: Any, /, *, stream: Any = None) -> Tensor:
    """This Tensor on ``device``: itself if it is there already, else a copy there.

    Raises:
        ValueError: the Tensor requires grad and ``device`` is another device (the graph does
            not follow a copy between devices; make the leaf on that device instead).
    """
    if device == self.device:
        return self
    if self.requires_grad or self._tangents is not None:
        msg = (
            f"to_device: a Tensor that requires grad cannot move from device {self.device!r} "
            f"to {device!r} with its graph; create the leaf on that device (device= of "
            "dualgrad.asarray)"
        )
        raise ValueError(msg)
    from array_api_compat import to_device

    kwargs = {} if stream is None else {"stream": stream}
    return Tensor._wrap(to_device(self._array, device, **kwargs), self._backend)


method(_dlpack, "__dlpack__")
method(_dlpack_device, "__dlpack_device__")
method(_to_device, "to_device")


def broadcast_shapes(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape the given shapes broadcast to (``()`` for none).

    Raises:
        ValueError: the shapes cannot be broadcast together.
    """
    if not shapes:
        return ()
    return shape.broadcast_shapes("broadcast_shapes", *(tuple(s) for s in shapes))


# --- dtypes -----------------------------------------------------------------------------------
def _dtype_of(x: Any, op_name: str) -> DType:
    if isinstance(x, Tensor):
        return x.dtype
    try:
        return as_dtype(x)
    except TypeError:
        msg = f"{op_name}: expected a dtype or a Tensor, got {x!r}"
        raise TypeError(msg) from None


class finfo_object(NamedTuple):
    """Machine limits of a floating dtype, as the standard's ``finfo`` gives them."""

    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: DType


class iinfo_object(NamedTuple):
    """Machine limits of an integer dtype, as the standard's ``iinfo`` gives them."""

    bits: int
    max: int
    min: int
    dtype: DType


def finfo(type: Any, /) -> finfo_object:
    """Limits of a real or complex floating dtype (of its real part for complex ones).

    Raises:
        TypeError: ``type`` is not a floating dtype or a floating Tensor.
    """
    dtype = _dtype_of(type, "finfo")
    if dtype.kind not in "fc":
        msg = f"finfo: expected a floating dtype, got {dtype}; use iinfo for integer dtypes"
        raise TypeError(msg)
    # a complex dtype's limits are those of its real and imaginary parts' dtype
    real = dtype if dtype.kind == "f" else _dtypes.BY_NAME[f"float{dtype.itemsize * 4}"]
    info = np.finfo(real.name)
    return finfo_object(
        int(info.bits),
        float(info.eps),
        float(info.max),
        float(info.min),
        float(info.smallest_normal),
        real,
    )


def iinfo(type: Any, /) -> iinfo_object:
    """Limits of an integer dtype.

    Raises:
        TypeError: ``type`` is not an integer dtype or an integer Tensor.
    """
    dtype = _dtype_of(type, "iinfo")
    if dtype.kind not in "iu":
        msg = f"iinfo: expected an integer dtype, got {dtype}; use finfo for floating dtypes"
        raise TypeError(msg)
    info = np.iinfo(dtype.name)
    return iinfo_object(int(info.bits), int(info.max), int(info.min), dtype)


def result_type(*arrays_and_dtypes: Any) -> DType:
    """The dtype the operands promote to: dtypes and Tensors promote by the standard's rules,
    Python scalars are weak (they keep the array's dtype unless of a higher kind).

    Raises:
        ValueError: nothing was given, or only Python scalars.
    """
    dtypes = [
        x.dtype if isinstance(x, Tensor) else as_dtype(x)
        for x in arrays_and_dtypes
        if type(x) not in SCALAR_KIND
    ]
    if not dtypes:
        msg = "result_type: give at least one dtype or Tensor (Python scalars alone are weak)"
        raise ValueError(msg)
    out = dtypes[0]
    for dtype in dtypes[1:]:
        out = promote_types(out, dtype)
    for x in arrays_and_dtypes:
        kind = SCALAR_KIND.get(type(x))
        if kind is not None and KIND_RANK[kind] > KIND_RANK[out.kind]:
            out = config.get_default_dtype() if kind == "f" else _dtypes.complex64
            if kind == "c" and config.get_default_dtype() is _dtypes.float64:
                out = _dtypes.complex128
    return out


def can_cast(from_: Any, to: DType, /) -> builtins.bool:
    """Whether the standard's promotion rules convert ``from_`` (a dtype or Tensor) to ``to``:
    within a kind to one at least as wide (signed and unsigned mixing as promotion does), and
    real floating to complex floating of at least twice the width."""
    source, target = _dtype_of(from_, "can_cast"), as_dtype(to)
    if source.kind == "f" and target.kind == "c":
        return target.itemsize >= 2 * source.itemsize
    if KIND_RANK[source.kind] != KIND_RANK[target.kind]:
        return False
    try:
        return promote_types(source, target) is target
    except TypeError:  # uint64 and a signed integer dtype
        return False


def from_dlpack(x: Any, /, *, device: Any = None, copy: builtins.bool | None = None) -> Tensor:
    """A Tensor on the active backend sharing (or copying) the memory of a DLPack producer."""
    backend = config.get_backend()
    given = {"device": native_device(backend, device), "copy": copy}
    kwargs = {key: value for key, value in given.items() if value is not None}  # copy=False too
    return Tensor._wrap(backend.namespace.from_dlpack(x, **kwargs), backend)


# --- __array_namespace_info__ -----------------------------------------------------------------
class Info:
    """The active backend's capabilities, devices and dtypes, as dualgrad presents them."""

    __module__ = "dualgrad"

    def __init__(self) -> None:
        self._backend = config.get_backend()
        get_info = getattr(self._backend.namespace, "__array_namespace_info__", None)
        self._native = get_info() if get_info is not None else None

    def capabilities(self) -> dict[str, Any]:
        """``boolean indexing`` and ``data-dependent shapes`` (False on lazy backends), and
        ``max dimensions``."""
        eager = not getattr(self._backend, "lazy", False)
        native = self._native.capabilities() if self._native is not None else {}
        return {
            "boolean indexing": eager,
            "data-dependent shapes": eager,
            "max dimensions": native.get("max dimensions"),
        }

    def default_device(self) -> Any:
        """The backend's default device."""
        return self._native.default_device() if self._native is not None else None

    def devices(self) -> list[Any]:
        """The backend's devices."""
        return list(self._native.devices()) if self._native is not None else [None]

    def default_dtypes(self, *, device: Any = None) -> dict[str, DType]:
        """dualgrad's defaults: ``get_default_dtype()`` for floats, int64 for integers."""
        real = config.get_default_dtype()
        return {
            "real floating": real,
            "complex floating": _dtypes.complex128
            if real is _dtypes.float64
            else _dtypes.complex64,
            "integral": _dtypes.int64,
            "indexing": _dtypes.int64,
        }

    def dtypes(self, *, device: Any = None, kind: Any = None) -> dict[str, DType]:
        """The standard's dtypes the backend has, by name, optionally only those of ``kind``
        (a kind name or a tuple of them, as ``isdtype`` takes). float16, which dualgrad has
        beside the standard (as PyTorch does), is not one of them."""
        available = {}
        for dtype in ALL_DTYPES:
            if dtype is _dtypes.float16 or (kind is not None and not isdtype(dtype, kind)):
                continue
            try:
                self._backend.native_dtype(dtype)
            except TypeError:
                continue  # float64 on JAX without 64-bit mode, say
            available[dtype.name] = dtype
        return available


def __array_namespace_info__() -> Info:
    """The inspection object of the standard, for the active backend."""
    return Info()
