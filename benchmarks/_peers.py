"""The peers: which are installed, and the names the report uses for them."""

from __future__ import annotations

import importlib
from types import ModuleType

# Report order. "numpy" is the hand-written NumPy forward and hand-derived backward: the floor.
PEERS = (
    "numpy",
    "dualgrad",
    "dualgrad-forward",
    "dualgrad.jit",
    "torch",
    "jax",
    "jax.jit",
    "autograd",
)

# The library each peer needs, and how to get it when it is missing.
_NEEDS = {
    "dualgrad.jit": ("jax", 'pip install -e ".[jax]"'),
    "torch": ("torch", "pip install torch==2.13.0"),
    "jax": ("jax", 'pip install -e ".[jax]"'),
    "jax.jit": ("jax", 'pip install -e ".[jax]"'),
    "autograd": ("autograd", 'pip install -e ".[bench]"'),
}


def missing(peer: str) -> str | None:
    """Why ``peer`` cannot run here (with the install command), or None if it can."""
    if peer not in _NEEDS:
        return None
    module, install = _NEEDS[peer]
    try:
        importlib.import_module(module)
    except ImportError:
        return f"{module} is not installed ({install})"
    return None


def module(name: str) -> ModuleType:
    """An installed peer library (checked with ``missing`` first)."""
    return importlib.import_module(name)
