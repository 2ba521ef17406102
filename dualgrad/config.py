"""Process-wide settings: the default floating dtype, the active backend and the AD mode.

``set_*`` change the default for every thread; ``use_backend`` and ``use_mode`` override it for
the current thread (or asyncio task) only, through a ``ContextVar``, and restore it on exit.
"""

from __future__ import annotations

__all__ = [
    "MODES",
    "get_backend",
    "get_default_dtype",
    "get_mode",
    "set_backend",
    "set_default_dtype",
    "set_mode",
    "use_backend",
    "use_mode",
]

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar

from . import _dtypes, _settings_used
from ._dtypes import DType
from .backends import Backend, check_backend_name, get_backend_by_name


def _environment(variable: str, default: str) -> str:
    """The value of an environment variable, ``default`` where it is unset or empty."""
    return os.environ.get(variable) or default


_default_dtype: DType = _dtypes.float32
# Checked at import, so that a typo fails at once and names the variable; the backend itself
# (and its library) is created on first use.
_default_backend_name = check_backend_name(
    _environment("DUALGRAD_BACKEND", "numpy"), "DUALGRAD_BACKEND"
)
_backend_override: ContextVar[Backend | None] = ContextVar("dualgrad_backend", default=None)

MODES = ("reverse", "forward")


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
def use_backend_instance(backend: Backend) -> Iterator[Backend]:
    """Create tensors on ``backend`` (an object, not a name) inside the block, in this thread
    only: vmap's levels, which have no name to look up."""
    token = _backend_override.set(backend)
    try:
        yield backend
    finally:
        _backend_override.reset(token)


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[Backend]:
    """Create tensors on backend ``name`` inside the block, in this thread only."""
    token = _backend_override.set(get_backend_by_name(name))
    try:
        yield _backend_override.get()  # type: ignore[misc]
    finally:
        _backend_override.reset(token)


# --- the AD mode behind backward() ----------------------------------------------------------
def _checked_mode(mode: str, where: str) -> str:
    if mode not in MODES:
        msg = f"{where}: unknown mode {mode!r}; choose one of: {', '.join(MODES)}"
        raise ValueError(msg)
    return mode


_default_mode = _checked_mode(_environment("DUALGRAD_MODE", "reverse"), "DUALGRAD_MODE")
_mode_override: ContextVar[str | None] = ContextVar("dualgrad_mode", default=None)
_settings_used.forward_mode = _default_mode == "forward"


def get_mode() -> str:
    """The engine behind ``backward()``: ``"reverse"`` (the tape) or ``"forward"`` (duals)."""
    return _mode_override.get() or _default_mode


def set_mode(mode: str) -> None:
    """Choose the engine behind ``backward()`` for every thread.

    ``"reverse"`` records a tape and walks it backwards: one pass per output, whatever the
    number of inputs. ``"forward"`` seeds every leaf that requires grad with an identity tangent
    block and pushes the blocks through each operation as it runs: one pass per input element,
    whatever the number of outputs, and nothing is recorded. Both give the same ``.grad``
    wherever every derivative along the way is finite (the forward-mode docs list where an
    infinite or NaN one makes them differ).

    Raises:
        ValueError: unknown mode (the message lists the valid ones).
    """
    global _default_mode
    _default_mode = _checked_mode(mode, "set_mode")
    if mode == "forward":
        _settings_used.forward_mode = True


@contextlib.contextmanager
def use_mode(mode: str) -> Iterator[str]:
    """Use AD mode ``mode`` inside the block, in this thread only."""
    if _checked_mode(mode, "use_mode") == "forward":
        _settings_used.forward_mode = True
    token = _mode_override.set(mode)
    try:
        yield mode
    finally:
        _mode_override.reset(token)
