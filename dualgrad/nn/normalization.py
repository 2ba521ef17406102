"""Normalization layers: ``LayerNorm``, ``GroupNorm``, ``BatchNorm1d`` and ``BatchNorm2d``,
over ``dualgrad.nn.functional``'s ``layer_norm``, ``group_norm`` and ``batch_norm``."""

from __future__ import annotations

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm"]

from typing import Any

from .._dtypes import int64
from ..autograd.grad_mode import no_grad
from ..functions import creation as _creation
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class _AffineNorm(Module):
    """A normalization followed by a learned elementwise scale and shift (``weight`` from 1,
    ``bias`` from 0): what ``LayerNorm`` and ``GroupNorm`` share."""

    def _affine_parameters(
        self, shape: tuple[int, ...], learned: bool, bias: bool, device: Any, dtype: Any
    ) -> None:
        if learned:
            self.weight = Parameter(_creation.ones(shape, dtype=dtype, device=device))
            self.bias = (
                Parameter(_creation.zeros(shape, dtype=dtype, device=device)) if bias else None
            )
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Weight back to 1 and bias to 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


class LayerNorm(_AffineNorm):
    """Normalize over the trailing ``normalized_shape`` axes of each sample, then scale and
    shift elementwise, as ``torch.nn.LayerNorm`` (Ba et al., 2016).

    Args:
        normalized_shape: an int or a tuple: the trailing axes.
        eps: added to the variance.
        elementwise_affine: learn a weight (starting at 1) and a bias (at 0) of that shape.
        bias: with ``elementwise_affine``, learn the bias too.
        dtype: the parameters' dtype.

    Example:
        >>> import dualgrad
        >>> norm = dualgrad.nn.LayerNorm(4)
        >>> norm
        LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)
        >>> norm(dualgrad.tensor([[1.0, 2.0, 3.0, 4.0]]))
        tensor([[-1.3416, -0.4472,  0.4472,  1.3416]],
               grad_fn=<NativeLayerNormBackward0>)
    """

    def __init__(
        self,
        normalized_shape: Any,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._affine_parameters(self.normalized_shape, elementwise_affine, bias, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(_AffineNorm):
    """Normalize each sample's channels in ``num_groups`` groups, then scale and shift per
    channel, as ``torch.nn.GroupNorm`` (Wu & He, 2018); the same in training and evaluation.

    Args:
        num_groups: how many groups the channels split into.
        num_channels: C, of inputs ``(N, C, ...)``; divisible by ``num_groups``.
        eps: added to the variance.
        affine: learn a per-channel weight (starting at 1) and bias (at 0).
        dtype: the parameters' dtype.
        bias: with ``affine``, learn the bias too.

    Raises:
        ValueError: ``num_channels`` not divisible by ``num_groups``.

    Example:
        >>> import dualgrad
        >>> norm = dualgrad.nn.GroupNorm(2, 4)
        >>> norm
        GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)
        >>> norm(dualgrad.randn(3, 4, 5)).shape
        torch.Size([3, 4, 5])
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            msg = f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            raise ValueError(msg)
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self._affine_parameters((num_channels,), affine, bias, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share (they differ only in the inputs they accept)."""

    _input_ndims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(_creation.ones(num_features, dtype=dtype, device=device))
            self.bias = (
                Parameter(_creation.zeros(num_features, dtype=dtype, device=device))
                if bias
                else None
            )
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer(
                "running_mean", _creation.zeros(num_features, dtype=dtype, device=device)
            )
            self.register_buffer(
                "running_var", _creation.ones(num_features, dtype=dtype, device=device)
            )
            self.register_buffer(
                "num_batches_tracked", _creation.zeros((), dtype=int64, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """The running statistics reset, weight back to 1 and bias to 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor) or input.ndim not in self._input_ndims:
            ndim = input.ndim if isinstance(input, Tensor) else type(input).__name__
            wanted = " or ".join(f"{n}D" for n in self._input_ndims)
            msg = f"{type(self).__name__}: expected {wanted} input (got {ndim}D input)"
            raise ValueError(msg)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        uses_batch = self.training or self.running_mean is None
        tracked = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if tracked else None,
            self.running_var if tracked else None,
            self.weight,
            self.bias,
            uses_batch,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of ``(N, C)`` or ``(N, C, L)`` inputs over the batch (and length)
    per channel, as ``torch.nn.BatchNorm1d`` (Ioffe & Szegedy, 2015).

    In training mode the batch's statistics normalize and the running statistics (buffers, in
    ``state_dict``) follow them with ``momentum`` (None: a cumulative average); ``eval()``
    normalizes with the running statistics. ``track_running_stats=False`` keeps none and always
    uses the batch's.

    Args:
        num_features: C.
        eps: added to the variance.
        momentum: the batch's weight in the running statistics, or None.
        affine: learn a per-channel weight (starting at 1) and bias (at 0).
        track_running_stats: keep running statistics.
        dtype: the parameters' and statistics' dtype.
        bias: with ``affine``, learn the bias too.

    Raises:
        ValueError: (when called) an input of another rank, or one value per channel in
            training.

    Example:
        >>> import dualgrad
        >>> norm = dualgrad.nn.BatchNorm1d(3)
        >>> norm
        BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
        >>> norm(dualgrad.randn(8, 3)).shape
        torch.Size([8, 3])
        >>> norm.num_batches_tracked
        tensor(1)
    """

    _input_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of ``(N, C, H, W)`` images per channel, as ``torch.nn.BatchNorm2d``;
    options and behaviour as ``BatchNorm1d``.

    Example:
        >>> import dualgrad
        >>> dualgrad.nn.BatchNorm2d(8)(dualgrad.randn(2, 8, 4, 4)).shape
        torch.Size([2, 8, 4, 4])
    """

    _input_ndims = (4,)
