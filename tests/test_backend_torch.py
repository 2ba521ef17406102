"""The PyTorch backend: torch tensors under dualgrad's engine, checked against torch.autograd."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import dualgrad
import dualgrad.nn.functional as F

torch = pytest.importorskip(
    "torch", reason="the torch backend needs PyTorch: pip install 'dualgrad[torch]'"
)


@pytest.fixture
def torch_backend() -> Iterator[Any]:
    with dualgrad.use_backend("torch") as backend:
        yield backend


def _program(m: Any, x: Any, w1: Any, b1: Any, w2: Any, labels: Any) -> Any:
    """A small classifier's loss, written once for dualgrad and for torch (module ``m``)."""
    hidden = m.tanh(x @ w1 + b1)
    logits = hidden[:, ::2] @ w2
    loss = (
        F.cross_entropy(logits, labels)
        if m is dualgrad
        else m.nn.functional.cross_entropy(logits, labels)
    )
    penalty = (w1 * w1).sum() + m.special.erf(b1).sum() + x[[0, 0, 2]].square().sum()
    return loss + 0.1 * penalty + logits.exp().sum(-1).log().mean()


def test_gradients_equal_torch_autograd(torch_backend: Any, mode: str) -> None:
    rng = np.random.default_rng(0)
    data = {
        "x": rng.standard_normal((8, 5)),
        "w1": rng.standard_normal((5, 6)),
        "b1": rng.standard_normal(6),
        "w2": rng.standard_normal((3, 4)),
    }
    labels = [0, 3, 1, 1, 2, 0, 3, 2]
    ours = {
        k: dualgrad.tensor(v.tolist(), dtype="float64", requires_grad=True)
        for k, v in data.items()
    }
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in data.items()}
    _program(dualgrad, **ours, labels=dualgrad.tensor(labels)).backward()
    _program(torch, **theirs, labels=torch.tensor(labels)).backward()
    for name in data:
        assert isinstance(ours[name].grad.array, torch.Tensor)
        np.testing.assert_allclose(
            ours[name].grad.numpy(),
            theirs[name].grad.numpy(),
            rtol=1e-12,
            atol=1e-14,
            err_msg=name,
        )


def test_arrays_inside_never_require_torch_grad(torch_backend: Any) -> None:
    x = dualgrad.randn(3, requires_grad=True)
    (x * x).sum().backward()
    assert not x.array.requires_grad
    assert not x.grad.array.requires_grad


def test_manual_seed_reseeds_a_torch_generator(torch_backend: Any) -> None:
    dualgrad.manual_seed(7)
    first = dualgrad.randn(5, dtype=dualgrad.float64).numpy()
    dualgrad.manual_seed(7)
    again = dualgrad.randn(5, dtype=dualgrad.float64).numpy()
    expected = torch.randn(5, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, expected.numpy())


def test_default_dtype_is_dualgrads_and_leaves_torchs_alone(torch_backend: Any) -> None:
    before = torch.get_default_dtype()
    dualgrad.set_default_dtype(dualgrad.float64)
    try:
        assert dualgrad.tensor([1.0, 2.0]).array.dtype is torch.float64
        assert dualgrad.zeros(2).dtype is dualgrad.float64
        assert torch.get_default_dtype() is before
    finally:
        dualgrad.set_default_dtype(dualgrad.float32)
    assert dualgrad.ones(2).array.dtype is torch.float32


def test_float64_survives_python_scalars(torch_backend: Any) -> None:
    x = dualgrad.tensor([0.5, 1.5], dtype=dualgrad.float64, requires_grad=True)
    y = (2 * x + 1.0) ** 2 / 3
    y.sum().backward()
    assert (y.dtype, x.grad.dtype) == (dualgrad.float64, dualgrad.float64)
    np.testing.assert_allclose(x.grad.numpy(), 4 * (2 * np.array([0.5, 1.5]) + 1) / 3)


def test_index_add_accumulates_repeated_positions(torch_backend: Any) -> None:
    x = dualgrad.zeros(4, 3, dtype=dualgrad.float64, requires_grad=True)
    (x[[0, 0, 2], 1:] * 2).sum().backward()
    expected = np.zeros((4, 3))
    expected[0, 1:] = 4.0
    expected[2, 1:] = 2.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_tensor_adopts_a_torch_tensor_as_it_is() -> None:
    array = torch.arange(3.0)
    t = dualgrad.tensor(array)
    assert t.backend.name == "torch"
    assert t.array is array
