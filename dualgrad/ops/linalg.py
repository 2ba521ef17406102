"""Linear algebra primitives."""

from __future__ import annotations

__all__ = [
    "cholesky",
    "det",
    "eigh_eigenvectors",
    "eigvalsh",
    "inv",
    "linear",
    "matmul",
    "matvec",
    "qr_q",
    "qr_r",
    "slogdet_logabsdet",
    "slogdet_sign",
    "solve",
    "svd_u",
    "svd_vh",
    "svdvals",
]

import math

from ._primitive import Primitive


# --- matmul ---------------------------------------------------------------------------------
# Operands arrive at least 2-D with equal batch shapes: dualgrad.matmul promotes 1-D operands
# and broadcasts batch axes (through broadcast_to) first, so these rules stay one line each.
def _matmul_vjp_x(xp, g, ans, x, y):
    return g @ xp.matrix_transpose(y)


def _matmul_vjp_y(xp, g, ans, x, y):
    return xp.matrix_transpose(x) @ g


matmul = Primitive(
    "matmul",
    forward=lambda xp, x, y: x @ y,
    vjp=(_matmul_vjp_x, _matmul_vjp_y),
    jvp=(lambda xp, t, ans, x, y: t @ y, lambda xp, t, ans, x, y: x @ t),
    grad_fn="Mm",
    vjp_reads_ans=False,
)


# A matrix times a vector, ``A @ x`` with ``x`` 1-D (PyTorch's mv): one node, where the general
# matmul takes three (the vector made a column, the product, the column squeezed out), and each
# of them again in a backward pass that is itself recorded. ``x`` is (m, n), ``y`` (n,); the
# rules carry leading batch axes of ``g`` and ``t``.
def _matvec_vjp_x(xp, g, ans, x, y):
    return xp.expand_dims(g, axis=-1) * y


def _matvec_vjp_y(xp, g, ans, x, y):
    return g @ x


matvec = Primitive(
    "matvec",
    forward=lambda xp, x, y: x @ y,
    vjp=(_matvec_vjp_x, _matvec_vjp_y),
    jvp=(lambda xp, t, ans, x, y: t @ y, lambda xp, t, ans, x, y: t @ xp.matrix_transpose(x)),
    grad_fn="Mv",
    vjp_reads_ans=False,
)


# A layer's product with its weight, ``x @ w.T`` (``F.linear``, ``nn.Linear``): one node, where
# the general path records the weight's transpose and then the product. ``x`` is (..., n) with
# any leading axes (1-D too), ``w`` (m, n); the rules carry leading batch axes of ``g`` and
# ``t`` in front of those. The weight's cotangent sums over every leading axis of ``x``: the
# rows of ``x`` become one matrix, and a batch of cotangents one stack of products.
def _rows(xp, x):
    """``x`` as a matrix: one row per position of its leading axes (one row if 1-D)."""
    return xp.reshape(x, (math.prod(x.shape[:-1]), x.shape[-1]))


def _linear_vjp_w(xp, g, ans, x, w):
    batch = g.shape[: g.ndim - x.ndim]  # the leading batch axes of g, in front of x's
    rows = xp.reshape(g, (*batch, math.prod(x.shape[:-1]), g.shape[-1]))
    return xp.matrix_transpose(rows) @ _rows(xp, x)


def _linear_jvp_w(xp, t, ans, x, w):
    batch = t.shape[:-2]  # the leading batch axes of t, in front of w's
    return xp.reshape(_rows(xp, x) @ xp.matrix_transpose(t), (*batch, *ans.shape))


linear = Primitive(
    "linear",
    forward=lambda xp, x, w: x @ xp.matrix_transpose(w),
    vjp=(lambda xp, g, ans, x, w: g @ w, _linear_vjp_w),
    jvp=(lambda xp, t, ans, x, w: t @ xp.matrix_transpose(w), _linear_jvp_w),
    grad_fn="Mm",
    vjp_reads_ans=False,
)


# --- helpers for the decompositions ---------------------------------------------------------
# Rules call linear algebra as ``_linalg(xp, x).<name>``: on dualgrad's namespace that is
# dualgrad.linalg; a backend namespace copied without its ``linalg`` extension (the strict
# backend's is an attribute ``dir`` does not list) falls back to the array's own namespace.
def _linalg(xp, x):
    linalg = getattr(xp, "linalg", None)
    return linalg if linalg is not None else x.__array_namespace__().linalg


def _is_complex(xp, x):
    return xp.isdtype(x.dtype, "complex floating")


def _conj(xp, x):
    return xp.conj(x) if _is_complex(xp, x) else x


def _real(xp, x):
    return xp.real(x) if _is_complex(xp, x) else x


def _h(xp, x):
    """The conjugate transpose (the transpose of real matrices)."""
    return xp.matrix_transpose(_conj(xp, x))


def _hermitian(xp, x):
    # The Hermitian (for real x: symmetric) part: cholesky and eigh read only it, so that every
    # backend computes one function (NumPy reads the lower triangle, JAX symmetrizes) and
    # perturbations stay valid. Its own transpose under the rules' pairing.
    return (x + _h(xp, x)) * 0.5


def _eye_mask(xp, like):
    # The identity of like's (square) shape, built from standard functions on either namespace.
    return xp.triu(xp.tril(xp.ones_like(like)))


def _signs(xp, x, axis):
    # +1/-1 per column (axis=-2) or row (axis=-1): the sign of its largest-magnitude entry.
    if x.shape[axis] == 0:  # empty columns (rows): nothing to flip, and max has no identity
        return xp.ones_like(xp.sum(x, axis=axis, keepdims=True))
    magnitude = xp.abs(x)
    largest = xp.where(
        magnitude == xp.max(magnitude, axis=axis, keepdims=True), x, xp.zeros_like(x)
    )
    return xp.astype(xp.sum(largest, axis=axis, keepdims=True) >= 0, x.dtype) * 2.0 - 1.0


def _gaps(xp, w):
    # F[..., i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it.
    diff = w[..., None, :] - w[..., :, None]
    eye = _eye_mask(xp, diff)
    return (1.0 - eye) / (diff + eye)


# --- inv, solve, det, slogdet ---------------------------------------------------------------
inv = Primitive(
    "inv",
    forward=lambda xp, x: _linalg(xp, x).inv(x),
    vjp=(lambda xp, g, ans, x: -(xp.matrix_transpose(ans) @ g @ xp.matrix_transpose(ans)),),
    jvp=(lambda xp, t, ans, x: -(ans @ t @ ans),),
    grad_fn="LinalgInvEx",
)


# dualgrad.linalg.solve gives x (..., M, M) and y (..., M, K) one batch shape.
def _solve_vjp_y(xp, g, ans, x, y):
    return _linalg(xp, x).solve(xp.matrix_transpose(x), g)


def _solve_vjp_x(xp, g, ans, x, y):
    return -(_solve_vjp_y(xp, g, ans, x, y) @ xp.matrix_transpose(ans))


solve = Primitive(
    "solve",
    forward=lambda xp, x, y: _linalg(xp, x).solve(x, y),
    vjp=(_solve_vjp_x, _solve_vjp_y),
    jvp=(
        lambda xp, t, ans, x, y: -_linalg(xp, x).solve(x, t @ ans),
        lambda xp, t, ans, x, y: _linalg(xp, x).solve(x, t),
    ),
    grad_fn="LinalgSolveEx",
)


def _inv_transpose(xp, x):
    return xp.matrix_transpose(_linalg(xp, x).inv(x))


# d det(A) = det(A) tr(A^-1 dA), holomorphic.
det = Primitive(
    "det",
    forward=lambda xp, x: _linalg(xp, x).det(x),
    vjp=(lambda xp, g, ans, x: (g * ans)[..., None, None] * _inv_transpose(xp, x),),
    jvp=(lambda xp, t, ans, x: ans * xp.sum(_inv_transpose(xp, x) * t, axis=(-2, -1)),),
    grad_fn="LinalgDet",
)


# For complex x, log det(A) = log|det(A)| + i arg det(A): the log-modulus takes the real part of
# tr(A^-1 dA), and sign = det / |det| turns by i times its imaginary part. Real signs are
# piecewise constant: their derivative is an honest zero, as PyTorch's.
def _trace_of_inverse_times(xp, t, x):
    return xp.sum(_inv_transpose(xp, x) * t, axis=(-2, -1))


slogdet_logabsdet = Primitive(
    "slogdet_logabsdet",
    forward=lambda xp, x: _linalg(xp, x).slogdet(x)[1],
    vjp=(lambda xp, g, ans, x: g[..., None, None] * _inv_transpose(xp, x),),
    jvp=(lambda xp, t, ans, x: _real(xp, _trace_of_inverse_times(xp, t, x)),),
    grad_fn="LinalgSlogdet",
)


def _slogdet_sign_vjp(xp, g, ans, x):
    if not _is_complex(xp, x):
        return xp.zeros_like(g)[..., None, None] + xp.zeros_like(x)
    turn = g * ans
    return ((turn - xp.conj(turn)) * 0.5)[..., None, None] * _inv_transpose(xp, x)


def _slogdet_sign_jvp(xp, t, ans, x):
    if not _is_complex(xp, x):
        return xp.sum(xp.zeros_like(t), axis=(-2, -1))
    trace = _trace_of_inverse_times(xp, t, x)
    return ans * ((trace - xp.conj(trace)) * 0.5)


slogdet_sign = Primitive(
    "slogdet_sign",
    forward=lambda xp, x: _linalg(xp, x).slogdet(x)[0],
    vjp=(_slogdet_sign_vjp,),
    jvp=(_slogdet_sign_jvp,),
    grad_fn="LinalgSlogdet",
)


# --- cholesky -------------------------------------------------------------------------------
# Of the Hermitian part S of x: S = L L^H. With phi(X) the lower triangle with a halved
# diagonal, dL = L phi(L^-1 dS L^-H); the vjp is its transpose (Murray 2016, arXiv:1602.07527,
# for real matrices; for complex ones the rules' pairing conjugates the last factor).
def _phi(xp, x):
    return (xp.tril(x) + xp.tril(x, k=-1)) * 0.5


def _cholesky_jvp(xp, t, ans, x):
    inverse = _linalg(xp, x).inv(ans)
    return ans @ _phi(xp, inverse @ _hermitian(xp, t) @ _h(xp, inverse))


def _cholesky_vjp(xp, g, ans, x):
    inverse = _linalg(xp, x).inv(ans)
    inner = _phi(xp, xp.matrix_transpose(ans) @ g)
    return _hermitian(xp, xp.matrix_transpose(inverse) @ inner @ _conj(xp, inverse))


cholesky = Primitive(
    "cholesky",
    forward=lambda xp, x: _linalg(xp, x).cholesky(_hermitian(xp, x)),
    vjp=(_cholesky_vjp,),
    jvp=(_cholesky_jvp,),
    grad_fn="LinalgCholeskyEx",
)


# --- eigh -----------------------------------------------------------------------------------
# Of the Hermitian part S = V diag(w) V^H (w real): dw = Re diag(V^H dS V) and
# dV = V (F o V^H dS V) with F_ij = 1 / (w_j - w_i) off the diagonal. The eigenvector rules
# divide by eigenvalue gaps: at repeated eigenvalues the eigenvectors are not unique and their
# derivatives are infinite. Each eigenvector is normalized so that every backend agrees: its
# largest-magnitude entry made positive (real), or real and positive (complex). For complex
# matrices that phase is a function of x with a derivative of its own: dV above has
# diag(V^H dV) = 0, and the rules add i V diag(theta), the theta that keeps each column's
# largest entry real (the gauge helpers of svd below, which fixes U's phases the same way).
def _eigvalsh_vjp(xp, g, ans, x):
    vectors = _linalg(xp, x).eigh(_hermitian(xp, x))[1]
    return (_conj(xp, vectors) * g[..., None, :]) @ xp.matrix_transpose(vectors)


def _eigvalsh_jvp(xp, t, ans, x):
    vectors = _linalg(xp, x).eigh(_hermitian(xp, x))[1]
    return _real(xp, xp.sum(_conj(xp, vectors) * (_hermitian(xp, t) @ vectors), axis=-2))


eigvalsh = Primitive(
    "eigvalsh",
    forward=lambda xp, x: _linalg(xp, x).eigvalsh(_hermitian(xp, x)),
    vjp=(_eigvalsh_vjp,),
    jvp=(_eigvalsh_jvp,),
    grad_fn="LinalgEigh",
)


def _eigenvectors_forward(xp, x):
    vectors = _linalg(xp, x).eigh(_hermitian(xp, x))[1]
    return vectors * _column_phases(xp, vectors)


def _eigenvectors_vjp(xp, g, ans, x):
    if _is_complex(xp, x) and x.shape[-1] > 0:  # the transpose of the phase term
        turns = xp.imag(xp.sum(g * ans, axis=-2))
        g = g - 1j * _gauge_weights(xp, ans) * turns[..., None, :]
    gaps = _gaps(xp, _linalg(xp, x).eigvalsh(_hermitian(xp, x)))
    inner = gaps * (xp.matrix_transpose(ans) @ g)
    return _hermitian(xp, _conj(xp, ans) @ inner @ xp.matrix_transpose(ans))


def _eigenvectors_jvp(xp, t, ans, x):
    gaps = _gaps(xp, _linalg(xp, x).eigvalsh(_hermitian(xp, x)))
    tangent = ans @ (gaps * (_h(xp, ans) @ _hermitian(xp, t) @ ans))
    if _is_complex(xp, x) and x.shape[-1] > 0:
        tangent = tangent + 1j * ans * _gauge_angles(xp, ans, tangent)[..., None, :]
    return tangent


eigh_eigenvectors = Primitive(
    "eigh_eigenvectors",
    forward=_eigenvectors_forward,
    vjp=(_eigenvectors_vjp,),
    jvp=(_eigenvectors_jvp,),
    grad_fn="LinalgEigh",
)


# --- qr and svd of complex matrices -----------------------------------------------------------
# The rules of qr and svd read conjugate transposes: they are written as adjoints under
# Re tr(a^H b) (the textbook form, PyTorch's), and a vjp conjugates its cotangent on the way in
# and its result on the way out, which turns that adjoint into the transpose the rules'
# convention asks for (_primitive's docstring). On real matrices every conjugation is skipped.
def _imaginary_diagonal(xp, x):
    """The diagonal matrix i Im(diag(x)) of square complex x."""
    return _eye_mask(xp, x) * (x - xp.conj(x)) * 0.5


# --- qr -------------------------------------------------------------------------------------
# Reduced QR of a square or tall x (M >= N), R's diagonal made real and positive so every
# backend agrees. With X = Q^H dA R^-1 and Omega = L - L^H + i Im(diag(X)), L the strictly lower
# part of X (Q^H dQ, skew-Hermitian): dR = (X - Omega) R and dQ = dA R^-1 - Q (X - Omega). The
# vjps are the adjoints, as in PyTorch: A_bar = (Q_bar + Q copyltu(M)) R^-H with
# M = R R_bar^H - Q_bar^H Q and copyltu(M) = L + L^H + Re(diag(M)), L M's strictly lower part.
def _qr_forward(xp, x):
    q, r = _linalg(xp, x).qr(x)
    phases = _diagonal_phases(xp, r)
    # triu: a flipped row would turn the zeros below the diagonal into -0
    return q * phases[..., None, :], xp.triu(r * _conj(xp, phases)[..., :, None])


def _diagonal_phases(xp, r):
    """Per diagonal entry of r, the unit factor whose conjugate makes it real and non-negative
    (+1/-1 for real r)."""
    diagonal = _linalg(xp, r).diagonal(r)
    if not _is_complex(xp, r):
        return xp.astype(diagonal >= 0, r.dtype) * 2.0 - 1.0
    size = xp.abs(diagonal)
    zero = size == 0
    return xp.where(zero, xp.ones_like(diagonal), diagonal / xp.where(zero, 1.0, size))


def _copyltu(xp, m):
    out = xp.tril(m) + _h(xp, xp.tril(m, k=-1))
    return out - _imaginary_diagonal(xp, m) if _is_complex(xp, m) else out


def _qr_tangent_parts(xp, t, q, r, x):
    r_inv = _linalg(xp, x).inv(r)
    projected = _h(xp, q) @ t @ r_inv
    lower = xp.tril(projected, k=-1)
    upper = projected - (lower - _h(xp, lower))
    if _is_complex(xp, x):
        upper = upper - _imaginary_diagonal(xp, projected)
    return t @ r_inv, upper


def _qr_q_jvp(xp, t, ans, x):
    r = _h(xp, ans) @ x
    t_r_inv, upper = _qr_tangent_parts(xp, t, ans, r, x)
    return t_r_inv - ans @ upper


def _qr_r_jvp(xp, t, ans, x):
    q = x @ _linalg(xp, x).inv(ans)
    return _qr_tangent_parts(xp, t, q, ans, x)[1] @ ans


def _qr_q_vjp(xp, g, ans, x):
    g = _conj(xp, g)
    r = _h(xp, ans) @ x
    m = -(_h(xp, g) @ ans)
    return _conj(xp, (g + ans @ _copyltu(xp, m)) @ _h(xp, _linalg(xp, x).inv(r)))


def _qr_r_vjp(xp, g, ans, x):
    g = _conj(xp, g)
    r_inv = _linalg(xp, x).inv(ans)
    q = x @ r_inv
    m = ans @ _h(xp, g)
    return _conj(xp, q @ _copyltu(xp, m) @ _h(xp, r_inv))


qr_q = Primitive(
    "qr_q",
    forward=lambda xp, x: _qr_forward(xp, x)[0],
    vjp=(_qr_q_vjp,),
    jvp=(_qr_q_jvp,),
    grad_fn="LinalgQr",
)
qr_r = Primitive(
    "qr_r",
    forward=lambda xp, x: _qr_forward(xp, x)[1],
    vjp=(_qr_r_vjp,),
    jvp=(_qr_r_jvp,),
    grad_fn="LinalgQr",
)


# --- svd ------------------------------------------------------------------------------------
# Reduced SVD x = U diag(s) Vh, K = min(M, N), each column of U scaled by a unit factor that
# makes its largest-magnitude entry real and positive (Vh's rows follow) so every backend agrees
# and U, Vh are functions of x. With dP = U^H dA V and F_ij = 1 / (s_j^2 - s_i^2):
# ds = Re(diag(dP)), dU = U (F o (dP S + S dP^H)) + (I - U U^H) dA V S^-1 + i U diag(theta), and
# dV likewise (Townsend 2016, as in JAX). The U and Vh rules divide by gaps between squared
# singular values and by the singular values: at repeated or zero singular values they are
# infinite. A rule recovers the other factor from x, e.g. V = x^H U / s, which keeps the phases
# paired.
#
# The gauge (complex x only): U^H dU is skew-Hermitian, and the imaginary part of its diagonal,
# theta, is what the phase convention fixes: theta keeps each column's largest entry real.
# PyTorch leaves it free and so raises for losses that depend on the phases; here U and Vh
# are functions of x, and every loss has the gradient of the factors computed.
def _svd_forward(xp, x):
    u, s, vh = _linalg(xp, x).svd(x, full_matrices=False)
    phases = _column_phases(xp, u)
    return u * phases, s, vh * xp.matrix_transpose(_conj(xp, phases))


def _column_phases(xp, u):
    """Per column of u, the unit factor that makes its largest-magnitude entry real and
    positive (+1/-1 for real u)."""
    if not _is_complex(xp, u):
        return _signs(xp, u, -2)
    if u.shape[-2] == 0:
        return xp.ones_like(xp.sum(u, axis=-2, keepdims=True))
    top = xp.sum(_largest(xp, u), axis=-2, keepdims=True)
    size = xp.abs(top)
    zero = size == 0
    return xp.where(zero, xp.ones_like(top), xp.conj(top) / xp.where(zero, 1.0, size))


def _largest(xp, u):
    """u's largest-magnitude entries of each column, zeros elsewhere."""
    magnitude = xp.abs(u)
    top = magnitude == xp.max(magnitude, axis=-2, keepdims=True)
    return xp.where(top, u, xp.zeros_like(u))


def _gauge_weights(xp, u):
    """W with Im(sum(W o dU, axis=-2)) the change of the phase of each column's largest entry
    (real and positive in u): 1 / that entry where it is, 0 elsewhere."""
    largest = _largest(xp, u)
    marked = xp.where(largest != 0, xp.ones_like(xp.real(u)), xp.zeros_like(xp.real(u)))
    return marked / xp.real(xp.sum(largest, axis=-2, keepdims=True))


def _gauge_angles(xp, u, du):
    """theta: du + i u diag(theta) keeps the largest entry of each column of u real."""
    return -xp.imag(xp.sum(_gauge_weights(xp, u) * du, axis=-2))


def _gauge_cotangent(xp, u, vectors, g):
    """The adjoint of the gauge term: the cotangent of U's gauge-free tangent that
    i vectors diag(theta) with cotangent g gives."""
    angles = xp.imag(xp.sum(xp.conj(vectors) * g, axis=-2))
    return -1j * _gauge_weights(xp, u) * angles[..., None, :]


def _svdvals_vjp(xp, g, ans, x):
    u, _, vh = _linalg(xp, x).svd(x, full_matrices=False)
    return _conj(xp, (u * g[..., None, :]) @ vh)


def _svdvals_jvp(xp, t, ans, x):
    u, _, vh = _linalg(xp, x).svd(x, full_matrices=False)
    ds = xp.sum(_conj(xp, u) * (t @ _h(xp, vh)), axis=-2)
    return xp.real(ds) if _is_complex(xp, x) else ds


svdvals = Primitive(
    "svdvals",
    forward=lambda xp, x: _linalg(xp, x).svdvals(x),
    vjp=(_svdvals_vjp,),
    jvp=(_svdvals_jvp,),
    grad_fn="LinalgSvd",
)


def _svd_factors_from_u(xp, u, x):
    s = _linalg(xp, x).svdvals(x)
    return s, (_h(xp, x) @ u) / s[..., None, :]


def _svd_factors_from_vh(xp, vh, x):
    s = _linalg(xp, x).svdvals(x)
    v = _h(xp, vh)
    return s, (x @ v) / s[..., None, :], v


def _svd_u_gauge_free_jvp(xp, t, u, s, v, x):
    """dU with diag(U^H dU) = 0."""
    p = _h(xp, u) @ t @ v
    gaps = _gaps(xp, s * s)
    du = u @ (gaps * (p * s[..., None, :] + s[..., :, None] * _h(xp, p)))
    if x.shape[-2] > x.shape[-1]:
        tv = t @ v
        du = du + (tv - u @ (_h(xp, u) @ tv)) / s[..., None, :]
    return du


def _svd_u_gauge_free_adjoint(xp, g, u, s, v, x):
    """The adjoint of _svd_u_gauge_free_jvp."""
    k = _gaps(xp, s * s) * (_h(xp, u) @ g)
    grad = u @ ((k + _h(xp, k)) * s[..., None, :])
    if x.shape[-2] > x.shape[-1]:
        grad = grad + (g - u @ (_h(xp, u) @ g)) / s[..., None, :]
    return grad @ _h(xp, v)


def _svd_u_jvp(xp, t, ans, x):
    s, v = _svd_factors_from_u(xp, ans, x)
    du = _svd_u_gauge_free_jvp(xp, t, ans, s, v, x)
    if _is_complex(xp, x) and x.shape[-2] > 0:
        du = du + 1j * ans * _gauge_angles(xp, ans, du)[..., None, :]
    return du


def _svd_u_vjp(xp, g, ans, x):
    s, v = _svd_factors_from_u(xp, ans, x)
    g = _conj(xp, g)
    if _is_complex(xp, x) and x.shape[-2] > 0:
        g = g + _gauge_cotangent(xp, ans, ans, g)
    return _conj(xp, _svd_u_gauge_free_adjoint(xp, g, ans, s, v, x))


# V = x^H U S^-1 inherits U's phases: Im(diag(V^H dV)) = theta - Im(diag(dP)) / s.
def _svd_vh_jvp(xp, t, ans, x):
    s, u, v = _svd_factors_from_vh(xp, ans, x)
    p = _h(xp, u) @ t @ v
    gaps = _gaps(xp, s * s)
    dv = v @ (gaps * (s[..., :, None] * p + _h(xp, p) * s[..., None, :]))
    if x.shape[-1] > x.shape[-2]:
        tu = _h(xp, t) @ u
        dv = dv + (tu - v @ (_h(xp, v) @ tu)) / s[..., None, :]
    if _is_complex(xp, x) and x.shape[-2] > 0:
        du = _svd_u_gauge_free_jvp(xp, t, u, s, v, x)
        diagonal = _linalg(xp, x).diagonal(p)
        angles = _gauge_angles(xp, u, du) - xp.imag(diagonal) / s
        dv = dv + 1j * v * angles[..., None, :]
    return _h(xp, dv)


def _svd_vh_vjp(xp, g, ans, x):
    s, u, v = _svd_factors_from_vh(xp, ans, x)
    g_v = xp.matrix_transpose(g)  # V's cotangent in the adjoint's form: conj(g)^H
    k = _gaps(xp, s * s) * (_h(xp, v) @ g_v)
    grad = u @ (s[..., :, None] * (k + _h(xp, k))) @ _h(xp, v)
    if x.shape[-1] > x.shape[-2]:
        rest = g_v - v @ (_h(xp, v) @ g_v)
        grad = grad + (u / s[..., None, :]) @ _h(xp, rest)
    if _is_complex(xp, x) and x.shape[-2] > 0:
        angles = xp.imag(xp.sum(xp.conj(v) * g_v, axis=-2))
        grad = grad - 1j * (u * (angles / s)[..., None, :]) @ _h(xp, v)
        gauge = _gauge_cotangent(xp, u, v, g_v)
        grad = grad + _svd_u_gauge_free_adjoint(xp, gauge, u, s, v, x)
    return _conj(xp, grad)


svd_u = Primitive(
    "svd_u",
    forward=lambda xp, x: _svd_forward(xp, x)[0],
    vjp=(_svd_u_vjp,),
    jvp=(_svd_u_jvp,),
    grad_fn="LinalgSvd",
)
svd_vh = Primitive(
    "svd_vh",
    forward=lambda xp, x: _svd_forward(xp, x)[2],
    vjp=(_svd_vh_vjp,),
    jvp=(_svd_vh_jvp,),
    grad_fn="LinalgSvd",
)
