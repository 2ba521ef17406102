"""Random programs, differentiated on every backend in both modes and checked every way we can.

Programs come from ``fuzz_programs``: DAGs of up to ten variants of the op table, with random
shapes (0-d, size-0, broadcasting) in float32 and float64. Each program's ``backward()`` (reverse
or forward mode, as the ``mode`` fixture says) must agree with forward mode's ``jvp`` (the
dot-product test ``<u, J v> == <J^T u, v>``) and with central finite differences of the program
in float64; where PyTorch or JAX is installed, with their gradients of the same program.

The hypothesis profiles are registered in ``tests/conftest.py``: ``ci`` (the default) runs a few
hundred programs; ``pytest --hypothesis-profile=long tests/test_fuzz.py`` runs many more.
Failures found are kept below as explicit examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from backend_limits import limit_reason
from fuzz_programs import DualgradFrame, JaxFrame, Pool, Program, Step, TorchFrame, programs
from hypothesis import given, settings
from hypothesis import strategies as st
from op_db import DIFFERENTIABLE, VARIANTS
from rule_checks import inner, make_tensor
from test_rules import JAX_VARIANTS, TORCH_OPS, _jax_counterpart

import dualgrad
from conftest import BACKENDS, _backend_param
from dualgrad.testing import numerical_jvp


@dataclass(frozen=True)
class Tolerance:
    """Agreement demanded of a program whose least precise value has one dtype.

    ``eps``: the step of central differences, and ``fd_rtol`` the agreement with them;
    ``rtol``: between two exact computations (jvp and backward, dualgrad and its peers). Both
    are relative to the sum of the magnitudes of the terms compared.
    """

    eps: float
    fd_rtol: float
    rtol: float


TOLERANCES = {
    "float64": Tolerance(eps=1e-6, fd_rtol=1e-5, rtol=1e-9),
    "float32": Tolerance(eps=1e-3, fd_rtol=2e-3, rtol=1e-3),
}


def _least_precise(dtype: str, values: Sequence[Any]) -> Tolerance:
    """The tolerance of the least precise of ``dtype`` and the values' dtypes."""
    names = {dtype, *(value.dtype.name for value in values)}
    return TOLERANCES["float32" if "float32" in names else "float64"]


TORCH_POOL = Pool(
    "those with a PyTorch counterpart",
    [
        v
        for v in DIFFERENTIABLE
        if (v.spec.name in TORCH_OPS or v.spec.torch is not None)
        and "test_gradients_match_pytorch" not in v.spec.xfail
    ],
)
JAX_POOL = Pool("those with a jax.numpy counterpart", JAX_VARIANTS)


def _close(
    actual: float, expected: float, scale: float, rtol: float, what: str, atol: float = 1e-12
) -> None:
    """Two numbers agree to ``rtol`` of ``scale`` (the sum of the magnitudes of their terms)."""
    assert abs(actual - expected) <= rtol * scale + atol, (
        f"{what}: {actual!r} != {expected!r} (scale {scale:.3g})"
    )


def _scale(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    return sum(float(np.sum(np.abs(x) * np.abs(y))) for x, y in zip(a, b, strict=True))


def inner_all(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """``sum_k <a_k, b_k>``."""
    return sum(inner(x, y) for x, y in zip(a, b, strict=True))


class Checked:
    """A program on one backend, in the current mode: its outputs and leaves' gradients."""

    def __init__(self, program: Program, backend: Any) -> None:
        self.program = program
        self.frame = DualgradFrame(program.dtype, backend)
        self.points = program.leaf_values()
        rng = program.rng(2)
        self.directions = [rng.standard_normal(x.shape) for x in self.points]
        self.leaves = [self.frame.leaf(x) for x in self.points]
        outputs = program.outputs(self.frame, self.leaves)
        self.tolerance = _least_precise(program.dtype, outputs)
        self.cotangents = [rng.standard_normal(tuple(out.shape)) for out in outputs]
        roots = [
            (out, make_tensor(backend, u, out.dtype.name))
            for out, u in zip(outputs, self.cotangents, strict=True)
            if out.requires_grad
        ]
        if roots:
            dualgrad.autograd.backward(*zip(*roots, strict=True))
        self.grads = [
            np.zeros(x.shape) if leaf.grad is None else leaf.grad.numpy().astype(np.float64)
            for x, leaf in zip(self.points, self.leaves, strict=True)
        ]

    def evaluate_float64(self, *points: np.ndarray) -> list[Any]:
        """The program's outputs at ``points`` in float64 (no gradients)."""
        frame = DualgradFrame("float64", self.frame.backend)
        with dualgrad.no_grad():
            leaves = [frame.leaf(x, requires_grad=False) for x in points]
            return self.program.outputs(frame, leaves)

    def forward_jvp(self) -> list[np.ndarray]:
        """``J v`` by forward mode (``dualgrad.jvp``), as float64 NumPy arrays."""
        primals = [self.frame.leaf(x, requires_grad=False) for x in self.points]
        tangents = [self.frame.leaf(v, requires_grad=False) for v in self.directions]
        _, jv = dualgrad.jvp(
            lambda *xs: tuple(self.program.outputs(self.frame, xs)), primals, tangents
        )
        return [t.numpy().astype(np.float64) for t in jv]

    def finite_differences(self) -> tuple[list[np.ndarray], Tolerance, float]:
        """``J v`` by central differences of the float64 program, its tolerance and noise.

        Rounding makes the differences wrong by about ``ulp(|F|) / eps``: the noise term.
        """
        values = self.evaluate_float64(*self.points)
        tolerance = _least_precise("float64", values)
        unit = float(
            np.finfo(np.float64 if tolerance is TOLERANCES["float64"] else np.float32).eps
        )
        noise = 10 * unit / tolerance.eps * sum(float(np.sum(np.abs(v.numpy()))) for v in values)

        def flat(*points: np.ndarray) -> np.ndarray:
            outs = self.evaluate_float64(*points)
            return np.concatenate([np.ravel(out.numpy()) for out in outs] + [np.zeros(0)])

        stacked = numerical_jvp(flat, self.points, self.directions, eps=tolerance.eps)
        ends = np.cumsum([v.numel() for v in values])[:-1]
        jv = [
            part.reshape(v.shape) for part, v in zip(np.split(stacked, ends), values, strict=True)
        ]
        return jv, tolerance, noise


def check_program(program: Program, backend: Any) -> None:
    """backward() in the current mode against jvp, and both against finite differences."""
    checked = Checked(program, backend)
    u, v, g = checked.cotangents, checked.directions, checked.grads
    if not u:
        return  # no floating output: nothing to differentiate
    jv = checked.forward_jvp()
    _close(
        inner_all(u, jv),
        inner_all(g, v),
        _scale(u, jv) + _scale(g, v),
        checked.tolerance.rtol,
        "dot-product test <u, J v> (jvp) vs <J^T u, v> (backward)",
    )
    fd, fd_tolerance, noise = checked.finite_differences()
    rtol = max(fd_tolerance.fd_rtol, checked.tolerance.rtol)
    if checked.tolerance is TOLERANCES["float32"]:
        # Rounding to float32 is relative to the values inside the program, not to the
        # derivative, which can be much smaller: a floor relative to the size of u and v.
        noise += rtol * float(np.sqrt(inner_all(v, v)))
    _close(
        inner_all(g, v),
        inner_all(u, fd),
        _scale(u, fd) + _scale(g, v),
        rtol,
        "<J^T u, v> (backward) vs <u, J v> by finite differences",
        atol=noise * float(sum(np.sum(np.abs(x)) for x in u)),
    )
    for k, (ours, theirs) in enumerate(zip(jv, fd, strict=True)):
        scale = float(np.max(np.abs(theirs), initial=0.0)) + 1.0
        np.testing.assert_allclose(
            ours, theirs, rtol=rtol, atol=rtol * scale + noise, err_msg=f"J v, output {k}"
        )


def _pool_for(backend: Any) -> Pool:
    """The op table less the variants it marks as failing on ``backend`` and those its library
    cannot run (tests/backend_limits.py)."""
    return Pool(
        f"the op table on {backend.name}",
        [
            v
            for v in VARIANTS
            if backend.name not in v.spec.xfail
            and limit_reason(backend.name, "test_random_programs_match_finite_differences", v.id)
            is None
        ],
    )


def _draw_and_check(data: st.DataObject, backend: Any) -> None:
    program = data.draw(programs(_pool_for(backend), ("float64", "float32")), label="program")
    check_program(program, backend)


# JAX compiles each operation for every new shape, which makes a program there cost seconds:
# it gets one program in eight.
SLOW = {"jax"}
ONE_IN_EIGHT = settings(max_examples=max(5, settings.default.max_examples // 8))


@pytest.mark.parametrize(
    "backend", [_backend_param(name) for name in BACKENDS if name not in SLOW], indirect=True
)
@given(data=st.data())
def test_random_programs_match_finite_differences(
    data: st.DataObject, backend: Any, mode: str
) -> None:
    _draw_and_check(data, backend)


@pytest.mark.parametrize(
    "backend", [_backend_param(name) for name in BACKENDS if name in SLOW], indirect=True
)
@ONE_IN_EIGHT
@given(data=st.data())
def test_random_programs_match_finite_differences_on_slow_backends(
    data: st.DataObject, backend: Any, mode: str
) -> None:
    _draw_and_check(data, backend)


# --- what the fuzzer found, kept ---------------------------------------------------------------
FOUND = {
    # prod's and cumulative_sum's rules reversed arrays with a negative-step slice, which
    # PyTorch's arrays reject ("step must be greater than zero"); they use flip now.
    "prod-reversed-by-a-negative-step": Program(
        dtype="float32",
        leaves=((2, 2, 2),),
        steps=(
            Step(op="pow-2x0,2x0", shapes=((1, 2, 4), ()), sources=(0, 0)),
            Step(op="prod-axes-scalar-axis=()-keepdims", shapes=((),), sources=(1,)),
            Step(op="prod-2x3x4-axis=(-2)-keepdims", shapes=((2, 3, 4),), sources=(1,)),
        ),
        seed=1970003,
    ),
    "cumulative-sum-reversed-by-a-negative-step": Program(
        dtype="float64",
        leaves=((3, 4),),
        steps=(Step(op="cumulative_sum-3x4-axis=-1", shapes=((3, 4),), sources=(0,)),),
        seed=0,
    ),
    # An empty leaf gives forward mode an empty batch of tangents, whose FFT PyTorch's arrays
    # refused ("MKL FFT error"); the torch backend's transforms take empty batches now.
    "fft-of-an-empty-batch-of-tangents": Program(
        dtype="float64",
        leaves=((0,),),
        steps=(Step(op="fft_r2c-3x5-axes=(-1)-norm=backward", shapes=((3, 5),), sources=(0,)),),
        seed=0,
    ),
}


@pytest.mark.parametrize("program", FOUND.values(), ids=FOUND.keys())
def test_programs_the_fuzzer_found(program: Program, backend: Any, mode: str) -> None:
    check_program(program, backend)


# --- against PyTorch and JAX ------------------------------------------------------------------
def _assert_same_gradients(checked: Checked, theirs: list[np.ndarray], who: str) -> None:
    # float64 programs to 1e-8; programs with a float32 step to that step's precision.
    rtol = max(1e-8, checked.tolerance.rtol)
    for i, (a, b) in enumerate(zip(checked.grads, theirs, strict=True)):
        scale = float(np.max(np.abs(b), initial=0.0)) + 1.0
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, err_msg=f"{who}: leaf {i}")


@given(program=programs(TORCH_POOL, ("float64",)))
def test_random_programs_match_pytorch(program: Program, mode: str) -> None:
    torch = pytest.importorskip("torch")
    checked = Checked(program, dualgrad.backends.get_backend_by_name("numpy"))
    frame = TorchFrame(program.dtype, torch, TORCH_OPS)
    leaves = [frame.leaf(x) for x in checked.points]
    outputs = program.outputs(frame, leaves)
    pairs = [
        (out, torch.from_numpy(u))
        for out, u in zip(outputs, checked.cotangents, strict=True)
        if out.requires_grad
    ]
    if pairs:
        torch.autograd.backward(*zip(*pairs, strict=True))
    theirs = [
        np.zeros(x.shape) if leaf.grad is None else leaf.grad.numpy()
        for x, leaf in zip(checked.points, leaves, strict=True)
    ]
    _assert_same_gradients(checked, theirs, "PyTorch")


@ONE_IN_EIGHT
@given(program=programs(JAX_POOL, ("float64",)))
def test_random_programs_match_jax(program: Program, mode: str) -> None:
    jax = pytest.importorskip("jax")
    checked = Checked(program, dualgrad.backends.get_backend_by_name("numpy"))
    frame = JaxFrame(program.dtype, _jax_counterpart)
    outputs, pullback = jax.vjp(
        lambda *xs: program.outputs(frame, xs), *(jax.numpy.asarray(x) for x in checked.points)
    )
    theirs = pullback([jax.numpy.asarray(u, dtype=o.dtype) for u, o in
                       zip(checked.cotangents, outputs, strict=True)])  # fmt: skip
    _assert_same_gradients(checked, [np.asarray(t) for t in theirs], "JAX")
