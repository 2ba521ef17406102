"""The Fourier transforms, following the Array API's ``fft`` extension (PyTorch's
``torch.fft``), differentiable in both modes. The functions are the fft family's
(``dualgrad.functions.fft``); this namespace only re-exports them.

Example:
    >>> import dualgrad
    >>> x = dualgrad.tensor([1.0, 2.0, 0.0, -1.0], requires_grad=True)
    >>> dualgrad.fft.rfft(x).abs().sum().backward()
    >>> x.grad
    tensor([1.3162, 1.9487, 0.6838, 0.0513])
"""

from __future__ import annotations

from .functions.fft import (
    fft,
    fftfreq,
    fftn,
    fftshift,
    hfft,
    ifft,
    ifftn,
    ifftshift,
    ihfft,
    irfft,
    irfftn,
    rfft,
    rfftfreq,
    rfftn,
)

__all__ = [
    "fft",
    "fftfreq",
    "fftn",
    "fftshift",
    "hfft",
    "ifft",
    "ifftn",
    "ifftshift",
    "ihfft",
    "irfft",
    "irfftn",
    "rfft",
    "rfftfreq",
    "rfftn",
]
