"""Reading the arrays of a dualgrad file with memory bounded by what the file really holds.

Nothing is allocated before it is checked against the file: the archive's members must be
stored uncompressed (as ``np.savez`` writes them), lie inside the file without overlapping, and
together hold at most ``max_bytes``; each array's ``.npy`` header must give the dtype and shape
that the manifest gives, and the member's size must be exactly that header plus that many bytes.
Only then is the array allocated, and it is filled in chunks of 1 MiB, checking its SHA-256 and
the zip's CRC-32 on the way. So a small file cannot make ``load`` allocate much, however it is
crafted: a decompression bomb is refused before a byte of it is inflated.
"""

from __future__ import annotations

__all__ = ["Archive"]

import ast
import hashlib
import math
import struct
import zipfile
from typing import Any, BinaryIO

import numpy as np

from ._format import MANIFEST, MAX_MANIFEST_BYTES, SerializationError

_CHUNK = 2**20
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member first, or an empty archive
_LOCAL_HEADER = 30  # bytes of a zip member's local header before its name
_MAX_NPY_HEADER = 2**16  # np.save's headers take a few hundred bytes
_MAX_NDIM = 64  # NumPy's limit

# What the zipfile module raises for a malformed archive (it has no one exception for that):
# BadZipFile for most, and the others where a damaged length or offset reaches file or struct
# calls, or names an unsupported feature.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
    struct.error,
)


class Archive:
    """An open dualgrad archive, checked for its layout; reads its manifest and arrays.

    Raises SerializationError (naming the file, ``name``) for anything wrong with the file.
    """

    def __init__(self, stream: BinaryIO, name: str, max_bytes: int | None) -> None:
        self.name = name
        start = stream.tell()
        magic = stream.read(len(_NPY_MAGIC))
        stream.seek(start)
        if magic == _NPY_MAGIC:
            msg = "it holds a bare NumPy array, not a file written by dualgrad.save"
            raise self.fail(msg)
        if magic[:4] not in _ZIP_MAGIC:
            msg = (
                "it is not a file written by dualgrad.save (not a zip archive), or it is "
                "truncated or corrupt"
            )
            raise self.fail(msg)
        try:
            self._zip = zipfile.ZipFile(stream)
            self._size = stream.seek(0, 2)
        except _ZIP_ERRORS as err:
            msg = (
                f"it is not a file written by dualgrad.save, or it is truncated or corrupt ({err})"
            )
            raise self.fail(msg) from err
        self.members = self._checked_members(max_bytes)
        # the names of the arrays it holds: tensor0, ..., and the manifest
        self.entries = frozenset(self.members)

    def fail(self, what: str) -> SerializationError:
        return SerializationError(f"dualgrad.load: {self.name}: {what}")

    def close(self) -> None:
        self._zip.close()

    def _checked_members(self, max_bytes: int | None) -> dict[str, zipfile.ZipInfo]:
        """The members by array name, once their layout is known to be sound."""
        infos = self._zip.infolist()
        members = {info.filename.removesuffix(".npy"): info for info in infos}
        if len(members) != len(infos):
            msg = "the archive lists a member twice; the file was altered"
            raise self.fail(msg)
        for info in infos:
            if not info.filename.endswith(".npy"):
                msg = f"member {info.filename!r} is not an array; the file was altered"
                raise self.fail(msg)
            if info.flag_bits & 0x1:
                msg = f"member {info.filename!r} is encrypted; the file was altered"
                raise self.fail(msg)
            if info.compress_type != zipfile.ZIP_STORED:
                msg = (
                    f"member {info.filename!r} is compressed; dualgrad.save stores arrays "
                    "uncompressed, and load refuses compressed ones, which could inflate to any "
                    "size (if you trust the file, rewrite it with numpy.savez(path, "
                    "**numpy.load(file)))"
                )
                raise self.fail(msg)
            if info.compress_size != info.file_size:
                msg = f"member {info.filename!r} has inconsistent sizes; it is corrupt"
                raise self.fail(msg)
        total = sum(info.file_size for info in infos)
        if max_bytes is not None and total > max_bytes:
            msg = (
                f"it holds {total:,} bytes of data, more than max_bytes={max_bytes:,}; if you "
                "trust it, pass a larger max_bytes (or None) to dualgrad.load"
            )
            raise self.fail(msg)
        # Members inside the file, none overlapping another: together they hold no more bytes
        # than the file does, so reading them cannot allocate more than that either.
        end = self._size
        for info in sorted(infos, key=lambda info: info.header_offset, reverse=True):
            if not 0 <= info.header_offset <= end - _LOCAL_HEADER - info.compress_size:
                msg = (
                    f"member {info.filename!r} runs past the end of the file or into another "
                    "member; it is truncated or corrupt"
                )
                raise self.fail(msg)
            end = info.header_offset
        return members

    def read_manifest(self) -> bytes:
        """The manifest's bytes (not yet decoded)."""
        info = self.members.get(MANIFEST)
        if info is None:
            msg = "no dualgrad manifest; it is not a file written by dualgrad.save"
            raise self.fail(msg)
        if info.file_size > MAX_MANIFEST_BYTES + _MAX_NPY_HEADER:
            msg = (
                f"the manifest takes {info.file_size:,} bytes, more than the "
                f"{MAX_MANIFEST_BYTES:,} a dualgrad file allows; the file was altered"
            )
            raise self.fail(msg)
        with self._member(MANIFEST) as stream:
            descr, shape, header_size = self._npy_header(MANIFEST, stream)
            if descr != "|u1" or len(shape) != 1:
                msg = (
                    f"array {MANIFEST!r} holds {descr} {list(shape)}, not the manifest's bytes; "
                    "it is not a file written by dualgrad.save"
                )
                raise self.fail(msg)
            array = self._filled(MANIFEST, stream, np.dtype(np.uint8), shape, header_size)
        return array.tobytes()

    def read_array(self, entry: str, dtype: str, shape: tuple[int, ...], sha256: str) -> Any:
        """The NumPy array ``entry``, checked against the manifest's dtype, shape and digest."""
        expected = np.dtype(dtype)
        # The file's byte order may differ from this machine's (np.save writes its native one).
        orders = {expected.newbyteorder("<").str, expected.newbyteorder(">").str}
        with self._member(entry) as stream:
            descr, found, header_size = self._npy_header(entry, stream)
            matches = isinstance(descr, str) and descr in orders
            if not matches or found != shape:
                described = np.dtype(descr).name if matches else repr(descr)
                msg = (
                    f"array {entry!r} is {described} {list(found)}, the manifest says {dtype} "
                    f"{list(shape)}; the file was altered"
                )
                raise self.fail(msg)
            array = self._filled(entry, stream, np.dtype(descr), shape, header_size)
        digest = hashlib.sha256(array.reshape(-1).view(np.uint8)).hexdigest()
        if digest != sha256:
            msg = f"array {entry!r} does not match its checksum; the file was altered"
            raise self.fail(msg)
        return array if array.dtype.isnative else array.astype(expected)

    def _member(self, entry: str) -> Any:
        try:
            return self._zip.open(self.members[entry])
        except _ZIP_ERRORS as err:
            raise self._damaged(entry, err) from err

    def _damaged(self, entry: str, err: Exception) -> SerializationError:
        return self.fail(f"array {entry!r} is damaged ({err}); the file is corrupt")

    def _read(self, entry: str, stream: BinaryIO, size: int) -> bytes:
        """Exactly ``size`` bytes of a member."""
        try:
            data = stream.read(size)
        except _ZIP_ERRORS as err:
            raise self._damaged(entry, err) from err
        if len(data) != size:
            msg = f"array {entry!r} ends early; the file is truncated or corrupt"
            raise self.fail(msg)
        return data

    def _npy_header(self, entry: str, stream: BinaryIO) -> tuple[Any, tuple[int, ...], int]:
        """The dtype descriptor and shape that a member's ``.npy`` header gives, and its size."""
        prefix = self._read(entry, stream, len(_NPY_MAGIC) + 2)
        if prefix[: len(_NPY_MAGIC)] != _NPY_MAGIC or prefix[-2] not in (1, 2, 3):
            msg = f"array {entry!r} is not a .npy array; the file is corrupt"
            raise self.fail(msg)
        length_size = 2 if prefix[-2] == 1 else 4
        length = int.from_bytes(self._read(entry, stream, length_size), "little")
        if length > _MAX_NPY_HEADER:
            msg = f"array {entry!r} has a {length:,}-byte header; the file is corrupt"
            raise self.fail(msg)
        text = self._read(entry, stream, length)
        try:
            # a Python dict literal; literal_eval evaluates no code
            header = ast.literal_eval(text.decode("latin-1" if prefix[-2] < 3 else "utf-8"))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            header = None
        if (
            not isinstance(header, dict)
            or header.keys() != {"descr", "fortran_order", "shape"}
            or header["fortran_order"] is not False  # np.save of a C-ordered array
            or not _is_shape(header["shape"])
        ):
            msg = f"array {entry!r} has a malformed header; the file is corrupt"
            raise self.fail(msg)
        return header["descr"], header["shape"], len(prefix) + length_size + length

    def _filled(
        self, entry: str, stream: BinaryIO, dtype: np.dtype, shape: tuple[int, ...], header: int
    ) -> np.ndarray:
        """A new array of ``shape`` and ``dtype``, read from the rest of the member in chunks."""
        size = math.prod(shape) * dtype.itemsize
        if header + size != self.members[entry].file_size:
            msg = (
                f"array {entry!r} takes {self.members[entry].file_size - header:,} bytes in the "
                f"archive, but its shape and dtype need {size:,}; the file is corrupt"
            )
            raise self.fail(msg)
        array = np.empty(shape, dtype)
        buffer = memoryview(array.reshape(-1).view(np.uint8))
        filled = 0
        while filled < size:
            chunk = self._read(entry, stream, min(_CHUNK, size - filled))
            buffer[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
        return array  # the zip checked the member's CRC-32 as its last byte was read


def _is_shape(value: Any) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) <= _MAX_NDIM
        and all(type(n) is int and 0 <= n < 2**63 for n in value)
    )
