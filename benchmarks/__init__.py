"""Speed: dualgrad against PyTorch, JAX, HIPS autograd and hand-written NumPy.

``python -m benchmarks`` runs the workloads W1-W8 (one module each, ``w*_*.py``) for every
installed peer and reports medians and ratios measured in the same run. This package imports
nothing heavy at import time: ``__main__`` pins the thread counts before NumPy loads.
"""
