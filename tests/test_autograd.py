"""Reverse mode, as PyTorch's autograd: accumulation, graph lifetime, grad mode, in-place
ops and their errors, hooks, ``autograd.grad``, and the engine's limits (depth, memory)."""

from __future__ import annotations

import gc
import threading
import tracemalloc
import weakref

import numpy as np
import pytest
from tensors import assert_close, values

import dualgrad
from dualgrad.autograd import grad


# --- accumulation and the graph's lifetime ----------------------------------------------------
def test_backward_accumulates_into_grad_across_calls(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    assert_close(x.grad, [2.0 * 1 + 3, 2.0 * 2 + 3])


def test_grad_zero_keeps_the_same_grad_tensor(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    grad_before = x.grad
    x.grad.zero_()
    assert x.grad is grad_before
    assert_close(x.grad, [0.0, 0.0])
    (x * x).sum().backward()
    assert x.grad is grad_before
    assert_close(x.grad, [2.0, 4.0])


def test_retain_graph_allows_second_backward_and_accumulates(backend):
    x = dualgrad.tensor(3.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, 2 * 6.0)


def test_second_backward_without_retain_graph_raises(backend):
    x = dualgrad.tensor(3.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        y.backward()
    assert_close(x.grad, 6.0)  # the failed backward added nothing


def test_create_graph_gives_second_derivative_through_backward(backend):
    x = dualgrad.tensor(2.0, requires_grad=True)
    (x**3).backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    assert_close(first, 3 * 2.0**2)
    x.grad = None
    first.backward()
    assert_close(x.grad, 6 * 2.0)


def test_create_graph_gives_second_derivative_through_autograd_grad(backend):
    x = dualgrad.tensor([2.0, -1.0], requires_grad=True)
    (first,) = grad((x**3).sum(), x, create_graph=True)
    assert_close(first, [12.0, 3.0])
    (second,) = grad(first.sum(), x)
    assert_close(second, [12.0, -6.0])
    assert x.grad is None


def test_backward_gradient_argument_gives_vector_jacobian_product(backend):
    x = dualgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x  # Jacobian diag(2x)
    y.backward(dualgrad.tensor([1.0, 0.5, -1.0]))
    assert_close(x.grad, [2.0, 2.0, -6.0])


def test_backward_on_non_scalar_output_without_gradient_raises(backend):
    x = dualgrad.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"\(1, 3\).*gradient=dualgrad.ones_like"):
        y.backward()
    assert x.grad is None


def test_backward_with_wrong_shape_gradient_raises(backend):
    x = dualgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        y.backward(dualgrad.tensor([1.0, 1.0]))
    assert x.grad is None


def test_backward_on_tensor_that_does_not_require_grad_raises(backend):
    x = dualgrad.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"does not require grad.*requires_grad=True"):
        x.sum().backward()


# --- grad mode ----------------------------------------------------------------------------------
def test_no_grad_context_records_nothing(backend):
    x = dualgrad.tensor(1.0, requires_grad=True)
    with dualgrad.no_grad():
        assert not dualgrad.is_grad_enabled()
        y = x * 2
    assert dualgrad.is_grad_enabled()
    assert not y.requires_grad
    assert y.grad_fn is None


def test_no_grad_decorator_records_nothing_and_restores_mode(backend):
    @dualgrad.no_grad()
    def double(t):
        assert not dualgrad.is_grad_enabled()
        return t * 2

    x = dualgrad.tensor(1.0, requires_grad=True)
    y = double(x)
    assert not y.requires_grad
    assert dualgrad.is_grad_enabled()
    assert double.__name__ == "double"


def test_enable_grad_inside_no_grad_records(backend):
    x = dualgrad.tensor(1.0, requires_grad=True)
    with dualgrad.no_grad():
        with dualgrad.enable_grad():
            y = x * 2
        assert not dualgrad.is_grad_enabled()
    assert y.requires_grad
    assert y.grad_fn is not None


def test_enable_grad_decorator_records_inside_no_grad(backend):
    @dualgrad.enable_grad()
    def double(t):
        return t * 2

    x = dualgrad.tensor(1.0, requires_grad=True)
    with dualgrad.no_grad():
        y = double(x)
        assert not dualgrad.is_grad_enabled()
    assert y.requires_grad


def test_set_grad_enabled_as_plain_call_takes_effect_at_once():
    try:
        dualgrad.set_grad_enabled(False)
        assert not dualgrad.is_grad_enabled()
        x = dualgrad.tensor(1.0, requires_grad=True)
        assert not (x * 2).requires_grad
        dualgrad.set_grad_enabled(True)
        assert dualgrad.is_grad_enabled()
        assert (x * 2).requires_grad
    finally:
        dualgrad.set_grad_enabled(True)


def test_set_grad_enabled_as_context_restores_previous_mode():
    with dualgrad.set_grad_enabled(False):
        assert not dualgrad.is_grad_enabled()
        with dualgrad.set_grad_enabled(True):
            assert dualgrad.is_grad_enabled()
        assert not dualgrad.is_grad_enabled()
    assert dualgrad.is_grad_enabled()


def test_set_grad_enabled_as_decorator_applies_per_call():
    @dualgrad.set_grad_enabled(False)
    def mode_inside():
        return dualgrad.is_grad_enabled()

    assert dualgrad.is_grad_enabled()  # decorating changed nothing
    assert mode_inside() is False
    assert dualgrad.is_grad_enabled()


def test_nested_grad_modes_restore_in_order():
    no_grad = dualgrad.no_grad()
    seen = []
    with no_grad:
        seen.append(dualgrad.is_grad_enabled())
        with dualgrad.enable_grad():
            seen.append(dualgrad.is_grad_enabled())
            with no_grad:  # the same object, re-entered
                seen.append(dualgrad.is_grad_enabled())
            seen.append(dualgrad.is_grad_enabled())
        seen.append(dualgrad.is_grad_enabled())
    seen.append(dualgrad.is_grad_enabled())
    assert seen == [False, True, False, True, False, True]


def test_grad_mode_is_restored_when_the_block_raises():
    with pytest.raises(KeyError), dualgrad.no_grad():
        raise KeyError("boom")
    assert dualgrad.is_grad_enabled()


def test_grad_mode_is_thread_local():
    inside_no_grad = threading.Event()
    main_checked = threading.Event()
    seen_in_worker = []

    def worker():
        with dualgrad.no_grad():
            inside_no_grad.set()
            main_checked.wait(timeout=10)
            seen_in_worker.append(dualgrad.is_grad_enabled())

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside_no_grad.wait(timeout=10)
    x = dualgrad.tensor(1.0, requires_grad=True)
    main_enabled = dualgrad.is_grad_enabled()
    main_records = (x * 2).requires_grad
    main_checked.set()
    thread.join(timeout=10)
    assert main_enabled
    assert main_records
    assert seen_in_worker == [False]


def test_new_thread_starts_with_grad_enabled_whatever_the_caller_mode():
    barrier = threading.Barrier(2, timeout=10)
    seen_in_worker = []

    def worker():
        barrier.wait()  # the main thread is inside no_grad now
        x = dualgrad.tensor(1.0, requires_grad=True)
        seen_in_worker.append((dualgrad.is_grad_enabled(), (x * 2).requires_grad))
        barrier.wait()

    thread = threading.Thread(target=worker)
    thread.start()
    with dualgrad.no_grad():
        barrier.wait()
        barrier.wait()
        assert not dualgrad.is_grad_enabled()
    thread.join(timeout=10)
    assert seen_in_worker == [(True, True)]


# --- detach ---------------------------------------------------------------------------------
def test_detach_gives_leaf_without_grad_with_same_values(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert d.is_leaf
    assert d.grad_fn is None
    assert not d.requires_grad
    assert d.dtype is y.dtype
    assert_close(d, [3.0, 6.0])
    assert not (d * 2).requires_grad


def test_inplace_change_to_detached_tensor_changes_the_original(backend):
    # detach() is a view, as PyTorch's (tests/test_views.py has the rest).
    x = dualgrad.tensor([1.0, 2.0])
    d = x.detach()
    d += 10
    assert_close(x, [11.0, 12.0])
    assert_close(d, [11.0, 12.0])
    c = x.clone()
    c += 1
    assert_close(x, [11.0, 12.0])


# --- in-place operations on non-leaves ------------------------------------------------------
def _iadd(t, other):
    t += other
    return t


def _isub(t, other):
    t -= other
    return t


def _imul(t, other):
    t *= other
    return t


def _idiv(t, other):
    t /= other
    return t


INPLACE_OPS = {
    "+=": (_iadd, lambda t, other: t + other),
    "-=": (_isub, lambda t, other: t - other),
    "*=": (_imul, lambda t, other: t * other),
    "/=": (_idiv, lambda t, other: t / other),
    "add_": (lambda t, other: t.add_(other), lambda t, other: t + other),
    "sub_": (lambda t, other: t.sub_(other), lambda t, other: t - other),
    "mul_": (lambda t, other: t.mul_(other), lambda t, other: t * other),
    "div_": (lambda t, other: t.div_(other), lambda t, other: t / other),
    "zero_": (lambda t, other: t.zero_(), lambda t, other: t * 0),
}


def _inplace_program(op, x, w, z):
    y = x * w  # a non-leaf
    result = op(y, z)
    return result, (result * x).sum()  # x is used again after the in-place update


@pytest.mark.parametrize("name", list(INPLACE_OPS))
def test_inplace_op_on_non_leaf_gives_same_gradients_as_out_of_place(name, backend):
    inplace, out_of_place = INPLACE_OPS[name]
    leaves = []
    for op in (inplace, out_of_place):
        x = dualgrad.tensor([1.0, -2.0, 3.0], requires_grad=True)
        w = dualgrad.tensor([0.5, 4.0, -1.5], requires_grad=True)
        z = dualgrad.tensor([2.0, 0.25, -3.0], requires_grad=True)
        result, loss = _inplace_program(op, x, w, z)
        loss.backward()
        leaves.append((values(result), x.grad, w.grad, z.grad))
    (got_value, *got_grads), (want_value, *want_grads) = leaves
    np.testing.assert_allclose(got_value, want_value, rtol=1e-6)
    for got, want in zip(got_grads, want_grads, strict=True):
        if want is None:  # zero_ cuts z off entirely
            assert got is None or np.all(values(got) == 0)
        else:
            assert got is not None
            np.testing.assert_allclose(values(got), values(want), rtol=1e-6)


@pytest.mark.parametrize("name", list(INPLACE_OPS))
def test_inplace_op_returns_same_tensor_and_bumps_version(name, backend):
    inplace, _ = INPLACE_OPS[name]
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    version = y._version
    result = inplace(y, dualgrad.tensor([3.0, 4.0]))
    assert result is y
    assert y._version == version + 1


def test_inplace_op_on_non_leaf_with_python_scalar_gives_right_gradient(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y *= 3.0
    y += 1.0
    y.sum().backward()
    assert_close(y, [4.0, 13.0])
    assert_close(x.grad, [6.0, 12.0])


def test_modifying_a_tensor_saved_for_backward_raises_naming_the_node(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    w = dualgrad.tensor([3.0, 4.0], requires_grad=True)
    y = x * 2
    z = y * w  # MulBackward0 saves y to compute w's gradient
    y += 1
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*MulBackward0"):
        z.sum().backward()
    assert x.grad is None
    assert w.grad is None


def test_modifying_a_saved_tensor_error_says_what_to_do(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y.exp() * y
    y.mul_(2)
    with pytest.raises(RuntimeError, match=r"version 1; expected version 0.*out of place"):
        z.sum().backward()


def test_inplace_on_leaf_that_requires_grad_raises(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf.*requires grad.*no_grad"):
        x += 1
    with pytest.raises(RuntimeError, match=r"sub_: a leaf.*no_grad"):
        x.sub_(1)
    with pytest.raises(RuntimeError, match=r"zero_: a leaf.*no_grad"):
        x.zero_()


def test_inplace_on_leaf_inside_no_grad_works_and_keeps_it_a_leaf(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    with dualgrad.no_grad():
        x -= 0.5
        x.mul_(2)
    assert_close(x, [1.0, 3.0])
    assert x.is_leaf
    assert x.grad_fn is None
    assert x.requires_grad
    assert x._version == 2
    (x * x).sum().backward()
    assert_close(x.grad, [2.0, 6.0])


def test_inplace_change_to_an_output_keeps_its_backward_valid(backend):
    # README: the tape keeps its own reference to an op's output, so changing it is allowed.
    x = dualgrad.tensor([0.0, 1.0], requires_grad=True)
    y = x.exp()  # ExpBackward0 uses its output
    y += 1.0
    y.sum().backward()
    assert_close(y, np.exp([0.0, 1.0]) + 1.0)
    assert_close(x.grad, np.exp([0.0, 1.0]))


def test_zero_clears_non_finite_values(backend):
    grad_like = dualgrad.tensor([float("inf"), float("nan"), -float("inf"), 2.0])
    grad_like.zero_()
    assert grad_like.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_diamond_graph_sums_both_paths(backend):
    x = dualgrad.tensor(2.0, requires_grad=True)
    y = x * 3
    z = y * y + y.exp() + y  # y reaches z three ways
    z.backward()
    assert_close(x.grad, 3 * (2 * 6.0 + np.exp(6.0) + 1), rtol=1e-6)


def test_backward_of_several_outputs_sums_their_contributions(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    dualgrad.autograd.backward(
        [x * x, (x * 3).sum()], [dualgrad.tensor([1.0, 10.0]), dualgrad.tensor(1.0)]
    )
    assert_close(x.grad, [2.0 + 3.0, 40.0 + 3.0])


def test_assigning_grad_of_wrong_shape_raises(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        x.grad = dualgrad.zeros(3)
    assert x.grad is None


def test_gradient_from_another_backend_raises():
    with dualgrad.use_backend("numpy"):
        x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    with dualgrad.use_backend("array_api_strict"):
        seed = dualgrad.tensor([1.0, 1.0])
    with pytest.raises(TypeError, match=r"array_api_strict.*numpy"):
        (x * 2).backward(seed)
    assert x.grad is None


# --- nothing half-updated -------------------------------------------------------------------
def _state(t):
    return (values(t).copy(), t._version, t.grad_fn, t.requires_grad, t.is_leaf)


def _assert_same_state(t, state):
    got = _state(t)
    np.testing.assert_array_equal(got[0], state[0])
    assert got[1:] == state[1:]


def test_failed_out_of_place_op_changes_nothing(backend):
    x = dualgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    before_x, before_y = _state(x), _state(y)
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        y + dualgrad.tensor([1.0, 2.0, 3.0, 4.0])
    _assert_same_state(x, before_x)
    _assert_same_state(y, before_y)


def test_failed_inplace_broadcast_changes_nothing(backend):
    x = dualgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    before = _state(y)
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        y.add_(dualgrad.tensor([1.0, 2.0, 3.0, 4.0]))
    _assert_same_state(y, before)


def test_failed_inplace_that_would_change_shape_changes_nothing(backend):
    x = dualgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    before = _state(y)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        y += dualgrad.ones(2, 3)
    _assert_same_state(y, before)
    y.sum().backward()  # the graph is intact
    assert_close(x.grad, [2.0, 2.0, 2.0])


def test_failed_inplace_float_into_int_changes_nothing(backend):
    n = dualgrad.tensor([1, 2, 3])
    before = _state(n)
    with pytest.raises(TypeError, match=r"float32.*int64"):
        n.mul_(1.5)
    _assert_same_state(n, before)


def test_failed_inplace_on_leaf_changes_nothing(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    before = _state(x)
    with pytest.raises(RuntimeError, match="leaf"):
        x.add_(1.0)
    _assert_same_state(x, before)


# --- retain_grad ----------------------------------------------------------------------------
def test_retain_grad_fills_grad_of_non_leaf(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    assert y.retains_grad
    (y * y).sum().backward()
    assert_close(y.grad, [6.0, 12.0])
    assert_close(x.grad, [18.0, 36.0])


def test_grad_of_non_leaf_without_retain_grad_is_none_with_pytorchs_warning(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    (y * y).sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
        assert y.grad is None
    assert not y.retains_grad


# --- hooks ----------------------------------------------------------------------------------
def test_hook_on_leaf_observes_its_gradient(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(values(g)))
    (x * x).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [2.0, 4.0])


def test_hook_on_non_leaf_observes_its_gradient(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(values(g)))
    (y * y).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [6.0, 12.0])


def test_hook_on_leaf_can_replace_the_gradient(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    assert_close(x.grad, [20.0, 40.0])


def test_hook_on_non_leaf_replacement_flows_to_leaves(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.register_hook(lambda g: g * 0 + 1)
    (y * y).sum().backward()
    assert_close(x.grad, [3.0, 3.0])


def test_removed_hook_is_not_called(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1) or g * 10)
    handle.remove()
    handle.remove()  # removing twice is harmless
    (x * x).sum().backward()
    assert calls == []
    assert_close(x.grad, [2.0, 4.0])


def test_removed_hook_on_non_leaf_is_not_called(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    calls = []
    handle = y.register_hook(lambda g: calls.append(1))
    y.register_hook(lambda g: calls.append(2))
    handle.remove()
    (y * y).sum().backward()
    assert calls == [2]


def test_hook_on_tensor_that_does_not_require_grad_raises(backend):
    x = dualgrad.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        x.register_hook(lambda g: g)


def _grads_snapshot(*tensors):
    return [(t.grad, None if t.grad is None else values(t.grad).copy()) for t in tensors]


def _assert_grads_unchanged(tensors, snapshot):
    for t, (grad_object, grad_values) in zip(tensors, snapshot, strict=True):
        assert t.grad is grad_object
        if grad_values is not None:
            np.testing.assert_array_equal(values(t.grad), grad_values)


def test_leaf_hook_returning_wrong_shape_raises_and_leaves_grads_unchanged(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    w = dualgrad.tensor([3.0, 4.0], requires_grad=True)
    (x * w).sum().backward()  # both have a .grad now
    v = dualgrad.tensor([5.0, 6.0], requires_grad=True)  # and this one has none
    x.register_hook(lambda g: dualgrad.ones(3))
    snapshot = _grads_snapshot(x, w, v)
    with pytest.raises(
        ValueError, match=r"shape \(3,\).*expected None or a Tensor of shape \(2,\)"
    ):
        (x * w * v).sum().backward()
    _assert_grads_unchanged((x, w, v), snapshot)


def test_non_leaf_hook_returning_wrong_shape_raises_and_leaves_grads_unchanged(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    w = dualgrad.tensor([3.0, 4.0], requires_grad=True)
    (x * w).sum().backward()
    y = x * w
    y.retain_grad()
    y.register_hook(lambda g: dualgrad.ones(2, 2))
    snapshot = _grads_snapshot(x, w, y)
    with pytest.raises(ValueError, match=r"shape \(2, 2\).*shape \(2,\)"):
        (y * w).sum().backward()
    _assert_grads_unchanged((x, w, y), snapshot)


def test_hook_returning_non_tensor_raises(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: [1.0, 1.0])
    with pytest.raises(ValueError, match="returned list"):
        (x * x).sum().backward()
    assert x.grad is None


# --- dualgrad.autograd.grad -----------------------------------------------------------------
def test_autograd_grad_returns_gradients_without_touching_grad(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    w = dualgrad.tensor([3.0, 4.0], requires_grad=True)
    dx, dw = grad((x * w).sum(), [x, w])
    assert_close(dx, [3.0, 4.0])
    assert_close(dw, [1.0, 2.0])
    assert x.grad is None
    assert w.grad is None
    assert not dx.requires_grad


def test_autograd_grad_with_respect_to_non_leaf(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    (dy,) = grad((y * y).sum(), y)
    assert_close(dy, [6.0, 12.0])
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert y.grad is None
    assert x.grad is None


def test_autograd_grad_outputs_gives_vector_jacobian_product(backend):
    x = dualgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (dx,) = grad(x * x, x, grad_outputs=dualgrad.tensor([1.0, -1.0, 0.5]))
    assert_close(dx, [2.0, -4.0, 3.0])


def test_autograd_grad_unused_input_raises(backend):
    x = dualgrad.tensor(1.0, requires_grad=True)
    unused = dualgrad.tensor(2.0, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"not have been used.*allow_unused=True"):
        grad(x * 2, [x, unused])


def test_autograd_grad_allow_unused_gives_none(backend):
    x = dualgrad.tensor(1.0, requires_grad=True)
    unused = dualgrad.tensor(2.0, requires_grad=True)
    dx, dunused = grad(x * 2, [x, unused], allow_unused=True)
    assert_close(dx, 2.0)
    assert dunused is None


def test_autograd_grad_retain_graph_allows_a_second_call(backend):
    x = dualgrad.tensor(3.0, requires_grad=True)
    y = x * x
    (first,) = grad(y, x, retain_graph=True)
    (second,) = grad(y, x)
    assert_close(first, 6.0)
    assert_close(second, 6.0)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        grad(y, x)


def test_autograd_grad_of_input_that_does_not_require_grad_raises(backend):
    x = dualgrad.tensor(1.0, requires_grad=True)
    constant = dualgrad.tensor(2.0)
    with pytest.raises(RuntimeError, match="requires grad"):
        grad(x * constant, constant)


def test_backward_inputs_accumulates_only_into_those(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    w = dualgrad.tensor([3.0, 4.0], requires_grad=True)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    assert_close(w.grad, [1.0, 2.0])


def test_backward_inputs_may_name_a_non_leaf(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    (y * y).sum().backward(inputs=[y])
    assert x.grad is None
    assert_close(y.grad, [6.0, 12.0])


# --- what can require grad ------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda: dualgrad.tensor([1, 2]),
        lambda: dualgrad.tensor([True, False]),
        lambda: dualgrad.arange(3),
    ],
    ids=["int64", "bool", "arange"],
)
def test_integer_and_bool_tensors_cannot_require_grad(make, backend):
    t = make()
    with pytest.raises(TypeError, match="floating point"):
        t.requires_grad_()
    with pytest.raises(TypeError, match="floating point"):
        t.requires_grad = True
    assert not t.requires_grad


def test_creating_integer_tensor_that_requires_grad_raises(backend):
    with pytest.raises(TypeError, match=r"floating point.*int64"):
        dualgrad.tensor([1, 2], requires_grad=True)


def test_setting_requires_grad_false_on_non_leaf_raises(backend):
    x = dualgrad.tensor(1.0, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"leaf.*detach\(\)"):
        y.requires_grad = False
    assert y.requires_grad
    assert y.grad_fn is not None


@pytest.mark.parametrize(
    "compare",
    [
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: a == b,
        lambda a, b: a != b,
    ],
    ids=["lt", "le", "gt", "ge", "eq", "ne"],
)
def test_comparisons_return_bool_tensors_that_never_require_grad(compare, backend):
    x = dualgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (compare(x, x * 2 - 2), compare(x, 2.0)):
        assert result.dtype is dualgrad.bool
        assert not result.requires_grad
        assert result.grad_fn is None


def test_broadcast_gradients_are_summed_to_each_leaf_shape(backend):
    a = dualgrad.tensor([[1.0], [2.0], [3.0]], requires_grad=True)  # (3, 1)
    b = dualgrad.tensor([10.0, 20.0, 30.0, 40.0], requires_grad=True)  # (4,)
    ((a + b) * (a * b)).sum().backward()
    a_np = values(a)
    b_np = values(b)
    # d/da sum((a+b)ab) = sum_j (2ab + b^2); d/db = sum_i (a^2 + 2ab)
    np.testing.assert_allclose(values(a.grad), (2 * a_np * b_np + b_np**2).sum(1, keepdims=True))
    np.testing.assert_allclose(values(b.grad), (a_np**2 + 2 * a_np * b_np).sum(0))
    assert a.grad.shape == (3, 1)
    assert b.grad.shape == (4,)


def test_broadcast_against_scalar_tensor_sums_to_scalar(backend):
    s = dualgrad.tensor(2.0, requires_grad=True)
    m = dualgrad.ones(2, 3)
    (s * m).sum().backward()
    assert s.grad.shape == ()
    assert_close(s.grad, 6.0)


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_leaf_grad_has_the_leaf_dtype(dtype_name, backend):
    dtype = getattr(dualgrad, dtype_name)
    other = dualgrad.float64 if dtype is dualgrad.float32 else dualgrad.float32
    x = dualgrad.tensor([1.0, 2.0], dtype=dtype, requires_grad=True)
    w = dualgrad.tensor([3.0, 4.0], dtype=other, requires_grad=True)
    (x * w * 2.5).sum().backward()
    assert x.grad.dtype is dtype
    assert w.grad.dtype is other
    assert_close(x.grad, [7.5, 10.0])


def test_gradient_through_repeated_integer_index_accumulates(backend):
    x = dualgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    index = dualgrad.tensor([0, 2, 0, 0])
    x[index].sum().backward()
    assert_close(x.grad, [3.0, 0.0, 1.0])


# --- limits: depth and memory ---------------------------------------------------------------
def test_backward_through_a_million_op_chain_has_no_recursion_error():
    x = dualgrad.tensor(1.0, dtype=dualgrad.float64, requires_grad=True)
    factor = dualgrad.tensor(1.0000001, dtype=dualgrad.float64)
    one = dualgrad.tensor(1.0, dtype=dualgrad.float64)
    y = x
    for _ in range(500_000):  # 1,000,000 ops: alternate multiply and add
        y = y * factor
        y = y + one
    y.backward()
    assert x.grad.item() == pytest.approx(1.0000001**500_000, rel=1e-9)
    del y  # freeing the chain must not recurse either
    assert x.grad.item() == pytest.approx(1.0000001**500_000, rel=1e-9)


def _linear_regression_data():
    dualgrad.manual_seed(0)
    x = dualgrad.randn(10, 1)
    y = 2 * x + 1 + 0.1 * dualgrad.randn(10, 1)
    w = dualgrad.randn(1, 1, requires_grad=True)
    b = dualgrad.randn(1, requires_grad=True)
    return x, y, w, b


def _linear_regression_step(x, y, w, b, learning_rate=0.01):
    """One iteration of the tutorial's training loop."""
    y_pred = dualgrad.matmul(x, w) + b
    loss = ((y_pred - y) ** 2).mean()
    loss.backward()
    with dualgrad.no_grad():
        w -= learning_rate * w.grad
        b -= learning_rate * b.grad
    w.grad.zero_()
    b.grad.zero_()
    return loss


def test_training_loop_memory_does_not_grow():
    x, y, w, b = _linear_regression_data()
    tracemalloc.start()
    try:
        for _ in range(200):  # warm-up: caches, interned objects, first .grad
            _linear_regression_step(x, y, w, b)
        gc.collect()
        tracemalloc.reset_peak()
        baseline, _ = tracemalloc.get_traced_memory()
        for _ in range(10_000):
            loss = _linear_regression_step(x, y, w, b)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current - baseline < 1_000_000, f"memory grew by {current - baseline} bytes"
    assert peak - baseline < 1_000_000, f"peak rose by {peak - baseline} bytes"
    assert loss.item() < 0.1  # the loop did train


def test_training_step_graph_is_freed_after_backward_without_gc():
    x, y, w, b = _linear_regression_data()
    _linear_regression_step(x, y, w, b)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        y_pred = dualgrad.matmul(x, w) + b
        loss = ((y_pred - y) ** 2).mean()
        nodes = [weakref.ref(loss.grad_fn), weakref.ref(y_pred.grad_fn)]
        tensors = [weakref.ref(loss), weakref.ref(y_pred)]
        loss.backward()
        with dualgrad.no_grad():
            w -= 0.01 * w.grad
            b -= 0.01 * b.grad
        w.grad.zero_()
        b.grad.zero_()
        del y_pred, loss
        alive = [ref for ref in nodes + tensors if ref() is not None]
    finally:
        if was_enabled:
            gc.enable()
    assert alive == [], f"{len(alive)} graph objects survive until the cycle collector runs"
