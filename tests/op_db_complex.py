"""Op table lines for complex inputs to primitives whose real lines live elsewhere: the
holomorphic rules as written, ``abs`` and the conversion of real to complex (joined into
``op_db.OP_DB``). One shape each, to keep the suite's time: the real lines cover the shapes."""

from __future__ import annotations

from op_db import NONZERO, Arg, OpSpec, _astype, _astype_reference

import dualgrad
from dualgrad import ops

COMPLEX = Arg("complex128")
COMPLEX_NONZERO = Arg("complex128", low=0.5, high=2.0, signed=True)
MATRIX = [((3, 4),)]
PAIR = [((3, 4), (3, 4))]

SPECS: list[OpSpec] = [
    OpSpec(ops.multiply, shapes=PAIR, args=(COMPLEX, COMPLEX), label="-complex"),
    OpSpec(ops.divide, shapes=PAIR, args=(COMPLEX, COMPLEX_NONZERO), label="-complex"),
    OpSpec(ops.exp, shapes=MATRIX, args=(COMPLEX,), label="-complex"),
    OpSpec(ops.log, shapes=MATRIX, args=(COMPLEX_NONZERO,), label="-complex"),
    OpSpec(ops.sqrt, shapes=MATRIX, args=(COMPLEX_NONZERO,), label="-complex"),
    OpSpec(ops.tanh, shapes=MATRIX, args=(COMPLEX,), low=-1.0, high=1.0, label="-complex"),
    OpSpec(ops.abs, shapes=MATRIX, args=(COMPLEX_NONZERO,), label="-complex"),
    OpSpec(
        ops.astype,
        shapes=MATRIX,
        params=[{"dtype": dualgrad.complex128}],
        args=(NONZERO,),
        call=_astype,
        reference=_astype_reference,
        label="-to-complex",
    ),
    OpSpec(ops.matmul, shapes=[((3, 4), (4, 2))], args=(COMPLEX, COMPLEX), label="-complex"),
    OpSpec(
        ops.linear,
        shapes=[((2, 3, 4), (5, 4))],
        args=(COMPLEX, COMPLEX),
        call=lambda tensors, params: dualgrad.nn.functional.linear(*tensors),
        reference=lambda arrays, params: arrays[0] @ arrays[1].T,
        label="-complex",
    ),
    OpSpec(
        ops.matvec,
        shapes=[((3, 4), (4,))],
        args=(COMPLEX, COMPLEX),
        call=lambda tensors, params: dualgrad.matmul(*tensors),
        reference=lambda arrays, params: arrays[0] @ arrays[1],
        label="-complex",
    ),
    OpSpec(
        ops.sum,
        shapes=MATRIX,
        params=[{"axis": (-1,), "keepdims": False}],
        args=(COMPLEX,),
        label="-complex",
    ),
]
