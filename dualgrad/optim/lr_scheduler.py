"""Learning-rate schedulers, as ``torch.optim.lr_scheduler``: call ``step()`` once per epoch,
after ``optimizer.step()``; the scheduler writes each group's ``"lr"`` (a Tensor lr in place,
so that a step compiled by ``dualgrad.jit`` sees the change).

Example:
    >>> import dualgrad
    >>> w = dualgrad.tensor(1.0, requires_grad=True)
    >>> opt = dualgrad.optim.SGD([w], lr=1.0)
    >>> sched = dualgrad.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(sched.get_last_lr()[0])
    ...     opt.step()
    ...     sched.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

__all__ = ["CosineAnnealingLR", "LRScheduler", "StepLR"]

import abc
import math
import warnings
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, set_lr


class LRScheduler(abc.ABC):
    """Base class: keeps ``last_epoch`` and sets every group's lr to ``lr_at(base_lr, epoch)``.

    Each group's starting lr is kept in the group as ``"initial_lr"`` (as in PyTorch, so a
    scheduler resumed with ``last_epoch`` finds it), as a float also for a Tensor lr: the
    schedule and ``get_last_lr()`` are Python floats. Construction takes the first step, to
    epoch 0.

    Raises:
        TypeError: ``optimizer`` is not an Optimizer.
        KeyError: resuming (``last_epoch != -1``) with a group that has no ``"initial_lr"``.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            msg = f"{type(optimizer).__name__} is not an Optimizer"
            raise TypeError(msg)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _as_float(group["lr"]))
        else:
            for number, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    msg = (
                        f"param 'initial_lr' is not specified in param_groups[{number}] when "
                        "resuming; create the scheduler with last_epoch=-1 first"
                    )
                    raise KeyError(msg)
        self.base_lrs = [_as_float(group["initial_lr"]) for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    @abc.abstractmethod
    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The learning rate at ``epoch`` of a group that started at ``base_lr``."""

    def get_lr(self) -> list[float]:
        """Each group's learning rate at the current epoch."""
        return [self.lr_at(base_lr, self.last_epoch) for base_lr in self.base_lrs]

    def step(self) -> None:
        """Advance one epoch and write the new learning rates into the optimizer.

        Warns (UserWarning) when it changes a float lr that a step compiled by
        ``dualgrad.jit`` has read: that step keeps the old value; use a Tensor lr.
        """
        self.last_epoch += 1
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            if self._changes_a_compiled_float_lr(group["lr"], lr):
                _warn_compiled_float_lr(group["lr"], lr)
            set_lr(group, lr)
        self._last_lr = lrs

    def _changes_a_compiled_float_lr(self, old: float | Tensor, new: float) -> bool:
        compiled = self.optimizer._compiled_with_float_lr
        return compiled and not isinstance(old, Tensor) and old != new

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (save that with its own ``state_dict``)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` returned.

        Raises:
            KeyError: ``state_dict`` lacks ``last_epoch`` or ``base_lrs``.
        """
        missing = [key for key in ("last_epoch", "base_lrs") if key not in state_dict]
        if missing:
            msg = f"{type(self).__name__}.load_state_dict: missing {', '.join(missing)}"
            raise KeyError(msg)
        self.__dict__.update(state_dict)


def _as_float(lr: float | Tensor) -> float:
    """A Tensor lr as the shortest decimal its dtype rounds to it: ``tensor(0.1)`` in float32
    gives 0.1, the rate that was asked for, not 0.10000000149..., so the schedule and
    ``get_last_lr()`` are those of the float lr."""
    return float(str(lr.numpy())) if isinstance(lr, Tensor) else lr


def _warn_compiled_float_lr(old: float, new: float) -> None:
    msg = (
        f"the scheduler changes lr from {old} to {new}, but a step compiled by dualgrad.jit "
        "read the float lr as a constant and keeps using the old value; build the optimizer "
        "with a Tensor lr, e.g. lr=dualgrad.tensor(0.1), which the scheduler updates in place"
    )
    warnings.warn(msg, UserWarning, stacklevel=3)  # points at the caller of step()


class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (epoch // step_size)``: decay by ``gamma`` every
    ``step_size`` epochs.

    Raises:
        ValueError: ``step_size`` is not a positive int.
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if not isinstance(step_size, int) or step_size <= 0:
            msg = f"StepLR: step_size must be a positive int, got {step_size!r}"
            raise ValueError(msg)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``: half a
    cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` epochs (SGDR, Loshchilov & Hutter,
    2017, without restarts). Past ``T_max`` it climbs back, as PyTorch's does.

    PyTorch computes this recursively from the previous lr; the closed form used here gives the
    same values without accumulating rounding.

    Raises:
        ValueError: ``T_max`` is not a positive int.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if not isinstance(T_max, int) or T_max <= 0:
            msg = f"CosineAnnealingLR: T_max must be a positive int, got {T_max!r}"
            raise ValueError(msg)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (base_lr - self.eta_min) * cosine
