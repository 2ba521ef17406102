"""The standard's array protocols and corner cases on Tensors: DLPack export and import,
``to_device``, ``asarray(..., copy=True)`` of any dtype, a 0-d boolean mask, ``clip`` with
neither bound, ``zeros(shape=...)`` beside PyTorch's ``zeros(*size)``."""

from __future__ import annotations

import numpy as np
import pytest
from tensors import assert_close, values

import dualgrad


# --- DLPack ----------------------------------------------------------------------------------
def test_numpy_reads_a_tensor_through_dlpack(backend):
    x = dualgrad.tensor([1.0, 2.0, 3.0])
    assert x.__dlpack_device__() == x.array.__dlpack_device__()
    np.testing.assert_array_equal(np.from_dlpack(x.detach().numpy()), values(x))
    if backend.name in ("numpy", "jax", "torch"):  # libraries NumPy's from_dlpack can read
        np.testing.assert_array_equal(np.from_dlpack(x), [1.0, 2.0, 3.0])


def test_from_dlpack_round_trips_a_tensor(backend):
    for x in (dualgrad.tensor([[1.5, -2.0]]), dualgrad.tensor([1, 2], dtype=dualgrad.int16)):
        back = dualgrad.from_dlpack(x)
        assert isinstance(back, dualgrad.Tensor)
        assert (back.shape, back.dtype, back.backend) == (x.shape, x.dtype, x.backend)
        np.testing.assert_array_equal(values(back), values(x))
        np.testing.assert_array_equal(values(dualgrad.from_dlpack(x, copy=True)), values(x))


def test_from_dlpack_takes_the_device_as_dualgrad_names_it(backend):
    x = dualgrad.tensor([], dtype=dualgrad.bool)
    listed = [d for d in dualgrad.__array_namespace_info__().devices() if d == x.device]
    for device in (x.device, str(x.device), *listed):
        back = dualgrad.from_dlpack(x, device=device, copy=False)
        assert (back.shape, back.dtype, back.device) == (x.shape, x.dtype, x.device)
    if not dualgrad.cuda.is_available():
        with pytest.raises(RuntimeError, match="'cuda' is not available"):
            dualgrad.from_dlpack(x, device="cuda")


def test_dlpack_refuses_a_tensor_that_requires_grad(backend, mode):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    for export in (lambda: x.__dlpack__(), lambda: dualgrad.from_dlpack(x)):
        with pytest.raises(RuntimeError, match=r"requires grad.*detach\(\)"):
            export()
    dualgrad.from_dlpack(x.detach())  # what the message says to do


# --- devices ---------------------------------------------------------------------------------
def test_to_device_of_the_tensor_s_own_device_is_the_tensor(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    assert x.to_device(x.device) is x


def test_to_device_copies_to_another_device(backend):
    if backend.name != "array_api_strict":
        pytest.skip("only array_api_strict has a second device on a CPU-only machine")
    import array_api_strict

    other = array_api_strict.Device("device1")
    x = dualgrad.tensor([1.0, 2.0])
    moved = x.to_device(other)
    assert moved.device == other
    assert_close(moved, [1.0, 2.0])
    leaf = dualgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="cannot move from device"):
        leaf.to_device(other)


# --- asarray, indexing, clip, creation --------------------------------------------------------
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "float32"])
def test_asarray_copies_a_tensor_of_any_dtype(dtype, backend):
    x = dualgrad.asarray([1, 0, 1], dtype=getattr(dualgrad, dtype))
    copied = dualgrad.asarray(x, copy=True)
    assert copied is not x
    assert copied.dtype is x.dtype
    np.testing.assert_array_equal(values(copied), values(x))
    assert x.clone().dtype is x.dtype


@pytest.mark.parametrize("flag", [True, False])
def test_a_zero_dimensional_mask_indexes_as_a_python_bool(flag, backend, mode):
    x = dualgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    mask = dualgrad.asarray(flag)
    picked = x[mask]
    assert picked.shape == ((1 if flag else 0), 2, 3)
    assert x[mask, ...].shape == picked.shape
    if backend.name != "array_api_strict":  # which refuses Python bools in keys: NumPy's rules
        assert x[flag].shape == picked.shape
        assert x[mask, 1].shape == ((1 if flag else 0), 3)
    picked.sum().backward()
    assert_close(x.grad, np.full((2, 3), 1.0 if flag else 0.0))


def test_a_zero_dimensional_mask_writes_all_or_nothing(backend):
    x = dualgrad.zeros((2, 2))
    x[dualgrad.asarray(True)] = 3.0
    assert_close(x, np.full((2, 2), 3.0))
    x[dualgrad.asarray(False)] = 5.0
    assert_close(x, np.full((2, 2), 3.0))


def test_clip_with_neither_bound_is_a_copy(backend, mode):
    for x in (dualgrad.tensor([-2.0, 0.5, 7.0], requires_grad=True), dualgrad.tensor([-3, 9])):
        clipped = dualgrad.clip(x)
        assert clipped is not x
        assert clipped.dtype is x.dtype
        np.testing.assert_array_equal(values(clipped), values(x))
    clipped.sum()  # an integer copy carries no graph
    x = dualgrad.tensor([-2.0, 0.5, 7.0], requires_grad=True)
    dualgrad.clip(x).sum().backward()
    assert_close(x.grad, [1.0, 1.0, 1.0])


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_creation_takes_the_standard_s_shape_and_pytorch_s_sizes(name, backend):
    make = getattr(dualgrad, name)
    for made in (make((2, 3)), make(2, 3), make(shape=(2, 3)), make([2, 3])):
        assert made.shape == (2, 3)
    assert make(4).shape == make(shape=4).shape == (4,)
    assert make(()).shape == make(shape=()).shape == ()
    with pytest.raises(TypeError, match="multiple values for argument 'shape'"):
        make(2, shape=(2,))
