"""Utilities around training, as ``torch.utils``: ``data`` (datasets and the DataLoader) and
``hooks`` (the handle a registered hook returns)."""

from __future__ import annotations

from . import data, hooks

__all__ = ["data", "hooks"]
