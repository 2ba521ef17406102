"""Utilities around training, as ``torch.utils``: ``data`` (datasets and the DataLoader),
``checkpoint`` (activation checkpointing) and ``hooks`` (the handle a registered hook returns)."""

from __future__ import annotations

from . import checkpoint, data, hooks

__all__ = ["checkpoint", "data", "hooks"]
