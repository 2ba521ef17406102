"""The strong-Wolfe line search of L-BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed.,
Algorithms 3.5 and 3.6), with the safeguards of minFunc, which PyTorch's LBFGS follows: cubic
interpolation between points, and trial steps kept a tenth of the bracket away from its ends.

Losses are Python floats; slopes are 0-d Tensors in the parameters' dtype, and steps become
such Tensors once interpolated, as in PyTorch, so that float32 runs round as PyTorch's do.
"""

from __future__ import annotations

__all__ = ["Point", "strong_wolfe"]

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import functions as fn
from ..tensor import Tensor


@dataclass(frozen=True)
class Point:
    """The objective along the search direction at step ``t``: its value ``f`` (a float), its
    gradient ``g`` (a flat Tensor) and its slope ``gtd`` (the gradient dotted with the
    direction, a 0-d Tensor)."""

    t: Any
    f: float
    g: Any
    gtd: Any


def _sqrt(x: Any) -> Any:
    return fn.sqrt(x) if isinstance(x, Tensor) else math.sqrt(x)


def cubic_minimum(a: Point, b: Point, bounds: tuple[Any, Any] | None = None) -> Any:
    """The minimizer of the cubic through two points with their slopes, clamped to ``bounds``
    (default: between the points); their midpoint when the cubic has no minimum."""
    low, high = bounds if bounds is not None else ((a.t, b.t) if a.t <= b.t else (b.t, a.t))
    d1 = a.gtd + b.gtd - 3 * (a.f - b.f) / (a.t - b.t)
    discriminant = d1**2 - a.gtd * b.gtd
    if not discriminant >= 0:
        return (low + high) / 2.0
    d2 = _sqrt(discriminant)
    # Written from the farther point, as minFunc does.
    near, far = (a, b) if a.t <= b.t else (b, a)
    t = far.t - (far.t - near.t) * ((far.gtd + d2 - d1) / (far.gtd - near.gtd + 2 * d2))
    return min(max(t, low), high)


def strong_wolfe(
    evaluate: Callable[[Any], Point],
    start: Point,
    t: Any,
    direction_size: Any,
    *,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_evaluations: int = 25,
) -> tuple[Point, int]:
    """A step satisfying the strong Wolfe conditions along a descent direction.

    Args:
        evaluate: the objective at a step, as a Point (it leaves the parameters as they were).
        start: the objective at step 0 (its slope negative).
        t: the first step to try.
        direction_size: the largest absolute element of the direction (for the stopping test
            on the bracket's width).
        c1: sufficient decrease: ``f(t) <= f(0) + c1 * t * f'(0)``.
        c2: curvature: ``|f'(t)| <= -c2 * f'(0)``.
        tolerance_change: stop when the bracket is this narrow (in parameter change).
        max_evaluations: at most this many evaluations.

    Returns:
        The best point found and the number of evaluations.
    """

    def too_high(point: Point) -> Any:  # sufficient decrease fails
        return point.f > start.f + c1 * point.t * start.gtd

    def flat_enough(point: Point) -> Any:  # the curvature condition holds
        return abs(point.gtd) <= -c2 * start.gtd

    previous, new = start, evaluate(t)
    evaluations, iterations = 1, 0
    bracket: list[Point] | None = None
    # Bracketing: grow the step until an interval surely holds an acceptable one.
    while iterations < max_evaluations:
        if too_high(new) or (iterations > 1 and new.f >= previous.f):
            bracket = [previous, new]
            break
        if flat_enough(new):
            return new, evaluations
        if new.gtd >= 0:
            bracket = [previous, new]
            break
        bounds = (new.t + 0.01 * (new.t - previous.t), new.t * 10)
        t = cubic_minimum(previous, new, bounds)
        previous, new = new, evaluate(t)
        evaluations += 1
        iterations += 1
    if bracket is None:  # out of evaluations while still growing
        return (start if start.f <= new.f else new), evaluations
    # Zoom: shrink the bracket around an acceptable step.
    low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
    stuck = False  # the last trial fell near an end of the bracket
    while iterations < max_evaluations:
        if abs(bracket[1].t - bracket[0].t) * direction_size < tolerance_change:
            break
        t = cubic_minimum(bracket[0], bracket[1])
        left, right = min(bracket[0].t, bracket[1].t), max(bracket[0].t, bracket[1].t)
        margin = 0.1 * (right - left)
        if min(right - t, t - left) < margin:
            if stuck or t >= right or t <= left:
                t = right - margin if abs(t - right) < abs(t - left) else left + margin
                stuck = False
            else:
                stuck = True
        else:
            stuck = False
        new = evaluate(t)
        evaluations += 1
        iterations += 1
        if too_high(new) or new.f >= bracket[low].f:
            bracket[high] = new
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
            continue
        if flat_enough(new):
            return new, evaluations
        if new.gtd * (bracket[high].t - bracket[low].t) >= 0:
            bracket[high] = bracket[low]
        bracket[low] = new
    return bracket[low], evaluations
