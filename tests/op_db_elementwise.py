"""Op table lines for the elementwise family (joined into ``op_db.OP_DB``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from op_db import BINARY, INT, NONZERO, REAL, UNARY, Arg, OpSpec

from dualgrad import ops


def _torch(name: str) -> Callable[..., Any]:
    return lambda torch, tensors, params: getattr(torch, name)(*tensors)


def _sigmoid_reference(arrays: Sequence[np.ndarray], params: dict[str, Any]) -> np.ndarray:
    (x,) = arrays
    return np.exp(-np.logaddexp(0.0, -x))


SPECS: list[OpSpec] = [
    # trigonometric and inverse trigonometric: asin, acos, atanh need |x| < 1
    OpSpec(ops.tan, shapes=UNARY, low=-1.2, high=1.2, torch=_torch("tan")),
    OpSpec(ops.asin, shapes=UNARY, low=-0.9, high=0.9, torch=_torch("asin")),
    OpSpec(ops.acos, shapes=UNARY, low=-0.9, high=0.9, torch=_torch("acos")),
    OpSpec(ops.atan, shapes=UNARY, low=-3.0, high=3.0, torch=_torch("atan")),
    # hyperbolic: acosh needs x > 1
    OpSpec(ops.sinh, shapes=UNARY, torch=_torch("sinh")),
    OpSpec(ops.cosh, shapes=UNARY, torch=_torch("cosh")),
    OpSpec(ops.asinh, shapes=UNARY, low=-3.0, high=3.0, torch=_torch("asinh")),
    OpSpec(ops.acosh, shapes=UNARY, low=1.1, high=4.0, torch=_torch("acosh")),
    OpSpec(ops.atanh, shapes=UNARY, low=-0.9, high=0.9, torch=_torch("atanh")),
    # exponentials and logarithms: log1p needs x > -1, log2 and log10 x > 0
    OpSpec(ops.expm1, shapes=UNARY, torch=_torch("expm1")),
    OpSpec(ops.log1p, shapes=UNARY, low=-0.75, high=3.0, torch=_torch("log1p")),
    OpSpec(ops.log2, shapes=UNARY, low=0.25, high=4.0, torch=_torch("log2")),
    OpSpec(ops.log10, shapes=UNARY, low=0.25, high=4.0, torch=_torch("log10")),
    OpSpec(
        ops.sigmoid,
        shapes=UNARY,
        low=-6.0,
        high=6.0,
        reference=_sigmoid_reference,
        torch=_torch("sigmoid"),
    ),
    OpSpec(ops.sinc, shapes=UNARY, low=-3.0, high=3.0, torch=_torch("sinc")),
    # two inputs: atan2 and hypot away from the origin, copysign away from x = 0
    OpSpec(ops.atan2, shapes=BINARY, args=(REAL, NONZERO), torch=_torch("atan2")),
    OpSpec(ops.hypot, shapes=BINARY, args=(NONZERO, REAL), torch=_torch("hypot")),
    OpSpec(ops.logaddexp, shapes=BINARY, low=-4.0, high=4.0, torch=_torch("logaddexp")),
    OpSpec(ops.copysign, shapes=BINARY, args=(NONZERO, NONZERO), torch=_torch("copysign")),
    # no gradients
    OpSpec(ops.signbit, shapes=UNARY),
    OpSpec(ops.bitwise_left_shift, shapes=BINARY, args=(INT, Arg("int64", 0, 8))),
    OpSpec(ops.bitwise_right_shift, shapes=BINARY, args=(INT, Arg("int64", 0, 8))),
]
