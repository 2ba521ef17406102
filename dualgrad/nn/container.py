"""Containers: ``Sequential`` (modules applied in order), ``ModuleList``, ``ModuleDict`` and
``ParameterList`` (modules and parameters held, registered, but not called)."""

from __future__ import annotations

__all__ = ["ModuleDict", "ModuleList", "ParameterList", "Sequential"]

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..tensor import Tensor
from .module import Module, _indented
from .parameter import Parameter


def _position(idx: Any, size: int, kind: str) -> int:
    """``idx`` as a position in ``range(size)`` (negative counts from the end)."""
    index = operator.index(idx)
    if not -size <= index < size:
        msg = f"index {idx} is out of range for a {kind} of length {size}"
        raise IndexError(msg)
    return index % size


class _ModuleSequence(Module):
    """Modules named ``"0"``, ``"1"``, ... that index, iterate and grow like a list."""

    def _index(self, idx: Any) -> int:
        return _position(idx, len(self), type(self).__name__)

    def _renumber(self, modules: list[Module]) -> None:
        """Keep the names 0, 1, 2, ... in order, as PyTorch does after a deletion."""
        self._modules.clear()
        for index, module in enumerate(modules):
            self._modules[str(index)] = module

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(list(self._modules)[self._index(idx)], module)

    def __delitem__(self, idx: int | slice) -> None:
        names = list(self._modules)
        for name in names[idx] if isinstance(idx, slice) else [names[self._index(idx)]]:
            del self._modules[name]
        self._renumber(list(self._modules.values()))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())  # type: ignore[arg-type]

    def append(self, module: Module) -> Any:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self


class Sequential(_ModuleSequence):
    """Applies its modules in order, each to the previous one's output.

    Built from modules (named ``"0"``, ``"1"``, ...) or from one ``OrderedDict`` of named
    modules. Indexing, slicing (a new Sequential of the same modules), ``len``, iteration and
    ``append`` work as on a list.

    Raises:
        TypeError: an argument that is not a Module.

    Example:
        >>> from dualgrad import nn
        >>> model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
        >>> model
        Sequential(
          (0): Linear(in_features=2, out_features=8, bias=True)
          (1): ReLU()
          (2): Linear(in_features=8, out_features=1, bias=True)
        )
        >>> len(model), model[-1].out_features
        (3, 1)
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def forward(self, input: Any) -> Any:
        for module in self._modules.values():
            input = module(input)  # type: ignore[misc]
        return input


class ModuleList(_ModuleSequence):
    """A list of modules, registered (their parameters are the list's) but not called: the
    owner's ``forward`` decides how to use them, as with ``torch.nn.ModuleList``.

    Raises:
        TypeError: an element that is not a Module.

    Example:
        >>> from dualgrad import nn
        >>> layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        >>> layers.append(nn.ReLU())
        ModuleList(
          (0-2): 3 x Linear(in_features=4, out_features=4, bias=True)
          (3): ReLU()
        )
        >>> len(list(layers.parameters()))
        6
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])  # type: ignore[arg-type]
        return list(self._modules.values())[self._index(idx)]

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each module at the end; returns self.

        Raises:
            TypeError: ``modules`` is not iterable.
        """
        if isinstance(modules, Module) or not isinstance(modules, Iterable):
            kind = type(modules).__name__
            msg = f"ModuleList.extend should be called with an iterable, got {kind}"
            raise TypeError(msg)
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index`` (as ``list.insert``)."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self.add_module(str(len(self)), module)  # checks the module
        self._renumber(modules)  # type: ignore[arg-type]

    def pop(self, key: int | slice = -1) -> Module:
        """Remove and return the module at ``key``."""
        module = self[key]
        del self[key]
        return module

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __repr__(self) -> str:
        # PyTorch's layout: a run of modules that print alike shows once, as "(0-2): 3 x ...".
        if not len(self):
            return "ModuleList()"
        runs: list[list[Any]] = []  # [first index, last index, repr]
        for index, module in enumerate(self):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = index
            else:
                runs.append([index, index, text])
        lines = [
            f"({first}): {text}"
            if first == last
            else f"({first}-{last}): {last - first + 1} x {text}"
            for first, last, text in runs
        ]
        return "ModuleList(\n  " + "\n  ".join(_indented(line, 2) for line in lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules by name, registered but not called, as ``torch.nn.ModuleDict``: keys
    keep their insertion order.

    Args:
        modules: a mapping or an iterable of (name, module) pairs.

    Raises:
        TypeError: a value that is not a Module, or a name that is not a string.

    Example:
        >>> from dualgrad import nn
        >>> heads = nn.ModuleDict({"policy": nn.Linear(4, 2), "value": nn.Linear(4, 1)})
        >>> list(heads), heads["value"].out_features
        (['policy', 'value'], 1)
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[Any] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]  # type: ignore[return-value]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The names, in order."""
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        """The (name, module) pairs, in order."""
        return self._modules.items()  # type: ignore[return-value]

    def values(self) -> Iterable[Module]:
        """The modules, in order."""
        return self._modules.values()  # type: ignore[return-value]

    def pop(self, key: str) -> Module:
        """Remove and return the module named ``key``."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[Any]) -> None:
        """Add (or replace) modules from a mapping or from (name, module) pairs.

        Raises:
            TypeError: ``modules`` is neither, or a pair is not of length 2.
        """
        if isinstance(modules, Mapping):
            pairs = list(modules.items())
        elif isinstance(modules, Iterable) and not isinstance(modules, Module | str):
            pairs = list(modules)
            for number, pair in enumerate(pairs):
                if not isinstance(pair, tuple | list) or len(pair) != 2:
                    msg = f"ModuleDict.update: element #{number} should be a (name, module) pair"
                    raise TypeError(msg)
        else:
            msg = (
                "ModuleDict.update should be called with a mapping or an iterable of (name, "
                f"module) pairs, got {type(modules).__name__}"
            )
            raise TypeError(msg)
        for key, module in pairs:
            self[key] = module


class ParameterList(Module):
    """A list of Parameters, registered as ``"0"``, ``"1"``, ..., as ``torch.nn.ParameterList``:
    a Tensor put in becomes a Parameter; other values are kept but are not parameters.

    Example:
        >>> import dualgrad
        >>> from dualgrad import nn
        >>> weights = nn.ParameterList([dualgrad.ones(2, 3), dualgrad.zeros(3)])
        >>> weights
        ParameterList(
            (0): Parameter containing: [dualgrad.float32 of size 2x3]
            (1): Parameter containing: [dualgrad.float32 of size 3]
        )
        >>> [name for name, _ in weights.named_parameters()]
        ['0', '1']
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def _index(self, idx: Any) -> int:
        return _position(idx, len(self), "ParameterList")

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(len(self))[idx]])
        return getattr(self, str(self._index(idx)))

    def __setitem__(self, idx: int, value: Any) -> None:
        name = str(self._index(idx))
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        if not isinstance(value, Parameter):
            self._parameters.pop(name, None)
        setattr(self, name, value)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` at the end (a Tensor as a Parameter); returns self."""
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Add each value at the end; returns self.

        Raises:
            TypeError: ``values`` is not iterable (or is a single Tensor).
        """
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            kind = type(values).__name__
            msg = f"ParameterList.extend should be called with an iterable, got {kind}"
            raise TypeError(msg)
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        lines = []
        for index, value in enumerate(self):
            if isinstance(value, Tensor):
                size = "x".join(str(n) for n in value.shape)
                kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
                lines.append(f"  ({index}): {kind} containing: [{value.dtype} of size {size}]")
            else:
                lines.append(f"  ({index}): Object of type: {type(value).__name__}")
        return "\n".join(lines)
