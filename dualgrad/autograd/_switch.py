"""The base of the context-variable switches: grad mode and anomaly mode.

Each setting is a ContextVar, so it is per thread (and per asyncio task). A switch sets it inside
a ``with`` block or around every call of a decorated function (``no_grad``, ``detect_anomaly``);
a switch that takes effect when called (``set_grad_enabled``, ``set_detect_anomaly``) also works
as a plain call, as in PyTorch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType
from typing import Any, ClassVar, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Switch:
    """Sets ``variable`` to ``value`` inside a ``with`` block, or around every call of a
    decorated function. Subclasses name the variable."""

    variable: ClassVar[ContextVar[Any]]

    def __init__(self, value: Any) -> None:
        self._value = value
        self._tokens: list[Any] = []  # one per nested ``with`` of this same object

    def __enter__(self) -> None:
        self._tokens.append(self.variable.set(self._value))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.variable.reset(self._tokens.pop())

    def __call__(self, function: F) -> F:
        variable, value = self.variable, self._value

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = variable.set(value)
            try:
                return function(*args, **kwargs)
            finally:
                variable.reset(token)

        return wrapper  # type: ignore[return-value]


class SwitchNow(Switch):
    """A switch that takes effect when created: a plain call sets the value for this thread; as
    a context manager it restores the previous value on exit; as a decorator, per call."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self._previous = self.variable.get()
        self.variable.set(value)  # a plain call takes effect at once, as in PyTorch

    def __enter__(self) -> None:
        pass  # already in effect since __init__

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.variable.set(self._previous)

    def __call__(self, function: F) -> F:
        self.variable.set(self._previous)  # as a decorator it applies per call, not from now on
        return super().__call__(function)
