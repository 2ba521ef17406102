"""Functions of vectors along one axis, as ``torch.nn.functional``: ``one_hot``, ``normalize``
and ``cosine_similarity``."""

from __future__ import annotations

__all__ = ["cosine_similarity", "normalize", "one_hot"]

import operator

import numpy as np

from .. import functions as fn
from .._dtypes import int64
from ..functions._args import as_tensor, axis_index, floating, promoted, require_floating
from ..tensor import Tensor
from ._args import InputTypeError, InputValueError, constant_on, values_of


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Each class index as a row of ``num_classes`` zeros with a one at the index, as
    ``torch.nn.functional.one_hot``: an int64 tensor of shape ``(*tensor.shape, num_classes)``.

    Args:
        tensor: int64 class indices (int32 where the backend's integers are 32-bit, as JAX's
            by default), each in ``[0, num_classes)``.
        num_classes: the length of the rows; -1 takes the largest index plus one.

    Raises:
        TypeError: ``tensor`` is not int64 (also a RuntimeError, as PyTorch's).
        ValueError: a negative index, one that is not below ``num_classes``, or ``-1`` with an
            empty tensor or with values that are abstract (under ``jit``) (also RuntimeErrors).

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.one_hot(dualgrad.tensor([0, 2]))
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    x = as_tensor(tensor, "one_hot")
    # int64, or int32 where the backend has 64-bit integers off (JAX by default: its .long()
    # and from_numpy of int64 data are int32)
    if x.dtype not in (int64, x._backend.default_integer()):
        msg = (
            f"one_hot is only applicable to index tensor of type LongTensor, got {x.dtype}; "
            "convert it with .long()"
        )
        raise InputTypeError(msg)
    num_classes = operator.index(num_classes)
    values = values_of(x)
    if num_classes == -1:
        if x.numel() == 0:
            msg = "Can not infer total number of classes from empty tensor."
            raise InputValueError(msg)
        if values is None:
            msg = (
                "one_hot: num_classes=-1 needs the indices' values, which are abstract here "
                "(under jit); pass num_classes"
            )
            raise InputValueError(msg)
        num_classes = int(values.max()) + 1
    if values is not None and values.size and values.min() < 0:
        msg = f"Class values must be non-negative. Got {int(values.min())}."
        raise InputValueError(msg)
    if num_classes < 0 or (values is not None and values.size and values.max() >= num_classes):
        largest = int(values.max()) if values is not None and values.size else None
        msg = (
            f"Class values must be smaller than num_classes. Got num_classes={num_classes} "
            f"and a largest class value of {largest}."
        )
        raise InputValueError(msg)
    classes = constant_on(x, np.arange(num_classes), int64)
    return fn.astype(fn.expand_dims(x.detach(), axis=-1) == classes, int64)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``input`` divided by its ``p``-norm along ``dim``, the norm no smaller than ``eps``, as
    ``torch.nn.functional.normalize``.

    Args:
        input: a floating point tensor.
        p: the order of the norm (``float("inf")`` for the largest magnitude).
        dim: the axis of the vectors.
        eps: the smallest norm to divide by (a zero vector stays zero).

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.normalize(dualgrad.tensor([[3.0, 4.0], [0.0, 0.0]]))
        tensor([[0.6000, 0.8000],
                [0.0000, 0.0000]])
    """
    x = require_floating(input, "normalize")
    axis = axis_index(dim, x.ndim, "normalize")
    norm = fn.linalg.vector_norm(x, ord=p, axis=axis, keepdims=True)
    return x / fn.clip(norm, min=eps)


def _norm_no_smaller_than(x: Tensor, axis: int, eps: float) -> Tensor:
    """The 2-norm of ``x`` along ``axis`` raised to ``eps`` in value only, its derivative the
    norm's, as PyTorch's ``cosine_similarity`` clamps its norms in place without recording."""
    norm = fn.linalg.vector_norm(x, axis=axis, keepdims=True)
    held = norm.detach()
    return norm + (fn.clip(held, min=eps) - held)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim``, after broadcasting them
    together, as ``torch.nn.functional.cosine_similarity``: ``sum(x1/|x1| * x2/|x2|)``, each
    norm no smaller than ``eps``.

    Args:
        x1, x2: tensors that broadcast together (integers count as the default float dtype).
        dim: the axis of the vectors, in the broadcast shape.
        eps: the smallest norm to divide by.

    Raises:
        ValueError: shapes that do not broadcast.

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> F.cosine_similarity(dualgrad.tensor([[1.0, 0.0]]), dualgrad.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """
    a = floating(as_tensor(x1, "cosine_similarity"))
    b = floating(as_tensor(x2, "cosine_similarity"))
    a, b = fn.broadcast_arrays(*promoted([a, b]))
    axis = axis_index(dim, a.ndim, "cosine_similarity")
    unit_a = a / _norm_no_smaller_than(a, axis, eps)
    unit_b = b / _norm_no_smaller_than(b, axis, eps)
    return fn.sum(unit_a * unit_b, axis=axis)
