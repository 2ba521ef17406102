"""Converting tensors as PyTorch's Tensor methods do: ``to(dtype | device | other)``, ``cpu()``,
``cuda()``, ``type()``, ``float()`` and friends, ``new_zeros`` and friends, and ``data``.

A device move happens only between devices the tensor's backend has (``dualgrad._device``);
a request for one it lacks raises, naming those it has. Moving keeps no graph: a tensor that
requires grad is moved before it is computed with (``model.to(device)``, ``x.to(device)`` on the
data), as PyTorch programs do.
"""

from __future__ import annotations

__all__ = ["LEGACY_TYPES", "LegacyTensorType", "parse_to_args"]

from typing import Any

from .. import _device
from .._dtypes import BY_NAME, DType
from ..tensor import Tensor, data_alias, method
from ._args import as_dtype
from .creation import full, legacy_tensor, tensor
from .elementwise import astype

# PyTorch's legacy tensor type names, as ``Tensor.type()`` gives them.
_TYPE_NAMES = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "float16": "HalfTensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "int16": "ShortTensor",
    "int8": "CharTensor",
    "uint8": "ByteTensor",
    "bool": "BoolTensor",
    "complex64": "ComplexFloatTensor",
    "complex128": "ComplexDoubleTensor",
}
_DTYPE_OF_TYPE_NAME = {name: BY_NAME[dtype] for dtype, name in _TYPE_NAMES.items()}


def parse_to_args(
    args: tuple[Any, ...], dtype: Any, device: Any, op_name: str
) -> tuple[Any, DType | None]:
    """The (device, dtype) that ``to(*args, dtype=..., device=...)`` asks for, PyTorch's way:
    a Tensor gives both, a device (or a device string such as ``"cpu"``) the device, anything
    else (a dtype or its name) the dtype.

    Raises:
        TypeError: more than two positional arguments, or one given twice.
    """
    if len(args) > 2:
        msg = f"{op_name}: expected at most a device and a dtype positionally, got {len(args)}"
        raise TypeError(msg)
    found: dict[str, Any] = {}
    for arg in args:
        if isinstance(arg, Tensor):
            pairs = {"device": arg.device, "dtype": arg.dtype}
        elif isinstance(arg, _device.device) or (isinstance(arg, str) and arg not in BY_NAME):
            pairs = {"device": arg}
        else:
            pairs = {"dtype": arg}
        for key, value in pairs.items():
            if key in found:
                msg = f"{op_name}: the {key} is given twice ({found[key]!r} and {value!r})"
                raise TypeError(msg)
            found[key] = value
    for key, value in (("device", device), ("dtype", dtype)):
        if value is not None:
            if key in found:
                msg = f"{op_name}: the {key} is given twice ({found[key]!r} and {value!r})"
                raise TypeError(msg)
            found[key] = value
    requested_dtype = found.get("dtype")
    return found.get("device"), None if requested_dtype is None else as_dtype(requested_dtype)


def moved(x: Tensor, requested: Any, op_name: str) -> Tensor:
    """``x`` on device ``requested`` of its backend: ``x`` itself if it is there already.

    Raises:
        RuntimeError: the backend has no such device, or ``x`` carries a graph or tangents.
    """
    native = _device.native_device(x._backend, _device.device(requested))
    if _device.device_of_array(x._array) == native:
        return x
    if x._requires_grad or x._tangents is not None:
        msg = (
            f"{op_name}: moving a tensor that requires grad to {requested!s} would cut its "
            "gradient's way back; move the leaves before computing with them "
            "(model.to(device), inputs.to(device)), or detach() first"
        )
        raise RuntimeError(msg)
    from array_api_compat import to_device

    return Tensor._wrap(to_device(x._array, native), x._backend)


def _to(
    self: Tensor,
    *args: Any,
    dtype: Any = None,
    device: Any = None,
    non_blocking: bool = False,
    copy: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """``self`` on another device and/or in another dtype, as PyTorch's ``Tensor.to``:
    ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)`` (its device and dtype),
    or by keyword. Returns ``self`` when nothing changes (unless ``copy=True``); a dtype change
    stays in the graph (the gradient converts back).

    Raises:
        RuntimeError: the backend has no such device.
        TypeError: an unknown dtype, or a device or dtype given twice.
    """
    requested_device, requested_dtype = parse_to_args(args, dtype, device, "to")
    result = self if requested_device is None else moved(self, requested_device, "to")
    if requested_dtype is not None:
        result = astype(result, requested_dtype, copy=False)
    return result.clone() if copy and result is self else result


def _cpu(self: Tensor) -> Tensor:
    """``self`` on the host (itself if it is there already)."""
    return moved(self, "cpu", "cpu")


def _cuda(self: Tensor, device: Any = None, non_blocking: bool = False) -> Tensor:
    """``self`` on a CUDA GPU of its backend (``device``: an index or ``"cuda:N"``).

    Raises:
        RuntimeError: the backend has no CUDA GPU (NumPy never has one).
    """
    if device is None or isinstance(device, int):
        device = _device.device("cuda", device)
    return moved(self, device, "cuda")


def _is_cuda(self: Tensor) -> bool:
    """Whether the tensor lives on a CUDA GPU."""
    return self.device.type == "cuda"


def _type(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    """With no argument, PyTorch's type name (``'torch.FloatTensor'``); with a dtype (or such a
    name), ``self`` converted to it."""
    if dtype is None:
        prefix = "torch.cuda." if self.device.type == "cuda" else "torch."
        return prefix + _TYPE_NAMES[self.dtype.name]
    if isinstance(dtype, str) and dtype.rsplit(".", 1)[-1] in _DTYPE_OF_TYPE_NAME:
        dtype = _DTYPE_OF_TYPE_NAME[dtype.rsplit(".", 1)[-1]]
    if isinstance(dtype, LegacyTensorType):
        dtype = dtype.dtype
    return astype(self, as_dtype(dtype), copy=False)


class LegacyTensorType(type):
    """The type of ``torch.FloatTensor``, ``torch.LongTensor`` and their kin: calling one makes
    a tensor of its dtype from data or sizes, as ``torch.Tensor(...)`` does in the default
    dtype (``torch.LongTensor([1, 2])``, ``torch.FloatTensor(2, 3)``); ``isinstance`` checks a
    tensor's dtype; ``x.type(torch.LongTensor)`` converts."""

    dtype: DType

    def __call__(cls, *args: Any) -> Tensor:  # type: ignore[override]
        return legacy_tensor(args, cls.dtype)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor) and instance.dtype is cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


LEGACY_TYPES = {
    name: LegacyTensorType(name, (), {"dtype": BY_NAME[dtype], "__module__": "torch"})
    for dtype, name in _TYPE_NAMES.items()
}


def _is_floating_point(self: Tensor) -> bool:
    """Whether the dtype is a real floating one."""
    return self.dtype.is_floating_point


def _converter(dtype_name: str) -> Any:
    def convert(self: Tensor) -> Tensor:
        return astype(self, BY_NAME[dtype_name], copy=False)

    convert.__doc__ = f"``self`` as {dtype_name}."
    return convert


# --- new tensors like this one ----------------------------------------------------------------
def _new_full(
    self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A new tensor of ``size`` filled with ``fill_value``, of ``self``'s dtype and backend."""
    from ..config import use_backend

    with use_backend(self._backend.name):
        return full(
            size,
            fill_value,
            dtype=self.dtype if dtype is None else dtype,
            requires_grad=requires_grad,
        )


def _filler(value: float) -> Any:
    def new(self: Tensor, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
        return _new_full(self, shape, value, dtype=dtype, requires_grad=requires_grad)

    new.__doc__ = f"A new tensor of the given size filled with {value}, of ``self``'s dtype."
    return new


def _new_tensor(
    self: Tensor, data: Any, *, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A new leaf tensor holding ``data``, of ``self``'s dtype and backend by default."""
    from ..config import use_backend

    with use_backend(self._backend.name):
        return tensor(
            data, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad
        )


method(_to, "to")
method(_cpu, "cpu")
method(_cuda, "cuda")
method(property(_is_cuda), "is_cuda")
method(_type, "type")
method(_is_floating_point, "is_floating_point")
for _method_name, _dtype_name in (
    ("float", "float32"),
    ("double", "float64"),
    ("half", "float16"),
    ("long", "int64"),
    ("int", "int32"),
    ("short", "int16"),
    ("bool", "bool"),
):
    method(_converter(_dtype_name), _method_name)
method(_new_full, "new_full")
method(_filler(0), "new_zeros", "new_empty")
method(_filler(1), "new_ones")
method(_new_tensor, "new_tensor")
method(property(data_alias, Tensor._set_data), "data")
