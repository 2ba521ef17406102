"""Op table lines for the rest of the Array API's primitives: complex parts, ``nextafter``, and
the searching and set primitives (joined into ``op_db.OP_DB``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from op_db import BINARY, UNARY, Arg, OpSpec, Params, _apply

from dualgrad import ops

COMPLEX = Arg("complex128")
SMALL_INTS = Arg("int64", -2, 3)  # repeats, and zeros for nonzero


def _int64(function: Callable[[np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    def reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
        return np.asarray(function(*arrays, **params), dtype=np.int64)

    return reference


def _torch_part(name: str) -> Callable[..., Any]:
    return lambda torch, tensors, params: getattr(torch, name)(tensors[0])


SPECS: list[OpSpec] = [
    OpSpec(ops.conj, shapes=UNARY, args=(COMPLEX,), torch=_torch_part("conj_physical")),
    OpSpec(ops.real, shapes=UNARY, args=(COMPLEX,), torch=_torch_part("real")),
    OpSpec(ops.imag, shapes=UNARY, args=(COMPLEX,), torch=_torch_part("imag")),
    OpSpec(ops.angle, shapes=UNARY, args=(COMPLEX,), torch=_torch_part("angle")),
    OpSpec(ops.nextafter, shapes=BINARY),
    OpSpec(
        ops.nonzero,
        call=_apply(ops.nonzero),
        shapes=[((3, 4),), ((5,),), ((0, 2),)],
        args=(SMALL_INTS,),
        reference=_int64(lambda x: np.stack(np.nonzero(x))),
    ),
    # x1 of one element is sorted, whatever is drawn
    OpSpec(
        ops.searchsorted,
        call=_apply(ops.searchsorted),
        cases=[
            (((1,), (3, 4)), {"side": "left"}),
            (((1,), (5,)), {"side": "right"}),
            (((1,), ()), {"side": "left"}),
        ],
        args=(SMALL_INTS, SMALL_INTS),
        reference=_int64(np.searchsorted),
    ),
    OpSpec(
        ops.unique_values,
        call=_apply(ops.unique_values),
        shapes=[((3, 4),), ((5,),)],
        args=(SMALL_INTS,),
        reference=lambda arrays, params: np.unique(arrays[0]),
    ),
    OpSpec(
        ops.unique_counts,
        call=_apply(ops.unique_counts),
        shapes=[((3, 4),)],
        args=(SMALL_INTS,),
        reference=_int64(lambda x: np.unique_all(x).counts),
    ),
    OpSpec(
        ops.unique_indices,
        call=_apply(ops.unique_indices),
        shapes=[((3, 4),)],
        args=(SMALL_INTS,),
        reference=_int64(lambda x: np.unique_all(x).indices),
    ),
    OpSpec(
        ops.unique_inverse,
        call=_apply(ops.unique_inverse),
        shapes=[((3, 4),)],
        args=(SMALL_INTS,),
        reference=_int64(lambda x: np.unique_all(x).inverse_indices),
    ),
]
