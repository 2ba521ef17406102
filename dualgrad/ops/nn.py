"""Fused primitives for neural networks, where composing would lose accuracy or overflow
(log_softmax, softplus, ...)."""

from __future__ import annotations

__all__: list[str] = []
