"""The optimizer base class: parameter groups, per-parameter state, ``zero_grad``, state dicts,
and the all-or-nothing commit every ``step`` ends with."""

from __future__ import annotations

__all__ = ["Optimizer"]

import abc
import math
from collections.abc import Callable, Iterable
from typing import Any

from .. import _jit
from .._state import converted_like, zero_grads
from ..autograd.grad_mode import enable_grad, no_grad
from ..functions.creation import zeros_like
from ..tensor import Tensor


class Optimizer(abc.ABC):
    """Holds parameter groups (dicts with ``"params"`` and the hyper-parameters) and state.

    A group's ``"lr"`` is a Python float or, as in PyTorch, a 0-d floating Tensor on the
    parameters' backend. A Tensor lr is read by the step as a value, so a step compiled by
    ``dualgrad.jit`` follows it when a scheduler changes it in place; a float lr is a constant
    of the compiled step.

    Args:
        params: tensors, or dicts each with a ``"params"`` list and per-group options.
        defaults: the options a group gets when it does not set them.

    Raises:
        ValueError: no parameters, a parameter given twice, or a negative lr or a Tensor lr
            that is not 0-d.
        TypeError: a parameter that is not a leaf Tensor, or a Tensor lr that is not floating
            or not on the parameters' backend.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        # Set when dualgrad.jit traces a step that reads a float lr: a scheduler changing that
        # lr afterwards warns that the compiled step keeps the old value.
        self._compiled_with_float_lr = False
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

    def __repr__(self) -> str:
        # PyTorch's layout: each group's options in key order, the parameters left out.
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines += [""] if i else []  # a blank line between groups
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"

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
                    f"{type(self).__name__}: a parameter of "
                    f"shape {tuple(p.shape)} appears more than "
                    "once; pass each tensor once"
                )
                raise ValueError(msg)
            seen.add(id(p))
        group = {**self.defaults, **group, "params": params}
        check_lr(group["lr"], params)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter: to None (default), or to zeros."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step for every parameter that has a gradient, all or nothing.

        Args:
            closure: as in PyTorch, a function that clears the gradients, computes the loss,
                calls ``backward()`` and returns the loss; it runs first, with grad enabled.

        Returns:
            What ``closure`` returned, or None without one.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            updates = [
                self._update(p, group, self.state.get(p, {}))
                for group in self.param_groups
                for p in group["params"]
                if p.grad is not None
            ]
            self._commit(updates)
        return loss

    @abc.abstractmethod
    def _update(
        self, p: Tensor, group: dict[str, Any], state: dict[str, Any]
    ) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """``(p, update, new_state)`` for one parameter: ``p -= update``, then its new state."""

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state and options, with parameters referred to by position."""
        index = {id(p): i for i, p in enumerate(p for g in self.param_groups for p in g["params"])}
        return {
            "state": {index[id(p)]: dict(s) for p, s in self.state.items()},
            "param_groups": [
                {
                    **{k: _snapshot(v) for k, v in g.items() if k != "params"},
                    "params": [index[id(p)] for p in g["params"]],
                }
                for g in self.param_groups
            ],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state and options ``state_dict()`` gave, onto this optimizer's parameters
        (matched by position); all or nothing.

        State tensors are copied onto each parameter's backend and dtype. A Tensor lr of this
        optimizer is updated in place (a compiled step keeps reading it); a saved Tensor lr
        replacing a float one is copied onto the parameters' backend.

        Raises:
            TypeError: ``state_dict`` is not a dict with ``"state"`` and ``"param_groups"``.
            ValueError: the groups or their sizes differ from this optimizer's, the state names
                a parameter position it does not have, or a state tensor's shape differs from
                its parameter's.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            msg = (
                f"{name}.load_state_dict expects a dict with 'state' and 'param_groups', as "
                "optimizer.state_dict() returns"
            )
            raise TypeError(msg)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            msg = (
                f"{name}.load_state_dict: the state has {len(saved_groups)} parameter groups, "
                f"this optimizer {len(self.param_groups)}; build the optimizer as it was saved"
            )
            raise ValueError(msg)
        lrs = [
            _loaded_lr(saved, group)
            for saved, group in zip(saved_groups, self.param_groups, strict=True)
        ]
        by_index: dict[Any, Tensor] = {}
        for number, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                msg = (
                    f"{name}.load_state_dict: parameter group {number} has "
                    f"{len(saved['params'])} parameters in the state, {len(group['params'])} here"
                )
                raise ValueError(msg)
            by_index.update(zip(saved["params"], group["params"], strict=True))
        state = {}
        for index, entry in state_dict["state"].items():
            if index not in by_index:
                msg = (
                    f"{name}.load_state_dict: the state names parameter {index!r}, "
                    "which no parameter group has"
                )
                raise ValueError(msg)
            param = by_index[index]
            state[param] = {
                key: self._loaded_state(param, index, key, v) for key, v in entry.items()
            }
        # Everything checked: commit.
        self.state = state
        groups = []
        for saved, group, lr in zip(saved_groups, self.param_groups, lrs, strict=True):
            loaded = {**saved, "params": group["params"], "lr": group["lr"]}
            set_lr(loaded, lr)
            groups.append(loaded)
        self.param_groups = groups

    def _loaded_state(self, param: Tensor, index: Any, key: str, value: Any) -> Any:
        """A saved state value, made fit for ``param``: tensors of its shape (or 0-d) on its
        backend and in its dtype (an optimizer whose state has other shapes overrides this)."""
        return _loaded(param, index, key, value)

    def _commit(self, updates: list[tuple[Tensor, Tensor, dict[str, Tensor]]]) -> None:
        """Apply ``(param, update, new_state)`` triples: ``param -= update`` and the new state.

        A step computes every triple first and commits only once all are known to apply, so
        a failing step changes no parameter and no state.
        """
        if _jit.tracing() and any(not isinstance(g["lr"], Tensor) for g in self.param_groups):
            self._compiled_with_float_lr = True
        for p, update, _ in updates:
            check_update(p, update)
        for p, update, new_state in updates:
            state = self.state.setdefault(p, {}) if new_state else {}
            for key, value in new_state.items():
                if key in state:
                    # In place, as PyTorch does: the state keeps its Tensors (dualgrad.jit
                    # relies on that to carry them from one compiled step to the next).
                    state[key].copy_(value)
                else:
                    state[key] = value
            p.sub_(update)


def check_non_negative(options: dict[str, float]) -> None:
    """Raise ValueError for the first negative, NaN or infinite option, in PyTorch's words."""
    for label, value in options.items():
        if not 0.0 <= value < math.inf:
            msg = f"Invalid {label}: {value}; it must be a finite number >= 0"
            raise ValueError(msg)


def check_lr(lr: Any, params: list[Tensor]) -> None:
    """Raise for an lr the optimizer cannot use: negative, NaN or infinite, or a Tensor that is
    not 0-d, not floating, or not on the parameters' backend (the step multiplies by it)."""
    value = lr
    if isinstance(lr, Tensor):
        if not lr.dtype.is_floating_point:
            msg = f"Tensor lr must be floating point, got {lr.dtype}; e.g. dualgrad.tensor(0.01)"
            raise TypeError(msg)
        if lr.ndim != 0:
            msg = (
                f"Tensor lr must be 0-d, got shape {tuple(lr.shape)}; pass a scalar such as "
                "dualgrad.tensor(0.01)"
            )
            raise ValueError(msg)
        if params and lr.backend is not params[0].backend:
            msg = (
                f"Tensor lr is on the {lr.backend.name} backend, the parameters on "
                f"{params[0].backend.name}; create it under the parameters' backend"
            )
            raise TypeError(msg)
        value = lr.item()  # once, when the group is added: the step never reads it back
    check_non_negative({"learning rate": value})


def lr_for(p: Tensor, group: dict[str, Any]) -> Any:
    """The group's lr for updating ``p``: a float as is, a Tensor in ``p``'s dtype (as a float
    lr would be), read as a value so that a compiled step does not freeze it."""
    lr = group["lr"]
    if isinstance(lr, Tensor) and lr.dtype is not p.dtype:
        return lr.astype(p.dtype)
    return lr


def set_lr(group: dict[str, Any], value: float | Tensor) -> None:
    """Make ``value`` the group's lr: written in place into a Tensor lr (a compiled step keeps
    reading that Tensor), else put in the group."""
    lr = group["lr"]
    if not isinstance(lr, Tensor):
        group["lr"] = value
        return
    with no_grad():
        if isinstance(value, Tensor):
            lr.copy_(converted_like(value, lr))
        else:
            lr.fill_(value)


def check_update(p: Tensor, update: Tensor) -> None:
    """Raise now whatever ``p.sub_(update)`` would raise, before any parameter changes."""
    if update.backend is p.backend and update.shape == p.shape and p.dtype.is_floating_point:
        return  # the common case: nothing can fail
    p._detached().sub_(update)  # a trial on a detached copy: it raises, or p stays as it is


def _loaded(param: Tensor, index: Any, key: str, value: Any) -> Any:
    """A saved state value, made fit for ``param``: tensors on its backend and in its dtype."""
    if not isinstance(value, Tensor):
        return value
    if value.ndim and value.shape != param.shape:
        msg = (
            f"load_state_dict: state {key!r} of parameter "
            f"{index!r} has shape {tuple(value.shape)}, "
            f"but the parameter has shape {tuple(param.shape)}"
        )
        raise ValueError(msg)
    return converted_like(value, param)


def _loaded_lr(saved: dict[str, Any], group: dict[str, Any]) -> float | Tensor:
    """A saved group's lr, checked, and a Tensor moved onto the group's parameters' backend."""
    if "lr" not in saved:
        msg = "load_state_dict: a saved parameter group has no 'lr'; save optimizer.state_dict()"
        raise ValueError(msg)
    lr, params = saved["lr"], group["params"]
    if isinstance(lr, Tensor) and params and lr.backend is not params[0].backend:
        check_lr(lr, [])
        lr = converted_like(lr, params[0])
    check_lr(lr, params)
    return lr


def _snapshot(value: Any) -> Any:
    """A Tensor option as it is now (a scheduler changes a Tensor lr in place), else as is."""
    return value.detach().clone() if isinstance(value, Tensor) else value


def state_tensor(p: Tensor, state: dict[str, Any], key: str) -> Tensor:
    """``state[key]``, or zeros like ``p`` (a parameter's state before its first step)."""
    value = state.get(key)
    return zeros_like(p) if value is None else value


def next_step(p: Tensor, state: dict[str, Any]) -> Tensor:
    """The step count after this step, as a 0-d Tensor in ``p``'s dtype on its backend.

    A Tensor, as in PyTorch, so that a step compiled by ``dualgrad.jit`` reads the count as
    state instead of freezing the count it was traced with.
    """
    previous = state.get("step")
    if previous is not None:
        return previous + 1
    return scalar_like(p, 1)


def scalar_like(p: Tensor, value: float) -> Tensor:
    """``value`` as a 0-d Tensor in ``p``'s dtype on its backend."""
    return Tensor._wrap(p.backend.scalar(value, p.dtype), p.backend)
