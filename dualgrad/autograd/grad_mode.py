"""Grad mode: whether operations record the tape. Per thread, through a ContextVar."""

from __future__ import annotations

__all__ = ["enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled"]

import functools
from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType
from typing import Any, TypeVar

_grad_enabled: ContextVar[bool] = ContextVar("dualgrad_grad_enabled", default=True)
# Bound method of the ContextVar: the dispatcher calls this on every operation.
is_grad_enabled: Callable[[], bool] = _grad_enabled.get

F = TypeVar("F", bound=Callable[..., Any])


# The engine's walk sets grad mode through these (bound methods: no context-manager objects in
# the hot loop of every training step); ``set_for_backward`` returns the token the other takes.
set_for_backward: Callable[[bool], Any] = _grad_enabled.set
reset_after_backward: Callable[[Any], None] = _grad_enabled.reset


class _GradModeContext:
    """Sets grad mode inside a ``with`` block, or around every call of a decorated function."""

    _enabled: bool

    def __init__(self) -> None:
        self._tokens: list[Any] = []  # one per nested ``with`` of this same object

    def __enter__(self) -> None:
        self._tokens.append(_grad_enabled.set(self._enabled))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _grad_enabled.reset(self._tokens.pop())

    def __call__(self, function: F) -> F:
        enabled = self._enabled

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _grad_enabled.set(enabled)
            try:
                return function(*args, **kwargs)
            finally:
                _grad_enabled.reset(token)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradModeContext):
    """Context manager and decorator: operations inside record nothing.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor(1.0, requires_grad=True)
        >>> with dualgrad.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    _enabled = False


class enable_grad(_GradModeContext):
    """Context manager and decorator: turns recording back on inside ``no_grad``."""

    _enabled = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode: as a function call it sets it for this thread; as a context it restores.

    Example:
        >>> import dualgrad
        >>> with dualgrad.set_grad_enabled(False):
        ...     dualgrad.is_grad_enabled()
        False
    """

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self._enabled = bool(mode)
        self._previous = _grad_enabled.get()
        _grad_enabled.set(self._enabled)  # a plain call takes effect at once, as in PyTorch

    def __enter__(self) -> None:
        pass  # already in effect since __init__

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _grad_enabled.set(self._previous)

    def __call__(self, function: F) -> F:
        _grad_enabled.set(self._previous)  # as a decorator it applies per call, not from now on
        return super().__call__(function)
