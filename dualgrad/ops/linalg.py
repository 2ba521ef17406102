"""Linear algebra primitives."""

from __future__ import annotations

__all__ = ["matmul"]

from ._primitive import Primitive


# --- matmul ---------------------------------------------------------------------------------
# Operands arrive at least 2-D with equal batch shapes: dualgrad.matmul promotes 1-D operands
# and broadcasts batch axes (through broadcast_to) first, so these rules stay one line each.
def _matmul_vjp_x(xp, g, ans, x, y):
    return g @ xp.matrix_transpose(y)


def _matmul_vjp_y(xp, g, ans, x, y):
    return xp.matrix_transpose(x) @ g


matmul = Primitive(
    "matmul",
    forward=lambda xp, x, y: x @ y,
    vjp=(_matmul_vjp_x, _matmul_vjp_y),
    jvp=(lambda xp, t, ans, x, y: t @ y, lambda xp, t, ans, x, y: x @ t),
    grad_fn="Mm",
)
