"""``torch.backends.cuda``: the switches PyTorch programs set for its own CUDA kernels
(``torch.backends.cuda.matmul.allow_tf32 = True``).

dualgrad has no CUDA kernels of its own (a backend's library does its GPU work), so, as on
PyTorch's CPU-only builds, ``is_built()`` is False and the switches can be set and read but
change nothing.
"""

from __future__ import annotations

__all__ = ["is_built", "matmul"]

from types import SimpleNamespace

# TF32 in float32 matrix products, and reduced-precision reductions in float16 and bfloat16
# ones: PyTorch's defaults.
matmul = SimpleNamespace(
    allow_tf32=False,
    allow_fp16_reduced_precision_reduction=True,
    allow_bf16_reduced_precision_reduction=True,
)


def is_built() -> bool:
    """False: dualgrad has no CUDA kernels of its own."""
    return False
