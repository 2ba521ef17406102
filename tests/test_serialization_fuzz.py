"""dualgrad.load against damaged and crafted files: it returns what was saved or raises
SerializationError, never another exception; and a small file cannot make it take much memory.

Each case costs a few milliseconds, so the hypothesis tests draw 15 times the profile's
``max_examples``: with the ``ci`` profile (the default) they and the truncation test run over
5,000 cases; ``pytest --hypothesis-profile=long tests/test_serialization_fuzz.py`` over 60,000.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualgrad
from dualgrad import nn
from dualgrad.serialization import SerializationError

EXAMPLES = 15 * settings().max_examples  # ci: 900 per test; long: 15,000


def _saved() -> bytes:
    dualgrad.manual_seed(0)
    with dualgrad.use_backend("numpy"):
        value = {
            "model": nn.Linear(3, 2).state_dict(),
            "step": dualgrad.tensor([7], dtype="int64"),
            "epoch": 3,
            "lr": 0.1,
            "betas": (0.9, 0.999),
            "names": ["a", None, True],
        }
        buffer = io.BytesIO()
        dualgrad.save(value, buffer)
    return buffer.getvalue()


SAVED = _saved()


def _plain(value: Any) -> Any:
    """A loaded value in comparable form: tensors as (kind, dtype, shape, bytes, grad flag)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dualgrad.Tensor):
        array = value.detach().numpy()
        return (
            type(value).__name__,
            array.dtype.str,
            array.shape,
            array.tobytes(),
            value.requires_grad,
        )
    return value


def _load(data: bytes) -> Any:
    """What loading ``data`` gives: the plain value, or None where it raised SerializationError.

    Any other exception fails the test that called it.
    """
    try:
        with dualgrad.use_backend("numpy"):
            return _plain(dualgrad.load(io.BytesIO(data), max_bytes=2**20))
    except SerializationError:
        return None


EXPECTED = _load(SAVED)


# --- damage to a saved file ---------------------------------------------------------------------
def test_truncation_at_every_offset_raises() -> None:
    for end in range(len(SAVED)):
        assert _load(SAVED[:end]) is None, f"a file cut to {end} bytes loaded"


@settings(max_examples=EXAMPLES)
@given(flips=st.lists(st.tuples(st.integers(0, len(SAVED) - 1), st.integers(0, 7)), min_size=1))
def test_bit_flips_raise_or_change_nothing(flips: list[tuple[int, int]]) -> None:
    data = bytearray(SAVED)
    for offset, bit in flips:
        data[offset] ^= 1 << bit
    # a flip the format does not read (a timestamp, the zip64 fields of a local header) is harmless
    assert _load(bytes(data)) in (None, EXPECTED)


@settings(max_examples=EXAMPLES)
@given(
    start=st.integers(0, len(SAVED)),
    length=st.integers(0, 64),
    replacement=st.binary(max_size=64),
)
def test_spliced_bytes_raise_or_change_nothing(
    start: int, length: int, replacement: bytes
) -> None:
    data = SAVED[:start] + replacement + SAVED[start + length :]
    assert _load(data) in (None, EXPECTED)


# --- crafted archives ---------------------------------------------------------------------------
def _archive(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip archive with valid checksums, as an attacker would write one."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)  # an object array becomes a pickle: never loaded
    return buffer.getvalue()


def _manifest(root: Any) -> bytes:
    text = json.dumps({"format": "dualgrad.save", "version": 1, "root": root})
    return _npy(np.frombuffer(text.encode(), dtype=np.uint8))


def _members_of(data: bytes) -> tuple[dict[str, bytes], Any]:
    """A saved file's array members, and its manifest's root node."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = np.load(io.BytesIO(members.pop("__dualgrad__.npy")))
    return members, json.loads(manifest.tobytes())["root"]


MEMBERS, ROOT = _members_of(SAVED)
KEYS = ["type", "value", "items", "entry", "dtype", "shape", "requires_grad", "sha256"]
NODE_TYPES = ["none", "bool", "int", "float", "str", "list", "tuple", "dict", "tensor"]
DTYPES = ["float32", "float64", "int64", "bool", "uint64", "str", "object", "datetime64"]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from([*NODE_TYPES, "parameter", *DTYPES, "tensor0", "tensor1", "__dualgrad__"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=5)
    ),
    max_leaves=6,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON tree where a value could be replaced."""
    if not isinstance(node, dict | list):
        return [path]
    children = node.items() if isinstance(node, dict) else enumerate(node)
    found = [path]
    for key, child in children:
        found += _paths(child, (*path, key))
    return found


ROOT_PATHS = _paths(ROOT)


def _replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replaced(node[path[0]], path[1:], value)
    return copy


@settings(max_examples=EXAMPLES)
@given(
    changes=st.lists(st.tuples(st.sampled_from(ROOT_PATHS), json_values), min_size=1, max_size=3)
)
def test_manifest_with_wrong_types_and_sizes_raises_or_loads(changes: list[Any]) -> None:
    root = ROOT
    for path, value in changes:
        try:
            root = _replaced(root, path, value)
        except (KeyError, IndexError, TypeError):  # an earlier change removed this path
            continue
    _load(_archive({**MEMBERS, "__dualgrad__.npy": _manifest(root)}))


arrays = st.sampled_from(
    [
        np.zeros(3),
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.asfortranarray(np.ones((2, 3))),
        np.array(["a", "bc"]),
        np.array(["2024-01-01"], dtype="datetime64[D]"),
        np.array([2**64 - 1], dtype=np.uint64),
        np.array([{"a": 1}], dtype=object),
        np.zeros(4, dtype=[("x", "f8"), ("y", "i4")]),
        np.ones(3, dtype=">f8"),
        np.zeros((0, 5)),
    ]
)
member_data = st.one_of(
    st.binary(max_size=200),
    arrays.map(_npy),
    st.tuples(arrays.map(_npy), st.integers(0, 200), st.binary(max_size=8)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + len(t[2]) :]
    ),
)
# what a zip member's name can hold (zipfile cuts a name at NUL, and cannot encode surrogates)
member_names = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
tensor_nodes = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["tensor", "parameter"]),
        "entry": st.sampled_from(["tensor0", "tensor1", "tensor2", "__dualgrad__"]),
        "dtype": st.sampled_from(DTYPES),
        "shape": st.lists(st.integers(-2, 2**40) | st.sampled_from([0, 1, 2, 3, 6]), max_size=3),
        "requires_grad": st.booleans() | st.sampled_from([None, 0, 1, "true"]),
        "sha256": st.sampled_from(["", "0" * 64, None, 7]),
    }
)


@settings(max_examples=EXAMPLES)
@given(
    members=st.dictionaries(
        st.sampled_from(["tensor0.npy", "tensor1.npy", "tensor2.npy", "tensor0", "x.npy"])
        | st.text(member_names, min_size=1, max_size=6),
        member_data,
        max_size=4,
    ),
    root=st.lists(tensor_nodes, max_size=3).map(lambda items: {"type": "list", "items": items})
    | json_values,
    compression=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
)
def test_random_archives_raise_or_load(
    members: dict[str, bytes], root: Any, compression: int
) -> None:
    _load(_archive({**members, "__dualgrad__.npy": _manifest(root)}, compression))


# --- memory: crafted archives of 20 MB -----------------------------------------------------------
def _zip(members: list[tuple[str, int, bytes, int | None]]) -> bytes:
    """A zip whose members' declared sizes and methods are whatever the caller says.

    ``members``: (name, compression method, stored bytes, declared size), the declared size
    being the uncompressed size, and the stored size too if the member is stored (None: the
    true size, and then the true CRC-32; otherwise it is made up, and the loader must refuse
    the archive before it reads the member).
    """
    out, central = bytearray(), bytearray()
    for name, method, data, declared in members:
        size = len(data) if declared is None else declared
        stored = size if method == zipfile.ZIP_STORED else len(data)
        crc = zlib.crc32(data) if declared is None else 0
        encoded = name.encode()
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc, stored, size,
            len(encoded), 0, 0, 0, 0, 0, len(out),
        ) + encoded  # fmt: skip
        out += struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, stored, size, len(encoded), 0
        )
        out += encoded + data
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(out), 0
    )
    return bytes(out + central + end)


def _npy_header(shape: tuple[int, ...]) -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return header.getvalue()


def _tensor_manifest(count: int, shape: tuple[int, ...]) -> bytes:
    node = {"type": "tensor", "dtype": "float64", "shape": list(shape), "requires_grad": False}
    items = [{**node, "entry": f"tensor{i}", "sha256": "0" * 64} for i in range(count)]
    return _manifest({"type": "list", "items": items})


def _deflate_bomb() -> bytes:
    """Five members of zeros, each 4 MB deflated and 4 GiB inflated (a 1,000-fold bomb)."""
    shape = (4_000 * 2**17,)  # 4,000 MiB of float64
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    # after a full flush the compressor starts afresh: every MiB of zeros compresses the same
    block = compressor.compress(bytes(2**20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    first = compressor.compress(_npy_header(shape)) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = first + block * 4_000 + compressor.flush()
    size = len(_npy_header(shape)) + 8 * shape[0]
    members = [(f"tensor{i}.npy", zipfile.ZIP_DEFLATED, stream, size) for i in range(5)]
    manifest = _tensor_manifest(5, shape)
    return _zip([*members, ("__dualgrad__.npy", zipfile.ZIP_STORED, manifest, None)])


def _sizes_lie() -> bytes:
    """20 MB of stored data whose zip headers claim 4 GB."""
    shape = (500_000_000,)
    data = _npy_header(shape) + bytes(20 * 2**20)
    manifest = _tensor_manifest(1, shape)
    return _zip(
        [
            ("tensor0.npy", zipfile.ZIP_STORED, data, len(_npy_header(shape)) + 8 * shape[0]),
            ("__dualgrad__.npy", zipfile.ZIP_STORED, manifest, None),
        ]
    )


def _header_lies() -> bytes:
    """A 20 MB array whose .npy header and manifest claim 745 GiB."""
    shape = (100_000_000_000,)
    data = _npy_header(shape) + bytes(20 * 2**20)
    manifest = _tensor_manifest(1, shape)
    return _zip(
        [
            ("tensor0.npy", zipfile.ZIP_STORED, data, None),
            ("__dualgrad__.npy", zipfile.ZIP_STORED, manifest, None),
        ]
    )


def _honest_but_large() -> bytes:
    """A valid file of 20 MB, loaded with max_bytes below that."""
    buffer = io.BytesIO()
    with dualgrad.use_backend("numpy"):
        dualgrad.save({"w": dualgrad.zeros(5 * 2**20, dtype="float32")}, buffer)
    return buffer.getvalue()


# The child measures what one load takes: the peak of memory allocated through Python (NumPy's
# arrays included, touched or not) and the growth of its peak resident size.
_MEASURE = textwrap.dedent(
    """
    import io, resource, sys, tracemalloc
    import dualgrad
    from dualgrad.serialization import SerializationError
    buffer = io.BytesIO()
    dualgrad.save({"w": dualgrad.ones(3)}, buffer)
    dualgrad.load(io.BytesIO(buffer.getvalue()))  # imports and caches in place first
    data = open(sys.argv[1], "rb").read()
    max_bytes = None if sys.argv[2] == "None" else int(sys.argv[2])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        dualgrad.load(io.BytesIO(data), max_bytes=max_bytes)
        outcome = "loaded"
    except SerializationError as err:
        outcome = "refused: " + str(err)
    allocated = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(allocated // 2**20, grown // 1024, outcome, sep="\\n")
    """
)


@pytest.mark.parametrize(
    ("crafted", "max_bytes", "reason"),
    [
        (_deflate_bomb, None, "compressed"),
        (_sizes_lie, None, "runs past the end of the file"),
        (_header_lies, None, "takes 20,971,520 bytes in the archive"),
        (_honest_but_large, 10 * 2**20, "more than max_bytes=10,485,760"),
    ],
    ids=["deflate-bomb", "zip-sizes-lie", "npy-header-lies", "over-max-bytes"],
)
def test_crafted_20_mb_archive_is_refused_in_bounded_memory(
    tmp_path: Any, crafted: Any, max_bytes: int | None, reason: str
) -> None:
    pytest.importorskip("resource", reason="peak RSS is read with the Unix module")
    data = crafted()
    assert 19 * 2**20 < len(data) < 22 * 2**20
    path = tmp_path / "crafted.npz"
    path.write_bytes(data)
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), str(max_bytes)],
        capture_output=True,
        text=True,
        check=True,
    )
    allocated_mib, grown_mib, outcome = result.stdout.splitlines()
    assert outcome.startswith("refused") and reason in outcome, outcome
    # the 20 MB read into memory by the child are not part of the load
    assert int(allocated_mib) < 200, f"the load allocated {allocated_mib} MiB"
    assert int(grown_mib) < 200, f"the peak RSS grew by {grown_mib} MiB"
