"""Functions about how numbers are represented (``dualgrad.ops.numbers``): complex parts,
``angle`` and ``nextafter``.

On a real tensor, ``conj`` and ``real`` are a copy in the graph and ``imag`` zeros: the
primitives are reached by complex tensors only. Their derivatives follow PyTorch's convention
for complex numbers (see the page on complex numbers).
"""

from __future__ import annotations

__all__ = ["angle", "conj", "imag", "isdtype", "nextafter", "real"]

import builtins
import math
from typing import Any

from .. import ops
from .._dispatch import apply, elementwise
from .._dtypes import DType
from ..tensor import Tensor, method
from ._args import as_dtype, as_tensor, floating
from .creation import zeros_like
from .elementwise import function_of, multiply, positive

# Here rather than with the other dtype functions (``_array_api``): derivative rules call it on
# the differentiable namespace, this package.
_KINDS = {
    "bool": "b",
    "signed integer": "i",
    "unsigned integer": "u",
    "integral": "iu",
    "real floating": "f",
    "complex floating": "c",
    "numeric": "iufc",
}


def isdtype(dtype: DType, kind: Any) -> builtins.bool:
    """Whether ``dtype`` is ``kind``: a dtype, a kind name (``"real floating"``, ...) or a tuple
    of them.

    Raises:
        ValueError: an unknown kind name.
    """
    if isinstance(kind, tuple):
        return builtins.any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            msg = f"isdtype: unknown kind {kind!r}; choose one of: {', '.join(_KINDS)}"
            raise ValueError(msg)
        return dtype.kind in _KINDS[kind]
    return dtype is as_dtype(kind)


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
method(conj, "conj", "conj_physical")
method(property(real), "real")
method(property(imag), "imag")


def _real_angle(x: Tensor) -> Tensor:
    # pi where x < 0, else 0: constant where it is differentiable, so no gradient flows.
    x = floating(x)
    return multiply(apply(ops.astype, (x.detach() < 0,), {"dtype": x.dtype}), math.pi)


angle = method(_complex_part(ops.angle, _real_angle))
angle.__doc__ = """The argument of each element, in radians on ``(-pi, pi]`` (PyTorch's ``angle``).

    Differentiable for complex input (zero at 0, as in PyTorch); for a real tensor, ``pi``
    where it is negative and 0 elsewhere, a constant.

    Example:
        >>> import dualgrad
        >>> dualgrad.angle(dualgrad.tensor([1j, -1.0 + 0j]))
        tensor([1.5708, 3.1416])
    """

nextafter = function_of(
    ops.nextafter,
    2,
    "The next representable float after ``x1`` towards ``x2``; never differentiable (as in "
    "PyTorch and JAX).",
)
