"""optim.lr_scheduler: StepLR and CosineAnnealingLR against their closed forms and PyTorch,
what they write into the optimizer, their state dicts, and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dualgrad
from dualgrad.optim.lr_scheduler import CosineAnnealingLR, StepLR

TORCH_MISSING = "torch not installed; pip install torch==2.13.0"
EPOCHS = 25
LRS = (0.1, 0.03)  # two parameter groups

SCHEDULERS = {
    "StepLR": (StepLR, {"step_size": 3, "gamma": 0.5}),
    "StepLR-defaults": (StepLR, {"step_size": 7}),
    "Cosine": (CosineAnnealingLR, {"T_max": 10}),
    "Cosine-eta_min": (CosineAnnealingLR, {"T_max": 8, "eta_min": 0.01}),
}


def _closed_form(name, base_lr, epoch):
    _, options = SCHEDULERS[name]
    if "step_size" in options:
        return base_lr * options.get("gamma", 0.1) ** (epoch // options["step_size"])
    eta_min = options.get("eta_min", 0.0)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / options["T_max"])) / 2


def _optimizer(lib):
    params = [lib.tensor([1.0], requires_grad=True) for _ in LRS]
    return lib.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, LRS, strict=True)])


def _schedule(lib, scheduler_class, options):
    optimizer = _optimizer(lib)
    scheduler = scheduler_class(optimizer, **options)
    lrs = []
    for _ in range(EPOCHS):
        lrs.append(scheduler.get_last_lr())
        optimizer.step()
        scheduler.step()
    return lrs


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_schedule_follows_the_closed_form(name):
    scheduler_class, options = SCHEDULERS[name]
    expected = [[_closed_form(name, lr, epoch) for lr in LRS] for epoch in range(EPOCHS)]
    got = _schedule(dualgrad, scheduler_class, options)
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_schedule_matches_live_pytorch(name):
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    scheduler_class, options = SCHEDULERS[name]
    theirs = _schedule(torch, getattr(torch.optim.lr_scheduler, scheduler_class.__name__), options)
    np.testing.assert_allclose(_schedule(dualgrad, scheduler_class, options), theirs, atol=1e-12)


def test_step_lr_by_hand():
    lrs = [lr[0] for lr in _schedule(dualgrad, StepLR, {"step_size": 2, "gamma": 0.5})[:7]]
    assert lrs == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125]


def test_cosine_by_hand():
    lrs = [lr[0] for lr in _schedule(dualgrad, CosineAnnealingLR, {"T_max": 4})[:9]]
    # half-way down is the mean; T_max reaches eta_min; then it climbs back
    assert lrs[0] == 0.1
    assert lrs[2] == pytest.approx(0.05, abs=1e-17)
    assert lrs[4] == 0.0
    assert lrs[8] == pytest.approx(0.1, abs=1e-17)
    assert lrs[1] == pytest.approx(0.1 * (1 + math.sqrt(0.5)) / 2, abs=1e-17)


def test_scheduler_writes_the_optimizer_lr_that_step_uses():
    p = dualgrad.tensor([1.0], dtype="float64", requires_grad=True)
    optimizer = dualgrad.optim.SGD([p], lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = dualgrad.tensor([1.0], dtype="float64")
        optimizer.step()
        scheduler.step()
    assert p.tolist() == [1.0 - 1.0 - 0.5 - 0.25]
    assert optimizer.param_groups[0]["lr"] == 0.125
    assert optimizer.param_groups[0]["initial_lr"] == 1.0


def test_state_dict_resumes_the_schedule(tmp_path):
    optimizer = _optimizer(dualgrad)
    scheduler = CosineAnnealingLR(optimizer, T_max=10, eta_min=0.001)
    for _ in range(4):
        scheduler.step()
    path = tmp_path / "checkpoint.npz"
    dualgrad.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, path)
    checkpoint = dualgrad.load(path)
    assert "optimizer" not in checkpoint["scheduler"]

    resumed_optimizer = _optimizer(dualgrad)
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    resumed = CosineAnnealingLR(resumed_optimizer, T_max=10)
    resumed.load_state_dict(checkpoint["scheduler"])
    assert resumed.get_last_lr() == scheduler.get_last_lr()
    for _ in range(3):
        scheduler.step()
        resumed.step()
        assert resumed.get_last_lr() == scheduler.get_last_lr()
        assert [g["lr"] for g in resumed_optimizer.param_groups] == scheduler.get_last_lr()


def test_resuming_with_last_epoch_uses_initial_lr():
    optimizer = _optimizer(dualgrad)
    StepLR(optimizer, step_size=2)
    resumed = StepLR(optimizer, step_size=2, gamma=0.5, last_epoch=3)
    assert resumed.last_epoch == 4
    assert resumed.get_last_lr() == [lr * 0.25 for lr in LRS]


def test_resuming_without_initial_lr_raises():
    with pytest.raises(KeyError, match=r"'initial_lr' is not specified in param_groups\[0\]"):
        StepLR(_optimizer(dualgrad), step_size=2, last_epoch=3)


def test_load_state_dict_without_its_keys_raises():
    scheduler = StepLR(_optimizer(dualgrad), step_size=2)
    with pytest.raises(KeyError, match="missing last_epoch, base_lrs"):
        scheduler.load_state_dict({})


@pytest.mark.parametrize(
    ("scheduler_class", "options", "match"),
    [
        (StepLR, {"step_size": 0}, "step_size must be a positive int, got 0"),
        (StepLR, {"step_size": 1.5}, "step_size must be a positive int, got 1.5"),
        (CosineAnnealingLR, {"T_max": -1}, "T_max must be a positive int, got -1"),
    ],
)
def test_invalid_options_raise(scheduler_class, options, match):
    with pytest.raises(ValueError, match=match):
        scheduler_class(_optimizer(dualgrad), **options)


def test_scheduler_of_a_non_optimizer_raises():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        StepLR([], step_size=1)


# --- a Tensor lr: what dualgrad.jit needs to follow a schedule (see also test_jit.py) ------
OPTIMIZERS = {
    "SGD": (dualgrad.optim.SGD, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    "Adam": (dualgrad.optim.Adam, {"weight_decay": 0.01, "amsgrad": True}),
    "AdamW": (dualgrad.optim.AdamW, {}),
    "RMSprop": (dualgrad.optim.RMSprop, {"momentum": 0.5, "centered": True}),
}


def _scheduled_trajectory(optimizer_class, options, lr, dtype, schedule):
    """Six epochs of a quadratic under ``schedule``; the parameters and lrs after each."""
    w = dualgrad.tensor([1.0, -2.0, 0.5], dtype=dtype, requires_grad=True)
    optimizer = optimizer_class([w], lr=lr, **options)
    scheduler = SCHEDULERS[schedule][0](optimizer, **SCHEDULERS[schedule][1])
    trajectory = []
    for _ in range(6):
        optimizer.zero_grad()
        ((w - 0.3) ** 2).sum().backward()
        optimizer.step()
        scheduler.step()
        trajectory.append((w.tolist(), scheduler.get_last_lr()))
    return trajectory


@pytest.mark.parametrize("schedule", ["StepLR", "Cosine"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_tensor_lr_gives_the_float_lr_trajectory(name, dtype, schedule):
    optimizer_class, options = OPTIMIZERS[name]
    with_float = _scheduled_trajectory(optimizer_class, options, 0.1, dtype, schedule)
    tensor_lr = dualgrad.tensor(0.1, dtype=dtype)
    with_tensor = _scheduled_trajectory(optimizer_class, options, tensor_lr, dtype, schedule)
    assert with_tensor == with_float


def test_scheduler_writes_a_tensor_lr_in_place():
    lr = dualgrad.tensor(1.0, dtype="float64")
    optimizer = dualgrad.optim.SGD([dualgrad.tensor([1.0], requires_grad=True)], lr=lr)
    scheduler = CosineAnnealingLR(optimizer, T_max=2)
    scheduler.step()
    group = optimizer.param_groups[0]
    assert group["lr"] is lr
    assert lr.item() == 0.5
    assert scheduler.get_last_lr() == [0.5]
    assert type(scheduler.get_last_lr()[0]) is float
    assert group["initial_lr"] == 1.0
    assert type(group["initial_lr"]) is float


def test_tensor_lr_round_trips_through_save_and_load(tmp_path):
    def build():
        w = dualgrad.tensor([1.0, 2.0], requires_grad=True)
        return dualgrad.optim.Adam([w], lr=dualgrad.tensor(0.1, dtype="float64"))

    optimizer = build()
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    scheduler.step()
    saved = optimizer.state_dict()
    scheduler.step()  # a state dict is a snapshot: this change is not in `saved`
    assert saved["param_groups"][0]["lr"].item() == 0.05
    path = tmp_path / "checkpoint.npz"
    dualgrad.save(saved, path)

    resumed = build()
    lr = resumed.param_groups[0]["lr"]
    resumed.load_state_dict(dualgrad.load(path))
    assert resumed.param_groups[0]["lr"] is lr  # loaded in place: a compiled step keeps it
    assert lr.item() == 0.05
    float_lr = dualgrad.optim.Adam([dualgrad.tensor([1.0, 2.0], requires_grad=True)])
    float_lr.load_state_dict(dualgrad.load(path))
    assert isinstance(float_lr.param_groups[0]["lr"], dualgrad.Tensor)
    assert float_lr.param_groups[0]["lr"].item() == 0.05


@pytest.mark.parametrize(
    ("lr", "error", "match"),
    [
        (dualgrad.tensor(1), TypeError, "Tensor lr must be floating point, got .*int64"),
        (dualgrad.tensor([0.1]), ValueError, r"Tensor lr must be 0-d, got shape \(1,\)"),
        (dualgrad.tensor(-0.1), ValueError, "Invalid learning rate: -0.1"),
        (dualgrad.tensor(float("nan")), ValueError, "Invalid learning rate: nan"),
    ],
)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_invalid_tensor_lr_raises(name, lr, error, match):
    optimizer_class, _ = OPTIMIZERS[name]
    with pytest.raises(error, match=match):
        optimizer_class([dualgrad.tensor([1.0], requires_grad=True)], lr=lr)


def test_tensor_lr_on_another_backend_raises():
    pytest.importorskip("array_api_strict", reason="pip install 'dualgrad[dev]'")
    w = dualgrad.tensor([1.0], requires_grad=True)
    with dualgrad.use_backend("array_api_strict"):
        lr = dualgrad.tensor(0.1)
    with pytest.raises(TypeError, match="lr is on the array_api_strict backend"):
        dualgrad.optim.SGD([w], lr=lr)


def test_a_group_tensor_lr_is_checked_too():
    w = dualgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="Tensor lr must be 0-d"):
        dualgrad.optim.SGD([{"params": [w], "lr": dualgrad.tensor([0.1, 0.2])}], lr=0.1)


def test_loading_a_bad_tensor_lr_raises_and_changes_nothing():
    lr = dualgrad.tensor(0.1)
    optimizer = dualgrad.optim.SGD([dualgrad.tensor([1.0], requires_grad=True)], lr=lr)
    saved = optimizer.state_dict()
    saved["param_groups"][0]["lr"] = dualgrad.tensor([0.5])
    with pytest.raises(ValueError, match="Tensor lr must be 0-d"):
        optimizer.load_state_dict(saved)
    assert optimizer.param_groups[0]["lr"] is lr
    assert lr.item() == pytest.approx(0.1)
