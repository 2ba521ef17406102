"""Doctest collection (``--doctest-modules`` over ``dualgrad/`` and ``tests/``) imports every
module; the modules of optional backends raise ImportError, with the install command, when their
library is not installed, so they are left out then. They hold no doctests. The PyTorch programs
in tests/programs/ are scripts that tests/test_programs.py runs; importing one would run it."""

from __future__ import annotations

import importlib.util

OPTIONAL_BACKENDS = {"torch": "torch", "dask": "dask", "cupy": "cupy"}  # module file -> library

collect_ignore = [
    f"dualgrad/backends/{name}.py"
    for name, library in OPTIONAL_BACKENDS.items()
    if importlib.util.find_spec(library) is None
]
collect_ignore_glob = ["tests/programs/*.py"]
