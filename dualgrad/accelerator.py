"""``torch.accelerator``'s questions, answered for the active backend: whether it has an
accelerator (a GPU, a TPU) and which kind.

PyTorch's tutorials pick their device with it::

    device = (
        torch.accelerator.current_accelerator().type
        if torch.accelerator.is_available()
        else "cpu"
    )

NumPy never has an accelerator; JAX has one where its build sees a GPU or TPU.
"""

from __future__ import annotations

__all__ = ["current_accelerator", "current_device_index", "device_count", "is_available"]

from . import _device, config

# The device types PyTorch counts as accelerators, and JAX's TPUs. Not the host, nor a
# library's devices that hold no data (PyTorch's "meta").
_KINDS = frozenset({"cuda", "mps", "xpu", "tpu", "hpu", "mtia"})


def _accelerators() -> list[_device.device]:
    """The active backend's accelerator devices, in its order."""
    return [d for d in _device.available_devices(config.get_backend()) if d.type in _KINDS]


def is_available() -> bool:
    """Whether the active backend has an accelerator (a GPU, a TPU).

    Example:
        >>> import dualgrad
        >>> with dualgrad.use_backend("numpy"):
        ...     dualgrad.accelerator.is_available()
        False
    """
    return bool(_accelerators())


def current_accelerator(check_available: bool = False) -> _device.device | None:
    """The kind of accelerator the active backend has, as a device without an index
    (``device(type='cuda')``), or None where it has none.

    Args:
        check_available: PyTorch's switch between the accelerator it was built for (False)
            and one that is there at run time (True). A backend's devices are known only at
            run time, so both answer the same.

    Example:
        >>> import dualgrad
        >>> with dualgrad.use_backend("numpy"):
        ...     print(dualgrad.accelerator.current_accelerator())
        None
    """
    del check_available
    accelerators = _accelerators()
    return _device.device(accelerators[0].type) if accelerators else None


def device_count() -> int:
    """How many devices of the active backend's accelerator kind it has (0 without one)."""
    accelerators = _accelerators()
    return sum(d.type == accelerators[0].type for d in accelerators) if accelerators else 0


def current_device_index() -> int:
    """The index of the accelerator device new tensors go to (``get_default_device()``'s where
    it is one, else the first).

    Raises:
        RuntimeError: the active backend has no accelerator (PyTorch's message).
    """
    accelerators = _accelerators()
    if not accelerators:
        msg = "Cannot access accelerator device when none is available."
        raise RuntimeError(msg)
    default = _device.get_default_device()
    index = default.index if default.type == accelerators[0].type else accelerators[0].index
    return 0 if index is None else index
