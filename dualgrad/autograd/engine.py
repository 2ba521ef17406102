"""Reverse mode: walk the tape backwards from the outputs, accumulating cotangents.

The walk is iterative (a heap of nodes keyed by sequence number, so a 1,000,000-op chain needs
no recursion) and visits each node once, after every consumer of its output has contributed.
Leaves' gradients are gathered in temporaries and committed only when the whole walk has
succeeded, so a backward that fails (a hook raising, a freed graph) leaves every ``.grad`` as
it was.

First-order backward runs the rules on raw backend arrays. With ``create_graph=True`` it runs
them on Tensors, through the differentiable namespace ``dualgrad.functions`` (see ``_rules``),
so the backward pass is itself recorded and can be differentiated again.

Complex values: the rules transpose the derivative as a real-linear map under the pairing
``Re(sum(u * v))``, so a holomorphic rule is the textbook ``g * f'(z)`` (JAX's convention).
The user sees PyTorch's convention, the conjugate: ``z.grad`` is ``dL/dx + i dL/dy`` for a real
loss, so that ``z -= lr * z.grad`` descends. The walk converts at its ends only: a complex
``gradient`` is conjugated when it seeds the walk, and a complex cotangent when it leaves it
(to ``.grad``, a hook, ``autograd.grad``); a real program never meets either conjugation.
"""

from __future__ import annotations

__all__ = ["backward", "cotangents_of", "grad"]

import heapq
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from .. import _batching, _dispatch, _recorder, _rules, _settings_used, forward_ad, ops
from ..tensor import Tensor, array_of, method, same_backend
from . import anomaly_mode, grad_mode, graph
from .grad_mode import set_grad_enabled
from .graph import ForwardNode, Node, bump_version


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def _root_cotangent(root: Tensor, gradient: Any, index: int, create_graph: bool) -> Any:
    """The cotangent that seeds the walk at ``root``: ``gradient``, or 1 for a single element."""
    if not root._requires_grad:
        msg = (
            f"element {index} of tensors does not require grad and does not have a grad_fn; "
            "create the inputs with requires_grad=True"
        )
        raise RuntimeError(msg)
    if gradient is None:
        array = root._array
        if array.ndim != 0 and root.numel() != 1:
            msg = (
                f"backward() on a tensor of shape {tuple(root.shape)} needs a gradient "
                "(grad can be implicitly created only for scalar outputs); "
                "pass gradient=dualgrad.ones_like(y)"
            )
            raise RuntimeError(msg)
        dtype = root.dtype
        if dtype.is_complex:
            msg = (
                f"backward() on a {dtype.name} output needs a gradient (grad can be implicitly "
                "created only for real scalar outputs); differentiate a real loss, such as "
                "y.abs() or y.real, or pass a gradient"
            )
            raise RuntimeError(msg)
        # A 0-d seed as the backend's operand for the output (a scalar): the generic
        # ones_like costs several times more.
        seed = (
            root._backend.operand(1, dtype, array)
            if array.ndim == 0
            else root._backend.xp.ones_like(array)
        )
        return Tensor._wrap(seed, root._backend) if create_graph else seed
    if not isinstance(gradient, Tensor):
        msg = (
            f"gradient must be a Tensor, got {type(gradient).__name__}; "
            "wrap it with dualgrad.tensor(...)"
        )
        raise TypeError(msg)
    if gradient._array.shape != root._array.shape:  # not .shape: a Size costs more
        msg = (
            f"gradient has shape {tuple(gradient.shape)} "
            f"but the output has shape {tuple(root.shape)}; "
            "pass one of the output's shape"
        )
        raise ValueError(msg)
    if gradient._backend is not root._backend:
        same_backend("backward", (root, gradient))  # raises unless levels of one vmap
    dtype = root.dtype
    if gradient.dtype is not dtype:
        gradient = gradient.astype(dtype)
    if dtype.is_complex:  # PyTorch's convention in, the rules' out (module docstring)
        gradient = _dispatch.elementwise(ops.conj, gradient)
    return gradient if create_graph else gradient._array


def _freed_graph_error(node: Node) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (at {node.name()}): its saved "
        "values were freed after the first backward. Pass retain_graph=True to the first "
        "backward() if you need to backward through it again."
    )


def _check_versions(node: Node, inputs: tuple[Tensor, ...]) -> None:
    """Raise, naming the input, if an input whose values the vjp reads changed in place since
    the node was recorded."""
    reads = node.prim.vjp_reads
    read: set[int] | None = None  # None: every input
    if reads is not None:
        read = set()
        for parent, positions in zip(node.parents, reads, strict=True):
            if parent is not None:
                read.update(range(len(inputs)) if positions is None else positions)
    for i, (tensor, version) in enumerate(zip(inputs, node.versions, strict=True)):
        if tensor._version != version and (read is None or i in read):
            msg = (
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: input {i} of [{node.name()}], a tensor of shape "
                f"{tuple(tensor.shape)}, is at version "
                f"{tensor._version}; expected version {version} "
                "instead. Compute the update out of place (y = y + ...) or after backward()."
            )
            raise RuntimeError(msg)


def _conjugated_if_complex(value: Any, backend: Any) -> Any:
    """A complex cotangent (array or Tensor) conjugated, between the rules' convention and
    PyTorch's (the module docstring); a real one as it is."""
    if isinstance(value, Tensor):
        return _dispatch.elementwise(ops.conj, value) if value.dtype.is_complex else value
    return backend.xp.conj(value) if backend.dtype_of(value).is_complex else value


def _run_hooks(hooks: list[Any], cotangent: Any, backend: Any, create_graph: bool) -> Any:
    """Pass a cotangent through a tensor's hooks; each may return a replacement. The hooks see
    PyTorch's convention; the cotangent given and returned is in the rules' (conjugated when
    complex)."""
    cotangent = _conjugated_if_complex(cotangent, backend)
    value = cotangent if create_graph else Tensor._wrap(cotangent, backend)
    for hook in list(hooks):
        result = hook(value)
        if result is not None:
            if not isinstance(result, Tensor) or result.shape != value.shape:
                got = (
                    f"shape {tuple(result.shape)}"
                    if isinstance(result, Tensor)
                    else type(result).__name__
                )
                msg = (
                    f"hook {hook!r} returned {got}; "
                    f"expected None or a Tensor of shape {tuple(value.shape)}"
                )
                raise ValueError(msg)
            value = result
    return _conjugated_if_complex(value if create_graph else value._array, backend)


def _differentiable_operands(node: Node, inputs: tuple[Tensor, ...]) -> tuple[Any, Any]:
    """A node's inputs and output as its rules see them with ``create_graph``: Tensors."""
    prim = node.prim
    # Rules that use the output must see it as a function of the inputs; recompute it.
    # (Linear rules read only its shape; a custom Function's rules never read it.)
    if prim.forward is not None and not prim.linear and prim.vjp_reads_ans:
        return inputs, _dispatch.apply(prim, inputs, node.params)
    return inputs, Tensor._wrap(node.ans, inputs[0]._backend)


def run_backward(
    roots: Sequence[Tensor],
    cotangents: Sequence[Any],
    *,
    retain_graph: bool,
    create_graph: bool,
    capture: Iterable[Tensor] = (),
) -> tuple[dict[Any, Any], list[tuple[Tensor, Any]]]:
    """Walk the tape from ``roots``.

    Returns:
        Each reached leaf's cotangent (keyed by the leaf) and each captured tensor's node's
        cotangent (keyed by the node); and the ``retain_grad()`` tensors with their gradients.
        Nothing is written to any tensor here: the caller commits the result.
    """
    heap: list[tuple[int, Node]] = []
    pending: dict[Node, Any] = {}  # each node's cotangent so far, until the walk reaches it
    results: dict[Any, Any] = {}
    retained: list[tuple[Tensor, Any]] = []
    captured_nodes = {t._node for t in capture if t._node is not None} if capture else ()

    def send(target: Node | Tensor, cotangent: Any) -> None:
        if type(target) is Node:
            if target in pending:
                pending[target] = pending[target] + cotangent
            else:
                pending[target] = cotangent
                heapq.heappush(heap, (-target.seq, target))
        elif isinstance(target._node, ForwardNode):  # computed in forward mode: pull back
            if create_graph:
                msg = (
                    "create_graph=True through a value computed in forward mode: compute the "
                    "whole program under dualgrad.use_mode('reverse')"
                )
                raise RuntimeError(msg)
            # Leaves only, so added here: a recursive send() would be a reference cycle (the
            # function and its closure cell), which only the cyclic GC frees.
            for leaf, pulled in forward_ad.pull_back(target, cotangent).items():
                results[leaf] = results[leaf] + pulled if leaf in results else pulled
        else:
            results[target] = results[target] + cotangent if target in results else cotangent

    for i, root in enumerate(roots):  # one cotangent each (zip's strict check costs more)
        send(root._node or root, cotangents[i])

    anomaly = _settings_used.anomaly and anomaly_mode.is_anomaly_enabled()
    grad_mode_token = grad_mode.set_for_backward(create_graph)
    try:
        node = None  # the next node, when known without the heap (see the end of the loop)
        while node is not None or heap:
            if node is None:
                node = heapq.heappop(heap)[1]
            g = pending.pop(node)
            inputs = node.inputs
            if inputs is None:
                raise _freed_graph_error(node)
            if node.pre_hooks:
                g = _run_hooks(node.pre_hooks, g, inputs[0]._backend, create_graph)
                inputs = node.inputs  # a hook may bring back dropped values (checkpointing)
            if node.retained_by is not None and (owner := node.retained_by()) is not None:
                retained.append((owner, g))
            if node in captured_nodes:
                results[node] = g
            if node.versions is not None and node.seq < graph.last_in_place:
                _check_versions(node, inputs)
            prim = node.prim
            reached = None  # the latest node this one reached first, not yet on the heap
            if (
                len(inputs) == 1
                and not create_graph
                and not prim.variadic
                and not anomaly
                and not _settings_used.nan_safe
            ):
                # One input, first order, most nodes: its rule called and its parent (never
                # None: ``record``) sent to here. What ``_rules.input_cotangents`` adds (the
                # namespace choice, NaN-safe mode, the sum back over broadcast axes, the list
                # of cotangents) is none of this case's, and costs a sixth of the node.
                rule = prim.vjp[0]
                params = node.params
                xp = inputs[0]._backend.xp
                if params:
                    cotangent = rule(xp, g, node.ans, inputs[0]._array, **params)
                else:
                    cotangent = rule(xp, g, node.ans, inputs[0]._array)
                parent = node.parents[0]
                if type(parent) is Node and parent not in pending:
                    pending[parent] = cotangent
                    reached = parent
                else:
                    send(parent, cotangent)
            else:
                # Each input's cotangent, in the order of node.parents (None where it needs
                # none).
                if create_graph:
                    values, ans = _differentiable_operands(node, inputs)
                elif len(inputs) == 1:  # one input spelled out: map() costs more than the rest
                    values, ans = (inputs[0]._array,), node.ans
                else:
                    values, ans = tuple(map(array_of, inputs)), node.ans
                cotangents_out = _rules.input_cotangents(
                    prim,
                    node.params,
                    node.parents,
                    g,
                    ans,
                    values,
                    node.broadcasts,
                    inputs[0]._backend,
                    create_graph,
                )
                if anomaly:
                    anomaly_mode.check_cotangents(node, cotangents_out)
                # An index, not zip(strict=True), whose end check costs twice the loop; the
                # cotangents are one per parent (``_rules.input_cotangents``).
                for i, parent in enumerate(node.parents):
                    if parent is not None:
                        cotangent = cotangents_out[i]
                        # The common case of send(), inlined: a cotangent for another tape node.
                        if type(parent) is Node and parent not in pending:
                            pending[parent] = cotangent
                            if reached is not None:
                                heapq.heappush(heap, (-reached.seq, reached))
                            reached = parent
                        else:
                            send(parent, cotangent)
            if not retain_graph:
                node.inputs = node.ans = None
            # A chain's common case: the node just reached is the only one waiting, so it is
            # the next, without going through the heap.
            if reached is not None and heap:
                heapq.heappush(heap, (-reached.seq, reached))
                reached = None
            node = reached
    finally:
        grad_mode.reset_after_backward(grad_mode_token)
    return results, retained


def _gradients(
    roots: Sequence[Tensor],
    cotangents: Sequence[Any],
    *,
    retain_graph: bool,
    create_graph: bool,
    capture: Iterable[Tensor] = (),
) -> tuple[dict[Any, Any], list[tuple[Tensor, Any]]]:
    """Leaves' (and captured nodes') cotangents from roots of either mode, hooks applied.

    Roots computed in forward mode carry their derivatives already; they are contracted with
    their cotangents. Roots on the tape are walked backwards.
    """
    in_forward = [i for i, root in enumerate(roots) if isinstance(root._node, ForwardNode)]
    tape_roots, tape_cotangents = roots, cotangents
    if in_forward:
        if create_graph:
            msg = (
                "backward(create_graph=True) needs the tape: compute the output under "
                "dualgrad.use_mode('reverse'), or use dualgrad.hessian / dualgrad.hvp"
            )
            raise RuntimeError(msg)
        on_tape = [i for i in range(len(roots)) if i not in in_forward]
        tape_roots = [roots[i] for i in on_tape]
        tape_cotangents = [cotangents[i] for i in on_tape]
    results, retained = run_backward(
        tape_roots,
        tape_cotangents,
        retain_graph=retain_graph,
        create_graph=create_graph,
        capture=capture,
    )
    for i in in_forward:
        for leaf, cotangent in forward_ad.contract(roots[i], cotangents[i], retain_graph).items():
            results[leaf] = results[leaf] + cotangent if leaf in results else cotangent
    hooked = [r for r in results if isinstance(r, Tensor) and r._hooks]
    if hooked:
        with set_grad_enabled(create_graph):
            for leaf in hooked:
                results[leaf] = _run_hooks(leaf._hooks, results[leaf], leaf._backend, create_graph)
    # Out of the walk: complex cotangents in PyTorch's convention (the module docstring).
    backend = roots[0]._backend
    dtype_of = backend.dtype_of
    for key, value in results.items():
        # The common case, a real array, without the call: a real program pays this per leaf.
        if isinstance(value, Tensor) or dtype_of(value).is_complex:
            results[key] = _conjugated_if_complex(value, backend)
    if retained:
        retained = [(owner, _conjugated_if_complex(value, backend)) for owner, value in retained]
    return results, retained


# Threads may run backward() concurrently into one leaf (PyTorch allows it, and adds every
# contribution): reading .grad, adding and storing it back holds a lock, or two threads would
# read the same old value and one's contribution would be lost. The lock is one of a few,
# picked by the leaf, so that threads training separate models seldom wait for each other.
_GRAD_LOCKS = tuple(threading.Lock() for _ in range(64))


def _accumulate(tensor: Tensor, cotangent: Any, create_graph: bool) -> None:
    """Add a cotangent into ``tensor.grad`` (in place on the existing grad, as PyTorch does)."""
    if _recorder.recorder is not None:
        _recorder.recorder.write_grad(tensor, adds=True)
    with _GRAD_LOCKS[(id(tensor) >> 4) % len(_GRAD_LOCKS)]:  # id >> 4: objects are 16-aligned
        if create_graph:
            tensor._grad = cotangent if tensor._grad is None else tensor._grad + cotangent
        elif tensor._grad is None:
            tensor._grad = Tensor._wrap(cotangent, tensor._backend)
        else:
            tensor._grad._array = tensor._grad._array + cotangent
            bump_version(tensor._grad)


def _root_cotangents(
    roots: tuple[Tensor, ...], grads: tuple[Any, ...], create_graph: bool
) -> list[Any]:
    if len(grads) != len(roots):
        msg = f"got {len(roots)} outputs but {len(grads)} gradients; pass one per output"
        raise ValueError(msg)
    return [_root_cotangent(root, grads[i], i, create_graph) for i, root in enumerate(roots)]


def _backward_inside_vmap() -> None:
    msg = (
        "backward() inside vmap is not supported: it would accumulate into .grad, which "
        "is the same for every example; use dualgrad.grad or dualgrad.vjp inside vmap "
        "(vmap(grad(f)) gives one gradient per example)"
    )
    raise RuntimeError(msg)


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves of their graph.

    Works the same whichever mode computed ``tensors``: on the tape it walks backwards; in
    forward mode it contracts the tangent blocks the leaves seeded.

    Args:
        tensors: the outputs to differentiate (a Tensor or a sequence of them).
        grad_tensors: their cotangents (None for single-element outputs).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the backward pass, for higher-order derivatives (reverse mode).
        inputs: if given, only these tensors accumulate gradients.

    Raises:
        RuntimeError: an output does not require grad, needs a gradient, or its graph was
            freed; or backward() is called inside vmap.
    """
    roots = _as_tuple(tensors)
    for root in roots:
        if type(root._backend) is _batching.Level:
            _backward_inside_vmap()
    cotangents = _root_cotangents(
        roots, _as_tuple(grad_tensors) or (None,) * len(roots), create_graph
    )
    keep = create_graph if retain_graph is None else retain_graph
    only = None if inputs is None else set(_as_tuple(inputs))
    results, retained = _gradients(
        roots, cotangents, retain_graph=keep, create_graph=create_graph, capture=only or ()
    )
    # Commit only now that every gradient is computed: a failure above changed no .grad.
    for owner, cotangent in retained:
        _accumulate(owner, cotangent, create_graph)
    for target, cotangent in results.items():
        if isinstance(target, Tensor) and (only is None or target in only):
            _accumulate(target, cotangent, create_graph)
    for tensor in only or ():
        if tensor._node is not None and tensor._node in results:
            _accumulate(tensor, results[tensor._node], create_graph)


def _tensor_backward(
    self: Tensor,
    gradient: Tensor | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate the gradient of this tensor into the ``.grad`` of the leaves.

    Args:
        gradient: the cotangent of this tensor; needed unless it has a single element.
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the backward pass too, for higher derivatives.
        inputs: accumulate only into these leaves.

    Raises:
        RuntimeError: this tensor does not require grad, the graph was already freed, or
            a value needed for it was modified in place.
    """
    backward(
        (self,), None if gradient is None else (gradient,), retain_graph, create_graph, inputs
    )


method(_tensor_backward, "backward")


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned, not accumulated.

    Args:
        outputs: the tensors to differentiate.
        inputs: the tensors to differentiate with respect to (leaves or not).
        grad_outputs: the cotangents of ``outputs`` (None for single-element outputs).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the computation, for higher-order derivatives.
        allow_unused: return None for an input the outputs do not depend on, instead of raising.

    Raises:
        RuntimeError: an input was not used to compute the outputs (and ``allow_unused`` is
            False), or as for ``backward``.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor(3.0, requires_grad=True)
        >>> (dx,) = dualgrad.autograd.grad(x ** 3, x, create_graph=True)
        >>> dualgrad.autograd.grad(dx, x)
        (tensor(18.),)
    """
    roots = _as_tuple(outputs)
    targets = _as_tuple(inputs)
    for target in targets:
        if not isinstance(target, Tensor) or not target.requires_grad:
            msg = "grad: every input must be a Tensor that requires grad"
            raise RuntimeError(msg)
        if isinstance(target._node, ForwardNode):
            msg = (
                "grad with respect to a non-leaf tensor computed in forward mode: forward mode "
                "yields derivatives with respect to leaves only; compute it under "
                "dualgrad.use_mode('reverse')"
            )
            raise RuntimeError(msg)
    cotangents = _root_cotangents(
        roots, _as_tuple(grad_outputs) or (None,) * len(roots), create_graph
    )
    keep = create_graph if retain_graph is None else retain_graph
    results, _ = _gradients(
        roots, cotangents, retain_graph=keep, create_graph=create_graph, capture=targets
    )
    gradients: list[Tensor | None] = []
    for target in targets:
        value = results.get(target._node if isinstance(target._node, Node) else target)
        if value is None:
            if not allow_unused:
                msg = (
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
                raise RuntimeError(msg)
            gradients.append(None)
        else:
            gradients.append(value if create_graph else Tensor._wrap(value, target._backend))
    return tuple(gradients)


def cotangents_of(
    output: Tensor,
    cotangent: Tensor | None,
    inputs: Sequence[Tensor],
    *,
    create_graph: bool,
    batched: bool,
) -> dict[Any, Tensor]:
    """For the function transforms: each input's cotangent, keyed like ``run_backward``'s.

    With ``batched``, ``cotangent`` carries leading batch axes (a block of cotangents, as
    ``jacrev`` seeds), which the batch-polymorphic rules carry through in one pass; None (not
    batched) stands for 1, for a single-element real output. The graph is kept, so that
    ``vjp``'s function can be called again.
    """
    if batched:
        seed = cotangent if create_graph else cotangent._array
    else:
        seed = _root_cotangent(output, cotangent, 0, create_graph)
    results, _ = _gradients(
        (output,), (seed,), retain_graph=True, create_graph=create_graph, capture=inputs
    )
    if create_graph:
        return results
    return {key: Tensor._wrap(value, output._backend) for key, value in results.items()}
