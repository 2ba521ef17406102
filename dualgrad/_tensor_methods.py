"""Tensor's operators and methods, attached to the class once the functions they call exist.

``tensor.py`` cannot import the functions (they import Tensor), so the package imports this
module after both, and every operator is a direct reference to its function: no extra call
layer on the hot path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _functions as fn
from ._dtypes import BY_NAME
from .tensor import Tensor


def _reduce_axis(axis: Any, keepdims: bool, dim: Any, keepdim: bool | None) -> dict[str, Any]:
    """Array API ``axis``/``keepdims`` or PyTorch ``dim``/``keepdim``, whichever is given."""
    return {
        "axis": dim if axis is None else axis,
        "keepdims": keepdims if keepdim is None else keepdim,
    }


def _shape_args(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """``reshape(2, 3)`` and ``reshape((2, 3))`` alike, as in PyTorch."""
    return tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else shape


def _statistic(function: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``var``/``std`` with PyTorch's spelling too: ``dim``, ``keepdim``, ``unbiased``, and
    PyTorch's default correction of 1 (the Array API's default is 0; pass it explicitly)."""

    def method(
        self: Tensor,
        axis: Any = None,
        *,
        correction: float | None = None,
        keepdims: bool = False,
        dim: Any = None,
        keepdim: bool | None = None,
        unbiased: bool | None = None,
    ) -> Tensor:
        if correction is None:
            correction = 1.0 if unbiased is None or unbiased else 0.0
        return function(self, correction=correction, **_reduce_axis(axis, keepdims, dim, keepdim))

    method.__name__ = function.__name__
    method.__doc__ = function.__doc__
    return method


def _reduction(function: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """A reduction method taking the Array API's ``axis``/``keepdims`` or PyTorch's spelling."""

    def method(
        self: Tensor,
        axis: Any = None,
        keepdims: bool = False,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        return function(self, **_reduce_axis(axis, keepdims, dim, keepdim))

    method.__name__ = function.__name__
    method.__doc__ = function.__doc__
    return method


def _cumulative(function: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """PyTorch's ``cumsum(dim)``: the axis positionally."""

    def method(self: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
        return function(self, axis=dim if axis is None else axis)

    method.__name__ = function.__name__
    method.__doc__ = function.__doc__
    return method


def _diagonal(self: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal over axes ``dim1`` and ``dim2`` (PyTorch's ``diagonal``)."""
    return fn.diagonal(self, offset=offset, axis1=dim1, axis2=dim2)


def _argsort(
    self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
) -> Tensor:
    """Indices that sort along ``dim``."""
    return fn.argsort(self, axis=dim, descending=descending, stable=stable)


class _SortResult(tuple):
    """``(values, indices)``, as PyTorch's ``sort`` returns."""

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]


def _sort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """``(values, indices)`` sorted along ``dim``, as PyTorch's ``sort``; the values carry the
    gradient through the permutation."""
    indices = fn.argsort(self, axis=dim, descending=descending, stable=stable)
    return _SortResult((fn.take_along_axis(self, indices, axis=dim), indices))


def _nn() -> Any:
    from .nn import functional  # imports the functions themselves

    return functional


def _setitem(self: Tensor, key: Any, value: Any) -> None:
    """``self[key] = value``, recorded in the graph: the gradient reaches both the overwritten
    tensor (zero where overwritten) and ``value``."""
    self._update(lambda x: fn.index_put(x, key, value), "__setitem__")


def _install_methods() -> None:
    def swap(function: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
        return lambda self, other: function(other, self)

    methods: dict[str, Any] = {
        "__add__": fn.add,
        "__radd__": swap(fn.add),
        "__sub__": fn.subtract,
        "__rsub__": swap(fn.subtract),
        "__mul__": fn.multiply,
        "__rmul__": swap(fn.multiply),
        "__truediv__": fn.divide,
        "__rtruediv__": swap(fn.divide),
        "__floordiv__": fn.floor_divide,
        "__rfloordiv__": swap(fn.floor_divide),
        "__mod__": fn.remainder,
        "__rmod__": swap(fn.remainder),
        "__pow__": fn.pow,
        "__rpow__": swap(fn.pow),
        "__matmul__": fn.matmul,
        "__rmatmul__": swap(fn.matmul),
        "__neg__": fn.negative,
        "__pos__": fn.positive,
        "__abs__": fn.abs,
        "__invert__": fn.bitwise_invert,
        "__and__": fn.bitwise_and,
        "__rand__": swap(fn.bitwise_and),
        "__or__": fn.bitwise_or,
        "__ror__": swap(fn.bitwise_or),
        "__xor__": fn.bitwise_xor,
        "__rxor__": swap(fn.bitwise_xor),
        "__lt__": fn.less,
        "__le__": fn.less_equal,
        "__gt__": fn.greater,
        "__ge__": fn.greater_equal,
        "__eq__": fn.equal,
        "__ne__": fn.not_equal,
        "__getitem__": fn.getitem,
        "sum": _reduction(fn.sum),
        "mean": _reduction(fn.mean),
        "max": _reduction(fn.max),
        "min": _reduction(fn.min),
        "amax": _reduction(fn.max),
        "amin": _reduction(fn.min),
        "any": _reduction(fn.any),
        "all": _reduction(fn.all),
        "add": fn.add,
        "sub": fn.subtract,
        "subtract": fn.subtract,
        "mul": fn.multiply,
        "multiply": fn.multiply,
        "div": fn.divide,
        "divide": fn.divide,
        "pow": fn.pow,
        "maximum": fn.maximum,
        "minimum": fn.minimum,
        "matmul": fn.matmul,
        "mm": fn.matmul,
        "neg": fn.negative,
        "negative": fn.negative,
        "clip": fn.clip,
        "clamp": fn.clip,
        "astype": fn.astype,
        "broadcast_to": fn.broadcast_to,
        "permute_dims": fn.permute_dims,
        "squeeze": fn.squeeze,
        "expand_dims": fn.expand_dims,
        "unsqueeze": fn.expand_dims,
    }
    for name in (
        "abs", "exp", "log", "sin", "cos", "tanh", "sqrt", "square", "sign", "floor", "ceil",
        "trunc", "round", "isnan", "isinf", "isfinite", "logical_not",
        "acos", "asin", "atan", "atan2", "acosh", "asinh", "atanh", "cosh", "sinh", "tan",
        "expm1", "log1p", "log2", "log10", "logaddexp", "hypot", "copysign", "reciprocal",
        "sigmoid", "signbit", "outer", "tril", "triu",
    ):  # fmt: skip
        methods[name] = getattr(fn, name)
    for torch_name, name in (
        ("arccos", "acos"), ("arcsin", "asin"), ("arctan", "atan"), ("arctan2", "atan2"),
        ("arccosh", "acosh"), ("arcsinh", "asinh"), ("arctanh", "atanh"),
    ):  # fmt: skip
        methods[torch_name] = getattr(fn, name)
    methods.update(
        __lshift__=fn.bitwise_left_shift,
        __rlshift__=swap(fn.bitwise_left_shift),
        __rshift__=fn.bitwise_right_shift,
        __rrshift__=swap(fn.bitwise_right_shift),
        prod=_reduction(fn.prod),
        logsumexp=_reduction(fn.logsumexp),
        var=_statistic(fn.var),
        std=_statistic(fn.std),
        argmax=_reduction(fn.argmax),
        argmin=_reduction(fn.argmin),
        cumsum=_cumulative(fn.cumulative_sum),
        cumprod=_cumulative(fn.cumulative_prod),
        trace=fn.trace,
        diagonal=_diagonal,
        det=lambda self: fn.linalg.det(self),
        inverse=lambda self: fn.linalg.inv(self),
        slogdet=lambda self: fn.linalg.slogdet(self),
        flip=lambda self, dims=None: fn.flip(self, axis=dims),
        roll=lambda self, shifts, dims=None: fn.roll(self, shifts, axis=dims),
        tile=lambda self, *reps: fn.tile(self, _shape_args(reps)),
        repeat=lambda self, *sizes: fn.tile(self, _shape_args(sizes)),  # PyTorch's repeat tiles
        repeat_interleave=lambda self, repeats, dim=None: fn.repeat(self, repeats, axis=dim),
        argsort=_argsort,
        sort=_sort,
        take=lambda self, indices: fn.take(fn.reshape(self, (-1,)), indices, axis=0),
        movedim=lambda self, source, destination: fn.moveaxis(self, source, destination),
        moveaxis=lambda self, source, destination: fn.moveaxis(self, source, destination),
        __setitem__=_setitem,
        erf=fn.erf,
        relu=lambda self: _nn().relu(self),
        softmax=lambda self, dim: _nn().softmax(self, dim=dim),
        log_softmax=lambda self, dim: _nn().log_softmax(self, dim=dim),
    )
    for name, function in methods.items():
        setattr(Tensor, name, function)


def _reshape(self: Tensor, *shape: Any) -> Tensor:
    """``self`` with a new shape; ``reshape(2, 3)`` and ``reshape((2, 3))`` both work."""
    return fn.reshape(self, _shape_args(shape))


def _permute(self: Tensor, *dims: Any) -> Tensor:
    """Reorder the axes (PyTorch's ``permute``)."""
    return fn.permute_dims(self, _shape_args(dims))


def _transpose(self: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap axes ``dim0`` and ``dim1`` (PyTorch's ``transpose``)."""
    axes = list(range(self.ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return fn.permute_dims(self, axes)


def _reversed_axes(self: Tensor) -> Tensor:
    """All axes reversed (``.T``)."""
    return fn.permute_dims(self, tuple(reversed(range(self.ndim))))


def _matrix_transposed(self: Tensor) -> Tensor:
    """The last two axes swapped (``.mT``)."""
    return fn.matrix_transpose(self)


def _flatten(self: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes ``start_dim`` to ``end_dim`` into one."""
    if self.ndim == 0:
        return fn.reshape(self, (1,))
    start, end = start_dim % self.ndim, end_dim % self.ndim
    merged = 1
    for n in self.shape[start : end + 1]:
        merged *= n
    return fn.reshape(self, (*self.shape[:start], merged, *self.shape[end + 1 :]))


def _expand(self: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to ``sizes``; -1 keeps a length (PyTorch's ``expand``)."""
    sizes = _shape_args(sizes)
    lead = len(sizes) - self.ndim
    shape = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
    return fn.broadcast_to(self, shape)


def _to(self: Tensor, dtype: Any) -> Tensor:
    """``self`` in another dtype (the gradient converts back)."""
    return fn.astype(self, dtype, copy=False)


def _clone(self: Tensor) -> Tensor:
    """A copy that stays in the graph (its gradient flows back to ``self``)."""
    return fn.positive(self)


def _converter(dtype_name: str) -> Callable[[Tensor], Tensor]:
    def convert(self: Tensor) -> Tensor:
        return _to(self, BY_NAME[dtype_name])

    convert.__doc__ = f"``self`` as {dtype_name}."
    return convert


Tensor.reshape = _reshape  # type: ignore[attr-defined]
Tensor.view = _reshape  # type: ignore[attr-defined]
Tensor.permute = _permute  # type: ignore[attr-defined]
Tensor.transpose = _transpose  # type: ignore[attr-defined]
Tensor.T = property(_reversed_axes)  # type: ignore[attr-defined]
Tensor.mT = property(_matrix_transposed)  # type: ignore[attr-defined]
Tensor.t = _reversed_axes  # type: ignore[attr-defined]
Tensor.flatten = _flatten  # type: ignore[attr-defined]
Tensor.expand = _expand  # type: ignore[attr-defined]
Tensor.to = _to  # type: ignore[attr-defined]
Tensor.clone = _clone  # type: ignore[attr-defined]
Tensor.float = _converter("float32")  # type: ignore[attr-defined]
Tensor.double = _converter("float64")  # type: ignore[attr-defined]
Tensor.long = _converter("int64")  # type: ignore[attr-defined]
Tensor.int = _converter("int32")  # type: ignore[attr-defined]
Tensor.bool = _converter("bool")  # type: ignore[attr-defined]
_install_methods()
