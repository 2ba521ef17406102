"""Activation checkpointing: dualgrad.utils.checkpoint (PyTorch's) and dualgrad.checkpoint (JAX's).

Every check compares a checkpointed program with the same program run plainly: the
derivatives must be the same, while the activations inside are not kept.
"""

from __future__ import annotations

import contextlib
import gc
import weakref

import numpy as np
import pytest
from tensors import assert_close, leaf, values

import dualgrad
from dualgrad import nn
from dualgrad.func import functional_call
from dualgrad.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

RNG = np.random.default_rng(7)
X = RNG.standard_normal((4, 3))


def _model(layers=4, dropout=0.0):
    dualgrad.manual_seed(1)
    blocks = []
    for i in range(layers):
        blocks.append(nn.Linear(3, 3))
        blocks.append(nn.Tanh())
        if dropout:
            blocks.append(nn.Dropout(dropout))
        if i == layers - 1:
            blocks.append(nn.Linear(3, 1))
    return nn.Sequential(*blocks)


def _grads(model):
    return {name: values(p.grad) for name, p in model.named_parameters()}


def _assert_same(first, second):
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_allclose(first[name], second[name], rtol=1e-12, atol=1e-14)


def _run(model, x, per_layer):
    """The model's output, each layer checkpointed (per_layer) or not."""
    for layer in model:
        x = checkpoint(layer, x, use_reentrant=False) if per_layer else layer(x)
    return x.sum()


def test_backward_through_checkpoints_gives_the_plain_gradients(backend, mode, float64):
    x = leaf(X, requires_grad=True)
    plain, checkpointed = _model(), _model()
    _run(plain, x, per_layer=False).backward()
    expected_x = values(x.grad)
    x.grad = None
    _run(checkpointed, x, per_layer=True).backward()
    _assert_same(_grads(checkpointed), _grads(plain))
    assert_close(x.grad, expected_x, rtol=1e-12, atol=1e-12)


def test_activations_inside_are_not_kept(backend, float64):
    kept = []

    def block(x):
        inner = dualgrad.tanh(x * 3.0)
        kept.append(weakref.ref(inner))
        return dualgrad.sin(inner).sum()

    x = leaf(X, requires_grad=True)
    plain = block(x)
    assert kept[0]() is not None  # the tape holds the activation
    checkpointed = checkpoint(block, x)
    gc.collect()
    assert kept[1]() is None  # dropped: rerun in the backward pass
    checkpointed.backward()
    first = values(x.grad)
    x.grad = None
    plain.backward()
    np.testing.assert_allclose(first, values(x.grad), rtol=1e-12, atol=1e-12)


def test_the_function_is_rerun_once_in_the_backward_pass(backend, float64):
    calls = []

    def block(x):
        calls.append(1)
        return (dualgrad.exp(x) * x).sum()

    x = leaf(X, requires_grad=True)
    out = checkpoint(block, x)
    assert len(calls) == 1
    out.backward()
    assert len(calls) == 2


def test_autograd_grad_reaches_parameters_read_from_a_closure(backend, float64):
    model = _model()
    x = leaf(X)
    params = list(model.parameters())
    plain = dualgrad.autograd.grad(model(x).sum(), params)
    ours = dualgrad.autograd.grad(checkpoint(model, x).sum(), params)
    for mine, expected in zip(ours, plain, strict=True):
        assert_close(mine, expected, rtol=1e-12, atol=1e-12)


def test_a_second_backward_needs_retain_graph_as_without_checkpoint(backend, float64):
    x = leaf(X, requires_grad=True)
    out = checkpoint(lambda x: (dualgrad.tanh(x) ** 2).sum(), x)
    out.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()


def test_retain_graph_gives_the_same_gradients_twice(backend, float64):
    x = leaf(X, requires_grad=True)
    out = _run(_model(), x, per_layer=True)
    out.backward(retain_graph=True)
    first = values(x.grad)
    x.grad = None
    out.backward()
    assert_close(x.grad, first, rtol=1e-12, atol=1e-12)


def test_a_kept_graph_holds_one_segment_of_rerun_values_after_backward(backend, float64):
    # With retain_graph (as the transforms keep it), a segment the walk has finished gives its
    # rerun values up again once the walk enters the next one: the peak stays one segment's.
    reruns = []

    def block(x):
        inner = dualgrad.tanh(x) * 2.0
        reruns.append(weakref.ref(inner))
        return dualgrad.sin(inner)

    x = leaf(X, requires_grad=True)
    h = x
    for _ in range(3):
        h = checkpoint(block, h)
    h.sum().backward(retain_graph=True)
    gc.collect()
    assert len(reruns) == 6
    assert sum(ref() is not None for ref in reruns[3:]) == 1
    first = values(x.grad)
    x.grad = None
    h.sum().backward()
    assert_close(x.grad, first, rtol=1e-12, atol=1e-12)


def test_outputs_of_any_structure_are_checkpointed(backend, float64):
    def block(x):
        h = dualgrad.tanh(x)
        return {"h": h, "pair": (h * x, dualgrad.sin(x).sum())}

    def loss(out):
        return out["h"].sum() * out["pair"][1] + (out["pair"][0] ** 2).sum()

    x = leaf(X, requires_grad=True)
    loss(block(x)).backward()
    expected = values(x.grad)
    x.grad = None
    loss(checkpoint(block, x)).backward()
    assert_close(x.grad, expected, rtol=1e-12, atol=1e-12)


def test_nested_checkpoints_give_the_plain_gradients(backend, float64):
    def inner(x):
        return dualgrad.tanh(x) * x

    def outer(x):
        return dualgrad.sin(checkpoint(inner, x * 2.0)) + x

    x = leaf(X, requires_grad=True)
    (outer(x) ** 2).sum().backward()
    expected = values(x.grad)
    x.grad = None
    (checkpoint(outer, x) ** 2).sum().backward()
    assert_close(x.grad, expected, rtol=1e-12, atol=1e-12)


def test_keyword_arguments_reach_the_function(backend, float64):
    x = leaf(X, requires_grad=True)
    checkpoint(lambda x, *, power: (x**power).sum(), x, power=3).backward()
    assert_close(x.grad, 3 * X**2, rtol=1e-12, atol=1e-12)


# --- random draws ---------------------------------------------------------------------------
def test_random_draws_are_replayed_in_the_rerun(backend, float64):
    x = leaf(X, requires_grad=True)
    plain, checkpointed = _model(dropout=0.5), _model(dropout=0.5)
    dualgrad.manual_seed(5)
    _run(plain, x, per_layer=False).backward()
    after_plain = values(dualgrad.randn(3))
    dualgrad.manual_seed(5)
    _run(checkpointed, x, per_layer=True).backward()
    after_checkpointed = values(dualgrad.randn(3))
    _assert_same(_grads(checkpointed), _grads(plain))
    # The rerun leaves the random stream where the first run left it.
    np.testing.assert_array_equal(after_checkpointed, after_plain)


def test_without_preserve_rng_state_the_rerun_draws_anew(float64):
    def noisy(x):
        return (x * dualgrad.rand(*x.shape)).sum()

    x = leaf(X, requires_grad=True)
    dualgrad.manual_seed(5)
    checkpoint(noisy, x, preserve_rng_state=False).backward()
    fresh = values(x.grad)
    x.grad = None
    dualgrad.manual_seed(5)
    checkpoint(noisy, x).backward()
    replayed = values(x.grad)
    dualgrad.manual_seed(5)
    np.testing.assert_array_equal(replayed, values(dualgrad.rand(*X.shape)))
    assert not np.array_equal(fresh, replayed)


# --- transforms -------------------------------------------------------------------------------
def _deep(x):
    layer = dualgrad.checkpoint(lambda h: dualgrad.tanh(h @ leaf(np.eye(3) * 0.9) + 0.1))
    for _ in range(3):
        x = layer(x)
    return (x**2).sum()


def _deep_plain(x):
    for _ in range(3):
        x = dualgrad.tanh(x @ leaf(np.eye(3) * 0.9) + 0.1)
    return (x**2).sum()


@pytest.mark.parametrize("transform", ["grad", "jacrev", "hessian"])
def test_transforms_through_remat_give_the_plain_derivatives(transform, backend, float64):
    x = leaf(X[0])
    ours = getattr(dualgrad, transform)(_deep)(x)
    expected = getattr(dualgrad, transform)(_deep_plain)(x)
    assert_close(ours, expected, rtol=1e-10, atol=1e-12)


def test_vjp_fn_through_remat_can_be_called_twice(backend, float64):
    _, vjp_fn = dualgrad.vjp(_deep, leaf(X[0]))
    _, plain_vjp = dualgrad.vjp(_deep_plain, leaf(X[0]))
    for scale in (1.0, -2.0):
        (ours,) = vjp_fn(leaf(scale))
        (expected,) = plain_vjp(leaf(scale))
        assert_close(ours, expected, rtol=1e-12, atol=1e-12)


def test_remat_is_dualgrad_checkpoint_and_a_decorator():
    assert dualgrad.remat is dualgrad.checkpoint

    @dualgrad.remat
    def square(x):
        return x * x

    assert square.__name__ == "square"


def test_forward_mode_simply_runs_the_function(backend, float64):
    calls = []

    def block(x):
        calls.append(1)
        return dualgrad.sin(x) * x

    _, tangent = dualgrad.jvp(lambda x: checkpoint(block, x), (leaf(X[0]),), (leaf(np.ones(3)),))
    assert_close(tangent, np.cos(X[0]) * X[0] + np.sin(X[0]))
    assert len(calls) == 1


def test_under_no_grad_the_function_runs_once(backend):
    calls = []
    with dualgrad.no_grad():
        checkpoint(lambda x: calls.append(1) or x * 2, leaf(X, requires_grad=True))
    assert len(calls) == 1


def test_functional_call_around_checkpointed_layers_gives_the_plain_gradients(float64):
    class Checkpointed(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = _model()

        def forward(self, x):
            for layer in self.body:
                x = checkpoint(layer, x)
            return x.sum()

    model = Checkpointed()
    params = {name: p.detach() * 1.5 for name, p in model.named_parameters()}
    ours = dualgrad.grad(lambda p: functional_call(model, p, (leaf(X),)))(params)
    expected = dualgrad.grad(lambda p: functional_call(model.body, p, (leaf(X),)).sum())(
        {name.removeprefix("body."): value for name, value in params.items()}
    )
    for name, value in ours.items():
        np.testing.assert_allclose(
            values(value), values(expected[name.removeprefix("body.")]), rtol=1e-12, atol=1e-12
        )


# --- errors ---------------------------------------------------------------------------------
def test_a_rerun_that_records_other_operations_raises(backend, float64):
    runs = []

    def moody(x):
        runs.append(1)
        return dualgrad.sin(x).sum() if len(runs) == 1 else dualgrad.cos(x).sum()

    out = checkpoint(moody, leaf(X, requires_grad=True), debug=True)
    with pytest.raises(
        CheckpointError,
        match=r"operation 0 was SinBackward0\(1 inputs\) the first time and CosBackward0",
    ):
        out.backward()


def test_a_parameter_replaced_before_backward_raises(backend, float64):
    layer = nn.Linear(3, 3)
    out = checkpoint(layer, leaf(X)).sum()
    layer.weight = nn.Parameter(dualgrad.zeros(3, 3, dtype=dualgrad.float64))
    with pytest.raises(CheckpointError, match="read a different tensor"):
        out.backward()


def test_use_reentrant_refuses_what_pytorch_refuses_with_it(backend):
    x = leaf(X, requires_grad=True)
    with pytest.raises(ValueError, match="unexpected keyword arguments: power"):
        checkpoint(lambda x, power: x**power, x, use_reentrant=True, power=2)
    assert checkpoint(lambda x: x * 2, x, use_reentrant=True).shape == X.shape


def test_an_unknown_determinism_check_raises(backend):
    with pytest.raises(ValueError, match=r"one of \['default', 'none'\], got 'strict'"):
        checkpoint(lambda x: x, leaf(X), determinism_check="strict")


def test_context_fn_wraps_the_first_run_and_the_rerun(backend, float64):
    entered = []

    @contextlib.contextmanager
    def note(name):
        entered.append(name)
        yield

    out = checkpoint(
        lambda x: dualgrad.sin(x).sum(),
        leaf(X, requires_grad=True),
        context_fn=lambda: (note("forward"), note("recompute")),
    )
    assert entered == ["forward"]
    out.backward()
    assert entered == ["forward", "recompute"]


# --- checkpoint_sequential ------------------------------------------------------------------
@pytest.mark.parametrize("segments", [1, 2, 5])
def test_checkpoint_sequential_gives_the_plain_gradients(segments, backend, float64):
    x = leaf(X, requires_grad=True)
    plain, checkpointed = _model(), _model()
    plain(x).sum().backward()
    checkpoint_sequential(checkpointed, segments, x).sum().backward()
    _assert_same(_grads(checkpointed), _grads(plain))


def test_checkpoint_sequential_refuses_more_segments_than_layers(backend):
    with pytest.raises(ValueError, match=r"from 1 to the number of layers \(2\), got 3"):
        checkpoint_sequential([nn.Tanh(), nn.Tanh()], 3, leaf(X))
