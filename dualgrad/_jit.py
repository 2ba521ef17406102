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
   A leaf's incoming ``.grad`` is an input only where the step reads it (``backward()`` adds
   into it, say): a step that drops it first (``zero_grad()``, ``p.grad = None``) never gets
   it. Several new ``.grad`` Tensors come back packed into one buffer, cut out when one of them
   is first read (see ``_packed_grads``). XLA writes the new arrays over the memory of those
   they replace (it is given them, "donated"), except where something else still holds one:
   those are copied first.

Every array that goes in or out of a compiled call costs a little (JAX checks it, or makes a
buffer and an ``Array`` for it), about as much, on a small model, as the step's arithmetic on
it; hence no unread inputs and the packed gradients. A call of a compiled step costs one
dictionary lookup on the arguments' abstract values (shape, dtype), a reference count of each
array it replaces, a few list comprehensions around the compiled call, a new Tensor for each
new ``.grad`` and one version bump for all it writes: the Python around it is kept to that.

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

from . import _packed_grads, _recorder, config
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
        self.grad_leaves: dict[int, Tensor] = {}  # their .grad is an output
        # Grad leaves whose .grad the call replaced without reading it (zero_grad(), then
        # backward()): that .grad is no input. The others' is, as state apart.
        self.replaced_unread: set[int] = set()
        self._undo: dict[int, tuple[Tensor, tuple[Any, ...]]] = {}

    def read(self, tensors: tuple[Tensor, ...]) -> None:
        for t in tensors:
            if id(t) in self.existing and id(t) not in self.state:
                self._remember(t)
                self.state[id(t)] = t

    def write(self, t: Tensor) -> None:
        self.read((t,))

    def write_grad(self, leaf: Tensor, adds: bool) -> None:
        """``leaf``'s ``.grad`` changes: ``adds`` to the one it has, or is replaced."""
        if id(leaf) in self.existing and id(leaf) not in self.grad_leaves:
            self._remember(leaf)
            self.grad_leaves[id(leaf)] = leaf
        if adds and leaf._grad is not None:
            self.read((leaf._grad,))

    def _remember(self, t: Tensor) -> None:
        if id(t) not in self._undo:
            self._undo[id(t)] = (t, _snapshot(t))

    def undo(self) -> None:
        """Put every Tensor back as it was, noting which state the call gave a new array and
        which leaves' ``.grad`` it replaced unread."""
        for t, snapshot in self._undo.values():
            if id(t) in self.state and t._array is not snapshot[0]:
                self.written.add(id(t))
            before = snapshot[1]  # the leaf's .grad when the call began
            if (
                id(t) in self.grad_leaves
                and before is not None
                and id(before) not in self.state
                and t._grad is not before
            ):
                self.replaced_unread.add(id(t))
            _restore(t, snapshot)


def _snapshot(t: Tensor) -> tuple[Any, ...]:
    return (t._array, t._grad, t._node, t._requires_grad, t._version, t._tangents)


def _restore(t: Tensor, snapshot: tuple[Any, ...]) -> None:
    t._array, t._grad, t._node, t._requires_grad, t._version, t._tangents = snapshot


class _Compiled:
    """One traced and compiled step, for one signature of arguments.

    The compiled function takes the arrays of the Tensor arguments, of the state the step only
    reads, of the state it writes and of the fed leaves' incoming ``.grad`` (None where a leaf
    has none), and whether each unfed leaf has a ``.grad`` (no array: see ``_pure``); it
    returns the step's results, the new arrays of the written state, the leaves' new gradients
    and the packed ones (see ``_new_grads``) and the donated arrays no result could reuse (see
    ``_unmatched``). The written state's arrays and the fed leaves' ``.grad`` are donated.
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
        # The leaves whose incoming .grad is an input (the step adds to it or reads it, or the
        # leaf had none when traced), and those whose .grad the step replaces unread.
        self.fed = [g for g in self.grad_leaves if id(g) not in recorder.replaced_unread]
        self.unfed = [g for g in self.grad_leaves if id(g) in recorder.replaced_unread]
        # Several new .grad arrays come back packed (see _packed_grads), unless a leaf is
        # split over devices: its gradient stays split as it is.
        self.pack = all(leaf._array.sharding.is_fully_replicated for leaf in self.grad_leaves)
        _packed_grads.register()
        # The arrays a call replaces (the written state's, the fed leaves' incoming .grad) go
        # to XLA to reuse for the new ones.
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
        present: list[tuple[()] | None],
    ) -> Any:
        """The step as a function of arrays. ``grads``: the fed leaves' incoming ``.grad``
        arrays (None where a leaf has none); ``present``: for each unfed leaf, whether it has
        a ``.grad`` (``()``) or not (None), which is no array, but a change of it traces the
        step again, as one of ``grads`` does."""
        del present
        incoming = [leaf._grad for leaf in self.grad_leaves]
        fed = [leaf._grad for leaf in self.fed if leaf._grad is not None]
        touched = self.read + self.written + self.grad_leaves + fed
        saved = [(t, _snapshot(t)) for t in touched]
        try:
            for t, array in zip(self.read + self.written, read + written, strict=True):
                t._array = array
            for grad, array in zip(fed, [g for g in grads if g is not None], strict=True):
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
            new_grads, packed = self._new_grads(incoming)
            results = (out, [t._array for t in self.written], new_grads, packed)
            donated = written + [g for g in grads if g is not None]
            return (*results, _unmatched(donated, results))
        finally:
            for t, snapshot in saved:
                _restore(t, snapshot)

    def _new_grads(self, incoming: list[Tensor | None]) -> tuple[list[Any], Any]:
        """The leaves' gradients after the step, as the compiled function returns them: for
        each leaf None, its array if the step added into the .grad Tensor the leaf had, or,
        if the step gave the leaf a new .grad Tensor (as ``zero_grad()`` then ``backward()``
        do), the array in a 1-tuple, or ``()`` where it is in the ``Packed`` buffers (the
        second result, else None); None for the whole list where every leaf's is packed."""
        after = [leaf._grad for leaf in self.grad_leaves]
        new = [g is not None and g is not b for g, b in zip(after, incoming, strict=True)]
        packed = None
        if self.pack and sum(new) > 1:
            packed = _packed_grads.pack(
                [g._array if is_new else None for g, is_new in zip(after, new, strict=True)]
            )
        if packed is not None and packed.complete:
            return None, packed
        grads = [
            None if g is None else g._array if not is_new else () if packed else (g._array,)
            for g, is_new in zip(after, new, strict=True)
        ]
        return grads, packed

    def __call__(self, args: tuple[Any, ...]) -> Any:
        # Every microsecond of Python here costs three to four of CPU time (JAX's idle workers
        # spin meanwhile): no comprehension (a Python call) where its list would be empty, and
        # no keyword argument to a builtin (``zip(strict=...)``, ``max(default=)``: parsed per
        # call) where the lengths are known.
        self.args = args  # read by _call_with if JAX traces again
        written, leaves, fed = self.written, self.grad_leaves, self.fed
        old = [t._array for t in written]
        grads: list[Any] = []
        # Rarely true (see _copies), or where a leaf has no .grad (None's count is large). An
        # array also among the arguments or the read state counts once more: it is copied.
        if fed:
            incoming = [leaf._grad for leaf in fed]
            grads = [None if grad is None else grad._array for grad in incoming]
            if max(_refcounts(old, incoming, grads)) > _OWNED:
                old, grads = _copies(old, incoming, grads)
        elif old and max(map(sys.getrefcount, old)) > _OWNED:
            old, grads = _copies(old, [], [])
        unfed = self.unfed
        present = [None if leaf._grad is None else () for leaf in unfed] if unfed else []
        out, new, new_grads, packed, _ = self.jitted(
            [args[i]._array for i in self.positions],
            [t._array for t in self.read] if self.read else [],
            old,
            grads,
            present,
        )
        for i, t in enumerate(written):  # new: as many arrays, the compiled step's outputs
            t._array = new[i]
        changed = written.copy()
        backend = self.backend
        if new_grads is not None:  # None: every leaf's new gradient is packed
            for i, leaf in enumerate(leaves):  # new_grads: one for each leaf
                grad = new_grads[i]
                if grad is None:
                    leaf._grad = None
                elif type(grad) is not tuple:  # added into the .grad Tensor the leaf has
                    leaf._grad._array = grad
                    changed.append(leaf._grad)
                elif grad:
                    leaf._grad = Tensor._wrap(grad[0], backend)
        if packed is not None:  # the leaves marked ()
            packed.give(leaves, backend)
        if changed:
            bump_versions(changed)  # one time of change for all: see graph.bump_versions
        return _to_tensors(out, backend)


_SEQUENCES = (tuple, list)  # not tuple | list, which makes a new object on each call


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
    if isinstance(value, _SEQUENCES):
        return type(value)(_to_tensors(v, backend) for v in value)
    return Tensor._wrap(value, backend)
