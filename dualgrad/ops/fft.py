"""The discrete Fourier transforms: three linear primitives, by what they map.

``fft_c2c`` is the complex transform (forward or inverse) over ``axes``, ``fft_r2c`` the real
input's half spectrum (``rfftn``), ``fft_c2r`` its inverse (``irfftn``) to ``n`` points along the
last axis. The public functions (``dualgrad.fft``) pad or crop the input to the transform's size
first, so the primitives never do.

The rules transpose under the pairing ``Re(sum(u * v))`` (``_primitive``'s docstring). The DFT
matrix is symmetric, so a complex transform is its own transpose, with the same norm. The half
spectrum of a real ``x`` is a crop of its full transform: its transpose is the real part of the
full transform of the zero-padded cotangent. ``irfftn`` reads ``Re(A X)``, where ``A`` is the
inverse transform with the half spectrum's interior bins counted twice (they stand for their
mirror images too): its transpose is ``A^T g``, the inverse transform of ``g`` cropped to the
half spectrum (for a real ``g``, the conjugate of its ``rfftn``), interior bins doubled.
"""

from __future__ import annotations

__all__ = ["fft_c2c", "fft_c2r", "fft_r2c"]

from ._primitive import Primitive


def _c2c(xp, x, *, axes, norm, inverse):
    return (xp.fft.ifftn if inverse else xp.fft.fftn)(x, axes=axes, norm=norm)


fft_c2c = Primitive(
    "fft_c2c",
    forward=_c2c,
    vjp=(lambda xp, g, ans, x, **params: _c2c(xp, g, **params),),
    jvp=(lambda xp, t, ans, x, **params: _c2c(xp, t, **params),),
    linear=True,
    grad_fn="FftC2C",
)


def _r2c_vjp(xp, g, ans, x, *, axes, norm):
    sizes = tuple(x.shape[axis] for axis in axes)
    return xp.real(xp.fft.fftn(g, s=sizes, axes=axes, norm=norm))


fft_r2c = Primitive(
    "fft_r2c",
    forward=lambda xp, x, *, axes, norm: xp.fft.rfftn(x, axes=axes, norm=norm),
    vjp=(_r2c_vjp,),
    jvp=(lambda xp, t, ans, x, *, axes, norm: xp.fft.rfftn(t, axes=axes, norm=norm),),
    linear=True,
    grad_fn="FftR2C",
)


def _c2r(xp, x, *, axes, n, norm):
    sizes = (*(x.shape[axis] for axis in axes[:-1]), n)
    return xp.fft.irfftn(x, s=sizes, axes=axes, norm=norm)


# The norm whose scale is the other's inverse: conj(rfftn(g, norm=_DUAL[norm])) is the inverse
# transform of a real g with ``norm``, cropped to the half spectrum.
_DUAL = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _c2r_vjp(xp, g, ans, x, *, axes, n, norm):
    last = axes[-1]
    half = n // 2 + 1
    cropped = xp.conj(xp.fft.rfftn(g, axes=axes, norm=_DUAL[norm]))
    # 1 for the zero frequency (and Nyquist's, n even), 2 for the bins that stand for a pair
    bins = xp.arange(half)
    single = (bins == 0) | (bins == n // 2) if n % 2 == 0 else bins == 0
    weights = 2.0 - xp.astype(single, g.dtype)
    return cropped * xp.reshape(weights, (half,) + (1,) * (-last - 1))


fft_c2r = Primitive(
    "fft_c2r",
    forward=_c2r,
    vjp=(_c2r_vjp,),
    jvp=(lambda xp, t, ans, x, **params: _c2r(xp, t, **params),),
    linear=True,
    grad_fn="FftC2R",
)
