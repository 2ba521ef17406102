"""The differentiable functions, by their Array API names, taking Tensors and Python numbers.

Each validates and canonicalizes its arguments (axes become tuples of negative ints, 1-D
``matmul`` operands are promoted, indices become backend arrays) and hands a primitive to the
dispatcher. This module is also the namespace the derivative rules are handed when their result
must itself be differentiable (``create_graph=True``): every name a rule calls on ``xp`` exists
here, taking and returning Tensors.

The Array API names shadow Python builtins here (``sum``, ``max``, ``any``, ``round``, ...):
inside this module, call ``builtins.<name>`` for Python's own.
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops
from ._creation import as_dtype, full_like, ones_like, zeros_like  # noqa: F401 - rules call them
from ._dispatch import apply, broadcast_shapes, elementwise
from ._dtypes import *  # noqa: F403 - rules spell dtypes by name on their namespace
from .tensor import Tensor

__all__ = [
    "abs",
    "add",
    "all",
    "any",
    "astype",
    "bitwise_and",
    "bitwise_invert",
    "bitwise_or",
    "bitwise_xor",
    "broadcast_to",
    "ceil",
    "clip",
    "concat",
    "cos",
    "divide",
    "equal",
    "exp",
    "expand_dims",
    "floor",
    "floor_divide",
    "greater",
    "greater_equal",
    "isfinite",
    "isinf",
    "isnan",
    "less",
    "less_equal",
    "log",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "matmul",
    "matrix_transpose",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "multiply",
    "negative",
    "not_equal",
    "permute_dims",
    "positive",
    "pow",
    "remainder",
    "reshape",
    "round",
    "sign",
    "sin",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "subtract",
    "sum",
    "tanh",
    "trunc",
    "where",
]


class AxisError(ValueError, IndexError):
    """An axis out of range (both a ValueError, as in NumPy, and an IndexError, as in PyTorch)."""


def _tensor(x: Any, op_name: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    msg = f"{op_name}: expected a Tensor, got {type(x).__name__}; wrap it with dualgrad.asarray"
    raise TypeError(msg)


# --- elementwise ----------------------------------------------------------------------------
def _elementwise_function(prim: ops.Primitive, nin: int) -> Any:
    if nin == 1:

        def function(x: Tensor, /) -> Tensor:
            # One Tensor has nothing to promote or broadcast: straight to the dispatcher.
            return apply(prim, (_tensor(x, prim.name),), {})

    else:

        def function(x1: Any, x2: Any, /) -> Tensor:
            return elementwise(prim, x1, x2)

    function.__name__ = function.__qualname__ = prim.name
    function.__doc__ = (
        f"Elementwise ``{prim.name}``, following the Array API; differentiable where defined."
    )
    return function


add = _elementwise_function(ops.add, 2)
subtract = _elementwise_function(ops.subtract, 2)
multiply = _elementwise_function(ops.multiply, 2)


def divide(x1: Any, x2: Any, /) -> Tensor:
    """True division; integer and bool tensors are divided in the default float dtype."""
    return elementwise(ops.divide, _as_float(x1), _as_float(x2))


def _as_float(x: Any) -> Any:
    if isinstance(x, Tensor) and not x.dtype.is_floating_point and not x.dtype.is_complex:
        from .config import get_default_dtype

        return astype(x, get_default_dtype())
    return x


def pow(x1: Any, x2: Any, /) -> Tensor:
    """Elementwise ``pow``, following the Array API; differentiable where defined.

    A floating Tensor raised to a Python number takes the scalar-exponent primitive, whose
    rules are cheaper (as PyTorch's ``pow(Tensor, Scalar)``).
    """
    if (
        isinstance(x1, Tensor)
        and (type(x2) is int or type(x2) is float)
        and x1.dtype.is_floating_point
    ):
        return apply(ops.pow_scalar, (x1,), {"exponent": x2})
    return elementwise(ops.pow, x1, x2)


maximum = _elementwise_function(ops.maximum, 2)
minimum = _elementwise_function(ops.minimum, 2)
remainder = _elementwise_function(ops.remainder, 2)
floor_divide = _elementwise_function(ops.floor_divide, 2)
negative = _elementwise_function(ops.negative, 1)
positive = _elementwise_function(ops.positive, 1)
abs = _elementwise_function(ops.abs, 1)
exp = _elementwise_function(ops.exp, 1)
log = _elementwise_function(ops.log, 1)
sin = _elementwise_function(ops.sin, 1)
cos = _elementwise_function(ops.cos, 1)
tanh = _elementwise_function(ops.tanh, 1)
sqrt = _elementwise_function(ops.sqrt, 1)
square = _elementwise_function(ops.square, 1)
sign = _elementwise_function(ops.sign, 1)
floor = _elementwise_function(ops.floor, 1)
ceil = _elementwise_function(ops.ceil, 1)
trunc = _elementwise_function(ops.trunc, 1)
round = _elementwise_function(ops.round, 1)
equal = _elementwise_function(ops.equal, 2)
not_equal = _elementwise_function(ops.not_equal, 2)
less = _elementwise_function(ops.less, 2)
less_equal = _elementwise_function(ops.less_equal, 2)
greater = _elementwise_function(ops.greater, 2)
greater_equal = _elementwise_function(ops.greater_equal, 2)
logical_and = _elementwise_function(ops.logical_and, 2)
logical_or = _elementwise_function(ops.logical_or, 2)
logical_xor = _elementwise_function(ops.logical_xor, 2)
logical_not = _elementwise_function(ops.logical_not, 1)
bitwise_and = _elementwise_function(ops.bitwise_and, 2)
bitwise_or = _elementwise_function(ops.bitwise_or, 2)
bitwise_xor = _elementwise_function(ops.bitwise_xor, 2)
bitwise_invert = _elementwise_function(ops.bitwise_invert, 1)
isnan = _elementwise_function(ops.isnan, 1)
isinf = _elementwise_function(ops.isinf, 1)
isfinite = _elementwise_function(ops.isfinite, 1)


def where(condition: Any, x1: Any, x2: Any, /) -> Tensor:
    """``x1`` where ``condition`` holds, else ``x2``; differentiable in ``x1`` and ``x2``.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([-1.0, 2.0])
        >>> dualgrad.where(x > 0, x, 0.0)
        tensor([0., 2.])
    """
    return elementwise(ops.where, condition, x1, x2)


def clip(x: Tensor, /, min: Any = None, max: Any = None) -> Tensor:
    """Clamp ``x`` into ``[min, max]``; either bound may be None, a number or a Tensor.

    The gradient passes to ``x`` where it lies within the bounds (bounds included), as in
    PyTorch's ``clamp``, and to a Tensor bound where ``x`` was clipped to it.
    """
    x = _tensor(x, "clip")
    if min is None and max is None:
        msg = "clip: at least one of min and max must be given"
        raise ValueError(msg)
    dtype = x.dtype
    if dtype.is_floating_point:
        low, high = -np.inf if min is None else min, np.inf if max is None else max
    else:
        info = np.iinfo(dtype.name) if dtype.kind != "b" else None
        low = (info.min if info else False) if min is None else min
        high = (info.max if info else True) if max is None else max
    return elementwise(ops.clip, x, low, high)


def astype(x: Tensor, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Tensor:
    """``x`` converted to ``dtype``; the gradient is converted back.

    ``device`` must be None or ``x``'s device: tensors stay on the device they were made on.
    """
    x = _tensor(x, "astype")
    if device is not None and device != x.device:
        msg = (
            f"astype: cannot move a tensor on {x.device} to {device}; "
            "create it on that device instead (device= of dualgrad.asarray)"
        )
        raise ValueError(msg)
    dtype = as_dtype(dtype)
    if dtype is x.dtype and not copy:
        return x
    return apply(ops.astype, (x,), {"dtype": dtype})


# --- reductions -----------------------------------------------------------------------------
def normalize_axes(axis: Any, ndim: int, op_name: str) -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence of ints) as a sorted tuple of negative ints."""
    if axis is None:
        return tuple(range(-ndim, 0))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    normalized = []
    for a in axes:
        if not -builtins.max(ndim, 1) <= a < builtins.max(ndim, 1):
            msg = f"{op_name}: axis {a} is out of range for a tensor with {ndim} dimensions"
            raise AxisError(msg)
        normalized.append(int(a) - ndim if a >= 0 else int(a))
    if len(set(normalized)) != len(normalized):
        msg = f"{op_name}: repeated axis in {axis}"
        raise ValueError(msg)
    return tuple(sorted(normalized)) if ndim else ()


def _reduction(prim: ops.Primitive, floating_only: bool) -> Any:
    def function(x: Tensor, /, *, axis: Any = None, keepdims: bool = False) -> Tensor:
        x = _tensor(x, prim.name)
        if floating_only and not x.dtype.is_floating_point:
            msg = f"{prim.name}: expected a floating point tensor, got {x.dtype}"
            raise TypeError(msg)
        if prim in (ops.max, ops.min) and x.numel() == 0:
            msg = f"{prim.name}: cannot reduce a tensor with no elements"
            raise ValueError(msg)
        axes = normalize_axes(axis, x.ndim, prim.name)
        return apply(prim, (x,), {"axis": axes, "keepdims": builtins.bool(keepdims)})

    function.__name__ = function.__qualname__ = prim.name
    function.__doc__ = (
        f"``{prim.name}`` over ``axis`` (all axes when None), keeping them as length 1 "
        "if ``keepdims``."
    )
    return function


_sum = _reduction(ops.sum, floating_only=False)


def sum(x: Tensor, /, *, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Tensor:
    """The sum over ``axis`` (all axes when None), computed in ``dtype`` if given."""
    if dtype is not None:
        x = astype(_tensor(x, "sum"), dtype, copy=False)
    return _sum(x, axis=axis, keepdims=keepdims)


any = _reduction(ops.any, floating_only=False)
all = _reduction(ops.all, floating_only=False)
mean = _reduction(ops.mean, floating_only=True)
max = _reduction(ops.max, floating_only=False)
min = _reduction(ops.min, floating_only=False)


# --- shapes ---------------------------------------------------------------------------------
def reshape(x: Tensor, /, shape: Sequence[int], *, copy: bool | None = None) -> Tensor:
    """``x`` with a new shape of the same size (one length may be -1)."""
    x = _tensor(x, "reshape")
    shape = tuple(int(n) for n in ((shape,) if isinstance(shape, int | np.integer) else shape))
    size = x.numel()
    if shape.count(-1) > 1:
        msg = f"reshape: only one length can be -1, got {shape}"
        raise ValueError(msg)
    if -1 in shape:
        known = -math.prod(shape)
        if known == 0 or size % known:
            msg = f"reshape: cannot reshape a tensor of shape {x.shape} into {shape}"
            raise ValueError(msg)
        shape = tuple(size // known if n == -1 else n for n in shape)
    if math.prod(shape) != size:
        msg = f"reshape: cannot reshape a tensor of shape {x.shape} into {shape}"
        raise ValueError(msg)
    if shape == x.shape:
        return x
    return apply(ops.reshape, (x,), {"shape": shape})


def permute_dims(x: Tensor, /, axes: Sequence[int]) -> Tensor:
    """``x`` with its axes reordered: output axis i is input axis ``axes[i]``."""
    x = _tensor(x, "permute_dims")
    normalized = tuple(int(a) - x.ndim if a >= 0 else int(a) for a in axes)
    if sorted(normalized) != list(range(-x.ndim, 0)):
        msg = f"permute_dims: {tuple(axes)} is not a permutation of the {x.ndim} axes of {x.shape}"
        raise ValueError(msg)
    if normalized == tuple(range(-x.ndim, 0)):
        return x
    return apply(ops.permute_dims, (x,), {"axes": normalized})


def matrix_transpose(x: Tensor, /) -> Tensor:
    """Swap the last two axes."""
    x = _tensor(x, "matrix_transpose")
    if x.ndim < 2:
        msg = f"matrix_transpose: expected at least 2 dimensions, got shape {x.shape}"
        raise ValueError(msg)
    return permute_dims(x, (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))


def expand_dims(x: Tensor, /, axis: int = 0) -> Tensor:
    """``x`` with a new axis of length 1 at position ``axis``."""
    x = _tensor(x, "expand_dims")
    if not -x.ndim - 1 <= axis <= x.ndim:
        msg = f"expand_dims: axis {axis} is out of range for a tensor with {x.ndim} dimensions"
        raise AxisError(msg)
    position = axis if axis >= 0 else x.ndim + 1 + axis
    return reshape(x, (*x.shape[:position], 1, *x.shape[position:]))


def squeeze(x: Tensor, /, axis: Any = None) -> Tensor:
    """``x`` without the given length-1 axes (all of them when ``axis`` is None)."""
    x = _tensor(x, "squeeze")
    if axis is None:
        axes = tuple(i - x.ndim for i, n in enumerate(x.shape) if n == 1)
    else:
        axes = normalize_axes(axis, x.ndim, "squeeze")
        if builtins.any(x.shape[a] != 1 for a in axes):
            msg = f"squeeze: axis {axis} of a tensor of shape {x.shape} does not have length 1"
            raise ValueError(msg)
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i - x.ndim not in axes))


def broadcast_to(x: Tensor, /, shape: Sequence[int]) -> Tensor:
    """``x`` repeated along new leading axes and along its length-1 axes to ``shape``."""
    x = _tensor(x, "broadcast_to")
    shape = tuple(int(n) for n in shape)
    if len(shape) < x.ndim or broadcast_shapes("broadcast_to", x.shape, shape) != shape:
        msg = f"broadcast_to: cannot broadcast a tensor of shape {x.shape} to {shape}"
        raise ValueError(msg)
    if shape == x.shape:
        return x
    return apply(ops.broadcast_to, (x,), {"shape": shape})


def concat(arrays: Sequence[Tensor], /, *, axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis (flattened first when ``axis`` is None)."""
    tensors = [_tensor(t, "concat") for t in arrays]
    if not tensors:
        msg = "concat: expected a non-empty sequence of tensors"
        raise ValueError(msg)
    if axis is None:
        tensors, axis = [reshape(t, (-1,)) for t in tensors], 0
    ndim = tensors[0].ndim
    (normalized,) = normalize_axes(axis, ndim, "concat")
    for t in tensors:
        others_match = t.ndim == ndim and builtins.all(
            a == b
            for i, (a, b) in enumerate(zip(t.shape, tensors[0].shape, strict=True))
            if i - ndim != normalized
        )
        if not others_match:
            shapes = ", ".join(str(u.shape) for u in tensors)
            msg = f"concat: shapes {shapes} differ outside axis {axis}"
            raise ValueError(msg)
    tensors = _promoted(tensors)
    return apply(ops.concat, tuple(tensors), {"axis": normalized})


def stack(arrays: Sequence[Tensor], /, *, axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    tensors = [_tensor(t, "stack") for t in arrays]
    if not tensors:
        msg = "stack: expected a non-empty sequence of tensors"
        raise ValueError(msg)
    if builtins.any(t.shape != tensors[0].shape for t in tensors):
        shapes = ", ".join(str(t.shape) for t in tensors)
        msg = f"stack: expected tensors of one shape, got {shapes}"
        raise ValueError(msg)
    return concat([expand_dims(t, axis) for t in tensors], axis=axis)


def _promoted(tensors: Sequence[Tensor]) -> list[Tensor]:
    """The tensors converted to their common dtype."""
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = promote_types(dtype, t.dtype)  # noqa: F405
    return [t if t.dtype is dtype else astype(t, dtype) for t in tensors]


# --- matmul ---------------------------------------------------------------------------------
def matmul(x1: Tensor, x2: Tensor, /) -> Tensor:
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading axes broadcast.

    Example:
        >>> import dualgrad
        >>> a = dualgrad.ones(2, 3)
        >>> (a @ dualgrad.ones(3)).shape
        (2,)
    """
    if (
        isinstance(x1, Tensor)
        and isinstance(x2, Tensor)
        and x1._backend is x2._backend
        and x1._array.ndim == 2 == x2._array.ndim
        and x1._array.dtype == x2._array.dtype
        and x1._array.shape[1] == x2._array.shape[0]
    ):
        return apply(ops.matmul, (x1, x2), {})  # two aligned matrices: nothing to prepare
    x1, x2 = _promoted([_tensor(x1, "matmul"), _tensor(x2, "matmul")])
    if x1.ndim == 0 or x2.ndim == 0:
        msg = (
            "matmul: operands must have at least 1 dimension, "
            f"got shapes {x1.shape} and {x2.shape}"
        )
        raise ValueError(msg)
    x = x1 if x1.ndim > 1 else reshape(x1, (1, x1.shape[0]))
    y = x2 if x2.ndim > 1 else reshape(x2, (x2.shape[0], 1))
    if x.shape[-1] != y.shape[-2]:
        msg = (
            f"matmul: shapes {x1.shape} and {x2.shape} are not aligned "
            f"({x.shape[-1]} != {y.shape[-2]})"
        )
        raise ValueError(msg)
    if x.shape[:-2] != y.shape[:-2]:
        batch = broadcast_shapes("matmul", x.shape[:-2], y.shape[:-2])
        x, y = (
            t if not (t.requires_grad or t._tangents) else broadcast_to(t, batch + t.shape[-2:])
            for t in (x, y)
        )
    out = apply(ops.matmul, (x, y), {})
    if x1.ndim == 1:
        out = squeeze(out, -2)
    if x2.ndim == 1:
        out = squeeze(out, -1)
    return out


# --- indexing -------------------------------------------------------------------------------
def _index_part(part: Any, x: Tensor) -> Any:
    if part is None or part is Ellipsis or isinstance(part, builtins.bool):
        return part
    if isinstance(part, int | np.integer):
        return operator.index(part)
    if isinstance(part, slice):
        return slice(
            *(None if v is None else operator.index(v) for v in (part.start, part.stop, part.step))
        )
    if isinstance(part, Tensor):
        if part.dtype.kind not in "iub":
            msg = f"tensors used as indices must be integer or bool, got {part.dtype}"
            raise IndexError(msg)
        if part._backend is not x._backend:
            msg = (
                f"index: the index comes from backend {part._backend.name}, "
                f"the tensor from {x._backend.name}; create both under one backend"
            )
            raise TypeError(msg)
        _check_mask(part.dtype.kind, part.ndim, x)
        return part._array
    values = np.asarray(part)
    if values.dtype.kind not in "iub":
        msg = (
            "only integers, slices, None, Ellipsis and integer or bool arrays are valid "
            f"indices, got {part!r}"
        )
        raise IndexError(msg)
    _check_mask(values.dtype.kind, values.ndim, x)
    return x._backend.from_numpy(values.astype(np.int64) if values.dtype.kind in "iu" else values)


def _check_mask(kind: str, ndim: int, x: Tensor) -> None:
    """A boolean mask picks as many elements as it holds True: a lazy backend cannot know how
    many before computing, and refuses."""
    if kind == "b" and ndim > 0:
        x._backend.check_static_shape(
            "indexing with a boolean mask",
            "keep the shape with dualgrad.where(mask, x, 0), or compute the mask "
            "(mask.numpy()) and index with its integer positions, numpy.nonzero(mask)",
        )


def getitem(x: Tensor, key: Any) -> Tensor:
    """``x[key]`` with NumPy's indexing rules; the gradient scatters back (adding repeats)."""
    parts = key if isinstance(key, tuple) else (key,)
    canonical = tuple(_index_part(part, x) for part in parts)
    _check_integer_bounds(canonical, x)
    if _indexed_axes(canonical, x) < x.ndim and not builtins.any(p is Ellipsis for p in canonical):
        # The Array API wants partial keys spelled out (NumPy agrees); a key naming every axis
        # stays as it is, since the standard allows integer arrays only beside integers.
        canonical = (*canonical, Ellipsis)
    return apply(ops.getitem, (x,), {"key": canonical})


def _indexed_axes(key: tuple[Any, ...], x: Tensor) -> int:
    """How many of ``x``'s axes a canonical key consumes (a mask: one per dimension)."""
    count = 0
    for part in key:
        if part is None or part is Ellipsis or isinstance(part, builtins.bool):
            continue
        is_mask = hasattr(part, "shape") and x._backend.dtype_of(part).kind == "b"
        count += part.ndim if is_mask else 1
    return count


def _check_integer_bounds(key: tuple[Any, ...], x: Tensor) -> None:
    """IndexError for an integer out of range (some backends, like JAX, would clamp it)."""
    if _indexed_axes(key, x) > x.ndim:
        msg = f"too many indices for a tensor of shape {x.shape}: {len(key)} were given"
        raise IndexError(msg)
    axis = 0
    for position, part in enumerate(key):
        if part is Ellipsis:
            axis = x.ndim - _indexed_axes(key[position + 1 :], x)
        elif part is None or isinstance(part, builtins.bool):
            continue
        elif isinstance(part, int):
            if not -x.shape[axis] <= part < x.shape[axis]:
                msg = f"index {part} is out of bounds for axis {axis} with size {x.shape[axis]}"
                raise IndexError(msg)
            axis += 1
        else:
            axis += _indexed_axes((part,), x)


def index_add(x: Tensor, key: tuple[Any, ...], values: Tensor) -> Tensor:
    """A copy of ``x`` with ``values`` added at ``x[key]`` (the transpose of ``getitem``)."""
    return apply(ops.index_add, (x, values), {"key": key})


# The families' further functions join this namespace (they import helpers from above).
from ._functions_array_api import *  # noqa: E402, F403
from ._functions_elementwise import *  # noqa: E402, F403
from ._functions_linalg import *  # noqa: E402, F403
from ._functions_nn import *  # noqa: E402, F403
from ._functions_reduce import *  # noqa: E402, F403
from ._functions_shape import *  # noqa: E402, F403
from ._functions_special import *  # noqa: E402, F403
