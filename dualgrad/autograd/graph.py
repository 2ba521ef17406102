"""The tape: one Node per recorded operation, and ``record``, which puts an operation on it."""

from __future__ import annotations

__all__ = ["ForwardNode", "Node", "bump_version", "bump_versions", "record"]

import itertools
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..ops import Primitive
    from ..tensor import Tensor

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

    ``parents[i]`` is where input ``i``'s cotangent goes: the Node that produced it, the leaf
    Tensor that accumulates it, or None when it needs none. They are captured when the op is
    recorded, so an in-place change to an input afterwards cannot redirect them.
    """

    __slots__ = (
        "__weakref__",
        "ans",
        "broadcasts",
        "inputs",
        "params",
        "parents",
        "pre_hooks",
        "prim",
        "retained_by",
        "seq",
        "versions",
    )

    def __init__(
        self,
        prim: Primitive,
        params: dict[str, Any],
        inputs: tuple[Tensor, ...],
        parents: list[Node | Tensor | None],
        ans: Any,
        versions: tuple[int, ...],
        broadcasts: bool,
    ) -> None:
        self.prim = prim
        self.params = params
        self.inputs: tuple[Tensor, ...] | None = inputs  # None once the graph is freed
        self.parents = parents
        self.ans = ans
        self.seq = next(_sequence)
        # The inputs' versions when recorded, which the vjp checks; None when it reads no values.
        self.versions = None if prim.linear else versions
        # An elementwise primitive broadcast a differentiable input itself: the engine sums that
        # input's cotangent back to its shape (``_rules.input_cotangents``).
        self.broadcasts = broadcasts
        self.pre_hooks: list[Any] | None = None  # the output tensor's register_hook functions
        self.retained_by: Any = None  # weakref to the output tensor, after retain_grad()

    def name(self) -> str:
        """PyTorch's name for this node's backward function, e.g. ``MulBackward0``."""
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
    # computed in forward mode, whose tangent blocks the engine pulls the cotangent back through).
    # One pass per input gathers the parents and the versions the vjp will check.
    parents: list[Node | Tensor | None] = []
    versions: list[int] = []
    rules = None if prim.variadic else prim.vjp  # prim.differentiable(i), without the call
    array = out._array
    # Elementwise primitives broadcast their inputs themselves: note whether a differentiable
    # input's shape differs from the output's, so that the engine looks only then.
    shape = array.shape if prim.elementwise and len(inputs) > 1 else None
    broadcasts = False
    traced_dtype = None
    for i, tensor in enumerate(inputs):
        versions.append(tensor._version)
        if tensor._requires_grad and (rules is None or rules[i] is not None):
            node = tensor._node
            parents.append(node if type(node) is Node else tensor)
            traced_dtype = tensor._array.dtype
            if shape is not None and tensor._array.shape != shape:
                broadcasts = True
        else:
            parents.append(None)
    if traced_dtype is None:
        return
    # Integer and bool results, and masks, never carry gradients. (An output of a traced
    # input's dtype is floating or complex, as every traced input is: that comparison is the
    # cheap one, and NumPy's dtypes are mostly one object per dtype, cheaper still to compare
    # by identity.)
    dtype = array.dtype
    if dtype is not traced_dtype and dtype != traced_dtype and not out.dtype.is_inexact:
        return
    # The versions as a tuple of ints, which the cyclic GC stops tracking: the tape's nodes
    # survive many collections, and every tracked object is walked at each.
    out._node = Node(prim, params, inputs, parents, array, tuple(versions), broadcasts)
    out._requires_grad = True


class ForwardNode:
    """Stands for an operation run in forward mode: names it (``grad_fn``), saves nothing.

    Forward mode computes derivatives as operations run, so there is no tape to walk; the node
    only remembers whether ``backward()`` already consumed its output's tangents, so that a
    second backward without ``retain_graph`` fails as it does in reverse mode.
    """

    __slots__ = ("consumed", "prim")

    def __init__(self, prim: Primitive) -> None:
        self.prim = prim
        self.consumed = False

    def name(self) -> str:
        """PyTorch's name for this node's backward function, e.g. ``MulBackward0``."""
        return self.prim.grad_fn_name

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"
