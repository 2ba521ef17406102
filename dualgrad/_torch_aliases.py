"""PyTorch's spellings of Array API functions, and PyTorch's top-level functions the standard
lacks, for code written against ``torch``.

Where PyTorch and the Array API give one name two signatures (``matmul``'s keywords, ``norm``),
the function here accepts PyTorch's; the Array API's own keep theirs in ``dualgrad.functions``.
"""

from __future__ import annotations

__all__ = [
    "allclose",
    "bmm",
    "cat",
    "clamp",
    "div",
    "dot",
    "is_floating_point",
    "is_tensor",
    "isclose",
    "log_softmax",
    "matmul",
    "mm",
    "mul",
    "neg",
    "norm",
    "numel",
    "permute",
    "relu",
    "softmax",
    "sub",
    "transpose",
    "unsqueeze",
]

from collections.abc import Sequence
from typing import Any

from . import functions as fn
from .functions import linalg as _linalg
from .functions import nn as _nn
from .functions._args import as_tensor
from .tensor import Tensor, method

mul = fn.multiply
sub = fn.subtract
div = fn.divide
neg = fn.negative
clamp = fn.clip
unsqueeze = fn.expand_dims
relu = _nn.relu


def cat(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along ``dim`` (``concat``)."""
    return fn.concat(tensors, axis=dim if axis is None else axis)


def permute(x: Tensor, dims: Sequence[int]) -> Tensor:
    """Reorder the axes (``permute_dims``)."""
    return fn.permute_dims(x, dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two axes."""
    return x.transpose(dim0, dim1)  # type: ignore[attr-defined, no-any-return]


def softmax(x: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """``softmax`` along ``dim``, as ``torch.softmax`` (computed in ``dtype`` if given)."""
    x = as_tensor(x, "softmax")
    if dtype is not None:
        x = fn.astype(x, dtype)
    return _nn._softmax_method(x, dim)


def log_softmax(x: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """``log_softmax`` along ``dim``, as ``torch.log_softmax``."""
    x = as_tensor(x, "log_softmax")
    if dtype is not None:
        x = fn.astype(x, dtype)
    return _nn._log_softmax_method(x, dim)


# --- products ---------------------------------------------------------------------------------
def matmul(
    x1: Tensor | None = None,
    x2: Tensor | None = None,
    /,
    *,
    input: Tensor | None = None,
    other: Tensor | None = None,
) -> Tensor:
    """The matrix product (``linalg.matmul``), its operands positionally (Array API) or as
    PyTorch's ``input=`` and ``other=``.

    Raises:
        TypeError: an operand missing or given twice.
    """
    if (x1 is None) == (input is None) or (x2 is None) == (other is None):
        msg = "matmul: give two operands, positionally or as input= and other="
        raise TypeError(msg)
    return _linalg.matmul(input if x1 is None else x1, other if x2 is None else x2)


def mm(x1: Tensor, x2: Tensor) -> Tensor:
    """The product of two matrices, as ``torch.mm``.

    Raises:
        ValueError: an operand is not 2-dimensional.
    """
    return _checked_product("mm", 2, x1, x2)


def bmm(x1: Tensor, x2: Tensor) -> Tensor:
    """The products of two stacks of matrices, ``(b, n, m) @ (b, m, p)``, as ``torch.bmm``.

    Raises:
        ValueError: an operand is not 3-dimensional.
    """
    return _checked_product("bmm", 3, x1, x2)


def dot(x1: Tensor, x2: Tensor) -> Tensor:
    """The dot product of two vectors, as ``torch.dot``.

    Raises:
        ValueError: an operand is not 1-dimensional.
    """
    return _checked_product("dot", 1, x1, x2)


def _checked_product(name: str, ndim: int, x1: Any, x2: Any) -> Tensor:
    x1, x2 = as_tensor(x1, name), as_tensor(x2, name)
    if x1.ndim != ndim or x2.ndim != ndim:
        msg = (
            f"{name}: expected {ndim}-D operands, got shapes "
            f"{tuple(x1.shape)} and {tuple(x2.shape)}"
        )
        raise ValueError(msg)
    return _linalg.matmul(x1, x2)


def norm(
    x: Tensor,
    p: Any = "fro",
    dim: Any = None,
    keepdim: bool = False,
    dtype: Any = None,
) -> Tensor:
    """``torch.norm``: the ``p``-norm of ``x`` over ``dim`` (all elements when None), as a vector
    norm; ``p="fro"`` is the 2-norm of the elements, ``p="nuc"`` the nuclear norm of the
    matrices in the last two axes.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([[3.0, 0.0], [0.0, -4.0]])
        >>> dualgrad.norm(x), dualgrad.norm(x, 1), dualgrad.norm(x, dim=1)
        (tensor(5.), tensor(7.), tensor([3., 4.]))
    """
    x = as_tensor(x, "norm")
    if dtype is not None:
        x = fn.astype(x, dtype)
    if p == "nuc":
        if dim is not None and len(dim) != 2:
            msg = f"norm: the nuclear norm takes two axes, got dim={dim!r}"
            raise ValueError(msg)
        if dim is not None:
            x = fn.moveaxis(x, tuple(dim), (-2, -1))
        return _linalg.matrix_norm(x, ord="nuc", keepdims=keepdim)
    order = 2 if p == "fro" or p is None else p
    return _linalg.vector_norm(x, axis=dim, keepdims=keepdim, ord=order)


# --- comparison and utility -------------------------------------------------------------------
def isclose(
    x1: Tensor,
    x2: Any,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> Tensor:
    """Where ``|x1 - x2| <= atol + rtol * |x2|`` elementwise, as ``torch.isclose`` (equal
    infinities are close; NaNs only with ``equal_nan``). A bool tensor, outside the graph."""
    a = as_tensor(x1, "isclose").detach()
    b = x2.detach() if isinstance(x2, Tensor) else x2
    with_nan = fn.isnan(a) & fn.isnan(b) if equal_nan else fn.zeros_like(a, dtype="bool")
    finite = fn.isfinite(a) & fn.isfinite(b)
    # infinities and NaNs are zeroed before subtracting (inf - inf would warn); the mask decides
    a_finite, b_finite = fn.where(finite, a, 0), fn.where(finite, b, 0)
    near = fn.abs(a_finite - b_finite) <= atol + rtol * fn.abs(b_finite)
    return (a == b) | (finite & near) | with_nan


def allclose(
    x1: Tensor,
    x2: Any,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> bool:
    """Whether every element is close (``isclose``), as one Python bool, as ``torch.allclose``.

    Example:
        >>> import dualgrad
        >>> dualgrad.allclose(dualgrad.tensor([1.0, 2.0]), dualgrad.tensor([1.0, 2.0 + 1e-7]))
        True
    """
    return bool(fn.all(isclose(x1, x2, rtol, atol, equal_nan)))


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a dualgrad Tensor."""
    return isinstance(obj, Tensor)


def numel(x: Tensor) -> int:
    """The number of elements of ``x``."""
    return as_tensor(x, "numel").numel()


def is_floating_point(x: Tensor) -> bool:
    """Whether ``x`` has a real floating dtype."""
    return as_tensor(x, "is_floating_point").dtype.is_floating_point


def _equal(self: Tensor, other: Tensor) -> bool:
    """PyTorch's ``x.equal(y)``: one bool, True when both have the same shape and values.

    (The top-level ``dualgrad.equal`` is the Array API's elementwise comparison.)
    """
    other = as_tensor(other, "equal")
    return self.shape == other.shape and bool(fn.all(self == other))


def _norm_method(
    self: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> Tensor:
    """``torch.norm(self, p, dim, keepdim)``."""
    return norm(self, p, dim, keepdim, dtype)


method(_equal, "equal")
method(_norm_method, "norm")
method(isclose)
method(allclose)
method(dot)
method(bmm)
