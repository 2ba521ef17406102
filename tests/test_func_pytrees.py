"""The transforms over pytrees: tuples, lists, dicts and named tuples of arrays in and out.

Structures and values are compared with JAX (``jax.grad``, ``jax.vjp``, ...) and, where it has
the same transform, with ``torch.func``.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from tensors import assert_close, leaf, values

import dualgrad
from dualgrad import tree_util

RNG = np.random.default_rng(18)
PARAMS = {
    "w1": RNG.standard_normal((3, 4)),
    "b1": RNG.standard_normal(4),
    "w2": RNG.standard_normal(4),
}
X = RNG.standard_normal((5, 3))
Affine = namedtuple("Affine", "scale shift")


def _loss(params, x, lib):
    hidden = lib.tanh(x @ params["w1"] + params["b1"])
    return ((hidden @ params["w2"]) ** 2).sum()


def _two_heads(params, lib):
    """A dict-to-dict function with differently shaped leaves."""
    product = params["w1"].T @ lib.sin(params["b1"][:3])
    return {"features": lib.tanh(product * params["w2"]), "energy": (params["w1"] ** 2).sum()}


def _ours(tree):
    """A pytree of NumPy data as Tensors on the active backend."""
    return tree_util.tree_map(lambda value: leaf(value), tree)


@pytest.fixture
def jax():
    """JAX, the reference (float64: the test session turns on its 64-bit mode)."""
    return pytest.importorskip("jax", reason="JAX is the reference: pip install 'dualgrad[jax]'")


def _assert_same_as_jax(ours, theirs, jax):
    """Same structure (containers and keys) and the same values, leaf by leaf."""
    assert repr(tree_util.tree_structure(ours)) == repr(jax.tree_util.tree_structure(theirs))
    for mine, reference in zip(
        tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs), strict=True
    ):
        reference = np.asarray(reference)
        assert values(mine).shape == reference.shape
        np.testing.assert_allclose(values(mine), reference, rtol=1e-10, atol=1e-12)


def _jax_params(jax, tree=PARAMS):
    return jax.tree_util.tree_map(jax.numpy.asarray, tree)


# --- against JAX ----------------------------------------------------------------------------
def test_grad_of_a_dict_is_a_dict_as_in_jax(backend, float64, jax):
    ours = dualgrad.grad(lambda p: _loss(p, leaf(X), dualgrad))(_ours(PARAMS))
    theirs = jax.grad(lambda p: _loss(p, jax.numpy.asarray(X), jax.numpy))(_jax_params(jax))
    assert isinstance(ours, dict)
    assert list(ours) == list(PARAMS)  # the argument's key order
    _assert_same_as_jax(ours, theirs, jax)


def test_grad_argnums_tuple_over_pytrees_matches_jax(backend, float64, jax):
    def f(params, pair, lib):
        first, second = pair
        return _loss(params, first, lib) * lib.sin(second).sum()

    pair = (X, RNG.standard_normal(2))
    ours = dualgrad.grad(lambda p, q: f(p, q, dualgrad), argnums=(0, 1))(
        _ours(PARAMS), _ours(pair)
    )
    theirs = jax.grad(lambda p, q: f(p, q, jax.numpy), argnums=(0, 1))(
        _jax_params(jax), _jax_params(jax, pair)
    )
    _assert_same_as_jax(ours, theirs, jax)


def test_value_and_grad_has_aux_with_pytree_aux_matches_jax(backend, float64, jax):
    def f(params, lib):
        heads = _two_heads(params, lib)
        return heads["energy"], {"features": heads["features"], "note": "aux"}

    (value, aux), gradient = dualgrad.value_and_grad(lambda p: f(p, dualgrad), has_aux=True)(
        _ours(PARAMS)
    )
    (their_value, their_aux), their_gradient = jax.value_and_grad(
        lambda p: f(p, jax.numpy), has_aux=True
    )(_jax_params(jax))
    _assert_same_as_jax((value, gradient), (their_value, their_gradient), jax)
    assert aux["note"] == "aux"
    assert not aux["features"].requires_grad
    np.testing.assert_allclose(values(aux["features"]), np.asarray(their_aux["features"]))


def test_vjp_of_a_dict_to_dict_function_matches_jax(backend, float64, jax):
    cotangent = {"features": RNG.standard_normal(4), "energy": np.asarray(0.5)}
    out, vjp_fn = dualgrad.vjp(lambda p: _two_heads(p, dualgrad), _ours(PARAMS))
    their_out, their_vjp = jax.vjp(lambda p: _two_heads(p, jax.numpy), _jax_params(jax))
    _assert_same_as_jax(out, their_out, jax)
    _assert_same_as_jax(vjp_fn(_ours(cotangent)), their_vjp(_jax_params(jax, cotangent)), jax)


def test_jvp_over_pytrees_matches_jax(backend, float64, jax):
    tangent = tree_util.tree_map(lambda p: RNG.standard_normal(np.shape(p)), PARAMS)
    ours = dualgrad.jvp(lambda p: _two_heads(p, dualgrad), (_ours(PARAMS),), (_ours(tangent),))
    theirs = jax.jvp(
        lambda p: _two_heads(p, jax.numpy), (_jax_params(jax),), (_jax_params(jax, tangent),)
    )
    _assert_same_as_jax(ours, theirs, jax)


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_jacobian_of_a_dict_to_dict_function_nests_as_in_jax(name, backend, float64, jax):
    ours = getattr(dualgrad, name)(lambda p: _two_heads(p, dualgrad))(_ours(PARAMS))
    theirs = getattr(jax, name)(lambda p: _two_heads(p, jax.numpy))(_jax_params(jax))
    assert ours["features"]["w1"].shape == (4, 3, 4)  # output outside, argument inside
    _assert_same_as_jax(ours, theirs, jax)


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_jacobian_argnums_tuple_and_has_aux_match_jax(name, backend, float64, jax):
    def f(params, scale, lib):
        heads = _two_heads(params, lib)
        return (heads["features"] * scale[0], heads["energy"] * scale[1]), heads["energy"]

    scale = [np.asarray(2.0), np.asarray(-0.5)]
    ours, aux = getattr(dualgrad, name)(
        lambda p, s: f(p, s, dualgrad), argnums=(0, 1), has_aux=True
    )(_ours(PARAMS), _ours(scale))
    theirs, their_aux = getattr(jax, name)(
        lambda p, s: f(p, s, jax.numpy), argnums=(0, 1), has_aux=True
    )(_jax_params(jax), _jax_params(jax, scale))
    _assert_same_as_jax((ours, aux), (theirs, their_aux), jax)


def test_hessian_of_a_function_of_a_dict_matches_jax(backend, float64, jax):
    small = {"a": RNG.standard_normal(2), "b": RNG.standard_normal((2, 2))}

    def f(p, lib):
        return (lib.sin(p["b"] @ p["a"]) * p["a"]).sum() + (p["b"] ** 3).sum()

    ours = dualgrad.hessian(lambda p: f(p, dualgrad))(_ours(small))
    theirs = jax.hessian(lambda p: f(p, jax.numpy))(_jax_params(jax, small))
    assert ours["a"]["b"].shape == (2, 2, 2)
    _assert_same_as_jax(ours, theirs, jax)


def test_hvp_over_a_dict_matches_jax_forward_over_reverse(backend, float64, jax):
    tangent = tree_util.tree_map(lambda p: RNG.standard_normal(np.shape(p)), PARAMS)
    value, product = dualgrad.hvp(
        lambda p: _loss(p, leaf(X), dualgrad), (_ours(PARAMS),), (_ours(tangent),)
    )
    their_loss = lambda p: _loss(p, jax.numpy.asarray(X), jax.numpy)  # noqa: E731
    _, their_product = jax.jvp(
        jax.grad(their_loss), (_jax_params(jax),), (_jax_params(jax, tangent),)
    )
    _assert_same_as_jax(product, their_product, jax)
    assert np.isclose(value.item(), float(their_loss(_jax_params(jax))))


def test_named_tuples_come_back_as_named_tuples(backend, float64, jax):
    gradient = dualgrad.grad(lambda a: (dualgrad.tanh(a.scale) * a.shift).sum())(
        Affine(leaf([0.5, -1.0]), leaf([2.0, 3.0]))
    )
    theirs = jax.grad(lambda a: (jax.numpy.tanh(a.scale) * a.shift).sum())(
        Affine(jax.numpy.asarray([0.5, -1.0]), jax.numpy.asarray([2.0, 3.0]))
    )
    assert type(gradient) is Affine
    _assert_same_as_jax(gradient, theirs, jax)


# --- against torch.func ---------------------------------------------------------------------
@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="torch.func is a reference: pip install torch")


def _assert_same_as_torch(ours, theirs, torch):
    theirs = torch.utils._pytree.tree_map(lambda t: t.detach().numpy(), theirs)
    tree_util.tree_map(
        lambda mine, reference: np.testing.assert_allclose(
            values(mine), reference, rtol=1e-10, atol=1e-12
        ),
        ours,
        theirs,
    )
    assert tree_util.tree_structure(ours) == tree_util.tree_structure(theirs)


def _torch_params(torch, tree=PARAMS):
    return {name: torch.from_numpy(np.asarray(value)) for name, value in tree.items()}


def test_grad_of_a_dict_matches_torch_func(float64, torch):
    ours = dualgrad.grad(lambda p: _loss(p, leaf(X), dualgrad))(_ours(PARAMS))
    theirs = torch.func.grad(lambda p: _loss(p, torch.from_numpy(X), torch))(_torch_params(torch))
    _assert_same_as_torch(ours, theirs, torch)


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_jacobian_of_a_dict_to_dict_function_matches_torch_func(name, float64, torch):
    ours = getattr(dualgrad, name)(lambda p: _two_heads(p, dualgrad))(_ours(PARAMS))
    theirs = getattr(torch.func, name)(lambda p: _two_heads(p, torch))(_torch_params(torch))
    _assert_same_as_torch(ours, theirs, torch)


def test_vjp_and_jvp_over_dicts_match_torch_func(float64, torch):
    cotangent = {"features": RNG.standard_normal(4), "energy": np.asarray(0.5)}
    tangent = tree_util.tree_map(lambda p: RNG.standard_normal(np.shape(p)), PARAMS)
    _, vjp_fn = dualgrad.vjp(lambda p: _two_heads(p, dualgrad), _ours(PARAMS))
    _, their_vjp = torch.func.vjp(lambda p: _two_heads(p, torch), _torch_params(torch))
    _assert_same_as_torch(
        vjp_fn(_ours(cotangent)), their_vjp(_torch_params(torch, cotangent)), torch
    )
    ours = dualgrad.jvp(lambda p: _two_heads(p, dualgrad), (_ours(PARAMS),), (_ours(tangent),))
    theirs = torch.func.jvp(
        lambda p: _two_heads(p, torch), (_torch_params(torch),), (_torch_params(torch, tangent),)
    )
    _assert_same_as_torch(ours, theirs, torch)


# --- structure ------------------------------------------------------------------------------
def test_a_tuple_of_same_shaped_arrays_is_not_stacked(backend, float64):
    pair = (leaf([1.0, 2.0]), leaf([3.0, 4.0]))
    gradient = dualgrad.grad(lambda p: (p[0] * p[1]).sum())(pair)
    assert isinstance(gradient, tuple)
    assert [g.shape for g in gradient] == [(2,), (2,)]
    assert_close(gradient[0], [3.0, 4.0])
    assert_close(gradient[1], [1.0, 2.0])


def test_a_list_of_numbers_gives_a_list_of_gradients(float64):
    gradient = dualgrad.grad(lambda xs: xs[0] * xs[1] ** 2)([3.0, 2.0])
    assert isinstance(gradient, list)
    assert [float(g) for g in gradient] == [4.0, 12.0]


def test_arrays_in_give_arrays_out_in_the_same_structure(float64):
    gradient = dualgrad.grad(lambda p: (p["a"] * p["b"][0]).sum())(
        {"a": np.ones(2), "b": [np.full(2, 3.0)]}
    )
    assert type(gradient["a"]) is np.ndarray
    assert type(gradient["b"][0]) is np.ndarray
    np.testing.assert_allclose(gradient["b"][0], [1.0, 1.0])


def test_none_in_an_argument_is_an_empty_subtree(backend, float64):
    gradient = dualgrad.grad(lambda p: (p["w"] ** 2).sum())({"w": leaf([1.0, 2.0]), "bias": None})
    assert gradient["bias"] is None
    assert_close(gradient["w"], [2.0, 4.0])


def test_a_tensor_at_two_places_gets_a_gradient_per_place(backend, float64):
    w = leaf([1.0, 2.0], requires_grad=True)
    gradient = dualgrad.grad(lambda p: (p["a"] * 3.0).sum() + (p["b"] ** 2).sum())(
        {"a": w, "b": w}
    )
    assert_close(gradient["a"], [3.0, 3.0])
    assert_close(gradient["b"], [2.0, 4.0])


def test_arguments_not_differentiated_may_hold_anything(backend, float64):
    def f(x, options):
        return (x * options["scale"]).sum() if options["kind"] == "scaled" else x.sum()

    options = {"kind": "scaled", "scale": np.asarray([2.0, 3.0]), "callback": print}
    gradient = dualgrad.grad(f)(leaf([1.0, 1.0]), options)
    assert_close(gradient, [2.0, 3.0])


def test_jacfwd_equals_jacrev_over_pytrees_in_both_modes(backend, mode, float64):
    reverse = dualgrad.jacrev(lambda p: _two_heads(p, dualgrad))(_ours(PARAMS))
    forward = dualgrad.jacfwd(lambda p: _two_heads(p, dualgrad))(_ours(PARAMS))
    tree_util.tree_map(
        lambda a, b: assert_close(a, b, atol=1e-12),
        reverse,
        forward,
    )


def test_nested_grad_over_arrays_stays_differentiable(float64):
    # The inner grad gets an array, but its result depends on the outer x through the closure.
    def inner_gradient(x):
        return dualgrad.grad(lambda y: (x * y**2).sum())(np.asarray([0.8]))

    outer = dualgrad.grad(lambda x: inner_gradient(x).sum())(np.asarray([1.3]))
    np.testing.assert_allclose(outer, [1.6])


# --- errors ---------------------------------------------------------------------------------
def test_a_leaf_that_is_not_an_array_names_its_path(backend):
    with pytest.raises(TypeError, match=r"grad: x\['layer'\]\[1\] is a str, not an array"):
        dualgrad.grad(lambda x: x["layer"][0].sum())({"layer": [leaf([1.0]), "relu"]})


def test_an_integer_leaf_names_its_path(backend):
    expected = r"floating point or complex tensors, got dualgrad\.int64 at params\['n'\]"
    with pytest.raises(TypeError, match=expected):
        dualgrad.grad(lambda params: params["w"].sum())(
            {"w": leaf([1.0]), "n": leaf([1], dtype=dualgrad.int64)}
        )


def test_a_leaf_of_vjp_primals_names_its_path(backend):
    with pytest.raises(TypeError, match=r"vjp: primals\[1\]\[0\] is a object"):
        dualgrad.vjp(lambda x, y: x, leaf([1.0]), [object()])


def test_an_output_leaf_that_is_not_an_array_names_its_path(backend):
    with pytest.raises(TypeError, match=r"jacrev: the function's output\['label'\] is a str"):
        dualgrad.jacrev(lambda x: {"y": x * 2, "label": "doubled"})(leaf([1.0]))


def test_vjp_fn_with_a_cotangent_of_another_structure_raises(backend):
    _, vjp_fn = dualgrad.vjp(lambda x: {"a": x, "b": x * 2}, leaf([1.0]))
    with pytest.raises(ValueError, match=r"structure PyTreeDef\(\{'a': \*\}\)"):
        vjp_fn({"a": leaf([1.0])})


def test_vjp_fn_cotangent_of_the_wrong_shape_names_its_path(backend):
    _, vjp_fn = dualgrad.vjp(lambda x: {"a": x, "b": x * 2}, leaf([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"cotangent\['b'\] has shape \(3,\)"):
        vjp_fn({"a": leaf([1.0, 1.0]), "b": leaf([1.0, 1.0, 1.0])})


def test_jvp_tangents_of_another_structure_raise(backend):
    with pytest.raises(ValueError, match=r"tangents\[0\] has structure .* primals\[0\] has"):
        dualgrad.jvp(lambda p: p["a"], ({"a": leaf([1.0])},), ([leaf([1.0])],))


def test_jvp_tangent_of_the_wrong_shape_names_its_path(backend):
    with pytest.raises(ValueError, match=r"\(at tangents\[0\]\['a'\]\)"):
        dualgrad.jvp(lambda p: p["a"], ({"a": leaf([1.0])},), ({"a": leaf([1.0, 2.0])},))


def test_argnums_naming_an_argument_twice_raises(backend):
    with pytest.raises(ValueError, match="names an argument twice"):
        dualgrad.grad(lambda x, y: (x * y).sum(), argnums=(0, -2))(leaf([1.0]), leaf([1.0]))
