"""Linear algebra beyond matmul: tensordot, vecdot, outer, trace, diagonal, einsum, linalg.

Public functions here are re-exported by ``dualgrad._functions`` (so derivative rules find them on
the differentiable namespace) and by ``dualgrad``.
"""

from __future__ import annotations

__all__: list[str] = []
