"""``dualgrad.save`` / ``dualgrad.load``: state dicts to a file, in a format that runs no code.

The file is a NumPy ``.npz`` archive (a zip of uncompressed ``.npy`` arrays) plus a JSON
manifest of the saved structure, with each array's dtype, shape and SHA-256 (``_format`` says
exactly what it holds). Nothing in it is ever unpickled. Loading checks the layout, the
manifest and every array against it, with memory bounded by the file's size and ``max_bytes``,
so a truncated, corrupted, altered or crafted file raises ``SerializationError`` instead of
loading wrong values or exhausting memory. Saving to a path replaces the file atomically and
durably.
"""

from ._format import DEFAULT_MAX_BYTES, SerializationError
from ._load import load
from ._save import save

__all__ = ["DEFAULT_MAX_BYTES", "SerializationError", "load", "save"]
