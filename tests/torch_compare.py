"""Running one computation on dualgrad and on PyTorch with the same inputs, and comparing the
values and the gradients (for one random cotangent)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from rule_checks import make_tensor
from tensors import assert_close

TIGHT = 1e-12  # values and gradients vs PyTorch, float64


def torch_or_skip() -> Any:
    """PyTorch, or a skip saying how to install it."""
    return pytest.importorskip("torch", reason="torch not installed; pip install torch==2.13.0")


def compare(
    backend: Any,
    ours: Callable[..., Any],
    theirs: Callable[..., Any],
    inputs: Sequence[np.ndarray],
    differentiable: tuple[int, ...] = (0,),
    tol: float = TIGHT,
) -> None:
    """Value and gradients (for a random cotangent) of ``ours`` on dualgrad and ``theirs`` on
    PyTorch agree; inputs are NumPy arrays, those at ``differentiable`` require grad."""
    torch = torch_or_skip()
    leaves = [
        make_tensor(backend, x, x.dtype.name, requires_grad=i in differentiable)
        for i, x in enumerate(inputs)
    ]
    torch_leaves = [
        torch.from_numpy(np.array(x)).requires_grad_(i in differentiable)
        for i, x in enumerate(inputs)
    ]
    out, torch_out = ours(*leaves), theirs(*torch_leaves)
    assert_close(out, torch_out, tol, tol, "value")
    u = np.random.default_rng(1).standard_normal(tuple(torch_out.shape))
    out.backward(make_tensor(backend, u, out.dtype.name))
    torch_out.backward(torch.from_numpy(u).to(torch_out.dtype))
    for i in differentiable:
        assert_close(leaves[i].grad, torch_leaves[i].grad, tol, tol, f"grad {i}")
