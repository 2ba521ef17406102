"""Small helpers for building and reading tensors in tests."""

from __future__ import annotations

from typing import Any

import numpy as np

import dualgrad


def leaf(values: Any, *, requires_grad: bool = False, dtype: Any = dualgrad.float64) -> Any:
    """A leaf on the active backend (from a list: a NumPy array would keep the numpy backend)."""
    return dualgrad.tensor(np.asarray(values).tolist(), dtype=dtype, requires_grad=requires_grad)


def values(x: Any) -> np.ndarray:
    """The values of ``x`` as a NumPy array, whatever its graph: a dualgrad Tensor, a PyTorch
    tensor (its lazy conjugation resolved), or array data."""
    if hasattr(x, "resolve_conj"):
        x = x.resolve_conj()
    return np.asarray(x.detach().numpy() if hasattr(x, "detach") else x)


def assert_close(
    actual: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-6, what: str = ""
) -> None:
    """``actual`` and ``expected`` (tensors or array data) have one shape and agree within the
    tolerances."""
    actual, expected = values(actual), values(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)
