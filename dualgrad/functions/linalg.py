"""Linear algebra (``dualgrad.ops.linalg``): ``matmul`` and the products, triangles,
``einsum``, and the functions of the ``dualgrad.linalg`` namespace (solvers, determinants,
decompositions, norms), which re-exports them.

``__all__`` lists the functions dualgrad has at its top level. ``dualgrad.linalg`` re-exports
those of the Array API's linalg extension (PyTorch's ``torch.linalg``), whose ``diagonal`` and
``trace`` work on the last two axes, unlike the top-level ones: as the differentiable
namespace's ``linalg``, this module gives the rules the same names.
"""

from __future__ import annotations

__all__ = [
    "einsum",
    "matmul",
    "matrix_transpose",
    "outer",
    "tensordot",
    "tril",
    "triu",
    "vecdot",
]

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import ops
from .._dispatch import apply, named
from ..autograd.grad_mode import is_grad_enabled
from ..ops.shape import broadcast_shapes
from ..tensor import Tensor, method
from . import index, reduce
from ._args import as_tensor, axis_index, normalize_axes, promoted
from ._methods import in_place, reflected
from .creation import zeros_like
from .elementwise import abs, astype, where
from .index import getitem
from .numbers import conj
from .reduce import max, min, sum
from .shape import (
    broadcast_to,
    concat,
    expand_dims,
    permute_dims,
    permuted_view,
    reshape,
    squeeze,
    stack,
)


# --- matmul -----------------------------------------------------------------------------------
def matmul(x1: Tensor, x2: Tensor, /) -> Tensor:
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading axes broadcast.

    Example:
        >>> import dualgrad
        >>> a = dualgrad.ones(2, 3)
        >>> (a @ dualgrad.ones(3)).shape
        torch.Size([2])
    """
    if not (
        isinstance(x1, Tensor)
        and isinstance(x2, Tensor)
        and x1._backend is x2._backend
        and x1._array.dtype == x2._array.dtype
    ):
        x1, x2 = promoted([as_tensor(x1, "matmul"), as_tensor(x2, "matmul")])
    # Matrices and vectors, aligned: the operations the general path below reaches, without
    # its checks (a matrix-vector product's vjp is a vector times a matrix, which a recorded
    # backward runs here).
    a, b = x1._array, x2._array
    if a.ndim == 2 and b.ndim in (1, 2) and a.shape[1] == b.shape[0]:
        return apply(ops.matmul if b.ndim == 2 else ops.matvec, (x1, x2), {})
    if a.ndim == 1 and b.ndim == 2 and a.shape[0] == b.shape[0]:
        # As a row, the product, the row squeezed out.
        row = apply(ops.reshape, (x1,), {"shape": (1, a.shape[0])})
        product = apply(ops.matmul, (row, x2), {})
        return apply(ops.reshape, (product,), {"shape": (b.shape[1],)})
    if x1.ndim == 0 or x2.ndim == 0:
        msg = (
            "matmul: operands must have at least 1 dimension, "
            f"got shapes {tuple(x1.shape)} and {tuple(x2.shape)}"
        )
        raise ValueError(msg)
    x = x1 if x1.ndim > 1 else reshape(x1, (1, x1.shape[0]))
    y = x2 if x2.ndim > 1 else reshape(x2, (x2.shape[0], 1))
    if x.shape[-1] != y.shape[-2]:
        msg = (
            f"matmul: shapes {tuple(x1.shape)} and {tuple(x2.shape)} are not aligned "
            f"({x.shape[-1]} != {y.shape[-2]})"
        )
        raise ValueError(msg)
    if x.shape[:-2] != y.shape[:-2]:
        batch = broadcast_shapes("matmul", x.shape[:-2], y.shape[:-2])
        x, y = (
            t if not (t.requires_grad or t._tangents) else broadcast_to(t, batch + t.shape[-2:])
            for t in (x, y)
        )
    out = apply(ops.matmul, (x, y), {})
    if x1.ndim == 1:
        out = squeeze(out, -2)
    if x2.ndim == 1:
        out = squeeze(out, -1)
    return out


def matrix_transpose(x: Tensor, /) -> Tensor:
    """Swap the last two axes."""
    x = as_tensor(x, "matrix_transpose")
    return permute_dims(x, _matrix_axes(x))


def _matrix_axes(x: Tensor) -> tuple[int, ...]:
    """The axes of ``matrix_transpose(x)``, as ``permute_dims`` takes them."""
    if x.ndim < 2:
        msg = f"matrix_transpose: expected at least 2 dimensions, got shape {tuple(x.shape)}"
        raise ValueError(msg)
    return (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2)


method(matmul, "__matmul__", "matmul", "mm")
method(matmul, "__rmatmul__", adapt=reflected)
method(in_place(matmul, "__imatmul__"), "__imatmul__")
method(property(lambda self: permuted_view(self, _matrix_axes(self))), "mT")


# --- triangles ------------------------------------------------------------------------------
def _triangle(x: Tensor, k: int, name: str, lower: bool) -> Tensor:
    x = as_tensor(x, name)
    if x.ndim < 2:
        msg = f"{name}: expected at least 2 dimensions, got shape {tuple(x.shape)}"
        raise ValueError(msg)
    namespace = x._backend.namespace
    rows, cols = x.shape[-2:]
    offsets = namespace.arange(cols)[None, :] - namespace.arange(rows)[:, None]
    keep = offsets <= k if lower else offsets >= k
    return where(Tensor._wrap(keep, x._backend), x, zeros_like(x))


def tril(x: Tensor, /, *, k: int = 0) -> Tensor:
    """The lower triangle of the last two axes: entries on or below diagonal ``k``, else zero.

    Args:
        x: a tensor of shape ``(..., M, N)``.
        k: the diagonal kept last (0 the main one, positive above it, negative below).

    Returns:
        A tensor like ``x``; the gradient passes to the kept entries.

    Raises:
        ValueError: ``x`` has fewer than 2 dimensions.

    Example:
        >>> import dualgrad
        >>> dualgrad.tril(dualgrad.ones(2, 2))
        tensor([[1., 0.],
                [1., 1.]])
    """
    return named(_triangle(x, operator.index(k), "tril", lower=True), "TrilBackward0")


def triu(x: Tensor, /, *, k: int = 0) -> Tensor:
    """The upper triangle of the last two axes: entries on or above diagonal ``k``, else zero.

    Args:
        x: a tensor of shape ``(..., M, N)``.
        k: the first diagonal kept (0 the main one, positive above it, negative below).

    Returns:
        A tensor like ``x``; the gradient passes to the kept entries.

    Raises:
        ValueError: ``x`` has fewer than 2 dimensions.

    Example:
        >>> import dualgrad
        >>> dualgrad.triu(dualgrad.ones(2, 2))
        tensor([[1., 1.],
                [0., 1.]])
    """
    return named(_triangle(x, operator.index(k), "triu", lower=False), "TriuBackward0")


method(tril)
method(triu)


# --- products -------------------------------------------------------------------------------
def tensordot(
    x1: Tensor, x2: Tensor, /, *, axes: int | tuple[Sequence[int], Sequence[int]] = 2
) -> Tensor:
    """Sum the products over the last ``axes`` axes of ``x1`` and the first of ``x2``.

    Args:
        x1: a tensor.
        x2: a tensor.
        axes: how many axes to contract (the last of ``x1`` with the first of ``x2``), or a pair
            of sequences naming the axes of each to contract, in matching order.

    Returns:
        A tensor of ``x1``'s free axes followed by ``x2``'s.

    Raises:
        ValueError: the contracted axes' lengths differ, or ``axes`` is out of range.

    Example:
        >>> import dualgrad
        >>> dualgrad.tensordot(dualgrad.ones(2, 3), dualgrad.ones(3, 4), axes=1).shape
        torch.Size([2, 4])
    """
    x1, x2 = promoted([as_tensor(x1, "tensordot"), as_tensor(x2, "tensordot")])
    if isinstance(axes, int | np.integer):
        count = operator.index(axes)
        if not 0 <= count <= builtins.min(x1.ndim, x2.ndim):
            msg = (
                f"tensordot: axes={count} is out of range for "
                f"shapes {tuple(x1.shape)} and {tuple(x2.shape)}"
            )
            raise ValueError(msg)
        first = tuple(range(x1.ndim - count, x1.ndim))
        second = tuple(range(count))
    else:
        try:
            first_given, second_given = axes
        except (TypeError, ValueError):
            msg = f"tensordot: axes must be an int or a pair of sequences, got {axes!r}"
            raise ValueError(msg) from None
        first_given = (first_given,) if isinstance(first_given, int) else tuple(first_given)
        second_given = (second_given,) if isinstance(second_given, int) else tuple(second_given)
        if len(first_given) != len(second_given):
            msg = f"tensordot: axes {axes!r} name different numbers of axes"
            raise ValueError(msg)
        first = tuple(axis_index(a, x1.ndim, "tensordot") for a in first_given)
        second = tuple(axis_index(a, x2.ndim, "tensordot") for a in second_given)
        if len(set(first)) != len(first) or len(set(second)) != len(second):
            msg = f"tensordot: repeated axis in {axes!r}"
            raise ValueError(msg)
    for a, b in zip(first, second, strict=True):
        if x1.shape[a] != x2.shape[b]:
            msg = (
                f"tensordot: axis {a} of shape {tuple(x1.shape)} "
                f"and axis {b} of shape {tuple(x2.shape)} "
                "have different lengths"
            )
            raise ValueError(msg)
    free1 = [a for a in range(x1.ndim) if a not in first]
    free2 = [b for b in range(x2.ndim) if b not in second]
    size = math.prod([x1.shape[a] for a in first])
    left = reshape(permute_dims(x1, (*free1, *first)), (_numel(x1, free1), size))
    right = reshape(permute_dims(x2, (*second, *free2)), (size, _numel(x2, free2)))
    out_shape = tuple(x1.shape[a] for a in free1) + tuple(x2.shape[b] for b in free2)
    return reshape(matmul(left, right), out_shape)


def _numel(x: Tensor, axes: Sequence[int]) -> int:
    """The number of elements along ``axes`` of ``x``."""
    return math.prod([x.shape[a] for a in axes])


def vecdot(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """The dot product of vectors along ``axis``; the other axes broadcast. Complex ``x1`` is
    conjugated (``sum(conj(x1) * x2)``), as the Array API and PyTorch define it.

    Args:
        x1: a tensor.
        x2: a tensor of the same length along ``axis``.
        axis: the axis of the vectors (after broadcasting).

    Returns:
        A tensor of the broadcast shape without ``axis``.

    Raises:
        ValueError: the lengths along ``axis`` differ.

    Example:
        >>> import dualgrad
        >>> dualgrad.vecdot(dualgrad.tensor([1.0, 2.0]), dualgrad.tensor([3.0, 4.0]))
        tensor(11.)
    """
    x1, x2 = as_tensor(x1, "vecdot"), as_tensor(x2, "vecdot")
    if x1.ndim == 0 or x2.ndim == 0:
        msg = (
            "vecdot: expected at least 1 dimension, got "
            f"shapes {tuple(x1.shape)} and {tuple(x2.shape)}"
        )
        raise ValueError(msg)
    ndim = builtins.max(x1.ndim, x2.ndim)
    (normalized,) = normalize_axes(axis, ndim, "vecdot")
    if (
        -normalized > builtins.min(x1.ndim, x2.ndim)
        or x1.shape[normalized] != x2.shape[normalized]
    ):
        msg = (
            f"vecdot: shapes {tuple(x1.shape)} and "
            f"{tuple(x2.shape)} differ in length along axis {axis}"
        )
        raise ValueError(msg)
    if x1.dtype.is_complex:
        x1 = conj(x1)
    products = x1 * x2
    return sum(products, axis=normalized, dtype=products.dtype)  # int8 stays int8, as specified


def outer(x1: Tensor, x2: Tensor, /) -> Tensor:
    """The outer product of two vectors: ``out[i, j] = x1[i] * x2[j]``.

    Raises:
        ValueError: an input is not 1-D.

    Example:
        >>> import dualgrad
        >>> dualgrad.outer(dualgrad.tensor([1.0, 2.0]), dualgrad.tensor([1.0, 0.0, -1.0]))
        tensor([[ 1.,  0., -1.],
                [ 2.,  0., -2.]])
    """
    x1, x2 = as_tensor(x1, "outer"), as_tensor(x2, "outer")
    if x1.ndim != 1 or x2.ndim != 1:
        msg = (
            f"outer: expected two 1-D tensors, got shapes {tuple(x1.shape)} and {tuple(x2.shape)}"
        )
        raise ValueError(msg)
    return expand_dims(x1, axis=-1) * expand_dims(x2, axis=0)


# --- einsum ---------------------------------------------------------------------------------
_ELLIPSIS_LABELS = "".join(chr(0x100 + i) for i in range(32))


def einsum(subscripts: str, /, *operands: Tensor) -> Tensor:
    """Einstein summation, as ``numpy.einsum``: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``.

    Built from dualgrad's own operations (diagonals for repeated labels, broadcasting products,
    sums), so it runs on every backend, the strict Array API one included (which has no einsum),
    and differentiates to any order in both modes. Labels are summed out as soon as no later
    operand needs them; it does not search for an optimal contraction order.

    Args:
        subscripts: the operands' labels separated by commas, optionally ``->`` and the output's
            labels (implicit mode, without ``->``: the labels seen once, in alphabetical order).
            ``...`` stands for broadcast axes.
        *operands: the tensors, one per label group (or one list of them, as PyTorch also
            takes them).

    Returns:
        The tensor the subscripts describe.

    Raises:
        ValueError: the subscripts do not match the operands, or a label's lengths differ.

    Example:
        >>> import dualgrad
        >>> a = dualgrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> dualgrad.einsum("ii->", a)
        tensor(5.)
    """
    if not isinstance(subscripts, str):
        msg = f"einsum: expected the subscripts string first, got {type(subscripts).__name__}"
        raise TypeError(msg)
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])  # torch.einsum("ij,jk", [a, b])
    tensors = promoted([as_tensor(t, "einsum") for t in operands]) if operands else []
    spec = subscripts.replace(" ", "")
    inputs_spec, arrow, output_spec = spec.partition("->")
    groups = inputs_spec.split(",")
    if len(groups) != len(tensors):
        msg = f"einsum: {subscripts!r} names {len(groups)} operands, got {len(tensors)}"
        raise ValueError(msg)
    labels = [
        _einsum_labels(group, t, subscripts) for group, t in zip(groups, tensors, strict=True)
    ]
    if arrow:
        if "..." in output_spec:
            width = builtins.max(
                (_ellipsis_width(g, t) for g, t in zip(groups, tensors, strict=True)), default=0
            )
            output_spec = output_spec.replace("...", _ELLIPSIS_LABELS[:width][::-1])
        output = list(output_spec)
    else:
        counts: dict[str, int] = {}
        for group in labels:
            for label in group:
                counts[label] = counts.get(label, 0) + 1
        broadcast = sorted((c for c in counts if c in _ELLIPSIS_LABELS), reverse=True)
        output = broadcast + sorted(c for c, n in counts.items() if n == 1 and c not in broadcast)
    sizes: dict[str, int] = {}
    for group, t in zip(labels, tensors, strict=True):
        for label, n in zip(group, t.shape, strict=True):
            if label in sizes and n != 1 and sizes[label] not in (1, n):
                msg = (
                    f"einsum: label {label!r} has lengths {sizes[label]} and {n} in {subscripts!r}"
                )
                raise ValueError(msg)
            if n != 1 or label not in sizes:
                sizes[label] = n
    for label in output:
        if label not in sizes or output.count(label) > 1:
            msg = (
                f"einsum: output label {label!r} of {subscripts!r} "
                "is missing from the inputs or repeated"
            )
            raise ValueError(msg)
    order = list(dict.fromkeys([label for group in labels for label in group]))
    terms = []
    for group, t in zip(labels, tensors, strict=True):
        group, t = list(group), t
        while len(set(group)) < len(group):  # a repeated label: take that diagonal
            label = next(c for c in group if group.count(c) > 1)
            first = group.index(label)
            second = group.index(label, first + 1)
            t = index.diagonal(t, axis1=first, axis2=second)
            group = [c for i, c in enumerate(group) if i not in (first, second)] + [label]
        terms.append((group, t))
    result_labels: list[str] = []
    result: Tensor | None = None
    for position, (group, t) in enumerate(terms):
        needed = set(output).union(*(g for g, _ in terms[position + 1 :]))
        if result is None:
            result_labels, result = group, t
        else:
            merged = [c for c in order if c in result_labels or c in group]
            result = _aligned(result, result_labels, merged) * _aligned(t, group, merged)
            result_labels = merged
        summed = [i for i, c in enumerate(result_labels) if c not in needed]
        if summed:
            result = sum(result, axis=tuple(summed))
            result_labels = [c for c in result_labels if c in needed]
    assert result is not None
    result = permute_dims(result, [result_labels.index(c) for c in output])
    target = tuple(sizes[c] for c in output)
    return result if result.shape == target else broadcast_to(result, target)


def _ellipsis_width(group: str, t: Tensor) -> int:
    """How many axes ``...`` stands for in one operand."""
    return t.ndim - len(group.replace("...", "")) if "..." in group else 0


def _einsum_labels(group: str, t: Tensor, subscripts: str) -> list[str]:
    """One operand's labels, ``...`` expanded into private labels aligned from the right."""
    letters = group.replace("...", "")
    if not builtins.all(c.isalpha() for c in letters) or group.count("...") > 1:
        msg = (
            f"einsum: invalid subscripts {subscripts!r}: labels are letters, with one ... at most"
        )
        raise ValueError(msg)
    width = _ellipsis_width(group, t)
    if width < 0 or ("..." not in group and len(letters) != t.ndim):
        msg = f"einsum: subscripts {group!r} do not fit an operand of shape {tuple(t.shape)}"
        raise ValueError(msg)
    return list(group.replace("...", _ELLIPSIS_LABELS[:width][::-1]))


def _aligned(t: Tensor, labels: list[str], order: list[str]) -> Tensor:
    """``t`` with its axes in ``order``, length 1 for the labels it lacks."""
    present = [c for c in order if c in labels]
    t = permute_dims(t, [labels.index(c) for c in present])
    shape = tuple(t.shape[present.index(c)] if c in labels else 1 for c in order)
    return reshape(t, shape)


# --- dualgrad.linalg: solvers, determinants, decompositions, norms --------------------------
class EighResult(NamedTuple):
    """``eigh``'s result: eigenvalues in ascending order and eigenvectors as columns."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class QRResult(NamedTuple):
    """``qr``'s result: orthonormal columns ``Q`` and upper triangular ``R``."""

    Q: Tensor
    R: Tensor


class SVDResult(NamedTuple):
    """``svd``'s result: ``x = U @ (S[..., None] * Vh)``."""

    U: Tensor
    S: Tensor
    Vh: Tensor


class SlogdetResult(NamedTuple):
    """``slogdet``'s result: ``det = sign * exp(logabsdet)``."""

    sign: Tensor
    logabsdet: Tensor


def _matrices(x: Any, name: str, *, square: bool = False) -> Tensor:
    """``x`` checked to be a floating or complex tensor of (square, if asked) matrices."""
    x = as_tensor(x, name)
    if not x.dtype.is_inexact:
        msg = (
            f"{name}: expected a floating point or complex tensor, got {x.dtype}; "
            "convert it with astype"
        )
        raise TypeError(msg)
    if x.ndim < 2 or (square and x.shape[-1] != x.shape[-2]):
        kind = "square matrices (..., M, M)" if square else "matrices (..., M, N)"
        msg = f"{name}: expected {kind}, got shape {tuple(x.shape)}"
        raise ValueError(msg)
    return x


def inv(x: Tensor, /) -> Tensor:
    """The inverse of each square matrix; the gradient is ``-inv(x)^T g inv(x)^T``.

    Raises:
        TypeError: ``x`` is not floating point.
        ValueError: ``x`` is not a stack of square matrices.

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.inv(dualgrad.tensor([[2.0, 0.0], [0.0, 4.0]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.2500]])
    """
    return apply(ops.inv, (_matrices(x, "inv", square=True),), {})


def solve(x1: Tensor, x2: Tensor, /) -> Tensor:
    """The solution ``y`` of ``x1 @ y = x2``, batch axes broadcasting.

    Args:
        x1: square matrices ``(..., M, M)``.
        x2: right-hand sides ``(..., M, K)``, or one vector ``(M,)``.

    Returns:
        The solutions, of shape ``(..., M, K)`` (or ``(..., M)`` for a vector).

    Raises:
        TypeError: an input is not floating point.
        ValueError: the shapes do not fit.

    Example:
        >>> import dualgrad
        >>> a = dualgrad.tensor([[2.0, 0.0], [0.0, 4.0]])
        >>> dualgrad.linalg.solve(a, dualgrad.tensor([1.0, 1.0]))
        tensor([0.5000, 0.2500])
    """
    a = _matrices(x1, "solve", square=True)
    b = as_tensor(x2, "solve")
    a, b = promoted([a, b])
    vector = b.ndim == 1
    if vector:
        b = expand_dims(b, axis=-1)
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        msg = (
            f"solve: shapes {tuple(x1.shape)} and {tuple(x2.shape)} "
            "do not fit (x2 is (..., M, K) or (M,))"
        )
        raise ValueError(msg)
    batch = broadcast_shapes("solve", a.shape[:-2], b.shape[:-2])
    a = broadcast_to(a, batch + a.shape[-2:])
    b = broadcast_to(b, batch + b.shape[-2:])
    out = apply(ops.solve, (a, b), {})
    return reshape(out, out.shape[:-1]) if vector else out


def det(x: Tensor, /) -> Tensor:
    """The determinant of each square matrix; its gradient is ``det(x) * inv(x)^T``.

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.det(dualgrad.tensor([[2.0, 1.0], [1.0, 3.0]]))
        tensor(5.)
    """
    return apply(ops.det, (_matrices(x, "det", square=True),), {})


def slogdet(x: Tensor, /) -> SlogdetResult:
    """The sign and the log of the absolute value of each determinant.

    For complex ``x`` the sign is ``det / |det|`` (complex, of modulus 1) and ``logabsdet`` is
    real; both are differentiable, as in PyTorch. A real sign is piecewise constant: its
    gradient is zero. ``logabsdet``'s gradient is ``inv(x)^T`` (conjugated for complex ``x``).

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.slogdet(dualgrad.tensor([[-2.0, 0.0], [0.0, 1.0]])).sign
        tensor(-1.)
    """
    x = _matrices(x, "slogdet", square=True)
    return SlogdetResult(apply(ops.slogdet_sign, (x,), {}), apply(ops.slogdet_logabsdet, (x,), {}))


def cholesky(x: Tensor, /, *, upper: bool = False) -> Tensor:
    """The Cholesky factor ``L`` (lower triangular, ``x = L @ L^H``, ``L^H`` the conjugate
    transpose: ``L^T`` for real matrices) of Hermitian (symmetric) positive definite matrices.

    Only the Hermitian part ``(x + x^H) / 2`` is read (as JAX does; NumPy reads the lower
    triangle), so every backend computes one function and its gradient is Hermitian.

    Args:
        x: Hermitian positive definite matrices ``(..., M, M)``, real or complex.
        upper: return ``L^H`` instead.

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.cholesky(dualgrad.tensor([[4.0, 2.0], [2.0, 2.0]]))
        tensor([[2., 0.],
                [1., 1.]])
    """
    factor = apply(ops.cholesky, (_matrices(x, "cholesky", square=True),), {})
    return _adjoint(factor) if upper else factor


def qr(x: Tensor, /, *, mode: str = "reduced") -> QRResult:
    """The QR decomposition ``x = Q @ R``: ``Q`` with orthonormal columns, ``R`` upper triangular.

    For ``x`` of shape ``(..., M, N)`` with ``K = min(M, N)``, ``mode="reduced"`` gives ``Q`` of
    shape ``(..., M, K)`` and ``R`` of ``(..., K, N)``; ``mode="complete"`` gives ``(..., M, M)``
    and ``(..., M, N)`` (the same factors unless ``M > N``). ``R``'s diagonal is made real and
    non-negative, so every backend gives the same factors; complex ``x`` is factored with
    ``Q^H Q = I``.

    Differentiable where the leading ``K x K`` block of ``x`` has full rank, in both modes
    except for tall matrices (``M > N``) in mode ``"complete"``: ``Q``'s last ``M - N`` columns
    are any orthonormal basis of the complement, so they have no derivative (as in PyTorch).

    Args:
        x: matrices ``(..., M, N)``.
        mode: ``"reduced"`` or ``"complete"``.

    Raises:
        ValueError: another mode.
        RuntimeError: ``mode="complete"`` of tall matrices that require grad (or carry
            tangents) while grad mode is on.

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.qr(dualgrad.tensor([[0.0, 2.0], [-3.0, 1.0]])).R
        tensor([[ 3., -1.],
                [ 0.,  2.]])
    """
    x = _matrices(x, "qr")
    if mode not in ("reduced", "complete"):
        msg = f"qr: mode must be 'reduced' or 'complete', got {mode!r}"
        raise ValueError(msg)
    rows, cols = x.shape[-2:]
    if rows < cols:
        # Wide: Q R_1 factors the leading square block; the rest of R is Q^H times the rest.
        q, r_square = qr(getitem(x, (..., slice(0, rows))))
        rest = matmul(_adjoint(q), getitem(x, (..., slice(rows, None))))
        return QRResult(q, concat([r_square, rest], axis=-1))
    if mode == "complete" and rows > cols:
        _refuse_gradient_of_complete_qr(x)
    q, r = apply(ops.qr_q, (x,), {}), apply(ops.qr_r, (x,), {})
    if mode == "complete" and rows > cols:
        backend = x._backend
        # any orthonormal basis of the complement of Q's columns (they span the same space
        # whatever the signs), and zero rows under R
        full = backend.xp.linalg.qr(x._array, mode="complete")[0]
        complement = Tensor._wrap(full[..., cols:], backend)
        below = backend.xp.zeros((*x.shape[:-2], rows - cols, cols), dtype=x._array.dtype)
        q = concat([q, complement], axis=-1)
        r = concat([r, Tensor._wrap(below, backend)], axis=-2)
    return QRResult(q, r)


def _adjoint(x: Tensor) -> Tensor:
    """The conjugate transpose of matrices (the transpose of real ones)."""
    return matrix_transpose(conj(x) if x.dtype.is_complex else x)


def _refuse_gradient_of_complete_qr(x: Tensor) -> None:
    if (x.requires_grad and is_grad_enabled()) or x._tangents is not None:
        msg = (
            f"qr: mode='complete' of tall matrices (shape {tuple(x.shape)}, M > N) is not "
            "differentiable: Q's last M - N columns are any basis of the complement; use "
            "mode='reduced' (the same R without its zero rows), or detach x"
        )
        raise RuntimeError(msg)


def eigh(x: Tensor, /) -> EighResult:
    """Eigenvalues (ascending, real) and eigenvectors of Hermitian (real: symmetric) matrices.

    Only the Hermitian part ``(x + x^H) / 2`` is read. Each eigenvector's largest-magnitude
    entry is made positive (for complex ``x``: real and positive, which fixes its phase), so
    every backend gives the same vectors; the gradient is that of these normalized vectors,
    and for a function that does not depend on the signs or phases (``abs`` of entries,
    ``V diag(f(w)) V^H``) it is PyTorch's. The eigenvectors' gradient divides by the gaps
    between eigenvalues: at repeated eigenvalues the eigenvectors are not unique and their
    gradient is infinite or NaN (the eigenvalues' gradient is fine).

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.eigh(dualgrad.tensor([[2.0, 0.0], [0.0, 1.0]])).eigenvalues
        tensor([1., 2.])
    """
    x = _matrices(x, "eigh", square=True)
    return EighResult(apply(ops.eigvalsh, (x,), {}), apply(ops.eigh_eigenvectors, (x,), {}))


def eigvalsh(x: Tensor, /) -> Tensor:
    """The eigenvalues (ascending, real) of Hermitian (real: symmetric) matrices, as
    ``eigh(x).eigenvalues``.

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.eigvalsh(dualgrad.tensor([[2.0, 1.0], [1.0, 2.0]]))
        tensor([1., 3.])
    """
    return apply(ops.eigvalsh, (_matrices(x, "eigvalsh", square=True),), {})


def svd(x: Tensor, /, *, full_matrices: bool = True) -> SVDResult:
    """The singular value decomposition ``x = U @ (S[..., None] * Vh)``, S descending (real,
    also for complex ``x``).

    Each column of ``U`` has its largest-magnitude entry made real and positive (``Vh``
    follows), so every backend gives the same factors. For complex ``x`` that fixes the phase
    each singular vector pair is otherwise free to take: ``U`` and ``Vh`` are functions of
    ``x``, and any loss of them, phase-dependent or not, has the gradient of the factors
    computed (PyTorch raises for a loss that depends on the phases; for every other loss the
    gradients agree). ``U`` and ``Vh``'s gradients divide by the gaps between singular values
    and by the singular values: at repeated or zero singular values they are infinite or NaN
    (``S``'s gradient is fine).

    Args:
        x: matrices ``(..., M, N)``.
        full_matrices: for non-square ``x``, complete ``U`` or ``Vh`` to square orthogonal
            matrices (not differentiable; pass False when gradients are needed).

    Raises:
        ValueError: ``full_matrices=True`` for non-square ``x`` that needs gradients.

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.svd(dualgrad.tensor([[3.0, 0.0], [0.0, -4.0]])).S
        tensor([4., 3.])
    """
    x = _matrices(x, "svd")
    if full_matrices and x.shape[-1] != x.shape[-2]:
        if x.requires_grad or x._tangents is not None:
            msg = (
                f"svd: full_matrices=True for shape {tuple(x.shape)} is not differentiable; "
                "pass full_matrices=False"
            )
            raise ValueError(msg)
        backend = x._backend
        u, s, vh = backend.namespace.linalg.svd(x._array, full_matrices=True)
        return SVDResult(*(Tensor._wrap(a, backend) for a in (u, s, vh)))
    return SVDResult(
        apply(ops.svd_u, (x,), {}), apply(ops.svdvals, (x,), {}), apply(ops.svd_vh, (x,), {})
    )


def svdvals(x: Tensor, /) -> Tensor:
    """The singular values of matrices, in descending order.

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.svdvals(dualgrad.tensor([[3.0, 0.0], [0.0, -4.0]]))
        tensor([4., 3.])
    """
    return apply(ops.svdvals, (_matrices(x, "svdvals"),), {})


def vector_norm(
    x: Tensor, /, *, axis: Any = None, keepdims: bool = False, ord: float = 2
) -> Tensor:
    """The vector ``ord``-norm over ``axis`` (all axes when None).

    ``ord`` is any real number or ``inf``/``-inf``: ``sum(abs(x)**ord)**(1/ord)``, the largest
    or smallest magnitude, and for 0 the count of non-zeros (which has no gradient). At
    ``x = 0`` the gradient is 0 for every ``ord`` (as in PyTorch), though the norm has no
    derivative there. Complex ``x`` is measured by its magnitudes (a real result).

    Raises:
        TypeError: ``x`` is neither floating point nor complex.

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.vector_norm(dualgrad.tensor([3.0, -4.0]))
        tensor(5.)
    """
    x = as_tensor(x, "vector_norm")
    if x.dtype.is_complex:
        x = abs(x)  # every norm here is a function of the magnitudes
    if not x.dtype.is_floating_point:
        msg = f"vector_norm: expected a floating point or complex tensor, got {x.dtype}"
        raise TypeError(msg)
    axes = normalize_axes(axis, x.ndim, "vector_norm")
    magnitude = abs(x)
    if ord == float("inf"):
        return max(magnitude, axis=axes, keepdims=keepdims)
    if ord == -float("inf"):
        return min(magnitude, axis=axes, keepdims=keepdims)
    if ord == 0:
        return sum(astype(x != 0, x.dtype), axis=axes, keepdims=keepdims)
    if ord == 1:
        return sum(magnitude, axis=axes, keepdims=keepdims)
    if ord == 2:
        out = apply(ops.euclidean_norm, (x,), {"axis": axes, "keepdims": builtins.bool(keepdims)})
        return named(out, "LinalgVectorNormBackward0")
    return _p_norm(magnitude, ord, axes, keepdims)


def _p_norm(magnitude: Tensor, ord: float, axes: Any, keepdims: bool) -> Tensor:
    """``sum(magnitude**ord)**(1/ord)`` with PyTorch's gradient of 0 where the power rules have
    none: at a zero element (``|x|**ord`` for ``ord < 1``) and at a zero norm (its power
    ``1/ord``). A zero element makes a negative order's sum infinite and its norm 0. Each
    singular point is kept out of both ``where`` branches' derivatives, not only the value."""
    zero = magnitude == 0
    terms = where(zero, 0.0, where(zero, 1.0, magnitude) ** ord)
    total = sum(terms, axis=axes, keepdims=keepdims)
    singular = total == 0 if ord > 0 else reduce.any(zero, axis=axes, keepdims=keepdims)
    return where(singular, 0.0, where(singular, 1.0, total) ** (1.0 / ord))


def norm(
    x: Tensor,
    /,
    ord: Any = None,
    dim: Any = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
) -> Tensor:
    """``torch.linalg.norm``: a vector norm over one axis (``dim`` an int), a matrix norm over
    two (``dim`` a pair), and without ``dim`` the vector norm of the flattened ``x`` when
    ``ord`` is None, else the norm of ``x`` as a vector (1-D) or a matrix (2-D).

    Raises:
        ValueError: ``ord`` with a tensor of more than two dimensions and no ``dim``.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([[3.0, 0.0], [0.0, -4.0]])
        >>> dualgrad.linalg.norm(x), dualgrad.linalg.norm(x, 1), dualgrad.linalg.norm(x, dim=1)
        (tensor(5.), tensor(4.), tensor([3., 4.]))
    """
    x = as_tensor(x, "norm")
    if dtype is not None:
        x = astype(x, dtype)
    if dim is None and ord is not None:
        if x.ndim not in (1, 2):
            msg = (
                f"norm: ord={ord!r} needs a 1-D or 2-D tensor or a dim, got shape {tuple(x.shape)}"
            )
            raise ValueError(msg)
        dim = tuple(range(x.ndim))
    if dim is not None and not isinstance(dim, int | np.integer) and len(tuple(dim)) == 2:
        axes = tuple(dim)
        moved = x if axes in ((x.ndim - 2, x.ndim - 1), (-2, -1)) else _to_last_two(x, axes)
        result = matrix_norm(moved, ord="fro" if ord is None else ord, keepdims=keepdim)
        if keepdim and moved is not x:
            result = _to_last_two(result, axes)  # the kept axes back where they were
        return result
    return vector_norm(x, axis=dim, keepdims=keepdim, ord=2 if ord is None else ord)


def _to_last_two(x: Tensor, axes: tuple[int, ...]) -> Tensor:
    from .shape import moveaxis

    return moveaxis(x, axes, (-2, -1))


def _largest(magnitudes: Tensor, axis: int = -1) -> Tensor:
    """The largest of non-negative values along ``axis``; 0 where there are none, as NumPy and
    PyTorch give the max-norms of an empty matrix (the smallest of none stays an error)."""
    if magnitudes.shape[axis] == 0:
        return sum(magnitudes, axis=axis)
    return max(magnitudes, axis=axis)


def matrix_norm(x: Tensor, /, *, keepdims: bool = False, ord: Any = "fro") -> Tensor:
    """The matrix norm of the last two axes.

    Args:
        x: matrices ``(..., M, N)``.
        keepdims: keep the two axes with length 1.
        ord: ``"fro"`` (Frobenius), ``"nuc"`` (sum of singular values), 2 or -2 (largest or
            smallest singular value), 1 or -1 (largest or smallest column sum of magnitudes),
            ``inf`` or ``-inf`` (largest or smallest row sum). Every norm takes complex
            matrices (a real result).

    Raises:
        TypeError: ``x`` is neither floating point nor complex.
        ValueError: an unknown ``ord``, or fewer than 2 dimensions.

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.matrix_norm(dualgrad.tensor([[3.0, 0.0], [0.0, -4.0]]), ord=2)
        tensor(4.)
    """
    if isinstance(x, Tensor) and x.dtype.is_complex and ord not in ("nuc", 2, -2):
        x = abs(x)  # the other norms are functions of the magnitudes
    x = _matrices(x, "matrix_norm")
    inf = float("inf")
    if isinstance(ord, str) and ord == "fro":
        out = apply(ops.euclidean_norm, (x,), {"axis": (-2, -1), "keepdims": False})
    elif isinstance(ord, str) and ord == "nuc":
        out = sum(svdvals(x), axis=-1)
    elif ord in (2, -2):
        out = (_largest if ord == 2 else min)(svdvals(x), axis=-1)
    elif ord in (1, -1, inf, -inf):
        along = -2 if ord in (1, -1) else -1
        out = (_largest if ord > 0 else min)(sum(abs(x), axis=along), axis=-1)
    else:
        msg = f"matrix_norm: unknown ord {ord!r}; use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf"
        raise ValueError(msg)
    return reshape(out, (*out.shape, 1, 1)) if keepdims else out


method(outer)
method(det)
method(inv, "inverse")
method(slogdet)


# --- compositions ---------------------------------------------------------------------------
def cross(x1: Tensor, x2: Tensor, /, *, axis: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``axis`` (other axes broadcast).

    Raises:
        ValueError: the axis does not have length 3 in both inputs.

    Example:
        >>> import dualgrad
        >>> x, y = dualgrad.tensor([1.0, 0.0, 0.0]), dualgrad.tensor([0.0, 1.0, 0.0])
        >>> dualgrad.linalg.cross(x, y)
        tensor([0., 0., 1.])
    """
    x1, x2 = as_tensor(x1, "cross"), as_tensor(x2, "cross")
    if not (-x1.ndim <= axis < 0 and -x2.ndim <= axis < 0):
        msg = f"cross: axis must be negative and within both inputs' dimensions, got {axis}"
        raise ValueError(msg)
    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        msg = (
            f"cross: axis {axis} must have length 3, got "
            f"shapes {tuple(x1.shape)} and {tuple(x2.shape)}"
        )
        raise ValueError(msg)
    trailing = (slice(None),) * (-axis - 1)

    def part(x: Tensor, i: int) -> Tensor:
        return getitem(x, (..., i, *trailing))

    a, b = [part(x1, i) for i in range(3)], [part(x2, i) for i in range(3)]
    components = [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
    return stack(components, axis=axis)


def matrix_power(x: Tensor, n: int, /) -> Tensor:
    """``x`` multiplied by itself ``n`` times (the identity for 0, powers of ``inv(x)`` below),
    by repeated squaring.

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.matrix_power(dualgrad.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
        tensor([[1., 3.],
                [0., 1.]])
    """
    x = _matrices(x, "matrix_power", square=True)
    n = operator.index(n)
    if n < 0:
        x, n = inv(x), -n
    result = None
    while n:
        if n & 1:
            result = x if result is None else matmul(result, x)
        n >>= 1
        if n:
            x = matmul(x, x)
    if result is None:
        eye = x._backend.namespace.eye(x.shape[-1], dtype=x._array.dtype)
        return broadcast_to(Tensor._wrap(eye, x._backend), x.shape)
    return result


def _cutoff(s: Tensor, shape: tuple[int, ...], rtol: Any) -> Tensor:
    """Singular values at or below this are treated as zero: ``rtol * max(s)``, with ``rtol``
    defaulting to ``max(M, N) * eps``, as the standard says."""
    if rtol is None:
        rtol = builtins.max(shape[-2:]) * float(np.finfo(s.dtype.name).eps)
    if isinstance(rtol, Tensor):
        rtol = getitem(rtol, (..., None))
    if s.numel() == 0:  # an empty stack, or no singular values: nothing to compare
        return zeros_like(sum(s, axis=-1, keepdims=True)) * rtol
    return rtol * max(s, axis=-1, keepdims=True)


def matrix_rank(x: Tensor, /, *, rtol: Any = None) -> Tensor:
    """The number of singular values above ``rtol * max(singular values)`` (int64).

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.matrix_rank(dualgrad.tensor([[1.0, 2.0], [2.0, 4.0]]))
        tensor(1)
    """
    x = _matrices(x, "matrix_rank")
    s = svdvals(x)
    return sum(astype(s > _cutoff(s, x.shape, rtol), "int64"), axis=-1)


def pinv(x: Tensor, /, *, rtol: Any = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse, through the SVD: singular values at or below
    ``rtol * max(singular values)`` are treated as zero. Differentiable where the SVD is
    (distinct, non-zero singular values).

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.pinv(dualgrad.tensor([[2.0, 0.0], [0.0, 0.0]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.0000]])
    """
    x = _matrices(x, "pinv")
    u, s, vh = svd(x, full_matrices=False)
    kept = s > _cutoff(s, x.shape, rtol)
    safe = where(kept, s, 1.0)
    inverse = where(kept, 1.0 / safe, 0.0)
    return matmul(_adjoint(vh) * getitem(inverse, (..., None, slice(None))), _adjoint(u))


# --- dualgrad.linalg's diagonal and trace: on the last two axes -------------------------------
def diagonal(x: Tensor, /, *, offset: int = 0) -> Tensor:
    """The diagonal of the last two axes (the Array API's ``linalg.diagonal``).

    Args:
        x: a tensor of shape ``(..., M, N)``.
        offset: which diagonal (positive above the main one, negative below).

    Returns:
        A tensor of shape ``(..., K)``.

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.diagonal(dualgrad.ones(2, 3, 3)).shape
        torch.Size([2, 3])
    """
    return index.diagonal(x, offset=offset, axis1=-2, axis2=-1)


def trace(x: Tensor, /, *, offset: int = 0, dtype: Any = None) -> Tensor:
    """The sum along a diagonal of the last two axes (the Array API's ``linalg.trace``).

    Args:
        x: a tensor of shape ``(..., M, N)``.
        offset: which diagonal (positive above the main one, negative below).
        dtype: the result's dtype (default: ``x``'s).

    Returns:
        A tensor of shape ``(...)``.

    Example:
        >>> import dualgrad
        >>> dualgrad.linalg.trace(dualgrad.ones(2, 3, 3))
        tensor([3., 3.])
    """
    return reduce.trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)
