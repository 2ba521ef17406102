"""optim.Adagrad and optim.LBFGS: trajectories against PyTorch (float64 and float32), on every
backend and in both modes; LBFGS's closure protocol, line search, stopping tests and state;
the closure that every optimizer's step accepts."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from tensors import assert_close
from torch_compare import TIGHT, torch_or_skip

import dualgrad

P0 = [1.0, -2.0, 0.5]


def _objective(lib: Any, p: Any) -> Any:
    """A smooth function with a minimum, unequal curvatures and a cubic term."""
    scales = lib.tensor([1.0, 3.0, 0.5], dtype=p.dtype)
    return (scales * p * p).sum() + 0.1 * (p**3).sum() + (p[0] * p[1]).sum()


# --- Adagrad --------------------------------------------------------------------------------
ADAGRAD = [
    dict(
        zip(("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"), v, strict=True)
    )
    for v in itertools.product([0.1], [0.0, 0.2], [0.0, 0.05], [0.0, 0.3], [1e-10, 1e-3])
] + [{"lr": 0.3, "maximize": True}]


def _adagrad_trajectory(lib: Any, config: dict[str, Any], dtype: str, steps: int = 6) -> list:
    p = lib.tensor(P0, dtype=getattr(lib, dtype), requires_grad=True)
    optimizer = lib.optim.Adagrad([p], **config)
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        _objective(lib, p).backward()
        optimizer.step()
        trajectory.append(p.tolist())
    return trajectory


@pytest.mark.parametrize(
    "config", ADAGRAD, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items())
)
def test_adagrad_trajectory_matches_pytorch(config: dict[str, Any]) -> None:
    torch = torch_or_skip()
    ours = _adagrad_trajectory(dualgrad, config, "float64")
    theirs = _adagrad_trajectory(torch, config, "float64")
    assert_close(ours, theirs, TIGHT, TIGHT, "trajectory")


def test_adagrad_matches_pytorch_on_every_backend_in_both_modes(backend: Any, mode: Any) -> None:
    torch = torch_or_skip()
    config = {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.05}
    for dtype, tol in (("float64", 1e-12), ("float32", 1e-6)):
        ours = _adagrad_trajectory(dualgrad, config, dtype)
        theirs = _adagrad_trajectory(torch, config, dtype)
        assert_close(ours, theirs, tol, tol, f"trajectory ({dtype})")


def test_adagrad_state_exists_from_construction_and_resumes(tmp_path: Any) -> None:
    p = dualgrad.tensor(P0, dtype=dualgrad.float64, requires_grad=True)
    optimizer = dualgrad.optim.Adagrad([p], lr=0.1, initial_accumulator_value=0.5)
    state = optimizer.state_dict()["state"][0]
    assert state["step"].item() == 0 and state["sum"].tolist() == [0.5] * 3
    for _ in range(2):
        optimizer.zero_grad()
        _objective(dualgrad, p).backward()
        optimizer.step()
    dualgrad.save(optimizer.state_dict(), tmp_path / "adagrad.npz")
    resumed_p = p.detach().clone().requires_grad_()
    resumed = dualgrad.optim.Adagrad([resumed_p], lr=0.1)
    resumed.load_state_dict(dualgrad.load(tmp_path / "adagrad.npz"))
    for params, opt in ((p, optimizer), (resumed_p, resumed)):
        opt.zero_grad()
        _objective(dualgrad, params).backward()
        opt.step()
    assert resumed_p.tolist() == p.tolist()


@pytest.mark.parametrize(
    "option", ["lr_decay", "weight_decay", "initial_accumulator_value", "eps"]
)
def test_adagrad_rejects_negative_options(option: str) -> None:
    with pytest.raises(ValueError, match="Invalid"):
        dualgrad.optim.Adagrad([dualgrad.ones(1, requires_grad=True)], **{option: -1.0})


# --- LBFGS ----------------------------------------------------------------------------------
def _rosenbrock(lib: Any, x: Any) -> Any:
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


LBFGS = {
    "defaults": {},
    "strong_wolfe": {"line_search_fn": "strong_wolfe"},
    "short_history": {"lr": 0.5, "max_iter": 5, "history_size": 3},
    "strong_wolfe_short": {"line_search_fn": "strong_wolfe", "max_iter": 7, "history_size": 2},
    "few_evaluations": {"line_search_fn": "strong_wolfe", "max_iter": 10, "max_eval": 4},
}


def _lbfgs_run(lib: Any, config: dict[str, Any], dtype: str, steps: int = 5) -> tuple[list, int]:
    x = lib.tensor([-1.5, 2.0, 0.3, -0.7], dtype=getattr(lib, dtype), requires_grad=True)
    optimizer = lib.optim.LBFGS([x], **config)

    def closure() -> Any:
        optimizer.zero_grad()
        loss = _rosenbrock(lib, x)
        loss.backward()
        return loss

    trajectory = []
    for _ in range(steps):
        loss = optimizer.step(closure)
        trajectory.append([*x.tolist(), float(loss.detach().item())])
    return trajectory, optimizer.state[x]["func_evals"]


@pytest.mark.parametrize("name", LBFGS)
def test_lbfgs_trajectory_matches_pytorch(name: str) -> None:
    torch = torch_or_skip()
    ours, ours_evals = _lbfgs_run(dualgrad, LBFGS[name], "float64")
    theirs, theirs_evals = _lbfgs_run(torch, LBFGS[name], "float64")
    assert_close(ours, theirs, 1e-10, 1e-10, "trajectory and losses")
    assert ours_evals == theirs_evals


@pytest.mark.parametrize("name", ["defaults", "strong_wolfe"])
def test_lbfgs_in_float32_matches_pytorch(name: str) -> None:
    # Until the loss stops changing in float32 (from there on both decide on rounding noise).
    torch = torch_or_skip()
    ours, _ = _lbfgs_run(dualgrad, LBFGS[name], "float32", steps=3)
    theirs, _ = _lbfgs_run(torch, LBFGS[name], "float32", steps=3)
    assert_close(ours, theirs, 1e-5, 1e-5, "trajectory and losses")


def test_lbfgs_on_every_backend_in_both_modes(backend: Any, mode: Any) -> None:
    torch = torch_or_skip()
    ours, _ = _lbfgs_run(dualgrad, LBFGS["strong_wolfe"], "float64", steps=2)
    theirs, _ = _lbfgs_run(torch, LBFGS["strong_wolfe"], "float64", steps=2)
    assert_close(ours, theirs, 1e-10, 1e-10, "trajectory and losses")


def test_lbfgs_converges_on_a_model(backend: Any) -> None:
    dualgrad.manual_seed(0)
    model = dualgrad.nn.Linear(3, 1)
    x = dualgrad.randn(32, 3)
    y = x @ dualgrad.tensor([[1.0], [-2.0], [0.5]]) + 0.25
    optimizer = dualgrad.optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")

    def closure() -> Any:
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(3):
        optimizer.step(closure)
    assert closure().item() < 1e-8


def test_lbfgs_returns_the_first_loss_and_stops_at_a_minimum() -> None:
    x = dualgrad.tensor([0.0, 0.0], dtype=dualgrad.float64, requires_grad=True)
    optimizer = dualgrad.optim.LBFGS([x])
    calls = []

    def closure() -> Any:
        optimizer.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        calls.append(loss.item())
        return loss

    assert optimizer.step(closure).item() == 0.0
    assert calls == [0.0]  # the gradient is already 0: one evaluation, no move
    assert x.tolist() == [0.0, 0.0]


def test_lbfgs_state_round_trips(tmp_path: Any) -> None:
    def run(resume: bool) -> list[float]:
        x = dualgrad.tensor([-1.5, 2.0, 0.3], dtype=dualgrad.float64, requires_grad=True)
        optimizer = dualgrad.optim.LBFGS([x], max_iter=3)

        def closure() -> Any:
            optimizer.zero_grad()
            loss = _rosenbrock(dualgrad, x)
            loss.backward()
            return loss

        optimizer.step(closure)
        if resume:
            dualgrad.save({"x": x.detach(), "opt": optimizer.state_dict()}, tmp_path / "lb.npz")
            saved = dualgrad.load(tmp_path / "lb.npz")
            x = saved["x"].requires_grad_()
            optimizer = dualgrad.optim.LBFGS([x], max_iter=3)
            optimizer.load_state_dict(saved["opt"])
        optimizer.step(closure)
        return x.tolist()

    assert run(resume=True) == run(resume=False)


def test_lbfgs_errors() -> None:
    x = dualgrad.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="line_search_fn"):
        dualgrad.optim.LBFGS([x], line_search_fn="armijo")
    with pytest.raises(ValueError, match="per-parameter options"):
        dualgrad.optim.LBFGS([{"params": [x]}, {"params": [dualgrad.ones(1, requires_grad=True)]}])
    with pytest.raises(TypeError, match="needs a closure"):
        dualgrad.optim.LBFGS([x]).step(None)


# --- the closure of every optimizer -----------------------------------------------------------
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_step_runs_the_closure_with_grad_enabled_and_returns_its_loss(name: str) -> None:
    torch = torch_or_skip()
    results = []
    for lib in (dualgrad, torch):
        p = lib.tensor(P0, dtype=lib.float64, requires_grad=True)
        optimizer = getattr(lib.optim, name)([p], lr=0.1)

        def closure(p: Any = p, optimizer: Any = optimizer, lib: Any = lib) -> Any:
            optimizer.zero_grad()
            loss = _objective(lib, p)
            loss.backward()
            return loss

        with lib.no_grad():
            losses = [float(optimizer.step(closure).item()) for _ in range(3)]
        results.append([*losses, *p.tolist()])
    assert_close(
        np.asarray(results[0]), np.asarray(results[1]), TIGHT, TIGHT, "losses and parameters"
    )
