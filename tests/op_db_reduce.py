"""Op table lines for the reduce family (joined into ``op_db.OP_DB``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from op_db import NONZERO, REDUCED, REDUCTIONS, OpSpec, reduce, reduce_all

import dualgrad
from dualgrad import ops

SINGLE_AXIS = (reduce(-1), reduce(-2, keepdims=True))
CUMULATIVE = [
    (((3, 4),), {"axis": -1}),
    (((2, 3, 4),), {"axis": -2}),
    (((5,),), {"axis": -1}),
    (((0, 3),), {"axis": -1}),
]
ARG_EXTREME = [
    (((3, 4),), {"axis": -1, "keepdims": False}),
    (((2, 3, 4),), {"axis": -2, "keepdims": True}),
    (((0, 3),), {"axis": -1, "keepdims": False}),
]


def _torch_prod(torch: Any, tensors: Any, params: Any) -> Any:
    (axis,) = params["axis"]  # torch.prod reduces one dim at a time
    return torch.prod(tensors[0], dim=axis, keepdim=params["keepdims"])


def _logsumexp_reference(arrays: Any, params: Any) -> np.ndarray:
    return np.log(np.sum(np.exp(arrays[0]), axis=params["axis"], keepdims=params["keepdims"]))


SPECS: list[OpSpec] = []
SPECS.append(OpSpec(ops.prod, shapes=[*REDUCED, ((0, 3),)], params=SINGLE_AXIS, torch=_torch_prod))
SPECS.append(
    OpSpec(
        ops.prod,
        shapes=REDUCED,
        params=(reduce(-3, -1), reduce_all(keepdims=True)),
        label="-axes",
    )
)
SPECS.append(
    OpSpec(
        ops.logsumexp,
        # over no elements logsumexp is -inf, where finite differences cannot go
        cases=[
            (shapes, params(shapes) if callable(params) else params)
            for shapes in REDUCED
            for params in REDUCTIONS
        ]
        + [(((0, 3),), reduce(-1))],
        low=-4.0,
        high=4.0,
        reference=_logsumexp_reference,
        torch=lambda torch, ts, params: torch.logsumexp(
            ts[0], dim=params["axis"], keepdim=params["keepdims"]
        ),
    )
)
SPECS.append(
    OpSpec(
        ops.euclidean_norm,
        # away from the origin, where the norm is smooth; the origin is a boundary case
        cases=[
            (shapes, params(shapes) if callable(params) else params)
            for shapes in REDUCED
            for params in REDUCTIONS
        ],
        args=(NONZERO,),
        call=lambda tensors, params: dualgrad.linalg.vector_norm(tensors[0], **params),
        reference=lambda arrays, params: np.sqrt(
            np.sum(arrays[0] ** 2, axis=params["axis"], keepdims=params["keepdims"])
        ),
        torch=lambda torch, ts, params: torch.linalg.vector_norm(
            ts[0], dim=params["axis"], keepdim=params["keepdims"]
        ),
    )
)
SPECS.append(
    OpSpec(
        ops.cumulative_sum,
        cases=CUMULATIVE,
        torch=lambda torch, ts, params: torch.cumsum(ts[0], dim=params["axis"]),
    )
)
SPECS.append(
    OpSpec(
        ops.cumulative_prod,
        cases=CUMULATIVE,
        torch=lambda torch, ts, params: torch.cumprod(ts[0], dim=params["axis"]),
    )
)
SPECS.append(OpSpec(ops.argmax, cases=ARG_EXTREME))
SPECS.append(OpSpec(ops.argmin, cases=ARG_EXTREME))
