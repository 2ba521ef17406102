"""dualgrad.jit over JAX shardings: a data-parallel training step on four CPU devices.

JAX fixes its CPU device count when it starts, so the step runs in a subprocess started with
``XLA_FLAGS=--xla_force_host_platform_device_count=4``; it prints what it saw as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest

pytest.importorskip("jax", reason="the jax backend needs JAX: pip install 'dualgrad[jax]'")

PROGRAM = textwrap.dedent(
    """
    import json

    import jax
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    import dualgrad

    jax.config.update("jax_enable_x64", True)
    mesh = Mesh(np.array(jax.devices()), ("batch",))
    replicated = NamedSharding(mesh, PartitionSpec())
    by_rows = NamedSharding(mesh, PartitionSpec("batch"))
    one_device = jax.sharding.SingleDeviceSharding(jax.devices()[0])

    rng = np.random.default_rng(0)
    x_values = rng.standard_normal((64, 5))
    y_values = x_values @ np.arange(1.0, 6.0) + 0.5


    def train(batch_sharding, parameter_sharding):
        x = dualgrad.tensor(jax.device_put(x_values, batch_sharding))
        y = dualgrad.tensor(jax.device_put(y_values, batch_sharding))
        w = dualgrad.tensor(jax.device_put(np.zeros(5), parameter_sharding), requires_grad=True)
        b = dualgrad.tensor(jax.device_put(np.zeros(()), parameter_sharding), requires_grad=True)
        optimizer = dualgrad.optim.SGD([w, b], lr=0.1, momentum=0.9)

        @dualgrad.jit
        def step(x, y):
            optimizer.zero_grad()
            loss = ((x @ w + b - y) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss

        for _ in range(4):  # eager, then traced and compiled, then compiled
            step(x, y)
        return x, w, b


    x, w, b = train(by_rows, replicated)
    _, w_one, b_one = train(one_device, one_device)
    print(json.dumps({
        "devices": jax.device_count(),
        "batch_spec": list(x.array.sharding.spec),
        "batch_devices": len(x.array.sharding.device_set),
        "batch_shard_rows": sorted({s.data.shape[0] for s in x.array.addressable_shards}),
        "weights_replicated": w.array.sharding.is_fully_replicated,
        "weights_devices": len(w.array.sharding.device_set),
        "sharded": w.tolist() + [b.item()],
        "single": w_one.tolist() + [b_one.item()],
    }))
    """
)


@pytest.fixture(scope="module")
def sharded_run() -> dict[str, Any]:
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
        "DUALGRAD_BACKEND": "jax",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_batch_is_split_over_four_devices(sharded_run: dict[str, Any]) -> None:
    assert sharded_run["devices"] == 4
    assert sharded_run["batch_spec"] == ["batch"]
    assert sharded_run["batch_devices"] == 4
    assert sharded_run["batch_shard_rows"] == [16]


def test_parameters_stay_replicated_after_the_compiled_steps(sharded_run: dict[str, Any]) -> None:
    assert sharded_run["weights_replicated"]
    assert sharded_run["weights_devices"] == 4


def test_sharded_step_gives_the_single_device_parameters(sharded_run: dict[str, Any]) -> None:
    np.testing.assert_allclose(sharded_run["sharded"], sharded_run["single"], rtol=1e-12)
    assert sharded_run["sharded"] != [0.0] * 6  # the steps moved the parameters
