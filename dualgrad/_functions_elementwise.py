"""Elementwise functions beyond the core set (inverse trigonometric, hyperbolic, log1p, ...).

Public functions here are re-exported by ``dualgrad._functions`` (so derivative rules find them on
the differentiable namespace) and by ``dualgrad``.
"""

from __future__ import annotations

__all__: list[str] = []
