"""Running primitives on Tensors: unwrap, compute, record the tape node, push tangents.

This is the only module that sees Tensors, the tape, the duals and primitives together.
``apply`` is the hot path of every operation. ``elementwise`` prepares operands first: Python
scalars become constants and dtypes are promoted through ``astype``, so that an elementwise
primitive's rules see inputs of one dtype. Their shapes are only checked to broadcast together:
the primitive broadcasts them itself, in both modes, and the engines sum cotangents back and
line tangents up (``_rules``), so a bias add costs no ``broadcast_to`` node.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _batching, _dtypes, _fast, _recorder, _settings_used, config, forward_ad
from .autograd import anomaly_mode
from .autograd.grad_mode import is_grad_enabled
from .autograd.graph import Node, record
from .ops import Primitive, astype
from .ops.shape import broadcast_shapes
from .tensor import Tensor, same_backend


def apply(prim: Primitive, inputs: tuple[Tensor, ...], params: dict[str, Any]) -> Tensor:
    """Run ``prim`` on ``inputs``; record a tape node or push tangents as the inputs need."""
    recorder = _recorder.recorder
    if recorder is not None:
        recorder.read(inputs)
    # One and two inputs, most operations, spelled out: a loop and a list cost as much as the
    # rest of the dispatch on a small array.
    x = inputs[0]
    backend = x._backend
    if len(inputs) == 1:
        traced = x._requires_grad
        dual = x._tangents is not None
        # Most operations have no params: a call without ``**`` costs a tenth less.
        if params:
            result = prim.forward(backend.xp, x._array, **params)
        else:
            result = prim.forward(backend.xp, x._array)
    elif len(inputs) == 2:
        y = inputs[1]
        if y._backend is not backend:
            return apply(prim, lifted(prim.name, inputs), params)
        traced = x._requires_grad or y._requires_grad
        dual = x._tangents is not None or y._tangents is not None
        if params:
            result = prim.forward(backend.xp, x._array, y._array, **params)
        else:
            result = prim.forward(backend.xp, x._array, y._array)
    else:
        traced = dual = False
        arrays = []
        for tensor in inputs:
            if tensor._backend is not backend:
                return apply(prim, lifted(prim.name, inputs), params)
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
        # The common case, decided by plain flags until forward mode or anomaly detection is
        # ever used (``_settings_used``).
        if not _settings_used.forward_mode or config.get_mode() == "reverse":
            record(prim, params, inputs, out)
            if _settings_used.anomaly and anomaly_mode.is_anomaly_enabled():
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
    if _settings_used.anomaly and anomaly_mode.is_anomaly_enabled():
        anomaly_mode.recorded(prim, out._node, out._tangents)


# --- vmap: moving tensors between levels -----------------------------------------------------
class _Move:
    """A linear operation that moves a tensor to another vmap level (``dualgrad._batching``),
    shaped like a Primitive for the engines; its output lives on another backend than its
    input, which ``move`` arranges. Its two instances transpose each other: ``into`` a level
    (with the batch along ``axis`` of the input, or unbatched with ``axis=None``) and ``out_of``
    a level (the batch along ``axis`` of the output). Axes are negative, so that tangents and
    cotangents with leading axes of their own move the same way.
    """

    linear = True
    elementwise = False
    variadic = False
    vjp_reads_ans = False
    promote = ()

    def __init__(self, name: str, forward: Any, transpose: Any) -> None:
        self.name = name
        self.grad_fn_name = f"{''.join(p.capitalize() for p in name.split('_'))}Backward0"
        self.forward = forward
        self.vjp = (lambda xp, g, ans, x, **params: transpose(g, **params),)
        self.jvp = (lambda xp, t, ans, x, **params: forward(xp, t, **params),)

    def differentiable(self, index: int) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<vmap move {self.name}>"


def _into(xp: Any, x: Any, *, level: Any, axis: int | None) -> Any:
    if isinstance(x, Tensor):
        return move(into_level, x, {"level": level, "axis": axis}, level)
    return _batching.batched(x, level, axis)


def _into_transpose(g: Any, *, level: Any, axis: int | None) -> Any:
    """The cotangent of a tensor moved into a level: the batch moved out, and summed over
    where the tensor was not batched (the batch broadcast it)."""
    if axis is not None:
        return _out_of(None, g, level=level, axis=axis)
    if not _batching.mapped(g._array if isinstance(g, Tensor) else g, level):
        return _out_of(None, g, level=level, axis=None) * level.size  # each example's share
    moved = _out_of(None, g, level=level, axis=-g.ndim - 1)
    return moved.sum(axis=0) if isinstance(g, Tensor) else level.base.xp.sum(moved, axis=0)


def _out_of(xp: Any, x: Any, *, level: Any, axis: int | None) -> Any:
    if isinstance(x, Tensor):
        return move(out_of_level, x, {"level": level, "axis": axis}, level.base)
    return _batching.physical(x, level, axis)


into_level = _Move("into_vmap_level", _into, _into_transpose)
out_of_level = _Move(
    "out_of_vmap_level", _out_of, lambda g, *, level, axis: _into(None, g, level=level, axis=axis)
)


def move(prim: Any, x: Tensor, params: dict[str, Any], backend: Any) -> Tensor:
    """Run a move between vmap levels on ``x``; the result lives on ``backend``."""
    if _recorder.recorder is not None:
        _recorder.recorder.read((x,))
    out = Tensor._wrap(prim.forward(x._backend.xp, x._array, **params), backend)
    dual = x._tangents is not None
    if dual or (x._requires_grad and is_grad_enabled()):
        differentiate(prim, params, (x,), out, traced=x._requires_grad, dual=dual)
    return out


def lift(x: Tensor, backend: Any) -> Tensor:
    """``x`` as a value of vmap level ``backend`` (or of the level it is on), unbatched: moved
    up one level at a time, so that each move's cotangent sums out its own batch."""
    levels = []
    while backend is not x._backend and type(backend) is _batching.Level:
        levels.append(backend)
        backend = backend.base
    assert backend is x._backend, "lift: x is not of a level below backend"
    for level in reversed(levels):
        x = move(into_level, x, {"level": level, "axis": None}, level)
    return x


def lifted(op_name: str, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """Inputs of vmap levels one above another, all lifted to the innermost; else the
    TypeError of inputs from different backends."""
    top = same_backend(op_name, inputs)  # raises unless one chain of levels
    return tuple(lift(tensor, top) for tensor in inputs)


# --- elementwise operands -------------------------------------------------------------------
def elementwise(prim: Primitive, *operands: Any) -> Tensor:
    """Apply an elementwise primitive to Tensors and Python scalars, NumPy style.

    Python scalars are weakly typed, as in PyTorch and the Array API: ``x * 2`` keeps ``x``'s
    dtype, and only a float scalar with an integer tensor moves to the default float dtype.

    Raises:
        TypeError: no operand is a Tensor, an operand is neither a Tensor nor a Python number,
            or the Tensors come from different backends.
        ValueError: the shapes do not broadcast together.
    """
    # The common cases first, each settled in a few checks (the general path below reaches
    # the same operands, in several passes): one Tensor; two Tensors of one backend and
    # dtype; a floating Tensor and a Python float or int, on either side, which becomes a
    # 0-d constant of the Tensor's dtype (it broadcasts to any shape and needs no gradient).
    if _fast.enabled:
        if len(operands) == 1:
            if isinstance(operands[0], Tensor):
                return apply(prim, operands, {})
        elif len(operands) == 2 and len(prim.promote) == 2:
            x, y = operands  # Tensors or subclasses (nn.Parameter)
            tensor_first = isinstance(x, Tensor)
            if tensor_first and isinstance(y, Tensor):
                # Backends first: dtypes of two array libraries need not compare (the general
                # path then names the mix).
                if x._backend is y._backend and x._array.dtype == y._array.dtype:
                    if x._array.shape != y._array.shape:
                        broadcast_shapes(prim.name, x._array.shape, y._array.shape)
                    return apply(prim, operands, {})
            else:
                tensor, number = (x, y) if tensor_first else (y, x)
                if isinstance(tensor, Tensor) and (type(number) is float or type(number) is int):
                    constant = _constant(tensor, number)
                    if constant is not None:
                        pair = (tensor, constant) if tensor_first else (constant, tensor)
                        return apply(prim, pair, {})
    tensors = [operand for operand in operands if isinstance(operand, Tensor)]
    if not tensors:
        msg = f"{prim.name}: expected at least one Tensor, got {operands!r}"
        raise TypeError(msg)
    backend = tensors[0]._backend
    if any(isinstance(operand, _NUMPY_VALUES) for operand in operands):
        operands = tuple(_from_numpy(operand, backend) for operand in operands)
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
    shapes = [operand._array.shape for operand in prepared]
    if any(shape != shapes[0] for shape in shapes):
        broadcast_shapes(prim.name, *shapes)
    return apply(prim, tuple(prepared), {})


def _constant(tensor: Tensor, value: float) -> Tensor | None:
    """``value`` as a 0-d constant of ``tensor``'s backend and floating dtype; None when the
    dtype is not floating (the general path then promotes).

    On a backend that shares constants (``Backend.constants``) one Tensor per value and dtype
    serves every operation, so ``x * 0.5`` in a loop allocates no Tensor for the cyclic GC to
    walk (arrays are never mutated, and constants never require grad). It is keyed by the
    array's own dtype (looking up the dualgrad dtype would cost more than the lookup itself)
    and by its type (NumPy's scalars are not its arrays), for which the backend may make
    another kind of operand (``Backend.operand``). Nothing is shared while ``dualgrad.jit``
    traces: a constant made before the call would pass for state.
    """
    backend = tensor._backend
    cache = backend.constants
    if cache is not None and _recorder.recorder is None:
        array = tensor._array
        key = (type(array), array.dtype, type(value), value)
        constant = cache.get(key)
        if constant is not None:
            return constant  # the loop's ``x * 0.9`` after its first time
        dtype = tensor.dtype
        if dtype.kind != "f":
            return None
        constant = Tensor._wrap(backend.operand(value, dtype, array), backend)
        if value and value == value:  # not 0.0 (which stands for -0.0 too), not NaN
            if len(cache) >= 256:
                cache.clear()
            cache[key] = constant
        return constant
    dtype = tensor.dtype
    if dtype.kind != "f":
        return None
    return Tensor._wrap(backend.scalar(value, dtype), backend)


def named(tensor: Tensor, grad_fn: str, source: Tensor | None = None) -> Tensor:
    """``tensor``, its backward node named ``grad_fn`` (``"MseLossBackward0"``): PyTorch's
    name for the function that made it, where dualgrad composes that function of several
    primitives. It is what ``.grad_fn`` and printing show; nothing else reads it. ``tensor``
    is one the caller made, unless it is ``source`` itself (a function that had nothing to do
    returns its input), which keeps its name."""
    node = tensor._node
    if node is not None and tensor is not source:
        node.label = grad_fn
    return tensor


_NUMPY_VALUES = (np.generic, np.ndarray)


def _from_numpy(operand: Any, backend: Any) -> Any:
    """A NumPy operand as PyTorch takes one: a NumPy scalar as the Python number it holds
    (weakly typed: ``x * np.float32(2)`` keeps ``x``'s dtype), a numeric NumPy array as a
    Tensor of its dtype on ``backend``. Anything else is returned as it is."""
    if isinstance(operand, np.generic):
        return operand.item() if operand.dtype.kind in "biufc" else operand
    if isinstance(operand, np.ndarray) and operand.dtype.kind in "biufc":
        return Tensor._wrap(backend.from_numpy(operand), backend)
    return operand


def _check_scalar(prim: Primitive, value: Any) -> Any:
    if type(value) not in _dtypes.SCALAR_KIND and not isinstance(
        value, bool | int | float | complex
    ):
        msg = (
            f"{prim.name}: unsupported operand of type {type(value).__name__}; "
            "expected a Tensor, a Python or NumPy number or a NumPy array (wrap other arrays "
            "with dualgrad.asarray)"
        )
        raise TypeError(msg)
    return value


def _scalar_dtype(value: Any) -> _dtypes.DType:
    kind = _dtypes.SCALAR_KIND.get(type(value), "f")
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
            if strong is None:
                strong = dtype
            else:
                try:
                    strong = _dtypes.promote_types(strong, dtype)
                except TypeError as err:  # uint64 with a signed integer
                    msg = f"{prim.name}: {err}"
                    raise TypeError(msg) from err
        else:
            kind = _dtypes.SCALAR_KIND.get(type(operand), "f")
            if weak_kind is None or _dtypes.KIND_RANK[kind] > _dtypes.KIND_RANK[weak_kind]:
                weak_kind = kind
    if strong is None:
        return _scalar_dtype({"b": True, "i": 0, "f": 0.0, "c": 0j}[weak_kind or "f"])
    if weak_kind is not None and _dtypes.KIND_RANK[weak_kind] > _dtypes.KIND_RANK[strong.kind]:
        return _scalar_dtype({"i": 0, "f": 0.0, "c": 0j}[weak_kind])
    return strong
