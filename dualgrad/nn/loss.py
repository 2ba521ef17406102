"""Loss layers: thin Modules over ``dualgrad.nn.functional``'s losses."""

from __future__ import annotations

__all__ = ["CrossEntropyLoss", "MSELoss"]

from ..tensor import Tensor
from . import functional as F
from .module import Module

_REDUCTIONS = ("none", "mean", "sum")


def _checked(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        msg = f"{reduction!r} is not a valid value for reduction; choose one of: none, mean, sum"
        raise ValueError(msg)
    return reduction


class MSELoss(Module):
    """Mean squared error ``(input - target) ** 2``, reduced by ``'mean'``, ``'sum'`` or
    ``'none'``.

    Raises:
        ValueError: an unknown reduction.

    Example:
        >>> import dualgrad
        >>> dualgrad.nn.MSELoss()(dualgrad.tensor([1.0, 3.0]), dualgrad.tensor([0.0, 1.0]))
        tensor(2.5000)
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _checked(reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(Module):
    """Cross entropy between logits ``(N, C)`` (or ``(C,)``, ``(N, C, d1, ...)``) and class
    indices or class probabilities, as ``dualgrad.nn.functional.cross_entropy``.

    Args:
        weight: one weight per class (kept as a buffer, so ``state_dict`` saves it).
        ignore_index: class-index targets equal to it count for nothing.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        label_smoothing: in [0, 1]: mix the target with the uniform distribution.

    Raises:
        ValueError: an unknown reduction, or ``label_smoothing`` outside [0, 1].

    Example:
        >>> import dualgrad
        >>> loss = dualgrad.nn.CrossEntropyLoss()
        >>> loss(dualgrad.tensor([[0.0, 0.0]]), dualgrad.tensor([1]))
        tensor(0.6931)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0.0 <= label_smoothing <= 1.0:
            msg = f"label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
            raise ValueError(msg)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = _checked(reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )
