"""Every integer dtype of the standard (uint16, uint32 and uint64 beside PyTorch's set) and the
dtypes integer reductions give: ``sum``, ``prod`` and the cumulative ones widen to int64 (signed,
and bool as in PyTorch) or uint64 (unsigned); ``vecdot`` keeps its operands' promoted dtype;
``dtype=`` always stands."""

from __future__ import annotations

import numpy as np
import pytest
from tensors import values

import dualgrad

UNSIGNED = ["uint8", "uint16", "uint32", "uint64"]
SIGNED = ["int8", "int16", "int32", "int64"]


def _has(backend, name: str) -> bool:
    return name in dualgrad.__array_namespace_info__().dtypes()


@pytest.mark.parametrize("name", ["uint16", "uint32", "uint64"])
def test_wide_unsigned_dtypes_compute_and_print(name, backend):
    if not _has(backend, name):
        pytest.skip(f"backend {backend.name} has no {name} arithmetic")
    dtype = getattr(dualgrad, name)
    top = int(np.iinfo(name).max)
    x = dualgrad.asarray([top, 2, 3], dtype=dtype)
    assert x.dtype is dtype
    assert dualgrad.iinfo(dtype).max == top
    assert x.tolist() == [top, 2, 3]
    assert (x // 2).dtype is dtype and (x // 2).tolist() == [top // 2, 1, 1]
    assert (x + dualgrad.asarray([1, 1, 1], dtype=dualgrad.uint8)).dtype is dtype
    assert f"dtype=dualgrad.{name}" in repr(x)
    assert dualgrad.asarray(np.array([7], dtype=name)).dtype is dtype


def test_torch_backend_offers_only_the_unsigned_dtype_pytorch_computes_with():
    pytest.importorskip("torch")
    with dualgrad.use_backend("torch"):
        assert set(dualgrad.__array_namespace_info__().dtypes(kind="unsigned integer")) == {
            "uint8"
        }
        with pytest.raises(TypeError, match="backend 'torch' has no dtype uint32"):
            dualgrad.asarray(np.array([1], dtype=np.uint32))


@pytest.mark.parametrize("name", ["bool", *SIGNED, *UNSIGNED])
def test_integer_sums_and_products_widen_as_the_standard_says(name, backend):
    if not _has(backend, name):
        pytest.skip(f"backend {backend.name} has no {name}")
    x = dualgrad.asarray([[1, 0, 1], [1, 1, 0]], dtype=getattr(dualgrad, name))
    unsigned = name.startswith("uint")
    wide = dualgrad.uint64 if unsigned and _has(backend, "uint64") else dualgrad.int64
    for reduce in (dualgrad.sum, dualgrad.prod):
        assert reduce(x).dtype is wide, reduce
        assert reduce(x, axis=0).dtype is wide, reduce
    for cumulative in (dualgrad.cumulative_sum, dualgrad.cumulative_prod):
        assert cumulative(x, axis=1).dtype is wide, cumulative
    np.testing.assert_array_equal(values(dualgrad.sum(x, axis=1)), [2, 2])
    if name != "bool":
        assert dualgrad.sum(x, dtype=x.dtype).dtype is x.dtype  # dtype= stands
        assert dualgrad.prod(x, dtype=x.dtype).dtype is x.dtype


@pytest.mark.parametrize("name", ["int8", "int16", "uint8", "uint16", "int64"])
def test_vecdot_keeps_the_promoted_dtype_of_its_operands(name, backend):
    if not _has(backend, name):
        pytest.skip(f"backend {backend.name} has no {name}")
    dtype = getattr(dualgrad, name)
    x1 = dualgrad.asarray([[1, 2, 3], [4, 5, 6]], dtype=dtype)
    x2 = dualgrad.asarray([2, 1, 0], dtype=dtype)
    out = dualgrad.vecdot(x1, x2)
    assert out.dtype is dtype
    np.testing.assert_array_equal(values(out), [4, 13])
    assert dualgrad.vecdot(x1, x2.astype(dualgrad.int64)).dtype is dualgrad.result_type(
        dtype, dualgrad.int64
    )


def test_uint64_with_a_signed_integer_has_no_common_dtype(backend):
    """As in the standard (which leaves it out) and PyTorch: no integer dtype holds both."""
    if not _has(backend, "uint64"):
        pytest.skip(f"backend {backend.name} has no uint64")
    big = dualgrad.asarray([1, 2], dtype=dualgrad.uint64)
    with pytest.raises(TypeError, match=r"add: no integer dtype holds both dualgrad\.uint64"):
        big + dualgrad.asarray([1, 2], dtype=dualgrad.int8)
    assert not dualgrad.can_cast(dualgrad.uint64, dualgrad.int64)
    assert (big + 1).dtype is dualgrad.uint64  # a Python int is weak
    assert dualgrad.result_type(dualgrad.uint32, dualgrad.int8) is dualgrad.int64
