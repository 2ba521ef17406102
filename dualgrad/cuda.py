"""``torch.cuda``'s questions, answered for the active backend: whether it has a CUDA GPU and
how many. NumPy never has one; JAX has one where a GPU build of JAX sees a GPU. And
``torch.cuda.amp.GradScaler``, PyTorch's older name for ``amp.GradScaler("cuda")``."""

from __future__ import annotations

__all__ = ["amp", "device_count", "is_available"]

import warnings
from types import SimpleNamespace

from . import _device, config
from .amp import GradScaler as _GradScaler


def is_available() -> bool:
    """Whether the active backend can put arrays on a CUDA GPU.

    Example:
        >>> import dualgrad
        >>> with dualgrad.use_backend("numpy"):
        ...     dualgrad.cuda.is_available()
        False
    """
    return _device.is_available(config.get_backend(), "cuda")


def device_count() -> int:
    """How many CUDA GPUs the active backend sees (0 on NumPy)."""
    return _device.device_count(config.get_backend(), "cuda")


class _CudaGradScaler(_GradScaler):
    """``torch.cuda.amp.GradScaler(...)``: ``amp.GradScaler("cuda", ...)``, with PyTorch's
    deprecation warning (disabled, with PyTorch's warning, where there is no CUDA device)."""

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        warnings.warn(
            "`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
            "`torch.amp.GradScaler('cuda', args...)` instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(
            "cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled
        )


amp = SimpleNamespace(GradScaler=_CudaGradScaler)  # torch.cuda.amp, as PyTorch code reaches it
