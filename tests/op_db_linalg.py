"""Op table lines for the linalg family (joined into ``op_db.OP_DB``).

The decompositions need structured inputs (invertible, positive definite, distinct eigenvalues
or singular values), which uniform entries do not give: ``MatrixArg`` names the structure and
``MatrixSpec`` draws it, matrix by matrix. Factors whose sign is a convention (eigenvectors, Q,
U, Vh) are normalized the way dualgrad normalizes them, in the NumPy references and in the
PyTorch counterparts (with the signs held constant, as they are piecewise constant).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from op_db import Arg, OpSpec, Params, Shape

import dualgrad
from dualgrad import ops


@dataclass(frozen=True)
class MatrixArg(Arg):
    """A stack of float64 (or complex128) matrices with a structure.

    ``invertible``: well conditioned with either determinant sign; ``spd``: symmetric
    (complex: Hermitian) positive definite; ``symmetric``: symmetric (complex: Hermitian) with
    eigenvalues at least 1 apart; ``spread``: singular values at least 1 apart and at least 1.
    """

    structure: str = "invertible"


@dataclass(frozen=True)
class MatrixSpec(OpSpec):
    """An OpSpec drawing ``MatrixArg`` inputs with their structure."""

    def sample(self, rng: np.random.Generator, arg: Arg, shape: Shape) -> np.ndarray:
        if not isinstance(arg, MatrixArg):
            return super().sample(rng, arg, shape)
        *batch, rows, cols = shape
        complex_ = arg.dtype == "complex128"
        matrices = [
            _draw(rng, arg.structure, rows, cols, complex_) for _ in range(int(np.prod(batch)))
        ]
        if complex_ and arg.structure == "invertible":  # an imaginary part no larger than the
            matrices = [a + 1j * rng.uniform(-1.0, 1.0, a.shape) for a in matrices]  # real one
        return np.asarray(matrices, dtype=arg.dtype).reshape(shape)


def _orthonormal(
    rng: np.random.Generator, rows: int, cols: int, complex_: bool = False
) -> np.ndarray:
    a = rng.standard_normal((rows, cols))
    if complex_:
        a = a + 1j * rng.standard_normal((rows, cols))
    q, r = np.linalg.qr(a)
    return q * np.sign(np.diagonal(r))


def _draw(
    rng: np.random.Generator, structure: str, rows: int, cols: int, complex_: bool = False
) -> np.ndarray:
    if structure == "invertible":
        a = rng.uniform(-1.0, 1.0, (rows, cols)) + rows * np.eye(rows)
        a[0] *= rng.choice([-1.0, 1.0])
        return a
    if structure == "spd":  # complex: Hermitian positive definite
        b = rng.uniform(-1.0, 1.0, (rows, rows))
        if complex_:
            b = b + 1j * rng.uniform(-1.0, 1.0, (rows, rows))
        return b @ b.conj().T + rows * np.eye(rows)
    if structure == "symmetric":  # complex: Hermitian
        values = np.arange(rows) * 1.5 - rows / 2 + rng.uniform(0.0, 0.3, rows)
        q = _orthonormal(rng, rows, rows, complex_)
        a = (q * values) @ q.conj().T
        return (a + a.conj().T) / 2
    if structure == "spread":
        k = min(rows, cols)
        values = 1.0 + 1.5 * np.arange(k)[::-1] + rng.uniform(0.0, 0.3, k)
        left, right = _orthonormal(rng, rows, k, complex_), _orthonormal(rng, cols, k, complex_)
        return (left * values) @ right.conj().T
    msg = f"unknown matrix structure {structure!r}"
    raise ValueError(msg)


INVERTIBLE = MatrixArg(structure="invertible")
COMPLEX_INVERTIBLE = MatrixArg("complex128", structure="invertible")
COMPLEX_SPD = MatrixArg("complex128", structure="spd")
COMPLEX_HERMITIAN = MatrixArg("complex128", structure="symmetric")
COMPLEX_SPREAD = MatrixArg("complex128", structure="spread")
SPD = MatrixArg(structure="spd")
SYMMETRIC = MatrixArg(structure="symmetric")
SPREAD = MatrixArg(structure="spread")


# --- calls, references and PyTorch counterparts ---------------------------------------------
def _linalg(name: str, field: int | None = None, **kwargs: Any) -> Any:
    def call(tensors: Sequence[Any], params: Params) -> Any:
        out = getattr(dualgrad.linalg, name)(*tensors, **kwargs)
        return out if field is None else out[field]

    return call


def _numpy_sym(a: np.ndarray) -> np.ndarray:
    """The Hermitian (real: symmetric) part."""
    return (a + np.conj(np.swapaxes(a, -1, -2))) / 2


def _column_signs(v: Any, module: Any) -> Any:
    """Per column, the unit factor that makes its largest-magnitude entry real and positive
    (+1/-1 for real columns; dualgrad's convention)."""
    magnitude = abs(v)
    if module is np:
        top = magnitude.max(axis=-2, keepdims=True)
    else:
        top = magnitude.amax(dim=-2, keepdim=True)
    largest = module.where(magnitude == top, v, 0 * v).sum(-2, keepdims=True)
    if np.iscomplexobj(largest) if module is np else largest.is_complex():
        return largest.conj() / abs(largest)
    return (largest >= 0) * 2.0 - 1.0


def _eigenvectors_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    v = np.linalg.eigh(_numpy_sym(arrays[0]))[1]
    return v * _column_signs(v, np)


def _qr_reference(field: int) -> Any:
    def reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
        q, r = np.linalg.qr(arrays[0])
        diagonal = np.diagonal(r, axis1=-2, axis2=-1)
        phases = np.where(
            diagonal == 0, 1.0, diagonal / np.where(diagonal == 0, 1.0, abs(diagonal))
        )
        return q * phases[..., None, :] if field == 0 else r * phases.conj()[..., :, None]

    return reference


def _svd_reference(field: int) -> Any:
    def reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
        u, _, vh = np.linalg.svd(arrays[0], full_matrices=False)
        signs = _column_signs(u, np)
        return u * signs if field == 0 else vh * np.swapaxes(signs, -1, -2).conj()

    return reference


def _torch_sym(a: Any) -> Any:
    return (a + a.mH) / 2


def _torch_eigenvectors(torch: Any, tensors: Sequence[Any], params: Params) -> Any:
    v = torch.linalg.eigh(_torch_sym(tensors[0])).eigenvectors
    if v.is_complex():  # the normalized vectors: a phase-invariant function of torch's
        return v * _column_signs(v, torch)
    return v * _column_signs(v.detach(), torch)


def _torch_qr(field: int) -> Any:
    def counterpart(torch: Any, tensors: Sequence[Any], params: Params) -> Any:
        q, r = torch.linalg.qr(tensors[0])
        diagonal = torch.diagonal(r, dim1=-2, dim2=-1).detach()
        phases = diagonal.sgn() + (diagonal == 0)  # the phase, 1 at 0 (held constant)
        return q * phases[..., None, :] if field == 0 else r * phases.conj()[..., :, None]

    return counterpart


def _torch_svd(field: int) -> Any:
    def counterpart(torch: Any, tensors: Sequence[Any], params: Params) -> Any:
        u, _, vh = torch.linalg.svd(tensors[0], full_matrices=False)
        signs = _column_signs(u.detach(), torch)
        return u * signs if field == 0 else vh * signs.mT

    return counterpart


SQUARE = [((3, 3),), ((2, 3, 3),)]
RECTANGULAR = [((3, 3),), ((4, 2),), ((2, 3),), ((2, 3, 2),)]

SPECS: list[OpSpec] = []
SPECS.append(
    MatrixSpec(
        ops.inv,
        shapes=[*SQUARE, ((1, 1),), ((0, 2, 2),)],
        args=(INVERTIBLE,),
        call=_linalg("inv"),
        reference=lambda arrays, params: np.linalg.inv(arrays[0]),
        torch=lambda torch, ts, params: torch.linalg.inv(ts[0]),
    )
)
SPECS.append(
    MatrixSpec(
        ops.solve,
        shapes=[((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 1)), ((2, 2), (2, 0))],
        args=(INVERTIBLE, Arg()),
        call=_linalg("solve"),
        reference=lambda arrays, params: np.linalg.solve(*arrays),
        torch=lambda torch, ts, params: torch.linalg.solve(*ts),
    )
)
SPECS.append(
    MatrixSpec(
        ops.det,
        shapes=[*SQUARE, ((1, 1),)],
        args=(INVERTIBLE,),
        call=_linalg("det"),
        reference=lambda arrays, params: np.linalg.det(arrays[0]),
        torch=lambda torch, ts, params: torch.linalg.det(ts[0]),
    )
)
SPECS.append(
    MatrixSpec(
        ops.slogdet_logabsdet,
        shapes=SQUARE,
        args=(INVERTIBLE,),
        call=_linalg("slogdet", 1),
        reference=lambda arrays, params: np.linalg.slogdet(arrays[0])[1],
        torch=lambda torch, ts, params: torch.linalg.slogdet(ts[0])[1],
    )
)
SPECS.append(
    MatrixSpec(
        ops.slogdet_sign,
        shapes=SQUARE,
        args=(INVERTIBLE,),
        call=_linalg("slogdet", 0),
        reference=lambda arrays, params: np.linalg.slogdet(arrays[0])[0],
    )
)
SPECS.append(
    MatrixSpec(
        ops.cholesky,
        shapes=[*SQUARE, ((1, 1),)],
        args=(SPD,),
        call=_linalg("cholesky"),
        reference=lambda arrays, params: np.linalg.cholesky(_numpy_sym(arrays[0])),
        torch=lambda torch, ts, params: torch.linalg.cholesky(_torch_sym(ts[0])),
    )
)
SPECS.append(
    MatrixSpec(
        ops.eigvalsh,
        shapes=SQUARE,
        args=(SYMMETRIC,),
        call=_linalg("eigh", 0),
        reference=lambda arrays, params: np.linalg.eigvalsh(_numpy_sym(arrays[0])),
        torch=lambda torch, ts, params: torch.linalg.eigvalsh(_torch_sym(ts[0])),
    )
)
SPECS.append(
    MatrixSpec(
        ops.eigh_eigenvectors,
        shapes=SQUARE,
        args=(SYMMETRIC,),
        call=_linalg("eigh", 1),
        reference=_eigenvectors_reference,
        torch=_torch_eigenvectors,
    )
)
SPECS.append(
    MatrixSpec(
        ops.qr_q,
        shapes=[((3, 3),), ((4, 2),), ((2, 3, 2),)],
        args=(SPREAD,),
        call=_linalg("qr", 0),
        reference=_qr_reference(0),
        torch=_torch_qr(0),
    )
)
SPECS.append(
    MatrixSpec(
        ops.qr_r,
        shapes=[((3, 3),), ((4, 2),), ((2, 3, 2),)],
        args=(SPREAD,),
        call=_linalg("qr", 1),
        reference=_qr_reference(1),
        torch=_torch_qr(1),
    )
)
SPECS.append(
    MatrixSpec(
        ops.svdvals,
        shapes=RECTANGULAR,
        args=(SPREAD,),
        call=_linalg("svdvals"),
        reference=lambda arrays, params: np.linalg.svd(arrays[0], compute_uv=False),
        torch=lambda torch, ts, params: torch.linalg.svdvals(ts[0]),
    )
)
SPECS.append(
    MatrixSpec(
        ops.svd_u,
        shapes=RECTANGULAR,
        args=(SPREAD,),
        call=_linalg("svd", 0, full_matrices=False),
        reference=_svd_reference(0),
        torch=_torch_svd(0),
    )
)
SPECS.append(
    MatrixSpec(
        ops.svd_vh,
        shapes=RECTANGULAR,
        args=(SPREAD,),
        call=_linalg("svd", 2, full_matrices=False),
        reference=_svd_reference(2),
        torch=_torch_svd(2),
    )
)

# Complex matrices; one case each, the real lines above cover the shapes.
SPECS += [
    MatrixSpec(
        ops.inv,
        shapes=[((3, 3),)],
        args=(COMPLEX_INVERTIBLE,),
        call=_linalg("inv"),
        reference=lambda arrays, params: np.linalg.inv(arrays[0]),
        torch=lambda torch, ts, params: torch.linalg.inv(ts[0]),
        label="-complex",
    ),
    MatrixSpec(
        ops.solve,
        shapes=[((2, 3, 3), (2, 3, 2))],
        args=(COMPLEX_INVERTIBLE, Arg("complex128")),
        call=_linalg("solve"),
        reference=lambda arrays, params: np.linalg.solve(*arrays),
        torch=lambda torch, ts, params: torch.linalg.solve(*ts),
        label="-complex",
    ),
    MatrixSpec(
        ops.det,
        shapes=[((3, 3),)],
        args=(COMPLEX_INVERTIBLE,),
        call=_linalg("det"),
        reference=lambda arrays, params: np.linalg.det(arrays[0]),
        torch=lambda torch, ts, params: torch.linalg.det(ts[0]),
        label="-complex",
    ),
    MatrixSpec(
        ops.slogdet_logabsdet,
        shapes=[((2, 3, 3),)],
        args=(COMPLEX_INVERTIBLE,),
        call=_linalg("slogdet", 1),
        reference=lambda arrays, params: np.linalg.slogdet(arrays[0])[1],
        torch=lambda torch, ts, params: torch.linalg.slogdet(ts[0])[1],
        label="-complex",
    ),
    MatrixSpec(
        ops.slogdet_sign,
        shapes=[((2, 3, 3),)],
        args=(COMPLEX_INVERTIBLE,),
        call=_linalg("slogdet", 0),
        reference=lambda arrays, params: np.linalg.slogdet(arrays[0])[0],
        torch=lambda torch, ts, params: torch.linalg.slogdet(ts[0])[0],
        label="-complex",
    ),
    MatrixSpec(
        ops.cholesky,
        shapes=[((2, 3, 3),)],
        args=(COMPLEX_SPD,),
        call=_linalg("cholesky"),
        reference=lambda arrays, params: np.linalg.cholesky(_numpy_sym(arrays[0])),
        torch=lambda torch, ts, params: torch.linalg.cholesky(_torch_sym(ts[0])),
        label="-complex",
    ),
    MatrixSpec(
        ops.eigvalsh,
        shapes=[((2, 3, 3),)],
        args=(COMPLEX_HERMITIAN,),
        call=_linalg("eigh", 0),
        reference=lambda arrays, params: np.linalg.eigvalsh(_numpy_sym(arrays[0])),
        torch=lambda torch, ts, params: torch.linalg.eigvalsh(_torch_sym(ts[0])),
        label="-complex",
    ),
    MatrixSpec(
        ops.eigh_eigenvectors,
        shapes=[((2, 3, 3),)],
        args=(COMPLEX_HERMITIAN,),
        call=_linalg("eigh", 1),
        reference=_eigenvectors_reference,
        torch=_torch_eigenvectors,
        label="-complex",
    ),
]

# Complex qr and svd: Q and U's phases are made unique (R's diagonal real and positive, U's
# largest entries real and positive), so the factors are functions of x and the four checks run
# on them directly. PyTorch's svd_backward takes only losses that do not depend on U's phases,
# which a random cotangent does: tests/test_complex_linalg.py compares such losses instead.
SPECS += [
    MatrixSpec(
        prim,
        shapes=[((3, 3),), ((4, 2),), ((2, 3, 2),)],
        args=(COMPLEX_SPREAD,),
        call=_linalg("qr", field),
        reference=_qr_reference(field),
        torch=_torch_qr(field),
        label="-complex",
    )
    for prim, field in ((ops.qr_q, 0), (ops.qr_r, 1))
]
SPECS += [
    MatrixSpec(
        ops.svdvals,
        shapes=[((3, 3),), ((2, 4, 2),), ((2, 3),)],
        args=(COMPLEX_SPREAD,),
        call=_linalg("svdvals"),
        reference=lambda arrays, params: np.linalg.svd(arrays[0], compute_uv=False),
        torch=lambda torch, ts, params: torch.linalg.svdvals(ts[0]),
        label="-complex",
    )
]
SPECS += [
    MatrixSpec(
        prim,
        shapes=[((3, 3),), ((4, 2),), ((2, 2, 3),)],
        args=(COMPLEX_SPREAD,),
        call=_linalg("svd", field, full_matrices=False),
        reference=_svd_reference(field),
        label="-complex",
    )
    for prim, field in ((ops.svd_u, 0), (ops.svd_vh, 2))
]

# A layer's product with its weight (F.linear): any leading axes of x, 1-D and empty ones too.
SPECS.append(
    OpSpec(
        ops.linear,
        shapes=[((3, 4), (5, 4)), ((2, 3, 4), (5, 4)), ((4,), (5, 4)), ((0, 4), (2, 4))],
        call=lambda tensors, params: dualgrad.nn.functional.linear(*tensors),
        reference=lambda arrays, params: arrays[0] @ arrays[1].T,
        torch=lambda torch, ts, params: torch.nn.functional.linear(*ts),
    )
)
