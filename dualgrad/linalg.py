"""Linear algebra, following the Array API's ``linalg`` extension (PyTorch's ``torch.linalg``).

Every function is differentiable in both modes and works on stacks of matrices ``(..., M, N)``.
The decompositions return named tuples (``EighResult``, ``QRResult``, ``SVDResult``,
``SlogdetResult``), each field its own differentiable output. The functions are the linear
algebra family's (``dualgrad.functions.linalg``); this namespace only re-exports them.

Example:
    >>> import dualgrad
    >>> a = dualgrad.tensor([[4.0, 1.0], [1.0, 3.0]], requires_grad=True)
    >>> dualgrad.linalg.det(a).backward()
    >>> a.grad
    tensor([[ 3., -1.],
            [-1.,  4.]])
"""

from __future__ import annotations

from .functions.linalg import (
    EighResult,
    QRResult,
    SlogdetResult,
    SVDResult,
    cholesky,
    cross,
    det,
    diagonal,
    eigh,
    eigvalsh,
    inv,
    matmul,
    matrix_norm,
    matrix_power,
    matrix_rank,
    matrix_transpose,
    norm,
    outer,
    pinv,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
    tensordot,
    trace,
    vecdot,
    vector_norm,
)

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
    "norm",
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
