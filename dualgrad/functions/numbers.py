"""Functions about how numbers are represented (``dualgrad.ops.numbers``): complex parts and
``nextafter``, none of them differentiable.

On a real tensor, ``conj`` and ``real`` are a copy in the graph and ``imag`` zeros: the
primitives are reached by complex tensors only.
"""

from __future__ import annotations

__all__ = ["conj", "imag", "nextafter", "real"]

from typing import Any

from .. import ops
from .._dispatch import elementwise
from ..tensor import Tensor
from ._args import as_tensor
from .creation import zeros_like
from .elementwise import function_of, positive


def _complex_part(prim: ops.Primitive, on_real: Any) -> Any:
    def function(x: Tensor, /) -> Tensor:
        x = as_tensor(x, prim.name)
        return elementwise(prim, x) if x.dtype.is_complex else on_real(x)

    function.__name__ = function.__qualname__ = prim.name
    return function


conj = _complex_part(ops.conj, positive)
conj.__doc__ = "The complex conjugate; a real tensor is returned as a copy in the graph."
real = _complex_part(ops.real, positive)
real.__doc__ = "The real part (float for complex input); a real tensor is copied in the graph."
imag = _complex_part(ops.imag, zeros_like)
imag.__doc__ = "The imaginary part (float for complex input); zeros for a real tensor."

nextafter = function_of(
    ops.nextafter,
    2,
    "The next representable float after ``x1`` towards ``x2``; never differentiable (as in "
    "PyTorch and JAX).",
)
