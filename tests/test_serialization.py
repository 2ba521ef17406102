"""dualgrad.save / dualgrad.load: round trips of module and optimizer state, every backend;
clear errors for truncated, tampered, crafted and foreign files (tests/test_serialization_fuzz.py
fuzzes the loader); saves that survive being killed, and files with the umask's mode."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import pickle
import random
import signal
import stat
import subprocess
import sys
import time
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
    # A state dict's tensors are views of the parameters (a Tensor subclass); loaded, plain.
    if isinstance(expected, dualgrad.Tensor):
        assert type(got) is dualgrad.Tensor
    else:
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


def _write_archive(path, arrays, manifest_text):
    """An archive of ``arrays`` with ``manifest_text`` as its manifest, valid zip checksums."""
    with open(path, "wb") as out:
        np.savez(out, **arrays, __dualgrad__=np.frombuffer(manifest_text.encode(), np.uint8))


def _tensor_node(name, array, **changes):
    node = {
        "type": "tensor",
        "entry": name,
        "dtype": array.dtype.name,
        "shape": list(array.shape),
        "requires_grad": False,
        "sha256": hashlib.sha256(array.tobytes()).hexdigest(),
    }
    return {**node, **changes}


def _manifest_of(root):
    return json.dumps({"format": "dualgrad.save", "version": 1, "root": root})


@pytest.mark.parametrize(
    "array",
    [
        np.array(["a", "bc"]),
        np.array(["2024-01-01"], dtype="datetime64[D]"),
        np.array([1.5], dtype=np.longdouble),
        np.zeros(2, dtype=[("x", "f8"), ("y", "i4")]),
    ],
    ids=["str", "datetime64", "longdouble", "structured"],
)
def test_arrays_of_dtypes_dualgrad_lacks_raise(tmp_path, array):
    path = tmp_path / "odd.npz"
    _write_archive(path, {"tensor0": array}, _manifest_of(_tensor_node("tensor0", array)))
    with pytest.raises(SerializationError, match=r"tensor0.*dtype.*which dualgrad lacks"):
        dualgrad.load(path)
    disguised = _tensor_node("tensor0", array, dtype="float64")  # the manifest lies instead
    _write_archive(path, {"tensor0": array}, _manifest_of(disguised))
    with pytest.raises(SerializationError, match=r"tensor0.*manifest says float64"):
        dualgrad.load(path)


def test_integer_tensor_marked_requires_grad_raises(tmp_path):
    path = tmp_path / "int.npz"
    array = np.arange(3)
    node = _tensor_node("tensor0", array, requires_grad=True)
    _write_archive(path, {"tensor0": array}, _manifest_of(node))
    with pytest.raises(SerializationError, match=r"tensor0.*int64 but marked requires_grad"):
        dualgrad.load(path)


def test_huge_integer_in_manifest_raises(tmp_path):
    path = tmp_path / "digits.npz"
    _write_archive(path, {}, _manifest_of({"type": "none"}).replace("1", "9" * 5000, 1))
    with pytest.raises(SerializationError, match=r"manifest is not valid JSON.*digits"):
        dualgrad.load(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"shape": [-3]}, r"shape \[-3\]"),
        ({"shape": [True, 3]}, r"shape \[True, 3\]"),
        ({"shape": "3"}, r"shape '3'"),
        ({"dtype": ["float64"]}, r"dtype \['float64'\]"),
        ({"requires_grad": "yes"}, r"malformed entry"),
        ({"sha256": None}, r"malformed entry"),
        ({"entry": 0}, r"missing array 0"),
    ],
)
def test_manifest_fields_of_the_wrong_type_raise(tmp_path, change, message):
    path = tmp_path / "fields.npz"
    array = np.ones(3)
    _write_archive(
        path, {"tensor0": array}, _manifest_of(_tensor_node("tensor0", array, **change))
    )
    with pytest.raises(SerializationError, match=message):
        dualgrad.load(path)


def test_compressed_file_is_refused_with_a_way_out(saved, tmp_path):
    compressed = tmp_path / "compressed.npz"
    with np.load(saved) as archive:
        np.savez_compressed(compressed, **archive)
    with pytest.raises(SerializationError, match=r"compressed; .*numpy\.savez\(path"):
        dualgrad.load(compressed)
    with np.load(compressed) as archive:  # the way out the message gives
        np.savez(tmp_path / "rewritten.npz", **archive)
    assert dualgrad.load(tmp_path / "rewritten.npz").keys() == dualgrad.load(saved).keys()


def test_max_bytes_refuses_larger_files_before_reading(tmp_path):
    path = tmp_path / "big.npz"
    dualgrad.save({"w": dualgrad.zeros(1000, dtype="float64")}, path)
    with pytest.raises(SerializationError, match=r"holds [\d,]+ bytes.*max_bytes=4,096.*larger"):
        dualgrad.load(path, max_bytes=4096)
    assert dualgrad.load(path, max_bytes=9000)["w"].shape == (1000,)
    assert dualgrad.load(path, max_bytes=None)["w"].shape == (1000,)


@pytest.mark.parametrize(("max_bytes", "error"), [(-1, ValueError), (1.5, TypeError)])
def test_bad_max_bytes_raises(saved, max_bytes, error):
    with pytest.raises(error, match=r"max_bytes must be a non-negative int or None"):
        dualgrad.load(saved, max_bytes=max_bytes)


def test_file_written_in_the_other_byte_order_loads(tmp_path):
    path = tmp_path / "swapped.npz"
    array = np.arange(4.0).astype(">f8" if sys.byteorder == "little" else "<f8")
    _write_archive(path, {"tensor0": array}, _manifest_of(_tensor_node("tensor0", array)))
    assert dualgrad.load(path).tolist() == [0.0, 1.0, 2.0, 3.0]


def test_text_mode_and_unseekable_files_raise(saved):
    with open(saved) as text, pytest.raises(TypeError, match=r"text mode.*binary mode"):
        dualgrad.load(text)

    class Pipe(io.RawIOBase):
        def readable(self):
            return True

    with pytest.raises(TypeError, match=r"cannot seek.*io\.BytesIO"):
        dualgrad.load(Pipe())


def test_saving_too_many_python_values_raises(tmp_path):
    with pytest.raises(ValueError, match=r"bytes to describe.*store long sequences.*as tensors"):
        dualgrad.save(["x" * 2**20] * 9, tmp_path / "strings.npz")
    assert list(tmp_path.iterdir()) == []


# --- saving: crashes, leftovers, permissions ----------------------------------------------------
def _temporary_of(path, token="0123456789abcdef"):
    return path.parent / f".{path.name}.dualgrad-save-{token}"


def test_abandoned_temporaries_are_removed_by_the_next_save(tmp_path):
    path = tmp_path / "checkpoint.npz"
    abandoned = _temporary_of(path)
    abandoned.write_bytes(b"half a checkpoint")
    others = [
        _temporary_of(tmp_path / "other.npz"),  # another target's: its own next save sweeps it
        tmp_path / ".checkpoint.npz.dualgrad-save-notours",
        tmp_path / "checkpoint.npz.dualgrad-save-0123456789abcdef",
    ]
    for other in others:
        other.write_bytes(b"")
    dualgrad.save({"epoch": 1}, path)
    assert sorted(tmp_path.iterdir()) == sorted([path, *others])


def test_a_name_near_the_file_system_limit_saves_and_sweeps(tmp_path):
    path = tmp_path / ("n" * 250)
    dualgrad.save({"epoch": 1}, path)
    digest = hashlib.sha256(path.name.encode()).hexdigest()
    (tmp_path / f".{digest}.dualgrad-save-0123456789abcdef").write_bytes(b"")  # abandoned
    dualgrad.save({"epoch": 2}, path)
    assert list(tmp_path.iterdir()) == [path]
    assert dualgrad.load(path) == {"epoch": 2}


@pytest.mark.skipif(sys.platform == "win32", reason="the lock is POSIX advisory locking")
def test_a_temporary_being_written_is_not_removed(tmp_path):
    import fcntl

    path = tmp_path / "checkpoint.npz"
    live = _temporary_of(path)
    with open(live, "wb") as held:  # as a save in another process holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        dualgrad.save({"epoch": 1}, path)
        assert live.exists()
    dualgrad.save({"epoch": 2}, path)
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no umask-style modes")
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_gets_the_mode_the_umask_gives(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        dualgrad.save({"epoch": 1}, tmp_path / "checkpoint.npz")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "checkpoint.npz").stat().st_mode) == mode


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no umask-style modes")
def test_overwritten_file_keeps_its_mode(tmp_path):
    path = tmp_path / "checkpoint.npz"
    dualgrad.save({"epoch": 1}, path)
    path.chmod(0o640)
    dualgrad.save({"epoch": 2}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert dualgrad.load(path) == {"epoch": 2}


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_saving_through_a_symbolic_link_replaces_the_file_it_names(tmp_path):
    real = tmp_path / "real.npz"
    link = tmp_path / "link.npz"
    dualgrad.save({"epoch": 1}, real)
    link.symlink_to(real)
    dualgrad.save({"epoch": 2}, link)
    assert link.is_symlink()
    assert dualgrad.load(real) == {"epoch": 2}


# Saves one checkpoint after another, each of 8 MB with every value equal to its number, until
# it is killed.
_SAVE_FOREVER = """
import sys
import dualgrad
for number in range(1, 10**9):
    dualgrad.save({"number": number, "w": dualgrad.full((10**6,), float(number))}, sys.argv[1])
    if number == 1:
        print("saving", flush=True)
"""


def _kill_while_saving(path, moment):
    """Start saving in a child process, SIGKILL it at ``moment`` (a delay in seconds, or
    "mid-write": as soon as a temporary file appears)."""
    child = subprocess.Popen(
        [sys.executable, "-c", _SAVE_FOREVER, str(path)], stdout=subprocess.PIPE
    )
    child.stdout.readline()  # one save done: the loop is running
    if moment == "mid-write":
        deadline = time.monotonic() + 30
        while len(list(path.parent.iterdir())) == 1 and time.monotonic() < deadline:
            time.sleep(0.001)
    else:
        time.sleep(moment)
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_save_killed_at_random_moments_leaves_the_file_whole(tmp_path):
    path = tmp_path / "checkpoint.npz"
    dualgrad.save({"number": 0, "w": dualgrad.full((10**6,), 0.0)}, path)
    rng = random.Random(0)
    left_behind = 0
    for moment in ["mid-write", rng.uniform(0, 0.5)] * 3:
        _kill_while_saving(path, moment)
        checkpoint = dualgrad.load(path)  # whole: the last save that finished
        assert (values(checkpoint["w"]) == checkpoint["number"]).all()
        left_behind += len(list(tmp_path.iterdir())) - 1
        dualgrad.save(checkpoint, path)
        assert list(tmp_path.iterdir()) == [path]
    assert left_behind > 0, "no kill landed inside a save: the test checked nothing"


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


# --- map_location, as torch.load takes it ------------------------------------------------
def test_load_onto_the_device_map_location_names(backend):
    model, _ = _trained_model_and_optimizer()
    buffer = io.BytesIO()
    dualgrad.save(model.state_dict(), buffer)
    host = dualgrad.ones(1).device
    for map_location in ("cpu", host, str(host), {"cuda:0": "cpu", "cuda:1": host}, {}, None):
        for positional in (True, False):
            buffer.seek(0)
            loaded = (
                dualgrad.load(buffer, map_location)
                if positional
                else dualgrad.load(buffer, map_location=map_location)
            )
            _assert_same_structure(loaded, dict(model.state_dict()))
            assert all(t.device == host for t in loaded.values())


@pytest.mark.parametrize(
    ("map_location", "error", "match"),
    [
        ("cuda", RuntimeError, "'cuda' is not available"),
        (lambda storage, location: storage, TypeError, "a function: dualgrad has no storages"),
        ({"cuda:0": "cpu", "cuda:1": "cuda:0"}, TypeError, "different devices"),
        (3.5, TypeError, "got float 3.5"),
        ("CPU!", TypeError, "expected a device type"),
        ({"cuda:0": None}, TypeError, "got NoneType"),
    ],
)
def test_load_refuses_a_map_location_it_cannot_follow_before_reading(map_location, error, match):
    buffer = io.BytesIO()
    dualgrad.save({"w": dualgrad.ones(2)}, buffer)
    buffer.seek(0)
    with dualgrad.use_backend("numpy"), pytest.raises(error, match=match):
        dualgrad.load(buffer, map_location=map_location)
    assert buffer.tell() == 0  # nothing read
