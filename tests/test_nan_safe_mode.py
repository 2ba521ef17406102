"""NaN-safe mode through the op table: where the cotangent or tangent is zero, every elementwise
rule gives exactly zero, even at inputs where its derivative is NaN; elsewhere nothing changes.

Each elementwise variant whose inputs all have the output's shape gets NaN inputs at half of the
positions and a cotangent (reverse) or tangents (forward) that are zero there: the derivative must
be zero at those positions and equal the rule's at the others.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from op_db import DIFFERENTIABLE, Variant
from rule_checks import RuleCase
from tensors import assert_close

import dualgrad
from dualgrad.autograd import grad, nan_safe_mode, set_nan_safe_mode


def _positionwise(variant: Variant) -> bool:
    case = RuleCase(variant, dualgrad.get_backend())
    same_shape = all(primal.shape == case.ans.shape for primal in case.primals)
    return variant.spec.prim.elementwise and same_shape and case.ans.size > 1


POSITIONWISE = [variant for variant in DIFFERENTIABLE if _positionwise(variant)]
# The forward passes at NaN inputs warn, as NumPy does; the derivatives are what is checked.
nan_inputs = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _masked(case: RuleCase) -> tuple[np.ndarray, list[np.ndarray]]:
    """Every other position of the output, and the primals with NaN there (float inputs)."""
    mask = (np.arange(case.ans.size) % 2 == 0).reshape(case.ans.shape)
    primals = [
        np.where(mask, np.nan, primal) if primal.dtype.kind == "f" else primal
        for primal in case.primals
    ]
    return mask, primals


def _leaves(case: RuleCase, primals: list[np.ndarray]) -> list[dualgrad.Tensor]:
    return [
        case.tensor(primal, requires_grad=i in case.inputs) for i, primal in enumerate(primals)
    ]


@nan_inputs
@pytest.mark.parametrize("variant", POSITIONWISE, ids=str)
def test_zero_cotangent_keeps_nan_out_of_the_vjp(variant: Variant, backend: Any) -> None:
    case = RuleCase(variant, backend)
    mask, primals = _masked(case)
    u = np.where(mask, 0.0, case.cotangent()).astype(case.ans.dtype)
    leaves = _leaves(case, primals)
    with nan_safe_mode():
        grads = grad(
            case.run(leaves),
            [leaves[i] for i in case.inputs],
            grad_outputs=case.tensor(u),
            allow_unused=True,
        )
    tol = case.tolerance
    for i, g in zip(case.inputs, grads, strict=True):
        got = np.zeros_like(case.primals[i]) if g is None else g.numpy()
        assert np.all(got[mask] == 0), f"input {i}: {got[mask]}"
        # .grad is in PyTorch's convention, the rule in JAX's: conjugate on the way in and out
        # (both no-ops for real values)
        expected = np.conj(case.vjp(i, np.conj(u)))
        assert_close(got[~mask], expected[~mask], tol.rtol, tol.atol, f"input {i}")


@nan_inputs
@pytest.mark.parametrize("variant", POSITIONWISE, ids=str)
def test_zero_tangent_keeps_nan_out_of_the_jvp(variant: Variant, backend: Any) -> None:
    case = RuleCase(variant, backend)
    mask, primals = _masked(case)
    tangents = {
        i: np.where(mask, 0.0, case.tangent(i)).astype(primals[i].dtype) for i in case.inputs
    }
    leaves = _leaves(case, primals)

    def run(*differentiated: dualgrad.Tensor) -> dualgrad.Tensor:
        inputs = list(leaves)
        for i, leaf in zip(case.inputs, differentiated, strict=True):
            inputs[i] = leaf
        return case.run(inputs)

    with nan_safe_mode():
        _, got = dualgrad.func.jvp(
            run,
            tuple(leaves[i].detach() for i in case.inputs),
            tuple(case.tensor(tangents[i]) for i in case.inputs),
        )
    got = got.numpy()
    assert np.all(got[mask] == 0), got[mask]
    expected = sum(case.jvp(i, tangents[i]) for i in case.inputs)
    tol = case.tolerance
    assert_close(got[~mask], expected[~mask], tol.rtol, tol.atol, "jvp")


def _where_trap_gradient() -> np.ndarray:
    x = dualgrad.tensor([0.0, 2.0], dtype=dualgrad.float64, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) and its derivative
        dualgrad.sum(dualgrad.where(x > 0, x * dualgrad.log(x), 0.0)).backward()
    return x.grad.numpy()


def test_where_trap_gives_nan_in_reverse_mode_as_pytorch_and_jax_do() -> None:
    """The untaken branch's ``log(0)``: its zero cotangent meets an infinite derivative."""
    assert np.isnan(_where_trap_gradient()[0])


def test_nan_safe_mode_keeps_the_untaken_branch_out_of_the_gradient(mode: str) -> None:
    with nan_safe_mode():
        np.testing.assert_allclose(_where_trap_gradient(), [0.0, np.log(2.0) + 1.0])


def test_set_nan_safe_mode_takes_effect_when_called_and_restores_in_with() -> None:
    assert not dualgrad.autograd.is_nan_safe_mode_enabled()
    with set_nan_safe_mode(True):
        assert dualgrad.autograd.is_nan_safe_mode_enabled()
    assert not dualgrad.autograd.is_nan_safe_mode_enabled()
    set_nan_safe_mode(True)
    try:
        assert dualgrad.autograd.is_nan_safe_mode_enabled()
    finally:
        set_nan_safe_mode(False)
    assert not dualgrad.autograd.is_nan_safe_mode_enabled()


@pytest.mark.parametrize("turn_on", ["context", "call", "decorator"])
def test_first_use_in_a_process_takes_effect_in_its_thread_only(
    turn_on: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hot paths read the ContextVar only once NaN-safe mode was ever turned on: a process
    that never did must still honour it from the first use, in that thread only."""
    from dualgrad import _settings_used

    monkeypatch.setattr(_settings_used, "nan_safe", False)
    seen = []

    def in_other_thread() -> None:
        seen.append(np.isnan(_where_trap_gradient()[0]))

    def check() -> None:
        np.testing.assert_allclose(_where_trap_gradient(), [0.0, np.log(2.0) + 1.0])
        thread = threading.Thread(target=in_other_thread)
        thread.start()
        thread.join()

    if turn_on == "context":
        with nan_safe_mode():
            check()
    elif turn_on == "decorator":
        nan_safe_mode()(check)()
    else:
        set_nan_safe_mode(True)
        try:
            check()
        finally:
            set_nan_safe_mode(False)
    assert seen == [True]  # the other thread still falls into the trap
    assert np.isnan(_where_trap_gradient()[0])
