"""Complex qr, svd, svdvals and the singular-value norms, through the public functions and both
engines: the factors' conventions, ``.grad`` against PyTorch's and JAX's for losses that do not
depend on the singular vectors' phases, and finite differences for losses that do (which
PyTorch refuses). The rules themselves are checked by the op table's complex lines
(tests/op_db_linalg.py, test_rules.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from tensors import assert_close, leaf, values

import dualgrad
import dualgrad.func

RNG = np.random.default_rng(1919)
SHAPES = [(3, 3), (4, 2), (2, 4), (2, 3, 2)]


def _matrix(shape: tuple[int, ...]) -> np.ndarray:
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def _complex(data: Any, *, requires_grad: bool = False) -> dualgrad.Tensor:
    return leaf(data, dtype=dualgrad.complex128, requires_grad=requires_grad)


def _weights(m: Any, shape: Any, seed: int) -> Any:
    """Fixed complex weights of ``shape``, as an array of module ``m``."""
    rng = np.random.default_rng(seed)
    return m.asarray(rng.standard_normal(tuple(shape)) + 1j * rng.standard_normal(tuple(shape)))


def _svd_loss(m: Any, x: Any) -> Any:
    """A real loss of all three factors that does not depend on the singular vectors' phases:
    |U|, |Vh|, S and U @ Vh are the same for U D and D^H Vh, D diagonal unitary."""
    u, s, vh = m.linalg.svd(x, full_matrices=False)
    uv = u @ vh
    return (
        (m.abs(u) ** 3 * m.real(_weights(m, u.shape, 1))).sum()
        + (m.abs(vh) ** 2 * m.imag(_weights(m, vh.shape, 2))).sum()
        + (s * s * m.real(_weights(m, s.shape, 3))).sum()
        + m.real(uv * _weights(m, uv.shape, 4)).sum()
    )


def _numerical_grad(loss: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """dL/dRe(x) + i dL/dIm(x) by central differences (PyTorch's convention for ``.grad``)."""
    grad = np.zeros_like(x)
    eps = 1e-6
    for index in np.ndindex(x.shape):
        for direction in (1.0, 1j):
            step = np.zeros_like(x)
            step[index] = eps * direction
            slope = (loss(x + step) - loss(x - step)) / (2 * eps)
            grad[index] += slope * direction
    return grad


# --- the factors ------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_svd_factors_reconstruct_with_real_positive_largest_entries(
    backend: Any, shape: tuple[int, ...]
) -> None:
    a = _matrix(shape)
    u, s, vh = dualgrad.linalg.svd(_complex(a), full_matrices=False)
    assert u.dtype == vh.dtype == dualgrad.complex128
    assert s.dtype == dualgrad.float64
    u, s, vh = values(u), values(s), values(vh)
    assert_close(u @ (s[..., None] * vh), a, 1e-12, 1e-12, "U S Vh")
    assert_close(s, np.linalg.svd(a, compute_uv=False), 1e-12, 1e-12, "S")
    largest = np.take_along_axis(u, np.abs(u).argmax(axis=-2)[..., None, :], axis=-2)
    assert_close(largest.imag, np.zeros(largest.shape), 0, 1e-12, "largest entries real")
    assert (largest.real > 0).all()
    assert_close(values(dualgrad.linalg.svdvals(_complex(a))), s, 1e-12, 1e-12, "svdvals")


@pytest.mark.parametrize("mode_", ["reduced", "complete"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_qr_factors_reconstruct_with_a_real_positive_diagonal(
    backend: Any, shape: tuple[int, ...], mode_: str
) -> None:
    a = _matrix(shape)
    q, r = (values(f) for f in dualgrad.linalg.qr(_complex(a), mode=mode_))
    assert_close(q @ r, a, 1e-12, 1e-12, "Q R")
    gram = np.conj(np.swapaxes(q, -1, -2)) @ q
    assert_close(gram, np.broadcast_to(np.eye(q.shape[-1]), gram.shape), 1e-12, 1e-12, "Q^H Q")
    assert_close(r, np.triu(r), 0, 0, "R upper")
    diagonal = np.diagonal(r, axis1=-2, axis2=-1)
    assert_close(diagonal.imag, np.zeros(diagonal.shape), 0, 1e-12, "R's diagonal real")
    assert (diagonal.real > 0).all()


# --- gradients against PyTorch and JAX ------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_svd_grad_of_a_phase_invariant_loss_matches_pytorch(
    mode: Any, shape: tuple[int, ...]
) -> None:
    torch = pytest.importorskip("torch")
    a = _matrix(shape)
    x, tx = _complex(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    _svd_loss(dualgrad, x).backward()
    _svd_loss(torch, tx).backward()
    assert_close(x.grad, tx.grad, 1e-10, 1e-10, "grad")


def test_svd_grad_is_the_conjugate_of_jax_grad() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    a = _matrix((4, 3))
    ours = dualgrad.func.grad(lambda x: _svd_loss(dualgrad, x))(_complex(a))
    theirs = jax.grad(lambda x: _svd_loss(jnp, x))(jnp.asarray(a))
    assert_close(ours, np.conj(np.asarray(theirs)), 1e-10, 1e-10, "grad vs conj(jax.grad)")


def test_svd_grad_of_a_phase_dependent_loss_matches_finite_differences(mode: Any) -> None:
    """PyTorch raises here (the loss depends on the phases it leaves free); dualgrad's U and Vh
    are functions of x, and their gradient is that of the factors it computes."""
    a = _matrix((3, 2))

    def loss(m: Any, x: Any) -> Any:
        u, _, vh = m.linalg.svd(x, full_matrices=False)
        return m.real(u[0, 0] + 2 * u[1, 1]) + m.imag(vh[0, 1] - vh[1, 0])

    x = _complex(a, requires_grad=True)
    loss(dualgrad, x).backward()
    expected = _numerical_grad(lambda b: float(values(loss(dualgrad, _complex(b)))), a)
    assert_close(x.grad, expected, 1e-7, 1e-8, "grad vs finite differences")
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="phase"):
        loss(torch, torch.tensor(a, requires_grad=True)).backward()


# Complete Q of a tall matrix is not differentiable (its last columns are any basis).
QR_CASES = [((3, 3), "reduced"), ((4, 2), "reduced"), ((2, 4), "reduced"), ((2, 2, 3), "reduced")]
QR_CASES += [((3, 3), "complete"), ((2, 4), "complete")]


@pytest.mark.parametrize(("shape", "mode_"), QR_CASES, ids=str)
def test_qr_grad_matches_pytorch(mode: Any, shape: tuple[int, ...], mode_: str) -> None:
    """PyTorch's R has a real diagonal too (of either sign): its factors, with those signs held
    constant, are dualgrad's."""
    torch = pytest.importorskip("torch")
    a = _matrix(shape)

    def loss(m: Any, x: Any) -> Any:
        q, r = m.linalg.qr(x, mode=mode_)
        if m is torch:
            signs = torch.diagonal(r, dim1=-2, dim2=-1).detach().real.sign()
            q, r = q * signs[..., None, :], r * signs[..., :, None]
        return (m.real(q * _weights(m, q.shape, 5)) ** 2).sum() + m.imag(
            r * _weights(m, r.shape, 6)
        ).sum()

    x, tx = _complex(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    loss(dualgrad, x).backward()
    loss(torch, tx).backward()
    assert_close(x.grad, tx.grad, 1e-10, 1e-10, "grad")


@pytest.mark.parametrize(
    "ord_", ["nuc", 2, -2, "fro", 1, float("inf")], ids=["nuc", "2", "-2", "fro", "1", "inf"]
)
def test_matrix_norm_of_complex_input_matches_pytorch(mode: Any, ord_: Any) -> None:
    torch = pytest.importorskip("torch")
    a = _matrix((2, 4, 3))
    x, tx = _complex(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours, theirs = dualgrad.linalg.matrix_norm(x, ord=ord_), torch.linalg.matrix_norm(tx, ord=ord_)
    assert ours.dtype == dualgrad.float64
    assert_close(ours, theirs, 1e-12, 1e-12, "norm")
    (ours * dualgrad.tensor([1.0, -2.0])).sum().backward()
    (theirs * torch.tensor([1.0, -2.0], dtype=torch.float64)).sum().backward()
    assert_close(x.grad, tx.grad, 1e-10, 1e-10, "grad")


def test_svdvals_of_complex_input_is_real_with_pytorchs_grad(mode: Any) -> None:
    torch = pytest.importorskip("torch")
    a = _matrix((3, 5))
    x, tx = _complex(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    weights = [1.0, -0.5, 2.0]
    (dualgrad.linalg.svdvals(x) * dualgrad.tensor(weights)).sum().backward()
    (torch.linalg.svdvals(tx) * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    assert_close(x.grad, tx.grad, 1e-10, 1e-10, "grad")


# --- under vmap -------------------------------------------------------------------------------
def test_complex_svd_and_qr_batch_under_vmap() -> None:
    a = _matrix((3, 4, 2))

    def factors(x: Any) -> Any:
        u, s, vh = dualgrad.linalg.svd(x, full_matrices=False)
        q, r = dualgrad.linalg.qr(x)
        return u, s, vh, q, r

    def loss(x: Any) -> Any:
        u, s, vh, q, r = factors(x)
        return (
            (dualgrad.abs(u @ vh) ** 2).sum() + s.sum() + dualgrad.real(q * r[..., :1, :1]).sum()
        )

    batched = dualgrad.func.vmap(factors)(_complex(a))
    looped = [factors(_complex(m)) for m in a]
    for i, out in enumerate(batched):
        assert_close(out, np.stack([values(f[i]) for f in looped]), 1e-12, 1e-12, f"output {i}")
    grads = dualgrad.func.vmap(dualgrad.func.grad(loss))(_complex(a))
    for m, grad in zip(a, values(grads), strict=True):
        assert_close(grad, dualgrad.func.grad(loss)(_complex(m)), 1e-12, 1e-12, "grad")
