"""Loss layers: thin Modules over ``dualgrad.nn.functional``'s losses."""

from __future__ import annotations

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "SmoothL1Loss",
]

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


def _legacy(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """The reduction, with PyTorch's deprecated ``size_average`` and ``reduce`` taking over
    when given (the functional forms' rule)."""
    if size_average is None and reduce is None:
        return _checked(reduction)
    return F._reduction(size_average, reduce, reduction)


class NLLLoss(Module):
    """Negative log-likelihood of class indices given log-probabilities, as
    ``dualgrad.nn.functional.nll_loss`` (``weight`` is kept as a buffer).

    Raises:
        ValueError: an unknown reduction.

    Example:
        >>> import dualgrad
        >>> log_probs = dualgrad.log(dualgrad.tensor([[0.25, 0.75]]))
        >>> dualgrad.nn.NLLLoss()(log_probs, dualgrad.tensor([1]))
        tensor(0.2877)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = _legacy(size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class BCELoss(Module):
    """Binary cross entropy of probabilities, as ``dualgrad.nn.functional.binary_cross_entropy``
    (logs clamped at -100; ``weight`` is kept as a buffer).

    Raises:
        ValueError: an unknown reduction.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.reduction = _legacy(size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(Module):
    """Binary cross entropy of ``sigmoid(input)``, computed from the logits without overflow, as
    ``dualgrad.nn.functional.binary_cross_entropy_with_logits`` (``weight`` and ``pos_weight``
    are kept as buffers).

    Raises:
        ValueError: an unknown reduction.

    Example:
        >>> import dualgrad
        >>> loss = dualgrad.nn.BCEWithLogitsLoss()
        >>> loss(dualgrad.tensor([0.0, 100.0]), dualgrad.tensor([1.0, 1.0]))
        tensor(0.3466)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = _legacy(size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input,
            target,
            self.weight,
            pos_weight=self.pos_weight,
            reduction=self.reduction,
        )


class L1Loss(Module):
    """Mean absolute error ``|input - target|``, as ``dualgrad.nn.functional.l1_loss``.

    Raises:
        ValueError: an unknown reduction.
    """

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__()
        self.reduction = _legacy(size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(Module):
    """Squared error below ``beta``, absolute error above, as
    ``dualgrad.nn.functional.smooth_l1_loss``.

    Raises:
        ValueError: an unknown reduction.
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__()
        self.reduction = _legacy(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(Module):
    """Squared error below ``delta``, ``delta``-scaled absolute error above, as
    ``dualgrad.nn.functional.huber_loss``.

    Raises:
        ValueError: an unknown reduction.
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__()
        self.reduction = _checked(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(Module):
    """The Kullback-Leibler divergence of ``target`` from the log-probabilities ``input``, as
    ``dualgrad.nn.functional.kl_div`` (reduction ``'batchmean'`` gives the divergence per
    sample; ``'mean'``, the default as in PyTorch, averages over every element and warns).

    Raises:
        ValueError: an unknown reduction.
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = F._reduction(size_average, reduce, "mean")
        elif reduction not in (*_REDUCTIONS, "batchmean"):
            msg = (
                f"{reduction!r} is not a valid value for reduction; choose one of: none, "
                "batchmean, sum, mean"
            )
            raise ValueError(msg)
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
