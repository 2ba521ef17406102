"""Primitives about how numbers are represented: complex parts, and ``nextafter``.

The complex parts are real-linear but not holomorphic, so their rules are written out. The rules
transpose under the pairing ``Re(sum(u * v))`` (``_primitive``'s docstring): the transpose of
``t -> real(t)`` embeds ``g`` as a complex number, that of ``t -> imag(t)`` is ``-1j * g``, and
``conj`` is its own. On real tensors the public functions do not reach these primitives
(``real(x)`` is ``x``).
"""

from __future__ import annotations

__all__ = ["angle", "conj", "imag", "nextafter", "real"]

from ._primitive import Primitive, nondiff


def _as_complex(xp, g, x):
    """A real cotangent as a complex array of ``x``'s dtype."""
    return xp.astype(g, x.dtype)


conj = Primitive(
    "conj",
    forward=lambda xp, x: xp.conj(x),
    vjp=(lambda xp, g, ans, x: xp.conj(g),),
    jvp=(lambda xp, t, ans, x: xp.conj(t),),
    linear=True,
    elementwise=True,
)
real = Primitive(
    "real",
    forward=lambda xp, x: xp.real(x),
    vjp=(lambda xp, g, ans, x: _as_complex(xp, g, x),),
    jvp=(lambda xp, t, ans, x: xp.real(t),),
    linear=True,
    elementwise=True,
)
imag = Primitive(
    "imag",
    forward=lambda xp, x: xp.imag(x),
    vjp=(lambda xp, g, ans, x: _as_complex(xp, g, x) * -1j,),
    jvp=(lambda xp, t, ans, x: xp.imag(t),),
    linear=True,
    elementwise=True,
)


# angle(x) = atan2(imag x, real x), of a complex x. Its tangent is Im(conj(x) t) / |x|^2, whose
# transpose is -1j g conj(x) / |x|^2 (PyTorch's convention conjugates it: 1j g x / |x|^2). At 0
# the derivative is taken as 0, as PyTorch does, rather than 0 / 0.
def _angle_scale(xp, x):
    """``conj(x) / |x|^2``, zero where ``x`` is."""
    squared = xp.real(x) ** 2 + xp.imag(x) ** 2
    zero = squared == 0
    safe = xp.where(zero, xp.ones_like(squared), squared)
    return xp.where(zero, xp.zeros_like(x), xp.conj(x) / safe)


angle = Primitive(
    "angle",
    forward=lambda xp, x: xp.atan2(xp.imag(x), xp.real(x)),
    vjp=(lambda xp, g, ans, x: _as_complex(xp, g, x) * _angle_scale(xp, x) * -1j,),
    jvp=(lambda xp, t, ans, x: xp.imag(_angle_scale(xp, x) * t),),
    elementwise=True,
)
# nextafter carries no gradient, as in PyTorch and JAX (it is a step of one unit in the last
# place, used to probe floating point, not to compute with).
nextafter = nondiff("nextafter", 2)
