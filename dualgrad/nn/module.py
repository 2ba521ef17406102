"""``Module``: the base class of layers and models, with PyTorch's registration and state API.

A Module keeps its Parameters, buffers (Tensors saved with it but not trained) and sub-Modules
in three ordered dicts, filled by attribute assignment: ``self.weight = Parameter(...)``,
``self.body = Sequential(...)``. Everything else (``parameters()``, ``state_dict()``, ``train()``,
the repr) walks those dicts.
"""

from __future__ import annotations

__all__ = ["IncompatibleKeys", "Module", "StateDictKeyError", "StateDictShapeError"]

import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from .. import _device
from .._device import device_of_array, native_device
from .._state import converted_like, zero_grads
from ..autograd.grad_mode import no_grad
from ..autograd.graph import bump_version
from ..tensor import Tensor
from ..utils.hooks import RemovableHandle
from .parameter import Parameter


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        # As PyTorch prints it (``print(model.load_state_dict(state))`` is a common line).
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (
            f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
            f"unexpected_keys={self.unexpected_keys})"
        )


# Both errors are also RuntimeErrors: PyTorch raises RuntimeError here, and ported code
# catches that.
class StateDictKeyError(KeyError, RuntimeError):
    """``load_state_dict``: keys the model needs are missing, or the state has keys it lacks.

    Attributes:
        missing_keys: the model's keys absent from the state dict.
        unexpected_keys: the state dict's keys the model does not have.
    """

    def __init__(self, message: str, missing_keys: list[str], unexpected_keys: list[str]) -> None:
        super().__init__(message)
        self.missing_keys = missing_keys
        self.unexpected_keys = unexpected_keys

    def __str__(self) -> str:
        return str(self.args[0])  # KeyError's own __str__ would print the message quoted


class StateDictShapeError(ValueError, RuntimeError):
    """``load_state_dict``: a value's shape differs from the shape of the tensor it would fill."""


def _quoted(keys: list[str]) -> str:
    return ", ".join(f'"{key}"' for key in keys)


def _indented(text: str, spaces: int) -> str:
    """Indent every line of ``text`` but the first (PyTorch's repr layout)."""
    return text.replace("\n", "\n" + " " * spaces)


def _check_name(name: Any, kind: str, owner: Module) -> None:
    if not isinstance(name, str):
        msg = f"{kind} name should be a string, got {type(name).__name__}"
        raise TypeError(msg)
    if not name or "." in name:
        msg = f"{kind} name must be non-empty and without dots, got {name!r}"
        raise KeyError(msg)
    registered = name in owner._parameters or name in owner._buffers or name in owner._modules
    if hasattr(owner, name) and not registered:
        msg = f"attribute {name!r} already exists on {type(owner).__name__}; pick another name"
        raise KeyError(msg)


def _move_in_place(tensor: Tensor, native: Any) -> None:
    """Put ``tensor``'s values (and gradient) on device ``native`` of its backend, in place."""
    if native is None or device_of_array(tensor._array) == native:
        return
    from array_api_compat import to_device

    tensor._array = to_device(tensor._array, native)
    if tensor._grad is not None:
        tensor._grad = Tensor._wrap(to_device(tensor._grad._array, native), tensor._backend)


class Module:
    """Base class of every layer and model: subclass it, assign Parameters and sub-Modules as
    attributes in ``__init__`` (after ``super().__init__()``), and define ``forward``.

    Calling the module calls ``forward``.

    Example:
        >>> import dualgrad
        >>> from dualgrad import nn
        >>> class Affine(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.scale = nn.Parameter(dualgrad.ones(2))
        ...         self.shift = nn.Parameter(dualgrad.zeros(2))
        ...     def forward(self, x):
        ...         return self.scale * x + self.shift
        >>> model = Affine()
        >>> [name for name, _ in model.named_parameters()]
        ['scale', 'shift']
        >>> model(dualgrad.tensor([1.0, 2.0]))
        tensor([1., 2.], grad_fn=<AddBackward0>)
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers: set[str]
    _modules: dict[str, Module | None]

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})
        # hook id -> (hook, with_kwargs) and (hook, with_kwargs, always_call); OrderedDicts, so
        # that a RemovableHandle can refer to them weakly and prepend can reorder them.
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every subclass defines it."""
        msg = (
            f'Module [{type(self).__name__}] is missing the required "forward" function; '
            "define forward(self, ...) in the subclass"
        )
        raise NotImplementedError(msg)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # --- forward hooks ----------------------------------------------------------------------
    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward``; a result other than None
        replaces the positional arguments (a non-tuple becomes the only one).

        Args:
            hook: the function.
            prepend: run it before the hooks registered earlier, instead of after them.
            with_kwargs: call ``hook(module, args, kwargs)``, which may return
                ``(new_args, new_kwargs)``.

        Returns:
            A handle whose ``remove()`` takes the hook off.

        Raises:
            TypeError: ``hook`` is not callable.
        """
        return self._add_hook(self._forward_pre_hooks, hook, prepend, (with_kwargs,))

    def register_forward_hook(
        self,
        hook: Callable[..., Any],
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every ``forward``; a result other than None
        replaces the output.

        Args:
            hook: the function.
            prepend: run it before the hooks registered earlier, instead of after them.
            with_kwargs: call ``hook(module, args, kwargs, output)``.
            always_call: call it even when ``forward`` (or an earlier hook) raises, with the
                output so far (None if forward raised); an error it raises then is only warned
                about, and the first error propagates.

        Returns:
            A handle whose ``remove()`` takes the hook off.

        Raises:
            TypeError: ``hook`` is not callable.

        Example:
            >>> import dualgrad
            >>> from dualgrad import nn
            >>> layer = nn.Linear(2, 3)
            >>> shapes = []
            >>> handle = layer.register_forward_hook(lambda m, args, out: shapes.append(out.shape))
            >>> _ = layer(dualgrad.ones(4, 2))
            >>> handle.remove()
            >>> _ = layer(dualgrad.ones(1, 2))
            >>> shapes
            [torch.Size([4, 3])]
        """
        return self._add_hook(self._forward_hooks, hook, prepend, (with_kwargs, always_call))

    def _add_hook(
        self, hooks: Any, hook: Any, prepend: bool, options: tuple[bool, ...]
    ) -> RemovableHandle:
        if not callable(hook):
            msg = f"a hook must be callable, got {type(hook).__name__}"
            raise TypeError(msg)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = (hook, *options)
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def _call_with_hooks(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``forward`` between the pre-hooks and the hooks, as PyTorch's module call runs them."""
        output = None
        called: set[int] = set()
        try:
            for hook, with_kwargs in list(self._forward_pre_hooks.values()):
                if with_kwargs:
                    result = hook(self, args, kwargs)
                    if result is not None:
                        if not (isinstance(result, tuple) and len(result) == 2):
                            msg = (
                                "forward pre-hook must return None or a tuple of (new_args, "
                                f"new_kwargs), but got {result!r}"
                            )
                            raise RuntimeError(msg)
                        args, kwargs = result
                else:
                    result = hook(self, args)
                    if result is not None:
                        args = result if isinstance(result, tuple) else (result,)
            output = self.forward(*args, **kwargs)
            for hook_id, (hook, with_kwargs, always_call) in list(self._forward_hooks.items()):
                if always_call:
                    called.add(hook_id)
                result = (
                    hook(self, args, kwargs, output) if with_kwargs else hook(self, args, output)
                )
                if result is not None:
                    output = result
        except Exception:
            for hook_id, (hook, with_kwargs, always_call) in list(self._forward_hooks.items()):
                if not always_call or hook_id in called:
                    continue
                try:
                    call = (self, args, kwargs, output) if with_kwargs else (self, args, output)
                    result = hook(*call)
                    if result is not None:
                        output = result
                except Exception as err:  # the first error is the one to raise
                    warnings.warn(
                        "a forward hook with always_call=True raised an exception that was "
                        f"silenced as another error was raised in forward: {err}",
                        UserWarning,
                        stacklevel=3,
                    )
            raise
        return output

    # --- registration -----------------------------------------------------------------------
    def _require_init(self, what: str) -> None:
        if "_parameters" not in self.__dict__:
            msg = (
                f"cannot {what} before Module.__init__() call; "
                f"call super().__init__() first in {type(self).__name__}.__init__"
            )
            raise AttributeError(msg)

    def _forget(self, name: str, keep: dict[str, Any]) -> None:
        """Drop ``name`` from every store but ``keep``, where it is about to be (re)assigned
        (so a reassigned member keeps its place in the order)."""
        self.__dict__.pop(name, None)
        for store in (self._parameters, self._buffers, self._modules):
            if store is not keep:
                store.pop(name, None)
        if keep is not self._buffers:
            self._non_persistent_buffers.discard(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder) under ``name``.

        Raises:
            AttributeError: before ``Module.__init__`` ran.
            TypeError: ``param`` is neither a Parameter nor None.
            KeyError: an empty or dotted name, or one taken by a plain attribute.
        """
        self._require_init("assign parameters")
        _check_name(name, "parameter", self)
        if param is not None and not isinstance(param, Parameter):
            msg = (
                f"cannot assign {type(param).__name__} object to parameter {name!r} "
                "(dualgrad.nn.Parameter or None required); wrap it: nn.Parameter(tensor)"
            )
            raise TypeError(msg)
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a Tensor that is state but not trained (saved by ``state_dict`` if persistent).

        Raises:
            AttributeError: before ``Module.__init__`` ran.
            TypeError: ``tensor`` is neither a Tensor nor None.
            KeyError: an empty or dotted name, or one taken by a plain attribute.
        """
        self._require_init("assign buffers")
        _check_name(name, "buffer", self)
        if tensor is not None and not isinstance(tensor, Tensor):
            msg = (
                f"cannot assign {type(tensor).__name__} object to buffer {name!r} (Tensor or None)"
            )
            raise TypeError(msg)
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a sub-Module (or a None placeholder) under ``name``.

        Raises:
            AttributeError: before ``Module.__init__`` ran.
            TypeError: ``module`` is neither a Module nor None.
            KeyError: an empty or dotted name, or one taken by a plain attribute.
        """
        self._require_init("assign submodules")
        _check_name(name, "module", self)
        if module is not None and not isinstance(module, Module):
            msg = f"{type(module).__name__} is not a Module subclass"
            raise TypeError(msg)
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter):
            self._require_init("assign parameters")
            self.__dict__.pop(name, None)  # a plain attribute of that name gives way
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self._require_init("assign submodules")
            self.__dict__.pop(name, None)
            self.add_module(name, value)
        elif name in self.__dict__.get("_parameters", ()):
            self.register_parameter(name, value)  # None, or a TypeError naming the parameter
        elif name in self.__dict__.get("_modules", ()):
            self.add_module(name, value)
        elif name in self.__dict__.get("_buffers", ()):
            self.register_buffer(name, value, name not in self._non_persistent_buffers)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only reached when ordinary lookup fails: the registered names live in the dicts.
        for store in ("_parameters", "_buffers", "_modules"):
            registered = self.__dict__.get(store)
            if registered is not None and name in registered:
                return registered[name]
        msg = f"'{type(self).__name__}' object has no attribute '{name}'"
        raise AttributeError(msg)

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    # --- walking the tree ---------------------------------------------------------------------
    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every module below it, with dotted names (each module once)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                child_prefix = f"{prefix}.{name}" if prefix else name
                yield from child.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every module below it."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-Modules, with their names."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        """The direct sub-Modules."""
        for _, child in self.named_children():
            yield child

    def _named_members(
        self, store: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Any]]:
        owners = self.named_modules(prefix=prefix) if recurse else iter([(prefix, self)])
        seen: set[int] = set()
        for owner_prefix, owner in owners:
            for name, member in getattr(owner, store).items():
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield (f"{owner_prefix}.{name}" if owner_prefix else name), member

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name (a shared one once), in registration order."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (a shared one once): what an optimizer is given."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Every buffer with its dotted name."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-Module (deepest first) and then on this one; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes and gradients ------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``Dropout`` drops) on this module and all below; returns self.

        Raises:
            ValueError: ``mode`` is not a bool.
        """
        if not isinstance(mode, bool):
            msg = f"training mode is expected to be boolean, got {type(mode).__name__}"
            raise ValueError(msg)
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``Dropout`` passes its input through); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (freeze with False); returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (default), or to zeros."""
        zero_grads(self.parameters(), set_to_none)

    # --- dtype --------------------------------------------------------------------------------
    def to(self, *args: Any, dtype: Any = None, device: Any = None, **options: Any) -> Module:
        """Move every parameter and buffer (and gradient) to a device and/or convert the
        floating ones to a dtype, in place, as PyTorch's ``Module.to``: ``to(dtype)``,
        ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` or by keyword. The Parameter
        objects stay the same (an optimizer built earlier still holds them).

        Raises:
            TypeError: ``dtype`` is not a floating dtype.
            RuntimeError: the backend has no such device.
        """
        from ..functions.conversion import parse_to_args

        requested_device, requested_dtype = parse_to_args(args, dtype, device, "Module.to")
        if requested_dtype is not None and not requested_dtype.is_floating_point:
            msg = f"Module.to only accepts floating point dtypes, got {requested_dtype}"
            raise TypeError(msg)
        tensors = (*self.parameters(), *self.buffers())
        if requested_device is not None:
            natives = {
                id(t): native_device(t._backend, _device.device(requested_device)) for t in tensors
            }  # every device checked before any tensor moves
            for tensor in tensors:
                _move_in_place(tensor, natives[id(tensor)])
        if requested_dtype is not None:
            for tensor in tensors:
                if tensor.dtype.is_floating_point and tensor.dtype is not requested_dtype:
                    tensor._array = tensor.detach().astype(requested_dtype)._array
                    bump_version(tensor)
                    if tensor._grad is not None:
                        tensor._grad = tensor._grad.detach().astype(requested_dtype)
        return self

    def cpu(self) -> Module:
        """``to("cpu")``."""
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Module:
        """``to("cuda")`` (or ``"cuda:N"`` for ``device=N``); raises where the backend has no
        CUDA GPU."""
        return self.to(_device.device("cuda", device) if not isinstance(device, str) else device)

    def double(self) -> Module:
        """``to(dualgrad.float64)``."""
        return self.to("float64")

    def float(self) -> Module:
        """``to(dualgrad.float32)``."""
        return self.to("float32")

    # --- state --------------------------------------------------------------------------------
    def state_dict(
        self,
        *,
        destination: dict[str, Tensor] | None = None,
        prefix: str = "",
        keep_vars: bool = False,
    ) -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name (shared ones under each name).

        The values are detached Tensors holding the current values: a snapshot. In-place
        updates give a Tensor a new array, so unlike PyTorch the snapshot does not follow later
        training; take a new state dict after training.

        Args:
            keep_vars: return the Parameters themselves instead of detached copies.

        Example:
            >>> import dualgrad
            >>> list(dualgrad.nn.Linear(2, 3).state_dict())
            ['weight', 'bias']
        """
        state: OrderedDict[str, Tensor] = (
            OrderedDict() if destination is None else destination  # type: ignore[assignment]
        )
        for name, param in self._parameters.items():
            if param is not None:
                state[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                state[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination=state, prefix=f"{prefix}{name}.", keep_vars=keep_vars)
        return state

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values into the parameters and buffers, in place; all or nothing.

        Every key and shape is checked before anything is copied, so on an error the module
        is unchanged. Values are converted to each target's dtype and backend.

        Args:
            state_dict: dotted name -> Tensor, as ``state_dict()`` (or ``dualgrad.load``) gives.
            strict: require the keys to match exactly; with False, load the matching keys and
                report the rest.

        Returns:
            ``IncompatibleKeys(missing_keys, unexpected_keys)``.

        Raises:
            StateDictKeyError: (a KeyError) with ``strict``, keys missing or unexpected.
            StateDictShapeError: (a ValueError) a value's shape differs from its target's.
            TypeError: ``state_dict`` is not a mapping, or a value is not a Tensor.
        """
        if not isinstance(state_dict, Mapping):
            msg = f"load_state_dict expects a dict of Tensors, got {type(state_dict).__name__}"
            raise TypeError(msg)
        targets = self.state_dict(keep_vars=True)
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        header = f"Error(s) in loading state_dict for {type(self).__name__}:"
        if strict and (missing or unexpected):
            lines = [header]
            if missing:
                lines.append(f"\tMissing key(s) in state_dict: {_quoted(missing)}.")
            if unexpected:
                lines.append(f"\tUnexpected key(s) in state_dict: {_quoted(unexpected)}.")
            lines.append("Load a state dict of this model, or pass strict=False to skip them.")
            raise StateDictKeyError("\n".join(lines), missing, unexpected)
        values, mismatches = {}, []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                kind = type(value).__name__
                msg = f"load_state_dict: the value of {key!r} is a {kind}, not a Tensor"
                raise TypeError(msg)
            if value.shape != target.shape:
                mismatches.append(
                    f"\tsize mismatch for {key}: copying a param "
                    f"with shape {tuple(value.shape)} from "
                    f"checkpoint, the shape in current model is {tuple(target.shape)}."
                )
            else:
                values[key] = converted_like(value, target)
        if mismatches:
            raise StateDictShapeError("\n".join([header, *mismatches]))
        with no_grad():
            for key, value in values.items():
                targets[key].copy_(value)
        return IncompatibleKeys(missing, unexpected)

    # --- printing -----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (subclasses set it)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_indented(repr(m), 2)}" for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        name = type(self).__name__
        if not lines:
            return f"{name}()"
        if len(extra_lines) == 1 and not child_lines:
            return f"{name}({extra_lines[0]})"
        return f"{name}(\n  " + "\n  ".join(lines) + "\n)"
