"""Reverse mode: the tape, backward, grad mode, and custom Functions.

Example:
    >>> import dualgrad
    >>> x = dualgrad.tensor(2.0, requires_grad=True)
    >>> dualgrad.autograd.grad(x ** 2, x)
    (tensor(4.),)
"""

from __future__ import annotations

from .anomaly_mode import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from .engine import backward, grad
from .function import Function, FunctionCtx
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import gradcheck, gradgradcheck
from .graph import Node
from .nan_safe_mode import is_nan_safe_mode_enabled, nan_safe_mode, set_nan_safe_mode

__all__ = [
    "Function",
    "FunctionCtx",
    "Node",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_nan_safe_mode_enabled",
    "nan_safe_mode",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
    "set_nan_safe_mode",
]
