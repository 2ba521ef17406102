"""vmap over every primitive of the operator table: each one's batching path, forward and
derivatives, against a loop over the examples, on every backend.

Inputs are mapped all together and the first alone (the others then broadcast over the batch);
inside vmap, ``vjp`` and ``jvp`` of the first floating input run on batched cotangents and
tangents. Value-dependent shapes raise.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os

import numpy as np
import pytest
from op_db import VARIANTS, Variant
from rule_checks import make_tensor, to_backend
from tensors import assert_close, values

import dualgrad
from conftest import BACKENDS

VALUE_DEPENDENT = ("nonzero-*", "unique_*", "getitem-*mask*")


def _batch(variant: Variant, size: int = 2) -> list[np.ndarray]:
    rng = variant.rng(stream=7)
    spec = variant.spec
    return [
        np.stack([spec.sample(rng, arg, shape) for _ in range(size)])
        for arg, shape in zip(variant.args, variant.shapes, strict=True)
    ]


def _cases() -> list[object]:
    """Every variant on NumPy; on the other backends the first variant of each primitive (the
    batching rules are the same functions on every namespace, and the whole table would add
    minutes to a CI run), unless ``DUALGRAD_TEST_ALL_VARIANTS=1``."""
    first: dict[str, Variant] = {}
    for variant in VARIANTS:
        first.setdefault(variant.spec.name + variant.spec.label, variant)
    every = os.environ.get("DUALGRAD_TEST_ALL_VARIANTS") == "1"
    cases = []
    for name, (module, install) in BACKENDS.items():
        missing = importlib.util.find_spec(module) is None
        marks = pytest.mark.skipif(missing, reason=f"backend {name} needs {module}: {install}")
        chosen = VARIANTS if name == "numpy" or every else list(first.values())
        cases += [pytest.param(name, v, id=f"{name}-{v.id}", marks=marks) for v in chosen]
    return cases


@pytest.mark.parametrize(("backend_name", "variant"), _cases())
def test_every_primitive_batches_as_a_loop(backend_name, variant):
    """Forward with every input mapped, then with the first only; for differentiable
    primitives, vjp and jvp inside vmap too: all equal to a loop over the examples."""
    if backend_name == "cupy":
        pytest.importorskip("cupy")
    with dualgrad.use_backend(backend_name) as backend:
        _check_batching(variant, backend)


def _check_batching(variant: Variant, backend: object) -> None:
    spec = variant.spec
    params = to_backend(variant.params, backend)
    batches = _batch(variant)
    tensors = [make_tensor(backend, b, str(b.dtype)) for b in batches]

    def run(*xs):
        return spec.run(list(xs), params)

    def check(function, in_dims, what, rtol=1e-9):
        expected = [
            values(
                function(
                    *(t if d is None else t[i] for t, d in zip(tensors, in_dims, strict=True))
                )
            )
            for i in range(2)
        ]
        got = dualgrad.vmap(function, in_dims=in_dims)(*tensors)
        assert_close(got, np.stack(expected), rtol, 1e-9, f"{variant}: {what}")

    if any(fnmatch.fnmatchcase(variant.id, p) for p in VALUE_DEPENDENT):
        with pytest.raises(RuntimeError, match=r"vmap: .*values"):
            dualgrad.vmap(run)(*tensors)
        return
    tolerance = 1e-4 if any(b.dtype == np.float32 for b in batches) else 1e-9
    check(run, (0,) * len(tensors), "forward", tolerance)
    if len(tensors) > 1:
        tensors[1:] = [t[0] for t in tensors[1:]]
        check(run, (0,) + (None,) * (len(tensors) - 1), "forward, first input mapped", tolerance)
        tensors = [make_tensor(backend, b, str(b.dtype)) for b in batches]
    floating = [
        i for i, b in enumerate(batches) if b.dtype.kind == "f" and spec.prim.differentiable(i)
    ]
    if not floating:
        return
    i = floating[0]

    def of_input_i(xs):
        def function(z):
            return run(*xs[:i], z, *xs[i + 1 :])

        return function

    def vjp_of(g, *xs):
        return dualgrad.vjp(of_input_i(xs), xs[i])[1](g)[0]

    def jvp_of(t, *xs):
        return dualgrad.jvp(of_input_i(xs), (xs[i],), (t,))[1]

    out_shape = run(*(t[0] for t in tensors)).shape
    g = make_tensor(
        backend, variant.rng(stream=8).standard_normal((2, *out_shape)), str(batches[i].dtype)
    )
    t = make_tensor(
        backend, variant.rng(stream=9).standard_normal(batches[i].shape), str(batches[i].dtype)
    )
    tensors = [g, *tensors]
    check(vjp_of, (0,) * len(tensors), "vjp", tolerance)
    tensors[0] = t
    check(jvp_of, (0,) * len(tensors), "jvp", tolerance)
