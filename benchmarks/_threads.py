"""Match the thread counts of every peer's math library, before any of them is imported."""

from __future__ import annotations

import os

_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def pin(threads: int) -> dict[str, str]:
    """Set the BLAS/OpenMP and XLA thread variables; call before NumPy, torch or JAX load."""
    for name in _VARIABLES:
        os.environ[name] = str(threads)
    # JAX's CPU backend: Eigen's thread pool and the intra-op parallelism, likewise.
    multi = "true" if threads > 1 else "false"
    os.environ["XLA_FLAGS"] = (
        f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_multi_thread_eigen={multi} "
        f"intra_op_parallelism_threads={threads}"
    ).strip()
    return {name: os.environ[name] for name in _VARIABLES}


def pin_torch(torch: object, threads: int) -> None:
    """PyTorch reads its own setting: the same count, intra- and inter-op."""
    torch.set_num_threads(threads)  # type: ignore[attr-defined]
