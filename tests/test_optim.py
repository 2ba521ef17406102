"""optim.SGD: trajectories against hand-computed numbers and PyTorch, zero_grad, and errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import dualgrad

TORCH_MISSING = "torch not installed; pip install torch==2.13.0"

# The problem: f(p) = sum(0.5 * A * p**2 - C * p), so grad f = A * p - C, from P0.
A = [1.0, 3.0]
C = [0.5, -1.0]
P0 = [1.0, -2.0]
STEPS = 5

CONFIGS = {
    "plain": {"lr": 0.1},
    "momentum": {"lr": 0.1, "momentum": 0.9},
    "dampening": {"lr": 0.1, "momentum": 0.9, "dampening": 0.5},
    "weight_decay": {"lr": 0.1, "weight_decay": 0.1},
    "nesterov": {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    "maximize": {"lr": 0.1, "maximize": True},
    "momentum_dampening_weight_decay": {
        "lr": 0.1,
        "momentum": 0.5,
        "dampening": 0.3,
        "weight_decay": 0.2,
    },
    "everything": {
        "lr": 0.05,
        "momentum": 0.8,
        "weight_decay": 0.01,
        "nesterov": True,
        "maximize": True,
    },
}

# p after each of the 5 steps, worked out in float64 from PyTorch's documented update
# (g += wd * p; b = g on the first step, else b = mu * b + (1 - dampening) * g;
# g = g + mu * b (Nesterov) or b; p -= lr * g, or += when maximizing).
# "plain" in closed form: p_k = C / A + (P0 - C / A) * (1 - 0.1 * A) ** k.
EXPECTED_TRAJECTORIES = {
    "plain": [
        [0.95, -1.5],
        [0.9049999999999999, -1.15],
        [0.8644999999999999, -0.9049999999999999],
        [0.82805, -0.7334999999999999],
        [0.795245, -0.6134499999999999],
    ],
    "momentum": [
        [0.95, -1.5],
        [0.86, -0.7],
        [0.743, 0.13000000000000012],
        [0.6134, 0.7380000000000002],
        [0.48541999999999996, 0.9638000000000002],
    ],
    "dampening": [
        [0.95, -1.5],
        [0.8825, -0.875],
        [0.8026249999999999, -0.23124999999999996],
        [0.7156062499999999, 0.33281250000000007],
        [0.6265090624999998, 0.7405468750000002],
    ],
    "weight_decay": [
        [0.94, -1.48],
        [0.8865999999999999, -1.1212],
        [0.839074, -0.873628],
        [0.79677586, -0.70280332],
        [0.7591305154, -0.5849342908],
    ],
    "nesterov": [
        [0.905, -1.0499999999999998],
        [0.78755, -0.23649999999999993],
        [0.6636605, 0.2469550000000001],
        [0.5469439549999999, 0.37744515],
        [0.44770915804999994, 0.24642039949999991],
    ],
    "maximize": [
        [1.05, -2.5],
        [1.105, -3.15],
        [1.1655, -3.995],
        [1.23205, -5.093500000000001],
        [1.305255, -6.521550000000001],
    ],
    "momentum_dampening_weight_decay": [
        [0.93, -1.46],
        [0.8518800000000001, -0.9329599999999999],
        [0.7762620800000001, -0.5304569599999999],
        [0.7082471052800001, -0.28038308095999986],
        [0.64974686107648, -0.1625403313049599],
    ],
    "everything": [
        [1.0441, -2.4482],
        [1.10780931, -3.17637062],
        [1.191136207521, -4.2708637298420005],
        [1.295058712951921, -5.865853721264083],
        [1.4214174548028427, -8.159551648704811],
    ],
}


def _quadratic(p):
    a = dualgrad.tensor(A, dtype=dualgrad.float64)
    c = dualgrad.tensor(C, dtype=dualgrad.float64)
    return (0.5 * a * p * p - c * p).sum()


def _dualgrad_trajectory(config):
    p = dualgrad.tensor(P0, dtype=dualgrad.float64, requires_grad=True)
    optimizer = dualgrad.optim.SGD([p], **config)
    trajectory = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        _quadratic(p).backward()
        optimizer.step()
        trajectory.append(p.tolist())
    return trajectory


@pytest.mark.parametrize("name", list(CONFIGS))
def test_sgd_trajectory_matches_hand_computed_values(name, backend):
    got = _dualgrad_trajectory(CONFIGS[name])
    np.testing.assert_allclose(got, EXPECTED_TRAJECTORIES[name], rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_sgd_trajectory_matches_live_pytorch(name):
    if importlib.util.find_spec("torch") is None:
        pytest.skip(TORCH_MISSING)
    import torch

    p = torch.tensor(P0, dtype=torch.float64, requires_grad=True)
    a = torch.tensor(A, dtype=torch.float64)
    c = torch.tensor(C, dtype=torch.float64)
    optimizer = torch.optim.SGD([p], **CONFIGS[name])
    expected = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        (0.5 * a * p * p - c * p).sum().backward()
        optimizer.step()
        expected.append(p.tolist())
    np.testing.assert_allclose(_dualgrad_trajectory(CONFIGS[name]), expected, rtol=0, atol=1e-12)


def test_sgd_step_keeps_parameter_a_leaf_of_its_dtype(backend):
    p = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    optimizer = dualgrad.optim.SGD([p], lr=0.5, momentum=0.9)
    (p * p).sum().backward()
    optimizer.step()
    assert p.is_leaf
    assert p.requires_grad
    assert p.dtype is dualgrad.float32
    assert p.tolist() == [0.0, 0.0]


def test_sgd_momentum_buffer_does_not_require_grad(backend):
    p = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    optimizer = dualgrad.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        (p * p).sum().backward()
        optimizer.step()
    buffer = optimizer.state[p]["momentum_buffer"]
    assert not buffer.requires_grad
    assert buffer.grad_fn is None


def test_sgd_param_groups_use_their_own_options(backend):
    p = dualgrad.tensor([1.0], requires_grad=True)
    q = dualgrad.tensor([1.0], requires_grad=True)
    optimizer = dualgrad.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.25)
    (p + q).sum().backward()
    optimizer.step()
    assert p.tolist() == [0.75]
    assert q.tolist() == [0.5]


# --- zero_grad ------------------------------------------------------------------------------
def _optimizer_with_grads():
    p = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    q = dualgrad.tensor(3.0, requires_grad=True)
    optimizer = dualgrad.optim.SGD([p, q], lr=0.1)
    (p * q).sum().backward()
    return optimizer, p, q


def test_zero_grad_sets_grads_to_none(backend):
    optimizer, p, q = _optimizer_with_grads()
    optimizer.zero_grad()
    assert p.grad is None
    assert q.grad is None


def test_zero_grad_without_set_to_none_zeros_the_same_grad_tensors(backend):
    optimizer, p, q = _optimizer_with_grads()
    p_grad, q_grad = p.grad, q.grad
    optimizer.zero_grad(set_to_none=False)
    assert p.grad is p_grad
    assert q.grad is q_grad
    assert p.grad.tolist() == [0.0, 0.0]
    assert q.grad.tolist() == 0.0


def test_zero_grad_without_set_to_none_clears_non_finite_grads(backend):
    p = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    optimizer = dualgrad.optim.SGD([p], lr=0.1)
    p.grad = dualgrad.tensor([float("inf"), float("nan")])
    optimizer.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]


def test_zero_grad_without_set_to_none_detaches_a_create_graph_grad(backend):
    p = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    optimizer = dualgrad.optim.SGD([p], lr=0.1)
    (p**3).sum().backward(create_graph=True)
    assert p.grad.requires_grad
    optimizer.zero_grad(set_to_none=False)
    assert not p.grad.requires_grad
    assert p.grad.grad_fn is None
    assert p.grad.tolist() == [0.0, 0.0]


def test_zero_grad_leaves_parameters_without_grad_alone(backend):
    p = dualgrad.tensor([1.0], requires_grad=True)
    optimizer = dualgrad.optim.SGD([p], lr=0.1)
    optimizer.zero_grad(set_to_none=False)
    assert p.grad is None


# --- which parameters a step touches ----------------------------------------------------------
def test_step_skips_parameters_without_grad(backend):
    p = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    untouched = dualgrad.tensor([5.0], requires_grad=True)
    optimizer = dualgrad.optim.SGD([p, untouched], lr=0.5, momentum=0.9, weight_decay=0.1)
    (p * p).sum().backward()
    optimizer.step()
    assert untouched.tolist() == [5.0]
    assert untouched._version == 0
    assert untouched not in optimizer.state
    assert p.tolist() == pytest.approx([1.0 - 0.5 * 2.1, 2.0 - 0.5 * 4.2])


@pytest.mark.parametrize("weight_decay", [0.0, 0.1], ids=["plain", "weight-decay"])
def test_step_that_fails_for_one_parameter_changes_no_parameter(weight_decay):
    with dualgrad.use_backend("numpy"):
        good = dualgrad.tensor([1.0, 2.0], requires_grad=True)
        foreign_grad = dualgrad.tensor([1.0])
    with dualgrad.use_backend("array_api_strict"):
        bad = dualgrad.tensor([3.0], requires_grad=True)
    optimizer = dualgrad.optim.SGD([good, bad], lr=0.1, momentum=0.9, weight_decay=weight_decay)
    (good * good).sum().backward()
    optimizer.step()  # a first step fills good's momentum buffer
    good_values, good_version = good.tolist(), good._version
    buffer = optimizer.state[good]["momentum_buffer"]
    buffer_values = buffer.tolist()
    (good * good).sum().backward()
    # A gradient from another backend (the .grad setter refuses one, so plant it directly):
    # the update cannot be applied.
    bad._grad = foreign_grad
    with pytest.raises(TypeError, match="different backends"):
        optimizer.step()
    assert good.tolist() == good_values
    assert good._version == good_version
    assert optimizer.state[good]["momentum_buffer"] is buffer
    assert buffer.tolist() == buffer_values
    assert bad.tolist() == [3.0]
    assert bad not in optimizer.state


# --- errors ---------------------------------------------------------------------------------
def test_negative_learning_rate_raises():
    p = dualgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"learning rate.*-0\.1"):
        dualgrad.optim.SGD([p], lr=-0.1)


@pytest.mark.parametrize("option", ["momentum", "weight_decay"])
def test_negative_momentum_or_weight_decay_raises(option):
    p = dualgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=rf"{option}.*-0\.5"):
        dualgrad.optim.SGD([p], lr=0.1, **{option: -0.5})


def test_nesterov_without_momentum_raises():
    p = dualgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"Nesterov.*momentum"):
        dualgrad.optim.SGD([p], lr=0.1, nesterov=True)


def test_nesterov_with_dampening_raises():
    p = dualgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"Nesterov.*dampening"):
        dualgrad.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)


def test_non_leaf_parameter_raises():
    x = dualgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"leaf.*before any operation"):
        dualgrad.optim.SGD([x * 2], lr=0.1)


def test_same_parameter_twice_raises():
    p = dualgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"more than once.*each tensor once"):
        dualgrad.optim.SGD([p, p], lr=0.1)


def test_same_parameter_in_two_groups_raises():
    p = dualgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="more than once"):
        dualgrad.optim.SGD([{"params": [p]}, {"params": [p], "lr": 1.0}], lr=0.1)


def test_empty_parameter_list_raises():
    with pytest.raises(ValueError, match="empty parameter list"):
        dualgrad.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        dualgrad.optim.SGD(iter([]), lr=0.1)


def test_non_tensor_parameter_raises():
    with pytest.raises(TypeError, match="can only optimize Tensors, got list"):
        dualgrad.optim.SGD([[1.0, 2.0]], lr=0.1)
