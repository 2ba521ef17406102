"""``CosineSimilarity``: ``dualgrad.nn.functional.cosine_similarity`` as a layer."""

from __future__ import annotations

__all__ = ["CosineSimilarity"]

from ..tensor import Tensor
from . import functional as F
from .module import Module


class CosineSimilarity(Module):
    """The cosine of the angle between two inputs along ``dim``, as
    ``torch.nn.CosineSimilarity``.

    Args:
        dim: the axis of the vectors.
        eps: the smallest norm to divide by.

    Example:
        >>> import dualgrad
        >>> cos = dualgrad.nn.CosineSimilarity(dim=0)
        >>> cos
        CosineSimilarity()
        >>> cos(dualgrad.tensor([1.0, 0.0]), dualgrad.tensor([0.0, 2.0]))
        tensor(0.)
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
