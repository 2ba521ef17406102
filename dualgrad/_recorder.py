"""The hook through which ``dualgrad.jit`` watches a step while it traces it.

While ``dualgrad.jit`` traces a step, ``recorder`` is its recorder (see ``_jit.py``) and is told
which Tensors each operation reads, which Tensors an in-place update writes and which leaves'
``.grad`` change (and whether the change adds to the ``.grad`` there is, as ``backward()``
does, or replaces it, as assigning ``.grad`` does); otherwise it is None. The dispatcher,
Tensor and the reverse engine report to it; it sits at the bottom of the package so that each
of them can, whatever their order.
"""

from __future__ import annotations

from typing import Any

recorder: Any = None
