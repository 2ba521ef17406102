"""optim.Adam, AdamW and RMSprop: steps by hand, trajectories against a scalar reference and
against PyTorch, state dicts (and resuming from them), atomic steps, and errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import dualgrad

TORCH_MISSING = "torch not installed; pip install torch==2.13.0"

# The problem: f(p) = sum(0.5 * A * p**2 - C * p), so grad f = A * p - C, from P0.
A = [1.0, 3.0]
C = [0.5, -1.0]
P0 = [1.0, -2.0]
G0 = [a * p - c for a, p, c in zip(A, P0, C, strict=True)]  # [0.5, -5.0]
STEPS = 6


def _quadratic(p):
    a = dualgrad.tensor(A, dtype=dualgrad.float64)
    c = dualgrad.tensor(C, dtype=dualgrad.float64)
    return (0.5 * a * p * p - c * p).sum()


def _trajectory(name, config, steps=STEPS):
    p = dualgrad.tensor(P0, dtype=dualgrad.float64, requires_grad=True)
    optimizer = getattr(dualgrad.optim, name)([p], **config)
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        _quadratic(p).backward()
        optimizer.step()
        trajectory.append(p.tolist())
    return trajectory


# --- one step by hand -----------------------------------------------------------------------
# On the first step the bias corrections make Adam's m_hat = g and v_hat = g**2, so
# p1 = p0 - lr * g / (|g| + eps); with weight decay g gains wd * p0 (Adam) or p0 shrinks by
# lr * wd * p0 (AdamW). RMSprop's first v = (1 - alpha) * g**2.
FIRST_STEPS = {
    ("Adam", "plain"): (
        {"lr": 0.1},
        [1.0 - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 + 0.1 * 5.0 / (5.0 + 1e-8)],
    ),
    ("Adam", "weight_decay"): (
        # g = [0.5 + 0.5 * 1, -5 + 0.5 * -2] = [1.0, -6.0]
        {"lr": 0.1, "weight_decay": 0.5},
        [1.0 - 0.1 * 1.0 / (1.0 + 1e-8), -2.0 + 0.1 * 6.0 / (6.0 + 1e-8)],
    ),
    ("Adam", "maximize"): (
        {"lr": 0.1, "maximize": True},
        [1.0 + 0.1 * 0.5 / (0.5 + 1e-8), -2.0 - 0.1 * 5.0 / (5.0 + 1e-8)],
    ),
    ("AdamW", "default_decay"): (
        {"lr": 0.1},
        [
            1.0 - 0.1 * 0.01 * 1.0 - 0.1 * 0.5 / (0.5 + 1e-8),
            -2.0 + 0.1 * 0.01 * 2.0 + 0.1 * 5.0 / (5.0 + 1e-8),
        ],
    ),
    ("RMSprop", "defaults"): (
        # v = 0.01 * g**2, so sqrt(v) = 0.1 * |g|
        {},
        [1.0 - 0.01 * 0.5 / (0.05 + 1e-8), -2.0 + 0.01 * 5.0 / (0.5 + 1e-8)],
    ),
    ("RMSprop", "centered_momentum"): (
        # centered: a = 0.5 * g, sqrt(v - a**2) = sqrt(0.5 g**2 - 0.25 g**2) = 0.5 |g|;
        # the momentum buffer starts at g / d.
        {"lr": 0.1, "alpha": 0.5, "centered": True, "momentum": 0.9, "eps": 0.0},
        [1.0 - 0.1 * 0.5 / 0.25, -2.0 + 0.1 * 5.0 / 2.5],
    ),
}


@pytest.mark.parametrize(("name", "case"), list(FIRST_STEPS), ids="-".join)
def test_first_step_matches_hand_computation(name, case, backend, mode):
    config, expected = FIRST_STEPS[name, case]
    np.testing.assert_allclose(_trajectory(name, config, steps=1)[0], expected, rtol=0, atol=1e-15)


# --- trajectories: a scalar reference written from PyTorch's documented algorithms ---------
def _reference(name, config, steps=STEPS):
    """The trajectory, one scalar coordinate at a time, in plain Python floats."""
    lr = config.get("lr", 1e-2 if name == "RMSprop" else 1e-3)
    eps = config.get("eps", 1e-8)
    default_decay = 1e-2 if name == "AdamW" else 0.0
    weight_decay = config.get("weight_decay", default_decay)
    sign = -1.0 if config.get("maximize") else 1.0
    trajectory = []
    p = list(P0)
    state = [{"m": 0.0, "v": 0.0, "vmax": 0.0, "a": 0.0, "b": 0.0} for _ in p]
    for t in range(1, steps + 1):
        for i in range(len(p)):
            s = state[i]
            g = sign * (A[i] * p[i] - C[i])
            if name == "RMSprop":
                alpha, momentum = config.get("alpha", 0.99), config.get("momentum", 0.0)
                g += weight_decay * p[i]
                s["v"] = alpha * s["v"] + (1 - alpha) * g * g
                if config.get("centered"):
                    s["a"] = alpha * s["a"] + (1 - alpha) * g
                    d = math.sqrt(s["v"] - s["a"] ** 2) + eps
                else:
                    d = math.sqrt(s["v"]) + eps
                if momentum > 0:
                    s["b"] = momentum * s["b"] + g / d
                    p[i] -= lr * s["b"]
                else:
                    p[i] -= lr * g / d
                continue
            beta1, beta2 = config.get("betas", (0.9, 0.999))
            if name == "AdamW":
                p[i] -= lr * weight_decay * p[i]
            else:
                g += weight_decay * p[i]
            s["m"] = beta1 * s["m"] + (1 - beta1) * g
            s["v"] = beta2 * s["v"] + (1 - beta2) * g * g
            s["vmax"] = max(s["vmax"], s["v"])
            v = s["vmax"] if config.get("amsgrad") else s["v"]
            m_hat = s["m"] / (1 - beta1**t)
            p[i] -= lr * m_hat / (math.sqrt(v) / math.sqrt(1 - beta2**t) + eps)
        trajectory.append(list(p))
    return trajectory


def _grid(options):
    names = list(options)
    return [
        dict(zip(names, values, strict=True)) for values in itertools.product(*options.values())
    ]


ADAM_GRID = _grid(
    {
        "lr": [0.1],
        "betas": [(0.9, 0.999), (0.5, 0.8)],
        "weight_decay": [0.0, 0.1],
        "amsgrad": [False, True],
        "maximize": [False, True],
    }
)
RMSPROP_GRID = _grid(
    {
        "lr": [0.01],
        "alpha": [0.99, 0.5],
        "eps": [1e-8, 1e-3],
        "weight_decay": [0.0, 0.1],
        "momentum": [0.0, 0.9],
        "centered": [False, True],
        "maximize": [False, True],
    }
)
GRID = (
    [("Adam", c) for c in ADAM_GRID]
    + [("AdamW", c) for c in ADAM_GRID]
    + [("RMSprop", c) for c in RMSPROP_GRID]
)


def _id(case):
    name, config = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in config.items() if k != "lr")


@pytest.mark.parametrize("case", GRID, ids=map(_id, GRID))
def test_trajectory_matches_scalar_reference(case):
    name, config = case
    np.testing.assert_allclose(
        _trajectory(name, config), _reference(name, config), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("case", GRID, ids=map(_id, GRID))
def test_trajectory_matches_live_pytorch(case):
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    name, config = case
    p = torch.tensor(P0, dtype=torch.float64, requires_grad=True)
    a = torch.tensor(A, dtype=torch.float64)
    c = torch.tensor(C, dtype=torch.float64)
    optimizer = getattr(torch.optim, name)([p], **config)
    expected = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        (0.5 * a * p * p - c * p).sum().backward()
        optimizer.step()
        expected.append(p.tolist())
    np.testing.assert_allclose(_trajectory(name, config), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop"])
def test_defaults_match_pytorch(name):
    p = dualgrad.tensor([1.0], requires_grad=True)
    defaults = getattr(dualgrad.optim, name)([p]).defaults
    expected = {
        "Adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
        "AdamW": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2},
        "RMSprop": {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "centered": False},
    }[name]
    assert {k: defaults[k] for k in expected} == expected
    assert defaults["maximize"] is False


def test_defaults_match_live_pytorch():
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    for name in ("Adam", "AdamW", "RMSprop"):
        ours = getattr(dualgrad.optim, name)([dualgrad.tensor([1.0], requires_grad=True)])
        theirs = getattr(torch.optim, name)([torch.tensor([1.0], requires_grad=True)])
        for key, value in ours.defaults.items():
            assert theirs.defaults[key] == value, (name, key)


# --- both engines, every backend ------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("Adam", {"lr": 0.1, "amsgrad": True, "weight_decay": 0.1}),
        ("AdamW", {"lr": 0.1}),
        ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ],
)
def test_every_backend_and_mode_follows_the_reference(name, config, backend, mode):
    np.testing.assert_allclose(
        _trajectory(name, config), _reference(name, config), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop"])
def test_step_keeps_parameters_leaves_of_their_dtype_and_state_constant(name, backend):
    p = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    optimizer = getattr(dualgrad.optim, name)([p], lr=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        (p * p).sum().backward()
        optimizer.step()
    assert p.is_leaf
    assert p.requires_grad
    assert p.dtype is dualgrad.float32
    for key, value in optimizer.state[p].items():
        assert not value.requires_grad, key
        assert value.backend is backend, key
    assert optimizer.state[p]["step"].item() == 2.0


def test_param_groups_use_their_own_options(backend):
    p = dualgrad.tensor([1.0], requires_grad=True)
    q = dualgrad.tensor([1.0], requires_grad=True)
    optimizer = dualgrad.optim.Adam([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.25)
    (p + q).sum().backward()
    optimizer.step()
    assert p.item() == pytest.approx(0.75, abs=1e-6)
    assert q.item() == pytest.approx(0.5, abs=1e-6)


def test_step_skips_parameters_without_grad(backend):
    p = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    untouched = dualgrad.tensor([5.0], requires_grad=True)
    optimizer = dualgrad.optim.RMSprop([p, untouched], momentum=0.9)
    (p * p).sum().backward()
    optimizer.step()
    assert untouched.tolist() == [5.0]
    assert untouched._version == 0
    assert untouched not in optimizer.state


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop"])
def test_step_that_fails_for_one_parameter_changes_no_parameter_and_no_state(name):
    with dualgrad.use_backend("numpy"):
        good = dualgrad.tensor([1.0, 2.0], requires_grad=True)
        foreign_grad = dualgrad.tensor([1.0])
    with dualgrad.use_backend("array_api_strict"):
        bad = dualgrad.tensor([3.0], requires_grad=True)
    optimizer = getattr(dualgrad.optim, name)([good, bad], lr=0.1)
    (good * good).sum().backward()
    optimizer.step()
    good_values, good_version = good.tolist(), good._version
    state = dict(optimizer.state[good])
    state_values = {key: value.tolist() for key, value in state.items()}
    (good * good).sum().backward()
    bad._grad = foreign_grad  # the .grad setter refuses one from another backend
    with pytest.raises(TypeError, match="different backends"):
        optimizer.step()
    assert good.tolist() == good_values
    assert good._version == good_version
    assert optimizer.state[good] == state
    assert {key: value.tolist() for key, value in state.items()} == state_values
    assert bad.tolist() == [3.0]
    assert bad not in optimizer.state


def _adam_curve(compiled):
    """Losses and final weights of a few Adam steps on the JAX backend, jitted or eager."""
    with dualgrad.use_backend("jax"):
        w = dualgrad.tensor([1.0, -2.0, 0.5], dtype="float64", requires_grad=True)
        x = dualgrad.tensor([0.5, 1.0, -1.0], dtype="float64")
    optimizer = dualgrad.optim.Adam([w], lr=0.1, amsgrad=True)

    def step(x):
        optimizer.zero_grad()
        loss = ((w * x).sum() - 1.0) ** 2 + (w * w).sum()
        loss.backward()
        optimizer.step()
        return loss

    run = dualgrad.jit(step) if compiled else step
    return [run(x).item() for _ in range(6)] + w.tolist()


def test_adam_under_jit_matches_eager():
    pytest.importorskip("jax", reason="jax not installed; pip install 'dualgrad[jax]'")
    np.testing.assert_allclose(_adam_curve(True), _adam_curve(False), rtol=0, atol=1e-12)


# --- state_dict / load_state_dict -----------------------------------------------------------
def _trained(name, config, steps=3, params=None):
    params = params or [
        dualgrad.tensor(P0, dtype=dualgrad.float64, requires_grad=True),
        dualgrad.tensor([[0.5]], dtype=dualgrad.float64, requires_grad=True),
    ]
    optimizer = getattr(dualgrad.optim, name)(params, **config)
    for _ in range(steps):
        _step(optimizer, params)
    return optimizer, params


def _step(optimizer, params):
    optimizer.zero_grad()
    (_quadratic(params[0]) + (params[1] ** 4).sum()).backward()
    optimizer.step()


STATEFUL = [
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("Adam", {"lr": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.1}),
    ("RMSprop", {"momentum": 0.9, "centered": True}),
]


@pytest.mark.parametrize(("name", "config"), STATEFUL, ids=[n for n, _ in STATEFUL])
def test_state_dict_has_pytorchs_layout(name, config):
    optimizer, _ = _trained(name, config)
    state = optimizer.state_dict()
    assert list(state) == ["state", "param_groups"]
    assert list(state["state"]) == [0, 1]
    assert state["param_groups"][0]["params"] == [0, 1]
    keys = {
        "SGD": {"momentum_buffer"},
        "Adam": {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
        "AdamW": {"step", "exp_avg", "exp_avg_sq"},
        "RMSprop": {"step", "square_avg", "momentum_buffer", "grad_avg"},
    }[name]
    assert set(state["state"][1]) == keys
    if "step" in keys:
        assert state["state"][1]["step"].shape == ()
        assert state["state"][1]["step"].item() == 3.0


@pytest.mark.parametrize(("name", "config"), STATEFUL, ids=[n for n, _ in STATEFUL])
def test_state_dict_keys_match_live_pytorch(name, config):
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    ours, _ = _trained(name, config)
    params = [torch.tensor(P0, requires_grad=True), torch.tensor([[0.5]], requires_grad=True)]
    theirs = getattr(torch.optim, name)(params, **config)
    (params[0].sum() + params[1].sum()).backward()
    theirs.step()
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert set(ours_state["state"][1]) == set(theirs_state["state"][1])
    ours_group, theirs_group = ours_state["param_groups"][0], theirs_state["param_groups"][0]
    assert set(ours_group) <= set(theirs_group)
    assert ours_group == {key: theirs_group[key] for key in ours_group}


@pytest.mark.parametrize(("name", "config"), STATEFUL, ids=[n for n, _ in STATEFUL])
def test_resuming_from_a_state_dict_continues_the_same_trajectory(name, config, backend):
    _, params = _trained(name, config, steps=5)
    expected = [p.tolist() for p in params]

    first, params = _trained(name, config, steps=3)
    saved = first.state_dict()
    resumed = getattr(dualgrad.optim, name)(params, lr=123.0)  # options come from the state
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == first.param_groups[0]["lr"]
    for _ in range(2):
        _step(resumed, params)
    for p, values in zip(params, expected, strict=True):
        np.testing.assert_allclose(p.tolist(), values, rtol=0, atol=1e-15)
    # The loaded state is the optimizer's own: stepping did not change the saved dict.
    assert all(
        first.state[p][k] is not resumed.state[p][k] for p in params for k in first.state[p]
    )


def test_loading_pytorchs_adam_state_continues_pytorchs_trajectory():
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    a = torch.tensor(A, dtype=torch.float64)
    c = torch.tensor(C, dtype=torch.float64)
    theirs = torch.tensor(P0, dtype=torch.float64, requires_grad=True)
    torch_optimizer = torch.optim.Adam([theirs], lr=0.1, amsgrad=True)
    trajectory = []
    for step in range(5):
        torch_optimizer.zero_grad()
        (0.5 * a * theirs * theirs - c * theirs).sum().backward()
        torch_optimizer.step()
        if step == 2:
            state = torch_optimizer.state_dict()
            ported = {
                "state": {
                    i: {k: dualgrad.tensor(v.tolist(), dtype="float64") for k, v in s.items()}
                    for i, s in state["state"].items()
                },
                "param_groups": [
                    {k: v for k, v in g.items() if k in ("lr", "betas", "eps", "params")}
                    | {"weight_decay": 0.0, "amsgrad": True, "maximize": False}
                    for g in state["param_groups"]
                ],
            }
            ours = dualgrad.tensor(theirs.tolist(), dtype="float64", requires_grad=True)
        trajectory.append(theirs.tolist())
    optimizer = dualgrad.optim.Adam([ours])
    optimizer.load_state_dict(ported)
    for _ in range(2):
        optimizer.zero_grad()
        _quadratic(ours).backward()
        optimizer.step()
    np.testing.assert_allclose(ours.tolist(), trajectory[-1], rtol=0, atol=1e-12)


def test_load_state_dict_converts_state_to_the_parameters_backend_and_dtype(backend):
    with dualgrad.use_backend("numpy"):
        saved, _ = _trained("Adam", {"lr": 0.1})
    params = [
        dualgrad.tensor(P0, dtype="float32", requires_grad=True),
        dualgrad.tensor([[0.5]], dtype="float32", requires_grad=True),
    ]
    optimizer = dualgrad.optim.Adam(params)
    optimizer.load_state_dict(saved.state_dict())
    for p in params:
        for key, value in optimizer.state[p].items():
            assert value.backend is backend, key
            assert value.dtype is dualgrad.float32, key
    _step(optimizer, params)


def _assert_load_fails_and_changes_nothing(optimizer, state_dict, error, match):
    before_state, before_groups = optimizer.state, optimizer.param_groups
    before = {id(p): {k: v.tolist() for k, v in s.items()} for p, s in optimizer.state.items()}
    with pytest.raises(error, match=match):
        optimizer.load_state_dict(state_dict)
    assert optimizer.state is before_state
    assert optimizer.param_groups is before_groups
    after = {id(p): {k: v.tolist() for k, v in s.items()} for p, s in optimizer.state.items()}
    assert after == before


def test_load_state_dict_errors_change_nothing():
    optimizer, _ = _trained("Adam", {"lr": 0.1})
    good = _trained("Adam", {"lr": 0.2})[0].state_dict()

    two_groups = {**good, "param_groups": good["param_groups"] * 2}
    _assert_load_fails_and_changes_nothing(
        optimizer, two_groups, ValueError, "2 parameter groups, this optimizer 1"
    )
    short = {**good, "param_groups": [{**good["param_groups"][0], "params": [0]}]}
    _assert_load_fails_and_changes_nothing(
        optimizer, short, ValueError, "group 0 has 1 parameters in the state, 2 here"
    )
    stray = {**good, "state": {**good["state"], 7: good["state"][0]}}
    _assert_load_fails_and_changes_nothing(
        optimizer, stray, ValueError, "names parameter 7, which no parameter group has"
    )
    misshaped = {**good, "state": {0: good["state"][1], 1: good["state"][1]}}
    _assert_load_fails_and_changes_nothing(
        optimizer, misshaped, ValueError, r"'exp_avg' of parameter 0 has shape \(1, 1\)"
    )
    _assert_load_fails_and_changes_nothing(
        optimizer, {"state": {}}, TypeError, "'state' and 'param_groups'"
    )


# --- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("Adam", {"lr": -0.1}, r"learning rate: -0\.1"),
        ("Adam", {"eps": -1.0}, r"epsilon value: -1\.0"),
        ("Adam", {"weight_decay": -1.0}, r"weight_decay value: -1\.0"),
        ("Adam", {"betas": (1.0, 0.999)}, r"beta parameter at index 0: 1\.0"),
        ("AdamW", {"betas": (0.9, -0.1)}, r"beta parameter at index 1: -0\.1"),
        ("RMSprop", {"alpha": -0.5}, r"alpha value: -0\.5"),
        ("RMSprop", {"momentum": -0.5}, r"momentum value: -0\.5"),
    ],
)
def test_invalid_options_raise(name, options, match):
    p = dualgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=match):
        getattr(dualgrad.optim, name)([p], **options)
