"""dualgrad.save / dualgrad.load: round trips of module and optimizer state, every backend,
and clear errors for truncated, tampered and foreign files."""

from __future__ import annotations

import io
import json
import math
import pickle
import zipfile

import numpy as np
import pytest
from tensors import values

import dualgrad
from dualgrad import nn
from dualgrad.serialization import SerializationError


def _trained_model_and_optimizer():
    dualgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    optimizer = dualgrad.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    x = dualgrad.randn(5, 3)
    for _ in range(2):
        optimizer.zero_grad()
        (model(x) ** 2).mean().backward()
        optimizer.step()
    return model, optimizer


def _assert_same_structure(got, expected):
    assert type(got) is type(expected)
    if isinstance(expected, dict):
        assert list(got) == list(expected)
        for key in expected:
            _assert_same_structure(got[key], expected[key])
    elif isinstance(expected, list | tuple):
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            _assert_same_structure(g, e)
    elif isinstance(expected, dualgrad.Tensor):
        assert got.dtype is expected.dtype
        assert got.backend is dualgrad.get_backend()
        np.testing.assert_array_equal(values(got), values(expected))
    elif isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == expected


def test_module_state_dict_round_trips(backend, tmp_path):
    model, _ = _trained_model_and_optimizer()
    path = tmp_path / "model.npz"
    dualgrad.save(model.state_dict(), path)
    loaded = dualgrad.load(path)
    _assert_same_structure(loaded, dict(model.state_dict()))
    dualgrad.manual_seed(1)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    fresh.load_state_dict(loaded)
    x = dualgrad.randn(2, 3)
    np.testing.assert_array_equal(values(fresh(x)), values(model(x)))


def test_optimizer_state_dict_round_trips_and_resumes_identically(backend, tmp_path):
    model, optimizer = _trained_model_and_optimizer()
    path = tmp_path / "optimizer.npz"
    dualgrad.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    checkpoint = dualgrad.load(path)
    _assert_same_structure(checkpoint["optimizer"], optimizer.state_dict())
    assert checkpoint["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(checkpoint["optimizer"]["state"]) == [0, 1, 2, 3]  # int keys stay ints

    resumed = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer = dualgrad.optim.Adam(resumed.parameters())
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    x = dualgrad.randn(5, 3)
    for net, opt in ((model, optimizer), (resumed, resumed_optimizer)):
        opt.zero_grad()
        (net(x) ** 2).mean().backward()
        opt.step()
    for p, q in zip(model.parameters(), resumed.parameters(), strict=True):
        np.testing.assert_array_equal(values(q), values(p))


def test_python_values_round_trip(tmp_path):
    value = {
        "none": None,
        "flags": [True, False],
        "int": -(2**62),
        "floats": (0.1, float("inf"), float("-inf"), float("nan"), 1e-310),
        "text": "naïve ∂",
        3: "int key",
        2.5: "float key",
        "nested": {"empty_list": [], "empty_dict": {}, "empty_tuple": ()},
    }
    path = tmp_path / "values.npz"
    dualgrad.save(value, path)
    _assert_same_structure(dualgrad.load(path), value)


@pytest.mark.parametrize(
    "dtype", ["float16", "float32", "float64", "int64", "int32", "uint8", "bool", "complex128"]
)
def test_tensors_keep_dtype_shape_and_values(dtype, tmp_path):
    data = np.arange(-3, 3).reshape(2, 3, 1) if dtype != "uint8" else np.arange(6).reshape(6)
    tensor = dualgrad.tensor(data.tolist(), dtype=dtype)
    path = tmp_path / "t.npz"
    dualgrad.save({"t": tensor, "scalar": dualgrad.tensor(2.5, dtype="float64")}, path)
    loaded = dualgrad.load(path)
    assert loaded["t"].dtype is tensor.dtype
    assert loaded["t"].shape == tensor.shape
    np.testing.assert_array_equal(values(loaded["t"]), values(tensor))
    assert loaded["scalar"].shape == ()


def test_parameters_and_requires_grad_come_back(tmp_path):
    frozen = nn.Parameter(dualgrad.ones(2), requires_grad=False)
    path = tmp_path / "p.npz"
    dualgrad.save(
        [nn.Parameter(dualgrad.ones(2)), frozen, dualgrad.ones(1, requires_grad=True)], path
    )
    trained, frozen_back, leaf = dualgrad.load(path)
    assert isinstance(trained, nn.Parameter)
    assert trained.requires_grad
    assert isinstance(frozen_back, nn.Parameter)
    assert not frozen_back.requires_grad
    assert not isinstance(leaf, nn.Parameter)
    assert leaf.requires_grad


def test_load_onto_a_named_backend(tmp_path):
    path = tmp_path / "t.npz"
    with dualgrad.use_backend("numpy"):
        dualgrad.save({"w": dualgrad.tensor([1.0, 2.0])}, path)
    loaded = dualgrad.load(path, backend="array_api_strict")
    assert loaded["w"].backend.name == "array_api_strict"
    assert loaded["w"].tolist() == [1.0, 2.0]


def test_file_objects_work():
    buffer = io.BytesIO()
    dualgrad.save({"w": dualgrad.tensor([1.0, 2.0])}, buffer)
    buffer.seek(0)
    assert dualgrad.load(buffer)["w"].tolist() == [1.0, 2.0]


def test_path_is_used_as_given(tmp_path):
    path = tmp_path / "checkpoint.dg"
    dualgrad.save({"epoch": 1}, path)
    assert path.exists()
    assert list(tmp_path.iterdir()) == [path]  # no ".npz" appended, no temporary file left


def test_failed_save_keeps_the_earlier_file(tmp_path):
    path = tmp_path / "checkpoint.npz"
    dualgrad.save({"epoch": 1}, path)
    with pytest.raises(TypeError, match=r"cannot save a Sequential.*save its state_dict\(\)"):
        dualgrad.save({"model": nn.Sequential()}, path)
    assert dualgrad.load(path) == {"epoch": 1}
    assert list(tmp_path.iterdir()) == [path]


def test_saving_unsupported_objects_raises(tmp_path):
    with pytest.raises(TypeError, match=r"cannot save a set.*at the top level\['s'\]"):
        dualgrad.save({"s": {1, 2}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match=r"dict key \(1, 2\).*tuple"):
        dualgrad.save({(1, 2): 3}, tmp_path / "x.npz")


# --- damaged and foreign files ----------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.npz"
    dualgrad.manual_seed(0)
    dualgrad.save(nn.Linear(8, 8).state_dict(), path)
    return path


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file_raises(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(SerializationError, match=rf"{saved.name}.*(truncated|corrupt)"):
        dualgrad.load(saved)


def _flip_byte_inside(path, entry_name):
    """Change one byte of an entry's stored data, leaving the zip's structure intact."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(entry_name)
    data = bytearray(path.read_bytes())
    # The data starts after the local header (30 bytes + name + extra field).
    name_length = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_length = int.from_bytes(
        data[info.header_offset + 28 : info.header_offset + 30], "little"
    )
    start = info.header_offset + 30 + name_length + extra_length
    data[start + info.compress_size - 1] ^= 0x01  # the last byte: array data, not the header
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("entry", ["tensor0.npy", "tensor1.npy", "__dualgrad__.npy"])
def test_tampered_bytes_raise(saved, entry):
    _flip_byte_inside(saved, entry)
    with pytest.raises(SerializationError, match=rf"{saved.name}.*corrupt"):
        dualgrad.load(saved)


def _rewrite(path, change):
    """Rewrite the archive with valid zip checksums, after ``change(arrays, manifest)``."""
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    manifest = json.loads(arrays.pop("__dualgrad__").tobytes())
    change(arrays, manifest)
    arrays["__dualgrad__"] = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    with open(path, "wb") as out:
        np.savez(out, **arrays)


def test_values_changed_with_valid_zip_checksums_raise(saved):
    def change(arrays, manifest):
        arrays["tensor0"] = arrays["tensor0"] + 1.0

    _rewrite(saved, change)
    with pytest.raises(SerializationError, match=r"tensor0.*checksum.*altered"):
        dualgrad.load(saved)


def test_shape_that_disagrees_with_the_manifest_raises(saved):
    def change(arrays, manifest):
        arrays["tensor1"] = arrays["tensor1"][:4]

    _rewrite(saved, change)
    with pytest.raises(SerializationError, match=r"tensor1.*\[4\].*manifest says.*\[8\]"):
        dualgrad.load(saved)


def test_extra_array_raises(saved):
    _rewrite(saved, lambda arrays, manifest: arrays.update(smuggled=np.zeros(2)))
    with pytest.raises(SerializationError, match=r"smuggled.*not in the manifest"):
        dualgrad.load(saved)


def test_missing_array_raises(saved):
    _rewrite(saved, lambda arrays, manifest: arrays.pop("tensor1"))
    with pytest.raises(SerializationError, match=r"missing array 'tensor1'"):
        dualgrad.load(saved)


def test_unknown_node_raises(saved):
    def change(arrays, manifest):
        manifest["root"]["items"][0][1] = {"type": "pickle", "value": "..."}

    _rewrite(saved, change)
    with pytest.raises(SerializationError, match=r"unknown node.*altered"):
        dualgrad.load(saved)


def test_newer_format_version_raises(saved):
    _rewrite(saved, lambda arrays, manifest: manifest.update(version=99))
    with pytest.raises(SerializationError, match=r"version 99.*upgrade dualgrad"):
        dualgrad.load(saved)


def test_deeply_nested_manifest_raises(saved):
    depth = 100_000
    nested = '{"type": "list", "items": [' * depth + '{"type": "none"}' + "]}" * depth
    manifest = '{"format": "dualgrad.save", "version": 1, "root": ' + nested + "}"
    with open(saved, "wb") as out:
        np.savez(out, __dualgrad__=np.frombuffer(manifest.encode(), dtype=np.uint8))
    with pytest.raises(SerializationError, match=r"nested too deeply"):
        dualgrad.load(saved)


def test_pickle_file_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.pt"

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(SerializationError, match=r"evil\.pt.*not a file written by dualgrad"):
        dualgrad.load(path)


def test_npz_with_an_object_array_is_refused(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, __dualgrad__=np.array([{"a": 1}], dtype=object))
    with pytest.raises(SerializationError, match=r"objects\.npz.*__dualgrad__"):
        dualgrad.load(path)


def test_plain_npz_and_npy_files_are_refused(tmp_path):
    npz, npy = tmp_path / "plain.npz", tmp_path / "plain.npy"
    np.savez(npz, weights=np.ones(3))
    np.save(npy, np.ones(3))
    with pytest.raises(SerializationError, match=r"plain\.npz.*no dualgrad manifest"):
        dualgrad.load(npz)
    with pytest.raises(SerializationError, match=r"plain\.npy.*bare NumPy array"):
        dualgrad.load(npy)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing-here\.npz"):
        dualgrad.load(tmp_path / "nothing-here.npz")


# --- weights_only, as torch.load takes it --------------------------------------------------
def test_load_accepts_weights_only(tmp_path):
    model, _ = _trained_model_and_optimizer()
    path = tmp_path / "model.pt"
    dualgrad.save(model.state_dict(), path)
    for weights_only in (True, None):
        _assert_same_structure(
            dualgrad.load(path, weights_only=weights_only), dict(model.state_dict())
        )


def test_load_with_weights_only_false_warns_and_loads_the_same(tmp_path):
    model, _ = _trained_model_and_optimizer()
    path = tmp_path / "model.pt"
    dualgrad.save(model.state_dict(), path)
    with pytest.warns(UserWarning, match="never unpickles"):
        loaded = dualgrad.load(path, weights_only=False)
    _assert_same_structure(loaded, dict(model.state_dict()))


def test_load_rejects_a_weights_only_that_is_not_a_bool(tmp_path):
    path = tmp_path / "x.npz"
    dualgrad.save({"x": dualgrad.ones(1)}, path)
    with pytest.raises(TypeError, match="weights_only must be True, False or None"):
        dualgrad.load(path, weights_only="yes")
