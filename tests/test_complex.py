"""Complex numbers through both engines: PyTorch's convention for ``.grad`` (the conjugate of
JAX's), checked against PyTorch and JAX on whole programs. The rules themselves are checked
by the op table's complex lines (tests/op_db_complex.py, test_rules.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tensors import assert_close, leaf, values

import dualgrad
from dualgrad.testing import gradcheck

RNG = np.random.default_rng(19)
Z = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
T = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)


def _complex(data: Any, *, requires_grad: bool = False) -> dualgrad.Tensor:
    return leaf(data, dtype=dualgrad.complex128, requires_grad=requires_grad)


def _real_loss(m: Any, z: Any) -> Any:
    """A real function of complex input that is not holomorphic anywhere it matters."""
    w = m.sin(z) * m.conj(z) + m.exp(z / 3) / (z * z + 2)
    return (m.abs(w) ** 2 + m.real(w) * m.imag(z) + m.angle(z + 3)).sum()


# --- what must be true: against PyTorch and JAX -------------------------------------------------
def test_least_squares_fit_trains_like_pytorch(backend: Any, mode: Any) -> None:
    """Complex weights, a real loss, SGD with momentum: dualgrad's steps are PyTorch's."""
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((12, 3)) + 1j * RNG.standard_normal((12, 3))
    y = x @ np.array([1 - 2j, 0.5j, -1.5]) + 0.1 * RNG.standard_normal(12)
    w0 = np.zeros(3, dtype=np.complex128)
    histories = []
    for m in (dualgrad, torch):
        w = m.tensor(w0, requires_grad=True)
        xs, ys = m.tensor(x), m.tensor(y)
        optimizer = m.optim.SGD([w], lr=0.05, momentum=0.5)
        history = []
        for _ in range(25):
            optimizer.zero_grad()
            loss = m.mean(m.abs(xs @ w - ys) ** 2)
            loss.backward()
            optimizer.step()
            history.append(values(w).copy())
        histories.append(np.array(history))
    assert_close(histories[0], histories[1], 1e-12, 1e-12, "weights after each step")
    assert np.abs(histories[0][-1] - [1 - 2j, 0.5j, -1.5]).max() < 0.2  # it did fit


def test_grad_is_the_conjugate_of_jax_grad() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    ours = dualgrad.func.grad(lambda z: _real_loss(dualgrad, z))(_complex(Z))
    theirs = jax.grad(lambda z: _real_loss(jnp, z))(jnp.asarray(Z))
    assert_close(ours, np.conj(np.asarray(theirs)), 1e-12, 1e-12, "grad vs conj(jax.grad)")


def test_grad_matches_pytorch_grad(mode: Any) -> None:
    torch = pytest.importorskip("torch")
    z, tz = _complex(Z, requires_grad=True), torch.tensor(Z, requires_grad=True)
    _real_loss(dualgrad, z).backward()
    _real_loss(torch, tz).backward()
    assert_close(z.grad, tz.grad, 1e-12, 1e-12, ".grad")


def test_jvp_of_a_nonholomorphic_function_matches_jax() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    def f(m: Any, z: Any) -> Any:
        return m.conj(z) * m.exp(z) + m.abs(z) * m.angle(z) + m.real(z) ** 2

    out, tangent = dualgrad.func.jvp(lambda z: f(dualgrad, z), (_complex(Z),), (_complex(T),))
    jax_out, jax_tangent = jax.jvp(lambda z: f(jnp, z), (jnp.asarray(Z),), (jnp.asarray(T),))
    assert_close(out, np.asarray(jax_out), 1e-12, 1e-12, "value")
    assert_close(tangent, np.asarray(jax_tangent), 1e-12, 1e-12, "tangent")


def test_vjp_matches_torch_func_vjp() -> None:
    torch = pytest.importorskip("torch")
    cotangent = T
    _, pullback = dualgrad.func.vjp(lambda z: dualgrad.sin(z) * dualgrad.conj(z), _complex(Z))
    _, torch_pullback = torch.func.vjp(lambda z: torch.sin(z) * z.conj(), torch.tensor(Z))
    (ours,) = pullback(_complex(cotangent))
    (theirs,) = torch_pullback(torch.tensor(cotangent))
    assert_close(ours, theirs, 1e-12, 1e-12, "vjp")


def _fft_convolution(m: Any, x: Any, k: Any) -> Any:
    """The circular convolution of x and k over 8 points, through the real transforms."""
    spectrum = m.fft.rfft(x, n=8) * m.fft.rfft(k, n=8)
    return m.fft.irfft(spectrum, n=8, norm="backward")


def test_fft_convolution_gradient_matches_finite_differences(backend: Any, mode: Any) -> None:
    x = leaf(RNG.standard_normal(8), requires_grad=True)
    k = leaf(RNG.standard_normal(5), requires_grad=True)
    assert gradcheck(lambda x, k: _fft_convolution(dualgrad, x, k) ** 2, (x, k))


def test_fft_convolution_gradient_matches_pytorch(mode: Any) -> None:
    torch = pytest.importorskip("torch")
    x0, k0, weights = RNG.standard_normal(8), RNG.standard_normal(5), RNG.standard_normal(8)
    grads = []
    for m in (dualgrad, torch):
        x, k = (m.tensor(v, requires_grad=True) for v in (x0, k0))
        (_fft_convolution(m, x, k) ** 2 * m.tensor(weights)).sum().backward()
        grads.append((values(x.grad), values(k.grad)))
    direct = np.array([sum(x0[(i - j) % 8] * k0[j] for j in range(5)) for i in range(8)])
    assert_close(_fft_convolution(dualgrad, leaf(x0), leaf(k0)), direct, 1e-12, 1e-12, "value")
    for ours, theirs, name in zip(*grads, "xk", strict=True):
        assert_close(ours, theirs, 1e-12, 1e-12, f"grad of {name}")


# --- the boundaries of the convention -----------------------------------------------------------
def test_forward_and_reverse_mode_give_the_same_complex_grad() -> None:
    grads = []
    for mode in ("reverse", "forward"):
        with dualgrad.use_mode(mode):
            z = _complex(Z, requires_grad=True)
            _real_loss(dualgrad, z).backward()
            grads.append(values(z.grad))
    assert_close(grads[0], grads[1], 1e-12, 1e-12, "forward vs reverse")


def test_hooks_see_pytorch_convention() -> None:
    torch = pytest.importorskip("torch")
    seen = []
    for m in (dualgrad, torch):
        z = m.tensor(Z, requires_grad=True)
        w = m.exp(z)
        w.register_hook(lambda g: seen.append(values(g)))
        w.register_hook(lambda g: g * 1j)  # a hook that changes the gradient it passes on
        (m.abs(w) ** 2).sum().backward()
        seen.append(values(z.grad))
    assert_close(seen[0], seen[2], 1e-12, 1e-12, "what the hook saw")
    assert_close(seen[1], seen[3], 1e-12, 1e-12, ".grad after the hook's change")


def test_backward_with_a_complex_gradient_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    grads = []
    for m in (dualgrad, torch):
        z = m.tensor(Z, requires_grad=True)
        (m.sin(z) * m.conj(z)).backward(m.tensor(T))
        grads.append(values(z.grad))
    assert_close(grads[0], grads[1], 1e-12, 1e-12, ".grad")


def test_real_leaf_through_complex_values_gets_a_real_grad(mode: Any) -> None:
    x = leaf([0.5, -1.0, 2.0], requires_grad=True)
    z = x.astype(dualgrad.complex128) * (1 + 2j)
    dualgrad.abs(z).sum().backward()
    assert x.grad.dtype is dualgrad.float64
    assert_close(x.grad, np.sign([0.5, -1.0, 2.0]) * np.sqrt(5.0), 1e-12, 1e-12, "grad")


def test_backward_on_a_complex_scalar_without_gradient_raises() -> None:
    z = _complex(Z, requires_grad=True)
    with pytest.raises(RuntimeError, match="real scalar outputs"):
        z.sum().backward()


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd", "hessian"])
def test_jacobian_transforms_refuse_complex_input(transform: str) -> None:
    with pytest.raises(TypeError, match="expected real inputs"):
        getattr(dualgrad.func, transform)(lambda z: dualgrad.abs(z).sum())(_complex(Z))


def test_only_floating_and_complex_tensors_require_grad() -> None:
    assert _complex(Z, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="floating point or complex"):
        leaf([1, 2], dtype=dualgrad.int64, requires_grad=True)


def test_astype_to_real_keeps_the_real_part_and_its_gradient() -> None:
    z = _complex(Z, requires_grad=True)
    x = z.astype(dualgrad.float64)
    assert_close(x, Z.real, 0, 0, "value")
    (x * x).sum().backward()
    assert_close(z.grad, 2 * Z.real, 1e-12, 1e-12, "grad")


def test_vecdot_conjugates_its_first_argument() -> None:
    torch = pytest.importorskip("torch")
    out = dualgrad.vecdot(_complex(Z), _complex(T))
    assert_close(out, torch.linalg.vecdot(torch.tensor(Z), torch.tensor(T)), 1e-12, 1e-12, "")


# --- Python protocols and printing --------------------------------------------------------------
def test_complex_converts_a_one_element_tensor() -> None:
    assert complex(_complex([1 - 2j])) == 1 - 2j


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        ([1 + 2j], None),
        ([1.5 + 2j, -3.25 - 1e-3j], None),
        (2j, None),
        ([[1 + 2j, 3j]], "complex128"),
        ([1e10 + 1j, 2j], None),
        ([float("nan") + 1j, 1e-5j], None),
    ],
)
def test_repr_is_pytorchs(data: Any, dtype: str | None) -> None:
    torch = pytest.importorskip("torch")
    ours = dualgrad.tensor(data, dtype=dtype and getattr(dualgrad, dtype))
    theirs = torch.tensor(data, dtype=dtype and getattr(torch, dtype))
    assert repr(ours) == repr(theirs).replace("torch.", "dualgrad.")


class _Square(dualgrad.autograd.Function):
    """z * z with its backward written in PyTorch's convention: grad * conj(2 z)."""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return z * z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad * dualgrad.conj(2 * z)


def test_custom_function_backward_is_written_in_pytorchs_convention() -> None:
    grads = []
    for square in (_Square.apply, dualgrad.square):
        z = _complex(Z, requires_grad=True)
        (dualgrad.abs(square(z) + z) ** 2).sum().backward()
        grads.append(values(z.grad))
    assert_close(grads[0], grads[1], 1e-12, 1e-12, "custom vs built-in")
