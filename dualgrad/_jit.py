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
   XLA writes the new arrays over the memory of those they replace (it is given them, "donated"),
   except where something else still holds one: those are copied first.

A call of a compiled step costs one dictionary lookup on the arguments' abstract values (shape,
dtype), a reference count of each array it replaces, a few list comprehensions around the
compiled call, a new Tensor for each new ``.grad`` and one version bump for all it writes: the
Python around it is kept to that.

The tape, the backward walk and the update all run inside the trace, so the compiled step is
one XLA program. This is why the engine never branches on array values and never pulls arrays
to the host by itself. Inside the step, as under ``jax.jit``: no ``.item()`` or Python ``if`` on
values; random draws are fixed when the step is traced (pass them in as arguments); in-place
changes to the arguments themselves are not written back.

Elsewhere (NumPy, array_api_strict, ...) ``jit(fn)`` runs ``fn`` as it is. A step that touches
Tensors of another backend while JAX is in play (arguments on JAX and on NumPy, state made
before ``use_backend("jax")``, the JAX backend active but every Tensor on NumPy) cannot be one
XLA program: JAX would be handed NumPy-backed Tensors holding its tracers. Such a step runs
eagerly, as it is, and a ``UserWarning`` says which Tensors and what to change, as
``torch.compile`` falls back to eager where it cannot compile.
"""

from __future__ import annotations

__all__ = ["jit"]

import collections
import functools
import gc
import itertools
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from . import _recorder, config
from .autograd.graph import bump_versions
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
        A function with ``fn``'s signature. On other backends it calls ``fn``. Where the step
        touches Tensors of another backend while JAX is in play (see the module's docstring),
        it calls ``fn`` too, and warns once.

    Warns:
        UserWarning: the step cannot be compiled because some of its Tensors live on another
            backend than JAX; the message names them and says what to change.

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
    compiled: dict[Any, _Compiled | _Eager] = {}
    calls = 0
    warned = False

    @functools.wraps(fn)
    def jitted(*args: Any) -> Any:
        nonlocal calls, warned
        key = _signature(args)
        step = compiled.get(key)
        if step is not None:  # the hot path: one dictionary lookup, then the compiled call
            return step(args)
        if key is None:
            if not warned:
                warned = _warn_about_arguments(fn, args)
            return fn(*args)
        calls += 1
        if calls == 1:
            return fn(*args)  # the first call creates the state the step keeps
        try:
            step = _Compiled(fn, args, key[-1])
        except _ForeignState as err:
            _warn_eager(fn, str(err), stacklevel=2)  # the caller of the jitted step
            step = _Eager(fn)
        compiled[key] = step
        return step(args)

    return jitted


def tracing() -> bool:
    """Whether ``jit`` is tracing a step right now (to find the state it reads)."""
    return _recorder.recorder is not None


def _signature(args: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """What a compiled step is specific to: each Tensor argument's abstract value (shape, dtype,
    sharding), or its identity where it requires grad (it is state then), any other argument
    as itself, and last the backend (the first Tensor argument's, else the configured one).
    None where that backend is not JAX or a Tensor argument is on another backend: the step
    then runs as it is."""
    key: list[Any] = []
    backend = None
    for a in args:
        if isinstance(a, Tensor):
            if backend is None:
                backend = a._backend
                if backend.name != "jax":
                    return None
            elif a._backend is not backend:
                return None
            if a._requires_grad:
                # A parameter passed in is the step's state, as if the step read it itself:
                # the same Tensor on every call of this compiled step.
                key.append(("state", id(a)))
            else:
                key.append(a._array.aval)  # .aval: cheaper than shape and dtype
        else:
            key.append(("value", a))
    if backend is None:
        backend = config.get_backend()
        if backend.name != "jax":
            return None
    key.append(backend)
    return tuple(key)


class _ForeignState(Exception):
    """The traced step touches Tensors of a backend other than JAX; the message says which."""


class _Eager:
    """A step that cannot compile, run as it is."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, args: tuple[Any, ...]) -> Any:
        return self.fn(*args)


_ADVICE = (
    "create them while the jax backend is active (dualgrad.set_backend('jax') or "
    "DUALGRAD_BACKEND=jax before the model, optimizer and data are made), or copy a tensor "
    "over with dualgrad.asarray(t.detach().numpy()) inside dualgrad.use_backend('jax')"
)


def _warn_eager(fn: Callable[..., Any], reason: str, stacklevel: int) -> None:
    name = getattr(fn, "__qualname__", repr(fn))
    msg = (
        f"dualgrad.jit: {name} runs eagerly, uncompiled: {reason}, and jax.jit compiles only "
        f"JAX arrays; to compile it, {_ADVICE}"
    )
    warnings.warn(msg, UserWarning, stacklevel=stacklevel + 1)


def _describe(tensors: list[Tensor]) -> str:
    """Which backends ``tensors`` live on, and a few of their shapes."""
    backends = sorted({t._backend.name for t in tensors})
    shapes = ", ".join(str(tuple(t.shape)) for t in tensors[:4])
    more = f" and {len(tensors) - 4} more" if len(tensors) > 4 else ""
    return f"{len(tensors)} Tensor(s) on the {', '.join(backends)} backend (shapes {shapes}{more})"


def _warn_about_arguments(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    """Warn, and return True, where the step would compile but for its arguments' backends:
    JAX is the active backend or holds one of them. Elsewhere the step runs as it is,
    silently, as documented."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    on_jax = [t for t in tensors if t._backend.name == "jax"]
    if not on_jax and config.get_backend().name != "jax":
        return False
    others = [t for t in tensors if t._backend.name != "jax"]
    _warn_eager(fn, f"its arguments include {_describe(others)}", stacklevel=3)
    return True


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

    The compiled function takes the arrays of the Tensor arguments, of the state the step only
    reads, of the state it writes and of the leaves' incoming ``.grad`` (None where a leaf has
    none); it returns the step's results, the new arrays of the written state, the leaves' new
    gradients (see ``_new_grad``) and the donated arrays no result could reuse (see
    ``_unmatched``). The last two groups of inputs are donated.
    """

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], backend: Any) -> None:
        import jax

        self.fn = fn
        self.args = args
        self.backend = backend
        # The arguments whose arrays are the compiled function's; one that requires grad is
        # passed to the step as itself, and its array, .grad and updates become state (an
        # eager step would update that very Tensor).
        self.positions = [
            i for i, a in enumerate(args) if isinstance(a, Tensor) and not a._requires_grad
        ]
        # type(o), not isinstance: isinstance reads o.__class__, which some lazily loaded
        # objects (torch.distributed's, for one) answer with a deprecation warning.
        live = {id(o): o for o in gc.get_objects() if issubclass(type(o), Tensor)}
        recorder = _Recorder(live)
        previous, _recorder.recorder = _recorder.recorder, recorder
        try:
            jax.make_jaxpr(self._discover)([args[i]._array for i in self.positions])
        finally:
            _recorder.recorder = previous
            recorder.undo()
        self.grad_leaves = list(recorder.grad_leaves.values())
        touched = {**recorder.state, **recorder.grad_leaves}
        foreign = [t for t in touched.values() if t._backend is not backend]
        if foreign:
            msg = f"it reads or updates {_describe(foreign)}"
            raise _ForeignState(msg)
        grads = {id(leaf._grad) for leaf in self.grad_leaves}
        state = [t for t in recorder.state.values() if id(t) not in grads]  # passed once
        self.read = [t for t in state if id(t) not in recorder.written]
        self.written = [t for t in state if id(t) in recorder.written]
        # The arrays a call replaces (the written state's, the leaves' incoming .grad) go to XLA
        # to reuse for the new ones, kept even where the step does not read them (zero_grad()).
        self.jitted = jax.jit(self._pure, donate_argnums=(2, 3), keep_unused=True)

    def _call_with(self, arrays: list[Any]) -> Any:
        args = list(self.args)
        for i, array in zip(self.positions, arrays, strict=True):
            args[i] = _like(args[i], array)
        return self.fn(*args)

    def _discover(self, arrays: list[Any]) -> None:
        self._call_with(arrays)

    def _pure(
        self,
        arrays: list[Any],
        read: list[Any],
        written: list[Any],
        grads: list[Any],
    ) -> Any:
        incoming = [leaf._grad for leaf in self.grad_leaves]
        touched = self.read + self.written + self.grad_leaves
        saved = [(t, _snapshot(t)) for t in touched + [g for g in incoming if g is not None]]
        try:
            for t, array in zip(self.read + self.written, read + written, strict=True):
                t._array = array
            for grad, array in zip(incoming, grads, strict=True):
                if grad is not None:
                    grad._array = array
            out = _to_arrays(self._call_with(arrays))
            for t, array in zip(self.read, read, strict=True):
                if t._array is not array:
                    msg = (
                        "dualgrad.jit: the step changed a Tensor of shape "
                        f"{tuple(t._array.shape)} that it only read when it was first traced; "
                        "a compiled step must do the same on every call (no Python branches on "
                        "values or on state that changes between calls)"
                    )
                    raise RuntimeError(msg)
            results = (
                out,
                [t._array for t in self.written],
                [
                    _new_grad(leaf, before)
                    for leaf, before in zip(self.grad_leaves, incoming, strict=True)
                ],
            )
            donated = written + [g for g in grads if g is not None]
            return (*results, _unmatched(donated, results))
        finally:
            for t, snapshot in saved:
                _restore(t, snapshot)

    def __call__(self, args: tuple[Any, ...]) -> Any:
        self.args = args  # read by _call_with if JAX traces again
        written, leaves = self.written, self.grad_leaves
        old = [t._array for t in written]
        incoming = [leaf._grad for leaf in leaves]
        grads = [None if grad is None else grad._array for grad in incoming]
        # Rarely true (see _copies), or where a leaf has no .grad (None's count is large). An
        # array also among the arguments or the read state counts once more: it is copied.
        if max(_refcounts(old, incoming, grads), default=0) > _OWNED:
            old, grads = _copies(old, incoming, grads)
        out, new, new_grads, _ = self.jitted(
            [args[i]._array for i in self.positions], [t._array for t in self.read], old, grads
        )
        for t, array in zip(written, new, strict=True):
            t._array = array
        changed = written.copy()
        backend = self.backend
        for leaf, grad, before in zip(leaves, new_grads, incoming, strict=True):
            if type(grad) is tuple:
                leaf._grad = Tensor._wrap(grad[0], backend)
            elif grad is None:
                leaf._grad = None
            else:
                before._array = grad
                changed.append(before)
        if changed:
            bump_versions(changed)  # one time of change for all: see graph.bump_versions
        return _to_tensors(out, backend)


def _refcounts(*groups: list[Any]) -> Iterator[int]:
    """The reference count of each item of ``groups``, in order (None's is large)."""
    return map(sys.getrefcount, itertools.chain(*groups))


# An item's count when nothing holds it but its list and one owner (a Tensor, a leaf).
_OWNED = max(_refcounts([object()])) + 1


def _copies(old: list[Any], incoming: list[Tensor | None], grads: list[Any]) -> tuple[Any, Any]:
    """``old`` and ``grads``, with a copy in place of each array held elsewhere too.

    XLA writes a call's results over the arrays the call replaces. It must not write over
    one that something else holds: a Tensor sharing the array (``detach()`` does), or a
    caller who kept it or kept the leaf's previous ``.grad``.
    """
    import jax

    counts = list(_refcounts(old, incoming, grads))
    n, m = len(old), len(old) + len(incoming)
    old = [
        jax.device_put(a, may_alias=False) if count > _OWNED else a
        for a, count in zip(old, counts[:n], strict=True)
    ]
    grads = [
        jax.device_put(a, may_alias=False) if a is not None and max(of_t, of_a) > _OWNED else a
        for a, of_t, of_a in zip(grads, counts[n:m], counts[m:], strict=True)
    ]
    return old, grads


def _unmatched(donated: list[Any], results: Any) -> list[Any]:
    """The donated arrays that no result of the same shape and dtype can take the place of,
    to be returned as they are: JAX warns about a donation it cannot use."""
    import jax

    free = collections.Counter((a.shape, a.dtype) for a in jax.tree_util.tree_leaves(results))
    unmatched = []
    for array in donated:
        key = (array.shape, array.dtype)
        if free[key]:
            free[key] -= 1
        else:
            unmatched.append(array)
    return unmatched


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
    if value is None:
        return None
    if isinstance(value, tuple | list):
        return type(value)(_to_tensors(v, backend) for v in value)
    return Tensor._wrap(value, backend)
