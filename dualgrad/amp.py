"""``torch.amp.GradScaler``: loss scaling for training in float16, as PyTorch's.

Small float16 gradients flush to zero; multiplying the loss by a large factor before
``backward()`` keeps them, and ``step`` divides them by it again before the optimizer's step.
A step whose gradients overflowed (inf or nan) is skipped and the factor halves; after
``growth_interval`` steps without overflow it doubles. dualgrad has no autocast: the scaler
works on whatever dtype the model computes in; on the NumPy backend a step that overflows shows
NumPy's overflow warnings, as any NumPy computation that overflows does. A training script
written for a GPU, ``GradScaler(enabled=(dtype == "float16"))`` or ``GradScaler("cuda")`` where
the backend has no CUDA device, gets a scaler that passes everything through, as PyTorch's does.

Example:
    >>> import dualgrad
    >>> w = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> optimizer = dualgrad.optim.SGD([w], lr=0.1)
    >>> scaler = dualgrad.amp.GradScaler("cpu")
    >>> scaler.scale((w * w).sum()).backward()
    >>> scaler.step(optimizer)
    >>> scaler.update()
    >>> w, scaler.get_scale()
    (tensor([0.8000, 1.6000], requires_grad=True), 65536.0)
"""

from __future__ import annotations

__all__ = ["GradScaler"]

import math
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from . import _device, config
from ._dtypes import float16
from .autograd.grad_mode import no_grad
from .functions.elementwise import isfinite
from .tensor import Tensor

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


def _float32(value: float) -> float:
    """``value`` as the float32 PyTorch keeps its scale in (inf where it overflows one)."""
    with np.errstate(over="ignore"):
        return float(np.float32(value))


class GradScaler:
    """Scales the loss, unscales the gradients, skips the steps that overflowed.

    Args:
        device: "cuda" (PyTorch's default) or another device type; a scaler for "cuda" where
            the active backend has no CUDA device is disabled, with PyTorch's warning.
        init_scale: the first scale.
        growth_factor: what the scale is multiplied by after ``growth_interval`` steps without
            overflow; above 1.
        backoff_factor: what it is multiplied by after a step that overflowed; below 1.
        growth_interval: how many steps without overflow make it grow.
        enabled: False makes every method pass its arguments through.

    Raises:
        ValueError: ``growth_factor`` is not above 1 or ``backoff_factor`` not below 1
            (PyTorch's messages).
    """

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        self._device = device
        self._enabled = enabled
        if enabled and device == "cuda" and not _device.is_available(config.get_backend(), "cuda"):
            warnings.warn(
                "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                UserWarning,
                stacklevel=2,
            )
            self._enabled = False
        if not self._enabled:
            return
        if growth_factor <= 1.0:
            msg = "The growth factor must be > 1.0."
            raise ValueError(msg)
        if backoff_factor >= 1.0:
            msg = "The backoff factor must be < 1.0."
            raise ValueError(msg)
        self._init_scale = init_scale
        self._scale: float | None = None  # set by the first scale()
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._growth_tracker = 0  # steps without overflow since the scale last changed
        # By id(optimizer), as PyTorch: its stage and whether its gradients overflowed.
        self._per_optimizer: dict[int, dict[str, Any]] = {}

    def is_enabled(self) -> bool:
        """Whether the scaler scales (False: every method passes through)."""
        return self._enabled

    def scale(self, outputs: Any) -> Any:
        """``outputs`` (a Tensor, or a list, tuple or iterable of them) times the scale."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = _float32(self._init_scale)
        scale = self._scale

        def scaled(value: Any) -> Any:
            if isinstance(value, Tensor):
                return value * scale
            if isinstance(value, Iterable):
                items = map(scaled, value)
                return type(value)(items) if isinstance(value, list | tuple) else items
            msg = "outputs must be a Tensor or an iterable of Tensors"
            raise ValueError(msg)

        return scaled(outputs)

    def unscale_(self, optimizer: Any) -> None:
        """Divide the gradients of ``optimizer``'s parameters by the scale, in place, and note
        whether any overflowed; ``step`` does it where it has not been done (call it first to
        clip the true gradients).

        Raises:
            RuntimeError: called twice for ``optimizer`` since ``update()``, or after
                ``step()``, or before any ``scale()``.
            ValueError: a gradient is float16 (PyTorch's "Attempting to unscale FP16
                gradients.").
        """
        if not self._enabled:
            return
        self._check_scale("unscale_")
        state = self._state(optimizer)
        if state["stage"] is _UNSCALED:
            msg = "unscale_() has already been called on this optimizer since the last update()."
            raise RuntimeError(msg)
        if state["stage"] is _STEPPED:
            msg = "unscale_() is being called after step()."
            raise RuntimeError(msg)
        grads = [p.grad for group in optimizer.param_groups for p in group["params"]]
        grads = [g for g in grads if g is not None]
        for grad in grads:
            if grad.dtype is float16:
                msg = "Attempting to unscale FP16 gradients."
                raise ValueError(msg)
        inverse = _float32(1.0 / self._scale)  # type: ignore[operator]
        with no_grad():
            overflowed = any(not bool(isfinite(grad).all()) for grad in grads)
            for grad in grads:
                grad.mul_(inverse)
        state["stage"], state["found_inf"] = _UNSCALED, overflowed

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step(*args, **kwargs)`` on the unscaled gradients, unless they
        overflowed (then nothing, and None).

        Raises:
            RuntimeError: a ``closure=`` keyword (PyTorch's message), a second step before
                ``update()``, or no ``scale()`` before.
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            msg = "Closure use is not currently supported if GradScaler is enabled."
            raise RuntimeError(msg)
        self._check_scale("step")
        state = self._state(optimizer)
        if state["stage"] is _STEPPED:
            msg = "step() has already been called since the last update()."
            raise RuntimeError(msg)
        if state["stage"] is _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Halve the scale (``backoff_factor``) if a step since the last update overflowed,
        else count a good step and double it (``growth_factor``) every ``growth_interval``; or
        set ``new_scale``.

        Raises:
            RuntimeError: no ``scale()`` before, or no ``step()``/``unscale_()`` since the
                last update (PyTorch's "No inf checks were recorded prior to update.").
            ValueError: ``new_scale`` is neither a float nor a one-element float Tensor that
                requires no grad.
        """
        if not self._enabled:
            return
        self._check_scale("update")
        if new_scale is not None:
            self._scale = _float32(_new_scale(new_scale))
        else:
            checks = [s["found_inf"] for s in self._per_optimizer.values()]
            checks = [found for found in checks if found is not None]
            if not checks:
                msg = "No inf checks were recorded prior to update."
                raise RuntimeError(msg)
            if any(checks):
                self._scale = _float32(self._scale * self._backoff_factor)  # type: ignore[operator]
                self._growth_tracker = 0
            elif self._growth_tracker + 1 == self._growth_interval:
                grown = _float32(self._scale * self._growth_factor)  # type: ignore[operator]
                self._scale = grown if math.isfinite(grown) else self._scale
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
        self._per_optimizer = {}

    def get_scale(self) -> float:
        """The scale (1.0 where disabled)."""
        if not self._enabled:
            return 1.0
        return _float32(self._init_scale) if self._scale is None else self._scale

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def state_dict(self) -> dict[str, Any]:
        """The scale, the factors, the interval and the count of good steps (empty where
        disabled), as PyTorch's keys."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._growth_tracker,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take what ``state_dict()`` gave.

        Raises:
            RuntimeError: ``state_dict`` is empty (saved from a disabled scaler).
        """
        if not self._enabled:
            return
        if len(state_dict) == 0:
            msg = (
                "The source state dict is empty, possibly because it was saved from a disabled "
                "instance of GradScaler."
            )
            raise RuntimeError(msg)
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale = _float32(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._growth_tracker = int(state_dict["_growth_tracker"])

    def _state(self, optimizer: Any) -> dict[str, Any]:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": None})

    def _check_scale(self, name: str) -> None:
        if self._scale is None:
            msg = (
                f"Attempted {name} but _scale is None.  This may indicate your script did not "
                "use scaler.scale(loss or outputs) earlier in the iteration."
            )
            raise RuntimeError(msg)


def _new_scale(value: float | Tensor) -> float:
    if isinstance(value, float):
        return value
    if (
        isinstance(value, Tensor)
        and value.numel() == 1
        and value.dtype.is_floating_point
        and not value.requires_grad
    ):
        return float(value.item())
    msg = (
        "new_scale should be a float or a 1-element torch.cuda.FloatTensor or torch.FloatTensor "
        "with requires_grad=False."
    )
    raise ValueError(msg)
