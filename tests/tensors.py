"""Small helpers for building and reading tensors in tests."""

from __future__ import annotations

from typing import Any

import numpy as np

import dualgrad


def leaf(values: Any, *, requires_grad: bool = False, dtype: Any = dualgrad.float64) -> Any:
    """A leaf on the active backend (from a list: a NumPy array would keep the numpy backend)."""
    return dualgrad.tensor(np.asarray(values).tolist(), dtype=dtype, requires_grad=requires_grad)


def as_numpy(tensor: Any) -> np.ndarray:
    """A tensor's values, whatever its graph."""
    return tensor.detach().numpy()
