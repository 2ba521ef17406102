"""Linear algebra primitives."""

from __future__ import annotations

__all__ = [
    "cholesky",
    "det",
    "eigh_eigenvectors",
    "eigvalsh",
    "inv",
    "matmul",
    "qr_q",
    "qr_r",
    "slogdet_logabsdet",
    "slogdet_sign",
    "solve",
    "svd_u",
    "svd_vh",
    "svdvals",
]

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
# matrices that phase is a function of x with a derivative of its own: dV above keeps the
# phase of each column fixed to first order (V^H dV has a zero diagonal), and the rules add
# i c_k v_k, the real c_k that keeps the largest entry real.
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


def _pivots(xp, v):
    # Per column of complex v: where its largest-magnitude entries are, and their sum.
    magnitude = xp.abs(v)
    largest = magnitude == xp.max(magnitude, axis=-2, keepdims=True)
    return largest, xp.sum(xp.where(largest, v, xp.zeros_like(v)), axis=-2, keepdims=True)


def _has_phases(xp, x):
    # complex matrices with entries (an empty one has no largest entry, and no phase to fix)
    return _is_complex(xp, x) and x.shape[-1] > 0


def _eigenvectors_forward(xp, x):
    vectors = _linalg(xp, x).eigh(_hermitian(xp, x))[1]
    if not _is_complex(xp, x):
        return vectors * _signs(xp, vectors, -2)
    if not _has_phases(xp, x):
        return vectors
    pivot = _pivots(xp, vectors)[1]
    return vectors * (xp.conj(pivot) / xp.abs(pivot))


def _phase_fixed(xp, tangent, ans):
    # tangent + i c_k v_k per column k, with c_k making Im(dv) zero where v's largest entries are
    # (for the normalized v there, their sum is real and positive).
    largest, pivot = _pivots(xp, ans)
    moved = xp.sum(xp.where(largest, tangent, xp.zeros_like(tangent)), axis=-2, keepdims=True)
    return tangent + ans * ((xp.conj(moved) - moved) / (2.0 * xp.abs(pivot)))


def _phase_fixed_transpose(xp, g, ans):
    # _phase_fixed's transpose under the rules' pairing.
    largest, pivot = _pivots(xp, ans)
    along = xp.sum(g * ans, axis=-2, keepdims=True)
    turn = (xp.conj(along) - along) / (2.0 * xp.abs(pivot))
    return g + xp.where(largest, turn, xp.zeros_like(turn))


def _eigenvectors_vjp(xp, g, ans, x):
    if _has_phases(xp, x):
        g = _phase_fixed_transpose(xp, g, ans)
    gaps = _gaps(xp, _linalg(xp, x).eigvalsh(_hermitian(xp, x)))
    inner = gaps * (xp.matrix_transpose(ans) @ g)
    return _hermitian(xp, _conj(xp, ans) @ inner @ xp.matrix_transpose(ans))


def _eigenvectors_jvp(xp, t, ans, x):
    gaps = _gaps(xp, _linalg(xp, x).eigvalsh(_hermitian(xp, x)))
    tangent = ans @ (gaps * (_h(xp, ans) @ _hermitian(xp, t) @ ans))
    return _phase_fixed(xp, tangent, ans) if _has_phases(xp, x) else tangent


eigh_eigenvectors = Primitive(
    "eigh_eigenvectors",
    forward=_eigenvectors_forward,
    vjp=(_eigenvectors_vjp,),
    jvp=(_eigenvectors_jvp,),
    grad_fn="LinalgEigh",
)


# --- qr -------------------------------------------------------------------------------------
# Reduced QR of a square or tall x (M >= N), R's diagonal made positive so every backend
# agrees. With X = Q^T dA R^-1 and Omega its strictly lower part minus that part transposed:
# dR = (X - Omega) R and dQ = dA R^-1 - Q (X - Omega). The vjps are the adjoints, as in
# PyTorch: A_bar = (Q_bar + Q copyltu(M)) R^-T with M = R R_bar^T - Q_bar^T Q.
def _qr_forward(xp, x):
    q, r = _linalg(xp, x).qr(x)
    signs = _signs_of_diagonal(xp, r)
    # triu: a flipped row would turn the zeros below the diagonal into -0
    return q * signs[..., None, :], xp.triu(r * signs[..., :, None])


def _signs_of_diagonal(xp, r):
    return xp.astype(_linalg(xp, r).diagonal(r) >= 0, r.dtype) * 2.0 - 1.0


def _copyltu(xp, m):
    return xp.tril(m) + xp.matrix_transpose(xp.tril(m, k=-1))


def _qr_tangent_parts(xp, t, q, r, x):
    r_inv = _linalg(xp, x).inv(r)
    projected = xp.matrix_transpose(q) @ t @ r_inv
    lower = xp.tril(projected, k=-1)
    return t @ r_inv, projected - (lower - xp.matrix_transpose(lower))


def _qr_q_jvp(xp, t, ans, x):
    r = xp.matrix_transpose(ans) @ x
    t_r_inv, upper = _qr_tangent_parts(xp, t, ans, r, x)
    return t_r_inv - ans @ upper


def _qr_r_jvp(xp, t, ans, x):
    q = x @ _linalg(xp, x).inv(ans)
    return _qr_tangent_parts(xp, t, q, ans, x)[1] @ ans


def _qr_q_vjp(xp, g, ans, x):
    r = xp.matrix_transpose(ans) @ x
    m = -(xp.matrix_transpose(g) @ ans)
    return (g + ans @ _copyltu(xp, m)) @ xp.matrix_transpose(_linalg(xp, x).inv(r))


def _qr_r_vjp(xp, g, ans, x):
    r_inv = _linalg(xp, x).inv(ans)
    q = x @ r_inv
    m = ans @ xp.matrix_transpose(g)
    return q @ _copyltu(xp, m) @ xp.matrix_transpose(r_inv)


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
# Reduced SVD x = U diag(s) Vh, K = min(M, N), each column of U made to have its
# largest-magnitude entry positive (Vh's rows follow) so every backend agrees. With
# dP = U^T dA V and F_ij = 1 / (s_j^2 - s_i^2): ds = diag(dP),
# dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^-1, and dV likewise (Townsend 2016, as in
# JAX). The U and Vh rules divide by gaps between squared singular values and by the singular
# values: at repeated or zero singular values they are infinite. A rule recovers the other
# factor from x, e.g. V = x^T U / s, which keeps the signs paired.
def _svd_forward(xp, x):
    u, s, vh = _linalg(xp, x).svd(x, full_matrices=False)
    signs = _signs(xp, u, -2)
    return u * signs, s, vh * xp.matrix_transpose(signs)


def _svdvals_vjp(xp, g, ans, x):
    u, _, vh = _linalg(xp, x).svd(x, full_matrices=False)
    return (u * g[..., None, :]) @ vh


def _svdvals_jvp(xp, t, ans, x):
    u, _, vh = _linalg(xp, x).svd(x, full_matrices=False)
    return xp.sum(u * (t @ xp.matrix_transpose(vh)), axis=-2)


svdvals = Primitive(
    "svdvals",
    forward=lambda xp, x: _linalg(xp, x).svdvals(x),
    vjp=(_svdvals_vjp,),
    jvp=(_svdvals_jvp,),
    grad_fn="LinalgSvd",
)


def _svd_factors_from_u(xp, u, x):
    s = _linalg(xp, x).svdvals(x)
    return s, (xp.matrix_transpose(x) @ u) / s[..., None, :]


def _svd_factors_from_vh(xp, vh, x):
    s = _linalg(xp, x).svdvals(x)
    v = xp.matrix_transpose(vh)
    return s, (x @ v) / s[..., None, :], v


def _svd_u_jvp(xp, t, ans, x):
    s, v = _svd_factors_from_u(xp, ans, x)
    p = xp.matrix_transpose(ans) @ t @ v
    gaps = _gaps(xp, s * s)
    du = ans @ (gaps * (p * s[..., None, :] + s[..., :, None] * xp.matrix_transpose(p)))
    if x.shape[-2] > x.shape[-1]:
        tv = t @ v
        du = du + (tv - ans @ (xp.matrix_transpose(ans) @ tv)) / s[..., None, :]
    return du


def _svd_u_vjp(xp, g, ans, x):
    s, v = _svd_factors_from_u(xp, ans, x)
    k = _gaps(xp, s * s) * (xp.matrix_transpose(ans) @ g)
    p = (k + xp.matrix_transpose(k)) * s[..., None, :]
    grad = ans @ p
    if x.shape[-2] > x.shape[-1]:
        grad = grad + (g - ans @ (xp.matrix_transpose(ans) @ g)) / s[..., None, :]
    return grad @ xp.matrix_transpose(v)


def _svd_vh_jvp(xp, t, ans, x):
    s, u, v = _svd_factors_from_vh(xp, ans, x)
    p = xp.matrix_transpose(u) @ t @ v
    gaps = _gaps(xp, s * s)
    dv = v @ (gaps * (s[..., :, None] * p + xp.matrix_transpose(p) * s[..., None, :]))
    if x.shape[-1] > x.shape[-2]:
        tu = xp.matrix_transpose(t) @ u
        dv = dv + (tu - v @ (xp.matrix_transpose(v) @ tu)) / s[..., None, :]
    return xp.matrix_transpose(dv)


def _svd_vh_vjp(xp, g, ans, x):
    s, u, v = _svd_factors_from_vh(xp, ans, x)
    g_v = xp.matrix_transpose(g)
    k = _gaps(xp, s * s) * (xp.matrix_transpose(v) @ g_v)
    grad = u @ (s[..., :, None] * (k + xp.matrix_transpose(k))) @ xp.matrix_transpose(v)
    if x.shape[-1] > x.shape[-2]:
        rest = g_v - v @ (xp.matrix_transpose(v) @ g_v)
        grad = grad + (u / s[..., None, :]) @ xp.matrix_transpose(rest)
    return grad


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
