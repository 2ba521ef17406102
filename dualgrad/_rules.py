"""Calling derivative rules: the one place both engines go through.

A rule runs on one of two namespaces, chosen here (``namespace``): the backend's, on raw arrays,
when nothing will differentiate its result (first derivatives: the fast case); or dualgrad's
differentiable namespace, on Tensors, when something will (``create_graph=True``, a tangent of
an inner dual level that outer levels differentiate, a tangent of a value on the tape). The
engines decide which case they are in; this module picks the namespace and calls the rules.
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
"""

from __future__ import annotations

__all__ = ["input_cotangents", "namespace", "output_tangent"]

from typing import Any

from . import _namespace
from .ops import Primitive
from .ops.shape import broadcast_tangent, unbroadcast


def namespace(backend: Any, differentiable: bool) -> Any:
    """The namespace rules run on: the backend's (arrays in and out), or, when their results
    must be differentiable, dualgrad's differentiable namespace (Tensors in and out)."""
    return _namespace.differentiable() if differentiable else backend.xp


def input_cotangents(
    prim: Primitive,
    params: dict[str, Any],
    parents: list[Any],
    xp: Any,
    g: Any,
    ans: Any,
    values: Any,
    broadcasts: bool,
) -> list[Any]:
    """Each input's cotangent from ``prim``'s vjp rules, None where its parent is None.

    ``broadcasts``: an input's shape may differ from the output's (an elementwise primitive
    broadcast it); its cotangent is then summed back to its shape.
    """
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
    xp: Any,
    ans: Any,
    values: Any,
) -> Any:
    """The output's tangent from the inputs' ``tangents`` (None where an input has none).

    The sum of the jvp rules' shares (a variadic primitive's one rule takes them all); an
    elementwise primitive's input of another shape than the output has its tangent lined up
    with the output first.
    """
    if prim.variadic:
        return prim.jvp(xp, tangents, ans, *values, **params)  # type: ignore[operator]
    rules = prim.jvp
    total = None
    for i, tangent in enumerate(tangents):
        if tangent is None or rules[i] is None:  # type: ignore[index]
            continue
        if prim.elementwise and values[i].shape != ans.shape:
            tangent = broadcast_tangent(xp, tangent, ans, values[i], shape=ans.shape)
        share = rules[i](xp, tangent, ans, *values, **params)  # type: ignore[index]
        total = share if total is None else total + share
    return total
