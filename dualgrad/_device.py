"""Devices as PyTorch names them (``device("cpu")``, ``device("cuda:0")``), mapped onto the
devices each backend really has.

A backend's arrays live on its library's devices (NumPy: the host only; JAX: its CPU, GPUs or
TPUs). ``device`` is PyTorch's face on them: a type (``"cpu"``, ``"cuda"``, ``"tpu"``) and an
optional index. A request is resolved against the active backend's devices and never quietly
ignored: asking NumPy for ``"cuda"`` raises, naming the devices it has.
"""

from __future__ import annotations

__all__ = [
    "available_devices",
    "device",
    "device_count",
    "device_of",
    "get_default_device",
    "is_available",
    "native_device",
    "set_default_device",
]

import re
from typing import Any

from .backends import Backend

_PATTERN = re.compile(r"^([a-z]+)(?::(\d+))?$")
# What JAX calls a platform (lower-cased: its Metal plugin says "METAL"), as PyTorch names the
# device type.
_PLATFORM_TYPES = {
    "gpu": "cuda",
    "cuda": "cuda",
    "rocm": "cuda",
    "cpu": "cpu",
    "tpu": "tpu",
    "metal": "mps",
}


class device:
    """A device by type and index, as ``torch.device``: ``device("cpu")``, ``device("cuda:0")``,
    ``device("cuda", 1)``.

    Raises:
        ValueError: the string is not ``type`` or ``type:index``.

    Example:
        >>> import dualgrad
        >>> dualgrad.device("cpu")
        device(type='cpu')
        >>> str(dualgrad.device("cuda", 0))
        'cuda:0'
    """

    __slots__ = ("_native", "index", "type")

    def __init__(self, type: Any, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        match = _PATTERN.match(type) if isinstance(type, str) else None
        if match is None or (match.group(2) is not None and index is not None):
            msg = (
                f"device: expected a device type such as 'cpu' or 'cuda', optionally with an "
                f"index ('cuda:0'), got {type!r}"
            )
            raise ValueError(msg)
        self.type: str = match.group(1)
        self.index: int | None = int(match.group(2)) if match.group(2) is not None else index
        self._native: Any = None  # the backend's device object, when made from one

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:
                return False
        if isinstance(other, device):
            return (self.type, self.index) == (other.type, other.index)
        return self._native is not None and bool(self._native == other)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


def _as_torch_device(native: Any) -> device:
    """The PyTorch-style name of one of a library's devices."""
    if isinstance(native, device):
        return native
    platform = getattr(native, "platform", None)  # JAX
    if platform is not None:
        kind = _PLATFORM_TYPES.get(platform.lower(), platform.lower())
        named = device(kind, None if kind == "cpu" else native.id)
    elif isinstance(getattr(native, "type", None), str):  # torch.device
        named = device(native.type, getattr(native, "index", None))
    elif type(native).__module__.startswith("cupy"):
        named = device("cuda", native.id)
    else:  # NumPy, array_api_strict, Dask: "cpu" or a named host device
        text = str(native).lower()
        named = device("cpu") if "cpu" in text or not _PATTERN.match(text) else device(text)
    named._native = native
    return named


def available_devices(backend: Backend) -> list[device]:
    """The devices ``backend`` can put arrays on, the default one first."""
    namespace = backend.namespace
    info = getattr(namespace, "__array_namespace_info__", None)
    natives: list[Any] = []
    if info is not None:
        info = info()
        natives = [info.default_device(), *info.devices()]
    natives = [native for native in natives if native is not None]
    if not natives:
        natives = [device_of_array(namespace.zeros(()))]
    found: dict[device, device] = {}
    for native in natives:
        named = _as_torch_device(native)
        found.setdefault(named, named)
    return list(found.values())


def device_of_array(array: Any) -> Any:
    """The library's device object of ``array``."""
    from array_api_compat import device as compat_device

    return compat_device(array)


_HOST = device("cpu")
_HOST._native = "cpu"


def device_of(array: Any) -> device:
    """``array``'s device, as PyTorch names it (``device(type='cpu')``)."""
    native = device_of_array(array)
    return _HOST if native == "cpu" else _as_torch_device(native)


def native_device(backend: Backend, requested: Any) -> Any:
    """The device of ``backend``'s library that ``requested`` names (a ``device``, a string such
    as ``"cuda:0"``, or one of the library's device objects), or None for the default.

    Raises:
        RuntimeError: the backend has no such device; the message lists those it has.
    """
    if requested is None:
        requested = _default_device
        if requested is None:
            return None
    if not isinstance(requested, str | device):
        return requested  # the library's own device object: the Array API's way
    wanted = device(requested)
    devices = available_devices(backend)
    for candidate in devices:
        if candidate.type == wanted.type and wanted.index in (None, candidate.index):
            return candidate._native
    for candidate in devices:  # "cpu:0" for the host that PyTorch calls "cpu"
        if candidate.type == wanted.type and candidate.index is None and wanted.index == 0:
            return candidate._native
    return _no_device(backend, wanted, devices)


def _no_device(backend: Backend, wanted: device, devices: list[device]) -> Any:
    names = ", ".join(str(candidate) for candidate in devices)
    msg = (
        f"device {str(wanted)!r} is not available on the {backend.name} backend, whose devices "
        f"are: {names}; use one of those, or a backend that has that device "
        "(dualgrad.set_backend('jax') with a GPU build of JAX, for 'cuda')"
    )
    raise RuntimeError(msg)


def is_available(backend: Backend, kind: str) -> bool:
    """Whether ``backend`` has a device of type ``kind`` (``"cuda"``, ...)."""
    return device_count(backend, kind) > 0


def device_count(backend: Backend, kind: str) -> int:
    """How many devices of type ``kind`` ``backend`` has."""
    return sum(candidate.type == kind for candidate in available_devices(backend))


# --- the default device -----------------------------------------------------------------------
_default_device: device | None = None


def set_default_device(requested: Any) -> None:
    """Make new tensors land on ``requested`` (None: each backend's default), as
    ``torch.set_default_device``; the active backend must have that device.

    Raises:
        RuntimeError: the active backend has no such device.
    """
    global _default_device
    if requested is None:
        _default_device = None
        return
    from .config import get_backend

    wanted = device(requested) if isinstance(requested, str | device) else None
    if wanted is None:
        wanted = _as_torch_device(requested)
    native_device(get_backend(), wanted)  # validate before changing anything
    _default_device = wanted


def get_default_device() -> device:
    """The device new tensors land on, as ``torch.get_default_device``."""
    from .config import get_backend

    if _default_device is not None:
        return _default_device
    return available_devices(get_backend())[0]
