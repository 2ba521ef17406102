"""dualgrad as an Array API namespace, driven by Hypothesis: every function of the standard.

``hypothesis.extra.array_api.make_strategies_namespace(dualgrad)`` draws Tensors of random
shapes, dtypes and values; each function of the standard runs on them through dualgrad and
through the active backend's own namespace, and the results must agree (values, dtypes,
shapes). For differentiable functions the same kind of draw, in float64 and inside the
function's domain, checks the gradient: reverse mode's ``<J^T u, v>`` and forward mode's
``<u, J v>`` against central finite differences along a random direction ``v``.

What dualgrad does differently from the standard is listed, with the reason, in one table:
``array_api_deviations.DEVIATIONS``. A function named there is not run here.
"""

from __future__ import annotations

import builtins
import importlib.util
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import array_api_compat
import array_api_strict
import numpy as np
import pytest
from array_api_deviations import DEVIATIONS, render_table
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.array_api import make_strategies_namespace
from hypothesis.extra.numpy import mutually_broadcastable_shapes as gufunc_shapes

import dualgrad
from conftest import BACKENDS

xps = make_strategies_namespace(dualgrad)
SHAPES = xps.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
NONEMPTY = xps.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
SETTINGS = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Values for value checks: bounded, so that integer arithmetic does not overflow differently.
FLOATS = {"min_value": -8.0, "max_value": 8.0, "allow_nan": False}
INTS = {"min_value": -8, "max_value": 8}


# The backends checked here: the eager ones the standard describes (the others have their own
# suites); each that is not installed is skipped with its install hint.
CONFORMANCE_BACKENDS = ("numpy", "jax", "array_api_strict")


@pytest.fixture(
    params=[
        pytest.param(
            name,
            marks=pytest.mark.skipif(
                importlib.util.find_spec(BACKENDS[name][0]) is None,
                reason=f"backend {name} needs {BACKENDS[name][0]}: {BACKENDS[name][1]}",
            ),
        )
        for name in CONFORMANCE_BACKENDS
    ]
)
def backend(request: pytest.FixtureRequest) -> Any:
    """The active backend for one test (overrides conftest's, which has every backend)."""
    with dualgrad.use_backend(request.param) as active:
        yield active


# --- what each function is given ----------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """One call: positional and keyword arguments (Tensors among them)."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]


Drawer = Callable[[st.DataObject, Any, Any], Call]  # (data, dtype strategy, elements) -> Call


def _elements(dtype: Any, floats: Any) -> Any:
    """The element bounds for ``dtype``: ``floats`` for floating dtypes, small integers else."""
    if dtype.kind == "c":
        return {"allow_nan": False, "allow_infinity": False}
    if dtype.kind == "f":
        return floats
    if dtype.kind == "u":
        return {"min_value": 0, "max_value": INTS["max_value"]}
    return INTS if dtype.kind == "i" else None


def _array(data: st.DataObject, dtypes: Any, shape: Any, elements: Any) -> Any:
    dtype = data.draw(dtypes, label="dtype")
    shape = data.draw(shape, label="shape")
    return data.draw(xps.arrays(dtype, shape, elements=_elements(dtype, elements)))


def unary(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    return Call((_array(data, dtypes, SHAPES, elements),), {})


def binary(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    shapes = data.draw(xps.mutually_broadcastable_shapes(2, max_dims=3, max_side=3))
    dtype = data.draw(dtypes, label="dtype")
    kwargs = _elements(dtype, elements)
    x1, x2 = (data.draw(xps.arrays(dtype, s, elements=kwargs)) for s in shapes.input_shapes)
    return Call((x1, x2), {})


def nonnegative_shift(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    call = binary(data, dtypes, elements)
    return Call((call.args[0], dualgrad.abs(call.args[1]) % 4), {})


def reduction(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, NONEMPTY, elements)
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1), label="axis")
    return Call((x,), {"axis": axis, "keepdims": data.draw(st.booleans(), label="keepdims")})


def statistic(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    call = reduction(data, dtypes, elements)
    (x,) = call.args
    axis = call.kwargs["axis"]
    count = x.numel() if axis is None else x.shape[axis]
    correction = data.draw(st.sampled_from([0, 1]))
    assume(count > correction + 1)  # var's divisor is positive; std's derivative is finite
    return Call(call.args, {**call.kwargs, "correction": correction})


def one_axis(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, NONEMPTY, elements)
    return Call((x,), {"axis": data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")})


def arg_reduction(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    call = one_axis(data, dtypes, elements)
    return Call(call.args, {**call.kwargs, "keepdims": data.draw(st.booleans())})


def cumulative(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    call = one_axis(data, dtypes, elements)
    return Call(call.args, {**call.kwargs, "include_initial": data.draw(st.booleans())})


def sorting(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, NONEMPTY, {**elements, "allow_subnormal": False})
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    # Unstable sorts may order ties differently; stable ones must agree exactly.
    return Call((x,), {"axis": axis, "descending": data.draw(st.booleans()), "stable": True})


def matrices(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    shape = data.draw(xps.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=3))
    dtype = data.draw(dtypes)
    return Call((data.draw(xps.arrays(dtype, shape, elements=_elements(dtype, elements))),), {})


def triangle(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    call = matrices(data, dtypes, elements)
    return Call(call.args, {"k": data.draw(st.integers(-2, 2), label="k")})


def matmul(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    shapes = data.draw(gufunc_shapes(signature="(m,n),(n,p)->(m,p)", max_side=3))
    dtype = data.draw(dtypes)
    return Call(
        tuple(
            data.draw(xps.arrays(dtype, s, elements=_elements(dtype, elements)))
            for s in shapes.input_shapes
        ),
        {},
    )


def vecdot(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    shapes = data.draw(gufunc_shapes(signature="(n),(n)->()", max_side=3))
    dtype = data.draw(dtypes)
    return Call(
        tuple(
            data.draw(xps.arrays(dtype, s, elements=_elements(dtype, elements)))
            for s in shapes.input_shapes
        ),
        {},
    )


def tensordot(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x1 = _array(data, dtypes, SHAPES, elements)
    axes = data.draw(st.integers(0, x1.ndim), label="axes")
    tail = data.draw(xps.array_shapes(min_dims=0, max_dims=2, max_side=3))
    x2 = data.draw(
        xps.arrays(
            x1.dtype, x1.shape[x1.ndim - axes :] + tail, elements=_elements(x1.dtype, elements)
        )
    )
    return Call((x1, x2), {"axes": axes})


def clip(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, SHAPES, elements)
    # bounds no drawn element equals (clip has kinks there)
    low = data.draw(st.sampled_from([None, -0.7372, -1.3181]), label="min")
    high = data.draw(st.sampled_from([None, 0.6131, 1.4459]), label="max")
    assume(low is not None or high is not None)
    return Call((x,), {"min": low, "max": high})


def where(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    shapes = data.draw(xps.mutually_broadcastable_shapes(3, max_dims=3, max_side=3))
    dtype = data.draw(dtypes)
    condition = data.draw(xps.arrays(dualgrad.bool, shapes.input_shapes[0]))
    x1, x2 = (
        data.draw(xps.arrays(dtype, s, elements=_elements(dtype, elements)))
        for s in shapes.input_shapes[1:]
    )
    return Call((condition, x1, x2), {})


def reshape(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, SHAPES, elements)
    shape = data.draw(st.permutations(x.shape), label="shape")
    return Call((x, tuple(shape)), {})


def permute_dims(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, SHAPES, elements)
    return Call((x, tuple(data.draw(st.permutations(range(x.ndim))))), {})


def expand_dims(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, SHAPES, elements)
    return Call((x,), {"axis": data.draw(st.integers(-x.ndim - 1, x.ndim))})


def squeeze(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    shape = data.draw(SHAPES)
    ones = [i for i, n in enumerate(shape) if n == 1]
    assume(ones)
    dtype = data.draw(dtypes)
    x = data.draw(xps.arrays(dtype, shape, elements=_elements(dtype, elements)))
    return Call((x,), {"axis": data.draw(st.sampled_from(ones))})


def broadcast_to(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    shapes = data.draw(xps.mutually_broadcastable_shapes(2, max_dims=3, max_side=3))
    dtype = data.draw(dtypes)
    x = data.draw(xps.arrays(dtype, shapes.input_shapes[0], elements=_elements(dtype, elements)))
    return Call((x, shapes.result_shape), {})


def several(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    """Tensors of one shape, for stack and broadcast_arrays-like joins."""
    shape = data.draw(SHAPES)
    dtype = data.draw(dtypes)
    count = data.draw(st.integers(1, 3))
    return Call(
        tuple(
            data.draw(xps.arrays(dtype, shape, elements=_elements(dtype, elements)))
            for _ in range(count)
        ),
        {},
    )


def stack(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    call = several(data, dtypes, elements)
    ndim = call.args[0].ndim
    return Call((list(call.args),), {"axis": data.draw(st.integers(-ndim - 1, ndim))})


def concat(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    shape = data.draw(NONEMPTY)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    dtype = data.draw(dtypes)
    tensors = []
    for _ in range(data.draw(st.integers(1, 3))):
        own = list(shape)
        own[axis] = data.draw(st.integers(0, 3))
        tensors.append(
            data.draw(xps.arrays(dtype, tuple(own), elements=_elements(dtype, elements)))
        )
    return Call((tensors,), {"axis": axis})


def broadcast_arrays(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    shapes = data.draw(xps.mutually_broadcastable_shapes(2, max_dims=3, max_side=3))
    dtype = data.draw(dtypes)
    return Call(
        tuple(
            data.draw(xps.arrays(dtype, s, elements=_elements(dtype, elements)))
            for s in shapes.input_shapes
        ),
        {},
    )


def flip(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, SHAPES, elements)
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1) if x.ndim else st.none())
    return Call((x,), {"axis": axis})


def roll(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, NONEMPTY, elements)
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    return Call((x,), {"shift": data.draw(st.integers(-4, 4)), "axis": axis})


def moveaxis(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, NONEMPTY, elements)
    axes = st.integers(-x.ndim, x.ndim - 1)
    return Call((x, data.draw(axes), data.draw(axes)), {})


def tile(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, SHAPES, elements)
    reps = data.draw(st.lists(st.integers(0, 2), min_size=0, max_size=3))
    return Call((x, tuple(reps)), {})


def repeat(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, NONEMPTY, elements)
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    return Call((x, data.draw(st.integers(0, 3))), {"axis": axis})


def unstack(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    return one_axis(data, dtypes, elements)


def take(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, NONEMPTY, elements)
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    count = data.draw(st.integers(0, 4))
    indices = data.draw(
        st.lists(st.integers(0, x.shape[axis] - 1), min_size=count, max_size=count)
    )
    return Call((x, dualgrad.asarray(indices, dtype=dualgrad.int64)), {"axis": axis})


def take_along_axis(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, NONEMPTY, elements)
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    shape = list(x.shape)
    shape[axis] = data.draw(st.integers(0, 3))
    indices = data.draw(
        xps.arrays(
            dualgrad.int64, tuple(shape), elements={"min_value": 0, "max_value": x.shape[axis] - 1}
        )
    )
    return Call((x, indices), {"axis": axis})


def diff(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, NONEMPTY, elements)
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    return Call((x,), {"axis": axis, "n": data.draw(st.integers(0, 2))})


def meshgrid(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    dtype = data.draw(dtypes)
    count = data.draw(st.integers(1, 3))
    vectors = [
        data.draw(
            xps.arrays(dtype, (data.draw(st.integers(0, 3)),), elements=_elements(dtype, elements))
        )
        for _ in range(count)
    ]
    return Call(tuple(vectors), {"indexing": data.draw(st.sampled_from(["xy", "ij"]))})


def searchsorted(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    dtype = data.draw(dtypes)
    sorted_ = dualgrad.sort(
        data.draw(
            xps.arrays(dtype, data.draw(st.integers(1, 5)), elements=_elements(dtype, elements))
        )
    )
    x2 = data.draw(xps.arrays(dtype, data.draw(SHAPES), elements=_elements(dtype, elements)))
    return Call((sorted_, x2), {"side": data.draw(st.sampled_from(["left", "right"]))})


def isin(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    # invert=False only: array_api_strict 2.6 answers isin(0, 0, invert=True) with True
    return Call(binary(data, dtypes, elements).args, {"invert": False})


def nonzero(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    return Call((_array(data, dtypes, NONEMPTY, elements),), {})


def count_nonzero(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    return reduction(data, dtypes, elements)


def astype(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    x = _array(data, dtypes, SHAPES, elements)
    return Call((x, data.draw(dtypes)), {})


def linalg_vector_norm(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    call = reduction(data, dtypes, elements)
    ord_ = data.draw(st.sampled_from([1, 2, 3, math.inf, -math.inf]))
    return Call(call.args, {**call.kwargs, "ord": ord_})


def linalg_matrix_norm(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    call = matrices(data, dtypes, elements)
    ord_ = data.draw(st.sampled_from(["fro", 1, -1, math.inf, -math.inf, 2, -2, "nuc"]))
    return Call(call.args, {"ord": ord_, "keepdims": data.draw(st.booleans())})


def square_matrices(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    """Well-conditioned square matrices: the identity plus a small perturbation."""
    n = data.draw(st.integers(1, 3))
    batch = data.draw(st.lists(st.integers(1, 2), max_size=1))
    shape = (*batch, n, n)
    noise = data.draw(
        xps.arrays(
            data.draw(dtypes),
            shape,
            elements={"min_value": -0.25, "max_value": 0.25, "allow_nan": False},
        )
    )
    return Call((noise + dualgrad.eye(n, dtype=noise.dtype),), {})


def symmetric_positive(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    (x,) = square_matrices(data, dtypes, elements).args
    return Call((dualgrad.matmul(x, dualgrad.matrix_transpose(x)),), {})


def linalg_solve(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    (a,) = square_matrices(data, dtypes, elements).args
    b = data.draw(
        xps.arrays(
            a.dtype,
            (*a.shape[:-1], data.draw(st.integers(1, 2))),
            elements=_elements(a.dtype, elements),
        )
    )
    return Call((a, b), {})


def linalg_offset(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    call = matrices(data, dtypes, elements)
    return Call(call.args, {"offset": data.draw(st.integers(-2, 2))})


def linalg_cross(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    shapes = data.draw(gufunc_shapes(signature="(n),(n)->(n)", max_side=2))
    dtype = data.draw(dtypes)
    return Call(
        tuple(
            data.draw(xps.arrays(dtype, (*s[:-1], 3), elements=_elements(dtype, elements)))
            for s in shapes.input_shapes
        ),
        {},
    )


def linalg_matrix_power(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    (x,) = square_matrices(data, dtypes, elements).args
    return Call((x, data.draw(st.integers(-2, 3))), {})


def linalg_outer(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    dtype = data.draw(dtypes)
    return Call(
        tuple(
            data.draw(
                xps.arrays(
                    dtype, (data.draw(st.integers(0, 3)),), elements=_elements(dtype, elements)
                )
            )
            for _ in "ab"
        ),
        {},
    )


def separated_symmetric(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    """Symmetric matrices with well separated eigenvalues (eigenvector gradients divide by
    their gaps)."""
    (x,) = separated_singular_values(data, dtypes, elements).args
    return Call(((x + dualgrad.matrix_transpose(x)) / 2,), {})


def separated_singular_values(data: st.DataObject, dtypes: Any, elements: Any) -> Call:
    """Matrices with well separated singular values (SVD gradients divide by their gaps)."""
    n = data.draw(st.integers(1, 3))
    dtype = data.draw(dtypes)
    scale = dualgrad.asarray([3.0, 2.0, 1.0][:n], dtype=dtype)
    noise = data.draw(
        xps.arrays(
            dtype, (n, n), elements={"min_value": -0.125, "max_value": 0.125, "allow_nan": False}
        )
    )
    return Call(
        (dualgrad.linalg.matrix_power(noise + dualgrad.eye(n, dtype=dtype), 1) * scale,), {}
    )


# --- the table of functions --------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """How to test one function: its drawer, input dtypes, and for gradients the element range
    (None: not differentiable), which may differ from the range values are checked on."""

    draw: Drawer
    dtypes: Any = None  # default: real floating
    grad_range: tuple[float, float] | None = None
    tolerance: float = 1e-5  # relative, for float32 results (float64 gets its square)
    # For results the standard leaves unsettled (the signs of QR, SVD and eigenvector
    # factors): what to compare instead, from the results as NumPy arrays.
    invariant: Callable[[list[np.ndarray]], list[np.ndarray]] | None = None
    # Functions of symmetric matrices read one triangle: perturb them symmetrically.
    symmetric: bool = False


def _qr_invariant(factors: list[np.ndarray]) -> list[np.ndarray]:
    q, r = factors
    return [q @ r, np.abs(q), np.abs(r)]


def _svd_invariant(factors: list[np.ndarray]) -> list[np.ndarray]:
    u, s, vh = factors
    return [(u * s[..., None, :]) @ vh, np.abs(u), s, np.abs(vh)]


def _eigh_invariant(factors: list[np.ndarray]) -> list[np.ndarray]:
    values, vectors = factors
    return [values, np.abs(vectors)]


FLOAT = None
NUMERIC = "numeric"
INTEGER = "integer"
BOOL = "bool"
# Away from kinks and jumps: floor/round/sign are constant on (0.1, 0.4).
STEP = (0.1, 0.4)
ANY = (-2.0, 2.0)
POSITIVE = (0.2, 3.0)
UNIT = (-0.9, 0.9)

FUNCTIONS: dict[str, Spec] = {
    # elementwise, one input
    "abs": Spec(unary, grad_range=POSITIVE),
    "acos": Spec(unary, grad_range=UNIT),
    "acosh": Spec(unary, grad_range=(1.2, 3.0)),
    "asin": Spec(unary, grad_range=UNIT),
    "asinh": Spec(unary, grad_range=ANY),
    "atan": Spec(unary, grad_range=ANY),
    "atanh": Spec(unary, grad_range=UNIT),
    "ceil": Spec(unary, grad_range=STEP),
    "conj": Spec(unary, grad_range=ANY),
    "cos": Spec(unary, grad_range=ANY),
    "cosh": Spec(unary, grad_range=ANY),
    "exp": Spec(unary, grad_range=ANY),
    "expm1": Spec(unary, grad_range=ANY),
    "floor": Spec(unary, grad_range=STEP),
    "isfinite": Spec(unary),
    "isinf": Spec(unary),
    "isnan": Spec(unary),
    "log": Spec(unary, grad_range=POSITIVE),
    "log10": Spec(unary, grad_range=POSITIVE),
    "log1p": Spec(unary, grad_range=POSITIVE),
    "log2": Spec(unary, grad_range=POSITIVE),
    "logical_not": Spec(unary, dtypes=BOOL),
    "bitwise_invert": Spec(unary, dtypes=INTEGER),
    "negative": Spec(unary, dtypes=NUMERIC, grad_range=ANY),
    "positive": Spec(unary, dtypes=NUMERIC, grad_range=ANY),
    "real": Spec(unary),
    "reciprocal": Spec(unary, grad_range=POSITIVE),
    "round": Spec(unary, grad_range=STEP),
    "sign": Spec(unary, dtypes=NUMERIC, grad_range=POSITIVE),
    "signbit": Spec(unary),
    "sin": Spec(unary, grad_range=ANY),
    "sinh": Spec(unary, grad_range=ANY),
    "sqrt": Spec(unary, grad_range=POSITIVE),
    "square": Spec(unary, dtypes=NUMERIC, grad_range=ANY),
    "tan": Spec(unary, grad_range=(-1.2, 1.2)),
    "tanh": Spec(unary, grad_range=ANY),
    "trunc": Spec(unary, grad_range=STEP),
    # elementwise, two inputs (broadcasting)
    "add": Spec(binary, dtypes=NUMERIC, grad_range=ANY),
    "atan2": Spec(binary, grad_range=POSITIVE),
    "bitwise_and": Spec(binary, dtypes=INTEGER),
    "bitwise_left_shift": Spec(nonnegative_shift, dtypes=INTEGER),
    "bitwise_or": Spec(binary, dtypes=INTEGER),
    "bitwise_right_shift": Spec(nonnegative_shift, dtypes=INTEGER),
    "bitwise_xor": Spec(binary, dtypes=INTEGER),
    "copysign": Spec(binary, grad_range=POSITIVE),
    "divide": Spec(binary, grad_range=POSITIVE),
    "equal": Spec(binary, dtypes=NUMERIC),
    "floor_divide": Spec(binary, grad_range=None),
    "greater": Spec(binary, dtypes=NUMERIC),
    "greater_equal": Spec(binary, dtypes=NUMERIC),
    "hypot": Spec(binary, grad_range=POSITIVE),
    "less": Spec(binary, dtypes=NUMERIC),
    "less_equal": Spec(binary, dtypes=NUMERIC),
    "logaddexp": Spec(binary, grad_range=ANY),
    "logical_and": Spec(binary, dtypes=BOOL),
    "logical_or": Spec(binary, dtypes=BOOL),
    "logical_xor": Spec(binary, dtypes=BOOL),
    "maximum": Spec(binary, dtypes=NUMERIC, grad_range=ANY),
    "minimum": Spec(binary, dtypes=NUMERIC, grad_range=ANY),
    "multiply": Spec(binary, dtypes=NUMERIC, grad_range=ANY),
    "nextafter": Spec(binary),
    "not_equal": Spec(binary, dtypes=NUMERIC),
    "pow": Spec(binary, grad_range=POSITIVE),
    "remainder": Spec(binary, grad_range=None),
    "subtract": Spec(binary, dtypes=NUMERIC, grad_range=ANY),
    "clip": Spec(clip, grad_range=ANY),
    "where": Spec(where, grad_range=ANY),
    # reductions and statistics
    "all": Spec(reduction, dtypes=BOOL),
    "any": Spec(reduction, dtypes=BOOL),
    "argmax": Spec(arg_reduction),
    "argmin": Spec(arg_reduction),
    "count_nonzero": Spec(count_nonzero, dtypes=NUMERIC),
    "cumulative_prod": Spec(cumulative, grad_range=POSITIVE),
    "cumulative_sum": Spec(cumulative, dtypes=NUMERIC, grad_range=ANY),
    "max": Spec(reduction, dtypes=NUMERIC, grad_range=ANY),
    "mean": Spec(reduction, grad_range=ANY),
    "min": Spec(reduction, dtypes=NUMERIC, grad_range=ANY),
    "prod": Spec(reduction, grad_range=ANY),
    "std": Spec(statistic, grad_range=ANY),
    "sum": Spec(reduction, dtypes=NUMERIC, grad_range=ANY),
    "var": Spec(statistic, grad_range=ANY),
    # shapes, joins, reordering, indexing
    "broadcast_arrays": Spec(broadcast_arrays, grad_range=ANY),
    "broadcast_to": Spec(broadcast_to, grad_range=ANY),
    "concat": Spec(concat, grad_range=ANY),
    "expand_dims": Spec(expand_dims, grad_range=ANY),
    "flip": Spec(flip, grad_range=ANY),
    "matrix_transpose": Spec(matrices, grad_range=ANY),
    "moveaxis": Spec(moveaxis, grad_range=ANY),
    "permute_dims": Spec(permute_dims, grad_range=ANY),
    "repeat": Spec(repeat, grad_range=ANY),
    "reshape": Spec(reshape, grad_range=ANY),
    "roll": Spec(roll, grad_range=ANY),
    "squeeze": Spec(squeeze, grad_range=ANY),
    "stack": Spec(stack, grad_range=ANY),
    "take": Spec(take, grad_range=ANY),
    "take_along_axis": Spec(take_along_axis, grad_range=ANY),
    "tile": Spec(tile, grad_range=ANY),
    "tril": Spec(triangle, grad_range=ANY),
    "triu": Spec(triangle, grad_range=ANY),
    "unstack": Spec(unstack, grad_range=ANY),
    "diff": Spec(diff, dtypes=NUMERIC, grad_range=ANY),
    "meshgrid": Spec(meshgrid, grad_range=ANY),
    # sorting, searching, sets
    "argsort": Spec(sorting),
    "sort": Spec(sorting, grad_range=ANY),
    "searchsorted": Spec(searchsorted, invariant=lambda indices: [indices.astype(np.int64)]),
    "nonzero": Spec(nonzero, dtypes=NUMERIC),
    "isin": Spec(isin, dtypes=INTEGER),
    "unique_all": Spec(nonzero, dtypes=INTEGER),
    "unique_counts": Spec(nonzero, dtypes=INTEGER),
    "unique_inverse": Spec(nonzero, dtypes=INTEGER),
    "unique_values": Spec(nonzero, dtypes=INTEGER),
    # linear algebra in the main namespace
    "matmul": Spec(matmul, grad_range=ANY, tolerance=1e-4),
    "tensordot": Spec(tensordot, grad_range=ANY, tolerance=1e-4),
    "vecdot": Spec(vecdot, grad_range=ANY, tolerance=1e-4),
    # data types
    "astype": Spec(astype, grad_range=ANY),
    # the linalg extension
    "linalg.cholesky": Spec(symmetric_positive, grad_range=ANY, tolerance=1e-4, symmetric=True),
    "linalg.cross": Spec(linalg_cross, grad_range=ANY),
    "linalg.det": Spec(square_matrices, grad_range=ANY, tolerance=1e-4),
    "linalg.diagonal": Spec(linalg_offset, grad_range=ANY),
    "linalg.eigh": Spec(
        separated_symmetric,
        grad_range=ANY,
        tolerance=1e-4,
        invariant=_eigh_invariant,
        symmetric=True,
    ),
    "linalg.eigvalsh": Spec(symmetric_positive, grad_range=ANY, tolerance=1e-4, symmetric=True),
    "linalg.inv": Spec(square_matrices, grad_range=ANY, tolerance=1e-4),
    "linalg.matmul": Spec(matmul, grad_range=ANY, tolerance=1e-4),
    "linalg.matrix_norm": Spec(linalg_matrix_norm, grad_range=None, tolerance=1e-4),
    "linalg.matrix_power": Spec(linalg_matrix_power, grad_range=ANY, tolerance=1e-4),
    "linalg.matrix_rank": Spec(square_matrices),
    "linalg.matrix_transpose": Spec(matrices, grad_range=ANY),
    "linalg.outer": Spec(linalg_outer, grad_range=ANY),
    "linalg.pinv": Spec(separated_singular_values, grad_range=ANY, tolerance=1e-4),
    "linalg.qr": Spec(square_matrices, grad_range=ANY, tolerance=1e-4, invariant=_qr_invariant),
    "linalg.slogdet": Spec(square_matrices, grad_range=ANY, tolerance=1e-4),
    "linalg.solve": Spec(linalg_solve, grad_range=ANY, tolerance=1e-4),
    "linalg.svd": Spec(
        separated_singular_values, grad_range=ANY, tolerance=1e-4, invariant=_svd_invariant
    ),
    "linalg.svdvals": Spec(separated_singular_values, grad_range=ANY, tolerance=1e-4),
    "linalg.tensordot": Spec(tensordot, grad_range=ANY, tolerance=1e-4),
    "linalg.trace": Spec(linalg_offset, grad_range=ANY),
    "linalg.vecdot": Spec(vecdot, grad_range=ANY, tolerance=1e-4),
    "linalg.vector_norm": Spec(linalg_vector_norm, grad_range=POSITIVE, tolerance=1e-4),
}

# Checked by their own tests below: creation, data-type functions and the namespace's info.
CREATION = {
    "arange",
    "asarray",
    "empty",
    "empty_like",
    "eye",
    "from_dlpack",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "zeros",
    "zeros_like",
}
DTYPE_FUNCTIONS = {"broadcast_shapes", "can_cast", "finfo", "iinfo", "isdtype", "result_type"}
# array_api_strict's own switches, not functions of the standard
_STRICT_ONLY = {
    "ArrayAPIStrictFlags",
    "Device",
    "get_array_api_strict_flags",
    "reset_array_api_strict_flags",
    "set_array_api_strict_flags",
}


def standard_functions() -> set[str]:
    """Every function of the standard and its linalg and fft extensions, by name."""
    names = {
        name
        for name in array_api_strict.__all__
        if not name.startswith("_")
        and name not in _STRICT_ONLY
        and callable(getattr(array_api_strict, name))
        and not isinstance(getattr(array_api_strict, name), type)
    }
    names -= {"linalg", "fft"}
    names |= {f"linalg.{name}" for name in array_api_strict.linalg.__all__}
    names |= {f"fft.{name}" for name in array_api_strict.fft.__all__}
    return names


# Functions the table says are not run at all (those with dtypes run on the other dtypes).
NOT_RUN = {name for name, deviation in DEVIATIONS.items() if not deviation.dtypes}


def test_every_function_of_the_standard_is_checked_or_listed_as_a_deviation() -> None:
    checked = set(FUNCTIONS) | CREATION | DTYPE_FUNCTIONS
    assert standard_functions() - checked - NOT_RUN == set()
    assert not checked & NOT_RUN, "a function is both checked and listed as not run"


def test_the_docs_show_the_deviations_table() -> None:
    page = Path(__file__).resolve().parent.parent / "docs" / "array-api.md"
    assert render_table() in page.read_text()


def _dtypes(name: str, spec: Spec) -> Any:
    """The spec's dtype strategy, without the dtypes the deviations table names."""
    deviation = DEVIATIONS.get(name)
    strategy = _DTYPES[spec.dtypes]
    if deviation is None:
        return strategy
    return strategy.filter(lambda dtype: dtype.name not in deviation.dtypes)


# --- running a call on dualgrad and on the backend -------------------------------------------
def _resolve(namespace: Any, name: str) -> Callable[..., Any]:
    for part in name.split("."):
        namespace = getattr(namespace, part)
    return namespace


def _native(value: Any) -> Any:
    """Tensors replaced by their backend arrays (inside lists too)."""
    if isinstance(value, dualgrad.Tensor):
        return value.array
    if isinstance(value, list):
        return [_native(v) for v in value]
    if isinstance(value, dualgrad.DType):
        return dualgrad.get_backend().native_dtype(value)
    return value


def _numpy(value: Any) -> Any:
    """A result as NumPy arrays (tuples and lists of results as lists)."""
    if isinstance(value, tuple | list):
        return [_numpy(v) for v in value]
    if isinstance(value, dualgrad.Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def _assert_same(actual: Any, expected: Any, tolerance: float, what: str) -> None:
    if isinstance(expected, list):
        assert isinstance(actual, list), f"{what}: expected {len(expected)} results"
        assert len(actual) == len(expected), f"{what}: {len(actual)} results, not {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _assert_same(a, e, tolerance, f"{what}[{i}]")
        return
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    if expected.dtype.kind in "fc":
        rtol = (
            tolerance
            if expected.dtype.itemsize * (2 if expected.dtype.kind == "f" else 1) <= 8
            else tolerance**1.5
        )
        np.testing.assert_allclose(
            actual, expected, rtol=rtol, atol=rtol, equal_nan=True, err_msg=what
        )
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=what)


_DTYPES = {
    FLOAT: xps.floating_dtypes(),
    NUMERIC: xps.integer_dtypes() | xps.unsigned_integer_dtypes(sizes=8) | xps.floating_dtypes(),
    INTEGER: xps.integer_dtypes() | xps.unsigned_integer_dtypes(sizes=8),
    BOOL: xps.boolean_dtypes(),
}


@pytest.mark.parametrize("name", sorted(set(FUNCTIONS) - NOT_RUN))
def test_values_match_the_backend(name: str, backend: Any) -> None:
    spec = FUNCTIONS[name]
    function, reference = _resolve(dualgrad, name), _resolve(backend.namespace, name)

    @SETTINGS
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        call = spec.draw(data, _dtypes(name, spec), FLOATS)
        kwargs = {key: _native(value) for key, value in call.kwargs.items()}
        # Inputs outside a function's domain are fair: both sides must give nan there.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = reference(*_native(list(call.args)), **kwargs)
            actual = function(*call.args, **call.kwargs)
        actual, expected = _numpy(actual), _numpy(expected)
        if spec.invariant is not None:
            actual, expected = spec.invariant(actual), spec.invariant(expected)
        _assert_same(actual, expected, spec.tolerance, name)

    check()


# --- gradients against finite differences ------------------------------------------------------
GRADIENT_FLOATS_STEP = 1e-6


def _leaves(value: Any) -> list[dualgrad.Tensor]:
    """The floating Tensors among the arguments (inside lists too), in order."""
    if isinstance(value, dualgrad.Tensor):
        return [value] if value.dtype.is_floating_point else []
    if isinstance(value, list | tuple):
        return [leaf for v in value for leaf in _leaves(v)]
    return []


def _replace(value: Any, leaves: list[Any]) -> Any:
    """``value`` with its floating Tensors replaced, in order, by ``leaves`` (consumed)."""
    if isinstance(value, dualgrad.Tensor) and value.dtype.is_floating_point:
        return leaves.pop(0)
    if isinstance(value, list | tuple):
        return (
            type(value)(_replace(v, leaves) for v in value)
            if isinstance(value, list)
            else tuple(_replace(v, leaves) for v in value)
        )
    return value


def _outputs(result: Any) -> list[dualgrad.Tensor]:
    """The floating Tensors of a result (a Tensor, or a tuple or list of them)."""
    if isinstance(result, dualgrad.Tensor):
        return [result] if result.dtype.is_floating_point else []
    return [t for part in result for t in _outputs(part)]


def _pairing(outputs: list[dualgrad.Tensor], cotangents: list[np.ndarray]) -> dualgrad.Tensor:
    """``sum_i <outputs_i, cotangents_i>``: a scalar whose gradient is the VJP."""
    total = dualgrad.asarray(0.0, dtype=dualgrad.float64)
    for out, u in zip(outputs, cotangents, strict=True):
        total = total + dualgrad.sum(out * dualgrad.asarray(u))
    return total


@pytest.mark.parametrize(
    "name", sorted(n for n, spec in FUNCTIONS.items() if spec.grad_range and n not in NOT_RUN)
)
def test_gradients_match_finite_differences(name: str, backend: Any) -> None:
    """Reverse and forward mode against central differences along a random direction."""
    spec = FUNCTIONS[name]
    function = _resolve(dualgrad, name)
    low, high = spec.grad_range
    elements = {"min_value": low, "max_value": high, "allow_nan": False}

    @SETTINGS
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        call = spec.draw(data, st.just(dualgrad.float64), elements)
        primals = _leaves([list(call.args), list(call.kwargs.values())])
        assume(primals and all(p.numel() for p in primals))
        # Ties are kinks of max, min and sort (and zero spreads of std): distinct values only.
        values = np.concatenate([p.numpy().ravel() for p in primals])
        # Values closer than the finite-difference step are ties for the numerical derivative.
        gaps = np.diff(np.sort(values))
        assume(spec.symmetric or not gaps.size or np.min(gaps) > 100 * GRADIENT_FLOATS_STEP)
        if spec.symmetric:
            # Repeated eigenvalues are kinks of the eigen-decomposition: well separated only.
            spectrum = np.linalg.eigvalsh(primals[0].numpy())
            assume(spectrum.shape[-1] < 2 or np.min(np.diff(spectrum, axis=-1)) > 1e-2)

        def f(*leaves: dualgrad.Tensor) -> Any:
            args, kwargs = _replace([list(call.args), list(call.kwargs.values())], list(leaves))
            return function(*args, **dict(zip(call.kwargs, kwargs, strict=True)))

        outputs = _outputs(f(*primals))
        assume(outputs and any(o.numel() for o in outputs))
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
        cotangents = [rng.standard_normal(o.shape) for o in outputs]
        directions = [rng.standard_normal(p.shape) for p in primals]
        if spec.symmetric:
            directions = [(v + np.swapaxes(v, -1, -2)) / 2 for v in directions]

        def along(step: float) -> float:
            moved = [
                p + step * dualgrad.asarray(v) for p, v in zip(primals, directions, strict=True)
            ]
            return _pairing(_outputs(f(*moved)), cotangents).item()

        with dualgrad.no_grad():
            numerical = (along(GRADIENT_FLOATS_STEP) - along(-GRADIENT_FLOATS_STEP)) / (
                2 * GRADIENT_FLOATS_STEP
            )
        # reverse mode: <J^T u, v>
        leaves = [p.detach().requires_grad_() for p in primals]
        total = _pairing(_outputs(f(*leaves)), cotangents)
        grads = (
            dualgrad.autograd.grad(total, leaves, allow_unused=True)
            if total.requires_grad  # else it does not depend on the inputs (matrix_power(x, 0))
            else [None] * len(leaves)
        )
        reverse = builtins.sum(
            float(np.sum(g.numpy() * v))
            for g, v in zip(grads, directions, strict=True)
            if g is not None
        )
        # forward mode: <u, J v>
        tangents = tuple(dualgrad.asarray(v) for v in directions)
        _, forward = dualgrad.jvp(
            lambda *xs: _pairing(_outputs(f(*xs)), cotangents), tuple(primals), tangents
        )
        scale = 1.0 + abs(numerical)
        assert abs(reverse - numerical) <= 1e-5 * scale, (
            f"reverse {reverse} vs numerical {numerical}"
        )
        assert abs(forward.item() - numerical) <= 1e-5 * scale, (
            f"forward {forward.item()} vs numerical {numerical}"
        )

    check()


# --- creation functions, data-type functions, the namespace ------------------------------------
def _creation_call(name: str, data: st.DataObject) -> Call:
    dtype = data.draw(xps.floating_dtypes() | xps.integer_dtypes(sizes=64), label="dtype")
    shape = data.draw(SHAPES, label="shape")
    like = data.draw(xps.arrays(dtype, shape, elements=_elements(dtype, FLOATS)), label="x")
    if name == "arange":
        start, stop = data.draw(st.integers(-5, 5)), data.draw(st.integers(-5, 5))
        step = data.draw(st.sampled_from([1, 2, -1, -3]))
        return Call((start, stop, step), {"dtype": dtype})
    if name == "linspace":
        num = data.draw(st.integers(0, 5))
        endpoint = data.draw(st.booleans())
        return Call((-1.5, 2.0, num), {"dtype": dualgrad.float64, "endpoint": endpoint})
    if name == "eye":
        rows, cols = data.draw(st.integers(0, 4)), data.draw(st.none() | st.integers(0, 4))
        return Call((rows, cols), {"k": data.draw(st.integers(-3, 3)), "dtype": dtype})
    if name in ("zeros", "ones", "empty"):
        return Call((shape,), {"dtype": dtype})
    if name == "full":
        return Call((shape, 3), {"dtype": dtype})
    if name == "full_like":
        return Call((like, 2), {})
    if name in ("zeros_like", "ones_like", "empty_like"):
        return Call((like,), {"dtype": data.draw(st.none() | st.just(dtype))})
    if name == "asarray":
        return Call((like.tolist(),), {"dtype": dtype})
    assert name == "from_dlpack"
    return Call((like,), {})  # a Tensor, through its __dlpack__


@pytest.mark.parametrize("name", sorted(CREATION))
def test_creation_functions_match_the_backend(name: str, backend: Any) -> None:
    function, reference = _resolve(dualgrad, name), _resolve(backend.namespace, name)

    @SETTINGS
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        call = _creation_call(name, data)
        kwargs = {key: _native(value) for key, value in call.kwargs.items()}
        expected = _numpy(reference(*_native(list(call.args)), **kwargs))
        actual = _numpy(function(*call.args, **call.kwargs))
        if name.startswith("empty"):  # values unspecified: shape and dtype only
            actual, expected = np.zeros_like(actual), np.zeros_like(expected)
        _assert_same(actual, expected, 1e-6, name)

    check()


def test_asarray_keeps_a_tensor_and_its_graph_and_wraps_backend_arrays(backend: Any) -> None:
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    assert dualgrad.asarray(x) is x
    wrapped = dualgrad.asarray(x.detach().array)
    assert isinstance(wrapped, dualgrad.Tensor)
    assert wrapped.backend is backend


def test_asarray_puts_numpy_and_python_data_on_the_active_backend(backend: Any) -> None:
    """As library code makes its constants: NumPy arrays keep their dtype, Python numbers take
    dualgrad's defaults, and all of them meet the active backend's Tensors."""
    cases = {
        "NumPy array": (np.array([1, 2], dtype=np.int8), dualgrad.int8),
        "NumPy scalar": (np.float32(0.5), dualgrad.float32),
        "list": ([1.0, 2.0], dualgrad.get_default_dtype()),
        "bool": (True, dualgrad.bool),
    }
    for what, (data, dtype) in cases.items():
        made = dualgrad.asarray(data)
        assert (made.backend, made.dtype) == (backend, dtype), what
        np.testing.assert_array_equal(made.numpy(), np.asarray(data, dtype=dtype.name))
    converted = dualgrad.asarray(np.ones(2, dtype=np.int8), dtype=dualgrad.int16)
    assert (converted.backend, converted.dtype) == (backend, dualgrad.int16)


def test_asarray_wraps_another_library_s_array_as_it_is(backend: Any) -> None:
    """A JAX or array-api-strict array is not copied into the active library: it keeps its own
    backend (without a copy), whichever backend is active."""
    native = backend.from_numpy(np.array([1.0, 2.0], dtype=np.float32))
    with dualgrad.use_backend("numpy"):
        wrapped = dualgrad.asarray(native, copy=False)
    assert wrapped.backend is backend
    assert wrapped.array is native


def test_asarray_copies_as_asked(backend: Any) -> None:
    """copy=True copies; copy=False shares, or raises ValueError where a copy is needed."""
    data = np.array([1.0, 2.0], dtype=np.float32)
    assert not np.shares_memory(dualgrad.asarray(data, copy=True).numpy(), data)
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    assert dualgrad.asarray(x, copy=False) is x
    assert dualgrad.asarray(x, copy=True) is not x
    needs_a_copy = [
        lambda: dualgrad.asarray([1.0, 2.0], copy=False),
        lambda: dualgrad.asarray(x, dtype=dualgrad.float16, copy=False),
        lambda: dualgrad.asarray(data, dtype="float16", copy=False),
    ]
    if backend.name != "numpy":  # NumPy data moves into another library
        needs_a_copy.append(lambda: dualgrad.asarray(data, copy=False))
    for make in needs_a_copy:
        with pytest.raises(ValueError, match="copy=False forbids"):
            make()


def test_asarray_refuses_what_it_cannot_hold(backend: Any) -> None:
    """An unsupported dtype is a TypeError naming dualgrad's; a Tensor does not change device."""
    with pytest.raises(TypeError, match="dualgrad has no dtype datetime64"):
        dualgrad.asarray(np.array([1, 2], dtype="datetime64[s]"))
    x = dualgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="cannot move from device"):
        dualgrad.asarray(x, device="elsewhere")
    assert dualgrad.asarray(x, device=x.device) is x


_STRICT_DTYPES = [
    dtype
    for dtype in dualgrad.__array_namespace_info__().dtypes().values()
    if hasattr(array_api_strict, dtype.name) and dtype.name != "float16"
]


def _strict(dtype: dualgrad.DType) -> Any:
    return getattr(array_api_strict, dtype.name)


@pytest.mark.parametrize("source", _STRICT_DTYPES, ids=str)
def test_dtype_functions_agree_with_array_api_strict(source: dualgrad.DType) -> None:
    """can_cast, result_type, isdtype, finfo and iinfo as the reference implementation has them
    (result_type across kinds is not the standard's, and array_api_strict refuses it)."""
    for target in _STRICT_DTYPES:
        assert dualgrad.can_cast(source, target) == array_api_strict.can_cast(
            _strict(source), _strict(target)
        ), (source, target)
        try:
            expected = array_api_strict.result_type(_strict(source), _strict(target))
        except TypeError:
            continue
        assert _strict(dualgrad.result_type(source, target)) == expected, (source, target)
    kinds = ["bool", "signed integer", "unsigned integer", "integral", "real floating"]
    kinds += ["complex floating", "numeric"]
    for kind in kinds:
        assert dualgrad.isdtype(source, kind) == array_api_strict.isdtype(_strict(source), kind)
    info, expected_info = (
        (dualgrad.finfo(source), array_api_strict.finfo(_strict(source)))
        if source.kind in "fc"
        else (dualgrad.iinfo(source), array_api_strict.iinfo(_strict(source)))
        if source.kind in "iu"
        else (None, None)
    )
    if info is not None:
        for field in ("bits", "eps", "max", "min", "smallest_normal"):
            if hasattr(expected_info, field):
                assert getattr(info, field) == getattr(expected_info, field), field


@SETTINGS
@given(shapes=st.integers(1, 3).flatmap(xps.mutually_broadcastable_shapes))
def test_broadcast_shapes_agrees_with_numpy(shapes: Any) -> None:
    assert dualgrad.broadcast_shapes(*shapes.input_shapes) == shapes.result_shape


def test_the_namespace_describes_itself() -> None:
    x = dualgrad.tensor([1.0])
    assert array_api_compat.array_namespace(x) is dualgrad
    assert array_api_compat.is_array_api_obj(x)
    assert x.__array_namespace__(api_version="2023.12") is dualgrad
    with pytest.raises(ValueError, match=r"2099\.12"):
        x.__array_namespace__(api_version="2099.12")
    info = dualgrad.__array_namespace_info__()
    assert info.default_dtypes()["real floating"] is dualgrad.get_default_dtype()
    assert set(info.capabilities()) == {
        "boolean indexing",
        "data-dependent shapes",
        "max dimensions",
    }
    assert info.default_device() in info.devices()
    assert set(info.dtypes(kind="real floating").values()) <= {
        dualgrad.float16,
        dualgrad.float32,
        dualgrad.float64,
    }
