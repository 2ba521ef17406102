"""Linear algebra: the composite functions (tensordot, vecdot, outer, trace, diagonal, einsum,
tril, triu, norms) against NumPy and checked in both modes, the decompositions' gradients
through invariant compositions, and the errors.

The primitives (inv, solve, det, slogdet, cholesky, eigh, qr, svd) have their rules checked
through ``tests/op_db_linalg.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from rule_checks import make_tensor
from tensors import assert_close

import dualgrad
from dualgrad.testing import check_modes, gradcheck

RNG = np.random.default_rng(0)
A34 = RNG.uniform(-1.0, 1.0, (3, 4))
B42 = RNG.uniform(-1.0, 1.0, (4, 2))
C234 = RNG.uniform(-1.0, 1.0, (2, 3, 4))
V3 = RNG.uniform(-1.0, 1.0, 3)
W4 = RNG.uniform(-1.0, 1.0, 4)
SQUARE = RNG.uniform(-1.0, 1.0, (2, 3, 3)) + 3 * np.eye(3)

# name -> (dualgrad function of Tensors, NumPy function of arrays, inputs)
COMPOSITES: dict[str, tuple[Callable[..., Any], Callable[..., Any], tuple[np.ndarray, ...]]] = {
    "tensordot-1": (
        lambda a, b: dualgrad.tensordot(a, b, axes=1),
        lambda a, b: np.tensordot(a, b, axes=1),
        (A34, B42),
    ),
    "tensordot-pairs": (
        lambda c, a: dualgrad.tensordot(c, a, axes=([1, 2], [0, 1])),
        lambda c, a: np.tensordot(c, a, axes=([1, 2], [0, 1])),
        (C234, A34),
    ),
    "tensordot-0": (
        lambda v, w: dualgrad.tensordot(v, w, axes=0),
        lambda v, w: np.tensordot(v, w, axes=0),
        (V3, W4),
    ),
    "vecdot": (
        lambda c, w: dualgrad.vecdot(c, w),
        lambda c, w: np.sum(c * w, axis=-1),
        (C234, W4),
    ),
    "vecdot-axis": (
        lambda a, c: dualgrad.vecdot(a, c, axis=-2),
        lambda a, c: np.sum(a * c, axis=-2),
        (A34, C234),
    ),
    "outer": (dualgrad.outer, np.outer, (V3, W4)),
    "trace": (dualgrad.trace, np.trace, (A34,)),
    "trace-axes": (
        lambda c: dualgrad.trace(c, offset=1, axis1=2, axis2=0),
        lambda c: np.trace(c, offset=1, axis1=2, axis2=0),
        (C234,),
    ),
    "diagonal": (
        lambda c: dualgrad.diagonal(c, offset=-1, axis1=1, axis2=2),
        lambda c: np.diagonal(c, offset=-1, axis1=1, axis2=2),
        (C234,),
    ),
    "linalg.diagonal": (
        dualgrad.linalg.diagonal,
        lambda c: np.diagonal(c, axis1=-2, axis2=-1),
        (C234,),
    ),
    "linalg.trace": (
        lambda c: dualgrad.linalg.trace(c, offset=2),
        lambda c: np.trace(c, offset=2, axis1=-2, axis2=-1),
        (C234,),
    ),
    "tril": (lambda c: dualgrad.tril(c, k=1), lambda c: np.tril(c, k=1), (C234,)),
    "triu": (lambda a: dualgrad.triu(a, k=-1), lambda a: np.triu(a, k=-1), (A34,)),
    "einsum-matmul": (
        lambda a, b: dualgrad.einsum("ij,jk->ik", a, b),
        lambda a, b: np.einsum("ij,jk->ik", a, b),
        (A34, B42),
    ),
    "einsum-batch": (
        lambda c, a, w: dualgrad.einsum("bij,ij,j->bi", c, a, w),
        lambda c, a, w: np.einsum("bij,ij,j->bi", c, a, w),
        (C234, A34, W4),
    ),
    "einsum-implicit": (
        lambda a, b: dualgrad.einsum("ij,jk", a, b),
        lambda a, b: np.einsum("ij,jk", a, b),
        (A34, B42),
    ),
    "einsum-diagonal": (
        lambda s: dualgrad.einsum("...ii->...i", s),
        lambda s: np.einsum("...ii->...i", s),
        (SQUARE,),
    ),
    "einsum-trace-sum": (
        lambda s, v: dualgrad.einsum("bii,k->", s, v),
        lambda s, v: np.einsum("bii,k->", s, v),
        (SQUARE, V3),
    ),
    "einsum-ellipsis": (
        lambda c, b: dualgrad.einsum("...j,jk->...k", c, b),
        lambda c, b: np.einsum("...j,jk->...k", c, b),
        (C234, B42),
    ),
    "vector_norm": (
        lambda c: dualgrad.linalg.vector_norm(c, axis=(0, 2)),
        lambda c: np.sqrt(np.sum(c * c, axis=(0, 2))),
        (C234,),
    ),
    "vector_norm-3": (
        lambda a: dualgrad.linalg.vector_norm(a, ord=3, keepdims=True),
        lambda a: np.sum(np.abs(a) ** 3, keepdims=True) ** (1 / 3),
        (A34,),
    ),
    "vector_norm-1": (
        lambda a: dualgrad.linalg.vector_norm(a, axis=-1, ord=1),
        lambda a: np.linalg.norm(a, axis=-1, ord=1),
        (A34,),
    ),
    "vector_norm-inf": (
        lambda a: dualgrad.linalg.vector_norm(a, axis=0, ord=float("inf")),
        lambda a: np.linalg.norm(a, axis=0, ord=np.inf),
        (A34,),
    ),
    "matrix_norm-fro": (
        dualgrad.linalg.matrix_norm,
        lambda c: np.linalg.norm(c, ord="fro", axis=(-2, -1)),
        (C234,),
    ),
    "matrix_norm-nuc": (
        lambda s: dualgrad.linalg.matrix_norm(s, ord="nuc", keepdims=True),
        lambda s: np.linalg.norm(s, ord="nuc", axis=(-2, -1), keepdims=True),
        (SQUARE,),
    ),
    "matrix_norm-2": (
        lambda s: dualgrad.linalg.matrix_norm(s, ord=2),
        lambda s: np.linalg.norm(s, ord=2, axis=(-2, -1)),
        (SQUARE,),
    ),
    "matrix_norm--2": (  # a stack: one norm per matrix
        lambda s: dualgrad.linalg.matrix_norm(s, ord=-2),
        lambda s: np.linalg.norm(s, ord=-2, axis=(-2, -1)),
        (SQUARE,),
    ),
    "matrix_norm-1": (
        lambda c: dualgrad.linalg.matrix_norm(c, ord=1),
        lambda c: np.linalg.norm(c, ord=1, axis=(-2, -1)),
        (C234,),
    ),
    "matrix_norm-inf": (
        lambda c: dualgrad.linalg.matrix_norm(c, ord=-float("inf")),
        lambda c: np.linalg.norm(c, ord=-np.inf, axis=(-2, -1)),
        (C234,),
    ),
    # wide matrices (M < N): Q R_1 of the leading square block, R's rest is Q^T times the rest
    "qr-wide-Q": (lambda a: dualgrad.linalg.qr(a).Q, lambda a: _numpy_qr(a)[0], (A34,)),
    "qr-wide-R": (lambda a: dualgrad.linalg.qr(a).R, lambda a: _numpy_qr(a)[1], (C234,)),
    "qr-wide-complete-R": (
        lambda a: dualgrad.linalg.qr(a, mode="complete").R,
        lambda a: _numpy_qr(a, "complete")[1],
        (C234,),
    ),
}


def _numpy_qr(a: np.ndarray, mode: str = "reduced") -> tuple[np.ndarray, np.ndarray]:
    """NumPy's QR with R's diagonal made non-negative, as dualgrad's."""
    q, r = np.linalg.qr(a, mode=mode)
    k = min(a.shape[-2:])
    signs = np.where(np.diagonal(r, axis1=-2, axis2=-1) >= 0, 1.0, -1.0)
    q[..., :k] *= signs[..., None, :]
    r[..., :k, :] *= signs[..., :, None]
    return q, r


def _leaves(backend: Any, arrays: tuple[np.ndarray, ...]) -> list[dualgrad.Tensor]:
    return [make_tensor(backend, a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("name", COMPOSITES)
def test_composite_forward_matches_numpy(name: str, backend: Any) -> None:
    function, reference, arrays = COMPOSITES[name]
    out = function(*_leaves(backend, arrays))
    assert_close(out.detach().numpy(), reference(*arrays), 1e-12, 1e-12, name)


@pytest.mark.parametrize("name", COMPOSITES)
def test_composite_gradients(name: str, backend: Any) -> None:
    function, _, arrays = COMPOSITES[name]
    leaves = _leaves(backend, arrays)
    assert gradcheck(function, leaves)
    check_modes(function, *leaves)


def test_the_differentiable_namespace_has_the_linalg_functions() -> None:
    import dualgrad.functions
    import dualgrad.linalg

    assert set(dualgrad.linalg.__all__) <= set(dir(dualgrad.linalg))
    for name in dualgrad.linalg.__all__:
        assert getattr(dualgrad.functions.linalg, name) is getattr(dualgrad.linalg, name), name


# --- decompositions through compositions whose value does not depend on sign conventions -----
SPD = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, -0.2], [0.5, -0.2, 2.0]])
WEIGHTS = RNG.uniform(-1.0, 1.0, (3, 3))


def _sym(a: Any) -> Any:
    return (a + dualgrad.matrix_transpose(a)) * 0.5


INVARIANT: dict[str, tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]] = {
    # each pair: a function through a decomposition, and the same function without it
    "eigh": (
        lambda a, w: dualgrad.sum(
            w
            * (
                (dualgrad.linalg.eigh(a).eigenvectors * dualgrad.linalg.eigh(a).eigenvalues ** 2)
                @ dualgrad.matrix_transpose(dualgrad.linalg.eigh(a).eigenvectors)
            )
        ),
        lambda a, w: dualgrad.sum(w * (_sym(a) @ _sym(a))),
    ),
    "svd": (
        lambda a, w: dualgrad.sum(
            w
            * (
                dualgrad.linalg.svd(a).U
                * dualgrad.linalg.svd(a).S[..., None, :]
                @ dualgrad.linalg.svd(a).Vh
            )
        ),
        lambda a, w: dualgrad.sum(w * a),
    ),
    "qr": (
        lambda a, w: dualgrad.sum(w * (dualgrad.linalg.qr(a).Q @ dualgrad.linalg.qr(a).R)),
        lambda a, w: dualgrad.sum(w * a),
    ),
    "cholesky": (
        lambda a, w: dualgrad.sum(
            w * (dualgrad.linalg.cholesky(a) @ dualgrad.linalg.cholesky(a, upper=True))
        ),
        lambda a, w: dualgrad.sum(w * _sym(a)),
    ),
    "logdet": (
        lambda a, w: (
            2.0
            * dualgrad.sum(dualgrad.log(dualgrad.linalg.diagonal(dualgrad.linalg.cholesky(a))))
            * dualgrad.sum(w)
        ),
        lambda a, w: dualgrad.linalg.slogdet(_sym(a)).logabsdet * dualgrad.sum(w),
    ),
    "inv-solve": (
        lambda a, w: dualgrad.sum(dualgrad.linalg.inv(a) @ w),
        lambda a, w: dualgrad.sum(dualgrad.linalg.solve(a, w)),
    ),
}


@pytest.mark.parametrize("name", INVARIANT)
def test_decomposition_gradients_match_direct_formula(name: str, backend: Any) -> None:
    through, direct = INVARIANT[name]
    grads = []
    for function in (through, direct):
        a = make_tensor(backend, SPD, requires_grad=True)
        function(a, make_tensor(backend, WEIGHTS)).backward()
        grads.append(a.grad.numpy())
    assert_close(grads[0], grads[1], 1e-9, 1e-10, name)


@pytest.mark.parametrize("name", INVARIANT)
def test_decomposition_compositions_agree_in_both_modes(name: str, backend: Any) -> None:
    through, _ = INVARIANT[name]
    a = make_tensor(backend, SPD, requires_grad=True)
    check_modes(lambda a: through(a, make_tensor(backend, WEIGHTS)), a)


def test_eigenvector_sign_invariant_function_matches_pytorch(backend: Any) -> None:
    torch = pytest.importorskip("torch")
    a = make_tensor(backend, SPD, requires_grad=True)
    v = dualgrad.linalg.eigh(a).eigenvectors
    dualgrad.sum(v**4).backward()
    ta = torch.tensor(SPD, requires_grad=True)
    (torch.linalg.eigh(ta).eigenvectors ** 4).sum().backward()
    expected = (ta.grad + ta.grad.mT).numpy() / 2  # dualgrad reads the symmetric part
    assert_close(a.grad.numpy(), expected, 1e-9, 1e-10, "grad")


# --- errors -----------------------------------------------------------------------------------
def test_errors_name_the_problem(backend: Any) -> None:
    a = make_tensor(backend, A34)
    with pytest.raises(ValueError, match=r"inv: expected square matrices .* \(3, 4\)"):
        dualgrad.linalg.inv(a)
    with pytest.raises(TypeError, match="det: expected a floating point or complex tensor"):
        dualgrad.linalg.det(dualgrad.ones(2, 2, dtype=dualgrad.int64))
    with pytest.raises(ValueError, match="qr: mode must be 'reduced' or 'complete', got 'r'"):
        dualgrad.linalg.qr(a, mode="r")
    with pytest.raises(ValueError, match="tensordot: axis"):
        dualgrad.tensordot(a, a, axes=1)
    with pytest.raises(ValueError, match="outer: expected two 1-D"):
        dualgrad.outer(a, a)
    with pytest.raises(ValueError, match="einsum: 'ij,jk' names 2 operands, got 1"):
        dualgrad.einsum("ij,jk", a)
    with pytest.raises(ValueError, match="matrix_norm: unknown ord"):
        dualgrad.linalg.matrix_norm(a, ord=3)
    with pytest.raises(ValueError, match="full_matrices=False"):
        dualgrad.linalg.svd(make_tensor(backend, A34, requires_grad=True))


# --- qr in mode "complete" --------------------------------------------------------------------
def test_complete_qr_of_tall_matrices_matches_numpy(backend: Any) -> None:
    tall = make_tensor(backend, B42)
    q, r = dualgrad.linalg.qr(tall, mode="complete")
    expected_q, expected_r = _numpy_qr(B42, "complete")
    assert (q.shape, r.shape) == ((4, 4), (4, 2))
    assert_close(q[:, :2], expected_q[:, :2], 1e-12, 1e-12, "Q's leading columns")
    assert_close(r, expected_r, 1e-12, 1e-12, "R")
    # the other columns: any orthonormal basis of the complement
    assert_close(dualgrad.matrix_transpose(q) @ q, np.eye(4), 1e-12, 1e-12, "Q^T Q")
    assert_close(q @ r, B42, 1e-12, 1e-12, "Q R")


def test_complete_qr_of_tall_matrices_refuses_gradients(backend: Any, mode: Any) -> None:
    tall = make_tensor(backend, B42, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"mode='complete' of tall matrices \(shape \(4, 2\)"):
        dualgrad.linalg.qr(tall, mode="complete")
    with dualgrad.no_grad():
        assert dualgrad.linalg.qr(tall, mode="complete").Q.shape == (4, 4)
    assert dualgrad.linalg.qr(tall.detach(), mode="complete").R.shape == (4, 2)


def test_complete_qr_of_square_and_wide_matrices_is_the_reduced_one(backend: Any) -> None:
    for array in (A34, SQUARE):
        x = make_tensor(backend, array, requires_grad=True)
        complete, reduced = dualgrad.linalg.qr(x, mode="complete"), dualgrad.linalg.qr(x)
        assert_close(complete.Q, reduced.Q, 0, 0)
        assert_close(complete.R, reduced.R, 0, 0)


# --- empty stacks -----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(0, 3, 3), (2, 0, 3), (2, 3, 0), (0, 2, 4), (0, 0)])
def test_matrix_rank_and_pinv_of_empty_stacks_match_numpy(shape: tuple[int, ...], backend):
    x = make_tensor(backend, np.ones(shape))
    rank = dualgrad.linalg.matrix_rank(x)
    assert rank.dtype is dualgrad.int64
    assert_close(rank, np.linalg.matrix_rank(np.ones(shape)), 0, 0, "matrix_rank")
    assert_close(dualgrad.linalg.pinv(x), np.linalg.pinv(np.ones(shape)), 0, 0, "pinv")


@pytest.mark.parametrize("order", [3.0, 1.5, 0.5, -1.0, -2.5])
def test_p_norm_gradient_is_pytorchs_at_zero_elements_and_zero_vectors(
    order: float, backend: Any, mode: Any
) -> None:
    """The power rules have no derivative at 0 (|x|**p for p < 1, the norm's 1/p power at a
    zero norm); PyTorch's gradient there is 0, and the others are the p-norm's."""
    torch = pytest.importorskip("torch", reason="PyTorch is the reference: pip install torch")
    data = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, -2.0], [0.5, 1.0, -2.0]])
    x = make_tensor(backend, data, "float64", requires_grad=True)
    norm = dualgrad.linalg.vector_norm(x, ord=order, axis=1)
    norm.sum().backward()
    t = torch.tensor(data, requires_grad=True)
    expected = torch.linalg.vector_norm(t, ord=order, dim=1)
    expected.sum().backward()
    assert_close(norm, expected.detach().numpy(), 1e-12, 1e-12, "norm")
    assert_close(x.grad, t.grad.numpy(), 1e-12, 1e-12, "gradient")
