"""``torch.backends.mps``'s questions, answered for the active backend: whether it has an Apple
GPU (Metal Performance Shaders, as JAX's Metal plugin gives it)."""

from __future__ import annotations

__all__ = ["is_available", "is_built"]

from .. import _device, config


def is_available() -> bool:
    """Whether the active backend can put arrays on an Apple GPU.

    Example:
        >>> import dualgrad
        >>> with dualgrad.use_backend("numpy"):
        ...     dualgrad.backends.mps.is_available()
        False
    """
    return _device.is_available(config.get_backend(), "mps")


def is_built() -> bool:
    """Whether the active backend was built with Apple GPU support: ``is_available()``, since
    a backend's devices are known only at run time."""
    return is_available()
