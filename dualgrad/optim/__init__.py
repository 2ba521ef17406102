"""Optimizers, as in ``torch.optim``."""

from __future__ import annotations

from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["SGD", "Optimizer"]
