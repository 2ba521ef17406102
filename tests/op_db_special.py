"""Op table lines for the special functions (joined into ``op_db.OP_DB``); SciPy's forwards are
the reference."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from op_db import BINARY, UNARY, Arg, OpSpec, Params

from dualgrad import ops


def _scipy(name: str) -> Callable[[Sequence[np.ndarray], Params], np.ndarray]:
    def reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
        import scipy.special

        out = getattr(scipy.special, name)(*params.values(), *arrays)
        return np.asarray(out, dtype=arrays[-1].dtype)

    return reference


def _erf_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    (x,) = arrays
    return np.vectorize(math.erf, otypes=[x.dtype])(x) if x.size else x.copy()


def _torch(name: str) -> Callable[..., Any]:
    return lambda torch, tensors, params: getattr(torch.special, name)(*params.values(), *tensors)


POSITIVE = Arg(low=0.25, high=3.0)

SPECS: list[OpSpec] = [
    OpSpec(ops.erf, shapes=UNARY, reference=_erf_reference, torch=_torch("erf")),
    OpSpec(ops.erfc, shapes=UNARY, reference=_scipy("erfc"), torch=_torch("erfc")),
    OpSpec(
        ops.erfinv,
        shapes=UNARY,
        low=-0.9,
        high=0.9,
        reference=_scipy("erfinv"),
        torch=_torch("erfinv"),
    ),
    OpSpec(
        ops.gammaln,
        shapes=UNARY,
        low=0.25,
        high=4.0,
        reference=_scipy("gammaln"),
        torch=_torch("gammaln"),
    ),
    OpSpec(
        ops.polygamma,
        shapes=UNARY,
        params=[{"n": 0}, {"n": 1}],
        low=0.25,
        high=4.0,
        reference=_scipy("polygamma"),
        # no PyTorch check: its trigamma (the gradient of n=0) differs from SciPy's by ~5e-10
    ),
    OpSpec(
        ops.log_ndtr,
        shapes=UNARY,
        low=-6.0,
        high=3.0,
        reference=_scipy("log_ndtr"),
        torch=_torch("log_ndtr"),
    ),
    OpSpec(
        ops.ndtri,
        shapes=UNARY,
        low=0.05,
        high=0.95,
        reference=_scipy("ndtri"),
        torch=_torch("ndtri"),
    ),
    OpSpec(
        ops.xlogy,
        shapes=BINARY,
        args=(Arg(), POSITIVE),
        reference=_scipy("xlogy"),
        torch=_torch("xlogy"),
    ),
    OpSpec(
        ops.xlog1py,
        shapes=BINARY,
        args=(Arg(), Arg(low=-0.75, high=3.0)),
        reference=_scipy("xlog1py"),
        torch=_torch("xlog1py"),
    ),
]
