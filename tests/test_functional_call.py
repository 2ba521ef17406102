"""functional_call and stack_module_state: a model's parameters as a pytree the transforms take."""

from __future__ import annotations

import numpy as np
import pytest
from tensors import assert_close, leaf, values

import dualgrad
from dualgrad import nn
from dualgrad.func import functional_call, stack_module_state

RNG = np.random.default_rng(3)
X = RNG.standard_normal((6, 3))
Y = RNG.standard_normal((6, 2))


def _mlp():
    dualgrad.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))


def _loss(out, y):
    return ((out - y) ** 2).mean()


class _Scaled(nn.Module):
    """A layer with a buffer it reads and a buffer it reassigns at every call."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.register_buffer("scale", dualgrad.tensor(2.0))
        self.register_buffer("calls", dualgrad.tensor(0.0))

    def forward(self, x, *, offset=0.0):
        self.calls = self.calls + 1
        return self.linear(x) * self.scale + offset


class _Tied(nn.Module):
    """Two layers sharing one weight."""

    def __init__(self):
        super().__init__()
        self.encode = nn.Linear(2, 2, bias=False)
        self.decode = nn.Linear(2, 2, bias=False)
        self.decode.weight = self.encode.weight

    def forward(self, x):
        return self.decode(self.encode(x))


def test_grad_over_functional_call_equals_backward(backend, mode, float64):
    model = _mlp()
    x, y = leaf(X), leaf(Y)
    _loss(model(x), y).backward()
    expected = {name: values(p.grad) for name, p in model.named_parameters()}
    params = {name: p.detach() for name, p in model.named_parameters()}
    grads = dualgrad.grad(lambda p: _loss(functional_call(model, p, (x,)), y))(params)
    assert list(grads) == list(expected)
    for name, gradient in grads.items():
        assert_close(gradient, expected[name], rtol=1e-12, atol=1e-14)


def test_grad_of_the_parameters_themselves_keeps_their_graph(float64):
    # Parameters require grad: the gradient stays differentiable with respect to them, as in
    # torch.func; the values are those of backward().
    model = _mlp()
    x, y = leaf(X), leaf(Y)
    grads = dualgrad.grad(lambda p: _loss(functional_call(model, p, (x,)), y))(
        dict(model.named_parameters())
    )
    _loss(model(x), y).backward()
    for name, p in model.named_parameters():
        assert_close(grads[name], values(p.grad), rtol=1e-12, atol=1e-12)
    assert grads["0.weight"].requires_grad


def test_functional_call_matches_torch_func(float64):
    torch = pytest.importorskip("torch", reason="torch.func is the reference: pip install torch")
    model = _mlp()
    theirs_model = torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)
    ).double()
    params = {name: p.detach() for name, p in model.named_parameters()}
    their_params = {name: torch.from_numpy(values(p)) for name, p in params.items()}
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    theirs = torch.func.grad(
        lambda p: ((torch.func.functional_call(theirs_model, p, (x,)) - y) ** 2).mean()
    )(their_params)
    ours = dualgrad.grad(lambda p: _loss(functional_call(model, p, (leaf(X),)), leaf(Y)))(params)
    assert list(ours) == list(theirs)
    for name in ours:
        assert_close(ours[name], theirs[name].numpy(), rtol=1e-12, atol=1e-12)


def test_the_module_keeps_its_own_tensors(backend):
    model = _mlp()
    before = dict(model.named_parameters())
    functional_call(model, {"0.weight": dualgrad.zeros(8, 3)}, leaf(X, dtype=dualgrad.float32))
    assert dict(model.named_parameters()) == before
    assert all(type(p) is nn.Parameter for p in model.parameters())


def test_the_module_keeps_its_own_tensors_when_the_call_raises(backend):
    model = _mlp()
    before = dict(model.named_parameters())
    with pytest.raises(ValueError, match="shape"):
        functional_call(model, {"0.weight": dualgrad.zeros(8, 3)}, dualgrad.zeros(6, 5))
    assert dict(model.named_parameters()) == before


def test_names_left_out_keep_the_module_tensors(backend, float64):
    model = _mlp()
    zero_last = {"2.weight": dualgrad.zeros(2, 8), "2.bias": dualgrad.ones(2)}
    out = functional_call(model, zero_last, leaf(X))
    assert_close(out, np.ones((6, 2)))


def test_a_tuple_of_dicts_gives_parameters_and_buffers(backend, float64):
    model = _Scaled()
    params = {name: p.detach() for name, p in model.named_parameters()}
    out = functional_call(model, (params, {"scale": dualgrad.tensor(3.0)}), leaf(X))
    expected = values(model.linear(leaf(X))) * 3.0
    assert_close(out, expected)


def test_a_name_in_two_dicts_raises(backend):
    model = _Scaled()
    with pytest.raises(ValueError, match=r"\['scale'\] appeared in several dicts"):
        functional_call(model, ({"scale": dualgrad.ones(())}, {"scale": dualgrad.ones(())}), ())


def test_args_that_are_not_a_tuple_are_one_argument_and_kwargs_pass_through(backend, float64):
    model = _Scaled()
    x = leaf(X)
    out = functional_call(model, {}, x, {"offset": 1.0})
    assert_close(out, values(model(x)) + 1.0)


def test_a_reassigned_buffer_is_written_back_into_the_dict(backend, float64):
    model = _Scaled()
    buffers = {"calls": dualgrad.tensor(5.0)}
    functional_call(model, buffers, leaf(X))
    assert buffers["calls"].item() == 6.0
    assert model.calls.item() == 0.0


def test_strict_reports_missing_and_unexpected_keys(backend):
    model = _Scaled()
    with pytest.raises(
        RuntimeError, match=r"Unexpected key\(s\): 'extra'\.\n\tMissing key\(s\): 'calls', 'linear"
    ):
        functional_call(
            model, {"scale": dualgrad.ones(()), "extra": dualgrad.ones(())}, (), strict=True
        )


def test_an_unexpected_key_is_an_attribute_during_the_call_only(backend):
    seen = {}

    class Reads(nn.Module):
        def forward(self):
            seen["extra"] = self.extra
            return self.extra

    model = Reads()
    value = dualgrad.ones(2)
    assert functional_call(model, {"extra": value}) is value
    assert not hasattr(model, "extra")


def test_a_key_through_a_missing_submodule_raises(backend):
    with pytest.raises(AttributeError, match="Sequential has no submodule 'body'"):
        functional_call(_mlp(), {"body.weight": dualgrad.ones(2)}, ())


def test_a_value_that_is_not_a_tensor_raises(backend):
    with pytest.raises(TypeError, match=r"the value of '0\.bias' is a str"):
        functional_call(_mlp(), {"0.bias": "zeros"}, ())


def test_tied_weights_take_the_value_given_for_either_name(backend, float64):
    model = _Tied()
    x = leaf([[1.0, 2.0]])
    out = functional_call(model, {"encode.weight": 2 * dualgrad.eye(2, dtype=dualgrad.float64)}, x)
    assert_close(out, [[4.0, 8.0]])
    untied = functional_call(
        model, {"encode.weight": 2 * dualgrad.eye(2, dtype=dualgrad.float64)}, x, tie_weights=False
    )
    expected = 2 * values(x) @ values(model.decode.weight).T
    assert_close(untied, expected)


def test_different_values_for_tied_names_raise(backend):
    with pytest.raises(ValueError, match=r"multiple values for keys \['decode.weight', 'encode"):
        functional_call(
            _Tied(), {"encode.weight": dualgrad.eye(2), "decode.weight": dualgrad.eye(2)}, ()
        )


# --- stack_module_state -----------------------------------------------------------------------
def test_stack_module_state_stacks_along_a_new_first_axis(backend, float64):
    models = [_Scaled() for _ in range(3)]
    params, buffers = stack_module_state(models)
    assert list(params) == ["linear.weight", "linear.bias"]
    assert list(buffers) == ["scale", "calls"]
    assert params["linear.weight"].shape == (3, 2, 3)
    assert params["linear.weight"].is_leaf
    assert params["linear.weight"].requires_grad
    assert not buffers["scale"].requires_grad
    for i, model in enumerate(models):
        np.testing.assert_array_equal(
            values(params["linear.weight"][i]), values(model.linear.weight)
        )


def test_stacked_state_runs_each_model_through_functional_call(backend, float64):
    models = [_Scaled() for _ in range(3)]
    params, buffers = stack_module_state(models)
    for i, model in enumerate(models):
        member = {name: value[i] for name, value in {**params, **buffers}.items()}
        np.testing.assert_allclose(
            values(functional_call(models[0], member, leaf(X))), values(model(leaf(X)))
        )


def test_stack_module_state_matches_torch_func_names(float64):
    torch = pytest.importorskip("torch", reason="torch.func is the reference: pip install torch")
    theirs, _ = torch.func.stack_module_state(
        [torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Linear(8, 2)) for _ in range(2)]
    )
    ours, _ = stack_module_state(
        [nn.Sequential(nn.Linear(3, 8), nn.Linear(8, 2)) for _ in range(2)]
    )
    assert {k: tuple(v.shape) for k, v in ours.items()} == {
        k: tuple(v.shape) for k, v in theirs.items()
    }


@pytest.mark.parametrize(
    ("models", "message"),
    [
        (lambda: [], "at least one model"),
        (lambda: [nn.Linear(2, 2), nn.Tanh()], "same class"),
        (lambda: [nn.Linear(2, 2), nn.Linear(2, 2).eval()], "same training/eval mode"),
        (
            lambda: [nn.Linear(2, 2), nn.Linear(2, 2).requires_grad_(False)],
            "same .requires_grad",
        ),
    ],
)
def test_stack_module_state_refuses_models_that_differ(models, message, backend):
    with pytest.raises(RuntimeError, match=message):
        stack_module_state(models())
