"""Calling derivative rules: the one place both engines go through.

A rule runs on one of two namespaces, chosen here: the backend's, on raw arrays, when nothing
will differentiate its result (first derivatives: the fast case); or dualgrad's differentiable
namespace, on Tensors, when something will (``create_graph=True``, a tangent of an inner dual
level that outer levels differentiate, a tangent of a value on the tape). The engines say which
case they are in (``differentiable``); this module picks the namespace and calls the rules.
(One case is settled before it gets here: ``forward_ad.push_tangents``' guarded head, for one
input carrying one tangent array and nothing to record, calls the jvp rule on the backend's
namespace itself, the cost of this module's generality being a large share of that case's.)

It is also where broadcasting meets the rules. An elementwise primitive broadcasts its inputs
itself, in both modes (the dispatcher records no ``broadcast_to`` for a bias add), so its rules
may see inputs of different shapes that broadcast together. Each rule gives its result in the
output's shape (a share may lack broadcast axes, which broadcasting supplies); what the rules
cannot do for themselves is done here, with ``ops/shape.py``'s two functions: a cotangent is
summed back to its input's shape (``unbroadcast``), and an input's tangent, which may carry
leading batch axes, is lined up with the output's shape before its rule sees it
(``broadcast_tangent``).

NaN-safe mode (``dualgrad.autograd.nan_safe_mode``) is applied here too: an elementwise rule's
result is zeroed wherever the cotangent or tangent it was given is zero.
"""

from __future__ import annotations

__all__ = ["input_cotangents", "output_tangent"]

from typing import Any

import numpy as np

from . import _namespace, _settings_used
from .autograd.nan_safe_mode import is_nan_safe_mode_enabled
from .ops import Primitive
from .ops.shape import broadcast_tangent, unbroadcast


def _silent_infinities() -> Any:
    """NumPy's warnings off for the x / 0 and 0 * inf whose results NaN-safe mode discards."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


def input_cotangents(
    prim: Primitive,
    params: dict[str, Any],
    parents: list[Any],
    g: Any,
    ans: Any,
    values: Any,
    broadcasts: bool,
    backend: Any,
    differentiable: bool,
) -> list[Any]:
    """Each input's cotangent from ``prim``'s vjp rules, None where its parent is None.

    ``g``, ``ans`` and ``values`` are arrays, or Tensors when ``differentiable``.
    ``broadcasts``: an input's shape may differ from the output's (an elementwise primitive
    broadcast it); its cotangent is then summed back to its shape.
    """
    xp = _namespace.differentiable() if differentiable else backend.xp
    # Plain loops, not comprehensions: this runs once per node of every backward.
    cotangents: list[Any] = []
    i = 0
    if prim.variadic:
        for parent in parents:
            cotangents.append(
                None if parent is None else prim.vjp(xp, g, ans, *values, index=i, **params)
            )
            i += 1
        return cotangents
    rules = prim.vjp
    if prim.elementwise and _settings_used.nan_safe and is_nan_safe_mode_enabled():
        with _silent_infinities():  # the infinities made here are the ones about to be zeroed
            for parent in parents:
                cotangent = None
                if parent is not None:
                    cotangent = _zero_where_zero(xp, g, rules[i](xp, g, ans, *values, **params))
                cotangents.append(cotangent)
                i += 1
    else:
        for parent in parents:
            cotangents.append(None if parent is None else rules[i](xp, g, ans, *values, **params))
            i += 1
    if broadcasts:
        for i, value in enumerate(values):
            cotangent = cotangents[i]
            if cotangent is not None and value.shape != ans.shape:
                if cotangent.shape != g.shape:  # a share may lack broadcast axes (zeros_like(x))
                    cotangent = xp.broadcast_to(cotangent, g.shape)
                cotangents[i] = unbroadcast(xp, cotangent, ans, value, shape=ans.shape)
    return cotangents


def output_tangent(
    prim: Primitive,
    params: dict[str, Any],
    tangents: list[Any],
    ans: Any,
    values: Any,
    backend: Any,
    differentiable: bool,
) -> Any:
    """The output's tangent from the inputs' ``tangents`` (None where an input has none, or
    where ``prim`` has no rule for it); arrays, or Tensors when ``differentiable``.

    The sum of the jvp rules' shares (a variadic primitive's one rule takes them all); an
    elementwise primitive's input of another shape than the output has its tangent lined up
    with the output first.
    """
    xp = _namespace.differentiable() if differentiable else backend.xp
    if prim.variadic:
        return prim.jvp(xp, tangents, ans, *values, **params)  # type: ignore[operator]
    rules = prim.jvp
    total = None
    for i, tangent in enumerate(tangents):
        if tangent is not None:
            if prim.elementwise and values[i].shape != ans.shape:
                tangent = broadcast_tangent(xp, tangent, ans, values[i], shape=ans.shape)
            if prim.elementwise and _settings_used.nan_safe and is_nan_safe_mode_enabled():
                with _silent_infinities():
                    share = rules[i](xp, tangent, ans, *values, **params)  # type: ignore[index]
                share = _zero_where_zero(xp, tangent, share)
            else:
                share = rules[i](xp, tangent, ans, *values, **params)  # type: ignore[index]
            total = share if total is None else total + share
    return total


def _zero_where_zero(xp: Any, given: Any, result: Any) -> Any:
    """``result`` (which broadcasts to ``given``'s shape) with zeros where ``given`` is zero."""
    return xp.where(given == 0, xp.zeros_like(given), result)
