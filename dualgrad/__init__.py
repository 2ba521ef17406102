"""dualgrad: automatic differentiation with PyTorch's face, two engines and any Array API backend.

Example:
    >>> import dualgrad as torch
    >>> x = torch.tensor(2.0, requires_grad=True)
    >>> y = x ** 2 + 3 * x + 1
    >>> y.backward()
    >>> print(x.grad)
    tensor(7.)
"""

from __future__ import annotations

import sys

# ``autograd`` comes first (sorted so): its engine imports ``tensor``, which imports autograd's
# grad mode and tape, so autograd must be importing already when ``tensor`` is.
from . import (
    accelerator,
    amp,
    autograd,
    cuda,
    fft,
    forward_ad,
    func,
    functions,
    linalg,
    nn,
    optim,
    special,
    testing,
    tree_util,
    utils,
)
from ._array_api import (
    __array_api_version__,
    __array_namespace_info__,
    broadcast_shapes,
    can_cast,
    e,
    finfo,
    from_dlpack,
    iinfo,
    inf,
    nan,
    newaxis,
    pi,
    result_type,
)
from ._device import device, get_default_device, set_default_device
from ._dtype_aliases import cdouble, cfloat, double, dtype, float, half, int, long, short
from ._dtypes import (
    DType,
    bool,
    complex64,
    complex128,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
)
from ._generator import Generator
from ._jit import jit
from ._printing import get_printoptions, printoptions, set_printoptions
from ._size import Size
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled

# ``torch.autograd.forward_ad`` and ``torch.autograd.functional``, as PyTorch code reaches them
# (``import torch.autograd.forward_ad as fwAD`` too): the same modules, under autograd.
from .autograd import functional as _autograd_functional  # noqa: F401

# ``torch.backends.mps``: above the registry it sits in (see dualgrad.backends), so loaded here.
from .backends import mps as _backends_mps  # noqa: F401
from .config import (
    get_backend,
    get_default_dtype,
    get_mode,
    set_backend,
    set_default_dtype,
    set_mode,
    use_backend,
    use_mode,
)
from .func import (
    checkpoint,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacrev,
    jvp,
    remat,
    value_and_grad,
    vjp,
    vmap,
)
from .functions import *  # noqa: F403 - the functions of every family but special and nn
from .functions.special import erf
from .serialization import SerializationError, load, save
from .tensor import Tensor

# isort: split
# After the functions: PyTorch's matmul (its keywords too) replaces the Array API's here.
from . import _torch_aliases
from ._torch_aliases import *  # noqa: F403 - PyTorch's spellings and top-level functions

autograd.forward_ad = forward_ad  # type: ignore[attr-defined]
sys.modules[f"{__name__}.autograd.forward_ad"] = forward_ad

__version__ = "0.1.0"

__all__ = [
    "DType",
    "Generator",
    "SerializationError",
    "Size",
    "Tensor",
    "__array_api_version__",
    "__array_namespace_info__",
    "accelerator",
    "amp",
    "autograd",
    "bool",
    "broadcast_shapes",
    "can_cast",
    "cdouble",
    "cfloat",
    "checkpoint",
    "complex128",
    "complex64",
    "cuda",
    "device",
    "double",
    "dtype",
    "e",
    "enable_grad",
    "erf",
    "fft",
    "finfo",
    "float",
    "float16",
    "float32",
    "float64",
    "forward_ad",
    "from_dlpack",
    "func",
    "get_backend",
    "get_default_device",
    "get_default_dtype",
    "get_mode",
    "get_printoptions",
    "grad",
    "half",
    "hessian",
    "hvp",
    "iinfo",
    "inf",
    "inference_mode",
    "int",
    "int16",
    "int32",
    "int64",
    "int8",
    "is_grad_enabled",
    "jacfwd",
    "jacrev",
    "jit",
    "jvp",
    "linalg",
    "load",
    "long",
    "nan",
    "newaxis",
    "nn",
    "no_grad",
    "optim",
    "pi",
    "printoptions",
    "remat",
    "result_type",
    "save",
    "set_backend",
    "set_default_device",
    "set_default_dtype",
    "set_grad_enabled",
    "set_mode",
    "set_printoptions",
    "short",
    "special",
    "testing",
    "tree_util",
    "uint16",
    "uint32",
    "uint64",
    "uint8",
    "use_backend",
    "use_mode",
    "utils",
    "value_and_grad",
    "vjp",
    "vmap",
    *functions.__all__,
    *_torch_aliases.__all__,
]
