"""NaN-safe derivatives: a zero cotangent or tangent stays zero through every elementwise rule.

An elementwise rule multiplies the incoming cotangent (or tangent) by the operation's local
derivative. Where that derivative is infinite or NaN (``log`` at 0, ``x / 0``, an operation on a
NaN that a later ``where`` or masked assignment discards), ``0 * inf`` makes NaN, even though the
zero says the output there does not matter: the ``where`` trap. PyTorch and JAX give NaN too.
While NaN-safe mode is on, an elementwise rule's result is zero wherever the cotangent (reverse
mode) or the tangent (forward mode) it was given is zero, so the untaken branch's NaN stays out
of the gradient, as in ForwardDiff.jl's NaN-safe mode. It costs one comparison and one
``where`` per elementwise rule, so it is off by default. The setting is per thread (and per
asyncio task), through a ContextVar, like grad mode; it applies when the derivatives are
computed (``backward`` in reverse mode, each operation in forward mode).
"""

from __future__ import annotations

__all__ = ["is_nan_safe_mode_enabled", "nan_safe_mode", "set_nan_safe_mode"]

from contextvars import ContextVar

from .. import _settings_used
from ._switch import Switch, SwitchNow

_state: ContextVar[bool] = ContextVar("dualgrad_nan_safe", default=False)


def is_nan_safe_mode_enabled() -> bool:
    """Whether NaN-safe mode is on in this thread."""
    return _state.get()


class nan_safe_mode(Switch):
    """Context manager and decorator: NaN-safe derivatives inside it.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([0.0, 4.0], requires_grad=True)
        >>> y = dualgrad.where(x > 0, dualgrad.sqrt(x), 0.0)  # sqrt'(0) is infinite
        >>> with dualgrad.autograd.nan_safe_mode():
        ...     y.sum().backward()
        >>> x.grad
        tensor([0.0000, 0.2500])
    """

    variable = _state

    def __init__(self) -> None:
        super().__init__(True)
        _settings_used.nan_safe = True


class set_nan_safe_mode(SwitchNow):
    """Turn NaN-safe mode on or off: called, for this thread; in ``with``, for the block.

    Args:
        mode: on or off.
    """

    variable = _state

    def __init__(self, mode: bool) -> None:
        if mode:
            _settings_used.nan_safe = True
        super().__init__(bool(mode))
