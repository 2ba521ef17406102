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

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "MultiStepLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "StepLR",
]

import bisect
import math
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, set_lr


class LRScheduler:
    """Base class: keeps ``last_epoch`` and sets every group's lr to what ``get_lr()`` gives:
    by default ``lr_at(base_lr, epoch)``, which a closed-form schedule defines.

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

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The learning rate at ``epoch`` of a group that started at ``base_lr``."""
        msg = f"{type(self).__name__} defines neither lr_at(base_lr, epoch) nor get_lr()"
        raise NotImplementedError(msg)

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
            self._write_lr(group, lr)
        self._last_lr = lrs

    def _write_lr(self, group: dict[str, Any], lr: float) -> None:
        """Set a group's lr, warning when a compiled step keeps an old float lr."""
        if self._changes_a_compiled_float_lr(group["lr"], lr):
            _warn_compiled_float_lr(group["lr"], lr)
        set_lr(group, lr)

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


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)``, with one function for every group or a list of
    one per group.

    ``state_dict()`` saves the functions' state only for callable objects (their
    ``__dict__``); plain functions and lambdas are code, and are not saved, as in PyTorch.

    Raises:
        ValueError: a list whose length is not the number of groups.

    Example:
        >>> import dualgrad
        >>> w = dualgrad.tensor(1.0, requires_grad=True)
        >>> opt = dualgrad.optim.SGD([w], lr=1.0)
        >>> sched = dualgrad.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.5 ** epoch)
        >>> sched.step()
        >>> sched.get_last_lr()
        [0.5]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if isinstance(lr_lambda, list | tuple):
            if len(lr_lambda) != groups:
                msg = f"Expected {groups} lr_lambdas, but got {len(lr_lambda)}"
                raise ValueError(msg)
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            base_lr * lr_lambda(self.last_epoch)
            for lr_lambda, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)
        ]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer, with the callable objects' state in ``lr_lambdas``
        (None for functions)."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
            for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` returned (callable objects get their state back)."""
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict(state)
        for fn, fn_state in zip(self.lr_lambdas, saved, strict=True):
            if fn_state is not None:
                fn.__dict__.update(fn_state)


class MultiStepLR(LRScheduler):
    """``lr = base_lr * gamma ** (number of milestones <= epoch)``: decay by ``gamma`` at each
    milestone (a milestone listed twice decays twice).

    Raises:
        ValueError: milestones that are not ints.

    Example:
        >>> import dualgrad
        >>> w = dualgrad.tensor(1.0, requires_grad=True)
        >>> opt = dualgrad.optim.SGD([w], lr=1.0)
        >>> sched = dualgrad.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.1)
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(sched.get_last_lr()[0])
        ...     sched.step()
        >>> lrs
        [1.0, 1.0, 0.1, 0.1, 0.010000000000000002]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Sequence[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        if not all(isinstance(m, int) for m in milestones):
            msg = f"MultiStepLR: milestones must be ints, got {list(milestones)!r}"
            raise ValueError(msg)
        self.milestones = sorted(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """``lr = base_lr * gamma ** epoch``: decay by ``gamma`` every epoch.

    Example:
        >>> import dualgrad
        >>> w = dualgrad.tensor(1.0, requires_grad=True)
        >>> opt = dualgrad.optim.SGD([w], lr=1.0)
        >>> sched = dualgrad.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        >>> sched.step(); sched.step()
        >>> sched.get_last_lr()
        [0.25]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma**epoch


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """``value`` for each parameter group: a list of one per group, or one for all."""
    groups = len(optimizer.param_groups)
    if isinstance(value, list | tuple):
        if len(value) != groups:
            msg = f"expected {groups} values for {name}, got {len(value)}"
            raise ValueError(msg)
        return list(value)
    return [value] * groups


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` when a metric has not improved for ``patience`` epochs,
    as PyTorch's: ``step(metric)`` once per epoch, with the validation loss, say.

    Args:
        optimizer: the optimizer whose groups' lr it lowers.
        mode: ``"min"`` (the metric should fall) or ``"max"``.
        factor: the lr's multiplier, below 1.
        patience: epochs without improvement tolerated before lowering the lr.
        threshold: how much better counts as an improvement, relative to the best (``"rel"``:
            ``best * (1 - threshold)`` in min mode) or absolute (``"abs"``: ``best - threshold``).
        threshold_mode: ``"rel"`` or ``"abs"``.
        cooldown: epochs after a reduction during which bad epochs are not counted.
        min_lr: the lowest lr, for all groups or a list of one per group.
        eps: a reduction smaller than this is skipped.

    Raises:
        ValueError: ``factor >= 1``, an unknown mode or threshold mode, or a ``min_lr`` list of
            the wrong length.

    Example:
        >>> import dualgrad
        >>> w = dualgrad.tensor(1.0, requires_grad=True)
        >>> opt = dualgrad.optim.SGD([w], lr=1.0)
        >>> sched = dualgrad.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
        >>> for loss in [3.0, 2.0, 2.0, 2.0, 1.0]:
        ...     sched.step(loss)
        >>> sched.get_last_lr()
        [0.5]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        if factor >= 1.0:
            msg = f"ReduceLROnPlateau: factor should be < 1.0, got {factor}"
            raise ValueError(msg)
        if not isinstance(optimizer, Optimizer):
            msg = f"{type(optimizer).__name__} is not an Optimizer"
            raise TypeError(msg)
        self.factor = factor
        self.optimizer = optimizer
        self.default_min_lr = None if isinstance(min_lr, list | tuple) else min_lr
        self.min_lrs = _per_group("min_lr", optimizer, min_lr)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = [_as_float(group["lr"]) for group in optimizer.param_groups]
        self._check_mode(mode, threshold_mode)
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @staticmethod
    def _check_mode(mode: str, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            msg = f"ReduceLROnPlateau: mode {mode!r} is unknown; use 'min' or 'max'"
            raise ValueError(msg)
        if threshold_mode not in ("rel", "abs"):
            msg = (
                f"ReduceLROnPlateau: threshold mode {threshold_mode!r} is unknown; use 'rel' or "
                "'abs'"
            )
            raise ValueError(msg)

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        """Count one epoch with this value of the metric (a number or a 0-d Tensor), lowering
        the lr if it has not improved for ``patience`` epochs."""
        current = float(metrics)
        if epoch is not None:
            warnings.warn(
                "ReduceLROnPlateau.step: the epoch argument is deprecated, as in PyTorch",
                UserWarning,
                stacklevel=2,
            )
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [_as_float(group["lr"]) for group in self.optimizer.param_groups]

    @property
    def in_cooldown(self) -> bool:
        """Whether bad epochs are being ignored after a reduction."""
        return self.cooldown_counter > 0

    def _is_better(self, value: float) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return value < self.best * (1.0 - self.threshold)
            return value < self.best - self.threshold
        if self.threshold_mode == "rel":
            return value > self.best * (self.threshold + 1.0)
        return value > self.best + self.threshold

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                msg = (
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups, "
                    f"min_lr lists {len(self.min_lrs)}; set min_lrs to one per group"
                )
                raise RuntimeError(msg)
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs, strict=True):
            old = _as_float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                self._write_lr(group, new)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` returned.

        Raises:
            ValueError: an unknown mode or threshold mode in it.
        """
        self._check_mode(
            state_dict.get("mode", self.mode),
            state_dict.get("threshold_mode", self.threshold_mode),
        )
        self.__dict__.update(state_dict)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2017), as PyTorch's: the lr climbs from
    ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start`` of ``total_steps``, then
    anneals to ``initial_lr / final_div_factor``; momentum (or Adam's beta1) moves the other
    way between ``max_momentum`` and ``base_momentum``. Call ``step()`` after every batch.

    Args:
        optimizer: the optimizer (it must have momentum or betas if ``cycle_momentum``).
        max_lr: the peak lr, for all groups or one per group.
        total_steps: the steps of the cycle, or give ``epochs`` and ``steps_per_epoch``.
        pct_start: the fraction of the cycle spent climbing, a float in [0, 1].
        anneal_strategy: ``"cos"`` or ``"linear"``.
        cycle_momentum: cycle the momentum too.
        base_momentum, max_momentum: its range, for all groups or one per group.
        div_factor: ``initial_lr = max_lr / div_factor``.
        final_div_factor: ``min_lr = initial_lr / final_div_factor``.
        three_phase: climb, come back down to ``initial_lr`` symmetrically, then anneal to
            ``min_lr`` (the original paper's schedule).
        last_epoch: the last step taken, to resume.

    Raises:
        ValueError: no way to know the total steps, non-positive counts, ``pct_start`` outside
            [0, 1], an unknown strategy, an optimizer without momentum when cycling it, or
            (in ``step``) stepping past ``total_steps``.

    Example:
        >>> import dualgrad
        >>> w = dualgrad.tensor(1.0, requires_grad=True)
        >>> opt = dualgrad.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> sched = dualgrad.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
        >>> lrs = []
        >>> for _ in range(10):
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        ...     opt.step()
        ...     sched.step()
        >>> lrs[0], max(lrs), lrs[-1]
        (0.04, 1.0, 0.0)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            msg = f"{type(optimizer).__name__} is not an Optimizer"
            raise TypeError(msg)
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            msg = f"Expected float between 0 and 1 pct_start, but got {pct_start!r}"
            raise ValueError(msg)
        if anneal_strategy not in ("cos", "linear"):
            msg = (
                f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                f"{anneal_strategy!r}"
            )
            raise ValueError(msg)
        self._anneal_func_type = anneal_strategy
        up = float(pct_start * self.total_steps) - 1
        if three_phase:
            phases = [
                (up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                 "base_momentum", "max_momentum"),
                (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]  # fmt: skip
        else:
            phases = [
                (up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        keys = ("end_step", "start_lr", "end_lr", "start_momentum", "end_momentum")
        self._schedule_phases = [dict(zip(keys, phase, strict=True)) for phase in phases]
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for peak, group in zip(max_lrs, optimizer.param_groups, strict=True):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                msg = (
                    "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"
                )
                raise ValueError(msg)
            self.use_beta1 = "betas" in optimizer.defaults
            highs = _per_group("max_momentum", optimizer, max_momentum)
            lows = _per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for high, low, group in zip(highs, lows, optimizer.param_groups, strict=True):
                    self._set_momentum(group, high)
                    group["max_momentum"] = high
                    group["base_momentum"] = low
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        """Each group's lr at the current step (and, with ``cycle_momentum``, its momentum is
        set, as PyTorch's does here).

        Raises:
            ValueError: the step is past ``total_steps``.
        """
        step = self.last_epoch
        if step > self.total_steps:
            msg = (
                f"Tried to step {step} times. The specified number of total steps is "
                f"{self.total_steps}"
            )
            raise ValueError(msg)
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for number, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step <= end_step or number == len(self._schedule_phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        momentum = self._anneal(
                            group[phase["start_momentum"]], group[phase["end_momentum"]], pct
                        )
                        self._set_momentum(group, momentum)
                    break
                start_step = phase["end_step"]
        return lrs


def _total_steps(total_steps: int | None, epochs: int | None, steps_per_epoch: int | None) -> int:
    if total_steps is not None:
        if not isinstance(total_steps, int) or total_steps <= 0:
            msg = f"Expected positive integer total_steps, but got {total_steps!r}"
            raise ValueError(msg)
        return total_steps
    if epochs is None or steps_per_epoch is None:
        msg = "You must define either total_steps OR (epochs AND steps_per_epoch)"
        raise ValueError(msg)
    for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
        if not isinstance(value, int) or value <= 0:
            msg = f"Expected positive integer {name}, but got {value!r}"
            raise ValueError(msg)
    return epochs * steps_per_epoch
