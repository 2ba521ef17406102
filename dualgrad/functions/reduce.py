"""Reductions (``dualgrad.ops.reduce``): sums, means, extremes, products, ``logsumexp``, the
statistics built on them (``var``, ``std``), running sums and products, ``argmax``/``argmin``,
and ``count_nonzero``, ``diff`` and ``trace``, built from them.

Axes are normalized here: the primitives get tuples of negative ints.
"""

from __future__ import annotations

__all__ = [
    "all",
    "any",
    "argmax",
    "argmin",
    "count_nonzero",
    "cumprod",
    "cumsum",
    "cumulative_prod",
    "cumulative_sum",
    "diff",
    "logsumexp",
    "max",
    "mean",
    "min",
    "prod",
    "std",
    "sum",
    "trace",
    "var",
]

import builtins
import math
from typing import Any

import numpy as np

from .. import _dtypes, ops
from .._dispatch import apply, named
from .._dtypes import int64
from ..tensor import Tensor, method
from ._args import AxisError, as_dtype, as_tensor, axis_index, normalize_axes, require_floating
from ._methods import axis_args, cumulative, reduction, statistic, values_indices
from .elementwise import astype, maximum, minimum, not_equal
from .index import diagonal, getitem
from .shape import concat, reshape


# --- sum, mean, max, min, any, all ----------------------------------------------------------
def _reduces_an_empty_axis(x: Tensor, axes: tuple[int, ...]) -> bool:
    """Whether a max or min would have nothing to choose from (an empty stack of rows is fine:
    its result is empty too)."""
    return builtins.any(x.shape[axis] == 0 for axis in axes)


# PyTorch's names for these reductions, over every axis and along some (``SumBackward1``).
_TORCH_NAMES = {
    "sum": (None, "SumBackward1"),
    "mean": (None, "MeanBackward1"),
    "max": ("MaxBackward1", "AmaxBackward0"),
    "min": ("MinBackward1", "AminBackward0"),
}


def _reduction(prim: ops.Primitive, floating_only: bool) -> Any:
    whole, along = _TORCH_NAMES.get(prim.name, (None, None))

    def function(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:
        x = as_tensor(x, prim.name)
        if floating_only and not x.dtype.is_floating_point:
            msg = f"{prim.name}: expected a floating point tensor, got {x.dtype}"
            raise TypeError(msg)
        axes = normalize_axes(axis, x.ndim, prim.name)
        if prim in (ops.max, ops.min) and _reduces_an_empty_axis(x, axes):
            msg = f"{prim.name}: cannot reduce a tensor with no elements"
            raise ValueError(msg)
        out = apply(prim, (x,), {"axis": axes, "keepdims": builtins.bool(keepdims)})
        name = whole if axis is None else along
        return out if name is None else named(out, name)

    function.__name__ = function.__qualname__ = prim.name
    function.__doc__ = (
        f"``{prim.name}`` over ``axis`` (all axes when None), keeping them as length 1 "
        "if ``keepdims``."
    )
    return function


_sum = _reduction(ops.sum, floating_only=False)
_mean = _reduction(ops.mean, floating_only=True)
_max = _reduction(ops.max, floating_only=False)
_min = _reduction(ops.min, floating_only=False)
_any = _reduction(ops.any, floating_only=False)
_all = _reduction(ops.all, floating_only=False)


def sum(
    x: Tensor,
    /,
    dim: Any = None,
    keepdim: bool | None = None,
    *,
    axis: Any = None,
    dtype: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The sum over ``axis`` (all axes when None), computed in ``dtype`` if given.

    Takes the Array API's ``axis=``/``keepdims=`` and PyTorch's ``dim``/``keepdim`` (the
    axis positionally too: ``dualgrad.sum(x, 1)``).
    """
    axis, keepdims, _ = axis_args("sum", dim, keepdim, axis, keepdims)
    x = _with_dtype(as_tensor(x, "sum"), dtype)
    return _in_dtype_of(x, _sum(x, axis=axis, keepdims=keepdims))


def mean(
    x: Tensor,
    /,
    dim: Any = None,
    keepdim: bool | None = None,
    *,
    axis: Any = None,
    dtype: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The mean over ``axis`` (all axes when None); ``dim``/``keepdim`` as in ``sum``."""
    axis, keepdims, _ = axis_args("mean", dim, keepdim, axis, keepdims)
    if dtype is not None:
        x = astype(as_tensor(x, "mean"), dtype, copy=False)
    return _mean(x, axis=axis, keepdims=keepdims)


def any(
    x: Tensor,
    /,
    dim: Any = None,
    keepdim: bool | None = None,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Whether any element over ``axis`` is true; ``dim``/``keepdim`` as in ``sum``."""
    axis, keepdims, _ = axis_args("any", dim, keepdim, axis, keepdims)
    return _any(x, axis=axis, keepdims=keepdims)


def all(
    x: Tensor,
    /,
    dim: Any = None,
    keepdim: bool | None = None,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Whether every element over ``axis`` is true; ``dim``/``keepdim`` as in ``sum``."""
    axis, keepdims, _ = axis_args("all", dim, keepdim, axis, keepdims)
    return _all(x, axis=axis, keepdims=keepdims)


def _extreme(
    name: str,
    x: Tensor,
    dim: Any,
    keepdim: bool | None,
    axis: Any,
    keepdims: bool | None,
) -> Any:
    """``max``/``min`` with both faces: the Array API's reduction (``axis=``) gives the values;
    PyTorch's ``max(x, dim)`` gives ``(values, indices)``; ``max(x, other)`` the elementwise
    maximum."""
    if isinstance(dim, Tensor):
        return (maximum if name == "max" else minimum)(x, dim)
    reduce = _max if name == "max" else _min
    axis, keepdims, torch_face = axis_args(name, dim, keepdim, axis, keepdims)
    if not torch_face or dim is None:
        return reduce(x, axis=axis, keepdims=keepdims)
    if not isinstance(dim, int | np.integer):
        msg = f"{name}: with dim, PyTorch's face takes one axis (an int), got {dim!r}"
        raise TypeError(msg)
    values = reduce(x, axis=dim, keepdims=keepdims)
    finder = argmax if name == "max" else argmin
    values = named(values, "MaxBackward0" if name == "max" else "MinBackward0")
    return values_indices(name, values, finder(x, axis=dim, keepdims=keepdims))


def max(
    x: Tensor,
    /,
    dim: Any = None,
    keepdim: bool | None = None,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Any:
    """The largest element over ``axis`` (all axes when None), in both faces:

    - ``max(x, axis=..., keepdims=...)`` (Array API) and ``max(x)``: the values;
    - ``max(x, dim)`` / ``max(x, dim=..., keepdim=...)`` (PyTorch): ``(values, indices)``, a
      named tuple;
    - ``max(x, other)`` with a Tensor ``other`` (PyTorch): the elementwise ``maximum``.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([[1.0, 5.0], [7.0, 2.0]])
        >>> dualgrad.max(x, axis=1)
        tensor([5., 7.])
        >>> dualgrad.max(x, 1).indices
        tensor([1, 0])
    """
    return _extreme("max", x, dim, keepdim, axis, keepdims)


def min(
    x: Tensor,
    /,
    dim: Any = None,
    keepdim: bool | None = None,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Any:
    """The smallest element over ``axis``, with ``max``'s faces."""
    return _extreme("min", x, dim, keepdim, axis, keepdims)


method(sum)
method(mean)
method(max)
method(min)
method(_max, "amax", adapt=reduction)
method(_min, "amin", adapt=reduction)
method(any)
method(all)


# --- prod, logsumexp ------------------------------------------------------------------------
def prod(
    x: Tensor,
    /,
    dim: Any = None,
    keepdim: bool | None = None,
    *,
    axis: Any = None,
    dtype: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The product of the elements over ``axis`` (all axes when None).

    The gradient needs no division by ``x``, so it is exact where ``x`` has zeros: each element
    gets the product of the others in its reduction.

    Args:
        x: the input tensor.
        axis: an int, a tuple of ints, or None for every axis.
        dtype: the result's dtype (``x`` is converted first); None keeps ``x``'s, except that
            bool and narrower integer tensors give int64, as the Array API says.
        keepdims: keep the reduced axes as length 1.

    Returns:
        The product; ``1`` over no elements.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([[1.0, 0.0], [3.0, 4.0]], requires_grad=True)
        >>> dualgrad.prod(x, axis=1).sum().backward()
        >>> x.grad
        tensor([[0., 1.],
                [4., 3.]])
    """
    axis, keepdims, _ = axis_args("prod", dim, keepdim, axis, keepdims)
    x = _with_dtype(as_tensor(x, "prod"), dtype)
    axes = normalize_axes(axis, x.ndim, "prod")
    return _in_dtype_of(
        x, apply(ops.prod, (x,), {"axis": axes, "keepdims": builtins.bool(keepdims)})
    )


def logsumexp(
    x: Tensor,
    /,
    dim: Any = None,
    keepdim: bool | None = None,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed without overflow.

    The largest element is subtracted before exponentiating, so ``x`` of any magnitude gives a
    finite result; over no elements the result is ``-inf``. The gradient is the softmax of ``x``.

    Args:
        x: a floating point tensor.
        axis: an int, a tuple of ints, or None for every axis.
        keepdims: keep the reduced axes as length 1.

    Returns:
        The reduced tensor.

    Raises:
        TypeError: ``x`` is not floating point.

    Example:
        >>> import dualgrad
        >>> dualgrad.logsumexp(dualgrad.tensor([1000.0, 1000.0]))
        tensor(1000.6932)
    """
    axis, keepdims, _ = axis_args("logsumexp", dim, keepdim, axis, keepdims)
    x = require_floating(x, "logsumexp")
    axes = normalize_axes(axis, x.ndim, "logsumexp")
    return apply(ops.logsumexp, (x,), {"axis": axes, "keepdims": builtins.bool(keepdims)})


# --- var, std -------------------------------------------------------------------------------
def var(
    x: Tensor,
    /,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool | None = None,
    *,
    axis: Any = None,
    correction: float | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The variance over ``axis``: ``sum((x - mean) ** 2) / (N - correction)``.

    ``correction=1`` gives the unbiased sample variance (NumPy's ``ddof=1``, PyTorch's
    ``unbiased=True``). Without ``correction``, the face of the call decides, as each library
    defines it: a call in the Array API's words (``axis=``, ``keepdims=``) gets its default,
    0; any other (``var(x)``, ``var(x, 1)``, ``dim=``, ``keepdim=``) gets PyTorch's, 1. Where
    ``N - correction`` is not positive the result is ``inf`` or ``nan``, as in NumPy.

    Args:
        x: a floating point tensor.
        dim: PyTorch's name of ``axis`` (also positional); a bool here is PyTorch's older
            ``var(x, unbiased)``.
        unbiased: PyTorch's older spelling of ``correction`` (True: 1, False: 0).
        keepdim: PyTorch's name of ``keepdims``.
        axis: an int, a tuple of ints, or None for every axis.
        correction: subtracted from the number of elements ``N`` in the divisor.
        keepdims: keep the reduced axes as length 1.

    Returns:
        The variance.

    Raises:
        TypeError: ``x`` is not floating point, or an argument is given in both spellings.
        ValueError: ``correction`` is negative.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([1.0, 2.0, 3.0, 4.0])
        >>> dualgrad.var(x), dualgrad.var(x, axis=0)
        (tensor(1.6667), tensor(1.2500))
    """
    axis, correction, keepdims = _statistic_args(
        "var", dim, unbiased, keepdim, axis, correction, keepdims
    )
    x = require_floating(x, "var")
    axes = normalize_axes(axis, x.ndim, "var")
    count = math.prod(x.shape[a] for a in axes)
    deviations = x - _mean(x, axis=axes, keepdims=True)
    squares = _sum(deviations * deviations, axis=axes, keepdims=keepdims)
    return named(squares / builtins.max(count - correction, 0.0), "VarBackward0")


def _statistic_args(
    name: str,
    dim: Any,
    unbiased: bool | None,
    keepdim: bool | None,
    axis: Any,
    correction: float | None,
    keepdims: bool | None,
) -> tuple[Any, float, bool]:
    """The axis, correction and keepdims of a ``var``/``std`` call in either face; without a
    correction, 0 in the Array API's words (``axis=``, ``keepdims=``), else PyTorch's 1.

    Raises:
        TypeError: ``correction`` and ``unbiased`` both, or an axis in both spellings.
        ValueError: a negative correction.
    """
    if isinstance(dim, builtins.bool):  # PyTorch's var(x, unbiased)
        dim, unbiased = None, dim
    array_api_face = axis is not None or keepdims is not None
    axis, keepdims_, _ = axis_args(name, dim, keepdim, axis, keepdims)
    if correction is None:
        if unbiased is None:
            correction = 0.0 if array_api_face else 1.0
        else:
            correction = 1.0 if unbiased else 0.0
    elif unbiased is not None:
        msg = f"{name}: give correction or PyTorch's unbiased, not both"
        raise TypeError(msg)
    if correction < 0:
        msg = f"{name}: correction must be non-negative, got {correction}"
        raise ValueError(msg)
    return axis, correction, keepdims_


def std(
    x: Tensor,
    /,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool | None = None,
    *,
    axis: Any = None,
    correction: float | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The standard deviation over ``axis``: the square root of ``var`` (same arguments, same
    rule for the default correction).

    Where the standard deviation is 0 (a constant), its gradient is 0, as in PyTorch, though
    it has no derivative there: it is the 2-norm of the deviations over the square root of
    ``N - correction``, and the norm's gradient at 0 is 0.

    Example:
        >>> import dualgrad
        >>> dualgrad.std(dualgrad.tensor([[1.0, 3.0], [2.0, 2.0]]), axis=1)
        tensor([1., 0.])
    """
    axis, correction, keepdims = _statistic_args(
        "std", dim, unbiased, keepdim, axis, correction, keepdims
    )
    x = require_floating(x, "std")
    axes = normalize_axes(axis, x.ndim, "std")
    count = math.prod(x.shape[a] for a in axes)
    deviations = x - _mean(x, axis=axes, keepdims=True)
    params = {"axis": axes, "keepdims": builtins.bool(keepdims)}
    norm = apply(ops.euclidean_norm, (deviations,), params)
    return named(norm / math.sqrt(builtins.max(count - correction, 0.0)), "StdBackward0")


# --- cumulative sums and products -----------------------------------------------------------
def cumulative_sum(
    x: Tensor,
    /,
    *,
    axis: int | None = None,
    dtype: Any = None,
    include_initial: bool = False,
) -> Tensor:
    """Running sums along ``axis``.

    Args:
        x: a tensor with at least one dimension.
        axis: the axis; may be None only for a 1-D ``x``.
        dtype: the result's dtype (``x`` is converted first); None keeps ``x``'s, except that
            bool and narrower integer tensors give int64, as the Array API says.
        include_initial: start with the sum of no elements (0), so the axis grows by one.

    Returns:
        The running sums.

    Raises:
        ValueError: ``x`` is 0-d, or ``axis`` is None for ``x`` with several dimensions.

    Example:
        >>> import dualgrad
        >>> dualgrad.cumulative_sum(dualgrad.tensor([1.0, 2.0, 3.0]), include_initial=True)
        tensor([0., 1., 3., 6.])
    """
    return _cumulative(ops.cumulative_sum, 0, x, axis, dtype, include_initial)


def cumulative_prod(
    x: Tensor,
    /,
    *,
    axis: int | None = None,
    dtype: Any = None,
    include_initial: bool = False,
) -> Tensor:
    """Running products along ``axis``.

    First derivatives are exact where ``x`` has zeros. Second derivatives are exact with at
    most one zero along the axis; with exactly two zeros, the second derivative of the output
    with respect to both of them is taken as 0. Running products that underflow to 0 with no
    zero in ``x`` pass no gradient back.

    Args:
        x: a tensor with at least one dimension.
        axis: the axis; may be None only for a 1-D ``x``.
        dtype: the result's dtype (``x`` is converted first); None keeps ``x``'s, except that
            bool and narrower integer tensors give int64, as the Array API says.
        include_initial: start with the product of no elements (1), so the axis grows by one.

    Returns:
        The running products.

    Raises:
        ValueError: ``x`` is 0-d, or ``axis`` is None for ``x`` with several dimensions.

    Example:
        >>> import dualgrad
        >>> dualgrad.cumulative_prod(dualgrad.tensor([1.0, 2.0, 3.0]))
        tensor([1., 2., 6.])
    """
    return _cumulative(ops.cumulative_prod, 1, x, axis, dtype, include_initial)


def _cumulative(
    prim: ops.Primitive, initial: int, x: Any, axis: Any, dtype: Any, include_initial: bool
) -> Tensor:
    x = _with_dtype(as_tensor(x, prim.name), dtype)
    if x.ndim == 0:
        msg = f"{prim.name}: expected at least one dimension, got a 0-d tensor; reshape it to (1,)"
        raise ValueError(msg)
    if axis is None:
        if x.ndim > 1:
            msg = (
                f"{prim.name}: axis is required for a tensor of shape {tuple(x.shape)}; "
                "pass axis=, or flatten it first with dualgrad.reshape(x, (-1,))"
            )
            raise ValueError(msg)
        axis = 0
    (normalized,) = normalize_axes(axis, x.ndim, prim.name)
    out = _in_dtype_of(x, apply(prim, (x,), {"axis": normalized}))
    if not include_initial:
        return out
    shape = tuple(1 if i - x.ndim == normalized else n for i, n in enumerate(x.shape))
    backend = x._backend
    native = backend.native_dtype(x.dtype)
    start = Tensor._wrap(backend.namespace.full(shape, initial, dtype=native), backend)
    return concat([start, out], axis=normalized)


def _in_dtype_of(x: Tensor, out: Tensor) -> Tensor:
    """``out`` in ``x``'s dtype: a backend may widen a narrow integer sum by itself (NumPy sums
    uint8 in uint64), where the dtype asked for must stand."""
    return out if out.dtype is x.dtype else astype(out, x.dtype)


def _with_dtype(x: Tensor, dtype: Any) -> Tensor:
    """``x`` in ``dtype``; with None, integers widened as the Array API's sums and products are:
    signed ones (and bool, as in PyTorch) to int64, unsigned ones to uint64 (int64 on a backend
    without it)."""
    if dtype is not None:
        return astype(x, as_dtype(dtype), copy=False)
    if x.dtype.kind == "b" or (x.dtype.kind == "i" and x.dtype.itemsize < 8):
        return astype(x, _dtypes.int64)
    if x.dtype.kind == "u" and x.dtype.itemsize < 8:
        try:
            x._backend.native_dtype(_dtypes.uint64)
        except TypeError:
            return astype(x, _dtypes.int64)  # holds every narrower unsigned value
        return astype(x, _dtypes.uint64)
    return x


# --- argmax, argmin -------------------------------------------------------------------------
def argmax(
    x: Tensor,
    /,
    dim: int | None = None,
    keepdim: bool | None = None,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The index of the largest element along ``axis`` (of the flattened ``x`` when None);
    PyTorch's ``dim``/``keepdim`` (and a positional dim) are taken too.

    The first index wins a tie. The result is int64 and never requires grad.

    Args:
        x: the input tensor.
        axis: an int, or None for the flattened tensor.
        keepdims: keep the reduced axis (every axis, when ``axis`` is None) as length 1.

    Returns:
        An int64 tensor of indices.

    Raises:
        ValueError: the axis has no elements.

    Example:
        >>> import dualgrad
        >>> dualgrad.argmax(dualgrad.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1)
        tensor([1, 0])
    """
    axis, keepdims, _ = axis_args("argmax", dim, keepdim, axis, keepdims)
    return _arg_extreme(ops.argmax, x, axis, keepdims)


def argmin(
    x: Tensor,
    /,
    dim: int | None = None,
    keepdim: bool | None = None,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The index of the smallest element along ``axis``; see ``argmax``.

    Example:
        >>> import dualgrad
        >>> dualgrad.argmin(dualgrad.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1)
        tensor([0, 1])
    """
    axis, keepdims, _ = axis_args("argmin", dim, keepdim, axis, keepdims)
    return _arg_extreme(ops.argmin, x, axis, keepdims)


def _arg_extreme(prim: ops.Primitive, x: Any, axis: Any, keepdims: bool) -> Tensor:
    x = as_tensor(x, prim.name)
    if axis is not None and not isinstance(axis, int):
        msg = f"{prim.name}: axis must be an int or None, got {axis!r}"
        raise TypeError(msg)
    if axis is None:
        flat = reshape(x, (-1,))
        if flat.shape[0] == 0:
            msg = f"{prim.name}: cannot take the index of a tensor with no elements"
            raise ValueError(msg)
        index = apply(prim, (flat,), {"axis": -1, "keepdims": False})
        return reshape(index, (1,) * x.ndim) if keepdims else index
    if x.ndim == 0:
        if axis not in (0, -1):
            msg = f"{prim.name}: axis {axis} is out of range for a tensor with 0 dimensions"
            raise AxisError(msg)
        return _arg_extreme(prim, x, None, keepdims)
    (normalized,) = normalize_axes(axis, x.ndim, prim.name)
    if x.shape[normalized] == 0:
        msg = f"{prim.name}: axis {axis} of a tensor of shape {tuple(x.shape)} has no elements"
        raise ValueError(msg)
    return apply(prim, (x,), {"axis": normalized, "keepdims": builtins.bool(keepdims)})


def cumsum(x: Tensor, /, dim: int | None = None, *, dtype: Any = None) -> Tensor:
    """PyTorch's name of ``cumulative_sum``: running sums along ``dim``."""
    return cumulative_sum(x, axis=dim, dtype=dtype)


def cumprod(x: Tensor, /, dim: int | None = None, *, dtype: Any = None) -> Tensor:
    """PyTorch's name of ``cumulative_prod``: running products along ``dim``."""
    return cumulative_prod(x, axis=dim, dtype=dtype)


method(prod)
method(logsumexp)
method(var, adapt=statistic)
method(std, adapt=statistic)
method(cumulative_sum, "cumsum", adapt=cumulative)
method(cumulative_prod, "cumprod", adapt=cumulative)
method(argmax)
method(argmin)


# --- built from the above -------------------------------------------------------------------
def count_nonzero(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The number of non-zero elements over ``axis`` (all axes when None), as int64.

    Example:
        >>> import dualgrad
        >>> dualgrad.count_nonzero(dualgrad.tensor([[0.0, 1.0], [2.0, 3.0]]), axis=1)
        tensor([1, 2])
    """
    x = as_tensor(x, "count_nonzero")
    return sum(astype(not_equal(x, 0), int64), axis=axis, keepdims=keepdims)


def diff(
    x: Tensor,
    /,
    *,
    axis: int = -1,
    n: int = 1,
    prepend: Tensor | None = None,
    append: Tensor | None = None,
) -> Tensor:
    """The ``n``-th forward difference along ``axis``, after joining ``prepend`` and ``append``.

    Differentiable: each difference is a subtraction of two slices.

    Raises:
        ValueError: ``x`` is 0-d or ``n`` is negative.

    Example:
        >>> import dualgrad
        >>> dualgrad.diff(dualgrad.tensor([1.0, 4.0, 9.0, 16.0]), n=2)
        tensor([2., 2.])
    """
    x = as_tensor(x, "diff")
    if x.ndim == 0:
        msg = "diff: expected at least one dimension, got a 0-d tensor"
        raise ValueError(msg)
    if n < 0:
        msg = f"diff: n must be non-negative, got {n}"
        raise ValueError(msg)
    axis = axis_index(axis, x.ndim, "diff")
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = concat([as_tensor(p, "diff") for p in parts], axis=axis)
    before = (slice(None),) * axis
    for _ in range(n):
        if x.shape[axis] == 0:
            break  # nothing left to difference
        x = getitem(x, (*before, slice(1, None))) - getitem(x, (*before, slice(None, -1)))
    return x


def trace(
    x: Tensor, /, *, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None
) -> Tensor:
    """The sum along a diagonal of the matrices spanned by ``axis1`` and ``axis2``.

    As NumPy's ``trace`` (PyTorch's takes 2-D tensors only); ``dualgrad.linalg.trace`` is the
    Array API's version, on the last two axes.

    Args:
        x: a tensor with at least 2 dimensions.
        offset: which diagonal (positive above the main one, negative below).
        axis1: the rows' axis.
        axis2: the columns' axis.
        dtype: the result's dtype (default: ``x``'s).

    Returns:
        A tensor of ``x``'s other axes.

    Raises:
        ValueError: as ``diagonal``.

    Example:
        >>> import dualgrad
        >>> dualgrad.trace(dualgrad.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor(5.)
    """
    diag = diagonal(x, offset=offset, axis1=axis1, axis2=axis2)
    if dtype is not None:
        diag = astype(diag, dtype)
    return sum(diag, axis=-1)


method(trace)
