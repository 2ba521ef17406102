"""``Sequential``: sub-Modules applied one after another."""

from __future__ import annotations

__all__ = ["Sequential"]

import operator
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from .module import Module


class Sequential(Module):
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

    def _index(self, idx: Any) -> int:
        index = operator.index(idx)
        size = len(self)
        if not -size <= index < size:
            msg = f"index {idx} is out of range for a Sequential of length {size}"
            raise IndexError(msg)
        return index % size

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(list(self._modules)[self._index(idx)], module)

    def __delitem__(self, idx: int | slice) -> None:
        names = list(self._modules)
        for name in names[idx] if isinstance(idx, slice) else [names[self._index(idx)]]:
            del self._modules[name]
        # Renumber, so that the names stay 0, 1, 2, ... as PyTorch keeps them.
        modules = list(self._modules.values())
        self._modules.clear()
        for index, module in enumerate(modules):
            self._modules[str(index)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())  # type: ignore[arg-type]

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def forward(self, input: Any) -> Any:
        for module in self._modules.values():
            input = module(input)  # type: ignore[misc]
        return input
