"""The NumPy backend (the default)."""

from __future__ import annotations

from typing import Any

import array_api_compat.numpy as compat_numpy
import numpy as np

from ._base import Backend, _numpy_erf, _scipy_special


class NumPyBackend(Backend):
    """NumPy through ``array_api_compat.numpy``."""

    name = "numpy"
    shares_constants = True

    def __init__(self) -> None:
        super().__init__(compat_numpy)

    def owns(self, obj: object) -> bool:
        return isinstance(obj, np.ndarray | np.generic)

    def dtype_of(self, array: Any) -> Any:
        return self._dtype_of[array.dtype.type]

    def from_numpy(self, array: np.ndarray) -> np.ndarray:
        return array

    def to_numpy(self, array: np.ndarray) -> np.ndarray:
        return np.asarray(array)

    def scalar(self, value: complex, dtype: Any) -> np.ndarray:
        return np.asarray(value, dtype=dtype.name)

    def operand(self, value: complex, dtype: Any, like: Any) -> Any:
        # Against a NumPy scalar (NumPy gives 0-d results as scalars), a NumPy scalar: the
        # arithmetic of two scalars skips the ufunc machinery that a 0-d array goes through,
        # a fifth of the cost. Against an array (0-d too) the 0-d array is the cheaper.
        if isinstance(like, np.generic):
            return self._native[dtype](value)
        return self.scalar(value, dtype)

    def index_add(self, x: np.ndarray, key: Any, values: np.ndarray) -> np.ndarray:
        out = np.array(x)  # a copy: arrays are never mutated, only replaced
        np.add.at(out, key, values)
        return out

    def outer_products(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # einsum's loop over vectors writes them about twice as fast as a broadcast
        # multiplication, faster still along the longer vector: that one is the row of the
        # product written (the other orientation is its transposed view).
        columns, rows = a[..., 0], b[..., 0, :]
        if columns.shape[-1] > rows.shape[-1]:
            return np.einsum("...i,...j->...ji", columns, rows).swapaxes(-1, -2)
        return np.einsum("...i,...j->...ij", columns, rows)

    def erf(self, x: np.ndarray) -> np.ndarray:
        return _numpy_erf(x)

    def special_function(self, name: str) -> Any:
        def function(*args: Any) -> np.ndarray:
            # in the dtype of x (the last argument): SciPy computes polygamma in float64
            out = getattr(_scipy_special(name), name)(*args)
            return np.asarray(out, dtype=np.asarray(args[-1]).dtype)

        function.__name__ = name
        return function
