"""The tape: one Node per recorded operation, and ``record``, which puts an operation on it."""

from __future__ import annotations

__all__ = ["ForwardNode", "Node", "bump_version", "bump_versions", "record"]

import itertools
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..ops import Primitive
    from ..tensor import Tensor

_allocate = object.__new__

# Sequence numbers order the tape: a node's inputs were always recorded before it, so walking
# nodes by decreasing number visits every consumer of a value before the value's own node.
_sequence = itertools.count()

# The sequence number taken at the latest in-place change of any tensor. A node recorded after
# it cannot have seen an input change since, so the engine checks versions only for nodes
# recorded before it (in a training loop, the update runs after backward: no node is checked).
# A skipped check would let a vjp read a changed input, so it only ever grows: taken and stored
# under a lock, so that a thread storing an older number cannot overwrite a newer one.
last_in_place = -1
_in_place_lock = threading.Lock()


def bump_version(tensor: Tensor) -> None:
    """Count an in-place change of ``tensor``: its version, and the time of the latest change."""
    global last_in_place
    tensor._version += 1
    with _in_place_lock:
        last_in_place = next(_sequence)


def bump_versions(tensors: list[Tensor]) -> None:
    """``bump_version`` for each of ``tensors`` at once (a compiled step's write-back): one
    time of the latest change for all of them, taken once."""
    global last_in_place
    for tensor in tensors:
        tensor._version += 1
    with _in_place_lock:
        last_in_place = next(_sequence)


class Node:
    """One recorded operation: what its vjp needs, and where the cotangents go.

    Made by ``record`` alone, which sets every field but ``label`` (allocating and filling the
    node there costs a tenth less than calling the class):

    - ``prim``, ``params``: the operation.
    - ``inputs``: the input Tensors, None once the graph is freed; ``ans``: the output's array.
    - ``parents[i]``: where input ``i``'s cotangent goes: the Node that produced it, the leaf
      Tensor that accumulates it, or None when it needs none. They are captured when the op is
      recorded, so an in-place change to an input afterwards cannot redirect them.
    - ``seq``: the sequence number that orders the tape.
    - ``versions``: the inputs' versions when recorded, which the vjp checks; None when the
      rules read no values (a linear primitive).
    - ``broadcasts``: an elementwise primitive broadcast a differentiable input itself; the
      engine sums that input's cotangent back to its shape (``_rules.input_cotangents``).
    - ``label``: unset, or PyTorch's name for the function that made the output, where
      dualgrad composes that function of several primitives (``_dispatch.named``).
    - ``pre_hooks``: the output tensor's ``register_hook`` functions, or None.
    - ``retained_by``: a weakref to the output tensor after ``retain_grad()``, or None.
    """

    __slots__ = (
        "__weakref__",
        "ans",
        "broadcasts",
        "inputs",
        "label",
        "params",
        "parents",
        "pre_hooks",
        "prim",
        "retained_by",
        "seq",
        "versions",
    )

    prim: Primitive
    params: dict[str, Any]
    inputs: tuple[Tensor, ...] | None
    parents: tuple[Node | Tensor | None, ...]
    ans: Any
    seq: int
    versions: tuple[int, ...] | None
    broadcasts: bool
    pre_hooks: list[Any] | None
    retained_by: Any

    def name(self) -> str:
        """PyTorch's name for this node's backward function, e.g. ``MulBackward0``: its
        primitive's, or the ``label`` of the function that composed it (``_dispatch.named``)."""
        try:
            return self.label  # type: ignore[no-any-return]
        except AttributeError:  # not set: the primitive's own name
            return self.prim.grad_fn_name

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The nodes (or leaves) this node's cotangents flow to, as in PyTorch."""
        return tuple((parent, 0) for parent in self.parents)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


def record(
    prim: Primitive, params: dict[str, Any], inputs: tuple[Tensor, ...], out: Tensor
) -> None:
    """Put ``out`` on the tape: a Node that sends its cotangent to the inputs that need one."""
    # Where each input's cotangent goes: its tape node, or the tensor itself (a leaf, or a value
    # computed in forward mode, whose tangent blocks the engine pulls the cotangent back through),
    # and the versions the vjp will check. Both are tuples: one allocation each where a list
    # takes two, and a tuple of ints is one the cyclic GC stops tracking (the tape's nodes
    # survive many collections, and every tracked object is walked at each).
    rules = None if prim.variadic else prim.vjp  # prim.differentiable(i), without the call
    array = out._array
    broadcasts = False
    # One and two inputs, most operations, spelled out: the loop and the lists of the general
    # case cost a third of recording a node.
    if len(inputs) == 1:
        tensor = inputs[0]
        if not tensor._requires_grad or (rules is not None and rules[0] is None):
            return
        node = tensor._node
        parents: tuple[Node | Tensor | None, ...] = (node if type(node) is Node else tensor,)
        versions: tuple[int, ...] = (tensor._version,)
        traced_dtype = tensor._array.dtype
    elif len(inputs) == 2 and rules is not None:
        x, y = inputs
        traced_dtype = None
        x_parent = y_parent = None
        if x._requires_grad and rules[0] is not None:
            node = x._node
            x_parent = node if type(node) is Node else x
            traced_dtype = x._array.dtype
        if y._requires_grad and rules[1] is not None:
            node = y._node
            y_parent = node if type(node) is Node else y
            traced_dtype = y._array.dtype
        if traced_dtype is None:
            return
        # Elementwise primitives broadcast their inputs themselves: note whether a
        # differentiable input's shape differs from the output's, so that the engine looks
        # only then.
        if prim.elementwise:
            shape = array.shape
            broadcasts = (x_parent is not None and x._array.shape != shape) or (
                y_parent is not None and y._array.shape != shape
            )
        parents = (x_parent, y_parent)
        versions = (x._version, y._version)
    else:
        shape = array.shape if prim.elementwise else None
        gathered: list[Node | Tensor | None] = []
        seen: list[int] = []
        traced_dtype = None
        for i, tensor in enumerate(inputs):
            seen.append(tensor._version)
            if tensor._requires_grad and (rules is None or rules[i] is not None):
                node = tensor._node
                gathered.append(node if type(node) is Node else tensor)
                traced_dtype = tensor._array.dtype
                if shape is not None and tensor._array.shape != shape:
                    broadcasts = True
            else:
                gathered.append(None)
        if traced_dtype is None:
            return
        parents = tuple(gathered)
        versions = tuple(seen)
    # Integer and bool results, and masks, never carry gradients. (An output of a traced
    # input's dtype is floating or complex, as every traced input is: that comparison is the
    # cheap one, and NumPy's dtypes are mostly one object per dtype, cheaper still to compare
    # by identity.)
    dtype = array.dtype
    if dtype is not traced_dtype and dtype != traced_dtype and not out.dtype.is_inexact:
        return
    node = _allocate(Node)
    node.prim = prim
    node.params = params
    node.inputs = inputs
    node.parents = parents
    node.ans = array
    node.seq = next(_sequence)
    node.versions = None if prim.linear else versions
    node.broadcasts = broadcasts
    node.pre_hooks = None
    node.retained_by = None
    out._node = node
    out._requires_grad = True


class ForwardNode:
    """Stands for an operation run in forward mode: names it (``grad_fn``), saves nothing.

    Forward mode computes derivatives as operations run, so there is no tape to walk; the node
    only remembers whether ``backward()`` already consumed its output's tangents, so that a
    second backward without ``retain_graph`` fails as it does in reverse mode.
    """

    __slots__ = ("consumed", "label", "prim")

    def __init__(self, prim: Primitive) -> None:
        self.prim = prim
        self.consumed = False

    def name(self) -> str:
        """PyTorch's name for this node's backward function, e.g. ``MulBackward0``: its
        primitive's, or the ``label`` of the function that composed it (``_dispatch.named``)."""
        try:
            return self.label  # type: ignore[no-any-return]
        except AttributeError:  # not set: the primitive's own name
            return self.prim.grad_fn_name

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"
