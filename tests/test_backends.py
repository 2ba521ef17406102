"""The backend registry: selection by config, plug-ins through entry points, clear errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import dualgrad
from dualgrad import backends
from dualgrad.backends import available_backends, get_backend_by_name

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_a_backend_plugs_in_through_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fake_backend.py").write_text(
        textwrap.dedent(
            """
            from dualgrad.backends.array_api_strict import ArrayAPIStrictBackend

            class FakeBackend(ArrayAPIStrictBackend):
                name = "fake"

            def make_backend():
                return FakeBackend()
            """
        )
    )
    dist_info = tmp_path / "fake_backend-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-backend\nVersion: 0.1\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[dualgrad.backends]\nfake = fake_backend:make_backend\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    # Registered for this test only: the registry is restored afterwards.
    monkeypatch.setattr(backends, "_FACTORIES", dict(backends._FACTORIES))
    monkeypatch.setattr(backends, "_INSTANCES", dict(backends._INSTANCES))
    assert "fake" in available_backends()
    with dualgrad.use_backend("fake") as backend:
        x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
        (x**2).sum().backward()
    assert backend is get_backend_by_name("fake")
    assert x.backend is backend
    assert x.grad.tolist() == [2.0, 4.0]


def test_unknown_backend_lists_the_registered_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown backend 'jaxx'; choose one of: numpy, jax"):
        dualgrad.set_backend("jaxx")
    assert dualgrad.get_backend().name == "numpy"


def test_use_backend_nests_and_restores(backend: Any) -> None:
    with dualgrad.use_backend("numpy"):
        assert dualgrad.tensor(1.0).backend.name == "numpy"
        with dualgrad.use_backend("array_api_strict"):
            assert dualgrad.tensor(1.0).backend.name == "array_api_strict"
        assert dualgrad.tensor(1.0).backend.name == "numpy"
    assert dualgrad.get_backend() is backend


def test_use_backend_is_per_thread() -> None:
    inside, release = threading.Event(), threading.Event()
    seen = []

    def worker() -> None:
        with dualgrad.use_backend("array_api_strict"):
            inside.set()
            release.wait(5)
            seen.append(dualgrad.get_backend().name)

    thread = threading.Thread(target=worker)
    thread.start()
    inside.wait(5)
    main_thread_backend = dualgrad.get_backend().name
    release.set()
    thread.join()
    assert (main_thread_backend, seen) == ("numpy", ["array_api_strict"])


def test_a_tensor_from_an_array_keeps_the_array_s_backend(backend: Any) -> None:
    # NumPy arrays are data: they land on the active backend, in tensor() as in asarray(), so
    # that a script building its data with NumPy runs under DUALGRAD_BACKEND=jax.
    with dualgrad.use_backend("array_api_strict"):
        from_numpy = dualgrad.tensor(np.array([1.0, 2.0]))
    assert from_numpy.backend.name == "array_api_strict"
    native = backend.from_numpy(np.array([1.0, 2.0]))
    with dualgrad.use_backend("numpy"):
        assert dualgrad.tensor(native).backend is backend
        assert dualgrad.asarray(native).backend is backend


def test_mixing_backends_is_a_type_error_naming_both() -> None:
    with dualgrad.use_backend("numpy"):
        a = dualgrad.tensor([1.0])
    with dualgrad.use_backend("array_api_strict"):
        b = dualgrad.tensor([1.0])
    with pytest.raises(TypeError, match=r"different backends \(numpy, array_api_strict\)"):
        a + b


def test_dualgrad_backend_environment_variable_selects_the_default() -> None:
    code = "import dualgrad; print(dualgrad.get_backend().name, dualgrad.tensor(1.0).backend.name)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"DUALGRAD_BACKEND": "array_api_strict", "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["array_api_strict", "array_api_strict"]


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("DUALGRAD_BACKEND", "jaxx", "numpy, jax, array_api_strict"),
        ("DUALGRAD_MODE", "sideways", "reverse, forward"),
    ],
)
def test_unknown_environment_value_fails_at_import_naming_the_variable(
    variable: str, value: str, allowed: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import dualgrad"],
        env={variable: value, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"ValueError: {variable}: unknown ")
    assert f"{value!r}; choose one of: {allowed}" in last_line


def test_empty_environment_values_mean_the_defaults() -> None:
    code = "import dualgrad; print(dualgrad.get_backend().name, dualgrad.get_mode())"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"DUALGRAD_BACKEND": "", "DUALGRAD_MODE": "", "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["numpy", "reverse"]


def _run_without_jax_64_bit_mode(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter, where JAX starts in its default 32-bit mode (this
    process's tests turn 64-bit mode on)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(REPO_ROOT), "JAX_PLATFORMS": "cpu"},
        capture_output=True,
        text=True,
        check=True,
    )


def test_float64_on_jax_without_64_bit_mode_says_how_to_enable_it() -> None:
    pytest.importorskip("jax", reason="the jax backend needs JAX: pip install 'dualgrad[jax]'")
    code = textwrap.dedent(
        """
        import dualgrad
        with dualgrad.use_backend("jax"):
            print(dualgrad.ones(2).dtype)
            try:
                dualgrad.ones(2, dtype=dualgrad.float64)
            except TypeError as error:
                print(error)
            for convert in (dualgrad.ones(2).double, dualgrad.nn.Linear(2, 1).double):
                try:  # a conversion asks for float64 too, and never gets float32 silently
                    convert()
                except TypeError as error:
                    print(error)
        """
    )
    result = _run_without_jax_64_bit_mode(code)
    first, *messages = result.stdout.splitlines()
    assert first == "dualgrad.float32"
    assert len(messages) == 3
    for message in messages:
        assert "jax_enable_x64" in message
        assert "JAX_ENABLE_X64=1" in message


def test_integers_on_jax_without_64_bit_mode_draw_and_print_as_pytorchs() -> None:
    # randint and randperm (a shuffling DataLoader's) draw uniform floats first: in float32
    # where JAX holds no float64, never an error about a dtype the user did not ask for.
    pytest.importorskip("jax", reason="the jax backend needs JAX: pip install 'dualgrad[jax]'")
    code = textwrap.dedent(
        """
        import warnings
        import dualgrad
        warnings.simplefilter("ignore")  # JAX's note that int64 is int32 without 64-bit mode
        with dualgrad.use_backend("jax"):
            print(sorted(dualgrad.randperm(5).tolist()))
            draws = dualgrad.randint(2, 5, (100,))
            print(min(draws.tolist()) >= 2, max(draws.tolist()) <= 4)
            # int32 is this mode's default integer: printed without a dtype, as int64 is
            print(dualgrad.tensor([1, 2]), dualgrad.tensor([1, 2], dtype=dualgrad.int16))
        """
    )
    result = _run_without_jax_64_bit_mode(code)
    assert result.stdout.splitlines() == [
        "[0, 1, 2, 3, 4]",
        "True True",
        "tensor([1, 2]) tensor([1, 2], dtype=dualgrad.int16)",
    ]


def test_manual_seed_repeats_draws_on_every_backend(backend: Any) -> None:
    dualgrad.manual_seed(3)
    first = dualgrad.randn(4).tolist()
    dualgrad.manual_seed(3)
    assert dualgrad.randn(4).tolist() == first


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "int32"])
@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [
        ((5, 3, 1), (5, 1, 7)),
        ((5, 7, 1), (5, 1, 3)),
        ((2, 1, 4, 1), (1, 3, 1, 6)),
        ((0, 2, 1), (0, 1, 3)),
    ],
)
def test_outer_products_are_the_broadcast_product(
    backend: Any, dtype: str, a_shape: tuple[int, ...], b_shape: tuple[int, ...]
) -> None:
    # vmap's per-example weight gradients: whichever loop a backend runs, a (..., m, 1) times
    # a (..., 1, n) stack is their broadcast product, with its dtype.
    rng = np.random.default_rng(0)
    a, b = ((rng.standard_normal(shape) * 3).astype(dtype) for shape in (a_shape, b_shape))
    got = backend.to_numpy(backend.outer_products(backend.from_numpy(a), backend.from_numpy(b)))
    np.testing.assert_array_equal(got, a * b)
    assert got.dtype == (a * b).dtype
