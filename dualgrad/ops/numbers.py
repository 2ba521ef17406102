"""Primitives about how numbers are represented: complex parts and ``nextafter``, none of them
differentiable.

Complex tensors never require grad in dualgrad, so ``conj``, ``real`` and ``imag`` carry no
rules; on real tensors the public functions do not reach them (``real(x)`` is ``x``).
"""

from __future__ import annotations

__all__ = ["conj", "imag", "nextafter", "real"]

from ._primitive import nondiff

conj = nondiff("conj", 1)
real = nondiff("real", 1)
imag = nondiff("imag", 1)
# nextafter carries no gradient, as in PyTorch and JAX (it is a step of one unit in the last
# place, used to probe floating point, not to compute with).
nextafter = nondiff("nextafter", 2)
