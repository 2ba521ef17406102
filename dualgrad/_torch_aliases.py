"""PyTorch's spellings of Array API functions, and PyTorch's top-level functions the standard
lacks, for code written against ``torch``.

Where PyTorch and the Array API give one name two signatures (``matmul``'s keywords, ``norm``),
the function here accepts PyTorch's; the Array API's own keep theirs in ``dualgrad.functions``.
"""

from __future__ import annotations

__all__ = [
    "BoolTensor",
    "ByteTensor",
    "CharTensor",
    "ComplexDoubleTensor",
    "ComplexFloatTensor",
    "DoubleTensor",
    "FloatTensor",
    "HalfTensor",
    "IntTensor",
    "LongTensor",
    "ShortTensor",
    "add",
    "allclose",
    "amax",
    "amin",
    "bincount",
    "bmm",
    "cat",
    "clamp",
    "clone",
    "div",
    "dot",
    "eq",
    "flip",
    "gather",
    "ge",
    "gt",
    "hstack",
    "index_add",
    "index_select",
    "is_floating_point",
    "is_tensor",
    "isclose",
    "le",
    "log_softmax",
    "lt",
    "masked_fill",
    "masked_select",
    "matmul",
    "mm",
    "mul",
    "nan_to_num",
    "narrow",
    "ne",
    "neg",
    "norm",
    "numel",
    "permute",
    "relu",
    "repeat_interleave",
    "round",
    "rsqrt",
    "scatter",
    "scatter_add",
    "select",
    "softmax",
    "sub",
    "transpose",
    "tril",
    "triu",
    "unique",
    "unsqueeze",
    "vstack",
    "where",
]

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _array_api
from . import functions as fn
from ._dispatch import named
from .functions import linalg as _linalg
from .functions import nn as _nn
from .functions._args import as_tensor, axis_index
from .functions._methods import in_place
from .functions.conversion import LEGACY_TYPES
from .functions.shape import permuted_view, reshaped_view
from .nn._args import InputTypeError, InputValueError
from .tensor import Tensor, method

neg = fn.negative
# PyTorch's legacy typed constructors: torch.LongTensor([1, 2]), isinstance(x, torch.FloatTensor).
FloatTensor = LEGACY_TYPES["FloatTensor"]
DoubleTensor = LEGACY_TYPES["DoubleTensor"]
HalfTensor = LEGACY_TYPES["HalfTensor"]
LongTensor = LEGACY_TYPES["LongTensor"]
IntTensor = LEGACY_TYPES["IntTensor"]
ShortTensor = LEGACY_TYPES["ShortTensor"]
CharTensor = LEGACY_TYPES["CharTensor"]
ByteTensor = LEGACY_TYPES["ByteTensor"]
BoolTensor = LEGACY_TYPES["BoolTensor"]
ComplexFloatTensor = LEGACY_TYPES["ComplexFloatTensor"]
ComplexDoubleTensor = LEGACY_TYPES["ComplexDoubleTensor"]
clamp = fn.clip
relu = _nn.relu
eq, ne, lt, le, gt, ge = (
    fn.equal,
    fn.not_equal,
    fn.less,
    fn.less_equal,
    fn.greater,
    fn.greater_equal,
)
gather = Tensor.gather  # type: ignore[attr-defined]
index_select = Tensor.index_select  # type: ignore[attr-defined]
masked_fill = Tensor.masked_fill  # type: ignore[attr-defined]
masked_select = Tensor.masked_select  # type: ignore[attr-defined]
scatter = Tensor.scatter  # type: ignore[attr-defined]
scatter_add = Tensor.scatter_add  # type: ignore[attr-defined]
index_add = Tensor.index_add  # type: ignore[attr-defined]
clone = Tensor.clone  # type: ignore[attr-defined]
rsqrt = Tensor.rsqrt  # type: ignore[attr-defined]
amax = Tensor.amax  # type: ignore[attr-defined]
amin = Tensor.amin  # type: ignore[attr-defined]


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """``input`` with a new axis of length 1 at ``dim`` (``expand_dims``): a view."""
    return reshaped_view(fn.expand_dims(input, axis=dim), input)


def _written(out: Tensor | None, result: Tensor) -> Tensor:
    """PyTorch's ``out=``: ``result`` copied into ``out`` (which keeps its identity), else
    ``result``."""
    if out is None:
        return result
    return out.copy_(result)  # type: ignore[attr-defined, no-any-return]


def add(x1: Any, x2: Any, /, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """``x1 + alpha * x2`` (Array API ``add``, with PyTorch's ``alpha`` and ``out``)."""
    return _written(out, fn.add(x1, x2 if alpha == 1 else alpha * x2))


def sub(x1: Any, x2: Any, /, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """``x1 - alpha * x2`` (``subtract``, with PyTorch's ``alpha`` and ``out``)."""
    return _written(out, fn.subtract(x1, x2 if alpha == 1 else alpha * x2))


def mul(x1: Any, x2: Any, /, *, out: Tensor | None = None) -> Tensor:
    """``x1 * x2`` (``multiply``, with PyTorch's ``out``)."""
    return _written(out, fn.multiply(x1, x2))


def div(
    x1: Any, x2: Any, /, *, rounding_mode: str | None = None, out: Tensor | None = None
) -> Tensor:
    """``x1 / x2`` as ``torch.div``: true division, or rounded toward zero
    (``rounding_mode="trunc"``) or down (``"floor"``), where integer tensors stay integers.

    Raises:
        ValueError: ``rounding_mode`` is none of None, "trunc" and "floor".
    """
    if rounding_mode is None:
        result = fn.divide(x1, x2)
    elif rounding_mode == "floor":
        result = fn.floor_divide(x1, x2)
    elif rounding_mode == "trunc":
        quotient = fn.floor_divide(x1, x2)
        if quotient.dtype.is_floating_point:
            result = fn.trunc(fn.divide(x1, x2))
        else:  # integers: floor, moved up by one where the signs differ and it did not divide
            inexact = fn.not_equal(fn.remainder(x1, x2), 0)
            result = fn.where(inexact & fn.less(quotient, 0), quotient + 1, quotient)
    else:
        msg = f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}"
        raise ValueError(msg)
    return _written(out, result)


def round(x: Tensor, /, *, decimals: int = 0) -> Tensor:
    """``x`` rounded half to even (Array API ``round``), to ``decimals`` decimal places as
    ``torch.round``: ``round(x * 10**decimals) / 10**decimals``."""
    if decimals == 0:
        return fn.round(x)
    scale = 10.0**decimals
    return fn.round(as_tensor(x, "round") * scale) / scale


def triu(x: Tensor, /, diagonal: int = 0, *, k: int | None = None) -> Tensor:
    """The upper triangle from the ``diagonal`` (PyTorch) or ``k`` (Array API) on."""
    return fn.triu(x, k=diagonal if k is None else k)


def tril(x: Tensor, /, diagonal: int = 0, *, k: int | None = None) -> Tensor:
    """The lower triangle up to the ``diagonal`` (PyTorch) or ``k`` (Array API)."""
    return fn.tril(x, k=diagonal if k is None else k)


def flip(x: Tensor, /, dims: Any = None, *, axis: Any = None) -> Tensor:
    """``x`` reversed along ``dims`` (PyTorch, also positional) or ``axis`` (Array API)."""
    return fn.flip(x, axis=dims if axis is None else axis)


def where(condition: Any, x1: Any = None, x2: Any = None, /) -> Any:
    """``x1`` where ``condition`` holds, else ``x2`` (Array API ``where``); with ``condition``
    alone, PyTorch's ``where(condition)``: ``nonzero(condition, as_tuple=True)``.

    Raises:
        TypeError: only one of ``x1`` and ``x2`` is given.
    """
    if x1 is None and x2 is None:
        return fn.nonzero(as_tensor(condition, "where"), as_tuple=True)
    if x1 is None or x2 is None:
        msg = "where: give both x1 and x2, or the condition alone"
        raise TypeError(msg)
    return fn.where(condition, x1, x2)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along the columns: axis 1, or axis 0 for 1-d tensors, as ``torch.hstack``."""
    tensors = [as_tensor(t, "hstack") for t in tensors]
    return fn.concat(tensors, axis=0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along the rows (axis 0), 1-d tensors as rows, as ``torch.vstack``."""
    tensors = [as_tensor(t, "vstack") for t in tensors]
    return fn.concat([t if t.ndim > 1 else fn.reshape(t, (1, -1)) for t in tensors], axis=0)


def cat(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along ``dim`` (``concat``)."""
    return fn.concat(tensors, axis=dim if axis is None else axis)


def permute(x: Tensor, dims: Sequence[int]) -> Tensor:
    """Reorder the axes (``permute_dims``): a view."""
    return permuted_view(x, dims)


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
    out: Tensor | None = None,
) -> Tensor:
    """The matrix product (``linalg.matmul``), its operands positionally (Array API) or as
    PyTorch's ``input=`` and ``other=``, written into ``out`` if given.

    Raises:
        TypeError: an operand missing or given twice.
    """
    if (x1 is None) == (input is None) or (x2 is None) == (other is None):
        msg = "matmul: give two operands, positionally or as input= and other="
        raise TypeError(msg)
    return _written(out, _linalg.matmul(input if x1 is None else x1, other if x2 is None else x2))


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
    return named(_checked_product("dot", 1, x1, x2), "DotBackward0")


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


def repeat_interleave(x: Tensor, repeats: Any, dim: int | None = None) -> Tensor:
    """Each element (slice along ``dim``) repeated ``repeats`` times, as
    ``torch.repeat_interleave``; the flattened tensor without ``dim``."""
    return x.repeat_interleave(repeats, dim)  # type: ignore[attr-defined, no-any-return]


def nan_to_num(
    x: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """``x`` with NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (the
    dtype's largest and lowest finite values by default), as ``torch.nan_to_num``; the
    gradient flows where ``x`` was finite."""
    x = as_tensor(x, "nan_to_num")
    if not x.dtype.is_floating_point:
        return fn.astype(x, x.dtype, copy=True)
    info = _array_api.finfo(x.dtype)
    high = info.max if posinf is None else posinf
    low = info.min if neginf is None else neginf
    replaced = fn.where(fn.isnan(x), nan, x)
    return fn.where(x == float("inf"), high, fn.where(x == float("-inf"), low, replaced))


def narrow(self: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The ``length`` elements from ``start`` along ``dim``, as ``torch.narrow``; a negative
    ``start`` counts from the end.

    Raises:
        ValueError: a 0-d tensor, a negative ``length``, or more elements than there are.
        IndexError: ``dim`` or ``start`` out of range.
    """
    if self.ndim == 0:
        msg = "narrow() cannot be applied to a 0-dim tensor"
        raise ValueError(msg)
    axis = axis_index(dim, self.ndim, "narrow")
    size = self.shape[axis]
    if not -size <= start <= size:
        msg = f"narrow: start {start} is out of range for a dimension of size {size}"
        raise IndexError(msg)
    if start < 0:
        start += size
    if length < 0:
        msg = f"narrow: length must be non-negative, got {length}"
        raise ValueError(msg)
    if start + length > size:
        msg = f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size})"
        raise ValueError(msg)
    return self[(slice(None),) * axis + (slice(start, start + length),)]


def select(self: Tensor, dim: int, index: int) -> Tensor:
    """``self`` at ``index`` along ``dim``, that axis gone, as ``torch.select``: a view; a
    negative ``index`` counts from the end.

    Raises:
        IndexError: ``dim`` or ``index`` out of range, or a 0-d tensor.
    """
    if self.ndim == 0:
        msg = "select() cannot be applied to a 0-dim tensor."
        raise IndexError(msg)
    axis = axis_index(dim, self.ndim, "select")
    size = self.shape[axis]
    if not -size <= index < size:
        msg = (
            f"select(): index {index} out of range for tensor of size "
            f"{list(self.shape)} at dimension {dim}"
        )
        raise IndexError(msg)
    return self[(slice(None),) * axis + (int(index),)]


def unique(
    input: Any,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The distinct elements of ``input`` (with ``dim``, its distinct slices along ``dim``),
    ascending, as ``torch.unique``; with ``return_inverse`` also each element's (slice's) index
    among them, with ``return_counts`` how often each occurs. Never differentiable. ``sorted``
    is accepted; the result is always ascending, as PyTorch's is on the CPU.

    Raises:
        NotImplementedError: on a lazy backend (the result's size depends on the values).

    Example:
        >>> import dualgrad
        >>> dualgrad.unique(dualgrad.tensor([3, 1, 3, 2]), return_counts=True)
        (tensor([1, 2, 3]), tensor([1, 1, 2]))
    """
    x = as_tensor(input, "unique")
    if dim is None:
        found = fn.unique_all(x)
        # The standard leaves the order to the library: ascending, as PyTorch's.
        order = fn.argsort(found.values)
        values, counts = fn.take(found.values, order), fn.take(found.counts, order)
        rank = fn.argsort(order)
        inverse = fn.reshape(fn.take(rank, fn.reshape(found.inverse_indices, (-1,))), x.shape)
    else:
        axis = axis_index(dim, x.ndim, "unique")
        x._backend.check_static_shape("unique", "compute the tensor's values first")
        # Slices compare as wholes, which no standard function does: NumPy's, on the values.
        found_np = np.unique(
            np.asarray(x._backend.to_numpy(x._array)),
            axis=axis,
            return_inverse=True,
            return_counts=True,
        )
        values, inverse, counts = (
            Tensor._wrap(x._backend.from_numpy(part), x._backend)
            for part in (found_np[0], found_np[1].reshape(-1), found_np[2])
        )
    extras = [t for t, wanted in ((inverse, return_inverse), (counts, return_counts)) if wanted]
    return (values, *extras) if extras else values


def bincount(input: Any, weights: Any = None, minlength: int = 0) -> Tensor:
    """How often each value ``0 .. max(input)`` occurs in the 1-d non-negative integer
    ``input`` (at least ``minlength`` bins), as ``torch.bincount``; with ``weights`` (one per
    element) the sum of the weights in each bin instead, in float64 unless the weights are
    float32, differentiable with respect to them (PyTorch's is not).

    Raises:
        ValueError: ``input`` not 1-d or with a negative value, a negative ``minlength``, or
            ``weights`` of another shape (a RuntimeError too, as PyTorch's).
        TypeError: ``input`` not of an integer dtype (a RuntimeError too).
        NotImplementedError: on a lazy backend (the result's size depends on the values).

    Example:
        >>> import dualgrad
        >>> dualgrad.bincount(dualgrad.tensor([0, 3, 3, 1]), minlength=5)
        tensor([1, 1, 0, 2, 0])
    """
    x = as_tensor(input, "bincount")
    if x.dtype.kind not in "iu":
        msg = f"bincount only supports 1-d non-negative integral inputs, got {x.dtype}"
        raise InputTypeError(msg)
    if minlength < 0:
        msg = "minlength should be >= 0"
        raise InputValueError(msg)
    x._backend.check_static_shape("bincount", "compute the tensor's values first")
    found = np.asarray(x._backend.to_numpy(x._array))
    if x.ndim != 1 or (found < 0).any():
        msg = "bincount only supports 1-d non-negative integral inputs."
        raise InputValueError(msg)
    if weights is None:
        backend = x._backend
        counts = np.bincount(found, minlength=minlength).astype(backend.default_integer().name)
        return Tensor._wrap(backend.from_numpy(counts), backend)
    weights = as_tensor(weights, "bincount")
    if weights.shape != x.shape:
        msg = "weights should be 1-d and have the same length as input"
        raise InputValueError(msg)
    if weights.dtype is not fn.float32:
        weights = fn.astype(weights, fn.float64)
    length = max(minlength, int(found.max()) + 1 if found.size else 0)
    bins = fn.zeros((length,), dtype=weights.dtype)
    return bins.index_add(0, x, weights)  # type: ignore[attr-defined, no-any-return]


def _type_as(self: Tensor, other: Tensor) -> Tensor:
    """``self`` in ``other``'s dtype."""
    return self.to(other.dtype)  # type: ignore[attr-defined, no-any-return]


def _where_method(self: Tensor, condition: Any, other: Any) -> Tensor:
    """``where(condition, self, other)``."""
    return fn.where(condition, self, other)


def _round_method(self: Tensor, decimals: int = 0) -> Tensor:
    """``round(self, decimals=decimals)``."""
    return round(self, decimals=decimals)


def _div_method(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """``div(self, other, rounding_mode=rounding_mode)``."""
    return div(self, other, rounding_mode=rounding_mode)


method(_equal, "equal")
method(add, "add")
method(sub, "sub", "subtract")
method(_div_method, "div", "divide")
method(_round_method, "round")
method(in_place(_round_method, "round_"), "round_")
method(unsqueeze, "unsqueeze")
method(nan_to_num)
method(narrow)
method(select)
method(unique)
method(bincount)
method(_type_as, "type_as")
method(_where_method, "where")
method(Tensor.transpose, "swapaxes", "swapdims")  # type: ignore[attr-defined]
method(Tensor.numel, "nelement")
method(lambda self: self.dtype.itemsize, "element_size")
method(lambda self: True, "is_contiguous")  # every tensor holds an array of its own
method(_norm_method, "norm")
method(isclose)
method(allclose)
method(dot)
method(bmm)
