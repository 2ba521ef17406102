"""``Generator``: a seeded random source object, as ``torch.Generator``, for shuffling and
sampling indices (``dualgrad.utils.data``'s samplers take one)."""

from __future__ import annotations

__all__ = ["Generator"]

import secrets
from typing import Any

import numpy as np

from ._dtypes import uint8
from .functions.creation import asarray
from .tensor import Tensor

# torch.Generator()'s seed before any manual_seed, so that an unseeded generator is just as
# reproducible here.
_DEFAULT_SEED = 67280421310721
_STATE_BYTES = 37  # PCG64: 16 bytes of state, 16 of increment, a flag and a buffered uint32


class Generator:
    """A random number generator with its own seed and state, as ``torch.Generator``.

    Its draws are indices (permutations and integers), made on the host with NumPy's PCG64,
    whatever the backend: an index permutation is the same on every backend.

    Args:
        device: where it draws: ``"cpu"``, the only place it can.

    Raises:
        ValueError: another device.

    Example:
        >>> import dualgrad
        >>> g = dualgrad.Generator().manual_seed(0)
        >>> g.initial_seed()
        0
    """

    def __init__(self, device: Any = "cpu") -> None:
        if device is not None and str(device) != "cpu":
            msg = (
                f"dualgrad.Generator draws indices on the host; it cannot be created on device "
                f"{device!r}: use device='cpu'"
            )
            raise ValueError(msg)
        self.device = "cpu"
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart from ``seed`` (any int, taken modulo 2**64); returns the generator.

        Raises:
            TypeError: ``seed`` is not an int.
        """
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            msg = f"manual_seed expected an int, got {type(seed).__name__}"
            raise TypeError(msg)
        self._seed = int(seed) % 2**64
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Restart from a fresh, non-deterministic seed, and return it."""
        self.manual_seed(secrets.randbits(63))
        return self._seed

    def initial_seed(self) -> int:
        """The seed it was last started from."""
        return self._seed

    def get_state(self) -> Tensor:
        """Its state, a 1-d uint8 Tensor that ``set_state`` restores."""
        state = self._rng.bit_generator.state
        raw = (
            state["state"]["state"].to_bytes(16, "little")
            + state["state"]["inc"].to_bytes(16, "little")
            + bytes([state["has_uint32"]])
            + state["uinteger"].to_bytes(4, "little")
        )
        return asarray(np.frombuffer(raw, dtype=np.uint8).copy(), dtype=uint8)

    def set_state(self, new_state: Tensor) -> Generator:
        """Restore a state ``get_state`` returned; returns the generator.

        Raises:
            TypeError: not a uint8 Tensor.
            ValueError: not a state of this kind of generator.
        """
        if not isinstance(new_state, Tensor) or new_state.dtype is not uint8:
            msg = "Generator.set_state expects the uint8 Tensor that get_state returned"
            raise TypeError(msg)
        raw = bytes(np.asarray(new_state.numpy(), dtype=np.uint8).reshape(-1))
        if len(raw) != _STATE_BYTES or raw[32] > 1:
            msg = f"Generator.set_state: not a generator state ({len(raw)} bytes, expected 37)"
            raise ValueError(msg)
        self._rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {
                "state": int.from_bytes(raw[:16], "little"),
                "inc": int.from_bytes(raw[16:32], "little"),
            },
            "has_uint32": raw[32],
            "uinteger": int.from_bytes(raw[33:], "little"),
        }
        return self

    def _permutation(self, n: int) -> np.ndarray:
        """A random permutation of ``range(n)``, advancing the state."""
        return self._rng.permutation(n)

    def _integers(self, high: int, size: int) -> np.ndarray:
        """``size`` random integers in ``[0, high)``, advancing the state."""
        return self._rng.integers(0, high, size)

    def __repr__(self) -> str:
        return f"<dualgrad.Generator seed={self._seed}>"
