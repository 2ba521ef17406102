"""RMSprop (Hinton's lecture 6e; centered: Graves, 2013), with PyTorch's update rule."""

from __future__ import annotations

__all__ = ["RMSprop"]

from collections.abc import Iterable
from typing import Any

from ..functions.elementwise import sqrt
from ..tensor import Tensor
from .optimizer import Optimizer, check_non_negative, lr_for, next_step, state_tensor


class RMSprop(Optimizer):
    """PyTorch's RMSprop: for each parameter ``p`` with gradient ``g`` (``-g`` when
    ``maximize``):

    ``g += weight_decay * p``; ``v = alpha * v + (1 - alpha) * g**2``; centered:
    ``a = alpha * a + (1 - alpha) * g`` and ``d = sqrt(v - a**2) + eps``, else
    ``d = sqrt(v) + eps``; with momentum ``b = momentum * b + g / d`` and ``p -= lr * b``,
    else ``p -= lr * g / d``.

    The state of each parameter holds ``step``, ``square_avg``, and ``momentum_buffer``
    (momentum > 0) and ``grad_avg`` (centered).

    Raises:
        ValueError: a negative ``lr``, ``alpha``, ``eps``, ``momentum`` or ``weight_decay``.

    Example:
        >>> import dualgrad
        >>> w = dualgrad.tensor([1.0], requires_grad=True)
        >>> opt = dualgrad.optim.RMSprop([w], lr=0.01, alpha=0.75)
        >>> (w ** 2).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.9800], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_non_negative(
            {
                "alpha value": alpha,
                "epsilon value": eps,
                "momentum value": momentum,
                "weight_decay value": weight_decay,
            }
        )
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(
        self, p: Tensor, group: dict[str, Any], state: dict[str, Any]
    ) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        lr, alpha, eps = lr_for(p, group), group["alpha"], group["eps"]
        momentum = group["momentum"]
        g = -p.grad if group["maximize"] else p.grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        square_avg = state_tensor(p, state, "square_avg") * alpha + (1 - alpha) * g * g
        new_state = {"step": next_step(p, state), "square_avg": square_avg}
        if group["centered"]:
            grad_avg = state_tensor(p, state, "grad_avg")
            grad_avg = grad_avg + (g - grad_avg) * (1 - alpha)  # PyTorch's lerp
            new_state["grad_avg"] = grad_avg
            denominator = sqrt(square_avg - grad_avg * grad_avg) + eps
        else:
            denominator = sqrt(square_avg) + eps
        if momentum > 0:
            buffer = state_tensor(p, state, "momentum_buffer") * momentum + g / denominator
            new_state["momentum_buffer"] = buffer
            return p, lr * buffer, new_state
        return p, lr * (g / denominator), new_state
