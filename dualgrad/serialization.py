"""``dualgrad.save`` / ``dualgrad.load``: state dicts to a file, in a format that runs no code.

The file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) read with
``allow_pickle=False``: nothing in it is ever unpickled. One entry, ``__dualgrad__``, holds a
JSON manifest: a format tag, the nested structure (dicts, lists, tuples, numbers, strings, bools,
None) with each tensor replaced by a reference to its array entry, and each array's dtype, shape
and SHA-256. Loading checks the zip's CRCs, the manifest, and every array against it, so a
truncated, corrupted or edited file raises ``SerializationError`` instead of loading wrong values.
"""

from __future__ import annotations

__all__ = ["SerializationError", "load", "save"]

import hashlib
import json
import os
import tempfile
import warnings
import zipfile
from typing import Any, BinaryIO

import numpy as np

from . import config
from .backends import Backend, get_backend_by_name
from .nn.parameter import Parameter
from .tensor import Tensor

FORMAT = "dualgrad.save"
VERSION = 1
_MANIFEST = "__dualgrad__"

PathOrFile = str | os.PathLike[str] | BinaryIO


class SerializationError(ValueError):
    """A file that ``dualgrad.load`` cannot read: not a dualgrad file, truncated, or altered."""


# --- encoding: Python structure -> JSON nodes + arrays --------------------------------------
def _encode(value: Any, arrays: dict[str, np.ndarray], where: str) -> dict[str, Any]:
    """One JSON node per value; tensors become references to entries of ``arrays``."""
    if value is None:
        return {"type": "none"}
    if isinstance(value, bool):
        return {"type": "bool", "value": value}
    if isinstance(value, int):
        return {"type": "int", "value": value}
    if isinstance(value, float):
        return {"type": "float", "value": repr(value)}  # repr round-trips exactly, inf and nan too
    if isinstance(value, str):
        return {"type": "str", "value": value}
    if isinstance(value, list | tuple):
        items = [_encode(item, arrays, f"{where}[{i}]") for i, item in enumerate(value)]
        return {"type": type(value).__name__, "items": items}
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not isinstance(key, str | int | float | bool) and key is not None:
                msg = (
                    f"dualgrad.save: dict key {key!r} at {where} is a {type(key).__name__}; "
                    "keys must be str, int, float, bool or None"
                )
                raise TypeError(msg)
            items.append([_encode(key, arrays, where), _encode(item, arrays, f"{where}[{key!r}]")])
        return {"type": "dict", "items": items}
    if isinstance(value, Tensor):
        return _encode_tensor(value, arrays)
    msg = (
        f"dualgrad.save: cannot save a {type(value).__name__} (at {where}); save Tensors, "
        "numbers, strings, bools, None, and dicts, lists or tuples of them (for a Module or "
        "an optimizer, save its state_dict())"
    )
    raise TypeError(msg)


def _encode_tensor(tensor: Tensor, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    array = np.asarray(tensor._backend.to_numpy(tensor._array), order="C")
    entry = f"tensor{len(arrays)}"
    arrays[entry] = array
    return {
        "type": "parameter" if isinstance(tensor, Parameter) else "tensor",
        "entry": entry,
        "dtype": tensor.dtype.name,
        "shape": list(array.shape),
        "requires_grad": tensor.requires_grad,
        "sha256": hashlib.sha256(array.tobytes()).hexdigest(),
    }


def save(obj: Any, f: PathOrFile) -> None:
    """Save ``obj`` (a state dict, an optimizer's state dict, a tensor, or nested dicts, lists
    and tuples of tensors, numbers, strings, bools and None) to ``f``.

    A path is written atomically: a failed save leaves any earlier file in place.

    Args:
        obj: what to save.
        f: a path (``.npz`` by convention; any name is used as given) or a binary file.

    Raises:
        TypeError: ``obj`` holds something else (a Module: save its ``state_dict()``).

    Example:
        >>> import io, dualgrad
        >>> buffer = io.BytesIO()
        >>> dualgrad.save({"w": dualgrad.tensor([1.0, 2.0]), "epoch": 3}, buffer)
        >>> _ = buffer.seek(0)
        >>> dualgrad.load(buffer)
        {'w': tensor([1., 2.]), 'epoch': 3}
    """
    arrays: dict[str, np.ndarray] = {}
    root = _encode(obj, arrays, "the top level")
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "root": root})
    arrays[_MANIFEST] = np.frombuffer(manifest.encode("utf-8"), dtype=np.uint8)
    # Every entry is a plain numeric array, so np.savez never pickles anything.
    if not isinstance(f, str | os.PathLike):
        np.savez(f, **arrays)
        return
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".dualgrad-save-")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


# --- decoding: JSON nodes + arrays -> Python structure --------------------------------------
class _Reader:
    """Turns manifest nodes back into values, checking each against the archive."""

    def __init__(self, archive: Any, backend: Backend, name: str) -> None:
        self.archive = archive
        self.backend = backend
        self.name = name
        self.used: set[str] = set()

    def fail(self, what: str) -> SerializationError:
        return SerializationError(f"dualgrad.load: {self.name}: {what}")

    def decode(self, node: Any) -> Any:
        kind = node.get("type") if isinstance(node, dict) else None
        if kind == "none":
            return None
        if kind in ("bool", "int", "str"):
            value = node.get("value")
            expected = {"bool": bool, "int": int, "str": str}[kind]
            if type(value) is not expected:
                msg = f"a {kind} node holds {value!r}; the file was altered"
                raise self.fail(msg)
            return value
        if kind == "float":
            try:
                return float(node["value"])
            except (KeyError, TypeError, ValueError):
                msg = "a float node is malformed; the file was altered"
                raise self.fail(msg) from None
        if kind in ("list", "tuple"):
            items = [self.decode(item) for item in self._items(node)]
            return items if kind == "list" else tuple(items)
        if kind == "dict":
            pairs = self._items(node)
            if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
                msg = "a dict node is malformed; the file was altered"
                raise self.fail(msg)
            return {self._key(key): self.decode(item) for key, item in pairs}
        if kind in ("tensor", "parameter"):
            return self._tensor(node, kind)
        msg = f"unknown node {str(node)[:80]!r}; the file was altered"
        raise self.fail(msg)

    def _items(self, node: dict[str, Any]) -> list[Any]:
        items = node.get("items")
        if not isinstance(items, list):
            msg = f"a {node['type']} node has no items; the file was altered"
            raise self.fail(msg)
        return items

    def _key(self, node: Any) -> Any:
        key = self.decode(node)
        if isinstance(key, list | dict | tuple | Tensor):
            msg = "a dict key is not a scalar; the file was altered"
            raise self.fail(msg)
        return key

    def _tensor(self, node: dict[str, Any], kind: str) -> Tensor:
        entry = node.get("entry")
        if not isinstance(entry, str) or entry == _MANIFEST or entry not in self.archive.files:
            msg = f"the manifest names a missing array {entry!r}; the file was altered"
            raise self.fail(msg)
        if entry in self.used:
            msg = f"array {entry!r} is referenced twice; the file was altered"
            raise self.fail(msg)
        self.used.add(entry)
        array = self.read_array(entry)
        if node.get("dtype") != array.dtype.name or node.get("shape") != list(array.shape):
            msg = (
                f"array {entry!r} is {array.dtype.name} {list(array.shape)}, the manifest says "
                f"{node.get('dtype')} {node.get('shape')}; the file was altered"
            )
            raise self.fail(msg)
        if hashlib.sha256(array.tobytes()).hexdigest() != node.get("sha256"):
            msg = f"array {entry!r} does not match its checksum; the file was altered"
            raise self.fail(msg)
        tensor = Tensor._wrap(self.backend.from_numpy(array), self.backend)
        if kind == "parameter":
            return Parameter(tensor, requires_grad=bool(node.get("requires_grad")))
        return tensor.requires_grad_(True) if node.get("requires_grad") else tensor

    def read_array(self, entry: str) -> np.ndarray:
        try:
            return np.asarray(self.archive[entry])
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
            # BadZipFile: a CRC mismatch; ValueError: a damaged .npy header (or one that would
            # need pickle); OSError/EOFError: the data ends early.
            msg = f"array {entry!r} is damaged ({err}); the file is corrupt"
            raise self.fail(msg) from err


def _describe(f: PathOrFile) -> str:
    if isinstance(f, str | os.PathLike):
        return os.fspath(f)
    return getattr(f, "name", None) or type(f).__name__


def _open_archive(f: PathOrFile, name: str) -> Any:
    try:
        archive = np.load(f, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        msg = (
            f"dualgrad.load: {name} is not a file written by dualgrad.save, or it is truncated "
            f"or corrupt ({err})"
        )
        raise SerializationError(msg) from err
    if not isinstance(archive, np.lib.npyio.NpzFile):
        msg = (
            f"dualgrad.load: {name} holds a bare NumPy array, not a file written by dualgrad.save"
        )
        raise SerializationError(msg)
    return archive


def load(
    f: PathOrFile,
    *,
    backend: str | Backend | None = None,
    weights_only: bool | None = None,
) -> Any:
    """Load what ``dualgrad.save`` wrote; nothing in the file is ever unpickled or executed.

    Args:
        f: a path or a binary file.
        backend: where the tensors are created (a name or a Backend); by default the active
            backend.
        weights_only: PyTorch's switch between loading only tensors and plain data (True, or
            None) and unpickling arbitrary objects (False). Loading here is always the former:
            ``weights_only=False`` loads the same way and warns that nothing is unpickled.

    Returns:
        The saved structure, with Tensors (Parameters stay Parameters) on ``backend``.

    Raises:
        FileNotFoundError: no such file.
        SerializationError: (a ValueError) not a dualgrad file, truncated, corrupt or altered;
            the message names the file and what is wrong.
        TypeError: ``weights_only`` is not a bool or None.
    """
    if not isinstance(weights_only, bool | None):
        msg = f"dualgrad.load: weights_only must be True, False or None, got {weights_only!r}"
        raise TypeError(msg)
    if weights_only is False:
        warnings.warn(
            "dualgrad.load(weights_only=False): dualgrad never unpickles; the file is read as "
            "tensors, numbers, strings, bools, None and dicts, lists and tuples of them, exactly "
            "as with weights_only=True",
            UserWarning,
            stacklevel=2,
        )
    target = (
        config.get_backend()
        if backend is None
        else get_backend_by_name(backend)
        if isinstance(backend, str)
        else backend
    )
    name = _describe(f)
    if isinstance(f, str | os.PathLike) and not os.path.exists(f):
        msg = f"dualgrad.load: no such file: {name}"
        raise FileNotFoundError(msg)
    archive = _open_archive(f, name)
    with archive:
        reader = _Reader(archive, target, name)
        try:
            return _read(archive, reader)
        except RecursionError:
            msg = "the structure is nested too deeply; the file was altered"
            raise reader.fail(msg) from None


def _read(archive: Any, reader: _Reader) -> Any:
    """The saved structure, from an open archive, checked against its manifest."""
    if _MANIFEST not in archive.files:
        msg = "no dualgrad manifest; it is not a file written by dualgrad.save"
        raise reader.fail(msg)
    raw = reader.read_array(_MANIFEST)
    try:
        manifest = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        msg = f"the manifest is not valid JSON ({err}); the file was altered"
        raise reader.fail(msg) from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        msg = "the manifest is not a dualgrad manifest"
        raise reader.fail(msg)
    if manifest.get("version") != VERSION:
        msg = (
            f"format version {manifest.get('version')!r}; this dualgrad reads version "
            f"{VERSION}, upgrade dualgrad to read it"
        )
        raise reader.fail(msg)
    result = reader.decode(manifest.get("root"))
    unreferenced = set(archive.files) - reader.used - {_MANIFEST}
    if unreferenced:
        msg = f"arrays {sorted(unreferenced)} are not in the manifest; the file was altered"
        raise reader.fail(msg)
    return result
