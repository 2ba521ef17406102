"""Op table lines for the nn family (joined into ``op_db.OP_DB``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from op_db import NONZERO, UNARY, OpSpec, Params

import dualgrad.nn.functional as F
from dualgrad import ops


def _log_softmax_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    (x,) = arrays
    if x.size == 0:
        return x.copy()
    shifted = x - np.max(x, axis=params["axis"], keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=params["axis"], keepdims=True))


def _softmax_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    return np.exp(_log_softmax_reference(arrays, params))


def _softplus_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    (x,) = arrays
    z = x * params["beta"]
    return np.where(z > params["threshold"], x, np.logaddexp(0.0, z) / params["beta"])


def _log_sigmoid_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    return -np.logaddexp(0.0, -arrays[0])


def _softmax_call(function: Any) -> Any:
    # The public functions take one dim; the op table's axis is a one-axis tuple.
    return lambda tensors, params: function(tensors[0], dim=params["axis"][0])


def _torch_softmax(name: str) -> Any:
    return lambda torch, ts, params: getattr(torch, name)(ts[0], dim=params["axis"][0])


SOFTMAX_CASES = [
    (((3, 4),), {"axis": (-1,)}),
    (((2, 3, 4),), {"axis": (-2,)}),
    (((4,),), {"axis": (-1,)}),
    (((2, 0),), {"axis": (-1,)}),
]

SPECS: list[OpSpec] = [
    OpSpec(
        ops.relu,
        shapes=UNARY,
        args=(NONZERO,),  # away from the kink at 0
        call=lambda tensors, params: F.relu(tensors[0]),
        reference=lambda arrays, params: np.maximum(arrays[0], 0.0),
        torch=lambda torch, ts, params: torch.relu(ts[0]),
    ),
    OpSpec(
        ops.log_softmax,
        cases=SOFTMAX_CASES,
        low=-5.0,
        high=5.0,
        call=_softmax_call(F.log_softmax),
        reference=_log_softmax_reference,
        torch=_torch_softmax("log_softmax"),
    ),
    OpSpec(
        ops.softmax,
        cases=SOFTMAX_CASES,
        low=-5.0,
        high=5.0,
        call=_softmax_call(F.softmax),
        reference=_softmax_reference,
        torch=_torch_softmax("softmax"),
    ),
    OpSpec(
        ops.softplus,
        shapes=UNARY,
        params=[{"beta": 1.0, "threshold": 20.0}, {"beta": 2.0, "threshold": 3.0}],
        low=-4.0,
        high=4.0,
        call=lambda tensors, params: F.softplus(tensors[0], **params),
        reference=_softplus_reference,
        torch=lambda torch, ts, params: torch.nn.functional.softplus(ts[0], **params),
    ),
    OpSpec(
        ops.log_sigmoid,
        shapes=UNARY,
        low=-6.0,
        high=6.0,
        call=lambda tensors, params: F.logsigmoid(tensors[0]),
        reference=_log_sigmoid_reference,
        torch=lambda torch, ts, params: torch.nn.functional.logsigmoid(ts[0]),
    ),
]
