"""``Linear``: ``y = x @ weight.T + bias``."""

from __future__ import annotations

__all__ = ["Identity", "Linear", "NonDynamicallyQuantizableLinear"]

import math
from typing import Any

from ..functions.creation import empty
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """An affine map ``y = x @ weight.T + bias``, created on the active backend.

    The weight ``(out_features, in_features)`` and the bias ``(out_features,)`` start as in
    PyTorch: uniform on ``[-1/sqrt(in_features), 1/sqrt(in_features)]`` (``kaiming_uniform_``
    with ``a=sqrt(5)`` for the weight), from the backend's seeded generator.

    Args:
        in_features: size of each input's last axis.
        out_features: size of each output's last axis.
        bias: whether to add a learned bias.
        dtype: the parameters' dtype (default: ``dualgrad.get_default_dtype()``).

    Raises:
        ValueError: a negative size.

    Example:
        >>> import dualgrad
        >>> layer = dualgrad.nn.Linear(2, 3)
        >>> layer
        Linear(in_features=2, out_features=3, bias=True)
        >>> layer(dualgrad.ones(5, 2)).shape
        torch.Size([5, 3])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if in_features < 0 or out_features < 0:
            msg = (
                f"Linear needs sizes >= 0, got in_features={in_features}, "
                f"out_features={out_features}"
            )
            raise ValueError(msg)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        self.bias = Parameter(empty(out_features, dtype=dtype, device=device)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weight and bias anew, as the constructor does."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear`` under the name PyTorch gives ``MultiheadAttention.out_proj`` (it marks the
    layer for PyTorch's quantization tools); here only the name differs, so models print as
    PyTorch's."""
