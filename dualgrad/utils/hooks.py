"""``RemovableHandle``: what registering a hook returns, to take the hook off again."""

from __future__ import annotations

__all__ = ["RemovableHandle"]

import itertools
import weakref
from typing import Any

_ids = itertools.count()


class RemovableHandle:
    """Removes one hook from the dictionary it was registered in, as PyTorch's handle does.

    ``remove()`` may be called any number of times; used as a context manager the hook is
    removed when the block ends.

    Args:
        hooks: the dictionary (hook id -> hook) the hook was added to under ``handle.id``.
        extra: further dictionaries keyed by the same id (per-hook options), emptied with it.

    Example:
        >>> from dualgrad import nn
        >>> layer = nn.Identity()
        >>> with layer.register_forward_hook(lambda module, args, output: print("ran")):
        ...     _ = layer(1)
        ran
        >>> _ = layer(1)
    """

    def __init__(self, hooks: dict[int, Any], *, extra: tuple[dict[int, Any], ...] = ()) -> None:
        self.id = next(_ids)
        self._dicts = tuple(weakref.ref(d) for d in (hooks, *extra))

    def remove(self) -> None:
        """Take the hook off (nothing happens if it is already off)."""
        for ref in self._dicts:
            hooks = ref()
            if hooks is not None:
                hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()
