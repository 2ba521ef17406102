"""``python -m dualgrad``: the tour, the engines side by side, and the spirals demo."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import dualgrad
from dualgrad.__main__ import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JAX_MISSING = "jax not installed: pip install 'dualgrad[jax]'"


def run_main(*flags: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "dualgrad", *flags],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def accuracies(out: str) -> tuple[float, float]:
    """The training and held-out accuracy the demo reports, in percent."""
    match = re.search(
        r"^accuracy: ([\d.]+)% on the training points, ([\d.]+)% on the held-out points$",
        out,
        flags=re.MULTILINE,
    )
    assert match is not None, out
    return float(match[1]), float(match[2])


def reported(label: str, out: str) -> str:
    """The rest of the line that starts with ``label``."""
    match = re.search(rf"^{re.escape(label)}(.*)$", out, flags=re.MULTILINE)
    assert match is not None, out
    return match[1]


def assert_is_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE


@pytest.fixture
def restore_config():
    """``main`` selects the backend and mode it is asked for, process-wide; put them back."""
    backend, mode = dualgrad.get_backend().name, dualgrad.get_mode()
    yield
    dualgrad.set_backend(backend)
    dualgrad.set_mode(mode)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_main_job_tours_the_tutorial_and_compares_engines(backend_name: str, mode: str) -> None:
    out = run_main("--no-demo", DUALGRAD_BACKEND=backend_name, DUALGRAD_MODE=mode).stdout
    assert f"on the {backend_name} backend" in out
    assert "dy/dx = 2x + 3 = tensor(7.)" in out
    assert "after optimizer.zero_grad(): x.grad = None" in out
    assert float(reported("largest difference over all 20 gradients: ", out)) < 1e-6
    assert "two spirals" not in out


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_demo_trains_and_draws_in_either_mode(mode: str, tmp_path: Path) -> None:
    figure = tmp_path / "spirals.png"
    flags = ["--no-tour", "--backend", "numpy", "--mode", mode, "--epochs", "2", "--quiet"]
    out = run_main(*flags, "--out", str(figure)).stdout
    assert "== The requires_grad flag ==" not in out
    assert f"2 full-batch epochs; numpy backend, {mode} mode" in out
    assert float(reported("final loss: ", out)) > 0
    assert 0 <= accuracies(out)[1] <= 100
    assert reported("figure: ", out) == str(figure.resolve())
    assert_is_png(figure)


def test_demo_learns_the_spirals_with_the_defaults(tmp_path: Path) -> None:
    figure = tmp_path / "spirals.png"
    # the default epochs, on the default backend and mode whatever the environment says
    result = run_main("--no-tour", "--backend", "numpy", "--mode", "reverse", "--out", str(figure))
    out = result.stdout
    assert "== Training a classifier on two spirals ==" in out
    assert "500 full-batch epochs; numpy backend, reverse mode" in out
    training, held_out = accuracies(out)
    assert training > 95
    assert held_out > 95
    gradients = reported("largest |reverse - forward| over the 354 parameter gradients", out)
    assert float(gradients.rsplit(": ", 1)[1]) < 1e-5  # float32
    assert "training" in result.stderr  # the progress bar, with the loss
    assert "loss=" in result.stderr
    assert_is_png(figure)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason=JAX_MISSING)
def test_demo_compiles_the_training_step_on_jax(tmp_path: Path) -> None:
    figure = tmp_path / "spirals.png"
    flags = ["--backend", "jax", "--jit", "--epochs", "3", "--no-tour", "--quiet"]
    out = run_main(*flags, "--out", str(figure)).stdout
    assert "full-batch epochs; jax backend, reverse mode, step compiled with dualgrad.jit" in out
    assert "--jit compiles" not in out
    assert 0 <= accuracies(out)[0] <= 100
    assert_is_png(figure)


def test_jit_on_numpy_says_the_step_runs_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_config: None
) -> None:
    out = str(tmp_path / "spirals.png")
    main(["--backend", "numpy", "--jit", "--epochs", "1", "--no-tour", "--quiet", "--out", out])
    printed = capsys.readouterr().out
    assert "full-batch epochs; numpy backend, reverse mode, --jit (no effect)" in printed
    assert "on numpy the step runs as it is" in printed


def test_demo_writes_its_figure_to_the_working_directory_by_default(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_config: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    main(["--backend", "numpy", "--epochs", "1", "--no-tour", "--quiet"])
    figure = tmp_path / "dualgrad-spirals.png"
    assert reported("figure: ", capsys.readouterr().out) == str(figure)
    assert_is_png(figure)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--epochs", "0"], "--epochs: must be at least 1, got 0"),
        (["--epochs", "many"], "--epochs: expected a whole number, got 'many'"),
        (["--seed", "-1"], "--seed: must be at least 0, got -1"),
        (["--backend", "nopy"], "--backend: invalid choice: 'nopy'"),
        (["--mode", "sideways"], "--mode: invalid choice: 'sideways'"),
        (["--out", "no/such/folder/spirals.png"], "the folder no/such/folder does not exist"),
        (["--colour"], "unrecognized arguments: --colour"),
    ],
)
def test_bad_flags_are_usage_errors(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str], restore_config: None
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*flags, "--no-tour"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m dualgrad")
    assert message in err


def test_demo_without_tqdm_or_matplotlib_trains_and_says_how_to_get_them(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_config: None,
) -> None:
    # A None entry in sys.modules makes the import fail, as when the package is not installed.
    optional = {"tqdm", "matplotlib"}
    for name in [*optional, *(m for m in sys.modules if m.split(".")[0] in optional)]:
        monkeypatch.setitem(sys.modules, name, None)
    figure = tmp_path / "spirals.png"
    main(["--no-tour", "--epochs", "10", "--out", str(figure)])
    out = capsys.readouterr().out
    assert "no progress bar: tqdm is not installed; pip install 'dualgrad[demo]'" in out
    assert "epoch 10/10: loss " in out
    assert "no figure: the demo's figure needs matplotlib: pip install 'dualgrad[demo]'" in out
    accuracies(out)
    assert not figure.exists()


def test_dualgrad_console_script_is_the_main_job() -> None:
    scripts = {script.name: script.value for script in entry_points(group="console_scripts")}
    assert scripts["dualgrad"] == "dualgrad.__main__:main"
