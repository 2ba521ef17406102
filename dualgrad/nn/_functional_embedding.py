"""``embedding``, as ``torch.nn.functional.embedding``: rows of a weight matrix looked up by
index, with PyTorch's ``padding_idx``, ``max_norm`` and ``scale_grad_by_freq``."""

from __future__ import annotations

__all__ = ["embedding"]

import warnings
from typing import Any

from .. import functions as fn
from .._dispatch import named
from ..autograd.grad_mode import no_grad
from ..functions._args import as_tensor, require_floating
from ..tensor import Tensor
from ._args import values_of


def _with_gradient_scaled(rows: Tensor, factor: Tensor) -> Tensor:
    """``rows`` unchanged in value, with gradients (and tangents) multiplied by ``factor``:
    ``rows - rows.detach()`` is exactly 0 but carries the derivative."""
    held = rows.detach()
    return held + (rows - held) * factor


def _renormed(weight: Tensor, flat: Tensor, max_norm: float, norm_type: float) -> None:
    """Scale the looked-up rows whose ``norm_type``-norm exceeds ``max_norm`` down to it, in
    place, as PyTorch's ``embedding_renorm_`` (a row repeated in ``flat`` is written with the
    same value each time)."""
    with no_grad():
        rows = fn.take(weight.detach(), flat, axis=0)
        norms = fn.linalg.vector_norm(rows, ord=norm_type, axis=-1, keepdims=True)
        scale = fn.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight.copy_(fn.index_put(weight.detach(), flat, rows * scale))


def _occurrences(flat: Tensor) -> Tensor:
    """How often each element of ``flat`` occurs in it, per position (on the device: a sort and
    two binary searches)."""
    ordered = fn.sort(flat)
    return fn.searchsorted(ordered, flat, side="right") - fn.searchsorted(
        ordered, flat, side="left"
    )


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """The rows of ``weight`` at the indices ``input``: ``weight[input]``.

    Args:
        input: integer indices of any shape, in ``[0, num_embeddings)``.
        weight: ``(num_embeddings, embedding_dim)``.
        padding_idx: the rows looked up at this index get no gradient (negative counts from
            the end).
        max_norm: before the lookup, rows looked up whose ``norm_type``-norm exceeds it are
            scaled down to it, in ``weight`` itself (as PyTorch does).
        norm_type: the p of that norm.
        scale_grad_by_freq: divide each looked-up row's gradient by how often its index occurs
            in ``input``.
        sparse: PyTorch's sparse gradient; dualgrad's gradients are dense (the same values),
            and it warns.

    Returns:
        ``(*input.shape, embedding_dim)``.

    Raises:
        TypeError: non-integer indices.
        ValueError: a weight that is not 2-d, or a ``padding_idx`` out of range.
        IndexError: an index out of range.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> weight = dualgrad.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
        >>> F.embedding(dualgrad.tensor([[2, 0]]), weight)
        tensor([[[4., 5.],
                 [0., 1.]]])
    """
    indices = as_tensor(input, "embedding")
    weight = require_floating(weight, "embedding")
    if indices.dtype.kind not in "iu":
        msg = f"embedding: indices must be integers, got {indices.dtype}; convert with .long()"
        raise TypeError(msg)
    if weight.ndim != 2:
        msg = (
            "embedding: weight must be 2-d (num_embeddings, "
            f"embedding_dim), got {tuple(weight.shape)}"
        )
        raise ValueError(msg)
    rows_count = weight.shape[0]
    if padding_idx is not None:
        if not -rows_count <= padding_idx < rows_count:
            msg = (
                f"embedding: padding_idx {padding_idx} must be within num_embeddings {rows_count}"
            )
            raise ValueError(msg)
        padding_idx %= rows_count
    values = values_of(indices)
    if values is not None and values.size and (values.min() < 0 or values.max() >= rows_count):
        bad = values[(values < 0) | (values >= rows_count)].flat[0]
        msg = f"embedding: index {int(bad)} is out of range for {rows_count} embeddings"
        raise IndexError(msg)
    if sparse:
        warnings.warn(
            "embedding: sparse=True asks for a sparse gradient; dualgrad computes the same "
            "gradient as a dense tensor",
            UserWarning,
            stacklevel=2,
        )
    flat = fn.reshape(indices, (-1,))
    if max_norm is not None:
        _renormed(weight, flat, float(max_norm), float(norm_type))
    rows = fn.take(weight, flat, axis=0)
    factor: Any = None
    if scale_grad_by_freq:
        factor = 1.0 / fn.astype(_occurrences(flat), weight.dtype)
    if padding_idx is not None:
        keep = fn.astype(flat != padding_idx, weight.dtype)
        factor = keep if factor is None else factor * keep
    if factor is not None:
        rows = _with_gradient_scaled(rows, fn.reshape(factor, (-1, 1)))
    return named(fn.reshape(rows, (*indices.shape, weight.shape[1])), "EmbeddingBackward0")
