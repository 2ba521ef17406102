"""The new ``.grad`` Tensors of a compiled step, returned packed into one buffer.

Every array a ``jax.jit``-compiled call returns has a cost of its own (JAX makes a buffer and an
``Array`` for it), which on a small model is a good part of the step; and a training step that
zeroes its gradients first drops the previous step's before anything reads them. So where a
compiled step gives several leaves new ``.grad`` Tensors (``zero_grad()`` then ``backward()``),
it returns their arrays concatenated, one flat buffer per dtype (``pack``), and each leaf gets a
``PackedGrad``: a Tensor whose array is cut out of the buffer when something first reads it. The
first read cuts out the arrays of every leaf of that call at once, with one compiled call;
a gradient that is never read costs nothing more. Apart from its type, a ``PackedGrad`` is an
ordinary Tensor; copies and pickles of it are plain Tensors.
"""

from __future__ import annotations

import functools
from typing import Any

from .tensor import Tensor

# Where one leaf's gradient lies in the packed buffers: (buffer, start, stop, shape).
Place = tuple[int, int, int, tuple[int, ...]]


class Packed:
    """The packed new gradients of one compiled call: ``buffers`` (one flat array per dtype)
    and ``plan`` (for each leaf of the step, in order, its ``Place`` or None). The compiled
    function returns it as a pytree whose static part is the plan (see ``register``)."""

    __slots__ = ("_arrays", "buffers", "plan")

    def __init__(self, plan: tuple[Place | None, ...], buffers: list[Any]) -> None:
        # (plan, buffers): JAX's order for a pytree's unflatten, so that the class is its own.
        self.plan = plan
        self.buffers = buffers
        self._arrays: list[Any] | None = None

    @property
    def complete(self) -> bool:
        """Whether every leaf of the step has its gradient here."""
        return None not in self.plan

    def give(self, leaves: list[Tensor], backend: Any) -> None:
        """Give each leaf of the plan its new ``.grad``, its array still in the buffers."""
        for position, place in enumerate(self.plan):
            if place is None:
                continue
            grad = _allocate(PackedGrad)
            grad._packed = self
            grad._position = position
            grad._value = None
            grad._backend = backend
            grad._grad = None
            grad._hooks = None
            grad._node = None
            grad._requires_grad = False
            grad._tangents = None
            grad._version = 0
            leaves[position]._grad = grad

    def array(self, position: int) -> Any:
        """The gradient of the leaf at ``position``, cutting all of them out the first time."""
        arrays = self._arrays
        if arrays is None:
            import jax

            # Concrete even when read while JAX traces (a later step's discovery, say).
            with jax.ensure_compile_time_eval():
                arrays = self._arrays = _cutter(self.plan)(self.buffers)
        return arrays[position]


_allocate = object.__new__


class PackedGrad(Tensor):
    """A ``.grad`` Tensor whose array is cut out of its compiled call's ``Packed`` buffers on
    first read (``_array``, which every operation reads) and kept from then on."""

    __slots__ = ("_packed", "_position", "_value")

    _packed: Packed | None
    _position: int
    _value: Any

    @property  # type: ignore[override]
    def _array(self) -> Any:
        value = self._value
        if value is None:
            packed = self._packed  # None: another thread has just set the value
            value = self._value if packed is None else packed.array(self._position)
            self._value = value
            self._packed = None
        return value

    @_array.setter
    def _array(self, array: Any) -> None:
        self._value = array
        self._packed = None

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self._plain().__reduce_ex__(protocol)


def pack(grads: list[Any]) -> Packed:
    """``grads`` (traced arrays, or None for a leaf not packed) packed by dtype."""
    import jax.numpy as jnp

    groups: dict[Any, list[Any]] = {}  # dtype: its gradients, flattened, in order
    sizes: dict[Any, int] = {}
    plan: list[Place | None] = []
    for grad in grads:
        if grad is None:
            plan.append(None)
            continue
        group = groups.setdefault(grad.dtype, [])
        start = sizes.get(grad.dtype, 0)
        sizes[grad.dtype] = start + grad.size
        plan.append((list(groups).index(grad.dtype), start, start + grad.size, grad.shape))
        group.append(grad.reshape(-1))
    return Packed(tuple(plan), [jnp.concatenate(group) for group in groups.values()])


@functools.cache
def _cutter(plan: tuple[Place | None, ...]) -> Any:
    """One compiled function that cuts every planned gradient out of the buffers."""
    import jax

    def cut(buffers: list[Any]) -> list[Any]:
        return [
            None if place is None else buffers[place[0]][place[1] : place[2]].reshape(place[3])
            for place in plan
        ]

    return jax.jit(cut)


@functools.cache
def register() -> None:
    """Make ``Packed`` a JAX pytree (once): its buffers are the arrays, its plan is static."""
    import jax

    jax.tree_util.register_pytree_node(Packed, lambda p: (p.buffers, p.plan), Packed)
