"""``dualgrad.load``: a dualgrad file back to tensors and Python values, checked throughout.

Every manifest node is checked for its fields' types before it is used, and every array
against its node (see ``_archive``), so that whatever the file holds, ``load`` either returns
what ``save`` wrote or raises ``SerializationError`` saying what is wrong.
"""

from __future__ import annotations

__all__ = ["load"]

import contextlib
import io
import json
import os
import warnings
from collections.abc import Iterator
from typing import Any, BinaryIO

from array_api_compat import to_device

from .. import _device, config
from .._dtypes import BY_NAME
from ..backends import Backend, get_backend_by_name
from ..nn.parameter import Parameter
from ..tensor import Tensor
from ._archive import Archive
from ._format import DEFAULT_MAX_BYTES, FORMAT, MANIFEST, VERSION, PathOrFile


class _Reader:
    """Turns manifest nodes back into values, checking each against the archive."""

    def __init__(self, archive: Archive, backend: Backend, location: Any) -> None:
        self.archive = archive
        self.backend = backend
        self.location = location  # the backend's device to create tensors on; None: default
        self.used: set[str] = set()

    def fail(self, what: str) -> Exception:
        return self.archive.fail(f"{what}; the file was altered")

    def decode(self, node: Any) -> Any:
        kind = node.get("type") if isinstance(node, dict) else None
        if kind == "none":
            return None
        if kind in ("bool", "int", "str"):
            value = node.get("value")
            expected = {"bool": bool, "int": int, "str": str}[kind]
            if type(value) is not expected:
                msg = f"a {kind} node holds {_short(value)}"
                raise self.fail(msg)
            return value
        if kind == "float":
            value = node.get("value")
            with contextlib.suppress(ValueError):  # repr(x) was saved: "0.1", "inf", "nan"
                if isinstance(value, str):
                    return float(value)
            msg = f"a float node holds {_short(value)}"
            raise self.fail(msg)
        if kind in ("list", "tuple"):
            items = [self.decode(item) for item in self._items(node, kind)]
            return items if kind == "list" else tuple(items)
        if kind == "dict":
            pairs = self._items(node, kind)
            if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
                msg = "a dict node's items are not [key, value] pairs"
                raise self.fail(msg)
            return {self._key(key): self.decode(item) for key, item in pairs}
        if kind in ("tensor", "parameter"):
            return self._tensor(node, kind)
        msg = f"unknown node {_short(node)}"
        raise self.fail(msg)

    def _items(self, node: dict[str, Any], kind: str) -> list[Any]:
        items = node.get("items")
        if not isinstance(items, list):
            msg = f"a {kind} node has no list of items"
            raise self.fail(msg)
        return items

    def _key(self, node: Any) -> Any:
        key = self.decode(node)
        if isinstance(key, list | dict | tuple | Tensor):
            msg = "a dict key is not a scalar"
            raise self.fail(msg)
        return key

    def _tensor(self, node: dict[str, Any], kind: str) -> Tensor:
        entry, dtype, shape = node.get("entry"), node.get("dtype"), node.get("shape")
        requires_grad, sha256 = node.get("requires_grad"), node.get("sha256")
        if not isinstance(entry, str) or entry == MANIFEST or entry not in self.archive.entries:
            msg = f"the manifest names a missing array {_short(entry)}"
            raise self.fail(msg)
        if entry in self.used:
            msg = f"array {entry!r} is referenced twice"
            raise self.fail(msg)
        self.used.add(entry)
        if not isinstance(dtype, str) or dtype not in BY_NAME:
            msg = f"array {entry!r} has dtype {_short(dtype)}, which dualgrad lacks"
            raise self.fail(msg)
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            msg = f"array {entry!r} has shape {_short(shape)}"
            raise self.fail(msg)
        if type(requires_grad) is not bool or not isinstance(sha256, str):
            msg = f"array {entry!r} has a malformed entry in the manifest"
            raise self.fail(msg)
        if requires_grad and not (BY_NAME[dtype].is_floating_point or BY_NAME[dtype].is_complex):
            msg = f"array {entry!r} is {dtype} but marked requires_grad"
            raise self.fail(msg)
        array = self.archive.read_array(entry, dtype, tuple(shape), sha256)
        array = self.backend.from_numpy(array)
        if self.location is not None:
            array = to_device(array, self.location)
        tensor = Tensor._wrap(array, self.backend)
        if kind == "parameter":
            return Parameter(tensor, requires_grad=requires_grad)
        return tensor.requires_grad_(True) if requires_grad else tensor


def _short(value: Any) -> str:
    """A value of the manifest for a message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _describe(f: PathOrFile) -> str:
    if isinstance(f, str | os.PathLike):
        return os.fspath(f)
    return getattr(f, "name", None) or type(f).__name__


@contextlib.contextmanager
def _opened(f: PathOrFile, name: str, max_bytes: int | None) -> Iterator[Archive]:
    """The archive in ``f`` (a path or a binary file), closed on leaving."""
    with contextlib.ExitStack() as stack:
        if isinstance(f, str | os.PathLike):
            try:
                stream: BinaryIO = stack.enter_context(open(f, "rb"))
            except FileNotFoundError:
                msg = f"dualgrad.load: no such file: {name}"
                raise FileNotFoundError(msg) from None
        else:
            stream = f
            if isinstance(stream, io.TextIOBase):
                msg = f"dualgrad.load: {name} is open in text mode; open it in binary mode ('rb')"
                raise TypeError(msg)
            if not stream.seekable():
                msg = (
                    f"dualgrad.load: {name} cannot seek, which reading an archive needs; read "
                    "it into an io.BytesIO first"
                )
                raise TypeError(msg)
        archive = Archive(stream, name, max_bytes)
        stack.callback(archive.close)
        yield archive


def load(
    f: PathOrFile,
    map_location: Any = None,
    *,
    backend: str | Backend | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    weights_only: bool | None = None,
) -> Any:
    """Load what ``dualgrad.save`` wrote; nothing in the file is ever unpickled or executed.

    Whatever a file holds, ``load`` returns what ``save`` wrote or raises
    ``SerializationError``; and it never allocates memory for more than the file holds, nor
    more than ``max_bytes``.

    Args:
        f: a path or a binary file (open for reading, seekable).
        map_location: the device of ``backend`` the tensors are created on (``"cpu"``,
            ``"cuda:0"``, a ``dualgrad.device``), as PyTorch's; by default the backend's
            default device. A dict maps the devices the tensors were saved from to where they
            go; a dualgrad file does not record the former, so the dict's values must all name
            one device.
        backend: where the tensors are created (a name or a Backend); by default the active
            backend.
        max_bytes: the most bytes of arrays the file may hold (16 GiB by default); a file
            holding more is refused before anything is read. None: no limit.
        weights_only: PyTorch's switch between loading only tensors and plain data (True, or
            None) and unpickling arbitrary objects (False). Loading here is always the former:
            ``weights_only=False`` loads the same way and warns that nothing is unpickled.

    Returns:
        The saved structure, with Tensors (Parameters stay Parameters) on ``backend``.

    Raises:
        FileNotFoundError: no such file.
        SerializationError: (a ValueError) not a dualgrad file, truncated, corrupt, altered,
            or larger than ``max_bytes``; the message names the file and what is wrong.
        TypeError: ``f`` is open in text mode or cannot seek, or ``backend`` lacks a dtype the
            file holds (float64 on JAX outside its 64-bit mode), or ``weights_only`` is not a
            bool or None, or ``map_location`` is a function (dualgrad has no storages to hand
            it), a dict whose values name different devices, or not a device.
        RuntimeError: ``backend`` has no device ``map_location`` names.
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
    if max_bytes is not None and (type(max_bytes) is not int or max_bytes < 0):
        msg = f"dualgrad.load: max_bytes must be a non-negative int or None, got {max_bytes!r}"
        raise (ValueError if isinstance(max_bytes, int) else TypeError)(msg)
    requested = _requested_device(map_location)
    location = None if requested is None else _device.native_device(target, requested)
    with _opened(f, _describe(f), max_bytes) as archive:
        reader = _Reader(archive, target, location)
        try:
            result = reader.decode(_manifest(archive)["root"])
        except RecursionError:
            msg = "the structure is nested too deeply"
            raise reader.fail(msg) from None
        unreferenced = archive.entries - reader.used - {MANIFEST}
        if unreferenced:
            msg = f"arrays {sorted(unreferenced)} are not in the manifest"
            raise reader.fail(msg)
    return result


def _requested_device(map_location: Any) -> _device.device | None:
    """The device ``map_location`` names (see ``load``), or None for the default."""
    if map_location is None:
        return None
    if not isinstance(map_location, dict):
        return _named_device(map_location)
    targets = {_named_device(place) for place in map_location.values()}
    if len(targets) > 1:
        msg = (
            f"dualgrad.load: map_location={map_location!r} sends tensors to different devices "
            "by where they were saved, which a dualgrad file does not record; pass the one "
            "device to load onto (map_location='cpu')"
        )
        raise TypeError(msg)
    return targets.pop() if targets else None


def _named_device(place: Any) -> _device.device:
    if isinstance(place, _device.device):
        return place
    if isinstance(place, str):
        try:
            return _device.device(place)
        except ValueError as err:
            msg = f"dualgrad.load: map_location: {err}"
            raise TypeError(msg) from None
    why = (
        "a function: dualgrad has no storages to hand it"
        if callable(place)
        else f"{type(place).__name__} {place!r}"
    )
    msg = (
        "dualgrad.load: map_location must name a device ('cpu', 'cuda:0', a dualgrad.device) "
        f"or map saved devices to one, got {why}; pass the device to load onto"
    )
    raise TypeError(msg)


def _manifest(archive: Archive) -> dict[str, Any]:
    """The archive's manifest, parsed, of this format and version."""
    text = archive.read_manifest()
    try:
        manifest = json.loads(text.decode("utf-8"))
    except RecursionError:
        msg = "the structure is nested too deeply; the file was altered"
        raise archive.fail(msg) from None
    except ValueError as err:  # not UTF-8, not JSON, or a number of over 4,300 digits
        msg = f"the manifest is not valid JSON ({err}); the file was altered"
        raise archive.fail(msg) from None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or "root" not in manifest
    ):
        msg = "the manifest is not a dualgrad manifest"
        raise archive.fail(msg)
    if manifest.get("version") != VERSION:
        msg = (
            f"format version {_short(manifest.get('version'))}; this dualgrad reads version "
            f"{VERSION}, upgrade dualgrad to read it"
        )
        raise archive.fail(msg)
    return manifest
