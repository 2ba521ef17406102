"""Neural-network functions (``dualgrad.ops.nn``): the fused primitives where composing would
lose accuracy or overflow (``softmax``, ``log_softmax``, ``softplus``, ``log_sigmoid``,
``standardize``), ``relu``, and the patch gathering behind convolution and pooling (``unfold``,
``fold``).

``dualgrad.nn.functional`` composes these under PyTorch's names and signatures (``dim``,
``dtype``, ``inplace``, which check that inputs are floating point); ``dualgrad.special``
re-exports ``softmax`` and ``log_softmax`` as SciPy has them, and ``log_sigmoid`` as
``log_expit``. Here, as in the special functions, integer and bool tensors are computed in the
default float dtype and ``axis=None`` means every axis.
"""

from __future__ import annotations

__all__ = [
    "fold",
    "log_sigmoid",
    "log_softmax",
    "relu",
    "softmax",
    "softplus",
    "standardize",
    "unfold",
]

import warnings
from typing import Any

from .. import ops
from .._dispatch import apply
from ..tensor import Tensor, method
from ._args import as_tensor, floating, normalize_axes, require_floating
from ._methods import in_place


def relu(x: Tensor, /) -> Tensor:
    """``max(x, 0)``, with gradient 0 at 0 as in PyTorch (NaN stays NaN); integer tensors
    stay integer.

    Example:
        >>> import dualgrad
        >>> dualgrad.nn.functional.relu(dualgrad.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """
    return apply(ops.relu, (as_tensor(x, "relu"),), {})


def softmax(x: Tensor, /, *, axis: Any = None) -> Tensor:
    """``exp(x)`` normalized to sum to 1 over ``axis`` (every axis when None), without overflow.

    Example:
        >>> import dualgrad
        >>> dualgrad.special.softmax(dualgrad.tensor([1000.0, 1000.0]))
        tensor([0.5000, 0.5000])
    """
    x = floating(as_tensor(x, "softmax"))
    return apply(ops.softmax, (x,), {"axis": normalize_axes(axis, x.ndim, "softmax")})


def log_softmax(x: Tensor, /, *, axis: Any = None) -> Tensor:
    """``x - logsumexp(x)`` over ``axis`` (every axis when None): finite for any ``x``.

    Example:
        >>> import dualgrad
        >>> dualgrad.special.log_softmax(dualgrad.tensor([0.0, 0.0]))
        tensor([-0.6931, -0.6931])
    """
    x = floating(as_tensor(x, "log_softmax"))
    return apply(ops.log_softmax, (x,), {"axis": normalize_axes(axis, x.ndim, "log_softmax")})


def softplus(x: Tensor, /, *, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``, as in
    PyTorch; computed without overflow for any ``x``."""
    x = floating(as_tensor(x, "softplus"))
    return apply(ops.softplus, (x,), {"beta": float(beta), "threshold": float(threshold)})


def log_sigmoid(x: Tensor, /) -> Tensor:
    """``log(sigmoid(x))``, finite for any ``x`` (``-softplus(-x)``).

    Example:
        >>> import dualgrad
        >>> dualgrad.special.log_expit(dualgrad.tensor([-1000.0]))
        tensor([-1000.])
    """
    return apply(ops.log_sigmoid, (floating(as_tensor(x, "log_sigmoid")),), {})


def standardize(x: Tensor, /, *, axis: Any = None, eps: float = 1e-5) -> Tensor:
    """``(x - mean) / sqrt(var + eps)`` over ``axis`` (every axis when None), with the biased
    variance: the core of ``layer_norm`` and ``batch_norm`` (as ``jax.nn.standardize``).

    Example:
        >>> import dualgrad
        >>> from dualgrad.functions.nn import standardize
        >>> standardize(dualgrad.tensor([1.0, 3.0]), eps=0.0)
        tensor([-1.,  1.])
    """
    x = require_floating(x, "standardize")
    axes = normalize_axes(axis, x.ndim, "standardize")
    return apply(ops.standardize, (x,), {"axis": axes, "eps": float(eps)})


def unfold(
    x: Tensor,
    /,
    *,
    kernel_size: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
    stride: tuple[int, int] = (1, 1),
) -> Tensor:
    """Every kernel-sized patch of the image ``x`` (``(..., C, H, W)``) as a column of
    ``(..., C * kh * kw, L)`` (im2col); options are (rows, columns) pairs, the padding zeros.
    ``dualgrad.nn.functional.unfold`` is this with PyTorch's signature and checks.

    Example:
        >>> import dualgrad
        >>> from dualgrad.functions.nn import unfold
        >>> unfold(dualgrad.ones(2, 3, 4, 4), kernel_size=(2, 2), stride=(2, 2)).shape
        torch.Size([2, 12, 4])
    """
    params = {"kernel_size": kernel_size, "dilation": dilation, "padding": padding}
    return apply(ops.unfold, (as_tensor(x, "unfold"),), {**params, "stride": stride})


def fold(
    x: Tensor,
    /,
    *,
    output_size: tuple[int, int],
    kernel_size: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
    stride: tuple[int, int] = (1, 1),
) -> Tensor:
    """Columns ``(..., C * kh * kw, L)`` added back into images ``(..., C, *output_size)``
    (col2im): ``unfold``'s transpose. ``dualgrad.nn.functional.fold`` is this with PyTorch's
    signature and checks.

    Example:
        >>> import dualgrad
        >>> from dualgrad.functions.nn import fold
        >>> fold(dualgrad.ones(4, 1), output_size=(2, 2), kernel_size=(2, 2))
        tensor([[[1., 1.],
                 [1., 1.]]])
    """
    params = {"kernel_size": kernel_size, "dilation": dilation, "padding": padding}
    return apply(
        ops.fold, (as_tensor(x, "fold"),), {"output_size": output_size, **params, "stride": stride}
    )


def torch_dim(x: Tensor, dim: int | None, name: str) -> int | None:
    """PyTorch's ``dim`` of ``softmax`` and ``log_softmax``: when None, its deprecated implicit
    choice (0 for 0-, 1- and 3-dimensional inputs, else 1), with PyTorch's warning, attributed
    to the caller of the caller."""
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. "
            "Change the call to include dim=X as an argument.",
            UserWarning,
            stacklevel=3,
        )
    return dim


def _softmax_method(self: Tensor, dim: int | None) -> Tensor:
    """``softmax`` along ``dim``, as PyTorch's method (floating point tensors only)."""
    x = require_floating(self, "softmax")
    return softmax(x, axis=torch_dim(x, dim, "softmax"))


def _log_softmax_method(self: Tensor, dim: int | None) -> Tensor:
    """``log_softmax`` along ``dim``, as PyTorch's method (floating point tensors only)."""
    x = require_floating(self, "log_softmax")
    return log_softmax(x, axis=torch_dim(x, dim, "log_softmax"))


method(relu)
method(in_place(relu, "relu_"), "relu_")
method(_softmax_method, "softmax")
method(_log_softmax_method, "log_softmax")
