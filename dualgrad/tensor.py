"""Tensor: a mutable box around one backend array, with PyTorch's autograd attributes.

The array inside is never mutated: in-place operations (``x -= ...``, ``add_``, ``zero_``)
compute a new array and swap it in, bumping the version counter. That works the same on
immutable arrays (JAX) and keeps every saved value valid, so the version check below exists
only to report what PyTorch reports. A tensor made by a view operation (``x[0]``, ``reshape``,
``t()``, ``detach()``) shares no array with its base, but writes an in-place change back into it
(``dualgrad._views``); ``.data`` is the one alias.
"""

from __future__ import annotations

__all__ = ["RemovableHandle", "Tensor", "array_of", "data_alias", "method", "same_backend"]

import copy
import operator
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from . import _batching, _namespace, _recorder
from ._device import device, device_of
from ._dtypes import KIND_RANK, DType
from ._printing import tensor_repr
from ._size import Size
from .autograd.grad_mode import is_grad_enabled
from .autograd.graph import Node, bump_version
from .backends._base import Backend as _Backend

if TYPE_CHECKING:
    from .autograd.graph import ForwardNode
    from .backends import Backend

F = TypeVar("F")


_allocate = object.__new__

_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead."
)


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Create tensors with ``dualgrad.tensor``, ``dualgrad.zeros``, ``dualgrad.randn`` and friends.
    This class holds the array, the autograd attributes and the in-place protocol; operators
    and the methods that run operations (``x + y``, ``x.sum()``, ``x.backward()``) are declared
    next to the functions that implement them, with ``method``.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor(2.0, requires_grad=True)
        >>> y = x ** 2 + 3 * x + 1
        >>> y.backward()
        >>> x.grad
        tensor(7.)
    """

    __slots__ = (
        "__weakref__",
        "_array",
        "_backend",
        "_grad",
        "_hooks",
        "_node",
        "_requires_grad",
        "_tangents",
        "_version",
    )

    # Make ``ndarray * tensor`` call Tensor.__rmul__ instead of NumPy broadcasting over elements.
    __array_priority__ = 1000
    __array_ufunc__ = None

    _array: Any
    _backend: Backend
    _grad: Tensor | None
    _hooks: list[Callable[[Tensor], Tensor | None]] | None
    _node: Node | ForwardNode | None
    _requires_grad: bool
    _tangents: dict[Any, Any] | None  # forward mode: tangent per dual level or seeded leaf
    _version: int

    def __init__(self, *args: Any, requires_grad: bool = False) -> None:
        # ``Tensor(array, backend)`` inside dualgrad; ``Tensor(data)`` and ``Tensor(*sizes)``
        # as PyTorch's constructor, in the default dtype.
        if len(args) == 2 and (isinstance(args[1], _Backend) or hasattr(args[1], "xp")):
            # a Backend, or a backend-like vmap level
            array, backend = args
        else:
            made = _namespace.differentiable().creation.legacy_tensor(args)
            array, backend = made._array, made._backend
        self._array = array
        self._backend = backend
        self._grad = None
        self._hooks = None
        self._node = None
        self._requires_grad = False
        self._tangents = None
        self._version = 0
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _wrap(array: Any, backend: Backend) -> Tensor:
        """A fresh tensor that requires no grad (the fast constructor used by every op).

        A static method with the allocation spelled out: a class method's binding would cost
        a third of the call.
        """
        tensor = _allocate(Tensor)
        tensor._array = array
        tensor._backend = backend
        tensor._grad = None
        tensor._hooks = None
        tensor._node = None
        tensor._requires_grad = False
        tensor._tangents = None
        tensor._version = 0
        return tensor

    # --- array attributes -------------------------------------------------------------------
    @property
    def array(self) -> Any:
        """The backend array inside (NumPy, JAX, ...), without any graph."""
        return self._array

    @property
    def shape(self) -> Size:
        """The shape, as a tuple of ints (a ``Size``, which prints as PyTorch's)."""
        return Size(self._array.shape)

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return self._array.ndim

    @property
    def dtype(self) -> DType:
        """The dtype, as a dualgrad dtype (``dualgrad.float32``, ...)."""
        return self._backend.dtype_of(self._array)

    @property
    def device(self) -> device:
        """The device the array lives on, as PyTorch names it (``device(type='cpu')``); it
        compares equal to the backend's own device object too."""
        return device_of(self._array)

    @property
    def backend(self) -> Backend:
        """The backend this tensor's array belongs to."""
        return self._backend

    def size(self, dim: int | None = None) -> Any:
        """The shape (as PyTorch's ``size()``), or the length of axis ``dim``."""
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        count = 1
        for n in self._array.shape:  # not self.shape: a Size costs more than the loop
            count *= n
        return count

    def dim(self) -> int:
        """The number of axes (PyTorch's spelling of ``ndim``)."""
        return self.ndim

    def item(self) -> Any:
        """The single element as a Python number.

        Raises:
            ValueError: the tensor has more than one element.
        """
        if self.numel() != 1:
            msg = (
                f"item(): a tensor with {self.numel()} elements cannot be converted to a "
                "Python number; index one element first"
            )
            raise ValueError(msg)
        return self._backend.to_numpy(self._array).reshape(()).item()

    def tolist(self) -> Any:
        """The elements as (nested) Python lists of numbers."""
        return self._backend.to_numpy(self._array).tolist()

    def numpy(self) -> Any:
        """The values as a NumPy array.

        Raises:
            RuntimeError: the tensor requires grad (use ``detach().numpy()``).
        """
        if self.requires_grad:
            msg = (
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
            raise RuntimeError(msg)
        return self._backend.to_numpy(self._array)

    # --- copying and pickling (copy.deepcopy of a model, DataLoader workers) ---------------------
    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        """A new leaf with a copy of the values, ``requires_grad`` and ``.grad`` (and a
        subclass's attributes), as PyTorch's; only leaves can be copied, as in PyTorch.

        Raises:
            RuntimeError: the tensor is not a leaf, or carries forward-mode tangents.
        """
        self._check_copyable("deepcopy")
        array = self._backend.xp.asarray(self._array, copy=True)
        grad = copy.deepcopy(self._grad, memo)
        new = _leaf(type(self), array, self._backend, self._requires_grad, grad)
        memo[id(self)] = new
        if hasattr(self, "__dict__"):
            new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    def __reduce_ex__(self, protocol: Any) -> Any:
        # The values travel as NumPy and land on a backend of the same name when unpickled.
        self._check_copyable("pickle")
        values = self._backend.to_numpy(self._array)
        state = (self._backend.name, values, self._requires_grad, self._grad)
        return (_unpickle, (type(self), *state), getattr(self, "__dict__", None))

    def _plain(self) -> Tensor:
        """A plain Tensor with this one's fields: what a subclass that only changes how its
        values are kept (a view, a packed gradient) copies and pickles as."""
        plain = _allocate(Tensor)
        for name in _TENSOR_SLOTS:
            setattr(plain, name, getattr(self, name))
        return plain

    def _check_copyable(self, how: str) -> None:
        if self._node is not None or self._tangents is not None:
            msg = (
                f"Only Tensors created explicitly by the user (graph leaves) support {how}; "
                "copy t.detach() instead, or the module before it computes"
            )
            raise RuntimeError(msg)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> Any:
        # NumPy conversion would silently drop forward-mode tangents, as it would a graph.
        if self._tangents is not None:
            msg = (
                "Can't convert a Tensor that carries forward-mode tangents to a NumPy array. "
                "Use tensor.detach().numpy() instead."
            )
            raise RuntimeError(msg)
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    # --- autograd attributes ----------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded for backward."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._node is not None:
            if not value:
                msg = (
                    "you can only change requires_grad flags of leaf tensors; "
                    "use detach() to get a tensor that does not require grad"
                )
                raise RuntimeError(msg)
            return
        if value and not self.dtype.is_inexact:
            msg = (
                "only tensors of floating point or complex dtype can require gradients, got "
                f"{self.dtype}; "
                "convert first, e.g. x.to(dualgrad.float32)"
            )
            raise TypeError(msg)
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return this tensor."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation."""
        return self._node is None

    @property
    def grad_fn(self) -> Node | ForwardNode | None:
        """The tape node that produced this tensor, or None for a leaf."""
        return self._node

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient of a leaf (or of a non-leaf after ``retain_grad()``).

        Reading it on a non-leaf that does not retain its gradient gives None with PyTorch's
        warning: such a tensor never gets one.
        """
        if self._grad is None and self._node is not None and not self.retains_grad:
            warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                msg = f"assigned grad must be a Tensor or None, got {type(value).__name__}"
                raise TypeError(msg)
            if value.shape != self.shape:
                msg = (
                    f"assigned grad has shape {tuple(value.shape)} "
                    f"but the tensor has shape {tuple(self.shape)}"
                )
                raise ValueError(msg)
            if value._backend is not self._backend or value.dtype is not self.dtype:
                msg = (
                    f"assigned grad is a {value.dtype} tensor on backend {value._backend.name} "
                    f"but the tensor is {self.dtype} on {self._backend.name}; convert it first"
                )
                raise TypeError(msg)
        if _recorder.recorder is not None:
            _recorder.recorder.write_grad(self, adds=False)
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        """Whether this non-leaf keeps its ``.grad`` after backward."""
        return getattr(self._node, "retained_by", None) is not None

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward.

        Raises:
            RuntimeError: the tensor does not require grad, or was computed in forward mode
                (which yields derivatives of outputs, not of intermediate values).
        """
        if not self._requires_grad:
            msg = (
                "can't retain_grad on a tensor that has requires_grad=False; call "
                "requires_grad_() on it (or on the leaves it comes from) first"
            )
            raise RuntimeError(msg)
        if self._node is not None:
            self._reverse_node("retain_grad").retained_by = weakref.ref(self)

    def _reverse_node(self, what: str) -> Node:
        """This tensor's tape node, or a clear error when it was computed in forward mode."""
        if not isinstance(self._node, Node):
            msg = (
                f"{what}() on a non-leaf tensor needs reverse mode, which records the "
                "intermediate values; compute it under dualgrad.use_mode('reverse')"
            )
            raise RuntimeError(msg)
        return self._node

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed.

        The hook may return a new gradient (same shape) to use instead.

        Raises:
            RuntimeError: the tensor does not require grad.
        """
        if not self._requires_grad:
            msg = (
                "cannot register a hook on a tensor that doesn't require gradient; call "
                "requires_grad_() on it (or on the leaves it comes from) first"
            )
            raise RuntimeError(msg)
        if self._node is not None:
            node = self._reverse_node("register_hook")
            if node.pre_hooks is None:
                node.pre_hooks = []
            hooks = node.pre_hooks
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def _set_data(self, value: Tensor) -> None:
        """``tensor.data = value``: take ``value``'s array (shape and dtype too), unrecorded."""
        if not isinstance(value, Tensor):
            msg = f"data must be set to a Tensor, got {type(value).__name__}"
            raise TypeError(msg)
        same_backend("data", (self, value))
        self._array = value._array

    # ``detach()``, a view of this tensor, is defined with the views (dualgrad._views).

    def _detached(self) -> Tensor:
        """``detach()`` without the view: a new constant leaf with these values, which later
        in-place changes to either leave the other as it is (a copy, at no cost)."""
        return Tensor._wrap(self._array, self._backend)

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph and its tangents in place, making it a leaf."""
        self._node = None
        self._requires_grad = False
        self._tangents = None
        return self

    # --- in-place updates -------------------------------------------------------------------
    def _update(self, compute: Callable[[Tensor], Tensor], op_name: str) -> Tensor:
        """Swap in ``compute(self)``'s array (and graph), as an in-place op would.

        Raises:
            RuntimeError: the tensor is a leaf that requires grad, outside ``no_grad()``.
            ValueError: the result's shape differs from the tensor's (broadcasting would grow it).
            TypeError: the result's dtype is of a higher kind than the tensor's (an integer
                tensor updated with a float); in every case the tensor is left as it was.
        """
        if self._node is None and self._requires_grad and is_grad_enabled():
            msg = (
                f"{op_name}: a leaf tensor that requires grad is being used in an in-place "
                "operation; wrap the update in `with dualgrad.no_grad():`"
            )
            raise RuntimeError(msg)
        if self._tangents is None and not is_grad_enabled():
            result = compute(self)  # records nothing that could keep this tensor as an input
        else:
            before = Tensor._wrap(self._array, self._backend)  # what the recorded op saw
            before._node, before._requires_grad, before._version, before._tangents = (
                self._node,
                self._requires_grad,
                self._version,
                self._tangents,
            )
            result = compute(before)
        if result._backend is not self._backend:
            msg = (
                f"{op_name}: inside vmap, an in-place operation would write values that differ "
                "from example to example into a tensor that is the same for every example "
                "(one from outside the mapped function, or not mapped); use the out-of-place "
                "operation instead (y = x + other, not x += other)"
            )
            raise RuntimeError(msg)
        if result._array.shape != self._array.shape:
            msg = (
                f"{op_name}: the result has shape {tuple(result.shape)} but the tensor has shape "
                f"{tuple(self.shape)}; in-place operations cannot change a tensor's shape"
            )
            raise ValueError(msg)
        if result._array.dtype != self._array.dtype and result.dtype is not self.dtype:
            # PyTorch's rule (the standard leaves it to the implementation): the result is cast
            # back to the tensor's dtype within a kind or down from a lower one (float32 +=
            # float64 stays float32), never up from a higher kind (int64 *= 1.5 raises).
            if KIND_RANK[result.dtype.kind] > KIND_RANK[self.dtype.kind]:
                msg = (
                    f"{op_name}: result type {result.dtype} can't be cast to the tensor's "
                    f"{self.dtype}; convert the tensor first, or write the out-of-place form"
                )
                raise TypeError(msg)
            result = result.astype(self.dtype)
        self._swap_in(result._array)
        self._tangents = result._tangents
        if is_grad_enabled():  # the result's history replaces ours; under no_grad ours stays
            self._node, self._requires_grad = result._node, result._requires_grad
        return self

    def add_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self += alpha * other`` in place."""
        if alpha == 1 and self._plain_update_with(other):
            return self._swap_in(self._array + other._array, other)
        return self._update(lambda x: x + (other if alpha == 1 else alpha * other), "add_")

    def sub_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self -= alpha * other`` in place."""
        if alpha == 1 and self._plain_update_with(other):
            return self._swap_in(self._array - other._array, other)
        return self._update(lambda x: x - (other if alpha == 1 else alpha * other), "sub_")

    def _plain_update_with(self, other: Any) -> bool:
        """Whether ``self (op)= other`` is plain array arithmetic: the optimizer's update.

        Under no_grad, with no tangents, and ``other`` a Tensor of this backend, shape and
        dtype, the general path (``_update`` through the dispatcher) would record nothing and
        check nothing that can fail; skipping it makes every parameter's step cheaper.
        """
        return (
            isinstance(other, Tensor)
            and not is_grad_enabled()
            and self._tangents is None
            and other._tangents is None
            and other._backend is self._backend
            and other._array.shape == self._array.shape
            and other._array.dtype == self._array.dtype
        )

    def _swap_in(self, array: Any, *read: Tensor) -> Tensor:
        """Replace the values with ``array``, computed from this tensor and ``read``, as an
        in-place operation does; bump the version."""
        if _recorder.recorder is not None:
            _recorder.recorder.read(read)
            _recorder.recorder.write(self)
        self._array = array
        bump_version(self)
        return self

    def mul_(self, other: Any) -> Tensor:
        """``self *= other`` in place."""
        return self._update(lambda x: x * other, "mul_")

    def div_(self, other: Any) -> Tensor:
        """``self /= other`` in place."""
        return self._update(lambda x: x / other, "div_")

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # --- printing ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        return tensor_repr(self)

    def __format__(self, spec: str) -> str:
        # PyTorch's: a 0-d tensor formats as its number (f"{loss}" prints 0.25), others as
        # str() with no format spec, and a spec for them is a TypeError, as for any object.
        if self.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    # --- Python protocols -------------------------------------------------------------------
    __hash__ = object.__hash__

    def __len__(self) -> int:
        if self.ndim == 0:
            msg = "len() of a 0-d tensor"
            raise TypeError(msg)
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self.numel() != 1:
            msg = (
                f"the truth value of a tensor with {self.numel()} elements is ambiguous; "
                "use .any() or .all()"
            )
            raise RuntimeError(msg)
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.ndim != 0:
            msg = "only 0-d integer tensors can be converted to an index"
            raise TypeError(msg)
        return int(self.item())


class _DataAlias(Tensor):
    """What ``tensor.data`` gives: a tensor outside the graph that shares ``tensor``'s values.

    Its array is its owner's: reading it reads the owner's current values, and an in-place
    change through it (``p.grad.data.zero_()``, ``p.data -= lr * p.grad``) changes the owner,
    unrecorded and without bumping the owner's version, as PyTorch's ``.data`` does.
    """

    __slots__ = ("_owner",)

    _owner: Tensor

    @property  # type: ignore[override]
    def _array(self) -> Any:
        return self._owner._array

    @_array.setter
    def _array(self, array: Any) -> None:
        self._owner._array = array


def data_alias(tensor: Tensor) -> Tensor:
    """``tensor.data``: the same values, outside the graph, sharing ``tensor``'s storage."""
    alias = _allocate(_DataAlias)
    alias._owner = tensor
    alias._backend = tensor._backend
    alias._grad = None
    alias._hooks = None
    alias._node = None
    alias._requires_grad = False
    alias._tangents = None
    alias._version = 0
    return alias


_TENSOR_SLOTS = tuple(name for name in Tensor.__slots__ if name != "__weakref__")

# Each Tensor's array, for map(): no Python frame per Tensor in the engines' per-op loops.
array_of: Callable[[Tensor], Any] = operator.attrgetter("_array")


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        """Unregister the hook (no-op if already removed)."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def same_backend(op_name: str, tensors: Iterable[Tensor]) -> Backend:
    """The backend the tensors share, or a TypeError naming theirs: the one check every
    operation on several tensors makes.

    Tensors of vmap levels one above another (a value closed over from outside the vmapped
    function) share the innermost level, which the dispatcher lifts the others to.
    """
    backends = [tensor._backend for tensor in tensors]
    if any(backend is not backends[0] for backend in backends):
        top = max(backends, key=_batching.depth)
        if all(_batching.below(backend, top) for backend in backends):
            return top
        names = ", ".join(dict.fromkeys(backend.name for backend in backends))
        msg = (
            f"{op_name}: inputs come from different backends ({names}); "
            "create them under one backend, or copy one's values over with "
            "dualgrad.asarray(t.detach().numpy()) inside dualgrad.use_backend(...)"
        )
        raise TypeError(msg)
    return backends[0]


def method(function: F, /, *names: str, adapt: Callable[[F], Any] | None = None) -> F:
    """Make ``function`` a method of Tensor too, under ``names`` (default: its own name).

    The functions declare their methods with this, next to their definitions, so that Tensor's
    method list is theirs: ``method(exp)``, ``method(add, "add", "__add__")``. ``adapt`` turns
    the function into the method when their signatures differ (PyTorch's ``x.sum(dim=1)``, the
    reflected ``__radd__``); ``function`` may also be a property. Returns ``function``, so it
    can decorate.
    """
    value = function if adapt is None else adapt(function)
    for name in names or (function.__name__,):  # type: ignore[attr-defined]
        setattr(Tensor, name, value)
    return function


def _unpickle(
    kind: type[Tensor], backend_name: str, values: Any, requires_grad: bool, grad: Tensor | None
) -> Tensor:
    """A pickled Tensor (``Tensor.__reduce_ex__``) rebuilt."""
    from .backends import get_backend_by_name

    backend = get_backend_by_name(backend_name)
    return _leaf(kind, backend.from_numpy(values), backend, requires_grad, grad)


def _leaf(
    kind: type[Tensor], array: Any, backend: Any, requires_grad: bool, grad: Tensor | None
) -> Tensor:
    """A new leaf of class ``kind`` (a Parameter stays one) holding ``array``: what a copy or
    an unpickled Tensor is."""
    new = kind.__new__(kind)
    Tensor.__init__(new, array, backend)
    new._requires_grad = requires_grad
    new._grad = grad
    return new
