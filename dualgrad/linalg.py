"""Linear algebra, following the Array API's ``linalg`` extension (PyTorch's ``torch.linalg``).

Every function is differentiable in both modes and works on stacks of matrices ``(..., M, N)``.
The decompositions return named tuples (``EighResult``, ``QRResult``, ``SVDResult``,
``SlogdetResult``), each field its own differentiable output.

Example:
    >>> import dualgrad
    >>> a = dualgrad.tensor([[4.0, 1.0], [1.0, 3.0]], requires_grad=True)
    >>> dualgrad.linalg.det(a).backward()
    >>> a.grad
    tensor([[ 3., -1.],
            [-1.,  4.]])
"""

from __future__ import annotations

__all__ = [
    "EighResult",
    "QRResult",
    "SVDResult",
    "SlogdetResult",
    "cholesky",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "inv",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "matrix_transpose",
    "outer",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "tensordot",
    "trace",
    "vecdot",
    "vector_norm",
]

import builtins
import operator
from typing import Any

from ._functions import (
    _tensor,
    astype,
    broadcast_to,
    getitem,
    matmul,
    matrix_transpose,
    max,
    stack,
    sum,
    where,
)
from ._functions_linalg import (
    EighResult,
    QRResult,
    SlogdetResult,
    SVDResult,
    _matrices,
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    matrix_norm,
    outer,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
    tensordot,
    vecdot,
    vector_norm,
)
from ._functions_linalg import _linalg_diagonal as diagonal
from ._functions_linalg import _linalg_trace as trace
from .tensor import Tensor


def cross(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``axis`` (other axes broadcast).

    Raises:
        ValueError: the axis does not have length 3 in both inputs.

    Example:
        >>> import dualgrad
        >>> x, y = dualgrad.tensor([1.0, 0.0, 0.0]), dualgrad.tensor([0.0, 1.0, 0.0])
        >>> dualgrad.linalg.cross(x, y)
        tensor([0., 0., 1.])
    """
    x1, x2 = _tensor(x1, "cross"), _tensor(x2, "cross")
    if not (-x1.ndim <= axis < 0 and -x2.ndim <= axis < 0):
        msg = f"cross: axis must be negative and within both inputs' dimensions, got {axis}"
        raise ValueError(msg)
    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        msg = f"cross: axis {axis} must have length 3, got shapes {x1.shape} and {x2.shape}"
        raise ValueError(msg)
    trailing = (slice(None),) * (-axis - 1)

    def part(x: Tensor, i: int) -> Tensor:
        return getitem(x, (..., i, *trailing))

    a, b = [part(x1, i) for i in range(3)], [part(x2, i) for i in range(3)]
    components = [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
    return stack(components, axis=axis)


def matrix_power(x: Tensor, n: int, /) -> Tensor:
    """``x`` multiplied by itself ``n`` times (the identity for 0, powers of ``inv(x)`` below),
    by repeated squaring.

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.matrix_power(dualgrad.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
        tensor([[1., 3.],
                [0., 1.]])
    """
    x = _matrices(x, "matrix_power", square=True)
    n = operator.index(n)
    if n < 0:
        x, n = inv(x), -n
    result = None
    while n:
        if n & 1:
            result = x if result is None else matmul(result, x)
        n >>= 1
        if n:
            x = matmul(x, x)
    if result is None:
        eye = x._backend.namespace.eye(x.shape[-1], dtype=x._array.dtype)
        return broadcast_to(Tensor._wrap(eye, x._backend), x.shape)
    return result


def _cutoff(s: Tensor, shape: tuple[int, ...], rtol: Any) -> Tensor:
    """Singular values at or below this are treated as zero: ``rtol * max(s)``, with ``rtol``
    defaulting to ``max(M, N) * eps``, as the standard says."""
    from ._array_api import finfo

    if rtol is None:
        rtol = builtins.max(shape[-2:]) * finfo(s.dtype).eps
    if isinstance(rtol, Tensor):
        rtol = getitem(rtol, (..., None))
    return rtol * max(s, axis=-1, keepdims=True)


def matrix_rank(x: Tensor, /, *, rtol: Any = None) -> Tensor:
    """The number of singular values above ``rtol * max(singular values)`` (int64).

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.matrix_rank(dualgrad.tensor([[1.0, 2.0], [2.0, 4.0]]))
        tensor(1)
    """
    x = _matrices(x, "matrix_rank")
    s = svdvals(x)
    return sum(astype(s > _cutoff(s, x.shape, rtol), "int64"), axis=-1)


def pinv(x: Tensor, /, *, rtol: Any = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse, through the SVD: singular values at or below
    ``rtol * max(singular values)`` are treated as zero. Differentiable where the SVD is
    (distinct, non-zero singular values).

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.pinv(dualgrad.tensor([[2.0, 0.0], [0.0, 0.0]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.0000]])
    """
    x = _matrices(x, "pinv")
    u, s, vh = svd(x, full_matrices=False)
    kept = s > _cutoff(s, x.shape, rtol)
    safe = where(kept, s, 1.0)
    inverse = where(kept, 1.0 / safe, 0.0)
    return matmul(
        matrix_transpose(vh) * getitem(inverse, (..., None, slice(None))), matrix_transpose(u)
    )
