"""What a dualgrad file is: the names and limits that saving and loading share, and the error.

A file is a zip archive of uncompressed ``.npy`` arrays (what ``np.savez`` writes). The member
``__dualgrad__.npy`` holds the manifest, UTF-8 JSON as a uint8 array::

    {"format": "dualgrad.save", "version": 1, "root": <node>}

A node is ``{"type": "none"}``, ``{"type": "bool" | "int" | "str", "value": ...}``,
``{"type": "float", "value": repr(x)}``, ``{"type": "list" | "tuple", "items": [<node>...]}``,
``{"type": "dict", "items": [[<key node>, <node>]...]}``, or a tensor::

    {"type": "tensor" | "parameter", "entry": "tensor0", "dtype": "float32", "shape": [3, 2],
     "requires_grad": true, "sha256": <hex digest of the array's bytes>}

whose values are the member ``tensor0.npy``.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FORMAT",
    "MANIFEST",
    "MAX_MANIFEST_BYTES",
    "VERSION",
    "PathOrFile",
    "SerializationError",
]

import os
from typing import BinaryIO

FORMAT = "dualgrad.save"
VERSION = 1
MANIFEST = "__dualgrad__"

# Parsed JSON takes up to about 25 times the memory of its text (a list of empty dicts), so the
# manifest's size is capped: 8 MiB holds tens of thousands of tensors' entries, and parsing the
# worst 8 MiB a crafted file can hold stays near 200 MB.
MAX_MANIFEST_BYTES = 8 * 2**20

# The most data ``load`` reads unless told otherwise: more than nearly any checkpoint holds, less
# than an unexpectedly large file could take from a machine's memory.
DEFAULT_MAX_BYTES = 16 * 2**30


PathOrFile = str | os.PathLike[str] | BinaryIO


class SerializationError(ValueError):
    """A file that ``dualgrad.load`` cannot read: not a dualgrad file, truncated, or altered."""
