"""Utilities beside the core: activation checkpointing (``dualgrad.utils.checkpoint``)."""

from __future__ import annotations

from . import checkpoint

__all__ = ["checkpoint"]
