"""The one late binding: dualgrad's namespace, for the layers below it that call back up.

Derivative rules are written once, on the namespace they are handed. For first derivatives the
engines hand them the backend's namespace and arrays; when a derivative must itself be
differentiable (``create_graph=True``, nested dual levels, forward over reverse) they hand them
dualgrad's differentiable namespace, ``dualgrad.functions``, whose functions take Tensors and
record what they do. That namespace is built on the engines, so the engines cannot import it:
they reach it at call time through ``differentiable()``. ``Tensor.__array_namespace__`` reaches
the ``dualgrad`` package the same way.

This is the only import in dualgrad that points up its layers (tests/test_layering.py).
"""

from __future__ import annotations

from types import ModuleType

_package: ModuleType | None = None


def package() -> ModuleType:
    """The ``dualgrad`` package, imported on first use (it is complete by then)."""
    global _package
    if _package is None:
        import dualgrad  # the late binding

        _package = dualgrad
    return _package


def differentiable() -> ModuleType:
    """``dualgrad.functions``: the namespace on which rules take and return Tensors."""
    return package().functions
