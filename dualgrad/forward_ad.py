"""Forward mode: dual numbers, as in ``torch.autograd.forward_ad``, and their propagation.

A Tensor carries at most one tangent per *stream*. A stream is either a dual level (opened by
``dual_level()``; tangents attached with ``make_dual``) or, in forward mode (``set_mode``), a
leaf that requires grad, seeded with an identity tangent block of shape
``(leaf.numel(), *leaf.shape)``. Every primitive pushes each stream's tangents through its jvp
rules as it runs; the rules are batch-polymorphic, so a block of tangents costs one call.

Streams are ordered: seeded leaves first, then dual levels by nesting depth. A tangent of an
inner level is computed on Tensors that carry the outer levels' tangents (through dualgrad's
differentiable namespace), so it can itself be differentiated by the outer level; an outer
level never sees an inner level's tangent. That ordering is what rules out perturbation
confusion: in ``d/dx [x * d/dy (x + y)]`` the inner derivative is the constant 1.

``no_grad()`` stops seeded tangents (forward mode behind ``backward()`` behaves like the tape,
which ``no_grad()`` also stops), while tangents attached with ``make_dual`` flow through
``no_grad()`` as they do in PyTorch. ``detach()`` drops every tangent.

Example:
    >>> import dualgrad
    >>> import dualgrad.forward_ad as fwAD
    >>> x = dualgrad.tensor([1.0, 2.0])
    >>> with fwAD.dual_level():
    ...     y = fwAD.make_dual(x, dualgrad.ones_like(x)) ** 2
    ...     fwAD.unpack_dual(y).tangent
    tensor([2., 4.])
"""

from __future__ import annotations

__all__ = ["UnpackedDualTensor", "dual_level", "make_dual", "unpack_dual"]

import contextlib
import weakref
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, NamedTuple

from . import _fast, _namespace, _rules, _settings_used
from .autograd.grad_mode import is_grad_enabled
from .autograd.graph import ForwardNode, Node, record
from .autograd.nan_safe_mode import is_nan_safe_mode_enabled
from .ops import Primitive, positive
from .tensor import Tensor, array_of, same_backend


class DualLevel:
    """One ``dual_level()`` block: a stream of tangents, live while the block is open."""

    __slots__ = ("active", "given", "order")

    def __init__(self, order: int) -> None:
        self.order = order
        self.active = True
        # The tangent Tensors make_dual was given, by the id of the array kept on the dual
        # tensor, so that unpack_dual hands back the very Tensor, as PyTorch does.
        self.given: dict[int, Tensor] = {}

    def __repr__(self) -> str:
        return f"<dual level {self.order}{'' if self.active else ' (closed)'}>"


class SeedKey:
    """The stream of one leaf in forward mode; refers to the leaf weakly (no cycles)."""

    __slots__ = ("__weakref__", "leaf")
    order = 0
    active = True

    def __init__(self, leaf: Tensor) -> None:
        self.leaf = weakref.ref(leaf)


_levels: ContextVar[tuple[DualLevel, ...]] = ContextVar("dualgrad_dual_levels", default=())


@contextlib.contextmanager
def dual_level() -> Iterator[DualLevel]:
    """Open a dual level: ``make_dual`` attaches tangents to it until the block ends.

    Levels nest; each keeps its own tangents.
    """
    levels = _levels.get()
    level = DualLevel(order=len(levels) + 1)
    token = _levels.set((*levels, level))
    try:
        yield level
    finally:
        level.active = False
        level.given.clear()
        _levels.reset(token)


def _current_level(level: DualLevel | None, where: str) -> DualLevel:
    if level is not None:
        return level
    levels = _levels.get()
    if not levels:
        msg = f"{where}: no dual level is active; use `with dualgrad.forward_ad.dual_level():`"
        raise RuntimeError(msg)
    return levels[-1]


class UnpackedDualTensor(NamedTuple):
    """``unpack_dual``'s result: the primal and its tangent (None if it has none)."""

    primal: Tensor
    tangent: Tensor | None


def _alias(x: Tensor) -> Tensor:
    """A new Tensor with ``x``'s value, graph and tangents (differentiable back to ``x``)."""
    if x._requires_grad:
        return _namespace.differentiable().positive(x)
    alias = Tensor._wrap(x._array, x._backend)
    alias._tangents = None if x._tangents is None else dict(x._tangents)
    return alias


def _stored(tangent: Tensor) -> Any:
    """A tangent as kept on a Tensor: the raw array unless it carries derivatives itself."""
    return tangent if tangent._tangents or tangent._requires_grad else tangent._array


def _as_tensor(value: Any, like: Tensor) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._wrap(value, like._backend)


def attach_tangent(x: Tensor, key: Any, tangent: Tensor) -> Tensor:
    """A dual Tensor: ``x`` (graph and other tangents kept) with ``tangent`` on stream ``key``.

    ``tangent`` may carry leading batch axes in front of ``x``'s shape (a block of tangents).
    """
    dual = _alias(x)
    dual._tangents = {**(dual._tangents or {}), key: _stored(tangent)}
    return dual


def make_dual(tensor: Tensor, tangent: Tensor, *, level: DualLevel | None = None) -> Tensor:
    """``tensor`` with ``tangent`` attached at the current dual level.

    Raises:
        RuntimeError: no dual level is active.
        TypeError: either is not a floating Tensor, or they come from different backends.
        ValueError: the shapes differ.
    """
    level = _current_level(level, "make_dual")
    for name, value in (("tensor", tensor), ("tangent", tangent)):
        if not isinstance(value, Tensor) or not value.dtype.is_inexact:
            msg = f"make_dual: {name} must be a floating point or complex Tensor, got {value!r}"
            raise TypeError(msg)
    if tangent.shape != tensor.shape:
        msg = (
            f"make_dual: the tangent has shape {tuple(tangent.shape)} but the tensor has "
            f"{tuple(tensor.shape)}"
        )
        raise ValueError(msg)
    same_backend("make_dual", (tensor, tangent))
    if tangent.dtype is not tensor.dtype:
        tangent = tangent.astype(tensor.dtype)
    dual = attach_tangent(tensor, level, tangent)
    if isinstance(level, DualLevel):
        level.given[id(dual._tangents[level])] = tangent  # type: ignore[index]
    return dual


def unpack_dual(tensor: Tensor, *, level: DualLevel | None = None) -> UnpackedDualTensor:
    """Split a dual tensor into its primal and its tangent at the current level, as PyTorch:
    the tangent given to ``make_dual`` comes back as that very Tensor, and outside every dual
    level (or at a level that has closed) the tangent is None and the primal the tensor."""
    if level is None:
        levels = _levels.get()
        if not levels:
            return UnpackedDualTensor(tensor, None)
        level = levels[-1]
    if not level.active:
        return UnpackedDualTensor(tensor, None)
    primal = _alias(tensor)
    value = None
    if primal._tangents is not None:
        value = primal._tangents.pop(level, None)
    if value is None:
        return UnpackedDualTensor(primal, None)
    given = getattr(level, "given", {}).get(id(value))
    if given is not None and (given._array is value or given is value):
        return UnpackedDualTensor(primal, given)
    return UnpackedDualTensor(primal, _as_tensor(value, tensor))


# --- propagation (called by the dispatcher) -------------------------------------------------
def seed(leaf: Tensor) -> None:
    """Give a leaf that requires grad its identity tangent block (forward mode), once.

    A complex leaf has two real directions per element: its block is the identity, then ``1j``
    times the identity, shape ``(2 * numel, *shape)`` (``pull_back`` reads both halves).
    """
    if leaf._tangents is not None and any(type(key) is SeedKey for key in leaf._tangents):
        return
    n = leaf.numel()
    namespace = leaf._backend.namespace
    dtype = leaf._backend.native_dtype(leaf.dtype)
    try:
        eye = namespace.eye(n, dtype=dtype)
    except MemoryError as err:
        size = n * n * leaf.element_size() / 2**30
        msg = (
            f"forward mode carries one tangent per element of each leaf that requires grad: "
            f"this leaf of {n:,} elements needs a {n:,} x {n:,} identity block ({size:,.1f} "
            "GiB). Forward mode suits few inputs; for a model's parameters use reverse mode "
            "(dualgrad.set_mode('reverse'), the default)"
        )
        raise MemoryError(msg) from err
    if leaf.dtype.is_complex:
        eye, n = namespace.concat([eye, eye * 1j]), 2 * n
    block = namespace.reshape(eye, (n, *leaf.shape))
    leaf._tangents = {**(leaf._tangents or {}), SeedKey(leaf): block}


def _restricted(x: Tensor, order: int) -> Tensor:
    """``x`` carrying only the tangents of streams outer to ``order``, and its place on the
    tape (through an identity node) if it has one."""
    view = Tensor._wrap(x._array, x._backend)
    if x._requires_grad and type(x._node) is not ForwardNode and is_grad_enabled():
        record(positive, {}, (x,), view)
    if x._tangents:
        outer = {k: v for k, v in x._tangents.items() if k.order < order and k.active}
        view._tangents = outer or None
    return view


def _has_outer_stream(x: Tensor, key: Any) -> bool:
    """Whether ``x`` carries a live tangent of a stream outer to ``key``."""
    tangents = x._tangents
    if not tangents or (len(tangents) == 1 and key in tangents):
        return False  # the common case: no streams, or only this one
    return any(k.order < key.order and k.active for k in tangents)


def _live(key: Any, seeded: bool) -> bool:
    """Whether a stream's tangents flow: a dual level still open, or, while forward mode
    records (``seeded``), a seeded leaf's stream."""
    return key.active if type(key) is DualLevel else seeded


def push_tangents(
    prim: Primitive, params: dict[str, Any], inputs: tuple[Tensor, ...], out: Tensor, seeded: bool
) -> None:
    """Give ``out`` its tangent on every live stream its inputs carry.

    Args:
        seeded: forward mode is recording: seed leaves that require grad and push their blocks.
    """
    # The common case first: one input carrying a tangent array on one live stream, nothing
    # to seed, an op the tape does not record. The output's tangent is the jvp rule's on the
    # backend's arrays, without the bookkeeping that several streams, nesting or the tape need.
    if (
        len(inputs) == 1
        and _fast.enabled
        and not (_settings_used.nan_safe and is_nan_safe_mode_enabled())
    ):
        x = inputs[0]
        tangents = x._tangents
        if (
            tangents is not None
            and len(tangents) == 1
            and not prim.variadic
            and type(out._node) is not Node
        ):
            ((key, tangent),) = tangents.items()
            rule = prim.jvp[0]
            unseeded = seeded and x._requires_grad and x._node is None and type(key) is not SeedKey
            if (
                _live(key, seeded)
                and not unseeded
                and rule is not None
                and not isinstance(tangent, Tensor)
                and out.dtype.is_inexact
            ):
                out._tangents = {
                    key: rule(out._backend.xp, tangent, out._array, x._array, **params)
                }
                if type(key) is SeedKey:
                    out._requires_grad = True
                    out._node = ForwardNode(prim)
                return
    keys: dict[Any, None] = {}  # the live streams, in order of appearance
    for tensor in inputs:
        if seeded and tensor._requires_grad and tensor._node is None:
            seed(tensor)
        if tensor._tangents:
            for key in tensor._tangents:
                if _live(key, seeded):
                    keys[key] = None
    if not keys or not out.dtype.is_inexact:
        return
    out._tangents = {}
    ordered = keys if len(keys) == 1 else sorted(keys, key=lambda k: k.order)
    for key in ordered:  # outer streams first: inner ones use them
        tangent = _output_tangent(prim, params, inputs, out, key)
        if tangent is not None:
            out._tangents[key] = tangent
    if not out._tangents:
        out._tangents = None
    elif seeded:
        for key in out._tangents:
            if type(key) is SeedKey:
                out._requires_grad = True
                out._node = ForwardNode(prim)
                break


def _output_tangent(
    prim: Primitive, params: dict[str, Any], inputs: tuple[Tensor, ...], out: Tensor, key: Any
) -> Any:
    """The output tangent on one stream: the sum of the jvp rules' shares (or None)."""
    given: list[Any] = []  # each input's tangent on this stream, or None
    found = False  # whether an input has one its rules take
    nested = False  # whether the tangent must itself be differentiable by outer streams
    rules = None if prim.variadic else prim.jvp
    for i, tensor in enumerate(inputs):
        tangents = tensor._tangents
        tangent = None if tangents is None else tangents.get(key)
        if tangents is not None and not nested:
            nested = isinstance(tangent, Tensor) or _has_outer_stream(tensor, key)
        if tangent is not None:
            if rules is None or rules[i] is not None:
                found = True
            else:
                tangent = None  # not differentiable in this input
        given.append(tangent)
    if not found:
        return None
    # The tape recorded this op: the tangent depends on the inputs too, so it is computed on
    # the tape as well, for a reverse pass over it (grad of a jvp, jacfwd inside grad).
    on_tensors = nested or type(out._node) is Node
    if on_tensors:
        values: tuple[Any, ...] = tuple(_restricted(t, key.order) for t in inputs)
        ans: Any = _restricted(out, key.order)
        given = [None if t is None else _as_tensor(t, out) for t in given]
    else:
        values = tuple(map(array_of, inputs))
        ans = out._array
    tangent = _rules.output_tangent(prim, params, given, ans, values, out._backend, on_tensors)
    return _stored(tangent) if on_tensors else tangent


def pull_back(tensor: Tensor, cotangent: Any) -> dict[Tensor, Any]:
    """Each seeded leaf's cotangent from a forward-mode tensor's blocks and its cotangent.

    The block of leaf ``w`` holds d tensor / d w, shape ``(w.numel(), *tensor.shape)``;
    contracting it with the cotangent gives the vector-Jacobian product reverse mode would. The
    cotangent may carry leading batch axes (``jacrev``), which the result keeps.

    Complex values: the cotangent is in the rules' convention (``autograd.engine``'s
    docstring), so a leaf's derivative along a real direction is ``Re(<cotangent, column>)``;
    a complex leaf's block has its real directions first, then its imaginary ones.
    """
    xp = tensor._backend.xp
    k = tensor.ndim
    batch = tuple(cotangent.shape[: cotangent.ndim - k])
    cotangent_axes = list(range(len(batch), len(batch) + k))
    gradients: dict[Tensor, Any] = {}
    for key, block in (tensor._tangents or {}).items():
        leaf = key.leaf() if type(key) is SeedKey else None
        if leaf is not None:
            block = block._array if isinstance(block, Tensor) else block
            flat = xp.tensordot(cotangent, block, axes=(cotangent_axes, list(range(1, k + 1))))
            n = leaf.numel()
            # a complex leaf: real, then imaginary directions (an empty one too: 0 == 2 * 0)
            if leaf.dtype.is_complex and block.shape[0] == 2 * n:
                flat = xp.real(flat[..., :n]) - 1j * xp.real(flat[..., n:])
            elif leaf._backend.dtype_of(flat).is_complex and not leaf.dtype.is_complex:
                flat = xp.real(flat)
            gradient = xp.reshape(flat, batch + leaf.shape)
            # A leaf updated in place under no_grad is seeded afresh (a new key), while values
            # computed before still carry its old block: both paths count, as on the tape.
            gradients[leaf] = gradients[leaf] + gradient if leaf in gradients else gradient
    return gradients


def contract(root: Tensor, cotangent: Any, retain_graph: bool) -> dict[Tensor, Any]:
    """Forward mode's ``backward()`` from ``root``: its blocks pulled back (``pull_back``).

    Raises:
        RuntimeError: ``root``'s tangents were consumed by an earlier backward.
    """
    node = root._node
    assert isinstance(node, ForwardNode)
    if node.consumed:
        msg = (
            f"Trying to backward through the graph a second time (at {node.name()}): "
            "forward mode consumed its tangents in the first backward. Pass "
            "retain_graph=True to the first backward() if you need to backward through it again."
        )
        raise RuntimeError(msg)
    node.consumed = not retain_graph
    return pull_back(root, cotangent)
