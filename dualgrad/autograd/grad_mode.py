"""Grad mode: whether operations record the tape. Per thread, through a ContextVar."""

from __future__ import annotations

__all__ = ["enable_grad", "inference_mode", "is_grad_enabled", "no_grad", "set_grad_enabled"]

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from ._switch import Switch, SwitchNow

_grad_enabled: ContextVar[bool] = ContextVar("dualgrad_grad_enabled", default=True)
# Bound method of the ContextVar: the dispatcher calls this on every operation.
is_grad_enabled: Callable[[], bool] = _grad_enabled.get

# The engine's walk sets grad mode through these (bound methods: no context-manager objects in
# the hot loop of every training step); ``set_for_backward`` returns the token the other takes.
set_for_backward: Callable[[bool], Any] = _grad_enabled.set
reset_after_backward: Callable[[Any], None] = _grad_enabled.reset


class no_grad(Switch):
    """Context manager and decorator: operations inside record nothing.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor(1.0, requires_grad=True)
        >>> with dualgrad.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    variable = _grad_enabled

    def __init__(self) -> None:
        super().__init__(False)


class inference_mode(Switch):
    """PyTorch's ``inference_mode``: for dualgrad the same as ``no_grad`` (nothing is recorded);
    ``inference_mode(False)`` leaves grad mode as it is.

    Example:
        >>> import dualgrad
        >>> with dualgrad.inference_mode():
        ...     y = dualgrad.ones(1, requires_grad=True) * 2
        >>> y.requires_grad
        False
    """

    variable = _grad_enabled

    def __init__(self, mode: bool = True) -> None:
        super().__init__(False)
        self._mode = mode

    def __enter__(self) -> None:
        self._value = False if self._mode else _grad_enabled.get()
        super().__enter__()

    def __call__(self, function: Any) -> Any:
        return super().__call__(function) if self._mode else function


class enable_grad(Switch):
    """Context manager and decorator: turns recording back on inside ``no_grad``."""

    variable = _grad_enabled

    def __init__(self) -> None:
        super().__init__(True)


class set_grad_enabled(SwitchNow):
    """Set grad mode: as a function call it sets it for this thread; as a context it restores.

    Example:
        >>> import dualgrad
        >>> with dualgrad.set_grad_enabled(False):
        ...     dualgrad.is_grad_enabled()
        False
    """

    variable = _grad_enabled

    def __init__(self, mode: bool) -> None:
        super().__init__(bool(mode))
