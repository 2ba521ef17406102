"""dualgrad.jit: a whole training step compiled on JAX, and the same step run as is elsewhere."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import dualgrad


def _tutorial_regression(epochs: int, step_wrapper: Callable[[Any], Any]) -> list[float]:
    """The autograd tutorial's linear regression, its step passed through ``step_wrapper``."""
    dualgrad.manual_seed(0)
    x = dualgrad.randn(10, 1, dtype=dualgrad.float64)
    y = 2 * x + 1 + 0.1 * dualgrad.randn(10, 1, dtype=dualgrad.float64)
    w = dualgrad.randn(1, 1, dtype=dualgrad.float64, requires_grad=True)
    b = dualgrad.randn(1, dtype=dualgrad.float64, requires_grad=True)

    def step(x: dualgrad.Tensor, y: dualgrad.Tensor) -> dualgrad.Tensor:
        loss = ((dualgrad.matmul(x, w) + b - y) ** 2).mean()
        loss.backward()
        with dualgrad.no_grad():
            w.sub_(0.1 * w.grad)
            b.sub_(0.1 * b.grad)
        w.grad.zero_()
        b.grad.zero_()
        return loss

    stepper = step_wrapper(step)
    return [stepper(x, y).item() for _ in range(epochs)] + [w.item(), b.item()]


def _mlp_training(steps: int, step_wrapper: Callable[[Any], Any]) -> list[float]:
    """A small tanh MLP trained with SGD and momentum; returns the losses, then the weights."""
    dualgrad.manual_seed(1)
    x = dualgrad.randn(32, 4, dtype=dualgrad.float64)
    target = dualgrad.randn(32, 1, dtype=dualgrad.float64)
    w1 = dualgrad.randn(4, 16, dtype=dualgrad.float64, requires_grad=True)
    b1 = dualgrad.zeros(16, dtype=dualgrad.float64, requires_grad=True)
    w2 = dualgrad.randn(16, 1, dtype=dualgrad.float64, requires_grad=True)
    optimizer = dualgrad.optim.SGD([w1, b1, w2], lr=0.05, momentum=0.9)

    def step(x: dualgrad.Tensor, target: dualgrad.Tensor) -> dualgrad.Tensor:
        optimizer.zero_grad()
        loss = ((dualgrad.tanh(x @ w1 + b1) @ w2 - target) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss

    stepper = step_wrapper(step)
    losses = [stepper(x, target).item() for _ in range(steps)]
    return losses + w2.reshape(-1).tolist()


@pytest.fixture
def jax_backend() -> Any:
    pytest.importorskip("jax", reason="the jax backend needs JAX: pip install 'dualgrad[jax]'")
    with dualgrad.use_backend("jax") as backend:
        yield backend


def test_jit_trajectory_equals_eager_on_jax(jax_backend: Any) -> None:
    eager = _mlp_training(15, lambda step: step)
    compiled = _mlp_training(15, dualgrad.jit)
    np.testing.assert_allclose(compiled, eager, rtol=1e-10, atol=1e-12)


def test_jit_runs_the_tutorial_regression_on_jax(jax_backend: Any) -> None:
    eager = _tutorial_regression(30, lambda step: step)
    compiled = _tutorial_regression(30, dualgrad.jit)
    np.testing.assert_allclose(compiled, eager, rtol=1e-10, atol=1e-12)


def test_jit_compiles_once_and_then_skips_python(jax_backend: Any) -> None:
    w = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64, requires_grad=True)
    runs = []

    @dualgrad.jit
    def step(x: dualgrad.Tensor) -> dualgrad.Tensor:
        runs.append(1)
        loss = (w * x).sum() ** 2
        loss.backward()
        with dualgrad.no_grad():
            w.sub_(0.01 * w.grad)
        w.grad = None
        return loss

    x = dualgrad.ones(2, dtype=dualgrad.float64)
    for _ in range(3):
        step(x)
    python_runs = len(runs)  # eager, discovery trace, compilation trace
    for _ in range(5):
        step(x)
    assert len(runs) == python_runs
    assert w.grad is None
    assert isinstance(w.array, type(x.array))


def test_jit_keeps_arrays_on_the_backend(jax_backend: Any) -> None:
    import jax

    w = dualgrad.tensor([1.0, -1.0], dtype=dualgrad.float64, requires_grad=True)

    @dualgrad.jit
    def step(x: dualgrad.Tensor) -> dualgrad.Tensor:
        loss = (w * x).square().sum()
        loss.backward()
        return loss

    for _ in range(3):
        out = step(dualgrad.ones(2, dtype=dualgrad.float64))
    assert isinstance(out.array, jax.Array)
    assert isinstance(w.grad.array, jax.Array)
    np.testing.assert_allclose(w.grad.numpy(), 3 * 2 * np.array([1.0, -1.0]))


def test_jit_rejects_a_non_tensor_result(jax_backend: Any) -> None:
    @dualgrad.jit
    def step(x: dualgrad.Tensor) -> str:
        return "done"

    x = dualgrad.ones(2)
    step(x)  # the first call runs as is
    with pytest.raises(TypeError, match="must return Tensors"):
        step(x)


def test_jit_runs_the_function_as_is_elsewhere() -> None:
    with dualgrad.use_backend("numpy"):
        eager = _mlp_training(5, lambda step: step)
        compiled = _mlp_training(5, dualgrad.jit)
    assert compiled == eager


def _module_training(steps: int, step_wrapper: Callable[[Any], Any]) -> list[float]:
    """An nn.Linear trained with Adam: the state is nn.Parameters and the optimizer's Tensors."""
    dualgrad.manual_seed(2)
    x = dualgrad.randn(16, 3, dtype=dualgrad.float64)
    target = dualgrad.randn(16, 2, dtype=dualgrad.float64)
    model = dualgrad.nn.Linear(3, 2, dtype=dualgrad.float64)
    optimizer = dualgrad.optim.Adam(model.parameters(), lr=0.1)

    def step(x: dualgrad.Tensor, target: dualgrad.Tensor) -> dualgrad.Tensor:
        optimizer.zero_grad()
        loss = dualgrad.nn.functional.mse_loss(model(x), target)
        loss.backward()
        optimizer.step()
        return loss

    stepper = step_wrapper(step)
    losses = [stepper(x, target).item() for _ in range(steps)]
    return losses + model.weight.reshape(-1).tolist()


def test_jit_updates_module_parameters_as_eager_does(jax_backend: Any) -> None:
    eager = _module_training(5, lambda step: step)
    compiled = _module_training(5, dualgrad.jit)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12, atol=1e-12)


def _scheduled_sgd(epochs: int, step_wrapper: Callable[[Any], Any], lr_kind: type, gamma: float):
    """SGD with momentum under StepLR, its lr a ``lr_kind`` (float or Tensor); the losses, then
    the weights."""
    dualgrad.manual_seed(3)
    x = dualgrad.randn(8, 2, dtype=dualgrad.float64)
    target = dualgrad.randn(8, 1, dtype=dualgrad.float64)
    w = dualgrad.randn(2, 1, dtype=dualgrad.float64, requires_grad=True)
    lr = 0.1 if lr_kind is float else dualgrad.tensor(0.1, dtype=dualgrad.float64)
    optimizer = dualgrad.optim.SGD([w], lr=lr, momentum=0.5)
    scheduler = dualgrad.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=gamma)

    def step(x: dualgrad.Tensor, target: dualgrad.Tensor) -> dualgrad.Tensor:
        optimizer.zero_grad()
        loss = ((x @ w - target) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss

    stepper = step_wrapper(step)
    losses = []
    for _ in range(epochs):
        losses.append(stepper(x, target).item())
        scheduler.step()
    return losses + w.reshape(-1).tolist()


def test_jit_follows_a_scheduled_tensor_lr(jax_backend: Any) -> None:
    eager = _scheduled_sgd(8, lambda step: step, dualgrad.Tensor, gamma=0.5)
    compiled = _scheduled_sgd(8, dualgrad.jit, dualgrad.Tensor, gamma=0.5)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12, atol=1e-12)


def test_jit_keeps_a_float_lr_as_traced_and_the_scheduler_warns(jax_backend: Any) -> None:
    with pytest.warns(UserWarning, match="read the float lr as a constant"):
        compiled = _scheduled_sgd(8, dualgrad.jit, float, gamma=0.5)
    constant = _scheduled_sgd(8, lambda step: step, float, gamma=1.0)
    scheduled = _scheduled_sgd(8, lambda step: step, float, gamma=0.5)
    np.testing.assert_allclose(compiled, constant, rtol=1e-12, atol=1e-12)
    assert not np.allclose(compiled, scheduled)


def _sgd_step(loss_of: Callable[[Any], Any], optimizer: Any) -> Callable[[Any], Any]:
    """The PyTorch-style step: zero_grad, the loss of the argument, backward, optimizer step."""

    def step(x: dualgrad.Tensor) -> dualgrad.Tensor:
        optimizer.zero_grad()
        loss = loss_of(x)
        loss.backward()
        optimizer.step()
        return loss

    return step


def _backward_after_a_step(step_wrapper: Callable[[Any], Any]) -> tuple[int, str]:
    """A graph recorded before a step that updates the parameter it saved: the parameter's
    version after the step, and what backward() through that graph then raises."""
    w = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64, requires_grad=True)
    optimizer = dualgrad.optim.SGD([w], lr=0.1, momentum=0.9)
    stepper = step_wrapper(_sgd_step(lambda x: (w * x).sum() ** 2, optimizer))
    x = dualgrad.ones(2, dtype=dualgrad.float64)
    for _ in range(3):
        stepper(x)
    saved = (w * w).sum()  # the product's vjp reads w
    stepper(x)
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as raised:
        saved.backward()
    return w._version, str(raised.value)


def test_jit_write_back_is_an_in_place_change(jax_backend: Any) -> None:
    """The compiled step's new arrays count as in-place updates of the Tensors they go into,
    one per call as the eager step's: a graph that saved one of them refuses to backward."""
    assert _backward_after_a_step(dualgrad.jit) == _backward_after_a_step(lambda step: step)


def test_jit_gives_new_grad_tensors_where_eager_does(jax_backend: Any) -> None:
    """zero_grad() then backward() makes a new .grad Tensor (one held from before keeps its
    values); backward() without zero_grad() accumulates into the .grad Tensor there is."""
    w = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64, requires_grad=True)
    v = dualgrad.tensor([3.0, 4.0], dtype=dualgrad.float64, requires_grad=True)
    optimizer = dualgrad.optim.SGD([w], lr=0.1)
    step = dualgrad.jit(_sgd_step(lambda x: ((w * x).sum() + (v * x).sum()) ** 2, optimizer))

    x = dualgrad.ones(2, dtype=dualgrad.float64)
    for _ in range(3):
        step(x)
    held_w, held_v = w.grad, v.grad
    values_w, values_v = held_w.numpy().copy(), held_v.numpy().copy()
    step(x)
    assert w.grad is not held_w
    np.testing.assert_array_equal(held_w.numpy(), values_w)
    assert v.grad is held_v
    assert not np.array_equal(held_v.numpy(), values_v)


def _held_elsewhere(step_wrapper: Callable[[Any], Any]) -> list[list[float]]:
    """SGD steps while other holders keep a parameter's array, a Tensor sharing it and the
    previous ``.grad``; returns what each holder and the parameter read afterwards."""
    w = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64, requires_grad=True)
    optimizer = dualgrad.optim.SGD([w], lr=0.1)
    stepper = step_wrapper(_sgd_step(lambda x: (w * x).sum() ** 2, optimizer))
    x = dualgrad.ones(2, dtype=dualgrad.float64)
    for _ in range(3):
        stepper(x)
    array, shared, grad = w.array, w.detach(), w.grad
    stepper(x)
    return [np.asarray(array).tolist(), shared.tolist(), grad.tolist(), w.tolist()]


def test_jit_never_writes_over_an_array_held_elsewhere(jax_backend: Any) -> None:
    """The compiled step may reuse the memory of the arrays it replaces, but not of one that
    something else still holds: they keep their values, as in the eager step."""
    np.testing.assert_allclose(
        _held_elsewhere(dualgrad.jit), _held_elsewhere(lambda step: step), rtol=1e-12
    )


def _memory_after_a_step(w: dualgrad.Tensor, step: Callable[[Any], Any]) -> list[bool]:
    """Whether the parameter's and its .grad's new arrays took the old ones' memory."""
    x = dualgrad.ones(2, dtype=dualgrad.float64)
    for _ in range(3):
        step(x)
    memory = w.array.unsafe_buffer_pointer(), w.grad.array.unsafe_buffer_pointer()
    step(x)
    return [
        w.array.unsafe_buffer_pointer() == memory[0],
        w.grad.array.unsafe_buffer_pointer() == memory[1],
    ]


def test_jit_writes_the_new_arrays_over_the_old_ones(jax_backend: Any) -> None:
    """The parameter's new array takes the old one's memory, and so does the .grad that the
    step adds into; a .grad that the step replaces unread (zero_grad() first) is no input."""
    w = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64, requires_grad=True)
    zeroing = _sgd_step(lambda x: (w * x).sum() ** 2, dualgrad.optim.SGD([w], lr=0.1))
    assert _memory_after_a_step(w, dualgrad.jit(zeroing))[0]

    def accumulating(x: dualgrad.Tensor) -> dualgrad.Tensor:
        loss = (w * x).sum() ** 2
        loss.backward()
        with dualgrad.no_grad():
            w.sub_(0.01 * w.grad)
        return loss

    assert _memory_after_a_step(w, dualgrad.jit(accumulating)) == [True, True]


def _dropped_grad(step_wrapper: Callable[[Any], Any]) -> list[float]:
    """A step that accumulates into the .grad it is given, then drops it (.grad = None); the
    .grad is given before the last call only."""
    w = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64, requires_grad=True)

    def step(x: dualgrad.Tensor) -> dualgrad.Tensor:
        loss = (w * x).sum() ** 2
        loss.backward()
        with dualgrad.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return loss

    stepper = step_wrapper(step)
    x = dualgrad.ones(2, dtype=dualgrad.float64)
    losses = [stepper(x).item() for _ in range(3)]
    (3 * w).sum().backward()
    losses.append(stepper(x).item())
    return losses + w.tolist()


def test_jit_donates_a_grad_it_drops_without_a_warning(jax_backend: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = _dropped_grad(dualgrad.jit)
    np.testing.assert_allclose(compiled, _dropped_grad(lambda step: step), rtol=1e-12)


# --- the leaves' .grad: an input only where the step reads it, returned packed ---
STEP_KINDS = ["set_to_none", "zero_grad", "zero_in_place", "accumulate", "reads_then_drops"]


def _two_layers(
    kind: str, steps: int, step_wrapper: Callable[[Any], Any], *, read_each_call: bool = True
) -> list[float]:
    """A two-layer tanh network trained ``steps`` calls by a step of ``kind``: parameters set to
    None first (``p.grad = None``), ``zero_grad()`` (then SGD with momentum), zeroed in place
    (``zero_grad(set_to_none=False)``), gradients accumulated over the calls, or the previous
    gradients read (their squared norm is added to the loss) before they are dropped. Returns
    each call's result, and the parameters and gradients after each call (or after the last
    one only, unless ``read_each_call``)."""
    dualgrad.manual_seed(4)
    x = dualgrad.randn(8, 3, dtype=dualgrad.float64)
    target = dualgrad.randn(8, 1, dtype=dualgrad.float64)
    w1 = dualgrad.randn(3, 4, dtype=dualgrad.float64, requires_grad=True)
    b1 = dualgrad.zeros(4, dtype=dualgrad.float64, requires_grad=True)
    w2 = dualgrad.randn(4, 1, dtype=dualgrad.float64, requires_grad=True)
    params = [w1, b1, w2]
    optimizer = dualgrad.optim.SGD(params, lr=0.05, momentum=0.9)

    def step(x: dualgrad.Tensor) -> dualgrad.Tensor:
        extra = 0.0
        if kind == "set_to_none":
            for p in params:
                p.grad = None
        elif kind in ("zero_grad", "zero_in_place"):
            optimizer.zero_grad(set_to_none=kind == "zero_grad")
        elif kind == "reads_then_drops":
            extra = sum((p.grad**2).sum() for p in params if p.grad is not None)
            for p in params:
                p.grad = None
        loss = ((dualgrad.tanh(x @ w1 + b1) @ w2 - target) ** 2).mean()
        loss.backward()
        if kind in ("zero_grad", "zero_in_place"):
            optimizer.step()
        else:
            with dualgrad.no_grad():
                for p in params:
                    p -= 0.05 * p.grad
        return loss + extra

    def state() -> list[float]:
        return [v for t in params + [p.grad for p in params] for v in t.reshape(-1).tolist()]

    stepper = step_wrapper(step)
    seen = []
    for _ in range(steps):
        seen.append(stepper(x).item())
        if read_each_call:
            seen += state()
    return seen + state()


@pytest.mark.parametrize("kind", STEP_KINDS)
def test_jit_gives_the_eager_parameters_and_grads_after_every_call(
    jax_backend: Any, kind: str
) -> None:
    eager = _two_layers(kind, 6, lambda step: step)
    compiled = _two_layers(kind, 6, dualgrad.jit)
    np.testing.assert_allclose(compiled, eager, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", STEP_KINDS)
def test_jit_gives_the_eager_grads_read_only_after_the_last_call(
    jax_backend: Any, kind: str
) -> None:
    eager = _two_layers(kind, 6, lambda step: step, read_each_call=False)
    compiled = _two_layers(kind, 6, dualgrad.jit, read_each_call=False)
    np.testing.assert_allclose(compiled, eager, rtol=1e-10, atol=1e-12)


def _two_steps_taking_turns(step_wrapper: Callable[[Any], Any]) -> list[float]:
    """Two steps on the same parameters, called in turn: one sets the gradients to None first,
    the other adds into the gradients the first left (which it reads inside its own trace)."""
    w = dualgrad.tensor([1.0, -2.0], dtype=dualgrad.float64, requires_grad=True)
    b = dualgrad.tensor(0.5, dtype=dualgrad.float64, requires_grad=True)

    def fresh(x: dualgrad.Tensor) -> dualgrad.Tensor:
        w.grad = b.grad = None
        loss = ((w * x).sum() + b) ** 2
        loss.backward()
        return loss

    def adding(x: dualgrad.Tensor) -> dualgrad.Tensor:
        loss = ((w * x).sum() * b) ** 2
        loss.backward()
        with dualgrad.no_grad():
            w.sub_(0.01 * w.grad)
            b.sub_(0.01 * b.grad)
        return loss

    first, second = step_wrapper(fresh), step_wrapper(adding)
    x = dualgrad.tensor([0.5, 1.5], dtype=dualgrad.float64)
    seen = []
    for _ in range(4):
        seen += [first(x).item(), second(x).item()]
    return seen + w.tolist() + [b.item()] + w.grad.tolist() + [b.grad.item()]


def test_jit_steps_taking_turns_over_the_same_grads_match_eager(jax_backend: Any) -> None:
    eager = _two_steps_taking_turns(lambda step: step)
    compiled = _two_steps_taking_turns(dualgrad.jit)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12)


def _grad_presence_changes(step_wrapper: Callable[[Any], Any]) -> list[float]:
    """A step whose result depends on whether the leaves had a .grad (not on its values), while
    the caller drops the .grad before some of the calls."""
    w = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64, requires_grad=True)
    v = dualgrad.tensor([0.5], dtype=dualgrad.float64, requires_grad=True)

    def step(x: dualgrad.Tensor) -> dualgrad.Tensor:
        had = w.grad is not None
        w.grad = v.grad = None
        loss = ((w * x).sum() * v) ** 2
        loss.backward()
        return loss * (2.0 if had else 1.0)

    stepper = step_wrapper(step)
    x = dualgrad.ones(2, dtype=dualgrad.float64)
    seen = []
    for drop in [False, False, False, True, False, True, True, False]:
        if drop:
            w.grad = None
        seen += [stepper(x).item(), *w.grad.tolist(), *v.grad.tolist()]
    return seen


def test_jit_follows_whether_a_leaf_has_a_grad_it_does_not_read(jax_backend: Any) -> None:
    eager = _grad_presence_changes(lambda step: step)
    compiled = _grad_presence_changes(dualgrad.jit)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12)


def _fresh_grads_step(*leaves: dualgrad.Tensor) -> Callable[[], dualgrad.Tensor]:
    """A compiled step that gives each leaf a new .grad (the gradient of ``sum(leaf ** 2)``
    over all), after the three calls that make it compiled."""

    @dualgrad.jit
    def step() -> dualgrad.Tensor:
        for leaf in leaves:
            leaf.grad = None
        loss = sum((leaf**2).sum() for leaf in leaves)
        loss.backward()
        return loss

    for _ in range(3):
        step()
    return step


def test_jit_new_grads_of_two_dtypes_are_right(jax_backend: Any) -> None:
    w = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float32, requires_grad=True)
    v = dualgrad.tensor([[3.0], [4.0]], dtype=dualgrad.float64, requires_grad=True)
    u = dualgrad.tensor(5.0, dtype=dualgrad.float64, requires_grad=True)
    _fresh_grads_step(w, v, u)()
    assert [(t.grad.dtype, tuple(t.grad.shape)) for t in (w, v, u)] == [
        (dualgrad.float32, (2,)),
        (dualgrad.float64, (2, 1)),
        (dualgrad.float64, ()),
    ]
    assert (w.grad.tolist(), v.grad.tolist(), u.grad.item()) == ([2.0, 4.0], [[6.0], [8.0]], 10.0)


def test_jit_new_grads_copy_and_change_in_place_as_tensors(jax_backend: Any) -> None:
    import copy

    w = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64, requires_grad=True)
    v = dualgrad.tensor([3.0], dtype=dualgrad.float64, requires_grad=True)
    _fresh_grads_step(w, v)()
    assert isinstance(w.grad, dualgrad.Tensor)
    made = copy.copy(w.grad)
    assert type(made) is dualgrad.Tensor
    assert made.tolist() == [2.0, 4.0]
    w.grad.add_(1.0)
    v.grad.zero_()
    assert (w.grad.tolist(), v.grad.tolist()) == ([3.0, 5.0], [0.0])


def test_jit_new_grads_read_from_two_threads_are_right(jax_backend: Any) -> None:
    import threading

    leaves = [
        dualgrad.tensor([float(i), 1.0], dtype=dualgrad.float64, requires_grad=True)
        for i in range(8)
    ]
    step = _fresh_grads_step(*leaves)

    def read(half: list[dualgrad.Tensor], barrier: Any, seen: dict[int, Any]) -> None:
        barrier.wait()
        for leaf in half:
            seen[id(leaf)] = leaf.grad.tolist()

    for _ in range(5):
        step()
        barrier, seen = threading.Barrier(2), {}
        threads = [
            threading.Thread(target=read, args=(leaves[i::2], barrier, seen)) for i in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [seen[id(leaf)] for leaf in leaves] == [[2.0 * i, 2.0] for i in range(8)]


def test_jit_traces_again_for_a_new_shape_or_dtype(jax_backend: Any) -> None:
    scale = dualgrad.tensor([2.0, 3.0, 4.0], dtype=dualgrad.float32)

    def step(x: dualgrad.Tensor) -> dualgrad.Tensor:
        return (scale[: x.shape[0]] * x).sum()

    compiled = dualgrad.jit(step)
    for x in [dualgrad.ones(2, dtype=dualgrad.float32)] * 3 + [
        dualgrad.ones(3, dtype=dualgrad.float32),
        dualgrad.ones(3, dtype=dualgrad.float64),
    ]:
        out, eager = compiled(x), step(x)
        assert (out.item(), out.dtype) == (eager.item(), eager.dtype)


def test_jit_updates_a_parameter_passed_as_an_argument_as_eager_does(jax_backend: Any) -> None:
    # The argument is the optimizer's parameter itself: its .grad and update are the step's
    # state, not a copy's (which left the parameter untouched after the first call).
    def run(compile_step: bool) -> tuple[np.ndarray, np.ndarray]:
        w = dualgrad.tensor([1.0, 2.0], requires_grad=True)
        other = dualgrad.tensor([3.0, -1.0], requires_grad=True)
        optimizer = dualgrad.optim.SGD([w, other], lr=0.1)
        step = _sgd_step(lambda p: (p * p).sum(), optimizer)
        step = dualgrad.jit(step) if compile_step else step
        for _ in range(3):
            step(w)
        for _ in range(2):
            step(other)  # another parameter: another compiled step, its own state
        return w.detach().numpy(), other.detach().numpy()

    eager, compiled = run(False), run(True)
    np.testing.assert_allclose(compiled[0], eager[0], rtol=1e-6)
    np.testing.assert_allclose(compiled[1], eager[1], rtol=1e-6)
    np.testing.assert_allclose(eager[0], [0.512, 1.024], rtol=1e-6)


# --- Tensors that live on NumPy: the step runs eagerly, with a warning, never a tracer error ---
def _numpy_regression(steps: int, step_wrapper: Callable[[Any], Any], *, as_arguments: bool):
    """The tutorial's regression with every Tensor made on NumPy, its step wrapped and then run
    while the JAX backend is active; the data passed as arguments or read as state."""
    with dualgrad.use_backend("numpy"):
        dualgrad.manual_seed(0)
        x = dualgrad.randn(10, 1, dtype=dualgrad.float64)
        y = 2 * x + 1
        w = dualgrad.zeros(1, 1, dtype=dualgrad.float64, requires_grad=True)
        optimizer = dualgrad.optim.SGD([w], lr=0.1, momentum=0.9)

    def loss_of(x: dualgrad.Tensor, y: dualgrad.Tensor) -> dualgrad.Tensor:
        optimizer.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss

    def step_on_state() -> dualgrad.Tensor:
        return loss_of(x, y)

    stepper = step_wrapper(loss_of if as_arguments else step_on_state)
    with dualgrad.use_backend("jax"):
        losses = [(stepper(x, y) if as_arguments else stepper()).item() for _ in range(steps)]
    return losses + w.reshape(-1).tolist(), w


@pytest.mark.parametrize("as_arguments", [False, True], ids=["state", "arguments"])
def test_jit_over_numpy_tensors_runs_eagerly_with_one_warning(
    jax_backend: Any, as_arguments: bool
) -> None:
    eager, _ = _numpy_regression(6, lambda step: step, as_arguments=as_arguments)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled, w = _numpy_regression(6, dualgrad.jit, as_arguments=as_arguments)
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 1, messages
    assert messages[0].startswith("dualgrad.jit: ")
    assert "runs eagerly, uncompiled" in messages[0]
    reason = (
        "its arguments include 2 Tensor(s) on the numpy backend (shapes (10, 1), (10, 1))"
        if as_arguments
        else "it reads or updates 4 Tensor(s) on the numpy backend"
    )
    assert reason in messages[0]
    assert "create them while the jax backend is active" in messages[0]
    assert caught[0].filename == __file__  # it points at the call of the step
    assert compiled == eager
    assert isinstance(w.array, np.ndarray)  # the Tensors stay where they live


def test_jit_with_state_on_two_backends_runs_eagerly(jax_backend: Any) -> None:
    w = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64, requires_grad=True)
    with dualgrad.use_backend("numpy"):
        steps_taken = dualgrad.zeros((), dtype=dualgrad.float64)  # a counter kept on NumPy

    def step(x: dualgrad.Tensor) -> dualgrad.Tensor:
        loss = ((w * x).sum() - 1.0) ** 2
        loss.backward()
        with dualgrad.no_grad():
            w.sub_(0.1 * w.grad)
            steps_taken.add_(1.0)
        w.grad = None
        return loss

    jitted = dualgrad.jit(step)
    x = dualgrad.ones(2, dtype=dualgrad.float64)
    with pytest.warns(UserWarning, match=r"reads or updates 1 Tensor\(s\) on the numpy backend"):
        losses = [jitted(x).item() for _ in range(4)]
    assert steps_taken.item() == 4.0
    assert losses == pytest.approx([4.0, 1.44, 0.5184, 0.186624])


def test_jit_on_numpy_runs_the_step_as_it_is_without_a_warning() -> None:
    with dualgrad.use_backend("numpy"), warnings.catch_warnings():
        warnings.simplefilter("error")
        eager = _mlp_training(4, lambda step: step)
        compiled = _mlp_training(4, dualgrad.jit)
    assert compiled == eager
