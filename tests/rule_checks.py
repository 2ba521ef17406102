"""Running one primitive's rules on one backend, NumPy in and NumPy out, for the rule tests.

``RuleCase`` binds a variant from ``op_db`` to a backend: it draws the inputs, converts them and
the params to the backend's arrays, and exposes forward, each input's vjp and jvp (batched or
not) as functions of NumPy arrays. Tolerances live here, in one per-dtype table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from array_api_compat import is_array_api_obj
from op_db import Variant

import dualgrad
from dualgrad.testing import numerical_jvp


@dataclass(frozen=True)
class Tolerance:
    """How closely results must agree when computed in one dtype.

    ``eps``, ``fd_rtol`` and ``fd_atol``: central differences (step, and agreement with them);
    ``rtol`` and ``atol``: two exact computations of one quantity (dot-product test, batching).
    """

    eps: float
    fd_rtol: float
    fd_atol: float
    rtol: float
    atol: float
    torch: float  # relative agreement with PyTorch's gradients


# float32 appears only through astype, which is linear: a large step costs no truncation error
# and keeps float32 rounding of the perturbed inputs small next to it.
TOLERANCES = {
    "float64": Tolerance(
        eps=1e-6, fd_rtol=1e-6, fd_atol=1e-8, rtol=1e-10, atol=1e-12, torch=1e-10
    ),
    "float32": Tolerance(eps=1e-2, fd_rtol=1e-4, fd_atol=1e-5, rtol=1e-5, atol=1e-6, torch=1e-6),
}


def inner(a: Any, b: Any) -> float:
    """``<a, b>``, summed in float64; for complex values ``Re(sum(a * b))``, the pairing the
    rules transpose under (``dualgrad/ops/_primitive.py``)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "c" or b.dtype.kind == "c":
        return float(np.real(np.sum(a.astype(np.complex128) * b.astype(np.complex128))))
    return float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))


def pytorch_convention(vjp: Any, u: np.ndarray) -> np.ndarray:
    """What ``.grad`` holds for the cotangent ``u``, from a vjp rule: the conjugate of the
    rule's result for the conjugate cotangent (the two conventions, autograd/engine.py)."""
    return np.conj(vjp(np.conj(u)))


def to_backend(value: Any, backend: Any) -> Any:
    """``value`` with every NumPy array in it (also inside tuples and dicts) on ``backend``."""
    if isinstance(value, np.ndarray):
        return backend.from_numpy(value)
    if isinstance(value, tuple):
        return tuple(to_backend(part, backend) for part in value)
    if isinstance(value, dict):
        return {key: to_backend(part, backend) for key, part in value.items()}
    return value


def make_tensor(
    backend: Any, values: Any, dtype: str = "float64", *, requires_grad: bool = False
) -> dualgrad.Tensor:
    """A Tensor on ``backend`` holding ``values`` (NumPy data or nested lists) as ``dtype``."""
    array = backend.from_numpy(np.asarray(values, dtype=dtype))
    return dualgrad.Tensor(array, backend, requires_grad=requires_grad)


class RuleCase:
    """A variant's primitive, inputs and params on one backend; rules as NumPy functions."""

    def __init__(self, variant: Variant, backend: Any) -> None:
        self.variant = variant
        self.prim = variant.spec.prim
        self.backend = backend
        self.primals = variant.sample_inputs()
        self.params = to_backend(variant.params, backend)
        self.inputs = [i for i in range(len(self.primals)) if self.prim.differentiable(i)]
        self._rng = variant.rng(stream=1)

    # --- values -------------------------------------------------------------------------------
    def _arrays(self, values: Any) -> list[Any]:
        return [
            self.backend.from_numpy(np.asarray(value).astype(primal.dtype))
            for value, primal in zip(values, self.primals, strict=True)
        ]

    def _numpy(self, array: Any) -> np.ndarray:
        return np.asarray(self.backend.to_numpy(array))

    def forward(self, *values: Any) -> np.ndarray:
        """The primitive at ``values`` (NumPy, cast to the inputs' dtypes)."""
        return self._numpy(
            self.prim.forward(self.backend.xp, *self._arrays(values), **self.params)
        )

    def forward_at(self, i: int, value: Any) -> np.ndarray:
        """The primitive with input ``i`` replaced by ``value``."""
        return self.forward(*self.primals[:i], value, *self.primals[i + 1 :])

    @cached_property
    def ans(self) -> np.ndarray:
        return self.forward(*self.primals)

    @cached_property
    def tolerance(self) -> Tolerance:
        """The entry of the least precise floating dtype among the inputs and the output."""
        # a complex dtype is as precise as its parts' real dtype
        dtypes = [
            np.finfo(a.dtype).dtype for a in (*self.primals, self.ans) if a.dtype.kind in "fc"
        ]
        return TOLERANCES[min(dtypes, key=lambda dtype: dtype.itemsize).name]

    def _random(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        values = self._rng.standard_normal(shape)
        if dtype.kind == "c":
            values = values + 1j * self._rng.standard_normal(shape)
        return np.asarray(values).astype(dtype)

    def cotangent(self, batch: tuple[int, ...] = ()) -> np.ndarray:
        """A random output cotangent, with leading ``batch`` axes."""
        return self._random(batch + self.ans.shape, self.ans.dtype)

    def tangent(self, i: int, batch: tuple[int, ...] = ()) -> np.ndarray:
        """A random tangent of input ``i``, with leading ``batch`` axes."""
        primal = self.primals[i]
        return self._random(batch + primal.shape, primal.dtype)

    # --- rules --------------------------------------------------------------------------------
    def vjp(self, i: int, g: Any, *, at: Any = None) -> np.ndarray:
        """Input ``i``'s cotangent from the output cotangent ``g`` (at the primals, or ``at``)."""
        values = self.primals if at is None else at
        arrays = self._arrays(values)
        ans = self.prim.forward(self.backend.xp, *arrays, **self.params)
        g = self.backend.from_numpy(np.asarray(g).astype(self.ans.dtype))
        if self.prim.variadic:
            result = self.prim.vjp(self.backend.xp, g, ans, *arrays, index=i, **self.params)
        else:
            result = self.prim.vjp[i](self.backend.xp, g, ans, *arrays, **self.params)
        return self._checked(result, "vjp", i)

    def jvp(self, i: int, t: Any) -> np.ndarray:
        """Input ``i``'s share of the output tangent, from its tangent ``t``."""
        arrays = self._arrays(self.primals)
        ans = self.prim.forward(self.backend.xp, *arrays, **self.params)
        t = self.backend.from_numpy(np.asarray(t).astype(self.primals[i].dtype))
        if self.prim.variadic:
            tangents = [t if j == i else None for j in range(len(arrays))]
            result = self.prim.jvp(self.backend.xp, tangents, ans, *arrays, **self.params)
        else:
            result = self.prim.jvp[i](self.backend.xp, t, ans, *arrays, **self.params)
        return self._checked(result, "jvp", i)

    def _checked(self, result: Any, rule: str, i: int) -> np.ndarray:
        if not is_array_api_obj(result) or isinstance(result, dualgrad.Tensor):
            msg = f"{self.prim.name} {rule}[{i}] returned {type(result).__name__}, not an array"
            raise AssertionError(msg)
        return self._numpy(result)

    def numerical_vjp_inner(self, i: int, u: np.ndarray, v: np.ndarray) -> float:
        """``<u, J_i v>``, by central differences of forward along ``v``."""
        return inner(u, self.numerical_jvp(i, v))

    def numerical_jvp(self, i: int, v: np.ndarray) -> np.ndarray:
        """``J_i v``, by central differences of forward along ``v``."""
        return numerical_jvp(
            lambda xi: self.forward_at(i, xi), [self.primals[i]], [v], eps=self.tolerance.eps
        )

    # --- Tensors --------------------------------------------------------------------------------
    def leaves(self, requires_grad: Any = None) -> list[dualgrad.Tensor]:
        """The inputs as Tensors; those at ``requires_grad`` (default: with rules) require it."""
        wanted = self.inputs if requires_grad is None else requires_grad
        return [
            dualgrad.Tensor(array, self.backend, requires_grad=i in wanted)
            for i, array in enumerate(self._arrays(self.primals))
        ]

    def tensor(self, value: np.ndarray, *, requires_grad: bool = False) -> dualgrad.Tensor:
        """A Tensor on this case's backend."""
        return make_tensor(self.backend, value, value.dtype.name, requires_grad=requires_grad)

    def run(self, tensors: list[dualgrad.Tensor]) -> dualgrad.Tensor:
        """The operation on Tensors, through its public entry point."""
        return self.variant.spec.run(tensors, self.params)
