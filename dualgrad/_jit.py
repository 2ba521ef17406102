"""``dualgrad.jit``: compile a whole training step with ``jax.jit`` on the JAX backend.

A training step reads and updates state that lives outside its arguments: parameters, their
``.grad``, optimizer buffers. ``jit`` turns the step into a pure function of that state:

1. The first call runs eagerly, so the state the step creates (gradients, momentum buffers)
   exists afterwards.
2. The second call traces the step once with ``jax.make_jaxpr``, recording which Tensors that
   existed before the call it reads or updates, and which leaves' ``.grad`` it changes; every
   change is then undone.
3. From then on, one ``jax.jit``-compiled function takes the state's arrays and the arguments
   and returns the results and the new state, which is written back into the same Tensors.

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
        if not _on_jax(args):
            return fn(*args)
        calls += 1
        key = _signature(args)
        if key not in compiled:
            if calls == 1:
                return fn(*args)  # the first call creates the state the step keeps
            compiled[key] = _Compiled(fn, args)
        return compiled[key](args)

    return jitted


def tracing() -> bool:
    """Whether ``jit`` is tracing a step right now (to find the state it reads)."""
    return _dispatch.recorder is not None


def _on_jax(args: tuple[Any, ...]) -> bool:
    tensors = [a for a in args if isinstance(a, Tensor)]
    backend = tensors[0]._backend if tensors else config.get_backend()
    return backend.name == "jax"


def _signature(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(
        (a._array.shape, a._array.dtype, a._requires_grad)
        if isinstance(a, Tensor)
        else ("value", a)
        for a in args
    )


class _Recorder:
    """What a traced call does to the Tensors that existed before it."""

    def __init__(self, existing: dict[int, Tensor]) -> None:
        # The Tensors themselves, not only their ids: a Tensor that died during the trace would
        # free its id for a new Tensor holding a tracer, which would then pass for state.
        self.existing = existing
        self.state: dict[int, Tensor] = {}  # read or updated: its array is an input and output
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
        for t, snapshot in self._undo.values():
            _restore(t, snapshot)


def _snapshot(t: Tensor) -> tuple[Any, ...]:
    return (t._array, t._grad, t._node, t._requires_grad, t._version, t._tangents)


def _restore(t: Tensor, snapshot: tuple[Any, ...]) -> None:
    t._array, t._grad, t._node, t._requires_grad, t._version, t._tangents = snapshot


class _Compiled:
    """One traced and compiled step, for one signature of arguments."""

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        import jax

        self.fn = fn
        self.args = args
        # type(o), not isinstance: isinstance reads o.__class__, which some lazily loaded
        # objects (torch.distributed's, for one) answer with a deprecation warning.
        live = {id(o): o for o in gc.get_objects() if issubclass(type(o), Tensor)}
        recorder = _Recorder(live)
        previous, _dispatch.recorder = _dispatch.recorder, recorder
        try:
            jax.make_jaxpr(self._discover)(self._arrays(args))
        finally:
            _dispatch.recorder = previous
            recorder.undo()
        self.grad_leaves = list(recorder.grad_leaves.values())
        grads = {id(leaf._grad) for leaf in self.grad_leaves}
        self.state = [t for t in recorder.state.values() if id(t) not in grads]  # passed once
        self.jitted = jax.jit(self._pure)

    @staticmethod
    def _arrays(args: tuple[Any, ...]) -> list[Any]:
        return [a._array if isinstance(a, Tensor) else None for a in args]

    def _call_with(self, arrays: list[Any]) -> Any:
        args = [
            _like(a, array) if isinstance(a, Tensor) else a
            for a, array in zip(self.args, arrays, strict=True)
        ]
        return self.fn(*args)

    def _discover(self, arrays: list[Any]) -> None:
        self._call_with(arrays)

    def _pure(self, arrays: list[Any], state: list[Any], grads: list[Any]) -> Any:
        saved = [(t, _snapshot(t)) for t in self.state + self.grad_leaves]
        try:
            for t, array in zip(self.state, state, strict=True):
                t._array = array
            _set_grads(self.grad_leaves, grads)
            out = _to_arrays(self._call_with(arrays))
            return out, [t._array for t in self.state], _grads(self.grad_leaves)
        finally:
            for t, snapshot in saved:
                _restore(t, snapshot)

    def __call__(self, args: tuple[Any, ...]) -> Any:
        self.args = args
        state_arrays = [t._array for t in self.state]
        out, state, grads = self.jitted(self._arrays(args), state_arrays, _grads(self.grad_leaves))
        for t, array in zip(self.state, state, strict=True):
            if array is not t._array:
                t._array = array
                t._version += 1
        _set_grads(self.grad_leaves, grads)
        backend = (self.state or [a for a in args if isinstance(a, Tensor)])[0]._backend
        return _to_tensors(out, backend)


def _grads(leaves: list[Tensor]) -> list[Any]:
    return [None if leaf._grad is None else leaf._grad._array for leaf in leaves]


def _set_grads(leaves: list[Tensor], grads: list[Any]) -> None:
    for leaf, grad in zip(leaves, grads, strict=True):
        if grad is None:
            leaf._grad = None
        elif leaf._grad is None:
            leaf._grad = Tensor._wrap(grad, leaf._backend)
        else:
            leaf._grad._array = grad


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
