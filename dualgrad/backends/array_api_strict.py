"""The strict Array API backend: the engine on nothing but the standard.

``array_api_strict`` rejects everything the standard does not define, so the test suite running
on it proves that no rule or engine path leans on NumPy behaviour. Only the extras the standard
lacks (random numbers, ``index_add``, ``erf``) go through NumPy, in the base class.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Backend

try:
    import array_api_strict
except ImportError as err:  # pragma: no cover - exercised only without the extra
    msg = "the array_api_strict backend needs array-api-strict: pip install 'dualgrad[dev]'"
    raise ImportError(msg) from err


class ArrayAPIStrictBackend(Backend):
    """``array_api_strict`` as a backend."""

    name = "array_api_strict"

    def __init__(self) -> None:
        super().__init__(array_api_strict)

    # The array class is not exported under a public name; take it from an array.
    _array_type = type(array_api_strict.asarray(0))

    def owns(self, obj: object) -> bool:
        return isinstance(obj, self._array_type)

    def from_numpy(self, array: np.ndarray) -> Any:
        return array_api_strict.asarray(np.asarray(array))

    def to_numpy(self, array: Any) -> np.ndarray:
        # array_api_strict converts only arrays on its CPU device (it has pretend others)
        return np.asarray(array.to_device(array_api_strict.Device("CPU_DEVICE")))
