"""vmap: semantics, errors, compositions with the other transforms, and every primitive's
batching path, on every backend and in both modes.

References: a Python loop over the examples (the definition of vmap), ``torch.func.vmap`` and
``jax.vmap`` where installed.
"""

from __future__ import annotations

import numpy as np
import pytest
from tensors import assert_close, leaf, values

import dualgrad
import dualgrad.nn.functional as F
from dualgrad import nn

RNG = np.random.default_rng(2024)
X = RNG.standard_normal((4, 3))
W = RNG.standard_normal((3, 2))
Y = RNG.standard_normal((4, 2))
V = RNG.standard_normal((4, 3))


pytestmark = pytest.mark.usefixtures("backend", "mode")  # every backend, both modes


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="PyTorch is a reference: pip install torch")


@pytest.fixture
def jax():
    return pytest.importorskip("jax", reason="JAX is a reference: pip install 'dualgrad[jax]'")


def _loss(w, x, y, lib):
    return ((lib.tanh(x @ w) - y) ** 2).sum()


def _ours_loss(w, x, y):
    return _loss(w, x, y, dualgrad)


def _loop(function, *batched):
    """The definition: ``function`` on each example, stacked."""
    return np.stack([values(function(*(b[i] for b in batched))) for i in range(len(batched[0]))])


# --- semantics ---------------------------------------------------------------------------------
def test_maps_over_the_leading_axis_as_a_loop_does():
    f = lambda x: dualgrad.sin(x) * x.sum() + x.max()  # noqa: E731
    assert_close(dualgrad.vmap(f)(leaf(X)), _loop(f, leaf(X)), 1e-12, 1e-12)


def test_in_dims_per_argument_with_none_and_negative_axes():
    f = lambda w, xt, y: _ours_loss(w, xt.T, y)  # noqa: E731 (xt: a column per example)
    got = dualgrad.vmap(f, in_dims=(None, -1, 0))(leaf(W), leaf(X.T), leaf(Y))
    expected = [values(_ours_loss(leaf(W), leaf(X[i])[None], leaf(Y[i])[None])) for i in range(4)]
    assert_close(got, np.stack(expected), 1e-12, 1e-12)


def test_in_dims_as_a_pytree_prefix_of_a_dict_argument():
    def f(params, x):
        return x @ params["w"] + params["b"]

    params = {"w": leaf(W), "b": leaf(RNG.standard_normal((4, 2)))}
    got = dualgrad.vmap(f, in_dims=({"w": None, "b": 0}, 0))(params, leaf(X))
    expected = X @ W + values(params["b"])
    assert_close(got, expected, 1e-12, 1e-12)


def test_out_dims_place_the_batch_axis_in_each_output():
    def f(x):
        return {"outer": x[:, None] * x[None, :], "sum": x.sum()}

    got = dualgrad.vmap(f, out_dims={"outer": -1, "sum": 0})(leaf(X))
    assert got["outer"].shape == (3, 3, 4)
    assert_close(got["outer"], np.einsum("bi,bj->ijb", X, X), 1e-12, 1e-12)
    assert_close(got["sum"], X.sum(axis=1), 1e-12, 1e-12)


def test_an_output_that_ignores_the_batch_is_broadcast_or_kept_with_out_dims_none():
    constant = leaf([1.0, 2.0])
    got = dualgrad.vmap(lambda x: (x.sum(), constant), out_dims=(0, None))(leaf(X))
    assert got[1] is constant
    broadcast = dualgrad.vmap(lambda x: constant)(leaf(X))
    assert_close(broadcast, np.tile([1.0, 2.0], (4, 1)), 0, 0)


def test_keyword_arguments_are_not_mapped():
    got = dualgrad.vmap(lambda x, *, scale: x * scale)(leaf(X), scale=leaf([1.0, 2.0, 3.0]))
    assert_close(got, X * [1.0, 2.0, 3.0], 1e-12, 1e-12)


def test_nested_vmap_maps_over_two_axes():
    def pairwise(a, b):
        return dualgrad.exp(-((a - b) ** 2).sum())

    inner = dualgrad.vmap(pairwise, in_dims=(None, 0))
    got = dualgrad.vmap(inner, in_dims=(0, None))(leaf(X), leaf(V))
    expected = np.exp(-((X[:, None, :] - V[None, :, :]) ** 2).sum(-1))
    assert_close(got, expected, 1e-12, 1e-12)


def test_elementwise_operands_with_the_batch_on_other_axes_or_of_other_ranks():
    # Each layout of operands that reaches the level's elementwise functions: batched along
    # different axes, mapped and unmapped ones of lower rank, a 0-d value, Python numbers.
    a = RNG.standard_normal((3, 2, 4))  # the batch along the last axis
    b = RNG.standard_normal((4, 3, 2))
    d = RNG.standard_normal((4, 2))  # mapped, one axis less per example
    c, s = RNG.standard_normal(2), RNG.standard_normal(())  # unmapped

    def f(a, b, d, c, s):
        return (
            a + c,  # the batch amid the last axes of an unmapped operand of lower rank
            b * d,  # a mapped operand of lower rank
            b - c * s,  # unmapped operands of lower rank
            dualgrad.where(a > 0.0, a * b, d - 1.0),  # the batch along different axes
            dualgrad.exp(-(a**2)) / (1.5 + a.mT.mT),  # Python numbers; a transposed operand
        )

    mapped = dualgrad.vmap(f, in_dims=(-1, 0, 0, None, None))
    got = mapped(leaf(a), leaf(b), leaf(d), leaf(c), leaf(s))
    examples = [f(leaf(a[..., i]), leaf(b[i]), leaf(d[i]), leaf(c), leaf(s)) for i in range(4)]
    for k, result in enumerate(got):
        assert_close(result, np.stack([values(e[k]) for e in examples]), 1e-12, 1e-12)


@pytest.mark.parametrize("chunk_size", [1, 3, 4, 10])
def test_chunk_size_gives_the_same_result(chunk_size):
    f = lambda x, y: (dualgrad.tanh(x @ leaf(W)) - y, x.sum())  # noqa: E731
    whole = dualgrad.vmap(f)(leaf(X), leaf(Y))
    chunked = dualgrad.vmap(f, chunk_size=chunk_size)(leaf(X), leaf(Y))
    for a, b in zip(whole, chunked, strict=True):
        assert_close(a, b, 1e-12, 1e-12)


def test_arrays_in_give_arrays_out(backend):
    x = backend.from_numpy(X)
    got = dualgrad.vmap(lambda row: (row**2).sum())(x)
    assert not isinstance(got, dualgrad.Tensor)
    assert backend.owns(got)
    np.testing.assert_allclose(backend.to_numpy(got), (X**2).sum(1))


def test_a_tensor_closed_over_gets_the_gradient_summed_over_the_batch():
    w = leaf(W, requires_grad=True)
    out = dualgrad.vmap(lambda x, y: _ours_loss(w, x, y))(leaf(X), leaf(Y))
    out.sum().backward()
    expected = sum(
        values(dualgrad.grad(_ours_loss)(leaf(W), leaf(X[i]), leaf(Y[i]))) for i in range(4)
    )
    assert_close(w.grad, expected, 1e-10, 1e-12)


# --- randomness --------------------------------------------------------------------------------
def test_random_draws_raise_by_default():
    with pytest.raises(RuntimeError, match="randomness='error'"):
        dualgrad.vmap(lambda x: x + dualgrad.randn(3))(leaf(X))


def test_randomness_different_draws_per_example_and_same_once():
    dualgrad.manual_seed(0)
    different = dualgrad.vmap(lambda x: x + dualgrad.rand(3), randomness="different")(leaf(X))
    same = dualgrad.vmap(lambda x: x + dualgrad.rand(3), randomness="same")(leaf(X))
    noise_different, noise_same = values(different) - X, values(same) - X
    assert not np.allclose(noise_different[0], noise_different[1])
    np.testing.assert_allclose(noise_same, np.broadcast_to(noise_same[0], X.shape), atol=1e-12)


def test_randomness_same_is_one_draw_across_chunks():
    got = dualgrad.vmap(lambda x: x * 0 + dualgrad.rand(3), randomness="same", chunk_size=1)(
        leaf(X)
    )
    np.testing.assert_allclose(values(got), np.broadcast_to(values(got)[0], X.shape))


def test_dropout_follows_the_randomness_policy():
    ones = leaf(np.ones((4, 50)))
    with pytest.raises(RuntimeError, match="randomness"):
        dualgrad.vmap(lambda x: F.dropout(x, 0.5))(ones)
    masks = values(dualgrad.vmap(lambda x: F.dropout(x, 0.5), randomness="different")(ones))
    assert not np.array_equal(masks[0], masks[1])


# --- errors ------------------------------------------------------------------------------------
def test_mapped_axes_of_different_sizes_raise():
    with pytest.raises(ValueError, match=r"different sizes \[3, 4\]"):
        dualgrad.vmap(lambda a, b: a + b)(leaf(X), leaf(W))


def test_an_in_dim_out_of_range_raises():
    with pytest.raises(ValueError, match=r"in_dim 2 for args\[0\].*-2 <= in_dim < 2"):
        dualgrad.vmap(lambda a: a, in_dims=2)(leaf(X))


def test_an_int_in_dim_for_a_number_raises():
    with pytest.raises(TypeError, match="in_dim 0 for args\\[1\\], which is a float"):
        dualgrad.vmap(lambda a, s: a * s)(leaf(X), 2.0)


def test_in_dims_of_the_wrong_length_or_type_raise():
    with pytest.raises(ValueError, match="in_dims has 1 entries but the function got 2"):
        dualgrad.vmap(lambda a, b: a, in_dims=(0,))(leaf(X), leaf(X))
    with pytest.raises(TypeError, match="in_dims must be an int"):
        dualgrad.vmap(lambda a: a, in_dims=[0])(leaf(X))
    with pytest.raises(TypeError, match="in_dims must be an int, None"):
        dualgrad.vmap(lambda a: a, in_dims=0.5)


def test_nothing_to_map_raises():
    with pytest.raises(ValueError, match="no argument is mapped"):
        dualgrad.vmap(lambda a: a, in_dims=None)(leaf(X))
    with pytest.raises(ValueError, match="got no positional arguments"):
        dualgrad.vmap(lambda: 1.0)()


def test_bad_randomness_and_chunk_size_raise():
    with pytest.raises(ValueError, match="randomness must be one of"):
        dualgrad.vmap(lambda a: a, randomness="differnt")
    with pytest.raises(ValueError, match="chunk_size must be a positive int"):
        dualgrad.vmap(lambda a: a, chunk_size=0)


def test_reading_a_batched_value_on_the_host_raises():
    with pytest.raises(RuntimeError, match=r"vmap: .*item\(\)"):
        dualgrad.vmap(lambda a: a.sum().item())(leaf(X))
    with pytest.raises(RuntimeError, match="data-dependent control flow"):
        dualgrad.vmap(lambda a: a if a.sum() > 0 else -a)(leaf(X))


def test_a_value_dependent_shape_raises():
    with pytest.raises(RuntimeError, match=r"nonzero.*depends on each example's values"):
        dualgrad.vmap(dualgrad.nonzero)(leaf(X))
    with pytest.raises(RuntimeError, match="mask"):
        dualgrad.vmap(lambda a: a[a > 0])(leaf(X))


def test_searchsorted_into_each_examples_sequence_is_a_loops_with_nan_last():
    sorted_rows = np.sort(X, axis=1)
    sorted_rows[1, -1] = np.nan  # NumPy's order: NaN after every number
    points = np.stack([sorted_rows[:, 1], np.full(4, np.nan), np.zeros(4)], axis=1)
    for side in ("left", "right"):

        def search(s, v, side=side):
            return dualgrad.searchsorted(s, v, side=side)

        got = dualgrad.vmap(search)(leaf(sorted_rows), leaf(points))
        expected = [
            np.searchsorted(s, v, side=side) for s, v in zip(sorted_rows, points, strict=True)
        ]
        np.testing.assert_array_equal(values(got), np.stack(expected), err_msg=side)
        got = dualgrad.vmap(search, in_dims=(0, None))(leaf(sorted_rows), leaf(0.5))
        expected = [np.searchsorted(s, 0.5, side=side) for s in sorted_rows]
        np.testing.assert_array_equal(values(got), expected, err_msg=side)


def test_a_namespace_function_without_a_batching_rule_names_itself():
    """Every primitive batches (tests/test_vmap_ops.py); a function of the level's namespace
    that none of them calls (NumPy's ``tile``) raises rather than loop over the batch."""

    def tiled(row):
        level_namespace = row._array.__array_namespace__()
        return level_namespace.tile(row._array, (2,))

    with pytest.raises(NotImplementedError, match=r"no batching rule for tile\(\)"):
        dualgrad.vmap(tiled)(leaf(X))


def test_batched_output_with_out_dims_none_raises():
    with pytest.raises(ValueError, match="out_dim None but differs from example to example"):
        dualgrad.vmap(lambda a: a * 2, out_dims=None)(leaf(X))


def test_out_dims_that_do_not_fit_raise():
    with pytest.raises(ValueError, match="out_dim 3 for the output"):
        dualgrad.vmap(lambda a: a, out_dims=3)(leaf(X))
    with pytest.raises(ValueError, match="out_dims does not match the structure"):
        dualgrad.vmap(lambda a: (a, a), out_dims=(0, 0, 0))(leaf(X))


def test_a_non_array_output_needs_out_dims_none():
    with pytest.raises(TypeError, match="output\\[1\\] is a str"):
        dualgrad.vmap(lambda a: (a, "label"))(leaf(X))
    assert dualgrad.vmap(lambda a: (a, "label"), out_dims=(0, None))(leaf(X))[1] == "label"


def test_an_in_place_write_of_batched_values_into_an_unmapped_tensor_raises():
    total = leaf(np.zeros(3))
    with pytest.raises(RuntimeError, match="in-place operation would write values that differ"):
        dualgrad.vmap(lambda a: total.add_(a))(leaf(X))
    assert_close(total, np.zeros(3), 0, 0)


def test_backward_inside_vmap_raises():
    w = leaf(W, requires_grad=True)
    with pytest.raises(RuntimeError, match="backward\\(\\) inside vmap is not supported"):
        dualgrad.vmap(lambda x: (x @ w).sum().backward())(leaf(X))
    assert w.grad is None


# --- in-place changes of the arguments, written back as torch.func does -------------------------
def _set_first(x, y):
    x[0] = 5.0
    return x.sum()


def _add_assign(x, y):
    x += y
    return x.sum()


# Each changes its first argument in place, spelled for dualgrad and torch alike.
IN_PLACE = {
    "add_": lambda x, y: x.add_(1.0).sum(),
    "mul_": lambda x, y: x.mul_(2.0).sum(),
    "setitem": _set_first,
    "copy_ of a batched value": lambda x, y: x.copy_(y).sum(),
    "+= of a batched value": _add_assign,
    "zero_": lambda x, y: x.zero_().sum(),
    "clamp_": lambda x, y: x.clamp_(-0.5, 0.5).sum(),
}


@pytest.mark.parametrize("name", IN_PLACE)
def test_an_in_place_change_of_a_mapped_argument_is_written_back_as_a_loop_does(name):
    change = IN_PLACE[name]
    x = leaf(X)
    out = dualgrad.vmap(change)(x, leaf(V))
    rows = [leaf(X[i]) for i in range(4)]
    expected_out = [values(change(row, leaf(V[i]))) for i, row in enumerate(rows)]
    assert_close(x, np.stack([values(row) for row in rows]), 1e-12, 1e-12)
    assert_close(out, np.stack(expected_out), 1e-12, 1e-12)
    assert x._version == 1


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_changes_of_mapped_arguments_match_torch_func(name, torch):
    ours, theirs = leaf(X), torch.tensor(X)
    dualgrad.vmap(IN_PLACE[name])(ours, leaf(V))
    torch.func.vmap(IN_PLACE[name])(theirs, torch.tensor(V))
    assert_close(ours, theirs, 1e-12, 1e-12, name)


def test_a_function_that_changes_nothing_leaves_its_arguments_as_they_were():
    x = leaf(X)
    array = x.array
    dualgrad.vmap(lambda a: a * 2.0)(x)
    assert x.array is array
    assert x._version == 0


def test_an_in_place_change_is_written_back_along_the_arguments_in_dim():
    columns = leaf(X.T)  # the batch along axis 1
    dualgrad.vmap(lambda column, v: column.add_(v), in_dims=(1, 0))(columns, leaf(V))
    assert_close(columns, (X + V).T, 1e-12, 1e-12)


def test_nested_vmap_writes_in_place_changes_back_through_both_levels():
    a = RNG.standard_normal((2, 3, 4))
    b = RNG.standard_normal((2, 4, 3))
    x = leaf(a)
    inner = dualgrad.vmap(lambda column, v: column.add_(v), in_dims=(1, 0))
    dualgrad.vmap(inner)(x, leaf(b))
    assert_close(x, a + b.transpose(0, 2, 1), 1e-12, 1e-12)


def test_an_inner_vmap_writes_back_into_a_tensor_from_outside_the_outer_one():
    x = leaf(X)
    out = dualgrad.vmap(lambda s: dualgrad.vmap(lambda row: row.mul_(2.0).sum())(x) * s)(
        leaf([1.0, 2.0])
    )
    assert_close(x, 2 * X, 1e-12, 1e-12)
    assert_close(out, np.outer([1.0, 2.0], 2 * X.sum(1)), 1e-12, 1e-12)


@pytest.mark.parametrize("chunk_size", [1, 3, 4, 10])
def test_chunk_size_writes_back_every_chunk(chunk_size):
    x = leaf(X)
    out = dualgrad.vmap(lambda a, v: a.add_(v).sum(), chunk_size=chunk_size)(x, leaf(V))
    assert_close(x, X + V, 1e-12, 1e-12)
    assert_close(out, (X + V).sum(1), 1e-12, 1e-12)


def test_an_unmapped_argument_changed_with_an_unmapped_value_is_changed_once():
    total = leaf(np.zeros(3))
    out = dualgrad.vmap(lambda a, t: a + t.add_(1.0), in_dims=(0, None))(leaf(X), total)
    assert_close(total, np.ones(3), 0, 0)
    assert_close(out, X + 1.0, 1e-12, 1e-12)


def test_an_unmapped_argument_changed_with_batched_values_raises():
    total = leaf(np.zeros(3))
    with pytest.raises(RuntimeError, match="in-place operation would write values that differ"):
        dualgrad.vmap(lambda a, t: t.add_(a), in_dims=(0, None))(leaf(X), total)
    assert_close(total, np.zeros(3), 0, 0)


def test_a_written_back_change_is_differentiable():
    def f(a):
        t = a * 1.0
        dualgrad.vmap(lambda row: row.mul_(3.0))(t)
        return (t**2).sum()

    assert_close(dualgrad.grad(f)(leaf(X)), 18.0 * X, 1e-12, 1e-12)


def test_a_written_back_change_invalidates_values_saved_for_backward():
    with dualgrad.use_mode("reverse"):  # forward mode saves no values: nothing to invalidate
        a = leaf(X, requires_grad=True)
        t = a * 1.0
        saved = (t * t).sum()
        dualgrad.vmap(lambda row: row.mul_(2.0))(t)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            saved.backward()


def test_an_in_place_change_of_a_leaf_that_requires_grad_raises_outside_no_grad():
    x = leaf(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad is being used in an"):
        dualgrad.vmap(lambda a: a.add_(1.0))(x)
    assert_close(x, X, 0, 0)
    with dualgrad.no_grad():
        dualgrad.vmap(lambda a: a.add_(1.0))(x)
    assert_close(x, X + 1.0, 0, 0)
    assert x.is_leaf
    assert x.requires_grad


def test_vmap_of_grad_of_a_function_that_changes_its_input_raises_as_torch_func_does():
    def f(a):
        a.mul_(2.0)  # grad's input is a leaf that requires grad
        return (a**2).sum()

    x = leaf(X)
    with pytest.raises(RuntimeError, match="mul_: a leaf tensor that requires grad"):
        dualgrad.vmap(dualgrad.grad(f))(x)
    assert_close(x, X, 0, 0)


def test_vmap_of_grad_writes_back_a_change_of_an_argument_it_does_not_differentiate():
    def f(w, x):
        x.mul_(3.0)
        return (w * x).sum()

    x = leaf(X)
    gradients = dualgrad.vmap(dualgrad.grad(f))(leaf(V), x)
    assert_close(gradients, 3.0 * X, 1e-12, 1e-12)
    assert_close(x, 3.0 * X, 1e-12, 1e-12)


def _batch_norm_ensemble(lib, models, x, steps):
    """An ensemble of models with BatchNorm, in training mode, run ``steps`` times under vmap
    over their stacked state: the outputs, and the stacked buffers."""
    params, buffers = lib.func.stack_module_state(models)

    def one_model(params, buffers, x):
        return lib.func.functional_call(models[0], (params, buffers), (x,))

    for _ in range(steps):
        out = lib.func.vmap(one_model, in_dims=(0, 0, None))(params, buffers, x)
    return out, buffers


def _batch_norm_models(lib):
    nn_ = lib.nn
    return [
        nn_.Sequential(nn_.Linear(3, 5, dtype=lib.float64), nn_.BatchNorm1d(5, dtype=lib.float64))
        for _ in range(3)
    ]


def test_a_batch_norm_ensemble_updates_each_models_running_statistics():
    dualgrad.manual_seed(0)
    models = _batch_norm_models(dualgrad)
    out, buffers = _batch_norm_ensemble(dualgrad, models, leaf(X), steps=2)
    for k, model in enumerate(models):
        for _ in range(2):
            expected = model(leaf(X))  # each model's own buffers, updated the same way
        assert_close(out[k], expected, 1e-12, 1e-12, f"model {k}")
        for name, buffer in model.named_buffers():
            assert_close(buffers[name][k], buffer, 1e-12, 1e-12, f"model {k}: {name}")
    assert values(buffers["1.num_batches_tracked"]).tolist() == [2, 2, 2]


def test_a_batch_norm_ensemble_updates_running_statistics_as_torch_func(torch):
    dualgrad.manual_seed(0)
    models, torch_models = _batch_norm_models(dualgrad), _batch_norm_models(torch)
    with torch.no_grad():
        for model, torch_model in zip(models, torch_models, strict=True):
            for ours, theirs in zip(model.parameters(), torch_model.parameters(), strict=True):
                theirs.copy_(torch.tensor(values(ours)))
    out, buffers = _batch_norm_ensemble(dualgrad, models, leaf(X), steps=2)
    torch_out, torch_buffers = _batch_norm_ensemble(torch, torch_models, torch.tensor(X), steps=2)
    assert_close(out, torch_out, 1e-10, 1e-12, "outputs")
    assert set(buffers) == set(torch_buffers)
    for name, buffer in buffers.items():
        assert_close(buffer, torch_buffers[name], 1e-10, 1e-12, name)


# --- compositions ------------------------------------------------------------------------------
def _compositions(lib, func):
    """The same compositions, spelled with one library's transforms (``func``)."""
    loss = lambda w, x, y: _loss(w, x, y, lib)  # noqa: E731
    per_example = func.vmap(loss, (None, 0, 0))
    return {
        "vmap": per_example,
        "vmap(grad)": func.vmap(func.grad(loss), (None, 0, 0)),
        "vmap(grad argnums=1)": func.vmap(func.grad(loss, argnums=1), (None, 0, 0)),
        "grad(vmap)": func.grad(lambda w, x, y: per_example(w, x, y).sum()),
        "jacrev(vmap)": func.jacrev(per_example),
        "jacfwd(vmap)": func.jacfwd(per_example),
        "vmap(jacrev)": func.vmap(func.jacrev(loss), (None, 0, 0)),
        "vmap(jacfwd)": func.vmap(func.jacfwd(loss), (None, 0, 0)),
        "vmap(hessian)": func.vmap(func.hessian(loss, argnums=1), (None, 0, 0)),
        "vmap(vmap)": lambda w, x, y: func.vmap(
            func.vmap(lambda w, x, y: loss(w, x[None], y[None]), (None, 0, 0)), (None, 0, 0)
        )(w, x.reshape(2, 2, 3), y.reshape(2, 2, 2)),
        "vmap(jvp)": lambda w, x, y: func.vmap(
            lambda x, v: func.jvp(lambda x: lib.sin(x) * (x @ w).sum(), (x,), (v,))[1]
        )(x, y[:, :1] * x),
        "jvp(vmap)": lambda w, x, y: func.jvp(
            lambda x: func.vmap(lambda r: lib.sin(r) * (r @ w).sum())(x), (x,), (y[:, :1] * x,)
        )[1],
        "vmap(vjp)": lambda w, x, y: func.vmap(
            lambda x, y: func.vjp(lambda w: lib.tanh(x @ w), w)[1](y)[0], (0, 0)
        )(x, y),
    }


COMPOSITIONS = list(_compositions(dualgrad, dualgrad))


@pytest.mark.parametrize("name", COMPOSITIONS)
def test_compositions_match_torch_func(name, torch):
    ours = _compositions(dualgrad, dualgrad)[name](leaf(W), leaf(X), leaf(Y))
    theirs = _compositions(torch, torch.func)[name](*map(torch.tensor, (W, X, Y)))
    assert_close(ours, theirs, 1e-10, 1e-12, name)


@pytest.mark.parametrize("name", COMPOSITIONS)
def test_compositions_match_jax(name, jax):
    import jax.numpy as jnp

    ours = _compositions(dualgrad, dualgrad)[name](leaf(W), leaf(X), leaf(Y))
    theirs = _compositions(jnp, jax)[name](*map(jnp.asarray, (W, X, Y)))
    assert_close(ours, np.asarray(theirs), 1e-10, 1e-12, name)


def test_per_example_gradients_of_a_cnn_batch_64_match_a_loop_of_backward_calls():
    dualgrad.manual_seed(0)
    model, loss = _cnn(dualgrad)
    data = dualgrad.randn(64, 1, 6, 6)
    targets = leaf(RNG.integers(0, 5, 64), dtype=dualgrad.int64)
    params = {name: p.detach() for name, p in model.named_parameters()}
    per_example = dualgrad.vmap(dualgrad.grad(loss), in_dims=(None, 0, 0))(params, data, targets)
    for i in range(64):
        model.zero_grad()
        F.cross_entropy(model(data[i : i + 1]), targets[i : i + 1]).backward()
        for name, p in model.named_parameters():
            assert_close(per_example[name][i], p.grad, 1e-5, 1e-6, name)


def test_hvp_and_value_and_grad_with_aux_inside_vmap():
    def f(x):
        return (dualgrad.sin(x) * x).sum()

    got = dualgrad.vmap(lambda x, v: dualgrad.hvp(f, (x,), (v,))[1])(leaf(X), leaf(V))
    expected = _loop(lambda x, v: dualgrad.hessian(f)(x) @ v, leaf(X), leaf(V))
    assert_close(got, expected, 1e-10, 1e-12)
    (value, aux), gradient = dualgrad.vmap(
        dualgrad.value_and_grad(lambda x: ((x**2).sum(), x.max()), has_aux=True)
    )(leaf(X))
    assert_close(value, (X**2).sum(1), 1e-12, 1e-12)
    assert_close(aux, X.max(1), 0, 0)
    assert_close(gradient, 2 * X, 1e-12, 1e-12)


def test_stacked_module_states_vmap_over_an_ensemble():
    dualgrad.manual_seed(0)
    models = [nn.Linear(3, 2) for _ in range(5)]
    params, buffers = dualgrad.func.stack_module_state(models)

    def one(params, buffers, x):
        return dualgrad.func.functional_call(models[0], (params, buffers), (x,))

    got = dualgrad.vmap(one, in_dims=(0, 0, None))(
        params, buffers, leaf(X).astype(params["weight"].dtype)
    )
    for k, model in enumerate(models):
        assert_close(got[k], model(leaf(X).astype(got.dtype)), 1e-6, 1e-6)


# --- the tutorials' programs against torch.func ---------------------------------------------
def _cnn(lib):
    """A small CNN and its per-example loss, for ``lib`` (dualgrad or torch)."""
    nn_ = lib.nn
    model = nn_.Sequential(
        nn_.Conv2d(1, 3, 3), nn_.ReLU(), nn_.MaxPool2d(2), nn_.Flatten(), nn_.Linear(12, 5)
    )

    def loss(params, x, target):
        logits = lib.func.functional_call(model, params, (x[None],))
        return lib.nn.functional.cross_entropy(logits, target[None])

    return model, loss


def test_per_example_gradients_of_a_cnn_batch_64_match_torch_func(torch):
    dualgrad.manual_seed(0)
    model, loss = _cnn(dualgrad)
    torch_model, torch_loss = _cnn(torch)
    with torch.no_grad():
        for ours, theirs in zip(model.parameters(), torch_model.parameters(), strict=True):
            theirs.copy_(torch.tensor(values(ours)))
    images = RNG.standard_normal((64, 1, 6, 6)).astype(np.float32)
    labels = RNG.integers(0, 5, 64)
    params = {name: p.detach() for name, p in model.named_parameters()}
    ours = dualgrad.vmap(dualgrad.grad(loss), in_dims=(None, 0, 0))(
        params, dualgrad.tensor(images.tolist()), leaf(labels, dtype=dualgrad.int64)
    )
    torch_params = {name: p.detach() for name, p in torch_model.named_parameters()}
    theirs = torch.func.vmap(torch.func.grad(torch_loss), in_dims=(None, 0, 0))(
        torch_params, torch.tensor(images), torch.tensor(labels)
    )
    for name in params:
        assert_close(ours[name], theirs[name], 1e-4, 1e-5, name)


def _ntk_two_ways(lib, func, net, x1, x2):
    params = {name: p.detach() for name, p in net.named_parameters()}

    def single(params, x):
        return func.functional_call(net, params, (x[None],))[0]

    jac1 = func.vmap(func.jacrev(single), (None, 0))(params, x1)
    jac2 = func.vmap(func.jacrev(single), (None, 0))(params, x2)
    contraction = sum(
        (a.reshape(-1, a.shape[-1]) @ b.reshape(-1, b.shape[-1]).T)
        .reshape(a.shape[0], a.shape[1], b.shape[0], b.shape[1])
        .permute(0, 2, 1, 3)
        for a, b in zip(
            [j.reshape(j.shape[0], j.shape[1], -1) for j in jac1.values()],
            [j.reshape(j.shape[0], j.shape[1], -1) for j in jac2.values()],
            strict=True,
        )
    )

    def get_ntk(x1, x2):
        output, vjp_fn = func.vjp(lambda p: single(p, x1), params)

        def ntk_slice(vec):
            return func.jvp(lambda p: single(p, x2), (params,), vjp_fn(vec))[1]

        basis = lib.eye(output.numel(), dtype=output.dtype)
        return func.vmap(ntk_slice)(basis)

    products = func.vmap(func.vmap(get_ntk, (None, 0)), (0, None))(x1, x2)
    return contraction, products


def test_empirical_ntk_two_ways_agree_with_each_other_and_torch_func(torch):
    dualgrad.manual_seed(0)
    net = dualgrad.nn.Sequential(
        dualgrad.nn.Linear(3, 6, dtype=dualgrad.float64),
        dualgrad.nn.Tanh(),
        dualgrad.nn.Linear(6, 2, dtype=dualgrad.float64),
    )
    torch_net = torch.nn.Sequential(
        torch.nn.Linear(3, 6, dtype=torch.float64),
        torch.nn.Tanh(),
        torch.nn.Linear(6, 2, dtype=torch.float64),
    )
    with torch.no_grad():
        for ours, theirs in zip(net.parameters(), torch_net.parameters(), strict=True):
            theirs.copy_(torch.tensor(values(ours)))
    contraction, products = _ntk_two_ways(dualgrad, dualgrad.func, net, leaf(X), leaf(V[:3]))
    assert contraction.shape == (4, 3, 2, 2)
    assert_close(contraction, products, 1e-10, 1e-12, "two ways")
    reference, _ = _ntk_two_ways(
        torch, torch.func, torch_net, torch.tensor(X), torch.tensor(V[:3])
    )
    assert_close(contraction, reference, 1e-10, 1e-12, "torch.func")
