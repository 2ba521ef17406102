"""Convolution layers: ``Conv1d`` and ``Conv2d``, over ``dualgrad.nn.functional``'s
``conv1d`` and ``conv2d``."""

from __future__ import annotations

__all__ = ["Conv1d", "Conv2d"]

import math
from typing import Any

from ..functions import creation as _creation
from ..tensor import Tensor
from . import functional as F
from . import init
from ._args import ntuple
from .module import Module
from .parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d and Conv2d share: options, parameters, initialisation and repr."""

    _spatial = 0  # how many spatial axes

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name, n = type(self).__name__, self._spatial
        if groups <= 0:
            msg = f"{name}: groups must be a positive integer, got {groups}"
            raise ValueError(msg)
        if in_channels % groups or out_channels % groups:
            msg = (
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                f"both be divisible by groups ({groups})"
            )
            raise ValueError(msg)
        if padding_mode not in _PADDING_MODES:
            msg = f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}"
            raise ValueError(msg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", name, minimum=1)
        self.stride = ntuple(stride, n, "stride", name, minimum=1)
        self.dilation = ntuple(dilation, n, "dilation", name, minimum=1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                msg = (
                    f"{name}: padding must be 'same', 'valid', an int or a tuple, got {padding!r}"
                )
                raise ValueError(msg)
            if padding == "same" and any(s != 1 for s in self.stride):
                msg = f"{name}: padding='same' is not supported for strided convolutions"
                raise ValueError(msg)
            self.padding: Any = padding
        else:
            self.padding = ntuple(padding, n, "padding", name)
        self.groups = groups
        self.padding_mode = padding_mode
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(_creation.empty(*shape, dtype=dtype, device=device))
        self.bias = (
            Parameter(_creation.empty(out_channels, dtype=dtype, device=device)) if bias else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weight and bias anew as PyTorch does: ``kaiming_uniform_(a=sqrt(5))`` and
        uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _explicit_padding(self) -> tuple[int, ...]:
        """The padding as ``F.pad`` counts: (before, after) for the last axis first."""
        counts: list[int] = []
        for k, d, p in zip(
            reversed(self.kernel_size),
            reversed(self.dilation),
            reversed(self._padding_per_axis()),
            strict=True,
        ):
            if p is None:  # 'same': any odd one out goes at the end, as in PyTorch
                total = d * (k - 1)
                counts += [total // 2, total - total // 2]
            else:
                counts += [p, p]
        return tuple(counts)

    def _padding_per_axis(self) -> tuple[int | None, ...]:
        if self.padding == "valid":
            return (0,) * self._spatial
        if self.padding == "same":
            return (None,) * self._spatial
        return self.padding

    def _convolve(self, input: Tensor, conv: Any) -> Tensor:
        if self.padding_mode == "zeros":
            return conv(
                input,
                self.weight,
                self.bias,
                self.stride,
                self.padding,
                self.dilation,
                self.groups,
            )
        padded = F.pad(input, self._explicit_padding(), mode=self.padding_mode)
        return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def extra_repr(self) -> str:
        n = self._spatial
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * n:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv2d(_ConvNd):
    """A 2-d convolution over ``(N, C, H, W)`` (or ``(C, H, W)``) images, as
    ``torch.nn.Conv2d``: the weight is ``(out_channels, in_channels / groups, kh, kw)``, drawn
    as PyTorch draws it.

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size, stride, dilation: ints or (rows, columns).
        padding: an int, a pair, ``"valid"`` or ``"same"``.
        groups: independent convolutions over as many slices of the channels.
        bias: add a learned bias per output channel.
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        dtype: the parameters' dtype (default: ``dualgrad.get_default_dtype()``).

    Raises:
        ValueError: options that do not fit.

    Example:
        >>> import dualgrad
        >>> conv = dualgrad.nn.Conv2d(3, 8, 3, padding=1)
        >>> conv
        Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
        >>> conv(dualgrad.ones(2, 3, 5, 5)).shape
        torch.Size([2, 8, 5, 5])
    """

    _spatial = 2

    def forward(self, input: Tensor) -> Tensor:
        return self._convolve(input, F.conv2d)


class Conv1d(_ConvNd):
    """A 1-d convolution over ``(N, C, L)`` (or ``(C, L)``) sequences, as ``torch.nn.Conv1d``:
    the weight is ``(out_channels, in_channels / groups, k)``; options as ``Conv2d``, with ints.

    Example:
        >>> import dualgrad
        >>> conv = dualgrad.nn.Conv1d(4, 2, 3, stride=2)
        >>> conv
        Conv1d(4, 2, kernel_size=(3,), stride=(2,))
        >>> conv(dualgrad.ones(1, 4, 9)).shape
        torch.Size([1, 2, 4])
    """

    _spatial = 1

    def forward(self, input: Tensor) -> Tensor:
        return self._convolve(input, F.conv1d)
