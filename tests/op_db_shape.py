"""Op table lines for the shape family (joined into ``op_db.OP_DB``).

The family's other functions (flip, roll, tile, repeat, take, take_along_axis, sort, index_put,
...) are compositions of core primitives, tested in ``tests/test_functions_shape.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from op_db import Arg, OpSpec

from dualgrad import ops


def _argsort_reference(arrays: Sequence[np.ndarray], params: dict[str, Any]) -> np.ndarray:
    x = arrays[0]
    return np.argsort(-x if params["descending"] else x, axis=params["axis"], stable=True)


def _sorting(axis: int, *, descending: bool = False) -> dict[str, Any]:
    return {"axis": axis, "descending": descending, "stable": True}


SPECS: list[OpSpec] = []
SPECS.append(
    OpSpec(
        ops.argsort,
        cases=[
            (((3, 4),), _sorting(-1)),
            (((2, 3, 4),), _sorting(-2, descending=True)),
            (((2, 0),), _sorting(-1)),
        ],
        reference=_argsort_reference,
    )
)
# Ties: a stable sort keeps equal elements in their order, in both directions.
SPECS.append(
    OpSpec(
        ops.argsort,
        cases=[(((4, 6),), _sorting(-1)), (((4, 6),), _sorting(-1, descending=True))],
        args=(Arg("int64", -2, 2),),
        reference=_argsort_reference,
        label="-ties",
    )
)
