"""Running primitives on Tensors: unwrap, compute, record the tape node, push tangents.

This is the only module that sees Tensors, the tape, the duals and primitives together.
``apply`` is the hot path of every operation; ``elementwise`` prepares operands first (Python
scalars become constants, dtypes are promoted through ``astype`` and shapes broadcast through
``broadcast_to``), so that primitives' rules see inputs of one dtype and one shape.
"""

from __future__ import annotations

import functools
from typing import Any

from . import _dtypes, config, forward_ad
from .autograd import anomaly_mode
from .autograd.grad_mode import is_grad_enabled
from .autograd.graph import Node
from .ops import Primitive, astype, broadcast_to
from .tensor import Tensor

# While dualgrad.jit traces a step: told which Tensors each operation reads (see _jit.py).
recorder: Any = None


def apply(prim: Primitive, inputs: tuple[Tensor, ...], params: dict[str, Any]) -> Tensor:
    """Run ``prim`` on ``inputs``; record a tape node or push tangents as the inputs need."""
    if recorder is not None:
        recorder.read(inputs)
    # One and two inputs, most operations, spelled out: a loop and a list cost as much as the
    # rest of the dispatch on a small array.
    x = inputs[0]
    backend = x._backend
    if len(inputs) == 1:
        traced = x._requires_grad
        dual = x._tangents is not None
        result = prim.forward(backend.xp, x._array, **params)
    elif len(inputs) == 2:
        y = inputs[1]
        if y._backend is not backend:
            _raise_mixed_backends(prim, inputs)
        traced = x._requires_grad or y._requires_grad
        dual = x._tangents is not None or y._tangents is not None
        result = prim.forward(backend.xp, x._array, y._array, **params)
    else:
        traced = dual = False
        arrays = []
        for tensor in inputs:
            if tensor._backend is not backend:
                _raise_mixed_backends(prim, inputs)
            if tensor._requires_grad:
                traced = True
            if tensor._tangents is not None:
                dual = True
            arrays.append(tensor._array)
        result = prim.forward(backend.xp, *arrays, **params)
    out = Tensor._wrap(result, backend)
    # Under no_grad() (and for constants) nothing is differentiated: the op costs the forward.
    if dual:
        differentiate(prim, params, inputs, out, traced=traced, dual=True)
    elif traced and is_grad_enabled():
        if config.get_mode() == "reverse":
            record(prim, params, inputs, out)  # the common case, decided in three checks
            if anomaly_mode.is_anomaly_enabled():
                anomaly_mode.recorded(prim, out._node, None)
        else:
            differentiate(prim, params, inputs, out, traced=True, dual=False)
    return out


def differentiate(
    prim: Primitive,
    params: dict[str, Any],
    inputs: tuple[Tensor, ...],
    out: Tensor,
    *,
    traced: bool,
    dual: bool,
) -> None:
    """Make ``out`` differentiable as the inputs need: a tape node, tangents, or both."""
    grad_enabled = is_grad_enabled()
    forward = grad_enabled and config.get_mode() == "forward"
    if forward and traced:
        for tensor in inputs:
            if type(tensor._node) is Node:
                forward = False  # a value from the tape: stay on it, which pulls back duals
                break
    if traced and not forward and grad_enabled:
        record(prim, params, inputs, out)
    if dual or (traced and forward):
        forward_ad.push_tangents(prim, params, inputs, out, seeded=forward)
    if anomaly_mode.is_anomaly_enabled():
        anomaly_mode.recorded(prim, out._node, out._tangents)


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
    # An elementwise primitive broadcasts inputs itself on the tape (see _broadcast); the
    # engine sums their cotangents back to their shapes.
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
    # input's dtype is floating, as every traced input is: that comparison is the cheap one.)
    if array.dtype != traced_dtype and not out.dtype.is_floating_point:
        return
    # The versions as a tuple of ints, which the cyclic GC stops tracking: the tape's nodes
    # survive many collections, and every tracked object is walked at each.
    out._node = Node(prim, params, inputs, parents, array, tuple(versions), broadcasts)
    out._requires_grad = True


def _raise_mixed_backends(prim: Primitive, inputs: tuple[Tensor, ...]) -> None:
    names = ", ".join(dict.fromkeys(tensor._backend.name for tensor in inputs))
    msg = (
        f"{prim.name}: inputs come from different backends ({names}); "
        "create them under one backend, or copy one's values over with "
        "dualgrad.asarray(t.detach().numpy()) inside dualgrad.use_backend(...)"
    )
    raise TypeError(msg)


# --- elementwise operands -------------------------------------------------------------------
_SCALAR_KIND = {bool: "b", int: "i", float: "f", complex: "c"}
_KIND_RANK = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


def elementwise(prim: Primitive, *operands: Any) -> Tensor:
    """Apply an elementwise primitive to Tensors and Python scalars, NumPy style.

    Python scalars are weakly typed, as in PyTorch and the Array API: ``x * 2`` keeps ``x``'s
    dtype, and only a float scalar with an integer tensor moves to the default float dtype.
    """
    if len(operands) == 1 and isinstance(operands[0], Tensor):
        return apply(prim, operands, {})  # one Tensor: nothing to promote or broadcast
    ready = _ready_operands(prim, operands)
    if ready is not None:
        return apply(prim, ready, {})
    tensors = [operand for operand in operands if isinstance(operand, Tensor)]
    if not tensors:
        msg = f"{prim.name}: expected at least one Tensor, got {operands!r}"
        raise TypeError(msg)
    backend = tensors[0]._backend
    dtype = _result_dtype(prim, operands)
    prepared = []
    for i, operand in enumerate(operands):
        if isinstance(operand, Tensor):
            if i in prim.promote and operand.dtype is not dtype:
                operand = apply(astype, (operand,), {"dtype": dtype})
        else:
            operand_dtype = dtype if i in prim.promote else _scalar_dtype(operand)
            operand = Tensor._wrap(
                backend.scalar(_check_scalar(prim, operand), operand_dtype), backend
            )
        prepared.append(operand)
    return apply(prim, _broadcast(prim, prepared), {})


def _broadcast(prim: Primitive, operands: list[Tensor]) -> tuple[Tensor, ...]:
    """The operands, those that carry tangents (or will, in forward mode) broadcast to one shape.

    Tangent rules see operands of one shape. On the tape the primitive broadcasts the others
    itself, as the backend does, and the engine sums their cotangents back to their shapes: a
    recorded broadcast_to would cost a node and a view per bias added.
    """
    shape = broadcast_shapes(prim.name, *[operand._array.shape for operand in operands])
    forward = None  # whether forward mode records, read only if an operand is broadcast
    for i, operand in enumerate(operands):
        if operand._array.shape != shape:
            if forward is None:
                forward = is_grad_enabled() and config.get_mode() == "forward"
            if operand._tangents or (forward and operand._requires_grad):
                operands[i] = apply(broadcast_to, (operand,), {"shape": shape})
    return tuple(operands)


def _ready_operands(prim: Primitive, operands: tuple[Any, ...]) -> tuple[Tensor, ...] | None:
    """The operands as they are when nothing needs promoting or broadcasting, else None.

    The shortcut for the common cases, which ``elementwise``'s general path would also reach
    but through several passes: two Tensors of one dtype (broadcast if their shapes
    differ); a floating Tensor with a Python float or int (the number becomes a 0-d
    constant of the Tensor's dtype, which broadcasts against any shape and never needs a
    gradient).
    """
    if len(operands) != 2 or len(prim.promote) != 2:
        return None
    x, y = operands  # Tensors or subclasses (nn.Parameter)
    if isinstance(x, Tensor):
        if isinstance(y, Tensor):
            # Backends first: dtypes of two array libraries need not compare (the general
            # path then names the mix).
            if x._backend is not y._backend or x._array.dtype != y._array.dtype:
                return None
            return operands if x._array.shape == y._array.shape else _broadcast(prim, [x, y])
        if type(y) is float or type(y) is int:
            constant = _shared_constant(x, y)
            if constant is not None:
                return x, constant  # the loop's ``x * 0.9`` after its first time
            dtype = x.dtype
            if dtype.kind == "f":
                return x, _constant(x._backend, y, dtype)
    elif isinstance(y, Tensor) and (type(x) is float or type(x) is int):
        constant = _shared_constant(y, x)
        if constant is not None:
            return constant, y
        dtype = y.dtype
        if dtype.kind == "f":
            return _constant(y._backend, x, dtype), y
    return None


# Python numbers met as operands, as 0-d constant Tensors per backend and dtype: shared by the
# operations that use them (arrays are never mutated, and constants never require grad), so
# ``x * 0.5`` in a loop allocates one Tensor, not two, for the cyclic GC to walk. Bounded.
# Only on backends that allow it (Backend.shares_constants), and not while dualgrad.jit
# traces (a constant made before the call would pass for state).
_constants: dict[tuple[Any, ...], Tensor] = {}


def _constant(backend: Any, value: float, dtype: _dtypes.DType) -> Tensor:
    fresh = not backend.shares_constants or recorder is not None
    if fresh or not value or value != value:  # 0.0 vs -0.0; NaN != NaN
        return Tensor._wrap(backend.scalar(value, dtype), backend)
    constant = Tensor._wrap(backend.scalar(value, dtype), backend)
    if len(_constants) >= 256:
        _constants.clear()
    _constants[backend, constant._array.dtype, type(value), value] = constant
    return constant


def _shared_constant(tensor: Tensor, value: float) -> Tensor | None:
    """The shared constant for ``value`` in ``tensor``'s backend and dtype, if one was made.

    Keyed by the array's own dtype: looking up the dualgrad dtype would cost more than the
    lookup itself. Only floating constants are ever stored (``_ready_operands`` makes no
    others), and never while ``dualgrad.jit`` traces.
    """
    if recorder is not None:
        return None
    return _constants.get((tensor._backend, tensor._array.dtype, type(value), value))


def _check_scalar(prim: Primitive, value: Any) -> Any:
    if type(value) not in _SCALAR_KIND and not isinstance(value, bool | int | float | complex):
        msg = (
            f"{prim.name}: unsupported operand of type {type(value).__name__}; "
            "expected a Tensor or a Python number (wrap arrays with dualgrad.asarray)"
        )
        raise TypeError(msg)
    return value


def _scalar_dtype(value: Any) -> _dtypes.DType:
    kind = _SCALAR_KIND.get(type(value), "f")
    if kind == "b":
        return _dtypes.bool
    if kind == "i":
        return _dtypes.int64
    if kind == "c":
        return (
            _dtypes.complex128
            if config.get_default_dtype() is _dtypes.float64
            else _dtypes.complex64
        )
    return config.get_default_dtype()


def _result_dtype(prim: Primitive, operands: tuple[Any, ...]) -> _dtypes.DType:
    """Promote the tensors' dtypes; a scalar of a higher kind lifts the result to its default."""
    strong = None
    weak_kind = None
    for i in prim.promote:
        operand = operands[i]
        if isinstance(operand, Tensor):
            dtype = operand.dtype
            strong = dtype if strong is None else _dtypes.promote_types(strong, dtype)
        else:
            kind = _SCALAR_KIND.get(type(operand), "f")
            if weak_kind is None or _KIND_RANK[kind] > _KIND_RANK[weak_kind]:
                weak_kind = kind
    if strong is None:
        return _scalar_dtype({"b": True, "i": 0, "f": 0.0, "c": 0j}[weak_kind or "f"])
    if weak_kind is not None and _KIND_RANK[weak_kind] > _KIND_RANK[strong.kind]:
        return _scalar_dtype({"i": 0, "f": 0.0, "c": 0j}[weak_kind])
    return strong


def broadcast_shapes(op_name: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape the given shapes broadcast to, or a ValueError naming them all."""
    shape = _broadcast_shape(shapes)
    if shape is None:
        listed = " and ".join(str(shape) for shape in shapes)
        msg = f"{op_name}: shapes {listed} cannot be broadcast together"
        raise ValueError(msg)
    return shape


@functools.lru_cache(maxsize=256)  # a model meets a few shapes, at every step
def _broadcast_shape(shapes: tuple[tuple[int, ...], ...]) -> tuple[int, ...] | None:
    ndim = max(len(shape) for shape in shapes)
    result = [1] * ndim
    for shape in shapes:
        offset = ndim - len(shape)
        for i, size in enumerate(shape, offset):
            if size != result[i] and size != 1:
                if result[i] != 1:
                    return None
                result[i] = size
    return tuple(result)
