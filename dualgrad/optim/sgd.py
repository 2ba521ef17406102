"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

__all__ = ["SGD"]

from collections.abc import Iterable
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, check_non_negative, lr_for


class SGD(Optimizer):
    """PyTorch's SGD: for each parameter ``p`` with gradient ``g``,

    ``g += weight_decay * p``; with momentum ``b = momentum * b + (1 - dampening) * g`` (``b = g``
    on the first step) and ``g = g + momentum * b`` (Nesterov) or ``g = b``; then
    ``p -= lr * g`` (``+=`` when ``maximize``).

    Raises:
        ValueError: a negative ``lr``, ``momentum`` or ``weight_decay``, or Nesterov without
            momentum or with dampening.

    Example:
        >>> import dualgrad
        >>> w = dualgrad.tensor(1.0, requires_grad=True)
        >>> opt = dualgrad.optim.SGD([w], lr=0.1)
        >>> (w ** 2).backward()
        >>> opt.step()
        >>> w
        tensor(0.8000, requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_non_negative({"momentum value": momentum, "weight_decay value": weight_decay})
        if nesterov and (momentum <= 0 or dampening != 0):
            msg = (
                "Nesterov momentum requires a momentum and zero dampening, got "
                f"momentum={momentum}, dampening={dampening}; set momentum > 0 and dampening=0"
            )
            raise ValueError(msg)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(
        self, p: Tensor, group: dict[str, Any], state: dict[str, Any]
    ) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        direction, buffer, lr = self._direction(p, group)
        return p, lr * direction, {} if buffer is None else {"momentum_buffer": buffer}

    def _direction(self, p: Any, group: dict[str, Any]) -> tuple[Any, Any, Any]:
        g = -p.grad if group["maximize"] else p.grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        buffer = None
        momentum = group["momentum"]
        if momentum != 0:
            previous = self.state.get(p, {}).get("momentum_buffer")
            buffer = (
                g._detached()
                if previous is None
                else momentum * previous + (1 - group["dampening"]) * g
            )
            g = g + momentum * buffer if group["nesterov"] else buffer
        return g, buffer, lr_for(p, group)
