"""Process-wide settings: the default floating dtype and the active backend.

``set_*`` change the default for every thread; ``use_backend`` overrides it for the current
thread (or asyncio task) only, through a ``ContextVar``, and restores it on exit.
"""

from __future__ import annotations

__all__ = ["get_backend", "get_default_dtype", "set_backend", "set_default_dtype", "use_backend"]

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar

from . import _dtypes
from ._dtypes import DType
from .backends import Backend, get_backend_by_name

_default_dtype: DType = _dtypes.float32
_default_backend_name: str = os.environ.get("DUALGRAD_BACKEND", "numpy")
_backend_override: ContextVar[Backend | None] = ContextVar("dualgrad_backend", default=None)


def set_default_dtype(dtype: DType) -> None:
    """Set the dtype that Python floats become (float32 by default, as in PyTorch).

    Raises:
        TypeError: ``dtype`` is not a real floating dtype.
    """
    global _default_dtype
    if not isinstance(dtype, DType) or not dtype.is_floating_point:
        msg = (
            f"set_default_dtype: expected a floating dtype such as dualgrad.float64, got {dtype!r}"
        )
        raise TypeError(msg)
    _default_dtype = dtype


def get_default_dtype() -> DType:
    """The dtype that Python floats become."""
    return _default_dtype


def get_backend() -> Backend:
    """The backend new tensors are created on."""
    return _backend_override.get() or get_backend_by_name(_default_backend_name)


def set_backend(name: str) -> None:
    """Make ``name`` the default backend for every thread.

    Raises:
        ValueError: unknown backend (the message lists the registered ones).
        ImportError: the backend's library is not installed.
    """
    global _default_backend_name
    get_backend_by_name(name)  # validate (and import) before changing anything
    _default_backend_name = name


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[Backend]:
    """Create tensors on backend ``name`` inside the block, in this thread only."""
    token = _backend_override.set(get_backend_by_name(name))
    try:
        yield _backend_override.get()  # type: ignore[misc]
    finally:
        _backend_override.reset(token)
