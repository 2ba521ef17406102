"""``Embedding``: a lookup table of learned vectors, over ``dualgrad.nn.functional.embedding``."""

from __future__ import annotations

__all__ = ["Embedding"]

from typing import Any

from .. import functions as fn
from ..autograd.grad_mode import no_grad
from ..functions import creation as _creation
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """``num_embeddings`` vectors of size ``embedding_dim``, looked up by index, as
    ``torch.nn.Embedding``: the weight starts standard normal (from the backend's seeded
    generator), with the ``padding_idx`` row at zero.

    Args:
        num_embeddings: the size of the table.
        embedding_dim: the size of each vector.
        padding_idx: the row at this index starts at zero and gets no gradient.
        max_norm, norm_type, scale_grad_by_freq, sparse: as ``nn.functional.embedding``.
        dtype: the weight's dtype.

    Raises:
        ValueError: a ``padding_idx`` outside the table, or a ``_weight`` of another shape.

    Example:
        >>> import dualgrad
        >>> table = dualgrad.nn.Embedding(10, 3, padding_idx=0)
        >>> table
        Embedding(10, 3, padding_idx=0)
        >>> table(dualgrad.tensor([[0, 4], [2, 0]])).shape
        torch.Size([2, 2, 3])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                msg = f"Embedding: padding_idx {padding_idx} must be within num_embeddings"
                raise ValueError(msg)
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            shape = (num_embeddings, embedding_dim)
            self.weight = Parameter(
                _creation.empty(*shape, dtype=dtype, device=device), requires_grad=not _freeze
            )
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                msg = (
                    f"Embedding: _weight has shape {tuple(_weight.shape)}, not (num_embeddings, "
                    f"embedding_dim) = ({num_embeddings}, {embedding_dim})"
                )
                raise ValueError(msg)
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """Draw the weight anew from N(0, 1), with the padding row at zero."""
        init.normal_(self.weight)
        self._zero_padding_row()

    def _zero_padding_row(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight.copy_(fn.index_put(self.weight.detach(), self.padding_idx, 0.0))

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding whose table is a copy of the 2-d ``embeddings``, frozen (no gradient)
        unless ``freeze=False``.

        Raises:
            ValueError: ``embeddings`` is not 2-d.
        """
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            msg = "Embeddings parameter is expected to be 2-dimensional"
            raise ValueError(msg)
        rows, dim = embeddings.shape
        return cls(
            rows,
            dim,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=embeddings.detach(),
            _freeze=freeze,
        )

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        if self.sparse:
            text += ", sparse=True"
        return text
