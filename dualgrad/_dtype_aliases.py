"""PyTorch's other names for dualgrad's dtypes (``torch.float`` is float32, ``torch.long``
int64, ...): the same objects, so ``dualgrad.float is dualgrad.float32``."""

from __future__ import annotations

__all__ = ["cdouble", "cfloat", "double", "dtype", "float", "half", "int", "long", "short"]

from . import _dtypes

dtype = _dtypes.DType  # isinstance(x.dtype, torch.dtype), as PyTorch code checks
float = _dtypes.float32
double = _dtypes.float64
half = _dtypes.float16
long = _dtypes.int64
int = _dtypes.int32
short = _dtypes.int16
cfloat = _dtypes.complex64
cdouble = _dtypes.complex128
