"""``dualgrad.jit``: compile a whole training step with ``jax.jit`` on the JAX backend.

A training step reads and updates state that lives outside its arguments: parameters, their
``.grad``, optimizer buffers. ``jit`` turns the step into a pure function of that state:

1. The first call runs eagerly, so the state the step creates (gradients, momentum buffers)
   exists afterwards.
2. The second call traces the step once with ``jax.make_jaxpr``, recording which Tensors that
   existed before the call it reads or updates, and which leaves' ``.grad`` it changes; every
   change is then undone.
3. From then on, one ``jax.jit``-compiled function takes the state's arrays and the arguments
   and returns the results and the new arrays of the state the step writes, which go back into
   the same Tensors; the leaves' new gradients go into new ``.grad`` Tensors or into the ones
   they had, as the eager step would (``zero_grad()`` then ``backward()`` makes new ones).

A call of a compiled step costs one dictionary lookup on the arguments' shapes and dtypes and
a few list comprehensions around the compiled call: the Python around it is kept to that.

The tape, the backward walk and the update all run inside the trace, so the compiled step is
one XLA program. This is why the engine never branches on array values and never pulls arrays
to the host by itself. Inside the step, as under ``jax.jit``: no ``.item()`` or Python ``if`` on
values; random draws are fixed when the step is traced (pass them in as arguments); in-place
changes to the arguments themselves are not written back.

Elsewhere (NumPy, array_api_strict, ...) ``jit(fn)`` runs ``fn`` as it is.
"""

from __future__ import annotations

__all__ = ["jit"]

import functools
import gc
from collections.abc import Callable
from typing import Any

from . import _dispatch, config
from .tensor import Tensor


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Compile ``fn`` (a training step, say) into one XLA program on the JAX backend.

    Python numbers the step reads, such as an optimizer's float ``lr``, are constants of the
    compiled step: changing them later does not reach it. Tensors that exist before the call
    are state instead, so an optimizer built with ``lr=dualgrad.tensor(0.1)`` follows a
    learning-rate scheduler (which writes a Tensor lr in place); a scheduler that changes a
    float lr read by a compiled step warns.

    Args:
        fn: takes Tensors (and Python values) and returns Tensors, Python values, tuples or
            lists of them, or None.

    Returns:
        A function with ``fn``'s signature. On other backends it calls ``fn``.

    Example:
        >>> import dualgrad
        >>> w = dualgrad.tensor([1.0, 2.0], requires_grad=True)
        >>> @dualgrad.jit
        ... def step(x):
        ...     loss = ((w * x).sum() - 1.0) ** 2
        ...     loss.backward()
        ...     with dualgrad.no_grad():
        ...         w.sub_(0.1 * w.grad)
        ...     w.grad = None
        ...     return loss
        >>> [round(step(dualgrad.ones(2)).item(), 4) for _ in range(3)]
        [4.0, 1.44, 0.5184]
    """
    compiled: dict[Any, _Compiled] = {}
    calls = 0

    @functools.wraps(fn)
    def jitted(*args: Any) -> Any:
        nonlocal calls
        key = _signature(args)
        step = compiled.get(key)
        if step is not None:  # the hot path: one dictionary lookup, then the compiled call
            return step(args)
        if key[-1].name != "jax":
            return fn(*args)
        calls += 1
        if calls == 1:
            return fn(*args)  # the first call creates the state the step keeps
        step = compiled[key] = _Compiled(fn, args, key[-1])
        return step(args)

    return jitted


def tracing() -> bool:
    """Whether ``jit`` is tracing a step right now (to find the state it reads)."""
    return _dispatch.recorder is not None


def _signature(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """What a compiled step is specific to: each argument's shape, dtype and requires_grad (a
    Python value as itself), and last the backend (the first Tensor argument's, else the
    configured one)."""
    key: list[Any] = []
    backend = None
    for a in args:
        if isinstance(a, Tensor):
            array = a._array
            key.append((array.shape, array.dtype, a._requires_grad))
            if backend is None:
                backend = a._backend
        else:
            key.append(("value", a))
    key.append(config.get_backend() if backend is None else backend)
    return tuple(key)


class _Recorder:
    """What a traced call does to the Tensors that existed before it."""

    def __init__(self, existing: dict[int, Tensor]) -> None:
        # The Tensors themselves, not only their ids: a Tensor that died during the trace would
        # free its id for a new Tensor holding a tracer, which would then pass for state.
        self.existing = existing
        self.state: dict[int, Tensor] = {}  # read or updated: its array is an input
        self.written: set[int] = set()  # state whose array the call replaced: also an output
        self.grad_leaves: dict[int, Tensor] = {}  # their .grad is an input and output
        self._undo: dict[int, tuple[Tensor, tuple[Any, ...]]] = {}

    def read(self, tensors: tuple[Tensor, ...]) -> None:
        for t in tensors:
            if id(t) in self.existing and id(t) not in self.state:
                self._remember(t)
                self.state[id(t)] = t

    def write(self, t: Tensor) -> None:
        self.read((t,))

    def write_grad(self, leaf: Tensor) -> None:
        if id(leaf) in self.existing and id(leaf) not in self.grad_leaves:
            self._remember(leaf)
            self.grad_leaves[id(leaf)] = leaf
            if leaf._grad is not None:
                self.read((leaf._grad,))

    def _remember(self, t: Tensor) -> None:
        if id(t) not in self._undo:
            self._undo[id(t)] = (t, _snapshot(t))

    def undo(self) -> None:
        """Put every Tensor back as it was, noting which state the call gave a new array."""
        for t, snapshot in self._undo.values():
            if id(t) in self.state and t._array is not snapshot[0]:
                self.written.add(id(t))
            _restore(t, snapshot)


def _snapshot(t: Tensor) -> tuple[Any, ...]:
    return (t._array, t._grad, t._node, t._requires_grad, t._version, t._tangents)


def _restore(t: Tensor, snapshot: tuple[Any, ...]) -> None:
    t._array, t._grad, t._node, t._requires_grad, t._version, t._tangents = snapshot


class _Compiled:
    """One traced and compiled step, for one signature of arguments.

    The compiled function takes the arrays of the Tensor arguments, of the state and of the
    leaves' incoming ``.grad`` (None where a leaf has none), and returns the step's results,
    the new arrays of the state it writes (only those) and the leaves' new gradients (see
    ``_new_grad``).
    """

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], backend: Any) -> None:
        import jax

        self.fn = fn
        self.args = args
        self.backend = backend
        self.positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        # type(o), not isinstance: isinstance reads o.__class__, which some lazily loaded
        # objects (torch.distributed's, for one) answer with a deprecation warning.
        live = {id(o): o for o in gc.get_objects() if issubclass(type(o), Tensor)}
        recorder = _Recorder(live)
        previous, _dispatch.recorder = _dispatch.recorder, recorder
        try:
            jax.make_jaxpr(self._discover)([args[i]._array for i in self.positions])
        finally:
            _dispatch.recorder = previous
            recorder.undo()
        self.grad_leaves = list(recorder.grad_leaves.values())
        grads = {id(leaf._grad) for leaf in self.grad_leaves}
        self.state = [t for t in recorder.state.values() if id(t) not in grads]  # passed once
        self.written = [t for t in self.state if id(t) in recorder.written]
        self.jitted = jax.jit(self._pure)

    def _call_with(self, arrays: list[Any]) -> Any:
        args = list(self.args)
        for i, array in zip(self.positions, arrays, strict=True):
            args[i] = _like(args[i], array)
        return self.fn(*args)

    def _discover(self, arrays: list[Any]) -> None:
        self._call_with(arrays)

    def _pure(self, arrays: list[Any], state: list[Any], grads: list[Any]) -> Any:
        incoming = [leaf._grad for leaf in self.grad_leaves]
        touched = self.state + self.grad_leaves + [g for g in incoming if g is not None]
        saved = [(t, _snapshot(t)) for t in touched]
        try:
            for t, array in zip(self.state, state, strict=True):
                t._array = array
            for grad, array in zip(incoming, grads, strict=True):
                if grad is not None:
                    grad._array = array
            out = _to_arrays(self._call_with(arrays))
            written = {id(t) for t in self.written}
            for t, array in zip(self.state, state, strict=True):
                if t._array is not array and id(t) not in written:
                    msg = (
                        "dualgrad.jit: the step changed a Tensor of shape "
                        f"{tuple(t._array.shape)} that it only read when it was first traced; "
                        "a compiled step must do the same on every call (no Python branches on "
                        "values or on state that changes between calls)"
                    )
                    raise RuntimeError(msg)
            new_grads = [
                _new_grad(leaf, before)
                for leaf, before in zip(self.grad_leaves, incoming, strict=True)
            ]
            return out, [t._array for t in self.written], new_grads
        finally:
            for t, snapshot in saved:
                _restore(t, snapshot)

    def __call__(self, args: tuple[Any, ...]) -> Any:
        self.args = args  # read by _call_with if JAX traces again
        leaves = self.grad_leaves
        out, written, grads = self.jitted(
            [args[i]._array for i in self.positions],
            [t._array for t in self.state],
            [None if leaf._grad is None else leaf._grad._array for leaf in leaves],
        )
        for t, array in zip(self.written, written, strict=True):
            t._array = array
            t._version += 1
        for leaf, grad in zip(leaves, grads, strict=True):
            if grad is None:
                leaf._grad = None
            elif type(grad) is tuple:
                leaf._grad = Tensor._wrap(grad[0], leaf._backend)
            else:
                leaf._grad._array = grad
                leaf._grad._version += 1
        return _to_tensors(out, self.backend)


def _new_grad(leaf: Tensor, before: Tensor | None) -> Any:
    """A leaf's gradient after the step, as the compiled function returns it: None, its array
    if the step accumulated into the .grad Tensor the leaf had, or the array in a 1-tuple if
    the step gave the leaf a new .grad Tensor (as ``zero_grad()`` then ``backward()`` do)."""
    grad = leaf._grad
    if grad is None:
        return None
    return grad._array if grad is before else (grad._array,)


def _like(template: Tensor, array: Any) -> Tensor:
    t = Tensor._wrap(array, template._backend)
    t._requires_grad = template._requires_grad and template._node is None
    return t


def _to_arrays(value: Any) -> Any:
    """A step's result as arrays, for the compiled function to return."""
    if isinstance(value, tuple | list):
        return type(value)(_to_arrays(v) for v in value)
    if isinstance(value, Tensor):
        return value._array
    if value is None:
        return None
    msg = (
        f"dualgrad.jit: a jitted function must return Tensors (or tuples, lists of them, or "
        f"None), got {type(value).__name__}; return a Tensor and call .item() outside"
    )
    raise TypeError(msg)


def _to_tensors(value: Any, backend: Any) -> Any:
    if isinstance(value, tuple | list):
        return type(value)(_to_tensors(v, backend) for v in value)
    return None if value is None else Tensor._wrap(value, backend)
