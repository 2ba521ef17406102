"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), with PyTorch's update rule."""

from __future__ import annotations

__all__ = ["Adam", "AdamW"]

import math
from collections.abc import Iterable
from typing import Any

from ..functions.elementwise import expm1, maximum, sqrt
from ..tensor import Tensor
from .optimizer import Optimizer, check_non_negative, lr_for, next_step, state_tensor


def _bias_correction(beta: float, step: Tensor) -> Any:
    """``1 - beta**step``, as ``-expm1(step * log(beta))``: computed in the parameter's dtype,
    ``1 - 0.999**step`` would lose most of its digits to cancellation in float32."""
    if beta == 0.0:
        return 1.0
    return -expm1(step * math.log(beta))


class Adam(Optimizer):
    """PyTorch's Adam: for each parameter ``p`` with gradient ``g`` (``-g`` when ``maximize``),
    at step ``t``:

    ``g += weight_decay * p``; ``m = beta1 * m + (1 - beta1) * g``;
    ``v = beta2 * v + (1 - beta2) * g**2``; with ``amsgrad``, ``v_max = max(v_max, v)`` replaces
    ``v`` below; ``p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``.

    The state of each parameter holds ``step`` (a 0-d Tensor), ``exp_avg``, ``exp_avg_sq`` and,
    with ``amsgrad``, ``max_exp_avg_sq``.

    Raises:
        ValueError: a negative ``lr``, ``eps`` or ``weight_decay``, or a beta outside [0, 1).

    Example:
        >>> import dualgrad
        >>> w = dualgrad.tensor([1.0, -1.0], requires_grad=True)
        >>> opt = dualgrad.optim.Adam([w], lr=0.1)
        >>> (w ** 2).sum().backward()
        >>> opt.step()
        >>> w
        tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    _decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_non_negative({"epsilon value": eps, "weight_decay value": weight_decay})
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                msg = f"Invalid beta parameter at index {index}: {beta}; it must be in [0, 1)"
                raise ValueError(msg)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(
        self, p: Tensor, group: dict[str, Any], state: dict[str, Any]
    ) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        lr, (beta1, beta2), eps = lr_for(p, group), group["betas"], group["eps"]
        weight_decay = group["weight_decay"]
        g = -p.grad if group["maximize"] else p.grad
        if weight_decay != 0 and not self._decoupled_weight_decay:
            g = g + weight_decay * p
        step = next_step(p, state)
        exp_avg = state_tensor(p, state, "exp_avg")
        exp_avg = exp_avg + (g - exp_avg) * (1 - beta1)  # PyTorch's lerp
        exp_avg_sq = state_tensor(p, state, "exp_avg_sq") * beta2 + (1 - beta2) * g * g
        new_state = {"step": step, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
        second_moment = exp_avg_sq
        if group["amsgrad"]:
            second_moment = maximum(state_tensor(p, state, "max_exp_avg_sq"), exp_avg_sq)
            new_state["max_exp_avg_sq"] = second_moment
        denominator = sqrt(second_moment) / sqrt(_bias_correction(beta2, step)) + eps
        update = exp_avg / denominator * (lr / _bias_correction(beta1, step))
        if weight_decay != 0 and self._decoupled_weight_decay:
            update = update + (lr * weight_decay) * p
        return p, update, new_state


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p -= lr * weight_decay * p`` each step, apart from
    the gradient (so the decay is not rescaled by the moments). Defaults as PyTorch's,
    ``weight_decay=0.01``; otherwise as ``Adam``.

    Raises:
        ValueError: a negative ``lr``, ``eps`` or ``weight_decay``, or a beta outside [0, 1).
    """

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
