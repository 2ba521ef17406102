"""The optimizer base class: parameter groups, per-parameter state, ``zero_grad``."""

from __future__ import annotations

__all__ = ["Optimizer", "zero_grads"]

import abc
from collections.abc import Iterable
from typing import Any

from ..tensor import Tensor


def zero_grads(params: Iterable[Tensor], set_to_none: bool) -> None:
    """Reset each tensor's gradient: to None, or to zeros cut from any graph."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad.detach_()
            p.grad.zero_()


class Optimizer(abc.ABC):
    """Holds parameter groups (dicts with ``"params"`` and the hyper-parameters) and state.

    Args:
        params: tensors, or dicts each with a ``"params"`` list and per-group options.
        defaults: the options a group gets when it does not set them.

    Raises:
        ValueError: no parameters, or a parameter given twice.
        TypeError: a parameter that is not a leaf Tensor.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            msg = (
                f"{type(self).__name__} got an empty parameter list; pass the tensors to "
                "optimize, e.g. model.parameters() or [w, b]"
            )
            raise ValueError(msg)
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (the defaults fill the rest)."""
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                msg = f"{type(self).__name__} can only optimize Tensors, got {type(p).__name__}"
                raise TypeError(msg)
            if not p.is_leaf:
                msg = (
                    f"{type(self).__name__} can only optimize leaf tensors, got one with "
                    f"grad_fn={p.grad_fn.name()}; pass the tensor before any operation"
                )
                raise ValueError(msg)
            if id(p) in seen:
                msg = (
                    f"{type(self).__name__}: a parameter of shape {p.shape} appears more than "
                    "once; pass each tensor once"
                )
                raise ValueError(msg)
            seen.add(id(p))
        self.param_groups.append({**self.defaults, **group, "params": params})

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter: to None (default), or to zeros."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    @abc.abstractmethod
    def step(self) -> None:
        """Update every parameter from its gradient."""

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state and options, with parameters referred to by position."""
        index = {id(p): i for i, p in enumerate(p for g in self.param_groups for p in g["params"])}
        return {
            "state": {index[id(p)]: dict(s) for p, s in self.state.items()},
            "param_groups": [
                {
                    **{k: v for k, v in g.items() if k != "params"},
                    "params": [index[id(p)] for p in g["params"]],
                }
                for g in self.param_groups
            ],
        }
