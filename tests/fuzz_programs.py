"""Random programs for the fuzzer: small DAGs of the op table's variants, on any framework.

A ``Program`` has a few leaves and up to ten steps. Each step runs one variant of the op table
(``op_db.VARIANTS``, so every primitive of the registry takes part, through its public entry
point). A step's floating inputs are earlier values moved into the variant's domain by the smooth
map ``x0 + r * tanh(a)``: ``x0`` is drawn by the spec's own sampler (inside the domain, and
continuous, so that no two elements tie at a kink of max, abs or sort), ``r`` is small enough to
stay inside, and ``a`` is the earlier value broadcast, reshaped or summed to fit. Inputs without
derivatives (masks, integers) are the spec's samples, or earlier values of their dtype.
Elementwise variants get random shapes that broadcast together, 0-d and size-0 ones included.

The same program runs on dualgrad (any backend), on PyTorch and on JAX through a ``Frame``, so
that gradients can be compared between them; a program's numbers all come from its ``seed``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from op_db import VARIANTS, Variant
from op_db_linalg import MatrixArg
from rule_checks import make_tensor, to_backend
from tensors import values as tensor_values

import dualgrad
from dualgrad import backends

Shape = tuple[int, ...]
MAX_STEPS = 10
MATRIX_RADIUS = 0.05  # keeps structured matrices (SPD, gaps between eigenvalues) as they are
VARIANT_BY_ID = {variant.id: variant for variant in VARIANTS}


@dataclass(frozen=True)
class Step:
    """One operation: a variant of the op table, its input shapes and where the inputs come from.

    ``sources[i]`` indexes the program's values (its leaves, then each step's output); ``None``
    means a constant drawn by the spec's sampler.
    """

    op: str
    shapes: tuple[Shape, ...]
    sources: tuple[int | None, ...]

    @property
    def variant(self) -> Variant:
        return VARIANT_BY_ID[self.op]


@dataclass(frozen=True)
class Program:
    """Leaves of the given shapes, then the steps; every number drawn from ``seed``."""

    dtype: str
    leaves: tuple[Shape, ...]
    steps: tuple[Step, ...]
    seed: int

    def rng(self, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, stream])

    def leaf_values(self) -> list[np.ndarray]:
        """The leaves' values, as float64 NumPy arrays."""
        rng = self.rng(1)
        return [rng.uniform(-2.0, 2.0, shape) for shape in self.leaves]

    def run(self, frame: Frame, leaves: Sequence[Any]) -> list[Any]:
        """Every value of the program in ``frame``: the leaves, then each step's output."""
        rng = self.rng(0)
        values = list(leaves)
        for step in self.steps:
            values.append(_run_step(frame, step, values, rng))
        return values

    def outputs(self, frame: Frame, leaves: Sequence[Any]) -> list[Any]:
        """The floating values the steps computed: what the checks differentiate."""
        values = self.run(frame, leaves)[len(self.leaves) :]
        return [value for value in values if frame.is_floating(value)]


def _run_step(frame: Frame, step: Step, values: list[Any], rng: np.random.Generator) -> Any:
    variant = step.variant
    inputs = []
    for arg, shape, source in zip(variant.args, step.shapes, step.sources, strict=True):
        # Draw every constant whatever the sources, so the stream is the same in every frame.
        x0 = variant.spec.sample(rng, arg, shape)
        if x0.dtype.kind != "f":
            inputs.append(frame.const(x0) if source is None else values[source])
            continue
        if not variant.spec.prim.differentiable(len(inputs)):
            # A float without rules (nll_loss's class weight) is a constant: finite differences
            # would see through it where the gradient stops by design.
            inputs.append(frame.const(x0.astype(frame.dtype)))
            continue
        x0 = x0.astype(frame.dtype)
        pull = frame.cast(frame.tanh(_fit(frame, values[source], shape)))
        inputs.append(frame.const(x0) + frame.const(_radius(variant, arg, x0)) * pull)
    return frame.run(variant, inputs)


def _radius(variant: Variant, arg: Any, x0: np.ndarray) -> np.ndarray:
    """How far each element of ``x0`` may move and stay inside the spec's interval."""
    if isinstance(arg, MatrixArg):
        return np.full_like(x0, MATRIX_RADIUS)
    low = variant.spec.low if arg.low is None else arg.low
    high = variant.spec.high if arg.high is None else arg.high
    magnitude = np.abs(x0) if arg.signed else x0
    return np.asarray(0.5 * np.minimum(magnitude - low, high - magnitude), dtype=x0.dtype)


def _fit(frame: Frame, value: Any, shape: Shape) -> Any:
    """``value`` made to broadcast to ``shape``: as it is, reshaped, or summed to a scalar."""
    if broadcasts_to(tuple(value.shape), shape):
        return value
    if math.prod(value.shape) == math.prod(shape):
        return frame.reshape(value, shape)
    return frame.sum(value)


def broadcasts_to(shape: Shape, target: Shape) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` (without growing it)."""
    if len(shape) > len(target):
        return False
    return all(s in (1, t) for s, t in zip(shape[::-1], target[::-1], strict=False))


# --- frames: one per framework ----------------------------------------------------------------
class Frame:
    """What a program needs from a framework: constants, a few functions, and the variants."""

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype

    def is_floating(self, value: Any) -> bool:
        return np.dtype(str(value.dtype).removeprefix("torch.")).kind == "f"


class DualgradFrame(Frame):
    """dualgrad on one backend; values are Tensors."""

    def __init__(self, dtype: str, backend: Any = None) -> None:
        super().__init__(dtype)
        self.backend = backend or backends.get_backend_by_name("numpy")

    def leaf(self, values: np.ndarray, *, requires_grad: bool = True) -> Any:
        return make_tensor(self.backend, values, self.dtype, requires_grad=requires_grad)

    def const(self, array: np.ndarray) -> Any:
        return make_tensor(self.backend, array, array.dtype.name)

    def tanh(self, x: Any) -> Any:
        return dualgrad.tanh(x)

    def reshape(self, x: Any, shape: Shape) -> Any:
        return dualgrad.reshape(x, shape)

    def sum(self, x: Any) -> Any:
        return dualgrad.sum(x)

    def cast(self, x: Any) -> Any:
        return (
            x if x.dtype.name == self.dtype else dualgrad.astype(x, getattr(dualgrad, self.dtype))
        )

    def is_floating(self, value: Any) -> bool:
        return value.dtype.is_floating_point

    def run(self, variant: Variant, inputs: list[Any]) -> Any:
        return variant.spec.run(inputs, to_backend(variant.params, self.backend))


class TorchFrame(Frame):
    """PyTorch, through the op table's PyTorch counterparts."""

    def __init__(self, dtype: str, torch: Any, counterparts: dict[str, Any]) -> None:
        super().__init__(dtype)
        self.torch = torch
        self.counterparts = counterparts

    def leaf(self, values: np.ndarray) -> Any:
        return self.torch.from_numpy(values.astype(self.dtype)).requires_grad_(True)

    def const(self, array: np.ndarray) -> Any:
        return self.torch.from_numpy(np.array(array))  # a copy, and 0-d arrays stay arrays

    def tanh(self, x: Any) -> Any:
        return self.torch.tanh(x)

    def reshape(self, x: Any, shape: Shape) -> Any:
        return self.torch.reshape(x, shape)

    def sum(self, x: Any) -> Any:
        return self.torch.sum(x)

    def cast(self, x: Any) -> Any:
        return x.to(getattr(self.torch, self.dtype))

    def run(self, variant: Variant, inputs: list[Any]) -> Any:
        counterpart = variant.spec.torch or self.counterparts[variant.spec.name]
        return counterpart(self.torch, inputs, variant.params)


class JaxFrame(Frame):
    """JAX, through jax.numpy's function of each primitive's name."""

    def __init__(self, dtype: str, counterpart: Any) -> None:
        import jax.numpy as jnp

        super().__init__(dtype)
        self.jnp = jnp
        self.counterpart = counterpart  # variant -> jax.numpy function

    def const(self, array: np.ndarray) -> Any:
        return self.jnp.asarray(array)

    def tanh(self, x: Any) -> Any:
        return self.jnp.tanh(x)

    def reshape(self, x: Any, shape: Shape) -> Any:
        return self.jnp.reshape(x, shape)

    def sum(self, x: Any) -> Any:
        return self.jnp.sum(x)

    def cast(self, x: Any) -> Any:
        return x.astype(self.dtype)

    def run(self, variant: Variant, inputs: list[Any]) -> Any:
        function = self.counterpart(variant)
        if variant.spec.prim.variadic:  # concat takes its arrays as one sequence
            return function(inputs, **variant.params)
        return function(*inputs, **variant.params)


# --- drawing programs ------------------------------------------------------------------------
def _float_without_rules(variant: Variant) -> bool:
    """A primitive declared non-differentiable whose output is a float (``nextafter``).

    Its output stops gradients by design, while finite differences see through it.
    """
    if variant.spec.differentiable:
        return False
    out = variant.spec.expected(variant.sample_inputs(), variant.params)
    return out.dtype.kind == "f"


def _pool_key(variant: Variant) -> Any:
    if variant.spec.prim.elementwise:
        return (variant.spec.name, variant.spec.label, repr(variant.params))
    return variant.id


class Pool(tuple):
    """Variants to draw steps from, named (hypothesis shows strategies' arguments)."""

    name: str

    def __new__(cls, name: str, variants: Sequence[Variant]) -> Pool:
        # Elementwise variants differ only in shapes, which the fuzzer draws: keep one each.
        kept = {_pool_key(v): v for v in variants if not _float_without_rules(v)}
        pool = super().__new__(cls, kept.values())
        pool.name = name
        return pool

    def __repr__(self) -> str:
        return f"<{len(self)} variants: {self.name}>"


def _dims() -> st.SearchStrategy[int]:
    # Mostly 1 to 4; one draw in ten is an empty axis.
    return st.integers(0, 9).map(lambda k: 0 if k == 9 else k % 4 + 1)


def shapes() -> st.SearchStrategy[Shape]:
    """Shapes of rank 0 to 3."""
    return st.lists(_dims(), max_size=3).map(tuple)


@st.composite
def _broadcastable_to(draw: Any, target: Shape) -> Shape:
    """A shape that broadcasts to ``target``: a suffix of it with some axes set to 1."""
    kept = target[draw(st.integers(0, len(target))) :]
    return tuple(1 if draw(st.booleans()) else size for size in kept)


def _broadcasts(variant: Variant) -> bool:
    """Whether the variant runs through a public function, which broadcasts its operands.

    A primitive without one is applied directly, and primitives see operands of one shape.
    """
    return variant.spec.call is not None or hasattr(dualgrad, variant.spec.name)


@st.composite
def _step(draw: Any, pool: Sequence[Variant], values: list[Any], frame: Frame) -> Step:
    variant = draw(st.sampled_from(pool))
    if variant.spec.prim.elementwise:
        target = draw(shapes())
        step_shapes = tuple(
            draw(_broadcastable_to(target)) if _broadcasts(variant) else target
            for _ in variant.shapes
        )
    else:
        step_shapes = variant.shapes
    floating = [k for k, value in enumerate(values) if frame.is_floating(value)]
    sources: list[int | None] = []
    for arg, shape in zip(variant.args, step_shapes, strict=True):
        if np.dtype(arg.dtype).kind == "f":
            sources.append(draw(st.sampled_from(floating)))
            continue
        fits = [
            k
            for k, value in enumerate(values)
            if value.dtype.name == arg.dtype
            and (
                tuple(value.shape) == shape
                or (variant.spec.prim.elementwise and broadcasts_to(tuple(value.shape), shape))
            )
            and _within(variant, arg, value)
        ]
        sources.append(draw(st.sampled_from([None, *fits])))
    return Step(variant.id, step_shapes, tuple(sources))


def _within(variant: Variant, arg: Any, value: Any) -> bool:
    """Whether an earlier integer value lies in the interval ``arg`` draws from: a class index
    or a count out of it would fail by design, not find a bug."""
    if not arg.dtype.startswith("int"):
        return True
    low = variant.spec.low if arg.low is None else arg.low
    high = variant.spec.high if arg.high is None else arg.high
    found = tensor_values(value)
    return bool(found.size == 0 or (found.min() >= low and found.max() < high))


@st.composite
def programs(draw: Any, pool: Sequence[Variant], dtypes: Sequence[str]) -> Program:
    """Random programs over ``pool`` in one of ``dtypes``.

    Steps are drawn one at a time and run on NumPy as they are drawn, so that later steps know
    the shapes and dtypes of the values they can read.
    """
    dtype = draw(st.sampled_from(dtypes))
    leaves = tuple(draw(st.lists(shapes(), min_size=1, max_size=3)))
    seed = draw(st.integers(0, 2**32 - 1))
    frame = DualgradFrame(dtype)
    steps: list[Step] = []
    with dualgrad.no_grad():
        program = Program(dtype, leaves, (), seed)
        values = [frame.leaf(x, requires_grad=False) for x in program.leaf_values()]
        for _ in range(draw(st.integers(1, MAX_STEPS))):
            steps.append(draw(_step(pool, values, frame)))
            program = Program(dtype, leaves, tuple(steps), seed)
            values = program.run(frame, values[: len(leaves)])
    return program
