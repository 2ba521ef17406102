"""Adagrad (Duchi, Hazan & Singer, 2011), with PyTorch's update rule."""

from __future__ import annotations

__all__ = ["Adagrad"]

from collections.abc import Iterable
from typing import Any

from .. import functions as fn
from ..tensor import Tensor
from .optimizer import Optimizer, check_non_negative, lr_for, next_step, scalar_like


class Adagrad(Optimizer):
    """PyTorch's Adagrad: for each parameter ``p`` with gradient ``g`` (``-g`` when
    ``maximize``), at step ``t``:

    ``g += weight_decay * p``; ``sum += g**2``;
    ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)``.

    As in PyTorch, each parameter's state (``step``, a 0-d Tensor, and ``sum``, starting at
    ``initial_accumulator_value``) exists from construction on.

    Raises:
        ValueError: a negative ``lr``, ``lr_decay``, ``weight_decay``,
            ``initial_accumulator_value`` or ``eps``.

    Example:
        >>> import dualgrad
        >>> w = dualgrad.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = dualgrad.optim.Adagrad([w], lr=0.5)
        >>> (w ** 2).sum().backward()
        >>> opt.step()
        >>> w
        tensor([ 0.5000, -1.5000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
    ) -> None:
        check_non_negative(
            {
                "lr_decay value": lr_decay,
                "weight_decay value": weight_decay,
                "initial_accumulator_value": initial_accumulator_value,
                "epsilon value": eps,
            }
        )
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {
                    "step": scalar_like(p, 0),
                    "sum": fn.full_like(p.detach(), group["initial_accumulator_value"]),
                }

    def _update(
        self, p: Tensor, group: dict[str, Any], state: dict[str, Any]
    ) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        g = -p.grad if group["maximize"] else p.grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        step = next_step(p, state)
        lr = lr_for(p, group)
        if group["lr_decay"] != 0:
            lr = lr / (1 + (step - 1) * group["lr_decay"])
        square_sum = state["sum"] + g * g
        update = lr * (g / (fn.sqrt(square_sum) + group["eps"]))
        return p, update, {"step": step, "sum": square_sum}
