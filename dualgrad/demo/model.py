"""The demo's classifier: a small multilayer perceptron."""

from __future__ import annotations

__all__ = ["spiral_classifier"]

from .. import nn


def spiral_classifier(hidden: int = 16) -> nn.Sequential:
    """Two tanh hidden layers of ``hidden`` units, from 2 coordinates to 2 class logits.

    With the default 16 units it has 354 parameters: few enough that forward mode, which
    pays once per parameter, can train it too.

    Example:
        >>> model = spiral_classifier()
        >>> sum(p.numel() for p in model.parameters())
        354
    """
    return nn.Sequential(
        nn.Linear(2, hidden),
        nn.Tanh(),
        nn.Linear(hidden, hidden),
        nn.Tanh(),
        nn.Linear(hidden, 2),
    )
