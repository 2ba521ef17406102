"""The Dask backend: ``dask.array`` through ``array_api_compat``, computed only on request.

Every operation, forward and backward, adds tasks to a Dask graph; nothing runs until the user
asks for values (``.numpy()``, ``.item()``, ``.tolist()``, printing, ``bool()``/``float()``) or
calls ``.compute()`` on ``tensor.array`` (on a ``dask.distributed`` cluster when a ``Client``
is active). The engine never asks by itself: this backend sets ``lazy``, which makes dualgrad
skip the value checks it would run on eager arrays (label ranges in ``cross_entropy``, say).

What Dask cannot do lazily: operations whose output shape depends on values. A boolean mask
(``x[x > 0]``), ``repeat`` with counts held in a tensor, or indexing with several integer arrays
at once raise ``NotImplementedError`` naming the operation and the lazy alternative.
"""

from __future__ import annotations

import math
import types
from typing import Any

import numpy as np

from .._dtypes import DType
from ._base import Backend, _numpy_erf, _scipy_special

try:
    import array_api_compat.dask.array as compat_dask
    import dask
    import dask.array as da
    from dask.array.core import normalize_chunks
except ImportError as err:  # pragma: no cover - exercised only without the extra
    msg = "the dask backend needs Dask: pip install 'dualgrad[dask]'"
    raise ImportError(msg) from err


class DaskBackend(Backend):
    """``dask.array`` as a backend; arrays are task graphs until computed."""

    name = "dask"
    lazy = True

    def __init__(self) -> None:
        super().__init__(_namespace())

    def owns(self, obj: object) -> bool:
        return isinstance(obj, da.Array)

    def dtype_of(self, array: Any) -> DType:
        return self._dtype_of[array.dtype.type]

    def from_numpy(self, array: np.ndarray) -> Any:
        # A random name, not one hashed from the values: Dask names the chunk offsets it builds
        # to index with a Dask integer array by their values too, and an index array equal to
        # them ([0] on a one-chunk axis) takes the offsets' shape (dask/dask#6709). Hashing
        # large arrays costs time besides.
        return da.from_array(np.asarray(array), name=False)

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array.compute())

    def scalar(self, value: complex, dtype: DType) -> Any:
        return da.from_array(np.asarray(value, dtype=dtype.name))

    def index_add(self, x: Any, key: Any, values: Any) -> Any:
        # Repeated positions must accumulate, which Dask's lazy assignment does not do: one
        # task adds them with NumPy (it holds the whole array; the result is rechunked like x).
        added = dask.delayed(_numpy_index_add)(x, key, values)
        return da.from_delayed(added, shape=x.shape, dtype=x.dtype).rechunk(x.chunks)

    def erf(self, x: Any) -> Any:
        return x.map_blocks(_numpy_erf, dtype=x.dtype)

    def special_function(self, name: str) -> Any:
        def function(*args: Any) -> Any:
            *constants, x = args  # the array comes last (polygamma's order is a Python int)
            return x.map_blocks(_numpy_special, name, *constants, dtype=x.dtype)

        function.__name__ = name
        return function


def _namespace() -> types.SimpleNamespace:
    """``array_api_compat``'s Dask namespace with the functions Dask gets wrong replaced."""
    namespace = types.SimpleNamespace(**vars(compat_dask))
    namespace.reshape = _reshape
    namespace.eye = _eye
    namespace.linalg = types.SimpleNamespace(**vars(compat_dask.linalg))
    namespace.linalg.cholesky = _cholesky
    namespace.linalg.svdvals = _svdvals
    return namespace


def _cholesky(x: Any, /, *, upper: bool = False) -> Any:
    # array_api_compat takes Dask's cholesky for NumPy's, which gives the lower factor; Dask's
    # gives the upper one unless asked (lower=False by default), so the compat version is the
    # transpose of the standard's.
    return da.linalg.cholesky(x, lower=not upper)


def _svdvals(x: Any, /) -> Any:
    # array_api_compat's svdvals asks Dask's svd for full matrices, which it refuses; the
    # singular values do not depend on that.
    return compat_dask.linalg.svd(x, full_matrices=False)[1]


def _eye(
    n_rows: int,
    n_cols: int | None = None,
    /,
    *,
    k: int = 0,
    dtype: Any = None,
    device: Any = None,
) -> Any:
    """The identity-like matrix with ones on diagonal ``k``, as the Array API's ``eye``.

    Dask's eye cuts both axes with one chunk size and, when that size exceeds the shorter
    axis (any rectangle with automatic chunks), names blocks it never builds ('Missing
    dependency' when computed); a chunk size no longer than either axis avoids it.
    """
    n_cols = n_rows if n_cols is None else n_cols
    if n_rows == 0 or n_cols == 0:
        return compat_dask.zeros((n_rows, n_cols), dtype=dtype, device=device)
    (rows, *_), _ = normalize_chunks("auto", (n_rows, n_cols), dtype=dtype or np.float64)
    chunk = min(rows, n_cols)
    return compat_dask.eye(n_rows, n_cols, k=k, dtype=dtype, device=device, chunks=chunk)


def _reshape(x: Any, /, shape: tuple[int, ...], *, copy: bool | None = None) -> Any:
    """``x`` in ``shape``, in row-major order, whatever the axes' sizes.

    Dask reshapes only by merging or splitting neighbouring axes evenly and refuses the rest
    (``(2, 3, 4) -> (4, 6)``); merging every axis into one and splitting that always works.
    It fails on most reshapes of an empty array, which has no values to keep.
    """
    if x.size == 0 and math.prod(shape) == 0 and min(shape, default=0) >= 0:
        return da.empty(shape, dtype=x.dtype)
    try:
        return compat_dask.reshape(x, shape, copy=copy)
    except NotImplementedError:
        return compat_dask.reshape(compat_dask.reshape(x, (-1,)), shape, copy=copy)


def _numpy_index_add(x: np.ndarray, key: tuple[Any, ...], values: np.ndarray) -> np.ndarray:
    out = np.array(x)
    np.add.at(out, key, values)
    return out


def _numpy_special(block: np.ndarray, name: str, *constants: Any) -> np.ndarray:
    """SciPy's special function ``name`` on one block, in the block's dtype."""
    out = getattr(_scipy_special(name), name)(*constants, block)
    return np.asarray(out, dtype=block.dtype)
