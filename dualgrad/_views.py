"""Views: an in-place change made through a view reaches its base, as in PyTorch.

In PyTorch ``x[0]``, ``x.t()`` or ``x.view(-1)`` share ``x``'s memory, so ``x[0].fill_(1.0)``
or ``w.data[:n].zero_()`` change ``x``. A dualgrad tensor owns its array (JAX arrays are
immutable, and one engine runs on every backend), so a view here is a ``View``: a tensor with
the values the operation gave, which remembers its base and how it was made from it (``how``,
below). An in-place operation on a view is written back into the base by the base's own
in-place operation (``base[key] = view``, ``base.copy_(...)``), recorded and versioned as any
in-place operation is, so gradients flow through the change as through PyTorch's; a view of a
view writes back along the chain. A view whose base changed in place since it was made is
made again from the base before it changes, so the write-back keeps the base's change.

What stays apart from PyTorch: a view read after its base changed in place has the values it
was made with (PyTorch's shows the change). Reading a tensor never pays for views.

A view holds a plain base weakly: a view of a temporary (``(a + b)[0].fill_(1.0)``) writes into
nothing, which nobody could see, and a view never keeps a base, or the graph behind it, alive.
It holds a base that is itself a view, or a ``.data``, strongly: that base is only the link to
the tensor that lasts.

``how`` is an object with two methods: ``make(base)``, the view operation again, as a plain
tensor; and ``write(base, view)``, the base's in-place update from the view's values.
"""

from __future__ import annotations

__all__ = ["View", "detach", "view"]

import weakref
from typing import Any

from .autograd.grad_mode import is_grad_enabled
from .autograd.graph import bump_version
from .tensor import Tensor, _DataAlias, method

_allocate = object.__new__


class View(Tensor):
    """A tensor made from its base by a view operation; see the module's docstring."""

    __slots__ = ("_how", "_seen", "_strong_base", "_weak_base", "_writing")

    _how: Any
    _seen: int  # the base's version when this view last matched it
    _strong_base: Tensor | None
    _weak_base: weakref.ref[Tensor] | None
    _writing: bool  # inside _update, which writes back once the graph is in place too

    def _base(self) -> Tensor | None:
        """The base, or None where it no longer exists."""
        base = self._strong_base
        if base is not None:
            return base
        return self._weak_base()  # type: ignore[misc]

    def _update(self, compute: Any, op_name: str) -> Tensor:
        self._prepare()
        self._writing = True
        try:
            Tensor._update(self, compute, op_name)
        finally:
            self._writing = False
        self._write_back()
        return self

    def _swap_in(self, array: Any, *read: Tensor) -> Tensor:
        if self._writing:
            return Tensor._swap_in(self, array, *read)
        self._prepare()  # a fill: its values do not depend on the stale ones
        Tensor._swap_in(self, array, *read)
        self._write_back()
        return self

    def _plain_update_with(self, other: Any) -> bool:
        # The plain path reads this view's values before anything could catch them up.
        return False

    def _prepare(self) -> None:
        """Refuse what PyTorch refuses, before anything changes; catch up with the base.

        Raises:
            RuntimeError: a base along the chain is a leaf that requires grad, outside
                ``no_grad()``; or this view is one of several a function returned (``unbind``,
                ``split``, ``chunk``) and requires grad, outside ``no_grad()``.
        """
        one_of = getattr(self._how, "one_of", None)
        if one_of is not None and self._requires_grad and is_grad_enabled():
            name, place = one_of
            msg = (
                f"Output {place} of {name} is a view and is being modified inplace. This view "
                "is the output of a function that returns multiple views. Such functions do "
                "not allow the output views to be modified inplace. You should replace the "
                "inplace operation by an out-of-place one."
            )
            raise RuntimeError(msg)
        link: Tensor | None = self
        while isinstance(link, View) and link._how is not _DETACHED:  # detach() cuts autograd
            link = link._base()
            is_leaf = link is not None and link._node is None
            if is_leaf and link._requires_grad and is_grad_enabled():  # type: ignore[union-attr]
                msg = (
                    "a view of a leaf Variable that requires grad is being used in an "
                    "in-place operation."
                )
                raise RuntimeError(msg)
        self._catch_up()

    def _catch_up(self) -> None:
        """Make this view again from its base if the base changed in place since."""
        base = self._base()
        if base is None:
            return
        if isinstance(base, View):
            base._catch_up()
        if base._version == self._seen:
            return
        fresh = self._how.make(base)
        self._array = fresh._array
        self._tangents = fresh._tangents
        if is_grad_enabled():  # as an in-place change: under no_grad the history stays
            self._node, self._requires_grad = fresh._node, fresh._requires_grad
        self._seen = base._version
        bump_version(self)  # what was saved of the old values is stale, as in PyTorch

    def _write_back(self) -> None:
        base = self._base()
        if base is None:
            return
        history = base._node
        self._how.write(base, self)
        self._seen = base._version
        if self._how is not _DETACHED:  # the names PyTorch's graph shows after such a change
            if base._node is not None and base._node is not history:
                base._node.label = "CopySlices"
            if self._node is not None:
                self._node.label = "AsStridedBackward0"

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        copied = self._plain().__deepcopy__(memo)
        memo[id(self)] = copied
        return copied

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self._plain().__reduce_ex__(protocol)


def view(out: Tensor, base: Tensor, how: Any) -> Tensor:
    """``out``, which ``how`` made from ``base``, as a View of ``base`` (``out`` itself where
    the operation returned ``base``)."""
    if out is base:
        return out
    made = _allocate(View)
    made._array = out._array
    made._backend = out._backend
    made._grad = None
    made._hooks = None
    made._node = out._node
    made._requires_grad = out._requires_grad
    made._tangents = out._tangents
    made._version = 0
    made._how = how
    made._seen = base._version
    made._writing = False
    if type(base) is View or type(base) is _DataAlias:  # (no subclasses; a union is slower)
        made._strong_base, made._weak_base = base, None
    else:
        made._strong_base, made._weak_base = None, weakref.ref(base)
    return made


class _Detached:
    """How ``detach()`` is made and written back: the same values, outside the graph."""

    __slots__ = ()

    def make(self, base: Tensor) -> Tensor:
        return base._detached()

    def write(self, base: Tensor, values: Tensor) -> None:
        # Outside the graph, as PyTorch's shared storage: the base's history stays, its version
        # counts the change (so a backward through its saved old values refuses).
        if isinstance(base, View):
            base._catch_up()
            Tensor._swap_in(base, values._array)
            base._write_back()
        else:
            base._swap_in(values._array)


_DETACHED = _Detached()


def detach(self: Tensor) -> Tensor:
    """The same values, cut from the graph and from every tangent: a constant leaf, and a view
    of this tensor, as PyTorch's: an in-place change to it changes this tensor, unrecorded."""
    return view(self._detached(), self, _DETACHED)


method(detach)
