"""Activation checkpointing: trade compute for memory, as ``torch.utils.checkpoint`` does.

Reverse mode keeps, for every recorded operation, the values its derivative needs (the
activations) until the backward pass uses them. ``checkpoint(fn, *args)`` runs ``fn`` and
records its operations as usual, then drops the values they saved: only ``fn``'s arguments
and outputs stay. When the backward pass reaches one of those operations, ``fn`` is run again
(on the same arguments, with the same random draws) and the values come back from the rerun.
The peak memory of a deep network then holds the activations of one checkpointed segment at a
time instead of all of them.

This is PyTorch's non-reentrant variant: the tape keeps its shape, so everything that works
without checkpointing works with it: ``backward()``, ``dualgrad.autograd.grad``, the function
transforms, higher-order derivatives, parameters ``fn`` reads from a closure or a module.

Forward mode keeps nothing to checkpoint: derivatives are pushed along as operations run, and
an intermediate value is freed as soon as nothing uses it. Under forward mode (and under
``no_grad``) ``checkpoint`` simply calls ``fn``.

How it works on the tape: the operations ``fn`` recorded are the nodes between two sequence
numbers that the outputs reach. Each such node gives up its saved inputs and output (it holds a
stub that names the backend instead) and gets a hook, which the engine calls before using the
node; the first hook to run reruns ``fn`` and hands every node of the segment the values of
the matching node of the rerun. A value the node read that is still alive (an argument of
``fn``, a parameter, an output someone kept) is handed back as it is. When the backward pass
keeps the graph (the transforms do), a segment the walk has finished gives its values up again
once the walk enters an earlier segment, so that the peak stays one segment's worth.
"""

from __future__ import annotations

__all__ = ["CheckpointError", "checkpoint", "checkpoint_sequential", "noop_context_fn"]

import contextlib
import itertools
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from .. import _functional_call, config
from ..autograd import graph
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..autograd.graph import Node
from ..backends import get_rng_states, set_rng_states
from ..tensor import Tensor
from ..tree_util import tree_leaves

ContextFn = Callable[[], tuple[contextlib.AbstractContextManager[Any], ...]]
_DETERMINISM_CHECKS = ("default", "none")


class CheckpointError(RuntimeError):
    """The recomputation of a checkpointed function did not match its first run."""


def noop_context_fn() -> tuple[contextlib.AbstractContextManager[Any], ...]:
    """The default ``context_fn``: no context around the first run or the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


class _BackendStub:
    """Stands for a dropped input: the engine reads the backend of a node's first input
    before calling the node's hooks, which bring the real inputs back."""

    __slots__ = ("_backend",)

    def __init__(self, backend: Any) -> None:
        self._backend = backend


class _Dropped(tuple):  # type: ignore[type-arg]
    """What a node holds in place of its inputs while its segment's values are dropped."""

    __slots__ = ()


_stubs: dict[Any, _Dropped] = {}


def _dropped_inputs(backend: Any) -> _Dropped:
    stub = _stubs.get(backend)
    if stub is None:
        stub = _stubs[backend] = _Dropped((_BackendStub(backend),))
    return stub


class _Record:
    """What a segment remembers of one node whose values it dropped."""

    __slots__ = ("ans_dtype", "ans_shape", "inputs", "node", "signature")

    def __init__(self, node: Node) -> None:
        inputs = node.inputs
        assert inputs is not None  # a node just recorded still holds its inputs
        self.node = weakref.ref(node)
        # Weak: an activation must be free to go; what is still alive when the backward pass
        # comes (an argument, a parameter, a kept output) is handed back as it is.
        self.inputs = [weakref.ref(tensor) for tensor in inputs]
        self.signature = _signature(node)
        self.ans_shape = tuple(node.ans.shape)
        self.ans_dtype = node.ans.dtype


# The segments this thread's backward walks restored, which give their values up again once a
# walk has moved past them (see _Segment.before_backward).
_local = threading.local()


def _restored_here() -> weakref.WeakSet[_Segment]:
    restored = getattr(_local, "restored", None)
    if restored is None:
        restored = _local.restored = weakref.WeakSet()
    return restored


class _Segment:
    """One checkpointed call: how to rerun it, and the nodes whose values it dropped."""

    def __init__(
        self,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        rng_states: dict[str, Any] | None,
        recompute_context: contextlib.AbstractContextManager[Any],
        determinism_check: str,
        debug: bool,
        span: tuple[int, int],
        nodes: list[Node],
    ) -> None:
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.rng_states = rng_states
        self.recompute_context = recompute_context
        self.substitutions = _functional_call.active_substitutions()
        self.determinism_check = determinism_check
        self.debug = debug
        self.span = span  # the sequence numbers the first run recorded between
        self.first_seq = nodes[0].seq
        self.last_seq = nodes[-1].seq
        self.records = [_Record(node) for node in nodes]
        self.restored = False
        self.lock = threading.Lock()
        for node in nodes:
            node.inputs = _dropped_inputs(node.inputs[0]._backend)  # type: ignore[index]
            node.ans = None
            if node.pre_hooks is None:
                node.pre_hooks = []
            node.pre_hooks.insert(0, self.before_backward)

    def before_backward(self, cotangent: Any) -> None:
        """The hook of every dropped node: bring the segment's values back, once."""
        if self.restored:
            return
        restored = _restored_here()
        # The engine walks nodes by decreasing sequence number: a segment restored earlier in
        # this thread that lies wholly after this one is behind the walk.
        for segment in list(restored):
            if segment.first_seq > self.last_seq:
                segment.drop_again()
                restored.discard(segment)
        with self.lock:
            if not self.restored:
                self._restore()
                self.restored = True
        restored.add(self)

    def drop_again(self) -> None:
        """Give the values up again (those the engine has not freed already)."""
        with self.lock:
            for record in self.records:
                node = record.node()
                if node is not None and node.inputs is not None:
                    node.inputs = _dropped_inputs(node.inputs[0]._backend)
                    node.ans = None
            self.restored = False

    def _restore(self) -> None:
        fresh = self._rerun()
        for record, new in zip(self.records, fresh, strict=True):
            node = record.node()
            if node is None or not isinstance(node.inputs, _Dropped):
                continue  # gone, or freed by the engine after its use
            assert new.inputs is not None  # just recorded
            inputs = []
            for position, (ref, recomputed) in enumerate(
                zip(record.inputs, new.inputs, strict=True)
            ):
                original = ref()
                if original is None:
                    inputs.append(recomputed)
                    continue
                if original is not recomputed and self._read_elsewhere(original):
                    msg = (
                        f"checkpoint: rerunning {_name(self.function)} for the backward pass read "
                        f"a different tensor (input {position} of {record.signature}, of shape "
                        f"{tuple(original.shape)}) than its first "
                        "run did; a checkpointed function must "
                        "read the same tensors when it is rerun (call functional_call inside it, "
                        "not around it, and do not reassign the parameters it reads before "
                        "backward)"
                    )
                    raise CheckpointError(msg)
                inputs.append(original)
            node.inputs = tuple(inputs)
            node.ans = new.ans

    def _read_elsewhere(self, tensor: Tensor) -> bool:
        """Whether ``tensor`` requires grad and was not computed by the first run."""
        node = tensor._node
        inside = type(node) is Node and self.span[0] < node.seq < self.span[1]
        return tensor._requires_grad and not inside

    def _rerun(self) -> list[Node]:
        states = None
        if self.rng_states is not None:
            states = get_rng_states()
            set_rng_states(self.rng_states)
        try:
            start = next(graph._sequence)
            with (
                enable_grad(),
                config.use_mode("reverse"),
                _functional_call.substituted(self.substitutions),
                self.recompute_context,
            ):
                output = self.function(*self.args, **self.kwargs)
            nodes = _recorded_nodes(output, start)
        finally:
            if states is not None:
                set_rng_states(states)
        self._check_same(nodes)
        return nodes

    def _check_same(self, nodes: list[Node]) -> None:
        first = [record.signature for record in self.records]
        again = [_signature(node) for node in nodes]
        mismatch = None
        if len(first) != len(again):
            mismatch = f"it recorded {len(first)} operations the first time and {len(again)} now"
        elif first != again:
            i = next(i for i, (a, b) in enumerate(zip(first, again, strict=True)) if a != b)
            mismatch = f"operation {i} was {first[i]} the first time and {again[i]} now"
        elif self.determinism_check == "default":
            for i, (record, node) in enumerate(zip(self.records, nodes, strict=True)):
                shape, dtype = tuple(node.ans.shape), node.ans.dtype
                if (shape, dtype) != (record.ans_shape, record.ans_dtype):
                    mismatch = (
                        f"operation {i} ({record.signature}) gave shape {shape} and dtype {dtype} "
                        f"where the first run gave {record.ans_shape} and {record.ans_dtype}"
                    )
                    break
        if mismatch is None:
            return
        msg = (
            f"checkpoint: rerunning {_name(self.function)} for the backward pass did not "
            f"repeat its first run: {mismatch}. A checkpointed function must run the same "
            "operations when rerun (no branching on global state that changed)"
        )
        if self.debug:
            msg += f"\nfirst run: {first}\nrerun:     {again}"
        else:
            msg += "; pass debug=True to see both runs' operations"
        raise CheckpointError(msg)


def _signature(node: Node) -> str:
    """An operation as the determinism check compares it: its name and number of inputs."""
    assert node.inputs is not None
    return f"{node.name()}({len(node.inputs)} inputs)"


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", None) or type(function).__name__


def _recorded_nodes(output: Any, start: int) -> list[Node]:
    """The nodes recorded after sequence number ``start`` that ``output`` depends on and that
    still hold their values (a checkpoint nested inside dropped its own), in recording order."""
    stack = [
        leaf._node
        for leaf in tree_leaves(output)
        if isinstance(leaf, Tensor) and type(leaf._node) is Node and leaf._node.seq > start
    ]
    seen: set[Node] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(
            parent for parent in node.parents if type(parent) is Node and parent.seq > start
        )
    holding = [
        node for node in seen if node.inputs is not None and not isinstance(node.inputs, _Dropped)
    ]
    return sorted(holding, key=lambda node: node.seq)


def _run(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    preserve_rng_state: bool = True,
    context_fn: ContextFn = noop_context_fn,
    determinism_check: str = "default",
    debug: bool = False,
) -> Any:
    """Run ``function`` checkpointed (the machinery behind ``checkpoint`` and
    ``dualgrad.checkpoint``)."""
    if determinism_check not in _DETERMINISM_CHECKS:
        msg = (
            f"checkpoint: determinism_check should be one of {list(_DETERMINISM_CHECKS)}, "
            f"got {determinism_check!r}"
        )
        raise ValueError(msg)
    if not is_grad_enabled():
        return function(*args, **kwargs)  # nothing is recorded, so nothing is kept
    forward_context, recompute_context = context_fn()
    rng_states = get_rng_states() if preserve_rng_state else None
    start = next(graph._sequence)
    with forward_context:
        output = function(*args, **kwargs)
    end = next(graph._sequence)
    nodes = _recorded_nodes(output, start)
    if nodes:
        _Segment(
            function,
            args,
            kwargs,
            rng_states,
            recompute_context,
            determinism_check,
            debug,
            (start, end),
            nodes,
        )
    return output


def checkpoint(
    function: Callable[..., Any],
    *args: Any,
    use_reentrant: bool | None = False,
    context_fn: ContextFn = noop_context_fn,
    determinism_check: str = "default",
    debug: bool = False,
    early_stop: bool = True,
    **kwargs: Any,
) -> Any:
    """``function(*args, **kwargs)``, keeping none of its activations for the backward pass,
    which reruns it instead.

    Gradients are those of the plain call, whichever way they are asked for (``backward()``,
    ``dualgrad.autograd.grad``, the transforms, higher orders). The rerun replays the first
    run's random draws (``preserve_rng_state``) and leaves the random streams as it found
    them. ``function`` must run the same operations when rerun; a rerun that records others
    raises ``CheckpointError``.

    Args:
        function: what to run; it may read parameters from a closure or a module.
        *args: its positional arguments (kept alive until the backward pass).
        use_reentrant: accepted for code written for PyTorch. dualgrad has one
            implementation, PyTorch's non-reentrant one, which has none of the reentrant one's
            limits; ``True`` refuses the keyword arguments PyTorch refuses with it.
        context_fn: returns two context managers, entered around the first run and around
            the rerun.
        determinism_check: ``"default"`` also compares the shapes and dtypes of the rerun's
            values with the first run's; ``"none"`` compares only the operations.
        debug: list both runs' operations when they differ.
        early_stop: accepted for code written for PyTorch; the whole function is rerun.
        **kwargs: keyword arguments of ``function``, and ``preserve_rng_state`` (default
            True): replay the random draws of the first run.

    Returns:
        What ``function`` returns.

    Raises:
        ValueError: an unknown ``determinism_check``; with ``use_reentrant=True``, keyword
            arguments, ``context_fn`` or ``debug``.
        CheckpointError: (a RuntimeError, in the backward pass) the rerun did not repeat the
            first run.

    Example:
        >>> import dualgrad
        >>> from dualgrad.utils.checkpoint import checkpoint
        >>> x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
        >>> y = checkpoint(lambda x: dualgrad.sin(x) * x, x, use_reentrant=False)
        >>> y.sum().backward()
        >>> x.grad
        tensor([1.3818, 0.0770])
    """
    preserve_rng_state = kwargs.pop("preserve_rng_state", True)
    if use_reentrant:
        if kwargs:
            msg = f"checkpoint: unexpected keyword arguments: {','.join(kwargs)}"
            raise ValueError(msg)
        if context_fn is not noop_context_fn or debug:
            msg = "checkpoint: context_fn and debug are only supported with use_reentrant=False"
            raise ValueError(msg)
    return _run(
        function,
        args,
        kwargs,
        preserve_rng_state=preserve_rng_state,
        context_fn=context_fn,
        determinism_check=determinism_check,
        debug=debug,
    )


def checkpoint_sequential(
    functions: Any,
    segments: int,
    input: Any,
    use_reentrant: bool | None = False,
    **kwargs: Any,
) -> Any:
    """Run a sequence of layers (a ``Sequential`` or a list of callables) in ``segments``
    checkpointed parts; the last part runs as usual, since the backward pass starts there.

    Args:
        functions: the layers, each taking the previous one's output.
        segments: how many parts to split them into (1 to the number of layers).
        input: the first layer's input.
        use_reentrant: as in ``checkpoint``.
        **kwargs: ``preserve_rng_state`` only.

    Raises:
        ValueError: ``segments`` out of range, or other keyword arguments.

    Example:
        >>> import dualgrad
        >>> from dualgrad import nn
        >>> from dualgrad.utils.checkpoint import checkpoint_sequential
        >>> model = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))
        >>> checkpoint_sequential(model, 2, dualgrad.ones(2, 3)).shape
        torch.Size([2, 1])
    """
    preserve_rng_state = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        msg = f"checkpoint_sequential: unexpected keyword arguments: {','.join(kwargs)}"
        raise ValueError(msg)
    layers = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if not isinstance(segments, int) or not 1 <= segments <= len(layers):
        msg = (
            f"checkpoint_sequential: segments must be an int from 1 to the number of layers "
            f"({len(layers)}), got {segments!r}"
        )
        raise ValueError(msg)
    size = len(layers) // segments
    bounds = [*range(0, size * segments, size), len(layers)]
    for start, stop in itertools.pairwise(bounds[:-1]):
        input = checkpoint(
            _run_layers(layers[start:stop]),
            input,
            use_reentrant=use_reentrant,
            preserve_rng_state=preserve_rng_state,
        )
    return _run_layers(layers[bounds[-2] :])(input)


def _run_layers(layers: Sequence[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def run(value: Any) -> Any:
        for layer in layers:
            value = layer(value)
        return value

    return run
