"""float32 stays float32: every primitive's forward, vjp and jvp rules, on float32 inputs, give
float32 results (a float64 cotangent would double the memory traffic of every backward pass).

The inputs are those of ``op_db`` with each float64 input cast to float32; integer and bool
inputs (indices, masks) stay as they are.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_db import OP_DB, Variant
from rule_checks import to_backend

from dualgrad.backends import get_backend_by_name

VARIANTS = [
    variant
    for spec in OP_DB
    if spec.differentiable
    for variant in spec.variants()
    if any(arg.dtype.startswith("float") for arg in variant.args)
]


def _float32(variant: Variant) -> list[np.ndarray]:
    return [
        value.astype(np.float32) if value.dtype == np.float64 else value
        for value in variant.sample_inputs()
    ]


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_rules_keep_float32(variant: Variant) -> None:
    backend = get_backend_by_name("numpy")
    xp, prim = backend.xp, variant.spec.prim
    primals = _float32(variant)
    arrays = [backend.from_numpy(value) for value in primals]
    params = to_backend(variant.params, backend)
    ans = prim.forward(xp, *arrays, **params)
    if "dtype" not in params:  # astype alone may ask for another float dtype
        # complex64 is float32's complex dtype (rfft)
        assert ans.dtype in (np.float32, np.complex64) or ans.dtype.kind in "biu", (
            f"{prim.name} forward gives {ans.dtype} on float32 inputs"
        )
    rng = variant.rng(stream=2)
    positions = [
        i
        for i, value in enumerate(primals)
        if value.dtype == np.float32 and prim.differentiable(i)
    ]
    for i in positions:
        for batch in ((), (2,)):
            g = rng.standard_normal(batch + ans.shape).astype(ans.dtype)
            t = rng.standard_normal(batch + primals[i].shape).astype(np.float32)
            if prim.variadic:
                cotangent = prim.vjp(xp, g, ans, *arrays, index=i, **params)
                tangents = [t if j == i else None for j in range(len(arrays))]
                tangent = prim.jvp(xp, tangents, ans, *arrays, **params)
            else:
                cotangent = prim.vjp[i](xp, g, ans, *arrays, **params)
                tangent = prim.jvp[i](xp, t, ans, *arrays, **params)
            assert cotangent.dtype == np.float32, (
                f"{prim.name} vjp[{i}] (batch {batch}) gives {cotangent.dtype}"
            )
            assert tangent.dtype == ans.dtype, (
                f"{prim.name} jvp[{i}] (batch {batch}) gives {tangent.dtype}, output {ans.dtype}"
            )
