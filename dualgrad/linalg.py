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
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "inv",
    "matmul",
    "matrix_norm",
    "matrix_transpose",
    "outer",
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

from ._functions import matmul, matrix_transpose
from ._functions_linalg import (
    EighResult,
    QRResult,
    SlogdetResult,
    SVDResult,
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
