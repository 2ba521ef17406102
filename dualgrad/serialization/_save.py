"""``dualgrad.save``: a structure of tensors and Python values to a dualgrad file."""

from __future__ import annotations

__all__ = ["save"]

import hashlib
import json
import os
from typing import Any

import numpy as np

from ..nn.parameter import Parameter
from ..tensor import Tensor
from ._atomic import replace_atomically
from ._format import FORMAT, MANIFEST, MAX_MANIFEST_BYTES, VERSION, PathOrFile


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
        "sha256": hashlib.sha256(array.reshape(-1).view(np.uint8)).hexdigest(),  # no copy
    }


def save(obj: Any, f: PathOrFile) -> None:
    """Save ``obj`` (a state dict, an optimizer's state dict, a tensor, or nested dicts, lists
    and tuples of tensors, numbers, strings, bools and None) to ``f``.

    A path is replaced atomically and durably: the new contents go to a temporary file beside
    it, flushed to disk before it is renamed over the target, so a save that fails or is killed
    at any moment leaves the earlier file intact. A temporary left by a killed save is removed
    by the next save to the same path. A new file gets the mode the umask gives (0644 under the
    usual umask); an existing one keeps its mode.

    Args:
        obj: what to save.
        f: a path (``.npz`` by convention; any name is used as given) or a binary file.

    Raises:
        TypeError: ``obj`` holds something else (a Module: save its ``state_dict()``).
        ValueError: the Python values around the tensors take more than 8 MiB to describe.

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
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "root": root}).encode("utf-8")
    if len(manifest) > MAX_MANIFEST_BYTES:
        msg = (
            f"dualgrad.save: the structure takes {len(manifest):,} bytes to describe, more than "
            f"the {MAX_MANIFEST_BYTES:,} a dualgrad file allows; store long sequences of numbers "
            "as tensors"
        )
        raise ValueError(msg)
    arrays[MANIFEST] = np.frombuffer(manifest, dtype=np.uint8)
    # Every entry is a plain numeric array, so np.savez never pickles anything; it stores the
    # arrays uncompressed, which is what dualgrad.load reads.
    if isinstance(f, str | os.PathLike):
        replace_atomically(f, lambda out: np.savez(out, **arrays))
    else:
        np.savez(f, **arrays)
