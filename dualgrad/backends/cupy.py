"""The CuPy backend: NumPy-like arrays on an NVIDIA GPU, through ``array_api_compat.cupy``.

Needs CuPy built for the installed CUDA (``pip install 'dualgrad[cupy]'`` installs the CUDA 12
wheel) and a GPU. Arrays stay on the GPU: conversion to NumPy happens only when the user asks
for values (``.numpy()``, ``.item()``, printing).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._dtypes import DType
from ._base import Backend

try:
    import array_api_compat.cupy as compat_cupy
    import cupy
    import cupyx
    import cupyx.scipy.special
except ImportError as err:  # pragma: no cover - exercised only without the extra
    msg = "the cupy backend needs CuPy and an NVIDIA GPU: pip install 'dualgrad[cupy]'"
    raise ImportError(msg) from err


class CuPyBackend(Backend):
    """``cupy`` as a backend."""

    name = "cupy"
    checks_index_bounds = False  # out-of-range indices wrap around

    def __init__(self) -> None:
        super().__init__(compat_cupy)

    def owns(self, obj: object) -> bool:
        return isinstance(obj, cupy.ndarray)

    def dtype_of(self, array: Any) -> DType:
        return self._dtype_of[array.dtype.type]

    def from_numpy(self, array: np.ndarray) -> Any:
        return cupy.asarray(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        return cupy.asnumpy(array)

    def scalar(self, value: complex, dtype: DType) -> Any:
        return cupy.asarray(value, dtype=dtype.name)

    def index_add(self, x: Any, key: Any, values: Any) -> Any:
        out = x.copy()  # arrays are never mutated, only replaced
        cupyx.scatter_add(out, key, values)
        return out

    def erf(self, x: Any) -> Any:
        return cupyx.scipy.special.erf(x)

    def seed(self, seed: int) -> None:
        self._rng = cupy.random.default_rng(seed)

    def get_rng_state(self) -> Any:
        # CuPy's generator states cannot be copied
        # (https://docs.cupy.dev/en/stable/reference/random.html): restart the stream from a
        # seed drawn from it instead, and that seed is the snapshot.
        seed = int(self._rng.random() * 2**53)
        self._rng = cupy.random.default_rng(seed)
        return seed

    def set_rng_state(self, state: Any) -> None:
        self._rng = cupy.random.default_rng(state)

    def randn(self, shape: tuple[int, ...], dtype: DType) -> Any:
        return self._rng.standard_normal(shape, dtype=dtype.name)

    def rand(self, shape: tuple[int, ...], dtype: DType) -> Any:
        return self._rng.random(shape, dtype=dtype.name)
