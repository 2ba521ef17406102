"""Pooling layers: ``MaxPool2d``, ``AvgPool2d`` and ``AdaptiveAvgPool2d``, over
``dualgrad.nn.functional``'s pooling functions."""

from __future__ import annotations

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d"]

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


class MaxPool2d(Module):
    """The largest element of each window, as ``torch.nn.MaxPool2d`` (see
    ``dualgrad.nn.functional.max_pool2d`` for the options).

    Example:
        >>> import dualgrad
        >>> pool = dualgrad.nn.MaxPool2d(2)
        >>> pool
        MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
        >>> pool(dualgrad.ones(1, 3, 4, 4)).shape
        torch.Size([1, 3, 2, 2])
    """

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        return F.max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """The mean of each window, as ``torch.nn.AvgPool2d`` (see
    ``dualgrad.nn.functional.avg_pool2d`` for the options).

    Example:
        >>> import dualgrad
        >>> dualgrad.nn.AvgPool2d(3, stride=2, padding=1)
        AvgPool2d(kernel_size=3, stride=2, padding=1)
    """

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, as ``torch.nn.AdaptiveAvgPool2d`` (see
    ``dualgrad.nn.functional.adaptive_avg_pool2d``).

    Example:
        >>> import dualgrad
        >>> pool = dualgrad.nn.AdaptiveAvgPool2d((1, 1))
        >>> pool(dualgrad.ones(2, 8, 5, 7)).shape
        torch.Size([2, 8, 1, 1])
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
