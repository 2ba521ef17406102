"""One line per primitive: which inputs to try, where they are valid, and which params.

Every ``OpSpec`` expands into variants (its shapes times its params, or its explicit ``cases``);
``tests/test_rules.py`` runs every check on every variant and backend. Params are canonical, as
the rule contract in ``dualgrad/ops/_primitive.py`` says: axes are tuples of negative ints, and
index keys are tuples whose arrays are NumPy here (converted to the backend's arrays per test).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import dualgrad
from dualgrad import _dispatch, ops
from dualgrad.ops import Primitive

Shape = tuple[int, ...]
Params = dict[str, Any]


@dataclass(frozen=True)
class Arg:
    """How to draw one input: its dtype and, for numbers, the interval ``[low, high)``.

    ``signed`` draws magnitudes from the interval with random signs (a domain away from zero);
    ``None`` bounds mean the spec's ``low`` and ``high``.
    """

    dtype: str = "float64"
    low: float | None = None
    high: float | None = None
    signed: bool = False


REAL = Arg()
BOOL = Arg("bool")
INT = Arg("int64", -8, 8)
NONZERO = Arg(low=0.5, high=2.0, signed=True)


@dataclass(frozen=True)
class Variant:
    """One concrete check: a spec, one shape per input, and canonical params."""

    spec: OpSpec
    shapes: tuple[Shape, ...]
    params: Params
    id: str

    def __str__(self) -> str:
        return self.id

    def rng(self, stream: int = 0) -> np.random.Generator:
        """A generator seeded by the variant's id, so a test's data never depends on order."""
        return np.random.default_rng([zlib.crc32(self.id.encode()), stream])

    def sample_inputs(self) -> list[np.ndarray]:
        """The primal inputs, as NumPy arrays of the spec's dtypes."""
        rng = self.rng()
        return [
            self.spec.sample(rng, arg, shape)
            for arg, shape in zip(self.args, self.shapes, strict=True)
        ]

    @property
    def args(self) -> tuple[Arg, ...]:
        return self.spec.args or (REAL,) * len(self.shapes)


def _public(name: str) -> Callable[..., Any]:
    function = getattr(dualgrad, name)
    return lambda tensors, params: function(*tensors, **params)


def _apply(prim: Primitive) -> Callable[..., Any]:
    return lambda tensors, params: _dispatch.apply(prim, tuple(tensors), params)


def _numpy(name: str) -> Callable[..., Any]:
    function = getattr(np, name)
    return lambda arrays, params: function(*arrays, **params)


@dataclass(frozen=True)
class OpSpec:
    """A primitive's test line.

    Args:
        prim: the primitive.
        shapes: input shapes to try, one tuple of shapes per variant.
        params: params to try with each shapes entry (combinations that do not fit, such as an
            axis beyond a shape's rank, are dropped).
        cases: explicit ``(shapes, params)`` pairs, instead of ``shapes`` times ``params``.
        low, high: the interval real inputs are drawn from, unless ``args`` says otherwise.
        args: per input, how to draw it (default: ``REAL`` for every input).
        call: runs the operation on Tensors, ``(tensors, params) -> Tensor``, through the public
            function of the primitive's name unless given.
        reference: computes the forward on NumPy arrays, ``(arrays, params) -> array``, through
            NumPy's function of the primitive's name unless given.
        xfail: known failures, ``{backend name or test name: why}``.
        label: added to the variant ids when one primitive has several lines.
        torch: PyTorch's counterpart, ``(torch, tensors, params) -> tensor``, for the check of
            gradients against PyTorch (test_rules.TORCH_OPS covers the core set).
    """

    prim: Primitive
    shapes: Sequence[tuple[Shape, ...]] = ()
    params: Sequence[Params | Callable[[tuple[Shape, ...]], Params]] = ({},)
    cases: Sequence[tuple[tuple[Shape, ...], Params]] = ()
    low: float = -2.0
    high: float = 2.0
    args: tuple[Arg, ...] | None = None
    call: Callable[..., Any] | None = None
    reference: Callable[..., Any] | None = None
    xfail: Mapping[str, str] = field(default_factory=dict)
    label: str = ""
    torch: Callable[..., Any] | None = None

    @property
    def name(self) -> str:
        return self.prim.name

    @property
    def differentiable(self) -> bool:
        """Whether any input has derivative rules."""
        nin = max((len(shapes) for shapes in self.all_shapes()), default=1)
        return any(self.prim.differentiable(i) for i in range(nin))

    def all_shapes(self) -> list[tuple[Shape, ...]]:
        return [shapes for shapes, _ in self.cases] or list(self.shapes)

    def run(self, tensors: Sequence[Any], params: Params) -> Any:
        """The operation on Tensors, through its public entry point."""
        call = self.call or (
            _public(self.name) if hasattr(dualgrad, self.name) else _apply(self.prim)
        )
        return call(tensors, params)

    def expected(self, arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
        """The forward computed by NumPy, on NumPy arrays and the spec's (NumPy) params."""
        return np.asarray((self.reference or _numpy(self.name))(arrays, params))

    def sample(self, rng: np.random.Generator, arg: Arg, shape: Shape) -> np.ndarray:
        """One input drawn as ``arg`` says."""
        if arg.dtype == "bool":
            return np.asarray(rng.random(shape) < 0.5)
        low = self.low if arg.low is None else arg.low
        high = self.high if arg.high is None else arg.high
        if arg.dtype.startswith("int"):
            return np.asarray(rng.integers(low, high, shape), dtype=arg.dtype)
        values = rng.uniform(low, high, shape)
        if arg.signed:
            values = values * rng.choice([-1.0, 1.0], shape)
        if arg.dtype.startswith("complex"):  # the imaginary parts from the same interval
            values = values + 1j * rng.uniform(low, high, shape)
        return np.asarray(values, dtype=arg.dtype)

    def variants(self) -> list[Variant]:
        pairs = list(self.cases) or [
            (shapes, params(shapes) if callable(params) else params)
            for shapes in self.shapes
            for params in self.params
        ]
        return [
            Variant(self, shapes, params, _variant_id(self.name + self.label, shapes, params))
            for shapes, params in pairs
            if _fits(shapes, params)
        ]


# --- shapes and params ------------------------------------------------------------------------
def same(*shapes: Shape, nin: int) -> list[tuple[Shape, ...]]:
    """Each shape, given to all ``nin`` inputs (elementwise primitives see equal shapes)."""
    return [(shape,) * nin for shape in shapes]


ELEMENTWISE_SHAPES: tuple[Shape, ...] = ((3, 4), (), (2, 0))
UNARY = same(*ELEMENTWISE_SHAPES, nin=1)
BINARY = same(*ELEMENTWISE_SHAPES, nin=2)
TERNARY = same(*ELEMENTWISE_SHAPES, nin=3)
REDUCED = [((3, 4),), ((2, 3, 4),), ((),)]


def reduce(*axis: int, keepdims: bool = False) -> Params:
    """Reduction params over the given (negative) axes."""
    return {"axis": axis, "keepdims": keepdims}


def reduce_all(keepdims: bool = False) -> Callable[[tuple[Shape, ...]], Params]:
    """Reduction params over every axis of the input, as ``axis=None`` canonicalizes."""
    return lambda shapes: reduce(*range(-len(shapes[0]), 0), keepdims=keepdims)


REDUCTIONS = (
    reduce(-1),
    reduce(-1, keepdims=True),
    reduce(-3, -1),
    reduce_all(),
    reduce_all(keepdims=True),
)


def indexed(x_shape: Shape, *key: Any) -> tuple[tuple[Shape, ...], Params]:
    """A getitem case: ``x[key]``."""
    return (x_shape,), {"key": key}


def index_added(x_shape: Shape, *key: Any) -> tuple[tuple[Shape, ...], Params]:
    """An index_add case: values have the shape of ``x[key]``."""
    values_shape = np.zeros(x_shape)[key].shape
    return (x_shape, values_shape), {"key": key}


def _fits(shapes: tuple[Shape, ...], params: Params) -> bool:
    axis = params.get("axis")
    if isinstance(axis, tuple):
        return all(-len(shapes[0]) <= a < 0 for a in axis)
    return True


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        kind = "mask" if value.dtype == bool else "idx"
        return kind + "x".join(map(str, value.shape))
    if isinstance(value, slice):
        parts = ["" if v is None else str(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts).rstrip(":") or ":"
    if value is Ellipsis:
        return "..."
    if isinstance(value, tuple):
        return "(" + ",".join(_describe(v) for v in value) + ")"
    if isinstance(value, dualgrad.DType):
        return value.name
    return str(value)


def _shape_id(shape: Shape) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


def _variant_id(name: str, shapes: tuple[Shape, ...], params: Params) -> str:
    parts = [name, ",".join(_shape_id(shape) for shape in shapes)]
    parts += [
        key if value is True else f"{key}={_describe(value)}"
        for key, value in params.items()
        if value is not False
    ]
    return "-".join(parts)


# --- keys ---------------------------------------------------------------------------------------
REPEATS = np.array([0, 2, 2, 1])  # repeated indices: the vjp must add, not overwrite
COLUMNS = np.array([1, 1, 4, 0])
MASK = np.random.default_rng(7).random((4, 5)) < 0.5
KEYS = [
    # valid under the Array API standard as they are
    indexed((4, 5), slice(1, 3), slice(None, None, 2)),
    indexed((4, 5), -1, Ellipsis),
    indexed((3, 4, 5), None, Ellipsis, 0),
    indexed((4, 5), slice(2, 2), slice(None)),
    indexed((), None),
    indexed(()),
    indexed((4, 5), REPEATS, COLUMNS),
    indexed((4, 5), np.array([[0, 3], [3, 3]]), 2),
    indexed((4, 5), MASK),
    # NumPy's extensions: arrays beside slices, partial keys, advanced indices split apart
    indexed((4, 5), REPEATS),
    indexed((4, 5), slice(None), -COLUMNS),
    indexed((3, 4, 5), REPEATS[:3], slice(None), COLUMNS[:3]),
    indexed((3, 4, 5), REPEATS[:3], Ellipsis, COLUMNS[:3]),
    indexed((4, 5), slice(1, None), MASK[0]),
]
# Keys PyTorch reads otherwise: NumPy counts the 0 as an advanced index split from the array, so
# the index axis comes first, where PyTorch applies the 0 first (x[0][:, idx]); and PyTorch has
# no negative slice steps.
UNLIKE_TORCH_KEYS = [
    indexed((3, 4, 5), 0, slice(None), COLUMNS),
    indexed((4, 5), slice(None, None, -1), MASK[0]),
]


def _astype(tensors: Sequence[Any], params: Params) -> Any:
    return dualgrad.astype(tensors[0], params["dtype"])


def _concat(tensors: Sequence[Any], params: Params) -> Any:
    return dualgrad.concat(list(tensors), axis=params["axis"])


def _getitem(tensors: Sequence[Any], params: Params) -> Any:
    return tensors[0][params["key"]]


def _astype_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    return arrays[0].astype(params["dtype"].name)


def _concat_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    return np.concat(arrays, axis=params["axis"])


def _getitem_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    return arrays[0][params["key"]]


def _index_add_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    out = arrays[0].copy()
    np.add.at(out, params["key"], arrays[1])
    return out


# --- the table ----------------------------------------------------------------------------------
OP_DB: list[OpSpec] = [
    # linear
    OpSpec(ops.add, shapes=BINARY),
    OpSpec(ops.subtract, shapes=BINARY),
    OpSpec(ops.negative, shapes=UNARY),
    OpSpec(ops.positive, shapes=UNARY),
    OpSpec(
        ops.astype,
        shapes=UNARY,
        params=[{"dtype": dualgrad.float32}],
        call=_astype,
        reference=_astype_reference,
    ),
    OpSpec(
        ops.astype,
        shapes=UNARY,
        params=[{"dtype": dualgrad.float64}],
        args=(Arg("float32"),),
        call=_astype,
        reference=_astype_reference,
        label="-from-float32",
    ),
    # products and quotients
    OpSpec(ops.multiply, shapes=BINARY),
    OpSpec(ops.divide, shapes=BINARY, args=(REAL, NONZERO)),
    OpSpec(ops.pow, shapes=BINARY, args=(Arg(low=0.5, high=2.0), REAL)),
    OpSpec(
        ops.pow_scalar,
        shapes=UNARY,
        params=[{"exponent": c} for c in (2, 1, 0, -1.5, 5)],  # each branch of the rule
        low=0.5,
        call=lambda tensors, params: tensors[0] ** params["exponent"],
        reference=lambda arrays, params: arrays[0] ** params["exponent"],
        torch=lambda torch, tensors, params: tensors[0] ** params["exponent"],
    ),
    OpSpec(  # small integer powers, computed by multiplication, on bases of either sign
        ops.pow_scalar,
        shapes=UNARY,
        params=[{"exponent": c} for c in (3, 4, -2, -3, -4, 3.0, -1)],
        args=(NONZERO,),
        call=lambda tensors, params: tensors[0] ** params["exponent"],
        reference=lambda arrays, params: np.power(arrays[0], params["exponent"]),
        torch=lambda torch, tensors, params: tensors[0] ** params["exponent"],
        label="-integer",
    ),
    # transcendental
    OpSpec(ops.exp, shapes=UNARY),
    OpSpec(ops.log, shapes=UNARY, low=0.25),
    OpSpec(ops.sin, shapes=UNARY, low=-4.0, high=4.0),
    OpSpec(ops.cos, shapes=UNARY, low=-4.0, high=4.0),
    OpSpec(ops.tanh, shapes=UNARY),
    OpSpec(ops.sqrt, shapes=UNARY, low=0.25),
    OpSpec(ops.square, shapes=UNARY),
    OpSpec(ops.abs, shapes=UNARY, args=(NONZERO,)),
    # piecewise constant: zero derivatives away from the jumps
    OpSpec(ops.sign, shapes=UNARY, args=(NONZERO,)),
    OpSpec(ops.floor, shapes=UNARY),
    OpSpec(ops.ceil, shapes=UNARY),
    OpSpec(ops.trunc, shapes=UNARY),
    OpSpec(ops.round, shapes=UNARY),
    OpSpec(ops.remainder, shapes=BINARY, low=-3.0, high=3.0, args=(REAL, NONZERO)),
    # maximum, minimum, clip, where
    OpSpec(ops.maximum, shapes=BINARY),
    OpSpec(ops.minimum, shapes=BINARY),
    OpSpec(
        ops.clip, shapes=TERNARY, args=(REAL, Arg(low=-1.5, high=-0.5), Arg(low=0.5, high=1.5))
    ),
    OpSpec(ops.where, shapes=TERNARY, args=(BOOL, REAL, REAL)),
    # reductions
    OpSpec(ops.sum, shapes=[*REDUCED, ((0, 3),)], params=REDUCTIONS),
    OpSpec(ops.mean, shapes=REDUCED, params=REDUCTIONS),
    OpSpec(ops.max, shapes=REDUCED, params=REDUCTIONS),
    OpSpec(ops.min, shapes=REDUCED, params=REDUCTIONS),
    # shapes
    OpSpec(
        ops.reshape,
        cases=[
            (((3, 4),), {"shape": (2, 6)}),
            (((3, 4),), {"shape": (4, 1, 3)}),
            (((3, 4),), {"shape": (12,)}),
            (((),), {"shape": (1, 1)}),
            (((1, 1),), {"shape": ()}),
            (((0, 3),), {"shape": (3, 0)}),
        ],
    ),
    OpSpec(
        ops.permute_dims,
        cases=[
            (((2, 3, 4),), {"axes": (-1, -3, -2)}),
            (((3, 4),), {"axes": (-1, -2)}),
            (((0, 2, 3),), {"axes": (-2, -1, -3)}),
            (((),), {"axes": ()}),
        ],
    ),
    OpSpec(
        ops.broadcast_to,
        cases=[
            (((3, 1),), {"shape": (2, 3, 4)}),
            (((2, 1, 4),), {"shape": (2, 3, 4)}),
            (((4,),), {"shape": (2, 4)}),
            (((),), {"shape": (3,)}),
            (((1,),), {"shape": (0,)}),
            (((3, 4),), {"shape": (3, 4)}),
        ],
    ),
    OpSpec(
        ops.concat,
        cases=[
            (((2, 3), (4, 3)), {"axis": -2}),
            (((2, 3), (2, 1), (2, 0)), {"axis": -1}),
            (((3,), (0,)), {"axis": -1}),
        ],
        call=_concat,
        reference=_concat_reference,
    ),
    # linear algebra
    OpSpec(
        ops.matmul,
        shapes=[
            ((3, 4), (4, 2)),
            ((2, 3, 4), (2, 4, 5)),
            ((1, 4), (4, 1)),
            ((3, 0), (0, 2)),
            ((0, 4), (4, 2)),
        ],
    ),
    OpSpec(
        ops.matvec,
        shapes=[((3, 4), (4,)), ((1, 4), (4,)), ((3, 0), (0,)), ((0, 4), (4,))],
        call=lambda tensors, params: dualgrad.matmul(*tensors),
        reference=lambda arrays, params: arrays[0] @ arrays[1],
    ),
    # indexing
    OpSpec(ops.getitem, cases=KEYS, call=_getitem, reference=_getitem_reference),
    OpSpec(
        ops.getitem,
        cases=UNLIKE_TORCH_KEYS,
        call=_getitem,
        reference=_getitem_reference,
        xfail={"test_gradients_match_pytorch": "PyTorch reads these keys otherwise"},
    ),
    OpSpec(
        ops.index_add,
        cases=[
            index_added((5, 4), slice(1, 3), slice(None)),
            index_added((5, 4), np.array([0, 2, 2, 4]), 1),
            index_added((4, 5), REPEATS, COLUMNS),
            index_added((4, 5), MASK),
            index_added(()),
            index_added((4, 5), REPEATS),
            index_added((3, 4, 5), 0, slice(None), COLUMNS),
        ],
        reference=_index_add_reference,
        # The primitive itself: dualgrad.index_add is PyTorch's (dim, index, source) form.
        call=_apply(ops.index_add),
    ),
    # no gradients: comparisons, logic, bits, tests, integer division, boolean reductions
    OpSpec(ops.equal, shapes=BINARY),
    OpSpec(ops.not_equal, shapes=BINARY),
    OpSpec(ops.less, shapes=BINARY),
    OpSpec(ops.less_equal, shapes=BINARY),
    OpSpec(ops.greater, shapes=BINARY),
    OpSpec(ops.greater_equal, shapes=BINARY),
    OpSpec(ops.floor_divide, shapes=BINARY, args=(REAL, NONZERO)),
    OpSpec(ops.logical_and, shapes=BINARY, args=(BOOL, BOOL)),
    OpSpec(ops.logical_or, shapes=BINARY, args=(BOOL, BOOL)),
    OpSpec(ops.logical_xor, shapes=BINARY, args=(BOOL, BOOL)),
    OpSpec(ops.logical_not, shapes=UNARY, args=(BOOL,)),
    OpSpec(ops.bitwise_and, shapes=BINARY, args=(INT, INT)),
    OpSpec(ops.bitwise_or, shapes=BINARY, args=(INT, INT)),
    OpSpec(ops.bitwise_xor, shapes=BINARY, args=(INT, INT)),
    OpSpec(ops.bitwise_invert, shapes=UNARY, args=(INT,)),
    OpSpec(ops.isnan, shapes=UNARY),
    OpSpec(ops.isinf, shapes=UNARY),
    OpSpec(ops.isfinite, shapes=UNARY),
    OpSpec(ops.any, shapes=REDUCED, params=REDUCTIONS[:1] + REDUCTIONS[3:4]),
    OpSpec(ops.all, shapes=REDUCED, params=REDUCTIONS[:1] + REDUCTIONS[3:4]),
]

# The families' lines live in their own modules (they import the helpers above).
from op_db_array_api import SPECS as ARRAY_API_SPECS  # noqa: E402
from op_db_complex import SPECS as COMPLEX_SPECS  # noqa: E402
from op_db_elementwise import SPECS as ELEMENTWISE_SPECS  # noqa: E402
from op_db_fft import SPECS as FFT_SPECS  # noqa: E402
from op_db_linalg import SPECS as LINALG_SPECS  # noqa: E402
from op_db_nn import SPECS as NN_SPECS  # noqa: E402
from op_db_reduce import SPECS as REDUCE_SPECS  # noqa: E402
from op_db_shape import SPECS as SHAPE_SPECS  # noqa: E402
from op_db_special import SPECS as SPECIAL_SPECS  # noqa: E402

OP_DB += [
    *ARRAY_API_SPECS,
    *COMPLEX_SPECS,
    *ELEMENTWISE_SPECS,
    *FFT_SPECS,
    *LINALG_SPECS,
    *NN_SPECS,
    *REDUCE_SPECS,
    *SHAPE_SPECS,
    *SPECIAL_SPECS,
]

VARIANTS: list[Variant] = [variant for spec in OP_DB for variant in spec.variants()]
DIFFERENTIABLE = [variant for variant in VARIANTS if variant.spec.differentiable]
NONDIFFERENTIABLE = [variant for variant in VARIANTS if not variant.spec.differentiable]

_ids = [variant.id for variant in VARIANTS]
assert len(set(_ids)) == len(_ids), "variant ids must be unique"
