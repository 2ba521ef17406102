"""The JAX backend: jax.numpy arrays, on CPU or on an accelerator when JAX has one.

JAX arrays are immutable, which suits dualgrad: in-place operations already swap arrays rather
than write into them. Random numbers come from a ``jax.random`` key that ``manual_seed``
resets and each draw splits.

float64 needs JAX's 64-bit mode, which is a process-wide JAX setting; dualgrad does not turn it
on behind the user's back. Asking for float64 without it raises a TypeError saying how to turn
it on (``jax.config.update("jax_enable_x64", True)`` or ``JAX_ENABLE_X64=1``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._dtypes import DType
from ._base import Backend

try:
    import jax
    import jax.numpy as jnp
    import jax.scipy.special
except ImportError as err:  # pragma: no cover - exercised only without the extra
    msg = "the jax backend needs JAX: pip install 'dualgrad[jax]'"
    raise ImportError(msg) from err

_NEEDS_X64 = {"float64", "int64", "uint64", "complex128"}


class JaxBackend(Backend):
    """``jax.numpy`` as a backend."""

    name = "jax"
    checks_index_bounds = False  # out-of-range gathers clamp

    def __init__(self) -> None:
        super().__init__(jnp)
        self._by_name = {dtype.name: dtype for dtype in self._dtype_of.values()}
        self._key = jax.random.key(0)

    def owns(self, obj: object) -> bool:
        return isinstance(obj, jax.Array)

    def readable(self, array: Any) -> bool:
        return not isinstance(array, jax.core.Tracer)  # values exist outside a trace only

    def dtype_of(self, array: Any) -> DType:
        return self._by_name[array.dtype.name]

    def native_dtype(self, dtype: DType) -> Any:
        if dtype.name in ("float64", "complex128") and not jax.config.jax_enable_x64:
            msg = (
                f"{dtype.name} on the jax backend needs JAX's 64-bit mode: call "
                "jax.config.update('jax_enable_x64', True) at start-up, or set JAX_ENABLE_X64=1"
            )
            raise TypeError(msg)
        return super().native_dtype(dtype)

    def from_numpy(self, array: np.ndarray) -> Any:
        if array.dtype.name in ("float64", "complex128"):
            self.native_dtype(self._by_name[array.dtype.name])  # raises without 64-bit mode
        return jnp.asarray(array)

    def scalar(self, value: complex, dtype: DType) -> Any:
        return jnp.asarray(value, dtype=self.native_dtype(dtype))

    def index_add(self, x: Any, key: Any, values: Any) -> Any:
        return x.at[key].add(values)

    def erf(self, x: Any) -> Any:
        return jax.scipy.special.erf(x)

    def special_function(self, name: str) -> Any:
        return getattr(jax.scipy.special, name)

    def seed(self, seed: int) -> None:
        self._key = jax.random.key(seed)

    def get_rng_state(self) -> Any:
        return self._key  # keys are immutable: the key itself is the snapshot

    def set_rng_state(self, state: Any) -> None:
        self._key = state

    def _next_key(self) -> Any:
        self._key, key = jax.random.split(self._key)
        return key

    def randn(self, shape: tuple[int, ...], dtype: DType) -> Any:
        return jax.random.normal(self._next_key(), shape, dtype=self.native_dtype(dtype))

    def rand(self, shape: tuple[int, ...], dtype: DType) -> Any:
        return jax.random.uniform(self._next_key(), shape, dtype=self.native_dtype(dtype))
