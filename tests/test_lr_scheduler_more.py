"""LambdaLR, MultiStepLR, ExponentialLR, ReduceLROnPlateau and OneCycleLR: lr (and momentum)
sequences against PyTorch's, state dicts that resume the schedule, Tensor lrs, and errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from torch_compare import torch_or_skip

import dualgrad
from dualgrad.optim import lr_scheduler

EPOCHS = 25
LRS = (0.1, 0.03)
METRICS = [3, 2, 2, 2, 2, 1.9999, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.4] + [1.4] * 12


class Warmup:
    """A callable object: LambdaLR saves its state (functions it cannot)."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def __call__(self, epoch: int) -> float:
        return min(1.0, (epoch + 1) / self.epochs)


SCHEDULES: dict[str, Any] = {
    "LambdaLR": lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.9**e + 0.01 * e),
    "LambdaLR-per-group": lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(
        opt, [lambda e: 1 / (e + 1), Warmup(5)]
    ),
    "MultiStepLR": lambda lib, opt: lib.optim.lr_scheduler.MultiStepLR(opt, [3, 7, 7, 12], 0.5),
    "ExponentialLR": lambda lib, opt: lib.optim.lr_scheduler.ExponentialLR(opt, 0.9),
    "OneCycleLR": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[1.0, 0.5], total_steps=EPOCHS
    ),
    "OneCycleLR-three-phase": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=1.0,
        epochs=5,
        steps_per_epoch=5,
        three_phase=True,
        anneal_strategy="linear",
        pct_start=0.25,
        base_momentum=[0.8, 0.7],
    ),
}
PLATEAUS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "patience": {"patience": 1, "factor": 0.5},
    "cooldown_min_lr": {"patience": 0, "cooldown": 2, "min_lr": [0.01, 0.02]},
    "max_abs": {"mode": "max", "threshold_mode": "abs", "threshold": 0.1, "patience": 2},
    "eps": {"patience": 1, "eps": 0.05},
}


def _optimizer(lib: Any, kind: str = "SGD", first_lr: Any = None) -> Any:
    """Two groups, with LRS (the first group's lr replaced by ``first_lr`` if given)."""
    lrs = [LRS[0] if first_lr is None else first_lr, LRS[1]]
    groups = [{"params": [lib.tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "SGD":
        return lib.optim.SGD(groups, momentum=0.9)
    return lib.optim.Adam(groups)


def _sequence(lib: Any, make: Any, kind: str = "SGD", metrics: Any = None) -> np.ndarray:
    """Each epoch's lrs and momenta (SGD's momentum or Adam's beta1), as the loop sees them."""
    optimizer = _optimizer(lib, kind)
    scheduler = make(lib, optimizer)
    rows = []
    for epoch in range(EPOCHS):
        momenta = [g.get("momentum", g.get("betas", (0.0,))[0]) for g in optimizer.param_groups]
        rows.append([*scheduler.get_last_lr(), *momenta])
        optimizer.step()
        scheduler.step(*([metrics[epoch]] if metrics else []))
    return np.asarray(rows, dtype=float)


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_matches_pytorch(name: str, kind: str) -> None:
    torch = torch_or_skip()
    ours = _sequence(dualgrad, SCHEDULES[name], kind)
    theirs = _sequence(torch, SCHEDULES[name], kind)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", PLATEAUS)
def test_reduce_on_plateau_matches_pytorch(name: str) -> None:
    torch = torch_or_skip()

    def make(lib: Any, optimizer: Any) -> Any:
        return lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **PLATEAUS[name])

    ours = _sequence(dualgrad, make, metrics=METRICS)
    theirs = _sequence(torch, make, metrics=METRICS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_reduce_on_plateau_takes_a_tensor_metric_and_a_tensor_lr() -> None:
    lr = dualgrad.tensor(1.0, dtype=dualgrad.float64)
    optimizer = dualgrad.optim.SGD([dualgrad.tensor([1.0], requires_grad=True)], lr=lr)
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
    for loss in [2.0, 2.0, 2.0]:
        scheduler.step(dualgrad.tensor(loss))
    assert optimizer.param_groups[0]["lr"] is lr
    assert lr.item() == 0.25 and scheduler.get_last_lr() == [0.25]


@pytest.mark.parametrize("name", [*SCHEDULES, "ReduceLROnPlateau"])
def test_state_dict_resumes_the_schedule(name: str, tmp_path: Any) -> None:
    def make(optimizer: Any) -> Any:
        if name == "ReduceLROnPlateau":
            return lr_scheduler.ReduceLROnPlateau(optimizer, patience=1, factor=0.5)
        return SCHEDULES[name](dualgrad, optimizer)

    def advance(scheduler: Any, epochs: range) -> list[list[float]]:
        lrs = []
        for epoch in epochs:
            scheduler.step(*([METRICS[epoch]] if name == "ReduceLROnPlateau" else []))
            lrs.append(scheduler.get_last_lr())
        return lrs

    optimizer = _optimizer(dualgrad)
    scheduler = make(optimizer)
    advance(scheduler, range(6))
    path = tmp_path / "schedule.npz"
    dualgrad.save({"opt": optimizer.state_dict(), "sched": scheduler.state_dict()}, path)
    expected = advance(scheduler, range(6, 12))

    checkpoint = dualgrad.load(path)
    resumed_optimizer = _optimizer(dualgrad)
    resumed = make(resumed_optimizer)
    resumed_optimizer.load_state_dict(checkpoint["opt"])
    resumed.load_state_dict(checkpoint["sched"])
    assert advance(resumed, range(6, 12)) == expected


def test_lambda_lr_saves_callable_objects_but_not_functions() -> None:
    warmup = Warmup(5)
    scheduler = lr_scheduler.LambdaLR(_optimizer(dualgrad), [lambda e: 1.0, warmup])
    assert scheduler.state_dict()["lr_lambdas"] == [None, {"epochs": 5}]
    state = scheduler.state_dict()
    state["lr_lambdas"][1] = {"epochs": 10}
    scheduler.load_state_dict(state)
    assert warmup.epochs == 10


def test_one_cycle_refuses_to_step_past_its_end() -> None:
    optimizer = _optimizer(dualgrad)
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=3)
    for _ in range(3):
        scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        scheduler.step()


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas"),
        (lambda o: lr_scheduler.MultiStepLR(o, [1.5]), ValueError, "milestones must be ints"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="up"), ValueError, "mode 'up'"),
        (
            lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="pct"),
            ValueError,
            "threshold mode",
        ),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "min_lr"),
        (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps OR"),
        (
            lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=0),
            ValueError,
            "positive integer total_steps",
        ),
        (
            lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=1),
            ValueError,
            "pct_start",
        ),
        (
            lambda o: lr_scheduler.OneCycleLR(o, 1.0, 5, anneal_strategy="exp"),
            ValueError,
            "anneal_strategy",
        ),
        (lambda o: lr_scheduler.OneCycleLR(o, [1.0], 5), ValueError, "2 values for max_lr"),
        (lambda o: lr_scheduler.ReduceLROnPlateau([]), TypeError, "not an Optimizer"),
    ],
)
def test_invalid_options_raise(make: Any, error: Any, match: str) -> None:
    with pytest.raises(error, match=match):
        make(_optimizer(dualgrad))


def test_one_cycle_needs_momentum_to_cycle_it() -> None:
    optimizer = dualgrad.optim.Adagrad([dualgrad.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=5)
    lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=5, cycle_momentum=False)


def test_new_schedules_write_a_tensor_lr_in_place() -> None:
    for name in ("LambdaLR", "MultiStepLR", "ExponentialLR", "OneCycleLR"):
        lr = dualgrad.tensor(0.1, dtype=dualgrad.float64)
        optimizer = _optimizer(dualgrad, first_lr=lr)
        scheduler = SCHEDULES[name](dualgrad, optimizer)
        for _ in range(4):
            scheduler.step()
        assert optimizer.param_groups[0]["lr"] is lr
        assert lr.item() == pytest.approx(scheduler.get_last_lr()[0], rel=1e-15)
