"""``python -m dualgrad``: the tour runs on every backend and in both modes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_main_job_tours_the_tutorial_and_compares_engines(backend_name: str, mode: str) -> None:
    env = {**os.environ, "DUALGRAD_BACKEND": backend_name, "DUALGRAD_MODE": mode}
    result = subprocess.run(
        [sys.executable, "-m", "dualgrad"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"on the {backend_name} backend" in out
    assert "dy/dx = 2x + 3 = tensor(7.)" in out
    assert "after optimizer.zero_grad(): x.grad = None" in out
    difference = float(out.rsplit("gradients: ", 1)[1])
    assert difference < 1e-6
