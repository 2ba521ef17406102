"""Every primitive's derivative rules, checked the same ways on every backend.

The rules are called directly on backend arrays (``rule_checks.RuleCase``): vjp and jvp against
central finite differences, against each other (the dot-product test), and batched. Then through
Tensors and the public functions: first and second order, broadcasting and mixed dtypes, and
against PyTorch where it is installed. ``tests/op_db.py`` says which inputs each primitive gets.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from op_db import DIFFERENTIABLE, NONDIFFERENTIABLE, OP_DB, VARIANTS, Variant
from rule_checks import TOLERANCES, RuleCase, inner, make_tensor, pytorch_convention
from tensors import assert_close

import dualgrad
from dualgrad import ops
from dualgrad.autograd import grad
from dualgrad.testing import GradcheckError, check_modes, gradcheck, numerical_jvp

BATCH = (2, 3)  # two extra leading axes on cotangents and tangents


@pytest.fixture
def case(variant: Variant, backend: Any, request: pytest.FixtureRequest) -> RuleCase:
    """The variant on the backend, with the spec's known failures marked."""
    for where, reason in variant.spec.xfail.items():
        if where in (backend.name, request.node.originalname):
            request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    return RuleCase(variant, backend)


differentiable = pytest.mark.parametrize("variant", DIFFERENTIABLE, ids=str)
nondifferentiable = pytest.mark.parametrize("variant", NONDIFFERENTIABLE, ids=str)


def test_every_primitive_has_a_spec() -> None:
    assert set(ops.REGISTRY) == {spec.name for spec in OP_DB}


# --- the rules on backend arrays --------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_forward_matches_numpy(case: RuleCase) -> None:
    expected = case.variant.spec.expected(case.primals, case.variant.params)
    assert case.ans.dtype == expected.dtype
    if expected.dtype.kind in "fc":
        assert_close(case.ans, expected, case.tolerance.rtol, case.tolerance.atol, "forward")
    else:
        np.testing.assert_array_equal(case.ans, expected, strict=True)


@differentiable
def test_vjp_matches_finite_differences(case: RuleCase) -> None:
    tol = case.tolerance
    for i in case.inputs:
        u, v = case.cotangent(), case.tangent(i)
        assert_close(
            inner(case.vjp(i, u), v),
            case.numerical_vjp_inner(i, u, v),
            tol.fd_rtol,
            tol.fd_atol,
            f"<vjp_{i}(u), v> vs <u, J_{i} v> by central differences",
        )


@differentiable
def test_jvp_matches_finite_differences(case: RuleCase) -> None:
    tol = case.tolerance
    for i in case.inputs:
        v = case.tangent(i)
        assert_close(
            case.jvp(i, v),
            case.numerical_jvp(i, v),
            tol.fd_rtol,
            tol.fd_atol,
            f"jvp_{i}(v) vs J_{i} v by central differences",
        )


@differentiable
def test_dot_product(case: RuleCase) -> None:
    tol = case.tolerance
    for i in case.inputs:
        u, v = case.cotangent(), case.tangent(i)
        assert_close(
            inner(u, case.jvp(i, v)),
            inner(case.vjp(i, u), v),
            tol.rtol,
            tol.atol,
            f"<u, jvp_{i}(v)> vs <vjp_{i}(u), v>",
        )


@differentiable
def test_vjp_has_input_shape_and_dtype(case: RuleCase) -> None:
    for i in case.inputs:
        cotangent = case.vjp(i, case.cotangent())
        primal = case.primals[i]
        assert (cotangent.shape, cotangent.dtype) == (primal.shape, primal.dtype), f"vjp_{i}"


@differentiable
def test_jvp_has_output_shape_and_dtype(case: RuleCase) -> None:
    for i in case.inputs:
        tangent = case.jvp(i, case.tangent(i))
        assert (tangent.shape, tangent.dtype) == (case.ans.shape, case.ans.dtype), f"jvp_{i}"


def _assert_batched(
    case: RuleCase, rule: Callable[[Any], np.ndarray], block: np.ndarray, what: str
) -> None:
    """``rule`` of a block with leading BATCH axes is the stack of ``rule`` of each slice."""
    stacked = np.array([[rule(block[a, b]) for b in range(BATCH[1])] for a in range(BATCH[0])])
    assert_close(rule(block), stacked, case.tolerance.rtol, case.tolerance.atol, what)


@differentiable
def test_batched_cotangents(case: RuleCase) -> None:
    for i in case.inputs:
        _assert_batched(case, lambda g, i=i: case.vjp(i, g), case.cotangent(BATCH), f"vjp_{i}")


@differentiable
def test_batched_tangents(case: RuleCase) -> None:
    for i in case.inputs:
        _assert_batched(case, lambda t, i=i: case.jvp(i, t), case.tangent(i, BATCH), f"jvp_{i}")


# --- the rules through Tensors ----------------------------------------------------------------
@differentiable
def test_vjp_through_tensors_matches_rules(case: RuleCase) -> None:
    leaves = case.leaves()
    u = case.cotangent()
    grads = grad(
        case.run(leaves),
        [leaves[i] for i in case.inputs],
        grad_outputs=case.tensor(u),
        allow_unused=True,
    )
    for i, g in zip(case.inputs, grads, strict=True):
        got = np.zeros_like(case.primals[i]) if g is None else g.numpy()
        expected = pytorch_convention(lambda u, i=i: case.vjp(i, u), u)
        assert_close(got, expected, case.tolerance.rtol, case.tolerance.atol, f"input {i}")


@differentiable
def test_forward_and_reverse_mode_agree(case: RuleCase) -> None:
    """backward() in both modes, and jacfwd and jacrev, give the same derivatives."""
    tol = case.tolerance
    check_modes(
        lambda *xs: case.run(list(xs)),
        *case.leaves(requires_grad=()),
        atol=tol.atol,
        rtol=tol.rtol,
    )


@differentiable
def test_second_order(case: RuleCase) -> None:
    """The rules run on dualgrad's own namespace give vjps that differentiate correctly.

    With the inputs and the cotangent ``u`` all requiring grad, the first-order cotangents
    ``vjp_i(u)`` are computed with ``create_graph=True``; the derivative of
    ``sum_i <w_i, vjp_i(u)>`` along a random direction must match central differences of the
    first-order rules. (Complex values: ``.grad`` is the conjugate of the rules' convention, so
    the first-order gradients are ``conj(vjp_i(conj(u)))``, and a gradient ``s`` gives the
    directional derivative ``Re(sum(conj(s) * d))``.)
    """
    leaves = case.leaves()
    wrt = [leaves[i] for i in case.inputs]
    u = case.cotangent()
    cotangent = case.tensor(u, requires_grad=True)
    firsts = grad(case.run(leaves), wrt, grad_outputs=cotangent, create_graph=True)
    weights = [case.tangent(i) for i in case.inputs]
    directions = [*(case.tangent(i) for i in case.inputs), case.cotangent()]

    traced = [(first, w) for first, w in zip(firsts, weights, strict=True) if first.requires_grad]
    analytical = 0.0
    if traced:
        seconds = grad(
            [first for first, _ in traced],
            [*wrt, cotangent],
            grad_outputs=[case.tensor(w) for _, w in traced],
            allow_unused=True,
        )
        analytical = sum(
            inner(np.conj(s.numpy()), d)
            for s, d in zip(seconds, directions, strict=True)
            if s is not None
        )

    def weighted_vjps(*values: np.ndarray) -> float:
        at = list(case.primals)
        for i, value in zip(case.inputs, values, strict=False):
            at[i] = value
        return sum(
            inner(w, case.vjp(i, np.conj(values[-1]), at=at))
            for i, w in zip(case.inputs, weights, strict=True)
        )

    numerical = numerical_jvp(
        weighted_vjps,
        [*(case.primals[i] for i in case.inputs), u],
        directions,
        eps=case.tolerance.eps,
    )
    tol = case.tolerance
    assert_close(analytical, numerical, tol.fd_rtol, tol.fd_atol, "second-order directional")


@pytest.mark.parametrize(
    "variant", [v for v in DIFFERENTIABLE if not v.spec.prim.vjp_reads_ans], ids=str
)
def test_rules_declared_not_to_read_ans_ignore_it(case: RuleCase) -> None:
    """A primitive declared with ``vjp_reads_ans=False`` is given its output as a constant in a
    recorded backward (``create_graph=True``), not recomputed from its inputs: its vjp rules
    must not read the output's values. With an output of NaNs, every cotangent is the same."""
    prim, xp, params = case.prim, case.backend.xp, case.params
    arrays = case._arrays(case.primals)
    ans = prim.forward(xp, *arrays, **params)
    g = case.backend.from_numpy(case.cotangent().astype(case.ans.dtype))

    def cotangent(i: int, output: Any) -> np.ndarray:
        if prim.variadic:
            return case._numpy(prim.vjp(xp, g, output, *arrays, index=i, **params))
        return case._numpy(prim.vjp[i](xp, g, output, *arrays, **params))

    for i in case.inputs:
        np.testing.assert_array_equal(
            cotangent(i, xp.full_like(ans, float("nan"))), cotangent(i, ans), strict=True
        )


@nondifferentiable
def test_nondifferentiable_output_never_requires_grad(case: RuleCase) -> None:
    floating = [i for i, primal in enumerate(case.primals) if primal.dtype.kind == "f"]
    out = case.run(case.leaves(requires_grad=floating))
    assert (out.requires_grad, out.grad_fn) == (False, None)


# --- public functions: broadcasting, Python scalars, mixed dtypes -------------------------------
_INDICES = (np.array([0, 2, 2]), np.array([1, 1, 3]))
BROADCASTING: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "divide": lambda a, b: a / (b * b + 1.0),
    "pow": lambda a, b: (a * a + 0.5) ** b,
    "rpow": lambda a, b: 2.0 ** (a - b),
    "scalars": lambda a, b: 3 - 2.0 * a + b / 4 - 1.5 / (b * b + 1),
    "remainder": lambda a, b: (a + 3.0) % (b * b + 1.0),
    "maximum": lambda a, b: dualgrad.maximum(a, b),
    "minimum": lambda a, b: dualgrad.minimum(a, b),
    "where": lambda a, b: dualgrad.where(a > b, a * b, a - b),
    "clip": lambda a, b: dualgrad.clip(a, min=-0.5, max=b),
    "transcendental": lambda a, b: (
        dualgrad.sqrt(dualgrad.abs(a - b) + 1.0) * dualgrad.exp(-a * a)
        + dualgrad.tanh(a) * dualgrad.sin(b) / dualgrad.log(b * b + 2.0)
    ),
    "matmul": lambda a, b: (a * b) @ b,
    "matmul_batch": lambda a, b: dualgrad.matmul(
        dualgrad.expand_dims(a * b, 1), dualgrad.reshape(b, (1, 4, 1))
    ),
    "reductions": lambda a, b: (a * b).max(axis=0) + (a - b).mean() + (a * b).sum(-1, True),
    "stack": lambda a, b: dualgrad.stack([a * b, a + b], axis=-1),
    "concat": lambda a, b: dualgrad.concat([a, dualgrad.broadcast_to(b, (3, 4))], axis=-1),
    "getitem": lambda a, b: (a * b)[1:, ::2] + (a - b)[_INDICES].sum() + (a / b)[1:, [3, 3]],
}
SHAPES = ((3, 1), (4,))


def _leaves(backend: Any, dtypes: tuple[str, str]) -> list[dualgrad.Tensor]:
    rng = np.random.default_rng(0)
    return [
        make_tensor(backend, rng.uniform(-2.0, 2.0, shape), dtype, requires_grad=True)
        for shape, dtype in zip(SHAPES, dtypes, strict=True)
    ]


@pytest.mark.parametrize("function", BROADCASTING.values(), ids=BROADCASTING.keys())
def test_public_function_gradients_with_broadcasting(
    function: Callable[..., Any], backend: Any
) -> None:
    assert gradcheck(function, _leaves(backend, ("float64", "float64")))


@pytest.mark.parametrize("function", BROADCASTING.values(), ids=BROADCASTING.keys())
def test_public_function_grads_keep_leaf_shape_and_dtype(
    function: Callable[..., Any], backend: Any
) -> None:
    leaves = _leaves(backend, ("float32", "float64"))
    function(*leaves).sum().backward()
    assert [(leaf.grad.shape, leaf.grad.dtype) for leaf in leaves] == [
        ((3, 1), dualgrad.float32),
        ((4,), dualgrad.float64),
    ]


# --- dualgrad.testing ---------------------------------------------------------------------------
def _doubled_gradient(x: dualgrad.Tensor) -> dualgrad.Tensor:
    """``x ** 2`` whose reverse-mode gradient is doubled by a hook (a deliberately wrong rule)."""
    y = x * 1.0
    if y.requires_grad:
        y.register_hook(lambda g: g * 2.0)
    return y * y


def test_gradcheck_raises_naming_the_worst_element(backend: Any) -> None:
    x = make_tensor(backend, [[0.5, -1.0], [3.0, 2.0]], requires_grad=True)
    pattern = r"input 0 .* worst at d output\[1, 0\] / d input\[1, 0\]: analytical 12\.0"
    with pytest.raises(GradcheckError, match=pattern):
        gradcheck(_doubled_gradient, (x,))


def test_gradcheck_rejects_float32_inputs(backend: Any) -> None:
    x = make_tensor(backend, [1.0], "float32", requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        gradcheck(dualgrad.exp, (x,))


def test_gradcheck_passes_constants_through(backend: Any) -> None:
    x = make_tensor(backend, [1.0, 2.0], requires_grad=True)
    assert gradcheck(lambda x, c, k: x * c + k, (x, make_tensor(backend, [3.0, 4.0]), 2.0))


# --- against PyTorch ----------------------------------------------------------------------------
def _torch_key(torch: Any, key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(torch.from_numpy(part) if isinstance(part, np.ndarray) else part for part in key)


def _same_name(name: str) -> Callable[..., Any]:
    return lambda torch, tensors, params: getattr(torch, name)(*tensors)


def _reduction(name: str) -> Callable[..., Any]:
    return lambda torch, tensors, params: getattr(torch, name)(
        tensors[0], dim=params["axis"], keepdim=params["keepdims"]
    )


TORCH_SAME_NAMES = (
    "add", "subtract", "multiply", "divide", "pow", "exp", "log", "sin", "cos", "tanh", "sqrt",
    "square", "abs", "negative", "positive", "sign", "floor", "ceil", "trunc", "round",
    "remainder", "maximum", "minimum", "where", "matmul",
)  # fmt: skip
TORCH_OPS: dict[str, Callable[..., Any]] = {
    **{name: _same_name(name) for name in TORCH_SAME_NAMES},
    # Bounds broadcast first: PyTorch's clamp backward fails when a bound has fewer axes than
    # the result but more than the input ("output with shape [1, 1] doesn't match the
    # broadcast shape [1, 1, 1]" for shapes (), (1, 1, 1), (1, 1)).
    "clip": lambda torch, ts, params: torch.clip(*torch.broadcast_tensors(*ts)),
    "sum": _reduction("sum"),
    "mean": _reduction("mean"),
    "max": _reduction("amax"),
    "min": _reduction("amin"),
    "reshape": lambda torch, ts, params: torch.reshape(ts[0], params["shape"]),
    "permute_dims": lambda torch, ts, params: torch.permute(ts[0], params["axes"]),
    "broadcast_to": lambda torch, ts, params: torch.broadcast_to(ts[0], params["shape"]),
    "concat": lambda torch, ts, params: torch.cat(ts, dim=params["axis"]),
    "getitem": lambda torch, ts, params: ts[0][_torch_key(torch, params["key"])],
    "astype": lambda torch, ts, params: ts[0].to(getattr(torch, params["dtype"].name)),
}


@pytest.mark.parametrize(
    "variant",
    [v for v in DIFFERENTIABLE if v.spec.name in TORCH_OPS or v.spec.torch is not None],
    ids=str,
)
def test_gradients_match_pytorch(case: RuleCase) -> None:
    torch = pytest.importorskip("torch")
    u = case.cotangent()
    leaves = case.leaves()
    case.run(leaves).backward(case.tensor(u))
    torch_leaves = [
        torch.from_numpy(primal.copy()).requires_grad_(i in case.inputs)
        for i, primal in enumerate(case.primals)
    ]
    counterpart = case.variant.spec.torch or TORCH_OPS[case.prim.name]
    torch_out = counterpart(torch, torch_leaves, case.variant.params)
    torch_out.backward(torch.from_numpy(u.copy()))
    tol = case.tolerance.torch
    for i in case.inputs:
        assert_close(leaves[i].grad.numpy(), torch_leaves[i].grad.numpy(), tol, tol, f"input {i}")


# At ties the rules split or assign gradients as PyTorch does; finite differences cannot check it.
TIES: dict[str, Callable[..., Any]] = {
    "maximum": lambda m, x, y: m.maximum(x, y),
    "minimum": lambda m, x, y: m.minimum(x, y),
    "clip": lambda m, x, y: m.clip(x, min=y, max=y + 1.0),
    "amax": lambda m, x, y: x.amax(dim=-1, keepdim=True) * y.amax(dim=0),
    "amin": lambda m, x, y: x.amin(dim=-1, keepdim=True) * y.amin(dim=0),
    "abs": lambda m, x, y: m.abs(x - 1.0) * y,
}
TIES_AT = ([[1.0, 2.0, 2.0], [0.0, 0.0, 3.0]], [[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])


@pytest.mark.parametrize("function", TIES.values(), ids=TIES.keys())
def test_gradients_at_ties_match_pytorch(function: Callable[..., Any], backend: Any) -> None:
    torch = pytest.importorskip("torch")
    grads = []
    for module in (dualgrad, torch):
        if module is torch:
            x, y = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in TIES_AT)
        else:
            x, y = (make_tensor(backend, v, requires_grad=True) for v in TIES_AT)
        function(module, x, y).sum().backward()
        grads.append([np.asarray(x.grad.tolist()), np.asarray(y.grad.tolist())])
    tol = TOLERANCES["float64"].torch
    for ours, theirs, name in zip(*grads, "xy", strict=True):
        assert_close(ours, theirs, tol, tol, f"grad of {name}")


def test_operator_page_lists_every_primitive_from_the_table() -> None:
    from render_operators import PAGE, render

    assert PAGE.read_text() == render(), (
        "docs/operators.md is stale: python tests/render_operators.py"
    )


# --- against JAX ------------------------------------------------------------------------------
def _jax_counterpart(variant: Variant) -> Callable[..., Any] | None:
    """``jax.numpy``'s function of the primitive's name, when its params are only axes."""
    if importlib.util.find_spec("jax") is None or set(variant.params) - {"axis", "keepdims"}:
        return None
    import jax.numpy as jnp

    return getattr(jnp, variant.spec.name, None)


JAX_VARIANTS = [v for v in DIFFERENTIABLE if _jax_counterpart(v) is not None]


@pytest.mark.parametrize("variant", JAX_VARIANTS, ids=str)
def test_gradients_match_jax(variant: Variant) -> None:
    """dualgrad's reverse mode (on NumPy) against ``jax.vjp`` of jax.numpy's function."""
    import jax
    import jax.numpy as jnp

    case = RuleCase(variant, dualgrad.backends.get_backend_by_name("numpy"))
    u = case.cotangent()
    leaves = case.leaves()
    case.run(leaves).backward(case.tensor(u))
    function = _jax_counterpart(variant)

    def restricted(*differentiated: Any) -> Any:
        arguments = [jnp.asarray(p) for p in case.primals]
        for i, value in zip(case.inputs, differentiated, strict=True):
            arguments[i] = value
        if variant.spec.prim.variadic:  # concat takes its arrays as one sequence
            return function(arguments, **variant.params)
        return function(*arguments, **variant.params)

    _, pullback = jax.vjp(restricted, *(jnp.asarray(case.primals[i]) for i in case.inputs))
    expected = pullback(jnp.asarray(np.conj(u)))  # JAX's convention is the rules'
    tol = case.tolerance.torch
    for i, want in zip(case.inputs, expected, strict=True):
        got = leaves[i].grad.numpy()
        assert_close(got, np.conj(np.asarray(want)), tol, tol, f"input {i}")
