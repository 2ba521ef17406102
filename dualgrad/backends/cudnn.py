"""``torch.backends.cudnn``: the switches PyTorch programs set for NVIDIA's cuDNN library.

dualgrad never calls cuDNN (a backend's library does its own GPU work), so, as on PyTorch's
CPU-only builds, ``is_available()`` is False and the switches can be set and read but change
nothing: ``torch.backends.cudnn.benchmark = True`` runs as it does there.
"""

from __future__ import annotations

__all__ = ["allow_tf32", "benchmark", "deterministic", "enabled", "is_available", "version"]

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: dualgrad does not use cuDNN."""
    return False


def version() -> None:
    """cuDNN's version: None, as PyTorch's where it lacks cuDNN."""
    return None
