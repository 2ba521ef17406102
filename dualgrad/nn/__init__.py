"""Neural-network building blocks, as ``torch.nn``: Module, Parameter, layers, losses, init.

``dualgrad.nn.functional`` holds the same computations as functions.

Example:
    >>> import dualgrad
    >>> from dualgrad import nn
    >>> dualgrad.manual_seed(0)
    >>> model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))
    >>> loss = nn.CrossEntropyLoss()(model(dualgrad.randn(4, 2)), dualgrad.tensor([0, 1, 2, 0]))
    >>> loss.backward()
    >>> [tuple(p.grad.shape) for p in model.parameters()]
    [(16, 2), (16,), (3, 16), (3,)]
"""

from __future__ import annotations

from . import functional, init
from .activation import GELU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import Sequential
from .dropout import Dropout
from .linear import Identity, Linear
from .loss import CrossEntropyLoss, MSELoss
from .module import IncompatibleKeys, Module, StateDictKeyError, StateDictShapeError
from .parameter import Parameter

__all__ = [
    "GELU",
    "CrossEntropyLoss",
    "Dropout",
    "Identity",
    "IncompatibleKeys",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "StateDictKeyError",
    "StateDictShapeError",
    "Tanh",
    "functional",
    "init",
]
