"""Forward mode: the mode switch, forward mode behind ``backward()``, and dual numbers.

The tests behind ``backward()`` run the same program under ``use_mode("reverse")`` and
``use_mode("forward")`` and compare the ``.grad`` they leave; the dual-number tests compare
``unpack_dual(...).tangent`` with central finite differences and with analytic derivatives.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from tensors import leaf as _t
from tensors import values

import dualgrad
import dualgrad.forward_ad as fwAD

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def restore_mode():
    """Put back the process-wide mode after a test that calls ``set_mode``."""
    previous = dualgrad.get_mode()
    yield
    dualgrad.set_mode(previous)


def _python(code, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k != "DUALGRAD_MODE"}
    env.update(env_overrides)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- the mode switch --------------------------------------------------------------------------
def test_mode_defaults_to_reverse_without_env_var():
    result = _python("import dualgrad; print(dualgrad.get_mode())")
    assert result.stdout == "reverse\n", result.stderr


def test_set_mode_changes_get_mode(restore_mode):
    dualgrad.set_mode("forward")
    assert dualgrad.get_mode() == "forward"
    dualgrad.set_mode("reverse")
    assert dualgrad.get_mode() == "reverse"


def test_set_mode_applies_to_other_threads(restore_mode):
    dualgrad.set_mode("forward")
    seen = []
    thread = threading.Thread(target=lambda: seen.append(dualgrad.get_mode()))
    thread.start()
    thread.join()
    assert seen == ["forward"]


def test_use_mode_sets_mode_inside_block_and_restores_after(restore_mode):
    dualgrad.set_mode("reverse")
    with dualgrad.use_mode("forward") as active:
        assert active == "forward"
        assert dualgrad.get_mode() == "forward"
    assert dualgrad.get_mode() == "reverse"


def test_use_mode_nests_and_restores_each_level(restore_mode):
    dualgrad.set_mode("reverse")
    with dualgrad.use_mode("forward"):
        with dualgrad.use_mode("reverse"):
            assert dualgrad.get_mode() == "reverse"
            with dualgrad.use_mode("forward"):
                assert dualgrad.get_mode() == "forward"
            assert dualgrad.get_mode() == "reverse"
        assert dualgrad.get_mode() == "forward"
    assert dualgrad.get_mode() == "reverse"


def test_use_mode_restores_after_exception(restore_mode):
    dualgrad.set_mode("reverse")
    with pytest.raises(KeyError, match="boom"), dualgrad.use_mode("forward"):
        raise KeyError("boom")
    assert dualgrad.get_mode() == "reverse"


def test_use_mode_overrides_set_mode_inside_block(restore_mode):
    with dualgrad.use_mode("reverse"):
        dualgrad.set_mode("forward")
        assert dualgrad.get_mode() == "reverse"
    assert dualgrad.get_mode() == "forward"


def test_use_mode_in_one_thread_does_not_change_another(restore_mode):
    dualgrad.set_mode("reverse")
    entered, checked = threading.Event(), threading.Event()
    inside = []

    def worker():
        with dualgrad.use_mode("forward"):
            inside.append(dualgrad.get_mode())
            entered.set()
            checked.wait(timeout=10)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert entered.wait(timeout=10)
        assert dualgrad.get_mode() == "reverse"
    finally:
        checked.set()
        thread.join()
    assert inside == ["forward"]


def test_use_mode_in_main_thread_does_not_change_new_thread(restore_mode):
    dualgrad.set_mode("reverse")
    seen = []
    with dualgrad.use_mode("forward"):
        thread = threading.Thread(target=lambda: seen.append(dualgrad.get_mode()))
        thread.start()
        thread.join()
    assert seen == ["reverse"]


def test_env_var_dualgrad_mode_forward_selects_forward():
    result = _python("import dualgrad; print(dualgrad.get_mode())", DUALGRAD_MODE="forward")
    assert result.stdout == "forward\n", result.stderr


def test_env_var_forward_mode_runs_backward_in_forward_mode():
    # retain_grad() on a non-leaf raises only in forward mode: it tells which engine ran
    code = (
        "import dualgrad\n"
        "x = dualgrad.tensor([1.0, 2.0], requires_grad=True)\n"
        "y = x * x\n"
        "try:\n"
        "    y.retain_grad()\n"
        "except RuntimeError:\n"
        "    print('no tape')\n"
        "y.sum().backward()\n"
        "print(x.grad.tolist())\n"
    )
    result = _python(code, DUALGRAD_MODE="forward")
    assert result.stdout == "no tape\n[2.0, 4.0]\n", result.stderr


def test_set_mode_unknown_raises_value_error_listing_modes(restore_mode):
    dualgrad.set_mode("forward")
    with pytest.raises(ValueError, match=r"'sideways'.*reverse, forward"):
        dualgrad.set_mode("sideways")
    assert dualgrad.get_mode() == "forward"


def test_use_mode_unknown_raises_value_error_listing_modes(restore_mode):
    dualgrad.set_mode("reverse")
    with (
        pytest.raises(ValueError, match=r"'sideways'.*reverse, forward"),
        dualgrad.use_mode("sideways"),
    ):
        pass
    assert dualgrad.get_mode() == "reverse"


def test_env_var_unknown_mode_raises_value_error_at_import():
    result = _python("import dualgrad", DUALGRAD_MODE="sideways")
    assert result.returncode != 0
    assert "ValueError" in result.stderr
    assert "DUALGRAD_MODE" in result.stderr
    assert "reverse, forward" in result.stderr


# --- forward mode behind backward(): the same .grad as reverse mode ----------------------------
RNG = np.random.default_rng(1234)
X34 = RNG.standard_normal((3, 4))
V4 = RNG.standard_normal(4)
M45 = RNG.standard_normal((4, 5))
B5 = RNG.standard_normal(5)


def _polynomial(x):
    return 3 * x**4 - 2 * x**3 + x * x - 5 * x + 7


def _polynomial_leaves():
    return {"x": _t(1.7, requires_grad=True)}


def _matmul_broadcast_mean(x, w, b):
    return dualgrad.tanh(x @ w + b).mean() * (w * w).mean() + (b / (1 + x.sum())).sum()


def _matmul_leaves():
    return {
        "x": _t(X34, requires_grad=True),
        "w": _t(M45, requires_grad=True),
        "b": _t(B5, requires_grad=True),
    }


def _shapes_and_selection(x, v):
    corner = x[1:, ::2]
    row = x[0, :]
    joined = dualgrad.concat([x, v[None, :] * 2], axis=0)  # (4, 4)
    stacked = dualgrad.stack([x, dualgrad.sin(x)], axis=0)  # (2, 3, 4)
    reshaped = dualgrad.reshape(stacked, (4, 6))
    chosen = dualgrad.where(x > 0, x * x, v * 3)
    biggest = dualgrad.maximum(x, v * 0.5)
    return (
        (corner**2).sum()
        + (row * v).sum()
        + (joined @ joined).mean()
        + (reshaped[:, 1:] ** 3).sum()
        + chosen.sum()
        + (biggest * biggest).sum()
    )


def _shapes_leaves():
    return {"x": _t(X34, requires_grad=True), "v": _t(V4, requires_grad=True)}


PROGRAMS = {
    "scalar_polynomial": (_polynomial, _polynomial_leaves),
    "matmul_broadcast_mean": (_matmul_broadcast_mean, _matmul_leaves),
    "getitem_concat_stack_reshape_where_maximum": (_shapes_and_selection, _shapes_leaves),
}


def _grads_in(mode_name, program, make_leaves):
    with dualgrad.use_mode(mode_name):
        leaves = make_leaves()
        program(**leaves).backward()
    return {name: values(leaf.grad) for name, leaf in leaves.items()}


@pytest.mark.parametrize("name", PROGRAMS)
def test_backward_gives_same_grad_in_both_modes(name, backend, float64):
    program, make_leaves = PROGRAMS[name]
    reverse = _grads_in("reverse", program, make_leaves)
    forward = _grads_in("forward", program, make_leaves)
    assert reverse.keys() == forward.keys()
    for key in reverse:
        assert np.allclose(forward[key], reverse[key], rtol=1e-10, atol=1e-12), key


def test_integer_index_on_matrix_gives_same_grad_in_both_modes(backend, float64):
    def program(x):
        return (x[0] * x[2]).sum()

    def make_leaves():
        return {"x": _t(X34, requires_grad=True)}

    reverse = _grads_in("reverse", program, make_leaves)["x"]
    forward = _grads_in("forward", program, make_leaves)["x"]
    expected = np.zeros((3, 4))
    expected[0], expected[2] = X34[2], X34[0]
    assert np.allclose(reverse, expected)
    assert np.allclose(forward, expected)


@pytest.mark.parametrize("name", PROGRAMS)
def test_backward_grad_matches_finite_differences_in_forward_mode(name, backend, float64):
    program, make_leaves = PROGRAMS[name]
    forward = _grads_in("forward", program, make_leaves)
    base = {key: values(leaf) for key, leaf in make_leaves().items()}
    eps = 1e-6
    for key, value in base.items():
        flat = value.reshape(-1)
        expected = np.empty(flat.size)
        for i in range(flat.size):
            shifted = []
            for step in (eps, -eps):
                moved = flat.copy()
                moved[i] += step
                args = {
                    k: _t(moved.reshape(value.shape) if k == key else v) for k, v in base.items()
                }
                shifted.append(program(**args).item())
            expected[i] = (shifted[0] - shifted[1]) / (2 * eps)
        assert np.allclose(forward[key].reshape(-1), expected, rtol=1e-5, atol=1e-6), key


def _train_mlp(mode_name, steps=20, lr=0.1):
    """A 4-16-16-1 tanh MLP (369 parameters), plain SGD, returning the loss per step."""
    rng = np.random.default_rng(7)
    inputs = _t(rng.standard_normal((32, 4)))
    targets = _t(np.sin(rng.standard_normal((32, 1))))
    shapes = [(4, 16), (16,), (16, 16), (16,), (16, 1), (1,)]
    params = [_t(rng.standard_normal(s) * 0.5, requires_grad=True) for s in shapes]
    optimizer = dualgrad.optim.SGD(params, lr=lr)
    losses = []
    with dualgrad.use_mode(mode_name):
        for _ in range(steps):
            w1, b1, w2, b2, w3, b3 = params
            hidden = dualgrad.tanh(inputs @ w1 + b1)
            hidden = dualgrad.tanh(hidden @ w2 + b2)
            loss = ((hidden @ w3 + b3 - targets) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return np.array(losses), [values(p) for p in params]


def test_mlp_sgd_training_gives_same_loss_curve_in_both_modes(backend, float64):
    reverse_losses, reverse_params = _train_mlp("reverse")
    forward_losses, forward_params = _train_mlp("forward")
    assert sum(p.size for p in reverse_params) == 369
    assert reverse_losses[-1] < reverse_losses[0]  # it does train
    assert np.allclose(forward_losses, reverse_losses, rtol=0, atol=1e-6)
    for forward_param, reverse_param in zip(forward_params, reverse_params, strict=True):
        assert np.allclose(forward_param, reverse_param, rtol=0, atol=1e-6)


# --- forward mode behind backward(): the rest of the interface ----------------------------------
def test_forward_mode_output_is_not_a_leaf_and_has_grad_fn(backend):
    with dualgrad.use_mode("forward"):
        x = _t([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
    assert y.requires_grad
    assert not y.is_leaf
    assert y.grad_fn is not None
    assert "SumBackward" in repr(y)


def test_gradients_accumulate_across_backwards(backend, mode):
    x = _t([1.0, -2.0, 3.0], requires_grad=True)
    for _ in range(3):
        (x * x).sum().backward()
    assert np.allclose(values(x.grad), 3 * 2 * np.array([1.0, -2.0, 3.0]))


def test_gradients_accumulate_across_different_outputs(backend, mode):
    x = _t([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    assert np.allclose(values(x.grad), [2.0 + 3.0, 4.0 + 3.0])


def test_grad_zero_resets_accumulated_gradient(backend, mode):
    x = _t([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad.zero_()
    assert np.allclose(values(x.grad), 0.0)
    (x * x * x).sum().backward()
    assert np.allclose(values(x.grad), [3.0, 12.0])


def test_optimizer_zero_grad_resets_gradients(backend, mode):
    w = _t([1.0, 2.0], requires_grad=True)
    b = _t(0.5, requires_grad=True)
    optimizer = dualgrad.optim.SGD([w, b], lr=0.1)
    (w * b).sum().backward()
    optimizer.zero_grad()
    assert w.grad is None
    assert b.grad is None
    (w * w).sum().backward()
    assert np.allclose(values(w.grad), [2.0, 4.0])


def test_optimizer_zero_grad_to_zeros_then_accumulates_fresh(backend, mode):
    w = _t([1.0, 2.0], requires_grad=True)
    optimizer = dualgrad.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    assert np.allclose(values(w.grad), 0.0)
    (5 * w).sum().backward()
    assert np.allclose(values(w.grad), [5.0, 5.0])


def test_no_grad_update_keeps_weight_a_leaf(backend, mode):
    w = _t([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with dualgrad.no_grad():
        w -= 0.25 * w.grad
    assert w.is_leaf
    assert w.grad_fn is None
    assert w.requires_grad
    assert np.allclose(values(w), [0.5, 1.0])


def test_gradient_after_no_grad_update_is_at_new_value(backend, mode):
    w = _t([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with dualgrad.no_grad():
        w -= 0.25 * w.grad
    w.grad = None
    (w**3).sum().backward()
    assert np.allclose(values(w.grad), 3 * np.array([0.5, 1.0]) ** 2)


def test_value_computed_before_no_grad_update_still_contributes(backend, mode):
    # y's graph (or tangent block) predates the update; both paths reach w, as in PyTorch
    w = _t([1.0, 2.0], requires_grad=True)
    y = w + 1.0
    with dualgrad.no_grad():
        w -= 0.5
    (y + w * 3).sum().backward()
    assert np.allclose(values(w.grad), [4.0, 4.0])


def test_tensor_computed_under_no_grad_does_not_require_grad(backend, mode):
    w = _t([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()  # seeds w in forward mode
    with dualgrad.no_grad():
        z = w * 2
    assert not z.requires_grad
    assert z.grad_fn is None


def test_tensor_computed_under_no_grad_is_a_constant_for_backward(backend, mode):
    w = _t([1.0, 2.0], requires_grad=True)
    _ = w * 1.0  # in forward mode this seeds w's tangent block, which no_grad must not carry
    with dualgrad.no_grad():
        z = w * w
    (z * w).sum().backward()
    assert np.allclose(values(w.grad), [1.0, 4.0])  # z, not 3 * w**2


def test_detach_stops_gradient(backend, mode):
    w = _t([1.0, 2.0], requires_grad=True)
    d = (w * w).detach()
    assert not d.requires_grad
    assert d.grad_fn is None
    (d * w).sum().backward()
    assert np.allclose(values(w.grad), [1.0, 4.0])


def test_backward_with_gradient_for_non_scalar_output(backend, mode, float64):
    x = _t(X34, requires_grad=True)
    w = _t(M45, requires_grad=True)
    y = dualgrad.sin(x @ w)
    gradient = _t(RNG.standard_normal((3, 5)))
    y.backward(gradient=gradient)
    cos = np.cos(X34 @ M45) * values(gradient)
    assert np.allclose(values(x.grad), cos @ M45.T)
    assert np.allclose(values(w.grad), X34.T @ cos)


def test_non_scalar_backward_without_gradient_raises(backend, mode):
    x = _t([1.0, 2.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match=r"shape \(2,\) needs a gradient"):
        y.backward()
    assert x.grad is None


def test_second_backward_without_retain_graph_raises(backend, mode):
    x = _t([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    assert np.allclose(values(x.grad), [2.0, 4.0])  # the failed backward changed nothing


def test_second_backward_with_retain_graph_works_and_accumulates(backend, mode):
    x = _t([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert np.allclose(values(x.grad), [4.0, 8.0])


def test_backward_on_tensor_not_requiring_grad_raises(backend, mode):
    x = _t([1.0, 2.0])
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_in_place_on_leaf_requiring_grad_raises(backend, mode):
    x = _t([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x -= 1.0
    assert np.allclose(values(x), [1.0, 2.0])


def test_retain_grad_on_non_leaf_in_forward_mode_raises(backend):
    with dualgrad.use_mode("forward"):
        x = _t([1.0, 2.0], requires_grad=True)
        y = x * x
        with pytest.raises(RuntimeError, match=r"needs reverse mode.*use_mode\('reverse'\)"):
            y.retain_grad()


def test_register_hook_on_non_leaf_in_forward_mode_raises(backend):
    with dualgrad.use_mode("forward"):
        x = _t([1.0, 2.0], requires_grad=True)
        y = x * x
        with pytest.raises(RuntimeError, match=r"needs reverse mode.*use_mode\('reverse'\)"):
            y.register_hook(lambda g: g)


def test_autograd_grad_wrt_non_leaf_in_forward_mode_raises_saying_reverse_mode_needed(backend):
    with dualgrad.use_mode("forward"):
        x = _t([1.0, 2.0], requires_grad=True)
        y = x * x
        with pytest.raises(RuntimeError, match="reverse"):
            dualgrad.autograd.grad((y * y).sum(), y)


def test_autograd_grad_wrt_leaf_in_forward_mode(backend, float64):
    with dualgrad.use_mode("forward"):
        x = _t([1.0, 2.0], requires_grad=True)
        (gradient,) = dualgrad.autograd.grad((x**4).sum(), x)
    assert np.allclose(values(gradient), [4.0, 32.0])
    assert x.grad is None


def test_retain_grad_on_non_leaf_in_reverse_mode_keeps_grad(backend):
    with dualgrad.use_mode("reverse"):
        x = _t([1.0, 2.0], requires_grad=True)
        y = x * x
        y.retain_grad()
        (3 * y).sum().backward()
    assert np.allclose(values(y.grad), [3.0, 3.0])


def test_create_graph_in_forward_mode_raises_pointing_to_reverse_mode(backend):
    with dualgrad.use_mode("forward"):
        x = _t([1.0, 2.0], requires_grad=True)
        y = (x**3).sum()
        with pytest.raises(RuntimeError, match=r"use_mode\('reverse'\).*hessian"):
            y.backward(create_graph=True)
    assert x.grad is None


def test_leaf_hooks_run_in_forward_mode(backend):
    seen = []
    with dualgrad.use_mode("forward"):
        x = _t([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: seen.append(values(g)))
        (x * x).sum().backward()
    assert len(seen) == 1
    assert np.allclose(seen[0], [2.0, 4.0])


def test_leaf_hook_can_replace_gradient(backend, mode):
    x = _t([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    assert np.allclose(values(x.grad), [20.0, 40.0])


def test_float32_leaves_get_float32_grads(backend, mode):
    x = _t([1.0, 2.0], requires_grad=True, dtype=dualgrad.float32)
    w = _t([[0.5, -1.0], [2.0, 0.25]], requires_grad=True, dtype=dualgrad.float32)
    dualgrad.tanh(x @ w).sum().backward()
    assert x.grad.dtype is dualgrad.float32
    assert w.grad.dtype is dualgrad.float32


def test_unused_leaf_gets_no_grad(backend, mode):
    x = _t([1.0, 2.0], requires_grad=True)
    unused = _t([3.0], requires_grad=True)
    _ = unused * 2  # used, but not by the output
    (x * x).sum().backward()
    assert unused.grad is None


def test_reverse_op_on_forward_mode_result_does_not_silently_lose_gradient(backend):
    x = _t([1.0, 2.0], requires_grad=True)
    with dualgrad.use_mode("forward"):
        a = x * 2
    with dualgrad.use_mode("reverse"):
        b = (a * 3).sum()
        try:
            b.backward()
        except RuntimeError as err:  # a clear error about mixing modes would do, too
            assert "mode" in str(err)
        else:
            assert x.grad is not None
            assert np.allclose(values(x.grad), [6.0, 6.0])


def test_forward_op_on_reverse_mode_result_does_not_silently_lose_gradient(backend):
    x = _t([1.0, 2.0], requires_grad=True)
    with dualgrad.use_mode("reverse"):
        a = x * 2
    with dualgrad.use_mode("forward"):
        b = (a * 3).sum()
        try:
            b.backward()
        except RuntimeError as err:  # a clear error about mixing modes would do, too
            assert "mode" in str(err)
        else:
            assert np.allclose(values(x.grad), [6.0, 6.0])


# --- dual numbers -----------------------------------------------------------------------------
W32 = RNG.standard_normal((3, 2))
DUAL_FUNCTIONS = {
    "sin": lambda x: dualgrad.sin(x),
    "exp_times_x": lambda x: dualgrad.exp(x) * x,
    "rational": lambda x: x / (1 + x * x),
    "sqrt_of_square_plus_one": lambda x: dualgrad.sqrt(x * x + 1),
    "matmul_tanh": lambda x: dualgrad.tanh(x @ _t(W32)),
    "sum_axis": lambda x: dualgrad.sum(x**2, axis=1),
    "mean_keepdims_broadcast": lambda x: x - dualgrad.mean(x, axis=0, keepdims=True),
    "getitem": lambda x: x[1:, ::-1] * 2,
    "transpose_reshape": lambda x: dualgrad.reshape(dualgrad.permute_dims(x, (1, 0)), (6,)),
    "max_axis": lambda x: dualgrad.max(x, axis=0),
}
X23 = RNG.standard_normal((2, 3))
T23 = RNG.standard_normal((2, 3))


def _central_difference(f, x, direction, eps=1e-6):
    return (values(f(_t(x + eps * direction))) - values(f(_t(x - eps * direction)))) / (2 * eps)


@pytest.mark.parametrize("name", DUAL_FUNCTIONS)
def test_make_dual_tangent_is_jacobian_vector_product(name, backend, float64):
    f = DUAL_FUNCTIONS[name]
    with fwAD.dual_level():
        out = f(fwAD.make_dual(_t(X23), _t(T23)))
        primal, tangent = fwAD.unpack_dual(out)
    assert np.allclose(values(primal), values(f(_t(X23))))
    assert np.allclose(values(tangent), _central_difference(f, X23, T23), rtol=1e-6, atol=1e-8)


def test_make_dual_tangents_of_two_inputs_add(backend, float64):
    x, y = _t([0.3, -1.2]), _t([2.0, 0.7])
    tx, ty = _t([1.0, 0.5]), _t([-0.25, 2.0])
    with fwAD.dual_level():
        out = fwAD.make_dual(x, tx) * dualgrad.exp(fwAD.make_dual(y, ty))
        tangent = fwAD.unpack_dual(out).tangent
    expected = values(tx) * np.exp(values(y)) + values(x) * np.exp(values(y)) * values(ty)
    assert np.allclose(values(tangent), expected)


def test_unpack_dual_of_tensor_without_tangent_gives_none(backend):
    with fwAD.dual_level():
        primal, tangent = fwAD.unpack_dual(_t([1.0, 2.0]) * 2)
    assert tangent is None
    assert np.allclose(values(primal), [2.0, 4.0])


def test_unpack_dual_primal_carries_no_tangent_of_that_level(backend):
    with fwAD.dual_level():
        dual = fwAD.make_dual(_t([1.0, 2.0]), _t([1.0, 1.0]))
        primal = fwAD.unpack_dual(dual * 3).primal
        assert fwAD.unpack_dual(primal * 2).tangent is None


def test_make_dual_does_not_change_its_input(backend):
    x = _t([1.0, 2.0])
    with fwAD.dual_level():
        fwAD.make_dual(x, _t([1.0, 1.0]))
        assert fwAD.unpack_dual(x * 2).tangent is None


def test_make_dual_without_level_raises(backend):
    with pytest.raises(RuntimeError, match="no dual level is active"):
        fwAD.make_dual(_t([1.0]), _t([1.0]))


def test_unpack_dual_without_level_gives_no_tangent_as_pytorch(backend):
    x = _t([1.0])
    primal, tangent = fwAD.unpack_dual(x)
    assert primal is x and tangent is None


def test_make_dual_shape_mismatch_raises(backend):
    with fwAD.dual_level(), pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        fwAD.make_dual(_t([1.0, 2.0]), _t([1.0, 2.0, 3.0]))


def test_make_dual_integer_tensor_raises(backend):
    with fwAD.dual_level(), pytest.raises(TypeError, match="floating point"):
        fwAD.make_dual(_t([1, 2], dtype=dualgrad.int64), _t([1.0, 1.0]))


def test_make_dual_integer_tangent_raises(backend):
    with fwAD.dual_level(), pytest.raises(TypeError, match="floating point"):
        fwAD.make_dual(_t([1.0, 2.0]), _t([1, 1], dtype=dualgrad.int64))


def test_no_grad_does_not_stop_make_dual_tangents(backend):
    with fwAD.dual_level():
        x = fwAD.make_dual(_t([1.0, 2.0]), _t([1.0, 1.0]))
        with dualgrad.no_grad():
            y = x * x
        tangent = fwAD.unpack_dual(y).tangent
    assert tangent is not None
    assert np.allclose(values(tangent), [2.0, 4.0])


def test_make_dual_tangents_flow_in_forward_mode_too(backend):
    with dualgrad.use_mode("forward"), fwAD.dual_level():
        x = fwAD.make_dual(_t([1.0, 2.0]), _t([1.0, -1.0]))
        tangent = fwAD.unpack_dual(x**3).tangent
    assert np.allclose(values(tangent), [3.0, -12.0])


def test_nested_jvp_has_no_perturbation_confusion(backend):
    # d/dx [x * d/dy (x + y)] at x = y = 1: the inner derivative is the constant 1, so 1, not 2
    def outer(x):
        inner = dualgrad.jvp(lambda y: x + y, (_t(1.0),), (_t(1.0),))[1]
        return x * inner

    _, derivative = dualgrad.jvp(outer, (_t(1.0),), (_t(1.0),))
    assert derivative.item() == 1.0


def test_nested_dual_levels_have_no_perturbation_confusion(backend):
    with fwAD.dual_level():
        x = fwAD.make_dual(_t(1.0), _t(1.0))
        with fwAD.dual_level():
            y = fwAD.make_dual(_t(1.0), _t(1.0))
            inner = fwAD.unpack_dual(x + y).tangent
        derivative = fwAD.unpack_dual(x * inner).tangent
    assert derivative.item() == 1.0


def test_outer_level_does_not_see_inner_level_tangent(backend):
    with fwAD.dual_level() as outer, fwAD.dual_level():
        y = fwAD.make_dual(_t([1.0, 2.0]), _t([1.0, 1.0])) * 2
        assert fwAD.unpack_dual(y, level=outer).tangent is None


SECOND_DERIVATIVES = {
    "cube": (lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x),
    "sin": (dualgrad.sin, np.cos, lambda x: -np.sin(x)),
    "exp_times_sin": (
        lambda x: dualgrad.exp(x) * dualgrad.sin(x),
        lambda x: np.exp(x) * (np.sin(x) + np.cos(x)),
        lambda x: 2 * np.exp(x) * np.cos(x),
    ),
}


@pytest.mark.parametrize("name", SECOND_DERIVATIVES)
def test_nested_dual_levels_give_second_derivatives(name, backend, float64):
    f, first, second = SECOND_DERIVATIVES[name]
    x0 = np.array([-1.3, 0.4, 2.1])
    with fwAD.dual_level():
        x = fwAD.make_dual(_t(x0), _t(np.ones(3)))
        with fwAD.dual_level():
            xx = fwAD.make_dual(x, _t(np.ones(3)))
            inner_primal, inner_tangent = fwAD.unpack_dual(f(xx))
        outer_tangent_of_value = fwAD.unpack_dual(inner_primal).tangent
        outer_tangent_of_derivative = fwAD.unpack_dual(inner_tangent).tangent
    assert np.allclose(values(inner_tangent), first(x0))
    assert np.allclose(values(outer_tangent_of_value), first(x0))
    assert np.allclose(values(outer_tangent_of_derivative), second(x0))


def test_tangent_of_closed_level_no_longer_propagates(backend):
    with fwAD.dual_level() as closed:
        x = fwAD.make_dual(_t([1.0, 2.0]), _t([1.0, 1.0]))
    y = x * x  # the level is closed
    assert fwAD.unpack_dual(y, level=closed).tangent is None
    with fwAD.dual_level():
        assert fwAD.unpack_dual(y).tangent is None
        assert fwAD.unpack_dual(x * 3).tangent is None


def test_closed_level_tangent_is_not_seen_by_later_backward(backend, mode):
    w = _t([1.0, 2.0], requires_grad=True)
    with fwAD.dual_level():
        x = fwAD.make_dual(_t([1.0, 1.0]), _t([5.0, 5.0]))
    (w * x).sum().backward()
    assert np.allclose(values(w.grad), [1.0, 1.0])


@pytest.mark.parametrize("choose", ["use_mode", "set_mode"])
def test_first_use_of_forward_mode_in_a_process_takes_effect(
    choose: str, restore_mode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dispatcher reads the mode only once forward mode was ever chosen: a process that
    never did must still run the first forward-mode block in forward mode."""
    from dualgrad import _settings_used

    monkeypatch.setattr(_settings_used, "forward_mode", False)
    x = dualgrad.tensor(2.0, requires_grad=True)
    if choose == "use_mode":
        with dualgrad.use_mode("forward"):
            y = x * x
    else:
        dualgrad.set_mode("forward")
        y = x * x
    assert type(y.grad_fn) is dualgrad.autograd.graph.ForwardNode
    y.backward()
    assert x.grad.item() == 4.0


def test_a_leaf_too_large_for_forward_mode_says_to_use_reverse_mode(monkeypatch):
    with dualgrad.use_backend("numpy"), dualgrad.use_mode("forward"):
        weight = dualgrad.ones(512, 784, requires_grad=True)
        namespace = weight._backend.namespace

        def eye(n, **kwargs):  # as NumPy fails for 401,408 x 401,408 float32 (600 GiB)
            msg = f"Unable to allocate 600. GiB for an array with shape ({n}, {n})"
            raise MemoryError(msg)

        monkeypatch.setattr(namespace, "eye", eye)
        with pytest.raises(MemoryError, match=r"401,408 elements .*\(600\.2 GiB\).*reverse mode"):
            weight * 2.0
        assert weight._tangents is None  # nothing seeded
