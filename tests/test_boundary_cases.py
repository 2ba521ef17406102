"""Numerical boundary cases, in one table: the value and the gradient in each mode, PyTorch's.

Each row is a function at a point where its derivative is infinite, undefined, or reached
through an infinity or a NaN: the origin of a norm, a tie of a max, an untaken branch that is
NaN, a clamped log. The table states what dualgrad gives in reverse and in forward mode, and
what PyTorch gives in each (checked where torch is installed); every difference, between the
modes or from PyTorch, carries its reason. docs/forward-mode.md explains the differences
between the modes that the table shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import dualgrad
import dualgrad.nn.functional as F

inf, nan = math.inf, math.nan

Gradients = tuple[Any, ...]  # one entry per input, shaped like it


@dataclass(frozen=True)
class Boundary:
    """One boundary case.

    ``run`` takes the library (``dualgrad`` or ``torch``), its ``nn.functional`` and the input
    tensors; the gradients are those of the sum of its output. ``forward`` defaults to
    ``reverse``; PyTorch's gradients default to dualgrad's in the same mode. ``why`` explains
    every difference, between the modes or from PyTorch.
    """

    name: str
    run: Callable[..., Any]
    inputs: tuple[Any, ...]
    value: Any
    reverse: Gradients
    forward: Gradients | None = None
    torch_reverse: Gradients | None = None
    torch_forward: Gradients | None = None
    why: str = ""

    def __str__(self) -> str:
        return self.name

    @property
    def forward_gradients(self) -> Gradients:
        return self.reverse if self.forward is None else self.forward

    def torch_gradients(self, mode: str) -> Gradients:
        if mode == "reverse":
            return self.reverse if self.torch_reverse is None else self.torch_reverse
        return self.forward_gradients if self.torch_forward is None else self.torch_forward


def _reduce_over_0(name: str) -> Callable[..., Any]:
    """``x.<name>(0)`` in PyTorch, ``dualgrad.<name>(x, axis=0)`` in dualgrad."""

    def run(lib: Any, functional: Any, x: Any) -> Any:
        if lib is dualgrad:
            return getattr(dualgrad, name)(x, axis=0)
        return getattr(lib, name)(x, 0)

    return run


def _std_or_var(name: str, correction: int) -> Callable[..., Any]:
    def run(lib: Any, functional: Any, x: Any) -> Any:
        return getattr(lib, name)(x, correction=correction)

    return run


def _bce(target: float) -> Callable[..., Any]:
    def run(lib: Any, functional: Any, p: Any) -> Any:
        return functional.binary_cross_entropy(p, lib.full_like(p.detach(), target))

    return run


def _weighted_softmax(lib: Any, functional: Any, x: Any) -> Any:
    weights = lib.asarray([1.0, 2.0], dtype=lib.float64)
    return (functional.softmax(x, dim=0) * weights).sum()


BCE_PUSH = 1 / float(np.float32(1e-12))  # PyTorch's clamp of p (1 - p), a float32 1e-12

TABLE = [
    Boundary("sqrt at 0", lambda L, F, x: L.sqrt(x), (0.0,), 0.0, (inf,)),
    Boundary("abs at 0", lambda L, F, x: L.abs(x), (0.0,), 0.0, (0.0,)),
    Boundary("relu at 0", lambda L, F, x: F.relu(x), (0.0,), 0.0, (0.0,)),
    Boundary(
        "max with a tie", lambda L, F, x: L.max(x), ([1.0, 1.0, 0.0],), 1.0, ([0.5, 0.5, 0.0],)
    ),
    Boundary(
        "min with a tie", lambda L, F, x: L.min(x), ([0.0, 1.0, 0.0],), 0.0, ([0.5, 0.0, 0.5],)
    ),
    Boundary("maximum of equals", lambda L, F, x, y: L.maximum(x, y), (2.0, 2.0), 2.0, (0.5, 0.5)),
    Boundary("minimum of equals", lambda L, F, x, y: L.minimum(x, y), (2.0, 2.0), 2.0, (0.5, 0.5)),
    Boundary(
        "vector_norm at 0",
        lambda L, F, x: L.linalg.vector_norm(x),
        ([0.0, 0.0],),
        0.0,
        ([0.0, 0.0],),
    ),
    Boundary(
        "vector_norm ord=1 at 0",
        lambda L, F, x: L.linalg.vector_norm(x, ord=1),
        ([0.0, 0.0],),
        0.0,
        ([0.0, 0.0],),
    ),
    Boundary(
        "vector_norm ord=inf at 0",
        lambda L, F, x: L.linalg.vector_norm(x, ord=inf),
        ([0.0, 0.0],),
        0.0,
        ([0.0, 0.0],),
    ),
    Boundary(
        "Frobenius norm at 0",
        lambda L, F, x: L.linalg.matrix_norm(x),
        ([[0.0, 0.0], [0.0, 0.0]],),
        0.0,
        ([[0.0, 0.0], [0.0, 0.0]],),
    ),
    Boundary("log at 0", lambda L, F, x: L.log(x), (0.0,), -inf, (inf,)),
    Boundary("0 ** 0.0", lambda L, F, x: x**0.0, (0.0,), 1.0, (0.0,)),
    Boundary("pow(0, 0)", lambda L, F, x, y: L.pow(x, y), (0.0, 0.0), 1.0, (0.0, 0.0)),
    Boundary("pow(0, 2)", lambda L, F, x, y: L.pow(x, y), (0.0, 2.0), 0.0, (0.0, 0.0)),
    Boundary(
        "where with NaN in the untaken branch",
        lambda L, F, x: L.where(x > 0, L.sqrt(x), L.zeros_like(x)),
        (-1.0,),
        0.0,
        (nan,),
        forward=(0.0,),
        why="reverse mode sends where's zero cotangent into sqrt's NaN derivative at -1 "
        "(0 * NaN = NaN); forward mode selects the taken branch's tangent; PyTorch's two modes "
        "split the same way",
    ),
    Boundary(
        "logsumexp([inf, 0])",
        _reduce_over_0("logsumexp"),
        ([inf, 0.0],),
        inf,
        ([nan, 0.0],),
        forward=([nan, nan],),
        why="the derivative is exp(x - inf): NaN for the infinite element; reverse mode keeps "
        "it in that element, forward mode sums every element's tangent times it, and a zero "
        "tangent times NaN is NaN; PyTorch's two modes split the same way",
    ),
    Boundary(
        "logsumexp([-inf, 0])", _reduce_over_0("logsumexp"), ([-inf, 0.0],), 0.0, ([0.0, 1.0],)
    ),
    Boundary(
        "logsumexp([-inf, -inf])",
        _reduce_over_0("logsumexp"),
        ([-inf, -inf],),
        -inf,
        ([nan, nan],),
    ),
    Boundary("softmax of large values", _weighted_softmax, ([1000.0, 0.0],), 1.0, ([0.0, 0.0],)),
    Boundary(
        "log_softmax of large values",
        lambda L, F, x: F.log_softmax(x, dim=0)[1],
        ([1000.0, 0.0],),
        -1000.0,
        ([-1.0, 1.0],),
    ),
    Boundary("std of a constant", _std_or_var("std", 1), ([2.0, 2.0, 2.0],), 0.0, ([0.0] * 3,)),
    Boundary("std of one value", _std_or_var("std", 0), ([2.0],), 0.0, ([0.0],)),
    Boundary("var of a constant", _std_or_var("var", 1), ([2.0, 2.0, 2.0],), 0.0, ([0.0] * 3,)),
    Boundary(
        "atan2 at the origin",
        lambda L, F, y, x: L.atan2(y, x),
        (0.0, 0.0),
        0.0,
        (0.0, 0.0),
        torch_forward=(nan, nan),
        why="dualgrad's one derivative rule serves both modes, and is 0 at the origin as "
        "PyTorch's backward is; PyTorch's forward-mode formula is not masked there",
    ),
    Boundary(
        "hypot at the origin",
        lambda L, F, x, y: L.hypot(x, y),
        (0.0, 0.0),
        0.0,
        (0.0, 0.0),
        torch_reverse=(nan, nan),
        torch_forward=(nan, nan),
        why="hypot(x, y) is the 2-norm of (x, y): dualgrad gives the zero subgradient at the "
        "origin, as PyTorch's vector_norm does; PyTorch's hypot computes 0 / 0",
    ),
    Boundary(
        "binary_cross_entropy at p = 0, target 0",
        _bce(0.0),
        (0.0,),
        0.0,
        (0.0,),
        torch_forward=(nan,),
        why="dualgrad's one derivative rule is PyTorch's backward, (p - t) / max(p (1 - p), "
        "1e-12), in both modes; PyTorch's forward-mode formula divides 0 by 0",
    ),
    Boundary(
        "binary_cross_entropy at p = 1, target 1",
        _bce(1.0),
        (1.0,),
        0.0,
        (0.0,),
        torch_forward=(nan,),
        why="as at p = 0, target 0",
    ),
    Boundary(
        "binary_cross_entropy at p = 0, target 1",
        _bce(1.0),
        (0.0,),
        100.0,
        (-BCE_PUSH,),
        torch_forward=(nan,),
        why="as at p = 0, target 0",
    ),
    Boundary(
        "binary_cross_entropy at p = 1, target 0",
        _bce(0.0),
        (1.0,),
        100.0,
        (BCE_PUSH,),
        torch_forward=(nan,),
        why="as at p = 0, target 0",
    ),
]


def _assert_table_equal(got: Sequence[Any], expected: Sequence[Any], what: str) -> None:
    assert len(got) == len(expected), what
    for index, (g, e) in enumerate(zip(got, expected, strict=True)):
        np.testing.assert_allclose(
            np.asarray(g, dtype=np.float64),
            np.asarray(e, dtype=np.float64),
            rtol=1e-12,
            atol=0,
            equal_nan=True,
            err_msg=f"{what}, input {index}",
        )


def _dualgrad_run(case: Boundary, mode: str) -> tuple[Any, Gradients]:
    # NumPy warns of the divisions by zero and the infinities these points are made of.
    with dualgrad.use_mode(mode), np.errstate(divide="ignore", invalid="ignore"):
        inputs = [
            dualgrad.tensor(x, dtype=dualgrad.float64, requires_grad=True) for x in case.inputs
        ]
        out = case.run(dualgrad, F, *inputs)
        out.sum().backward()
    return out.detach().numpy(), tuple(x.grad.numpy() for x in inputs)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("case", TABLE, ids=str)
def test_value_and_gradient_are_the_tables(case: Boundary, mode: str, backend: Any) -> None:
    value, gradients = _dualgrad_run(case, mode)
    _assert_table_equal([value], [case.value], f"{case}: value")
    expected = case.reverse if mode == "reverse" else case.forward_gradients
    _assert_table_equal(gradients, expected, f"{case}: gradient in {mode} mode")


def _torch_gradients(torch: Any, case: Boundary, mode: str) -> tuple[Any, Gradients]:
    """PyTorch's value and gradients of the sum of the output, by autograd or forward AD."""
    import torch.autograd.forward_ad as fwAD
    import torch.nn.functional as TF

    if mode == "reverse":
        inputs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in case.inputs]
        out = case.run(torch, TF, *inputs)
        gradients = torch.autograd.grad(out.sum(), inputs)
        return out.detach().numpy(), tuple(g.numpy() for g in gradients)
    gradients = []
    for i, point in enumerate(case.inputs):
        shape = np.shape(point)
        column = np.zeros(int(np.prod(shape)))
        for k in range(column.size):  # one forward pass per element: a Jacobian column
            direction = np.zeros(column.size)
            direction[k] = 1.0
            with fwAD.dual_level():
                inputs = [torch.tensor(x, dtype=torch.float64) for x in case.inputs]
                tangent = torch.tensor(direction.reshape(shape), dtype=torch.float64)
                inputs[i] = fwAD.make_dual(inputs[i], tangent)
                out_tangent = fwAD.unpack_dual(case.run(torch, TF, *inputs).sum()).tangent
                column[k] = 0.0 if out_tangent is None else out_tangent.item()
        gradients.append(column.reshape(shape))
    return None, tuple(gradients)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("case", TABLE, ids=str)
def test_pytorch_gives_what_the_table_says(case: Boundary, mode: str) -> None:
    torch = pytest.importorskip("torch", reason="the oracle needs torch: pip install -e '.[test]'")
    value, gradients = _torch_gradients(torch, case, mode)
    if value is not None:
        _assert_table_equal([value], [case.value], f"{case}: PyTorch's value")
    _assert_table_equal(gradients, case.torch_gradients(mode), f"{case}: PyTorch, {mode} mode")


def _differs(a: Gradients, b: Gradients) -> bool:
    return any(
        not np.array_equal(np.asarray(x, dtype=float), np.asarray(y, dtype=float), equal_nan=True)
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("case", TABLE, ids=str)
def test_every_difference_has_its_reason(case: Boundary) -> None:
    differences = [
        _differs(case.reverse, case.forward_gradients),
        _differs(case.reverse, case.torch_gradients("reverse")),
        _differs(case.forward_gradients, case.torch_gradients("forward")),
    ]
    assert any(differences) == bool(case.why), f"{case}: a reason exactly where a value differs"


def test_the_modes_differ_only_where_a_derivative_is_infinite_or_nan() -> None:
    """Where every local derivative is finite, forward and reverse mode agree: the docs say so,
    and name the rows below as the cases where they do not."""
    differing = [case.name for case in TABLE if _differs(case.reverse, case.forward_gradients)]
    assert differing == ["where with NaN in the untaken branch", "logsumexp([inf, 0])"]
