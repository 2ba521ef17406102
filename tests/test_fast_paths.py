"""The fast paths give what the general paths give, on every line of the op table.

The dispatcher's ``elementwise`` and forward mode's ``push_tangents`` each start with a guarded
head for the common case (``dualgrad/_fast.py``). With ``dualgrad._fast.enabled`` False every
operation takes the general path instead. Each variant of the op table runs both ways, and so
does each two-input elementwise one with a Python number on either side (the shared constants):
the values, the gradients in both modes and the tangents of a dual level must agree to the bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from op_db import DIFFERENTIABLE, VARIANTS, Variant
from rule_checks import RuleCase

import dualgrad
import dualgrad.forward_ad as fwAD
from dualgrad import _fast
from dualgrad.backends import get_backend_by_name

NUMBER = 0.75  # stands for an input: inside every variant's domain that takes a number


@pytest.fixture(params=["numpy", "array_api_strict"])
def backend(request: pytest.FixtureRequest) -> Any:
    """A backend that shares constants and one that does not: the paths differ in nothing else."""
    return get_backend_by_name(request.param)


def _with_number(variant: Variant) -> bool:
    """A binary elementwise primitive that a public function applies to a Python number too
    (binary_cross_entropy's function, in nn.functional, takes tensors of one shape only)."""
    prim = variant.spec.prim
    binary = prim.elementwise and len(variant.shapes) == 2 and len(prim.promote) == 2
    return binary and hasattr(dualgrad.functions, variant.spec.name)


def _results(
    case: RuleCase, call: Callable[[list[Any]], Any], u: np.ndarray, fast: bool
) -> list[np.ndarray]:
    """The output, the gradients in reverse and in forward mode, and a dual level's tangent."""
    results = []
    previous, _fast.enabled = _fast.enabled, fast
    try:
        for mode in ("reverse", "forward"):
            with dualgrad.use_mode(mode):
                leaves = case.leaves()
                out = call(leaves)
                results.append(out.detach().numpy())
                if out.requires_grad:
                    out.backward(case.tensor(u))
                    results += [leaf.grad.numpy() for leaf in leaves if leaf.grad is not None]
        with fwAD.dual_level():
            duals = [
                fwAD.make_dual(leaf, leaf * 0.5 + 1.0) if i in case.inputs else leaf
                for i, leaf in enumerate(case.leaves(requires_grad=()))
            ]
            tangent = fwAD.unpack_dual(call(duals)).tangent
            if tangent is not None:
                results.append(tangent.numpy())
    finally:
        _fast.enabled = previous
    return results


def _assert_same(case: RuleCase, call: Callable[[list[Any]], Any]) -> None:
    u = case.cotangent()
    fast, general = _results(case, call, u, True), _results(case, call, u, False)
    assert len(fast) == len(general)
    for got, expected in zip(fast, general, strict=True):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected, strict=True)


@pytest.mark.parametrize("variant", DIFFERENTIABLE, ids=str)
def test_fast_and_general_paths_agree(variant: Variant, backend: Any) -> None:
    case = RuleCase(variant, backend)
    _assert_same(case, case.run)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if _with_number(v)], ids=str)
@pytest.mark.parametrize("side", [0, 1])
def test_fast_and_general_paths_agree_with_a_python_number(
    variant: Variant, side: int, backend: Any
) -> None:
    case = RuleCase(variant, backend)
    if case.primals[1 - side].dtype.kind != "f":
        pytest.skip("a Python float with a non-floating tensor takes the general path anyway")
    function = getattr(dualgrad.functions, variant.spec.name)

    def call(tensors: list[Any]) -> Any:
        operands = list(tensors)
        operands[side] = NUMBER
        return function(*operands)

    _assert_same(case, call)


def test_the_switch_sends_operations_down_the_general_path(monkeypatch: Any) -> None:
    """Off, ``x * 0.5`` makes a fresh constant each time instead of sharing one."""
    x = dualgrad.tensor([1.0, 2.0])
    seen = []
    original = dualgrad._dispatch.apply
    monkeypatch.setattr(
        dualgrad._dispatch,
        "apply",
        lambda prim, inputs, params: seen.append(inputs[1]) or original(prim, inputs, params),
    )
    for enabled in (True, True, False, False):
        monkeypatch.setattr(_fast, "enabled", enabled)
        x * 0.5
    assert seen[0] is seen[1]
    assert seen[2] is not seen[3] and seen[2] is not seen[0]
