"""``functional_call`` and ``stack_module_state``, as ``torch.func`` has them.

A Module keeps its parameters inside; the function transforms differentiate with respect to
their arguments. ``functional_call(model, params, args)`` runs the model with ``params`` (a
dict of name -> Tensor) standing in for its own tensors, so that a model's parameters become a
pytree argument: ``grad(lambda p: loss(functional_call(model, p, (x,)), y))(params)``.

The stand-ins are put in the module's dicts for the duration of the call and the module's own
tensors are put back afterwards, also when the call raises. Checkpointed code inside the call
is recomputed in the backward pass, after the call returned: the substitutions active when a
checkpointed function ran are recorded (``active_substitutions``) and re-applied around its
recomputation (``substituted``), so that it reads the tensors it read the first time.
"""

from __future__ import annotations

__all__ = ["functional_call", "stack_module_state"]

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from . import functions as _functions
from .backends import backend_for_array
from .functions.creation import asarray
from .nn.module import Module
from .tensor import Tensor

# One substitution: a module and the values (dotted name -> Tensor or None) that stand in for
# its tensors. The tuple holds those active in this context, outermost first.
Substitution = tuple[Module, dict[str, Any]]
_active: ContextVar[tuple[Substitution, ...]] = ContextVar("dualgrad_functional_call", default=())
_MISSING = object()  # a name the module did not have before the substitution


def active_substitutions() -> tuple[Substitution, ...]:
    """The ``functional_call`` substitutions active here, outermost first."""
    return _active.get()


@contextlib.contextmanager
def substituted(substitutions: Sequence[Substitution]) -> Iterator[None]:
    """Put each substitution's values in its module for the block; put the module's own
    tensors back afterwards, also when the block raises."""
    with contextlib.ExitStack() as stack:
        for module, values in substitutions:
            stack.enter_context(_swapped(module, values, {}))
        token = _active.set((*_active.get(), *substitutions))
        stack.callback(_active.reset, token)
        yield


@contextlib.contextmanager
def _swapped(module: Module, values: dict[str, Any], left: dict[str, Any]) -> Iterator[None]:
    """``values`` in ``module`` for the block; ``left`` receives what the block left there."""
    originals: list[tuple[str, Module, str, Any]] = []
    try:
        for name, value in values.items():
            owner, attribute = _owner(module, name)
            originals.append((name, owner, attribute, _swap(owner, attribute, value, name)))
        yield
    finally:
        for name, owner, attribute, original in reversed(originals):
            left[name] = _swap(owner, attribute, original, name)


def _owner(module: Module, name: str) -> tuple[Module, str]:
    """The sub-Module holding the dotted ``name``, and the name's last part."""
    *path, attribute = name.split(".")
    owner = module
    for part in path:
        child = owner._modules.get(part)
        if child is None:
            msg = (
                f"functional_call: {type(owner).__name__} has no submodule {part!r} "
                f"(from the key {name!r})"
            )
            raise AttributeError(msg)
        owner = child
    if not attribute:
        msg = f"functional_call: the key {name!r} does not name a tensor"
        raise KeyError(msg)
    return owner, attribute


def _swap(owner: Module, attribute: str, value: Any, name: str) -> Any:
    """Put ``value`` under ``attribute`` (``_MISSING``: remove it); return what was there."""
    for store in (owner._parameters, owner._buffers):
        if attribute in store:
            original = store[attribute]
            if value is _MISSING:
                del store[attribute]
            else:
                store[attribute] = value  # a plain Tensor where a Parameter was, for the call
            return original
    original = owner.__dict__.get(attribute, _MISSING)
    if original is _MISSING and hasattr(owner, attribute):
        msg = (
            f"functional_call: {name!r} names {type(getattr(owner, attribute)).__name__} "
            f"{attribute!r} of {type(owner).__name__}, not a parameter, buffer or tensor"
        )
        raise TypeError(msg)
    if original is not _MISSING and not isinstance(original, Tensor | None):
        msg = (
            f"functional_call: the attribute {name!r} is a {type(original).__name__}, "
            "not a Tensor; only tensors can be substituted"
        )
        raise TypeError(msg)
    if value is _MISSING:
        owner.__dict__.pop(attribute, None)
    else:
        owner.__dict__[attribute] = value
    return original


def _merged(parameter_and_buffer_dicts: Any) -> dict[str, Any]:
    """One dict of the values given as a dict or a sequence of dicts with distinct keys."""
    if isinstance(parameter_and_buffer_dicts, Mapping):
        dicts: Sequence[Mapping[str, Any]] = [parameter_and_buffer_dicts]
    elif isinstance(parameter_and_buffer_dicts, Sequence) and all(
        isinstance(d, Mapping) for d in parameter_and_buffer_dicts
    ):
        dicts = parameter_and_buffer_dicts
    else:
        msg = (
            "functional_call: expected parameter_and_buffer_dicts to be a dict or a tuple of "
            f"dicts, got {type(parameter_and_buffer_dicts).__name__}"
        )
        raise ValueError(msg)
    merged: dict[str, Any] = {}
    repeated = []
    for values in dicts:
        for name, value in values.items():
            if name in merged:
                repeated.append(name)
            merged[name] = _checked_value(name, value)
    if repeated:
        msg = (
            f"functional_call: {sorted(set(repeated))} appeared in several dicts, which makes "
            "the call ambiguous; give each name once"
        )
        raise ValueError(msg)
    return merged


def _checked_value(name: Any, value: Any) -> Any:
    if not isinstance(name, str):
        msg = f"functional_call: the keys are dotted names (str), got {name!r}"
        raise TypeError(msg)
    if value is None or isinstance(value, Tensor):
        return value
    if backend_for_array(value) is not None:
        return asarray(value)
    msg = f"functional_call: the value of {name!r} is a {type(value).__name__}, not a Tensor"
    raise TypeError(msg)


def _untied(module: Module, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each tensor the module shares under several names given under all of
    them (tied weights).

    Raises:
        ValueError: different values are given for names of one shared tensor.
    """
    names_of: dict[int, list[str]] = {}
    for name, tensor in _named_tensors(module):
        names_of.setdefault(id(tensor), []).append(name)
    untied = dict(values)
    for names in names_of.values():
        given = [name for name in names if name in values]
        if len(names) < 2 or not given:
            continue
        if len({id(values[name]) for name in given}) > 1:
            msg = (
                f"functional_call got multiple values for keys {sorted(names)}, which are "
                "tied; give one of them, or pass tie_weights=False"
            )
            raise ValueError(msg)
        for name in names:
            untied[name] = values[given[0]]
    return untied


def _named_tensors(module: Module) -> list[tuple[str, Tensor]]:
    """Every parameter and buffer under each of its dotted names (a shared one under all),
    parameters first: ``named_parameters`` and ``named_buffers`` in one walk of the modules,
    which every call pays for."""
    parameters: list[tuple[str, Tensor]] = []
    buffers: list[tuple[str, Tensor]] = []
    for prefix, owner in module.named_modules():
        for store, out in ((owner._parameters, parameters), (owner._buffers, buffers)):
            for name, tensor in store.items():
                if tensor is not None:
                    out.append((f"{prefix}.{name}" if prefix else name, tensor))
    return parameters + buffers


def _check_keys(module: Module, values: dict[str, Any]) -> None:
    valid = {name for name, _ in _named_tensors(module)}
    missing = sorted(valid - set(values))
    unexpected = sorted(set(values) - valid)
    problems = []
    if unexpected:
        problems.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        problems.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if problems:
        lines = "\n\t".join(problems)
        msg = f"Error(s) in reparametrizing for {type(module).__name__}:\n\t{lines}"
        raise RuntimeError(msg)


def functional_call(
    module: Module,
    parameter_and_buffer_dicts: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Call ``module`` with the given tensors in place of its parameters and buffers.

    Names the dicts leave out keep the module's own tensors. The module is left as it was,
    also when the call raises. A buffer the module reassigns during the call (a running
    statistic) is written back into the dict it came from, as PyTorch does.

    Args:
        module: the model.
        parameter_and_buffer_dicts: dotted name -> Tensor (as ``named_parameters()`` and
            ``named_buffers()`` name them), or a tuple of such dicts with distinct keys.
        args: the positional arguments of the call; anything but a tuple is one argument.
        kwargs: the keyword arguments of the call.
        tie_weights: a tensor the module holds under several names takes the value given for
            any of them; different values for tied names are an error.
        strict: the dicts must name exactly the module's parameters and buffers.

    Returns:
        What ``module(*args, **kwargs)`` returns.

    Raises:
        ValueError: the dicts are not dicts, repeat a name, or give tied names different values.
        TypeError: a value is not a Tensor (or an array, or None), or a name is not a str.
        AttributeError: a dotted name goes through a submodule the module does not have.
        RuntimeError: with ``strict``, names are missing or unexpected.

    Example:
        >>> import dualgrad
        >>> from dualgrad.func import functional_call
        >>> model = dualgrad.nn.Linear(2, 1)
        >>> params = {"weight": dualgrad.ones(1, 2), "bias": dualgrad.zeros(1)}
        >>> functional_call(model, params, (dualgrad.tensor([1.0, 2.0]),))
        tensor([3.])
    """
    values = _merged(parameter_and_buffer_dicts)
    given = values
    if tie_weights:
        values = _untied(module, values)
    if strict:
        _check_keys(module, values)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    left: dict[str, Any] = {}
    try:
        with _swapped(module, values, left):
            token = _active.set((*_active.get(), (module, values)))
            try:
                return module(*args, **(kwargs or {}))
            finally:
                _active.reset(token)
    finally:
        _write_back(parameter_and_buffer_dicts, given, left)


def _write_back(dicts: Any, given: dict[str, Any], left: dict[str, Any]) -> None:
    """Put a value the module reassigned during the call back into the dict it came from."""
    for values in [dicts] if isinstance(dicts, Mapping) else dicts:
        for name in values:
            if name in left and left[name] is not given[name] and isinstance(values, dict):
                values[name] = left[name]


def stack_module_state(models: Sequence[Module]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The parameters and buffers of several models of one class, stacked along a new first
    axis: ``(params, buffers)``, each a dict of dotted name -> stacked Tensor.

    The stacked parameters are new leaves (they require grad when the models' parameters do),
    unrelated to the models' own: an optimizer can train them directly.

    Raises:
        RuntimeError: no models, models of different classes or training modes, a parameter
            that requires grad in some models only, or a name some models lack.

    Example:
        >>> import dualgrad
        >>> from dualgrad.func import stack_module_state
        >>> params, buffers = stack_module_state([dualgrad.nn.Linear(3, 2) for _ in range(4)])
        >>> {name: p.shape for name, p in params.items()}
        {'weight': torch.Size([4, 2, 3]), 'bias': torch.Size([4, 2])}
    """
    if len(models) == 0:
        msg = "stack_module_state: expected at least one model, got 0"
        raise RuntimeError(msg)
    if len({m.training for m in models}) > 1:
        msg = "stack_module_state: expected all models to have the same training/eval mode"
        raise RuntimeError(msg)
    if len({type(m) for m in models}) > 1:
        names = sorted({type(m).__name__ for m in models})
        msg = f"stack_module_state: expected all models to be of the same class, got {names}"
        raise RuntimeError(msg)
    params = _stacked([dict(m.named_parameters()) for m in models], "parameter")
    buffers = _stacked([dict(m.named_buffers()) for m in models], "buffer")
    return params, buffers


def _stacked(per_model: list[dict[str, Tensor]], kind: str) -> dict[str, Tensor]:
    stacked = {}
    for name in per_model[0]:
        tensors = []
        for index, members in enumerate(per_model):
            if name not in members:
                msg = f"stack_module_state: model {index} has no {kind} {name!r}"
                raise RuntimeError(msg)
            tensors.append(members[name])
        requires_grad = {t.requires_grad for t in tensors}
        if len(requires_grad) > 1:
            msg = (
                f"stack_module_state: expected {name} from each model to have the same "
                ".requires_grad"
            )
            raise RuntimeError(msg)
        value = _functions.stack([t.detach() for t in tensors])
        stacked[name] = value.requires_grad_() if requires_grad.pop() else value
    return stacked
