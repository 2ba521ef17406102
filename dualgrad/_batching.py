"""vmap's batch axis, below the Tensor: batched arrays and the namespace that maps over them.

A ``vmap`` call opens a *level*: a ``Level`` is a backend like the others (a Tensor inside the
vmapped function has it as ``_backend``), whose arrays are ``BatchedArray``s: a physical array
of the level below (``base``) with one more axis, ``bdim``, that the level hides. The level's
namespace (``Level.xp``) is the Array API seen per example: each function moves the batch axis
of its batched arguments to the front, shifts axes by one, calls the base namespace once on the
whole batch and hides the batch axis of the result again (an elementwise function whose
operands line up is called on them as they are, the batch axis staying where it is). No Python
loop over the batch.

Everything above (the dispatcher, the tape, forward mode, the derivative rules) runs unchanged
on that namespace, so transforms compose with vmap in any order: a rule that is handed the
level's namespace computes the batched derivative. Values of a lower level (a tensor closed
over from outside, a constant) are valid at every level above it, unmapped: the batch
broadcasts over them. Levels nest: an inner level's base is the outer level.

A value that is the same for every example (a tensor closed over and lifted to the level, a
constant made inside the function) is a batched array too, with a batch axis of length 1 that
broadcasts: every array of a level's Tensor is then a ``BatchedArray``, so operators always
reach the level's namespace (array libraries need not know the type), and ``mapped`` tells the
two kinds apart.

A namespace function without a batching rule raises ``NotImplementedError`` naming it; values
read on the host (``item()``, ``bool(x)``) and shapes that depend on values (``nonzero``) raise
too: inside vmap each example's value differs.
"""

from __future__ import annotations

__all__ = [
    "BatchedArray",
    "Level",
    "batched",
    "below",
    "current_levels",
    "depth",
    "entered",
    "physical",
]

import contextlib
import math
import operator
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from .ops.index import _gather, _index_dtype, _is_array, _positions, _scatter_add
from .ops.shape import broadcast_shapes

_levels: ContextVar[tuple[Level, ...]] = ContextVar("dualgrad_vmap_levels", default=())

RANDOMNESS = ("error", "different", "same")


def current_levels() -> tuple[Level, ...]:
    """The vmap levels open here, outermost first."""
    return _levels.get()


@contextlib.contextmanager
def entered(level: Level) -> Iterator[None]:
    """Run the block inside ``level`` (random draws follow its policy)."""
    token = _levels.set((*_levels.get(), level))
    try:
        yield
    finally:
        _levels.reset(token)


def depth(backend: Any) -> int:
    """How many vmap levels ``backend`` is above a plain backend (0 for a plain one)."""
    return backend.depth if type(backend) is Level else 0


def below(backend: Any, top: Any) -> bool:
    """Whether ``backend`` is ``top`` or a backend under it (a level's base, all the way down)."""
    while backend is not top:
        if type(top) is not Level:
            return False
        top = top.base
    return True


class BatchedArray:
    """A batch of arrays of one shape: ``value`` (a physical array of the level below) with
    the batch along axis ``bdim``, which ``level`` hides. ``shape`` is one example's shape."""

    __slots__ = ("bdim", "dtype", "level", "ndim", "shape", "value")
    # ``ndarray * batched`` defers to the batched value's reflected operator.
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, value: Any, bdim: int, level: Level) -> None:
        self.value = value
        self.bdim = bdim
        self.level = level
        # One example's shape and the dtype, read once: the rules and the dispatcher read
        # them often.
        shape = tuple(value.shape)
        self.shape = shape[1:] if bdim == 0 else shape[:bdim] + shape[bdim + 1 :]
        self.ndim = len(shape) - 1
        self.dtype = value.dtype

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def device(self) -> Any:
        return getattr(self.value, "device", None)

    @property
    def mT(self) -> Any:
        return self.level.xp.matrix_transpose(self)

    @property
    def T(self) -> Any:
        return self.level.xp.permute_dims(self, tuple(range(self.ndim - 1, -1, -1)))

    def __repr__(self) -> str:
        return f"BatchedArray(level={self.level.depth}, bdim={self.bdim}, value={self.value!r})"

    def __getitem__(self, key: Any) -> Any:
        return self.level.xp._getitem(self, key)

    def __array_namespace__(self, api_version: str | None = None) -> Any:
        return self.level.xp

    def _unmapped(self) -> Any:
        """The one value of an unmapped batched array (batch axis of length 1), else None."""
        if self.level.size != 1 and self.value.shape[self.bdim] == 1:
            return self.level.base.xp.squeeze(self.value, axis=self.bdim)
        return None

    # Host reads: each example has its own value (an unmapped value is read as it is).
    def _host(self, what: str, read: Callable[[Any], Any] | None = None) -> Any:
        value = self._unmapped()
        if value is not None and read is not None:
            return read(value)
        msg = (
            f"vmap: {what} of a batched value: inside vmap each example has its own value, "
            "which cannot be read on the host (data-dependent control flow such as "
            "`if x > 0:` or `x.item()`); rewrite it with array operations (dualgrad.where) "
            "or move it out of the mapped function"
        )
        raise RuntimeError(msg)

    def __bool__(self) -> bool:
        return self._host("bool()", bool)

    def __float__(self) -> float:
        return self._host("float()", float)

    def __int__(self) -> int:
        return self._host("int()", int)

    def __index__(self) -> int:
        return self._host("index()", operator.index)

    def __complex__(self) -> complex:
        return self._host("complex()", complex)

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        return self._host("conversion to NumPy")

    def __len__(self) -> int:
        return self.shape[0]

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))


def _operator(name: str, reflected: bool = False) -> Callable[..., Any]:
    def method(self: BatchedArray, other: Any) -> Any:
        # The innermost level's namespace: it sees the outer level's value as unmapped.
        level = self.level
        if type(other) is BatchedArray and other.level.depth > level.depth:
            level = other.level
        function = getattr(level.xp, name)
        return function(other, self) if reflected else function(self, other)

    return method


_OPERATORS = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "truediv": "divide",
    "floordiv": "floor_divide",
    "mod": "remainder",
    "pow": "pow",
    "matmul": "matmul",
    "and": "bitwise_and",
    "or": "bitwise_or",
    "xor": "bitwise_xor",
    "lshift": "bitwise_left_shift",
    "rshift": "bitwise_right_shift",
}
for _name, _function in _OPERATORS.items():
    setattr(BatchedArray, f"__{_name}__", _operator(_function))
    setattr(BatchedArray, f"__r{_name}__", _operator(_function, reflected=True))
for _name, _function in {
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
    "eq": "equal",
    "ne": "not_equal",
}.items():
    setattr(BatchedArray, f"__{_name}__", _operator(_function))
BatchedArray.__hash__ = None  # type: ignore[assignment]
BatchedArray.__neg__ = lambda self: self.level.xp.negative(self)  # type: ignore[attr-defined]
BatchedArray.__pos__ = lambda self: self.level.xp.positive(self)  # type: ignore[attr-defined]
BatchedArray.__abs__ = lambda self: self.level.xp.abs(self)  # type: ignore[attr-defined]
BatchedArray.__invert__ = lambda self: self.level.xp.bitwise_invert(self)  # type: ignore[attr-defined]


def mapped(value: Any, level: Level) -> bool:
    """Whether ``value`` differs from example to example at ``level``."""
    return (
        type(value) is BatchedArray
        and value.level is level
        and (level.size == 1 or value.value.shape[value.bdim] != 1)
    )


def physical(value: Any, level: Level, axis: int | None) -> Any:
    """``value`` (of ``level``) as an array of the level below with the batch along ``axis``
    (negative, counted from the end, so that leading axes of tangents keep their place); an
    unmapped value is broadcast along it. ``axis=None``: an unmapped value, without a batch
    axis."""
    base = level.base.xp
    mine = type(value) is BatchedArray and value.level is level
    if axis is None:
        if not mine:
            return value
        if level.size == 1 or value.value.shape[value.bdim] == 1:
            return base.squeeze(value.value, axis=value.bdim)
        msg = (
            "vmap: a value that differs from example to example was asked for without a "
            "batch axis (out_dims=None); give it an int out_dim"
        )
        raise ValueError(msg)
    if mine:
        target = value.value.ndim + axis
        moved = value.value
        if value.bdim != target:
            moved = _moveaxis(base, moved, value.bdim, target)
        if moved.shape[target] == level.size:
            return moved
        shape = list(moved.shape)
        shape[target] = level.size
        return base.broadcast_to(moved, tuple(shape))  # unmapped: the same for each example
    shape = tuple(value.shape)
    at = len(shape) + axis + 1
    expanded = base.reshape(value, (*shape[:at], 1, *shape[at:]))  # cheaper than expand_dims
    return base.broadcast_to(expanded, (*shape[:at], level.size, *shape[at:]))


def batched(value: Any, level: Level, axis: int | None) -> Any:
    """A physical array of the level below as a batched array of ``level``: the batch along
    ``axis`` (negative); ``None``: unmapped (a batch axis of length 1 in front)."""
    if axis is None:
        # A reshape: the base's expand_dims can cost several times as much (NumPy's does).
        return BatchedArray(level.base.xp.reshape(value, (1, *value.shape)), 0, level)
    return BatchedArray(value, value.ndim + axis, level)


def _moveaxis(xp: Any, x: Any, source: int, destination: int) -> Any:
    order = [i for i in range(x.ndim) if i != source]
    order.insert(destination, source)
    return xp.permute_dims(x, tuple(order))


def _axis(axis: int, ndim: int, name: str) -> int:
    """A per-example axis of an example of ``ndim`` axes, as the physical axis once the batch
    is in front."""
    if not -ndim <= axis < ndim:
        msg = f"vmap: {name}: axis {axis} is out of range for an example of {ndim} dimensions"
        raise ValueError(msg)
    return axis % ndim + 1


def _axes(axes: Iterable[int], ndim: int, name: str) -> tuple[int, ...]:
    """``_axis`` of each of ``axes``, in one loop (no call per axis)."""
    physical = []
    for axis in axes:
        if not -ndim <= axis < ndim:
            _axis(axis, ndim, name)  # raises, naming the axis
        physical.append(axis % ndim + 1)
    return tuple(physical)


# Array API elementwise functions and dualgrad's special functions: their batching rule
# broadcasts the batch in front of every operand.
_ELEMENTWISE = frozenset(
    [
        "abs",
        "acos",
        "acosh",
        "add",
        "asin",
        "asinh",
        "atan",
        "atan2",
        "atanh",
        "bitwise_and",
        "bitwise_left_shift",
        "bitwise_invert",
        "bitwise_or",
        "bitwise_right_shift",
        "bitwise_xor",
        "ceil",
        "clip",
        "conj",
        "copysign",
        "cos",
        "cosh",
        "divide",
        "equal",
        "exp",
        "expm1",
        "floor",
        "floor_divide",
        "greater",
        "greater_equal",
        "hypot",
        "imag",
        "isfinite",
        "isinf",
        "isnan",
        "less",
        "less_equal",
        "log",
        "log1p",
        "log2",
        "log10",
        "logaddexp",
        "logical_and",
        "logical_not",
        "logical_or",
        "logical_xor",
        "maximum",
        "minimum",
        "multiply",
        "negative",
        "nextafter",
        "not_equal",
        "positive",
        "pow",
        "real",
        "reciprocal",
        "remainder",
        "round",
        "sign",
        "signbit",
        "sin",
        "sinh",
        "square",
        "sqrt",
        "subtract",
        "tan",
        "tanh",
        "trunc",
        "where",
        "erf",
        "erfc",
        "erfinv",
        "gammaln",
        "polygamma",
        "log_ndtr",
        "ndtri",
    ]
)
# Functions of whole stacks of matrices (the last two axes), or of the last axes only: the
# batch in front is one more stack axis.
_STACKED = frozenset(
    [
        "matrix_transpose",
        "tril",
        "triu",
        "cholesky",
        "inv",
        "det",
        "slogdet",
        "qr",
        "svd",
        "svdvals",
        "eigh",
        "eigvalsh",
        "matrix_norm",
        "pinv",
        "matrix_rank",
    ]
)
# Functions that make arrays from shapes and values: the base's, as unmapped values.
_CREATION = frozenset(
    ["arange", "empty", "eye", "full", "linspace", "ones", "zeros", "from_dlpack"]
)
# Functions that read no array: the base's, unchanged.
_PLAIN = frozenset(
    ["isdtype", "finfo", "iinfo", "result_type", "can_cast", "__array_namespace_info__"]
)
# Reductions and scans along ``axis``: the batch in front shifts the axes by one.
_ALONG_AXIS = frozenset(
    [
        "sum",
        "prod",
        "mean",
        "var",
        "std",
        "max",
        "min",
        "any",
        "all",
        "argmax",
        "argmin",
        "cumulative_sum",
        "cumulative_prod",
        "argsort",
        "sort",
        "flip",
        "count_nonzero",
        "logsumexp",
    ]
)
_VALUE_DEPENDENT = frozenset(
    ["nonzero", "unique_all", "unique_counts", "unique_inverse", "unique_values"]
)


def _rebuilt(result: tuple[Any, ...], parts: list[Any]) -> tuple[Any, ...]:
    """A tuple of ``result``'s type holding ``parts``: a named tuple, a structseq (PyTorch's
    result types, built from one sequence) or a plain tuple."""
    if hasattr(result, "_make"):
        return result._make(parts)  # type: ignore[attr-defined, no-any-return]
    try:
        return type(result)(parts)
    except TypeError:
        return tuple(parts)


class Namespace:
    """The Array API namespace of one level: the base's functions, mapped over the batch."""

    def __init__(self, level: Level) -> None:
        self._level = level
        self._base = level.base.xp
        self.__name__ = f"dualgrad vmap level {level.depth}"  # array_api_compat reads it
        self.linalg = _Linalg(self)
        self.fft = _Fft(self)

    # --- helpers ----------------------------------------------------------------------------
    def _mine(self, value: Any) -> bool:
        return type(value) is BatchedArray and value.level is self._level

    def _front(self, value: BatchedArray) -> Any:
        """The physical array of a batched value, with the batch in front."""
        if value.bdim == 0:
            return value.value
        return _moveaxis(self._base, value.value, value.bdim, 0)

    def _wrap(self, value: Any, bdim: int = 0) -> BatchedArray:
        return BatchedArray(value, bdim, self._level)

    def _filled(self, value: Any) -> Any:
        """A value as a physical array with the batch in front, broadcast if unmapped."""
        return physical(value, self._level, -value.ndim - 1)

    def _padded(self, value: Any, ndim: int) -> Any:
        """A batched value in front, with ones inserted so that it broadcasts as an example of
        ``ndim`` dimensions would (the batch stays the leading axis)."""
        front = self._front(value)
        missing = ndim - value.ndim
        if missing:
            front = self._base.reshape(front, (front.shape[0], *(1,) * missing, *value.shape))
        return front

    def _stack(self, value: Any, ndim: int) -> Any:
        """A value with the batch in front (broadcast if unmapped), padded to ``ndim`` axes
        per example."""
        front = self._filled(value)
        missing = ndim - value.ndim
        if missing:
            front = self._base.reshape(front, (front.shape[0], *(1,) * missing, *value.shape))
        return front

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name not in _PLAIN:
            raise AttributeError(name)
        if name in _STACKED:
            function = self._stacked(getattr(self._base, name), name)
        elif name in _VALUE_DEPENDENT:
            function = self._value_dependent(name)
        elif name in _CREATION:
            function = self._creation(name)
        else:
            attribute = getattr(self._base, name)
            if name in _PLAIN or not callable(attribute) or isinstance(attribute, type):
                return attribute  # dtypes, constants, dtype queries
            function = self._missing(name)
        setattr(self, name, function)  # built once per level and name
        return function

    def _unmapped(self, result: Any) -> Any:
        """A result computed from unmapped values only, as an unmapped value of the level."""
        if isinstance(result, tuple | list):
            return _rebuilt(result, [self._unmapped(part) for part in result])
        if not hasattr(result, "shape") or self._mine(result):
            return result
        return batched(result, self._level, None)

    def _plain(self, value: Any) -> Any:
        """An unmapped value of the level as the base's array (its batch axis of length 1
        dropped); other values as they are."""
        return physical(value, self._level, None) if self._mine(value) else value

    def _creation(self, name: str) -> Callable[..., Any]:
        function = getattr(self._base, name)

        def creation(*args: Any, **kwargs: Any) -> Any:
            return self._unmapped(function(*args, **kwargs))

        return creation

    def _missing(self, name: str, what: str = "") -> Callable[..., Any]:
        what = what or f"{name}()"

        def missing(*args: Any, **kwargs: Any) -> Any:
            if not any(mapped(a, self._level) for a in (*args, *kwargs.values())):
                plain = [self._plain(a) for a in args]
                named = {k: self._plain(v) for k, v in kwargs.items()}
                return self._unmapped(getattr(self._base, name)(*plain, **named))
            msg = (
                f"vmap: no batching rule for {what}: it cannot be applied to a batched value; "
                "apply it outside the mapped function, or write it with other operations"
            )
            raise NotImplementedError(msg)

        return missing

    def _value_dependent(self, name: str) -> Callable[..., Any]:
        def value_dependent(x: Any, *args: Any, **kwargs: Any) -> Any:
            if not self._mine(x):
                return getattr(self._base, name)(x, *args, **kwargs)
            msg = (
                f"vmap: {name}() of a batched value: the result's shape depends on each "
                "example's values, which vmap cannot batch; use a fixed-size formulation "
                "(dualgrad.where with a mask) instead"
            )
            raise RuntimeError(msg)

        return value_dependent

    # --- rules ------------------------------------------------------------------------------
    def _stacked(self, function: Callable[..., Any], name: str) -> Callable[..., Any]:
        def stacked(x: Any, *args: Any, **kwargs: Any) -> Any:
            if any(self._mine(a) for a in (*args, *kwargs.values())):
                return self._missing(name, f"{name}() with batched arguments")(*args, **kwargs)
            if not self._mine(x):
                return self._unmapped(function(x, *args, **kwargs))
            result = function(self._front(x), *args, **kwargs)
            if isinstance(result, tuple):  # slogdet, qr, svd, eigh: named tuples
                return _rebuilt(result, [self._wrap(part) for part in result])
            return self._wrap(result)

        return stacked

    # Shapes.
    def reshape(self, x: Any, /, shape: Any, *, copy: Any = None) -> Any:
        if not self._mine(x):
            return self._unmapped(self._base.reshape(x, shape))
        front = self._front(x)
        return self._wrap(self._base.reshape(front, (front.shape[0], *shape)))

    def permute_dims(self, x: Any, /, axes: Any) -> Any:
        if not self._mine(x):
            return self._unmapped(self._base.permute_dims(x, axes))
        ndim = x.ndim
        return self._wrap(
            self._base.permute_dims(self._front(x), (0, *(a % ndim + 1 for a in axes)))
        )

    def broadcast_to(self, x: Any, /, shape: Any) -> Any:
        if not self._mine(x):
            return self._unmapped(self._base.broadcast_to(x, shape))
        front = self._padded(x, len(shape))
        return self._wrap(self._base.broadcast_to(front, (front.shape[0], *shape)))

    def broadcast_arrays(self, *arrays: Any) -> list[Any]:
        shape = broadcast_shapes("broadcast_arrays", *(tuple(a.shape) for a in arrays))
        return [self.broadcast_to(a, shape) for a in arrays]

    def expand_dims(self, x: Any, /, *, axis: int = 0) -> Any:
        if not self._mine(x):
            return self._unmapped(self._base.expand_dims(x, axis=axis))
        return self._wrap(
            self._base.expand_dims(self._front(x), axis=_axis(axis, x.ndim + 1, "expand_dims"))
        )

    def squeeze(self, x: Any, /, axis: Any) -> Any:
        if not self._mine(x):
            return self._unmapped(self._base.squeeze(x, axis=axis))
        axes = axis if isinstance(axis, tuple) else (axis,)
        physical_axes = _axes(axes, x.ndim, "squeeze")
        return self._wrap(self._base.squeeze(self._front(x), axis=physical_axes))

    def moveaxis(self, x: Any, source: Any, destination: Any, /) -> Any:
        if not self._mine(x):
            return self._unmapped(self._base.moveaxis(x, source, destination))
        ndim = x.ndim
        shifted = [
            _axes(axes, ndim, "moveaxis")
            if isinstance(axes, tuple)
            else _axis(axes, ndim, "moveaxis")
            for axes in (source, destination)
        ]
        return self._wrap(self._base.moveaxis(self._front(x), *shifted))

    def concat(self, arrays: Any, /, *, axis: int | None = 0) -> Any:
        arrays = list(arrays)
        if not any(self._mine(a) for a in arrays):
            return self._unmapped(self._base.concat(arrays, axis=axis))
        if axis is None:
            arrays, axis = [self.reshape(a, (-1,)) for a in arrays], 0
        ndim = arrays[0].ndim
        return self._wrap(
            self._base.concat([self._filled(a) for a in arrays], axis=_axis(axis, ndim, "concat"))
        )

    def stack(self, arrays: Any, /, *, axis: int = 0) -> Any:
        arrays = list(arrays)
        if not any(self._mine(a) for a in arrays):
            return self._unmapped(self._base.stack(arrays, axis=axis))
        ndim = arrays[0].ndim + 1
        return self._wrap(
            self._base.stack([self._filled(a) for a in arrays], axis=_axis(axis, ndim, "stack"))
        )

    # Values like another.
    def zeros_like(self, x: Any, /, **kwargs: Any) -> Any:
        if not self._mine(x):
            return self._unmapped(self._base.zeros_like(x, **kwargs))
        return self._wrap(self._base.zeros_like(x.value, **kwargs), x.bdim)

    def ones_like(self, x: Any, /, **kwargs: Any) -> Any:
        if not self._mine(x):
            return self._unmapped(self._base.ones_like(x, **kwargs))
        return self._wrap(self._base.ones_like(x.value, **kwargs), x.bdim)

    def empty_like(self, x: Any, /, **kwargs: Any) -> Any:
        return self.zeros_like(x, **kwargs)

    def full_like(self, x: Any, /, fill_value: Any, **kwargs: Any) -> Any:
        if self._mine(fill_value):
            return self.astype(
                self.broadcast_to(fill_value, x.shape), kwargs.get("dtype") or x.dtype
            )
        if not self._mine(x):
            return self._unmapped(self._base.full_like(x, fill_value, **kwargs))
        return self._wrap(self._base.full_like(x.value, fill_value, **kwargs), x.bdim)

    def astype(self, x: Any, dtype: Any, /, **kwargs: Any) -> Any:
        if not self._mine(x):
            return self._unmapped(self._base.astype(x, dtype, **kwargs))
        return self._wrap(self._base.astype(x.value, dtype, **kwargs), x.bdim)

    def asarray(self, obj: Any, /, *, dtype: Any = None, **kwargs: Any) -> Any:
        if not self._mine(obj):
            return self._unmapped(self._base.asarray(obj, dtype=dtype, **kwargs))
        return obj if dtype is None or obj.dtype == dtype else self.astype(obj, dtype)

    # Products.
    def matmul(self, x1: Any, x2: Any, /) -> Any:
        mine1, mine2 = self._mine(x1), self._mine(x2)
        if not (mine1 or mine2):
            return self._unmapped(self._base.matmul(x1, x2))
        # Vectors become matrices (a row on the left, a column on the right) and batched
        # operands stacks of the common rank with the batch in front; the product's batch is
        # then in front too, and the vectors' axes are squeezed out again.
        ndim = max(x1.ndim, x2.ndim, 2)
        operands = []
        for x, mine, vector_axis in ((x1, mine1, -2), (x2, mine2, -1)):
            value = self._front(x) if mine else x
            if x.ndim == 1:
                value = self._base.expand_dims(value, axis=vector_axis)
            if mine and value.ndim - 1 < ndim:
                value = self._base.reshape(
                    value, (value.shape[0], *(1,) * (ndim + 1 - value.ndim), *value.shape[1:])
                )
            operands.append(value)
        result = self._product(*operands, mine1, mine2)
        if x2.ndim == 1:
            result = self._base.squeeze(result, axis=-1)
        if x1.ndim == 1:
            result = self._base.squeeze(result, axis=-1 if x2.ndim == 1 else -2)
        return self._wrap(result)

    def _product(self, a: Any, b: Any, mapped1: bool, mapped2: bool) -> Any:
        """``a @ b`` for a stack with the batch in front and a matrix, or two stacks, as few
        BLAS calls as the shapes allow: a stack of small products against one matrix is one
        product of a taller matrix, and products over one contracted element (per-example
        outer products, the weight gradients of vmap(grad)) are the base backend's
        ``outer_products``, not BLAS calls with one contracted element each."""
        base = self._base
        # An unmapped operand (a batch axis of length 1, no stack axes) is one matrix.
        if mapped1 and mapped2 and math.prod(b.shape[:-2]) == 1:
            b, mapped2 = base.reshape(b, b.shape[-2:]), False
        elif mapped1 and mapped2 and math.prod(a.shape[:-2]) == 1:
            a, mapped1 = base.reshape(a, a.shape[-2:]), False
        if mapped1 and not mapped2 and b.ndim == 2:
            rows = base.reshape(a, (math.prod(a.shape[:-1]), a.shape[-1])) @ b
            return base.reshape(rows, (*a.shape[:-1], b.shape[-1]))
        if mapped2 and not mapped1 and a.ndim == 2:
            flipped = base.matrix_transpose(b)
            flat = base.reshape(flipped, (math.prod(flipped.shape[:-1]), b.shape[-2]))
            rows = flat @ base.matrix_transpose(a)
            rows = base.reshape(rows, (*flipped.shape[:-1], a.shape[-2]))
            return base.matrix_transpose(rows)
        if a.shape[-1] == 1:
            return self._level.base.outer_products(a, b)  # (..., m, 1) times (..., 1, n)
        return base.matmul(a, b)

    def vecdot(self, x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
        return self.sum(self.multiply(self.conj(x1), x2), axis=axis)

    def tensordot(self, x1: Any, x2: Any, /, *, axes: Any = 2) -> Any:
        mine1, mine2 = self._mine(x1), self._mine(x2)
        if not (mine1 or mine2):
            return self._unmapped(self._base.tensordot(x1, x2, axes=axes))
        if isinstance(axes, int):
            axes1 = tuple(range(x1.ndim - axes, x1.ndim))
            axes2 = tuple(range(axes))
        else:
            axes1 = tuple(a % x1.ndim for a in axes[0])
            axes2 = tuple(a % x2.ndim for a in axes[1])
        free1 = [i for i in range(x1.ndim) if i not in axes1]
        free2 = [i for i in range(x2.ndim) if i not in axes2]
        if mine1 and not mine2:
            result = self._base.tensordot(
                self._front(x1), x2, axes=(tuple(a + 1 for a in axes1), axes2)
            )
            return self._wrap(result)
        if mine2 and not mine1:
            result = self._base.tensordot(
                x1, self._front(x2), axes=(axes1, tuple(a + 1 for a in axes2))
            )
            return self._wrap(result, len(free1))
        # Both batched: one matmul of (B, free1, contracted) by (B, contracted, free2).
        base = self._base
        a = base.permute_dims(self._front(x1), (0, *(i + 1 for i in free1 + list(axes1))))
        b = base.permute_dims(self._front(x2), (0, *(i + 1 for i in list(axes2) + free2)))
        size = a.shape[0]
        shape1 = [x1.shape[i] for i in free1]
        shape2 = [x2.shape[i] for i in free2]
        contracted = math.prod(x1.shape[i] for i in axes1)
        product = base.matmul(
            base.reshape(a, (size, math.prod(shape1), contracted)),
            base.reshape(b, (size, contracted, math.prod(shape2))),
        )
        return self._wrap(base.reshape(product, (size, *shape1, *shape2)))

    # Indexing.
    def _key(self, key: Any) -> tuple[Any, ...]:
        """An index key with unmapped index arrays as the base's arrays."""
        return tuple(
            part if mapped(part, self._level) else self._plain(part)
            for part in (key if isinstance(key, tuple) else (key,))
        )

    def _getitem(self, x: BatchedArray, key: Any) -> Any:
        parts = key if type(key) is tuple else (key,)
        if _plain_key(parts):  # x[None], x[..., 0], x[1:]: a full slice takes the batch along
            return self._wrap(self._front(x)[(slice(None), *parts)])
        key = self._key(key)
        if any(self._mine(part) for part in key):
            # Each example's own index arrays: its flat positions, taken from its flat x.
            positions = self._positions(key, x.shape)
            taken = self.take(self.reshape(x, (-1,)), self.reshape(positions, (-1,)))
            return self.reshape(taken, positions.shape)
        return self._wrap(_gather(self._base, self._front(x), key, x.shape))

    def _positions(self, key: tuple[Any, ...], shape: tuple[int, ...]) -> BatchedArray:
        """Each example's flat positions of ``x[key]`` in an ``x`` of ``shape`` (NumPy's rules,
        ``ops.index._positions``, run on this namespace), for a key holding batched arrays."""
        # Unmapped index arrays as this level's too, so that one namespace reads them all.
        # (No mask meets a batched index: a level refuses masks, whose shapes depend on values.)
        parts = tuple(
            self._unmapped(part) if _is_array(part) and not self._mine(part) else part
            for part in key
        )
        return _positions(parts, shape)  # type: ignore[no-any-return]

    def take(self, x: Any, indices: Any, /, *, axis: int | None = None) -> Any:
        indices = indices if mapped(indices, self._level) else self._plain(indices)
        axis = 0 if axis is None else axis
        if self._mine(indices):
            return self._take_batched(x, indices, _axis(axis, x.ndim, "take") - 1)
        if not self._mine(x):
            return self._unmapped(self._base.take(x, indices, axis=axis))
        return self._wrap(
            self._base.take(self._front(x), indices, axis=_axis(axis, x.ndim, "take"))
        )

    def _take_batched(self, x: Any, indices: BatchedArray, axis: int) -> BatchedArray:
        """``take`` with each example's own 1-d indices: one take of the base."""
        base, size = self._base, self._level.size
        flat = base.reshape(self._front(indices), (-1,))
        if not mapped(x, self._level):
            # One x for all: take every example's indices at once; the batch stays where the
            # indices' axis lands.
            taken = base.take(self._plain(x), flat, axis=axis)
            shape = (*x.shape[:axis], size, indices.shape[0], *x.shape[axis + 1 :])
            return self._wrap(base.reshape(taken, shape), axis)
        # Rows of the flattened batch: each example's indices offset by its place in it. Taken
        # from an arange first, so that negative indices wrap and an index out of range raises
        # as take() does, instead of reaching the next example's rows.
        length = x.shape[axis]
        wrapped = base.take(base.arange(length, dtype=_index_dtype(base)), flat)
        starts = base.arange(size, dtype=wrapped.dtype) * length
        rows = base.reshape(base.reshape(wrapped, (size, -1)) + starts[:, None], (-1,))
        moved = self._front(x) if axis == 0 else _moveaxis(base, self._front(x), axis + 1, 1)
        rest = moved.shape[2:]
        taken = base.take(base.reshape(moved, (size * length, *rest)), rows, axis=0)
        taken = base.reshape(taken, (size, indices.shape[0], *rest))
        return self._wrap(taken if axis == 0 else _moveaxis(base, taken, 1, axis + 1))

    def take_along_axis(self, x: Any, indices: Any, /, *, axis: int = -1) -> Any:
        if not (self._mine(x) or self._mine(indices)):
            return self._unmapped(self._base.take_along_axis(x, indices, axis=axis))
        return self._wrap(
            self._base.take_along_axis(
                self._filled(x), self._filled(indices), axis=_axis(axis, x.ndim, "take_along_axis")
            )
        )

    def index_add(self, x: Any, key: Any, values: Any) -> Any:
        key = self._key(key)
        if any(self._mine(part) for part in key):
            return self._index_add_batched(x, key, values)
        if not (self._mine(x) or self._mine(values)):
            return self._unmapped(self._base.index_add(x, key, values))
        block = self._filled(x)
        if self._mine(values):
            values = self._padded(values, values.ndim)
        # The scatter takes values of the batch's x[key] shape: one example's, batch in front.
        indexed = _gather(self._base, block[:1, ...], key, x.shape)
        values = self._base.broadcast_to(values, (block.shape[0], *indexed.shape[1:]))
        return self._wrap(_scatter_add(self._base, block, key, values, x.shape))

    def _index_add_batched(self, x: Any, key: tuple[Any, ...], values: Any) -> BatchedArray:
        """``index_add`` with each example's own index arrays: one scatter-add of the base into
        the flattened batch, each example's positions offset by its place in it."""
        base, size = self._base, self._level.size
        positions = self._positions(key, x.shape)
        block = self._filled(x)
        starts = base.arange(size, dtype=positions.dtype) * math.prod(x.shape)
        located = self._front(positions) + base.reshape(starts, (size, *(1,) * positions.ndim))
        if self._mine(values):
            values = self._stack(values, positions.ndim)
        values = base.broadcast_to(values, (size, *positions.shape))
        added = base.index_add(
            base.reshape(block, (-1,)),
            (base.reshape(located, (-1,)),),
            base.reshape(values, (-1,)),
        )
        return self._wrap(base.reshape(added, block.shape))

    def searchsorted(self, x1: Any, x2: Any, /, **kwargs: Any) -> Any:
        if mapped(x1, self._level) or mapped(kwargs.get("sorter"), self._level):
            return self._searchsorted_batched(x1, x2, **kwargs)
        x1 = self._plain(x1)
        kwargs = {k: self._plain(v) for k, v in kwargs.items()}
        if not self._mine(x2):
            return self._unmapped(self._base.searchsorted(x1, x2, **kwargs))
        return self._wrap(self._base.searchsorted(x1, x2.value, **kwargs), x2.bdim)

    def _searchsorted_batched(
        self, x1: Any, x2: Any, /, *, side: str = "left", sorter: Any = None
    ) -> BatchedArray:
        """``searchsorted`` into each example's own sorted sequence: an insertion point is
        how many of the sequence's elements go before the value, counted for every example at
        once (memory of batch x sequence x values)."""
        base, size = self._base, self._level.size
        if sorter is not None:
            x1 = self.take(x1, sorter)
        sequences = base.reshape(self._filled(x1), (size, 1, -1))
        values = self._filled(x2) if self._mine(x2) else base.broadcast_to(x2, (size, *x2.shape))
        column = base.reshape(values, (size, -1, 1))
        # NumPy's order, which searchsorted follows, puts NaN after every number.
        if side == "left":
            before = sequences < column
            if base.isdtype(sequences.dtype, "real floating"):
                before = before | (base.isnan(column) & ~base.isnan(sequences))
        else:
            before = sequences <= column
            if base.isdtype(sequences.dtype, "real floating"):
                before = before | base.isnan(column)
        counts = base.sum(base.astype(before, _index_dtype(base)), axis=-1)
        return self._wrap(base.reshape(counts, (size, *x2.shape)))

    def roll(self, x: Any, /, shift: Any, *, axis: Any = None) -> Any:
        if not self._mine(x) or self._mine(shift):
            return (
                self._missing("roll", "roll() with a batched shift")(shift)
                if self._mine(shift)
                else self._base.roll(x, shift, axis=axis)
            )
        if axis is None:
            return self.reshape(self.roll(self.reshape(x, (-1,)), shift, axis=0), x.shape)
        physical_axis = (
            _axes(axis, x.ndim, "roll") if isinstance(axis, tuple) else _axis(axis, x.ndim, "roll")
        )
        return self._wrap(self._base.roll(self._front(x), shift, axis=physical_axis))


def _plain_key(parts: tuple[Any, ...]) -> bool:
    """Whether an index key's parts are all None, Ellipsis, ints and slices of int bounds and
    positive steps: every namespace takes them as they are, behind a full slice for the batch."""
    for part in parts:
        if part is None or part is Ellipsis or type(part) is int:
            continue
        if type(part) is not slice:
            return False
        start, stop, step = part.start, part.stop, part.step
        if not (
            (start is None or type(start) is int)
            and (stop is None or type(stop) is int)
            and (step is None or (type(step) is int and step > 0))
        ):
            return False
    return True


# --- rules of whole families, one method per function name ------------------------------------
# Methods of the class, not built per level: a level lives for one vmap call.
_NUMBERS = (int, float, complex, bool)


def _in_place(level: Level, args: tuple[Any, ...]) -> tuple[list[Any], int] | None:
    """The physical arrays of an elementwise function's operands and the result's batch axis,
    when those arrays broadcast as the examples do, with no batch axis to move: the operands
    of this level of the highest rank have their batch on one axis, those of lower rank are
    unmapped (a batch axis of length 1 in front, which broadcasts) and the others are Python
    numbers. None otherwise, or when no operand is of this level."""
    values = []
    rank = bdim = -1
    for a in args:
        if type(a) is BatchedArray and a.level is level:
            if a.value.ndim > rank:
                rank, bdim = a.value.ndim, a.bdim
            values.append(a.value)
        elif type(a) in _NUMBERS:
            values.append(a)
        else:
            return None
    for a in args:
        if type(a) is BatchedArray:
            ndim = a.value.ndim
            if ndim == rank:
                if a.bdim != bdim:
                    return None
            elif a.bdim != 0 or a.value.shape[0] != 1 or bdim > rank - ndim:
                return None  # a mapped operand to pad, or a batch axis amid the example's
    return (values, bdim) if rank >= 0 else None


def _elementwise_rule(name: str) -> Callable[..., Any]:
    def elementwise(self: Namespace, *args: Any, **kwargs: Any) -> Any:
        function = getattr(self._base, name)
        if not kwargs:
            direct = _in_place(self._level, args)
            if direct is not None:
                return BatchedArray(function(*direct[0]), direct[1], self._level)
        # Otherwise the batch in front of every batched operand, padded to the largest rank.
        operands = (*args, *kwargs.values())
        if not any(self._mine(a) for a in operands):
            return self._unmapped(function(*args, **kwargs))
        ndim = max(getattr(a, "ndim", 0) for a in operands)

        def prepared(a: Any) -> Any:
            return self._padded(a, ndim) if self._mine(a) else a

        return self._wrap(
            function(*map(prepared, args), **{k: prepared(v) for k, v in kwargs.items()})
        )

    elementwise.__name__ = elementwise.__qualname__ = name
    return elementwise


def _along_axis_rule(name: str) -> Callable[..., Any]:
    def along_axis(self: Namespace, x: Any, /, *args: Any, axis: Any = None, **kwargs: Any) -> Any:
        function = getattr(self._base, name)
        if not self._mine(x):
            return self._unmapped(function(x, *args, axis=axis, **kwargs))
        ndim = x.ndim
        if axis is None and name in ("argmax", "argmin") and ndim != 1:
            return along_axis(self, self.reshape(x, (-1,)), *args, axis=0, **kwargs)
        if axis is None:
            if name.startswith("cumulative") or name in ("argsort", "sort"):
                axis = -1  # 1-D examples only (the namespace checks)
                physical_axis: Any = _axis(axis, ndim, name)
            else:
                physical_axis = tuple(range(1, ndim + 1))
        elif isinstance(axis, tuple):
            physical_axis = _axes(axis, ndim, name)
        else:
            physical_axis = _axis(axis, ndim, name)
        return self._wrap(function(self._front(x), *args, axis=physical_axis, **kwargs))

    along_axis.__name__ = along_axis.__qualname__ = name
    return along_axis


for _name in _ELEMENTWISE:
    setattr(Namespace, _name, _elementwise_rule(_name))
for _name in _ALONG_AXIS:
    setattr(Namespace, _name, _along_axis_rule(_name))


class _Linalg:
    """``xp.linalg`` of a level: functions of stacks of matrices take the batch as one more
    stack axis; ``solve`` minds a right-hand side that is a vector."""

    def __init__(self, namespace: Namespace) -> None:
        self._namespace = namespace
        self._base = namespace._base.linalg

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        function = self._namespace._stacked(getattr(self._base, name), f"linalg.{name}")
        setattr(self, name, function)
        return function

    def matmul(self, x1: Any, x2: Any, /) -> Any:
        return self._namespace.matmul(x1, x2)

    def solve(self, x1: Any, x2: Any, /) -> Any:
        ns = self._namespace
        if not (ns._mine(x1) or ns._mine(x2)):
            return ns._unmapped(self._base.solve(x1, x2))
        vector = x2.ndim == 1  # a right-hand side vector: one column
        b = ns.expand_dims(x2, axis=-1) if vector else x2
        ndim = max(x1.ndim, b.ndim)
        a_stack, b_stack = (ns._stack(value, ndim) for value in (x1, b))
        result = ns._wrap(self._base.solve(a_stack, b_stack))
        return ns.squeeze(result, axis=-1) if vector else result


class _Fft:
    """``xp.fft`` of a level: the transforms run over the per-example axes, shifted by the
    batch in front; the frequency helpers take no arrays and come from the base."""

    _ONE_AXIS = frozenset({"fft", "ifft", "rfft", "irfft", "hfft", "ihfft"})
    _MANY_AXES = frozenset({"fftn", "ifftn", "rfftn", "irfftn"})

    def __init__(self, namespace: Namespace) -> None:
        self._namespace = namespace
        self._base = getattr(namespace._base, "fft", None)  # a backend may lack the extension

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or self._base is None:
            raise AttributeError(name)
        base_function = getattr(self._base, name)
        if name not in self._ONE_AXIS | self._MANY_AXES:
            return base_function  # fftfreq, rfftfreq; fftshift and ifftshift are rolls
        ns = self._namespace
        many = name in self._MANY_AXES

        def function(x: Any, /, *args: Any, **kwargs: Any) -> Any:
            if not ns._mine(x):
                return ns._unmapped(base_function(x, *args, **kwargs))
            if many:
                axes = kwargs.get("axes")
                axes = range(x.ndim) if axes is None else axes
                kwargs["axes"] = _axes(axes, x.ndim, f"fft.{name}")
            else:
                kwargs["axis"] = _axis(kwargs.get("axis", -1), x.ndim, f"fft.{name}")
            return ns._wrap(base_function(ns._front(x), *args, **kwargs))

        setattr(self, name, function)
        return function


class Level:
    """One vmap call: a backend whose arrays carry a hidden batch axis of length ``size``.

    It answers what a backend answers (dtypes, scalars, conversions come from ``base``, the
    backend below); its namespace maps functions over the batch; random draws follow
    ``randomness``.
    """

    lazy = True  # dualgrad reads no value by itself: each example has its own
    constants = None

    def __init__(self, base: Any, size: int, randomness: str) -> None:
        self.base = base
        self.size = size
        self.randomness = randomness
        self.depth = depth(base) + 1
        self.name = base.name
        self.xp = Namespace(self)
        self.namespace = self.xp

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)  # dtypes, scalars, conversions: the base's

    def __repr__(self) -> str:
        return f"<vmap level {self.depth} over {self.base!r}, batch size {self.size}>"

    def owns(self, obj: object) -> bool:
        return (type(obj) is BatchedArray and obj.level is self) or self.base.owns(obj)

    def dtype_of(self, array: Any) -> Any:
        return self.base.dtype_of(array.value if type(array) is BatchedArray else array)

    def readable(self, array: Any) -> bool:
        return type(array) is not BatchedArray and self.base.readable(array)

    def to_numpy(self, array: Any) -> Any:
        if type(array) is BatchedArray and array.level is self:
            return array._host(
                "item(), bool(), tolist(), numpy() or printing",
                self.base.to_numpy,
            )
        return self.base.to_numpy(array)

    def scalar(self, value: complex, dtype: Any) -> Any:
        return batched(self.base.scalar(value, dtype), self, None)

    def operand(self, value: complex, dtype: Any, like: Any) -> Any:
        return self.scalar(value, dtype)  # not the base's, which is of the level below

    def from_numpy(self, array: Any) -> Any:
        return batched(self.base.from_numpy(array), self, None)

    def check_static_shape(self, operation: str, hint: str) -> None:
        msg = (
            f"vmap: {operation}: the result's shape depends on each example's values, which "
            f"vmap cannot batch; {hint}"
        )
        raise RuntimeError(msg)

    def index_add(self, x: Any, key: Any, values: Any) -> Any:
        return self.xp.index_add(x, key, values)

    def outer_products(self, a: Any, b: Any) -> Any:
        return a * b  # batched arrays of this level: its namespace's multiply

    # Random draws: the level's policy, as torch.func.vmap's ``randomness``.
    def _draw(self, draw: str, shape: tuple[int, ...], dtype: Any) -> Any:
        if self.randomness == "error":
            msg = (
                f"vmap: {draw}() called inside vmap with randomness='error' (the default); "
                "pass randomness='different' (independent draws per example) or 'same' (one "
                "draw shared by the batch) to vmap, or draw outside the vmapped function"
            )
            raise RuntimeError(msg)
        if self.randomness == "same":
            return getattr(self.base, draw)(shape, dtype)
        return BatchedArray(getattr(self.base, draw)((self.size, *shape), dtype), 0, self)

    def randn(self, shape: tuple[int, ...], dtype: Any) -> Any:
        return self._draw("randn", shape, dtype)

    def rand(self, shape: tuple[int, ...], dtype: Any) -> Any:
        return self._draw("rand", shape, dtype)
