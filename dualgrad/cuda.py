"""``torch.cuda``'s questions, answered for the active backend: whether it has a CUDA GPU and
how many. NumPy never has one; JAX has one where a GPU build of JAX sees a GPU."""

from __future__ import annotations

__all__ = ["device_count", "is_available"]

from . import _device, config


def is_available() -> bool:
    """Whether the active backend can put arrays on a CUDA GPU.

    Example:
        >>> import dualgrad
        >>> with dualgrad.use_backend("numpy"):
        ...     dualgrad.cuda.is_available()
        False
    """
    return _device.is_available(config.get_backend(), "cuda")


def device_count() -> int:
    """How many CUDA GPUs the active backend sees (0 on NumPy)."""
    return _device.device_count(config.get_backend(), "cuda")
