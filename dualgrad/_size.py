"""``Size``: a shape as PyTorch gives it, a tuple of ints that prints as ``torch.Size([2, 3])``."""

from __future__ import annotations

__all__ = ["Size"]


class Size(tuple):  # type: ignore[type-arg]
    """A tensor's shape: a tuple of ints (equal to the plain tuple), printed as PyTorch prints
    its ``torch.Size``, so that programs printing shapes print what PyTorch prints.

    Example:
        >>> import dualgrad
        >>> dualgrad.zeros(2, 3).shape
        torch.Size([2, 3])
        >>> dualgrad.zeros(2, 3).shape == (2, 3)
        True
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(map(str, self))}])"

    __str__ = __repr__

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        item = tuple.__getitem__(self, key)
        return Size(item) if isinstance(key, slice) else item  # shape[1:] is a Size too

    def __add__(self, other: tuple) -> Size:  # type: ignore[override,type-arg]
        return Size(tuple.__add__(self, other))

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        count = 1
        for n in self:
            count *= n
        return count
