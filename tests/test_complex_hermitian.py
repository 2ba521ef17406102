"""Complex input to the Hermitian decompositions (cholesky, eigh, eigvalsh), slogdet, pinv
and matrix_rank: ``.grad`` of real losses against PyTorch in both modes, ``grad`` against the
conjugate of ``jax.grad``, ``jvp`` against ``jax.jvp``, and the errors. The rules themselves are
checked the four ways by the op table's complex lines (tests/op_db_linalg.py, test_rules.py).

Eigenvectors are losses of their magnitudes or of ``V diag(f(w)) V^H``: a complex eigenvector
is unique up to a phase, and PyTorch differentiates only losses that do not depend on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from tensors import assert_close, leaf

import dualgrad

RNG = np.random.default_rng(7)


def _uniform(*shape: int) -> np.ndarray:
    return RNG.uniform(-1.0, 1.0, shape) + 1j * RNG.uniform(-1.0, 1.0, shape)


_B = _uniform(2, 3, 3)
SPD = _B @ np.conj(np.swapaxes(_B, -1, -2)) + 3 * np.eye(3)  # Hermitian positive definite
SPD = SPD + 0.2 * _uniform(2, 3, 3)  # and a non-Hermitian part, which is not read
GENERAL = _uniform(2, 3, 3) + 2 * np.eye(3)
TALL = _uniform(2, 4, 3)
WEIGHTS = _uniform(2, 3, 3)


def _hermitian(m: Any, a: Any) -> Any:
    return (a + m.conj(a.mT)) / 2


# Each: a real loss of complex matrices, written once for dualgrad, torch and jax.numpy (as m),
# and the matrices it is taken at. PyTorch reads only one triangle (cholesky) or assumes
# Hermitian input (eigh); dualgrad and JAX read the Hermitian part: the losses take it first.
def _cholesky_loss(m: Any, a: Any, w: Any) -> Any:
    factor = m.linalg.cholesky(_hermitian(m, a))
    return m.sum(m.abs(factor * w) ** 2) + m.sum(m.real(factor * w))


def _cholesky_upper_loss(m: Any, a: Any, w: Any) -> Any:
    # upper is L^H: PyTorch's keyword, and JAX's L^H spelled out
    a = _hermitian(m, a)
    if m is dualgrad or m.__name__ == "torch":
        upper = m.linalg.cholesky(a, upper=True)
    else:
        upper = m.conj(m.linalg.cholesky(a).mT)
    return m.sum(m.imag(upper * w)) + m.sum(m.abs(upper) ** 3)


def _eigenvector_magnitudes_loss(m: Any, a: Any, w: Any) -> Any:
    vectors = m.linalg.eigh(_hermitian(m, a))[1]
    return m.sum(m.abs(vectors) ** 4 * m.real(w))


def _spectral_function_loss(m: Any, a: Any, w: Any) -> Any:
    values, vectors = m.linalg.eigh(_hermitian(m, a))
    function = (vectors * m.sin(values)[..., None, :]) @ m.conj(vectors.mT)
    return m.sum(m.real(function * w))


def _eigenvalues_loss(m: Any, a: Any, w: Any) -> Any:
    return m.sum(m.linalg.eigvalsh(_hermitian(m, a)) ** 2 * m.real(w[..., 0]))


def _slogdet_loss(m: Any, a: Any, w: Any) -> Any:
    sign, logabsdet = m.linalg.slogdet(a)
    return m.sum(logabsdet * m.real(w[..., 0, 0])) + m.sum(m.real(sign * w[..., 0, 1]))


def _pinv_loss(m: Any, a: Any, w: Any) -> Any:
    inverse = m.linalg.pinv(a)
    return m.sum(m.abs(inverse) ** 3) + m.sum(m.imag(w @ inverse))


LOSSES: dict[str, tuple[Callable[..., Any], np.ndarray]] = {
    "cholesky": (_cholesky_loss, SPD),
    "cholesky-upper": (_cholesky_upper_loss, SPD),
    "eigh-magnitudes": (_eigenvector_magnitudes_loss, SPD),
    "eigh-spectral-function": (_spectral_function_loss, SPD),
    "eigvalsh": (_eigenvalues_loss, SPD),
    "slogdet": (_slogdet_loss, GENERAL),
    "pinv": (_pinv_loss, TALL),
}


def _complex(data: Any, *, requires_grad: bool = False) -> dualgrad.Tensor:
    return leaf(data, dtype=dualgrad.complex128, requires_grad=requires_grad)


@pytest.mark.parametrize("name", LOSSES)
def test_grad_of_a_real_loss_matches_pytorch(name: str, backend: Any, mode: Any) -> None:
    torch = pytest.importorskip("torch")
    loss, at = LOSSES[name]
    a = _complex(at, requires_grad=True)
    loss(dualgrad, a, _complex(WEIGHTS)).backward()
    ta = torch.tensor(at, requires_grad=True)
    loss(torch, ta, torch.tensor(WEIGHTS)).backward()
    assert_close(a.grad, ta.grad.numpy(), 1e-9, 1e-10, ".grad")


@pytest.mark.parametrize("name", LOSSES)
def test_grad_is_the_conjugate_of_jax_grad(name: str) -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    loss, at = LOSSES[name]
    ours = dualgrad.func.grad(lambda a: loss(dualgrad, a, _complex(WEIGHTS)))(_complex(at))
    theirs = jax.grad(lambda a: loss(jnp, a, jnp.asarray(WEIGHTS)))(jnp.asarray(at))
    assert_close(ours, np.conj(np.asarray(theirs)), 1e-9, 1e-10, "grad vs conj(jax.grad)")


@pytest.mark.parametrize("name", LOSSES)
def test_jvp_matches_jax_jvp(name: str) -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    loss, at = LOSSES[name]
    rng = np.random.default_rng(1)
    tangent = rng.uniform(-1.0, 1.0, at.shape) + 1j * rng.uniform(-1.0, 1.0, at.shape)
    _, ours = dualgrad.func.jvp(
        lambda a: loss(dualgrad, a, _complex(WEIGHTS)), (_complex(at),), (_complex(tangent),)
    )
    _, theirs = jax.jvp(
        lambda a: loss(jnp, a, jnp.asarray(WEIGHTS)),
        (jnp.asarray(at),),
        (jnp.asarray(tangent),),
    )
    assert_close(ours, np.asarray(theirs), 1e-9, 1e-10, "jvp vs jax.jvp")


def test_values_match_numpy(backend: Any) -> None:
    a = _complex(SPD)
    hermitian = (SPD + np.conj(np.swapaxes(SPD, -1, -2))) / 2
    factor = dualgrad.linalg.cholesky(a)
    assert_close(factor, np.linalg.cholesky(hermitian), 1e-12, 1e-12, "cholesky")
    upper = dualgrad.linalg.cholesky(a, upper=True)
    assert_close(upper, np.conj(np.swapaxes(factor.numpy(), -1, -2)), 0, 0, "upper is L^H")
    values, vectors = dualgrad.linalg.eigh(a)
    assert values.dtype is dualgrad.float64
    assert_close(values, np.linalg.eigvalsh(hermitian), 1e-12, 1e-12, "eigenvalues")
    rebuilt = (vectors * values[..., None, :]) @ dualgrad.conj(dualgrad.matrix_transpose(vectors))
    assert_close(rebuilt, hermitian, 1e-12, 1e-12, "V diag(w) V^H")
    largest = np.take_along_axis(
        vectors.numpy(), np.abs(vectors.numpy()).argmax(axis=-2)[..., None, :], axis=-2
    )
    assert_close(np.imag(largest), 0 * largest.real, 0, 1e-15, "largest entries are real")
    assert (np.real(largest) > 0).all()
    sign, logabsdet = dualgrad.linalg.slogdet(_complex(GENERAL))
    expected_sign, expected_logabsdet = np.linalg.slogdet(GENERAL)
    assert (sign.dtype, logabsdet.dtype) == (dualgrad.complex128, dualgrad.float64)
    assert_close(sign, expected_sign, 1e-12, 1e-12, "sign")
    assert_close(logabsdet, expected_logabsdet, 1e-12, 1e-12, "logabsdet")


def test_matrix_rank_of_complex_matrices_matches_numpy(backend: Any) -> None:
    low_rank = _uniform(2, 4, 2) @ _uniform(2, 2, 3)  # rank 2 of 3
    for array in (low_rank, GENERAL):
        rank = dualgrad.linalg.matrix_rank(_complex(array, requires_grad=True))
        assert (rank.dtype, rank.requires_grad) == (dualgrad.int64, False)
        assert_close(rank, np.linalg.matrix_rank(array), 0, 0, "rank")
    empty = dualgrad.linalg.matrix_rank(dualgrad.zeros(0, 2, 2, dtype=dualgrad.complex128))
    assert (empty.shape, empty.dtype) == ((0,), dualgrad.int64)
    assert int(dualgrad.linalg.matrix_rank(_complex(low_rank[0]), rtol=0.9)) == 1


@pytest.mark.parametrize("name", ["cholesky", "eigh", "eigvalsh", "slogdet", "matrix_rank"])
def test_complex_input_of_the_wrong_shape_raises_as_real_input_does(name: str) -> None:
    function = getattr(dualgrad.linalg, name)
    kind = "matrices" if name == "matrix_rank" else "square matrices"
    shapes = [(3,)] if name == "matrix_rank" else [(3,), (2, 3)]
    for shape in shapes:
        for dtype in (dualgrad.float64, dualgrad.complex128):
            x = dualgrad.ones(*shape, dtype=dtype)
            message = rf"{name}: expected {kind} .*{re.escape(str(shape))}"
            with pytest.raises(ValueError, match=message):
                function(x)


EMPTY_LOSSES: dict[str, Callable[[Any], Any]] = {
    "cholesky": lambda a: dualgrad.abs(dualgrad.linalg.cholesky(a)).sum(),
    "eigh": lambda a: sum(dualgrad.abs(part).sum() for part in dualgrad.linalg.eigh(a)),
    "slogdet": lambda a: sum(dualgrad.abs(part).sum() for part in dualgrad.linalg.slogdet(a)),
}


@pytest.mark.parametrize("name", EMPTY_LOSSES)
def test_gradients_of_empty_complex_matrices(name: str, backend: Any, mode: Any) -> None:
    a = dualgrad.zeros(2, 0, 0, dtype=dualgrad.complex128, requires_grad=True)
    EMPTY_LOSSES[name](a).backward()
    assert (a.grad.shape, a.grad.dtype) == ((2, 0, 0), dualgrad.complex128)
