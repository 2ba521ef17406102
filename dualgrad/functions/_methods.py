"""Adapters from a function to the Tensor method of PyTorch's signature (``method``'s ``adapt``).

The functions take the Array API's arguments; the methods take PyTorch's too (``x.sum(1)``,
``x.sum(dim=1, keepdim=True)``, ``x.reshape(2, 3)``), as PyTorch programs call them. Each
family module declares its methods next to its functions with ``dualgrad.tensor.method``, and
adapts them with these where the signatures differ.
"""

from __future__ import annotations

__all__ = [
    "ValuesIndices",
    "axis_args",
    "cumulative",
    "in_place",
    "reduction",
    "reflected",
    "shape_args",
    "statistic",
    "values_indices",
]

from collections.abc import Callable
from typing import Any, NamedTuple

from ..tensor import Tensor

Function = Callable[..., Tensor]


class ValuesIndices(NamedTuple):
    """``(values, indices)``, as PyTorch's ``max(x, dim)``, ``min``, ``sort`` and ``topk``
    return them (``values_indices`` makes them, named after the function, as PyTorch's
    ``torch.return_types.max`` print)."""

    values: Tensor
    indices: Tensor

    def __repr__(self) -> str:
        name = getattr(type(self), "function", "ValuesIndices")
        return f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"


_VALUES_INDICES: dict[str, type[ValuesIndices]] = {}


def values_indices(function: str, values: Tensor, indices: Tensor) -> ValuesIndices:
    """``ValuesIndices(values, indices)`` of a subclass that prints as ``function``'s result."""
    kind = _VALUES_INDICES.get(function)
    if kind is None:
        kind = type(function, (ValuesIndices,), {"__slots__": (), "function": function})
        _VALUES_INDICES[function] = kind
    return kind(values, indices)


def reflected(function: Function) -> Function:
    """The reflected operator (``__radd__``): ``function(other, self)``."""
    return lambda self, other: function(other, self)


def in_place(function: Function, name: str) -> Function:
    """The in-place form (``__ipow__``, ``exp_``, ``scatter_``): ``function(self, ...)`` swapped
    into ``self``.

    Through Tensor's in-place protocol, as ``+=`` goes: the tensor keeps its shape and dtype (a
    result that would change either raises and changes nothing), its version is bumped, and
    autograd follows PyTorch (a leaf that requires grad refuses outside ``no_grad()``).
    """

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return self._update(lambda before: function(before, *args, **kwargs), name)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``{name.strip('_')}`` in place."
    return method


def shape_args(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """``reshape(2, 3)`` and ``reshape((2, 3))`` alike, as in PyTorch."""
    return tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else shape


def _axis_args(axis: Any, keepdims: bool, dim: Any, keepdim: bool | None) -> dict[str, Any]:
    """Array API ``axis``/``keepdims`` or PyTorch ``dim``/``keepdim``, whichever is given."""
    return {
        "axis": dim if axis is None else axis,
        "keepdims": keepdims if keepdim is None else keepdim,
    }


def axis_args(
    op_name: str, dim: Any, keepdim: bool | None, axis: Any, keepdims: bool | None
) -> tuple[Any, bool, bool]:
    """The axis and keepdims of a call that may use either face, and whether it used PyTorch's.

    The rule for the module-level functions: the Array API passes the axis by keyword only
    (``axis=``, ``keepdims=``), so an axis given positionally or as ``dim=`` / ``keepdim=`` is
    PyTorch's face; the call is unambiguous either way. Giving both spellings is an error.

    Raises:
        TypeError: both ``dim`` and ``axis``, or both ``keepdim`` and ``keepdims``.
    """
    if dim is not None and axis is not None:
        msg = f"{op_name}: give the axis once, as dim (PyTorch) or axis (Array API), not both"
        raise TypeError(msg)
    if keepdim is not None and keepdims is not None:
        msg = f"{op_name}: give keepdim (PyTorch) or keepdims (Array API), not both"
        raise TypeError(msg)
    torch_face = dim is not None or keepdim is not None
    chosen_axis = dim if axis is None else axis
    chosen_keepdims = keepdim if keepdims is None else keepdims
    return chosen_axis, bool(chosen_keepdims), torch_face


def reduction(function: Function) -> Function:
    """A reduction method taking the Array API's ``axis``/``keepdims`` or PyTorch's spelling."""

    def method(
        self: Tensor,
        axis: Any = None,
        keepdims: bool = False,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        return function(self, **_axis_args(axis, keepdims, dim, keepdim))

    return _named(method, function)


def statistic(function: Function) -> Function:
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
        return function(self, correction=correction, **_axis_args(axis, keepdims, dim, keepdim))

    return _named(method, function)


def cumulative(function: Function) -> Function:
    """PyTorch's ``cumsum(dim)``: the axis positionally."""

    def method(self: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
        return function(self, axis=dim if axis is None else axis)

    return _named(method, function)


def _named(method: Function, function: Function) -> Function:
    """``method`` under ``function``'s name and docstring."""
    method.__name__ = function.__name__
    method.__doc__ = function.__doc__
    return method
