"""The demo of ``python -m dualgrad``: a small network learns to tell two spirals apart.

``data`` generates the spirals, ``model`` builds the network, ``train`` trains and measures it
(and compares the two engines' gradients), ``progress`` and ``plot`` show the run, ``cli`` ties
them to the command line.

Example:
    >>> import dualgrad
    >>> from dualgrad.demo import as_tensor, spiral_classifier, train, two_spirals
    >>> points, labels = two_spirals(200, seed=0)
    >>> dualgrad.manual_seed(0)
    >>> model = spiral_classifier()
    >>> inputs, targets = as_tensor(points, dualgrad.float32), as_tensor(labels)
    >>> losses = train(model, inputs, targets, epochs=3, lr=0.02)
    >>> len(losses)
    3
"""

from __future__ import annotations

from .data import two_spirals
from .model import spiral_classifier
from .plot import draw_figure, save_figure
from .train import accuracy, as_tensor, mode_gradient_difference, predict, train, training_step

__all__ = [
    "accuracy",
    "as_tensor",
    "draw_figure",
    "mode_gradient_difference",
    "predict",
    "save_figure",
    "spiral_classifier",
    "train",
    "training_step",
    "two_spirals",
]
