"""Anomaly detection: find the operation whose derivative produced NaN, and where it was made.

While anomaly mode is on, every recorded operation remembers the stack of the code that created
it, and derivatives are checked for NaN as they are computed: in reverse mode each vjp's result
(when ``backward`` reaches the node), in forward mode each tangent (when the operation runs). The
first NaN raises a ``RuntimeError`` naming the operation, as PyTorch does, with the forward
traceback. When it is off, nothing is recorded or checked. The setting is per thread (and per
asyncio task), through a ContextVar, like grad mode.
"""

from __future__ import annotations

__all__ = [
    "detect_anomaly",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "set_detect_anomaly",
]

import traceback
import weakref
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from array_api_compat import array_namespace

from .. import _settings_used
from ._switch import Switch, SwitchNow

# (enabled, check_nan)
_state: ContextVar[tuple[bool, bool]] = ContextVar("dualgrad_anomaly", default=(False, True))
# Where each tape node was created, kept only as long as the node lives.
_traces: weakref.WeakKeyDictionary[Any, traceback.StackSummary] = weakref.WeakKeyDictionary()


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on in this thread."""
    return _state.get()[0]


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection, when on, checks derivatives for NaN."""
    return _state.get()[1]


class detect_anomaly(Switch):
    """Context manager and decorator: turn anomaly detection on inside it.

    Args:
        check_nan: raise when a derivative contains NaN (default True); with False, only the
            forward tracebacks are recorded.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor(float("nan"), requires_grad=True)  # say, a bad data point
        >>> with dualgrad.autograd.detect_anomaly():
        ...     y = dualgrad.sqrt(x)
        ...     y.backward()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output. ...
    """

    variable = _state

    def __init__(self, check_nan: bool = True) -> None:
        super().__init__((True, bool(check_nan)))
        _settings_used.anomaly = True


class set_detect_anomaly(SwitchNow):
    """Turn anomaly detection on or off: called, for this thread; in ``with``, for the block.

    Args:
        mode: on or off.
        check_nan: as for ``detect_anomaly``.
    """

    variable = _state

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        if mode:
            _settings_used.anomaly = True
        super().__init__((bool(mode), bool(check_nan)))


# --- the hooks the dispatcher and the engine call while anomaly mode is on --------------------
def _has_nan(array: Any) -> bool:
    array = getattr(array, "_array", array)  # a Tensor (create_graph, nested duals) or an array
    xp = array_namespace(array)
    return bool(xp.any(xp.isnan(array)))


def _forward_traceback(stack: traceback.StackSummary | None) -> str:
    if stack is None:
        return (
            "No forward traceback: the operation ran while anomaly detection was off; turn it "
            "on (dualgrad.autograd.detect_anomaly()) before the forward pass."
        )
    return "Traceback of forward call that caused the error:\n" + "".join(stack.format())


def _nan_error(name: str, index: int, stack: traceback.StackSummary | None) -> RuntimeError:
    return RuntimeError(
        f"Function '{name}' returned nan values in its {index}th output. "
        "Look for the input outside the function's domain (log or sqrt of a negative number, "
        "0/0, inf - inf) in the forward pass below.\n" + _forward_traceback(stack)
    )


def _creation_stack() -> traceback.StackSummary:
    """The current stack, without the dispatcher's frames and this module's."""
    stack = traceback.extract_stack()
    while stack and stack[-1].filename.endswith(("_dispatch.py", "anomaly_mode.py")):
        stack.pop()
    return stack


def recorded(prim: Any, node: Any, tangents: dict[Any, Any] | None) -> None:
    """An operation just ran: remember where its tape node came from; check its tangents."""
    if node is not None and hasattr(node, "__weakref__"):
        _traces[node] = _creation_stack()
    if tangents and is_anomaly_check_nan_enabled():
        for tangent in tangents.values():
            if _has_nan(tangent):
                raise _nan_error(prim.grad_fn_name, 0, _creation_stack())


def check_cotangents(node: Any, cotangents: Iterable[Any]) -> None:
    """Backward just ran ``node``'s vjp rules: raise if an input's cotangent has NaN.

    ``cotangents`` holds one per input, None where the input needs none.
    """
    if not is_anomaly_check_nan_enabled():
        return
    for index, cotangent in enumerate(cotangents):
        if cotangent is not None and _has_nan(cotangent):
            raise _nan_error(node.name(), index, _traces.get(node))
