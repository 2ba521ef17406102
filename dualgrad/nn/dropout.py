"""``Dropout``: random zeroing while training, identity in evaluation mode."""

from __future__ import annotations

__all__ = ["Dropout"]

from ..tensor import Tensor
from . import functional as F
from .module import Module


class Dropout(Module):
    """While ``training``, zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)``; after ``eval()``, pass the input through. The mask comes from the input's
    backend generator, which ``dualgrad.manual_seed`` seeds.

    Args:
        p: the probability of zeroing an element.
        inplace: overwrite the input with the result.

    Raises:
        ValueError: ``p`` outside [0, 1].
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            msg = f"dropout probability has to be between 0 and 1, but got {p}"
            raise ValueError(msg)
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
