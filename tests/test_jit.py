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


def test_jit_writes_the_new_arrays_over_the_old_ones(jax_backend: Any) -> None:
    w = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64, requires_grad=True)
    optimizer = dualgrad.optim.SGD([w], lr=0.1)
    step = dualgrad.jit(_sgd_step(lambda x: (w * x).sum() ** 2, optimizer))
    x = dualgrad.ones(2, dtype=dualgrad.float64)
    for _ in range(3):
        step(x)
    memory = w.array.unsafe_buffer_pointer(), w.grad.array.unsafe_buffer_pointer()
    step(x)
    assert (w.array.unsafe_buffer_pointer(), w.grad.array.unsafe_buffer_pointer()) == memory


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
        else "it reads or updates 5 Tensor(s) on the numpy backend"
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
