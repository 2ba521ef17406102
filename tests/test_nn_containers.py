"""ModuleList, ModuleDict and ParameterList; forward hooks and Module.apply; nn.utils'
gradient clipping and parameter vectors, against PyTorch where it has numbers to compare."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from rule_checks import make_tensor
from tensors import assert_close
from torch_compare import TIGHT, torch_or_skip

import dualgrad
from dualgrad import nn


# --- ModuleList ---------------------------------------------------------------------------------
def test_module_list_registers_its_modules_parameters():
    layers = nn.ModuleList([nn.Linear(2, 3), nn.Linear(3, 1)])
    assert [name for name, _ in layers.named_parameters()] == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
    ]


def test_module_list_indexes_slices_and_grows_like_a_list():
    a, b, c, d = nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Identity()
    layers = nn.ModuleList([a, b])
    layers.append(c).extend([d])
    assert list(layers) == [a, b, c, d] and len(layers) == 4
    assert layers[-1] is d and isinstance(layers[1:3], nn.ModuleList)
    assert list(layers[1:3]) == [b, c]
    layers.insert(1, d)
    assert list(layers) == [a, d, b, c, d]
    assert layers.pop(0) is a
    del layers[0]
    assert list(layers) == [b, c, d] and list(layers._modules) == ["0", "1", "2"]
    layers[0] = a
    layers += [b]
    assert list(layers) == [a, c, d, b]
    assert list(layers + nn.ModuleList([c])) == [a, c, d, b, c]


def test_module_list_errors():
    with pytest.raises(IndexError, match="out of range"):
        nn.ModuleList([nn.ReLU()])[3]
    with pytest.raises(TypeError, match="not a Module subclass"):
        nn.ModuleList([1])
    with pytest.raises(TypeError, match="iterable"):
        nn.ModuleList().extend(nn.ReLU())
    with pytest.raises(NotImplementedError, match="forward"):
        nn.ModuleList([nn.ReLU()])(dualgrad.ones(1))


def test_model_built_with_a_module_list_trains(backend):
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x):
            for layer in self.layers:
                x = dualgrad.tanh(layer(x))
            return x

    model = Stack()
    model(dualgrad.ones(4, 2)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert len(model.state_dict()) == 6


# --- ModuleDict ---------------------------------------------------------------------------------
def test_module_dict_behaves_like_a_dict():
    relu, tanh = nn.ReLU(), nn.Tanh()
    heads = nn.ModuleDict({"b": relu})
    heads.update([("a", tanh)])
    heads["c"] = nn.Linear(1, 1)
    assert list(heads) == ["b", "a", "c"] and "a" in heads and len(heads) == 3
    assert list(heads.keys()) == ["b", "a", "c"] and heads["b"] is relu
    assert [m for _, m in heads.items()][:2] == [relu, tanh]
    assert heads.pop("a") is tanh and "a" not in heads
    del heads["b"]
    assert [name for name, _ in heads.named_parameters()] == ["c.weight", "c.bias"]
    heads.clear()
    assert len(heads) == 0


def test_module_dict_errors():
    with pytest.raises(TypeError, match="should be a \\(name, module\\) pair"):
        nn.ModuleDict([nn.ReLU()])
    with pytest.raises(TypeError, match="not a Module subclass"):
        nn.ModuleDict({"a": 1})
    with pytest.raises(KeyError):
        nn.ModuleDict()["missing"]


# --- ParameterList ------------------------------------------------------------------------------
def test_parameter_list_makes_tensors_parameters_and_registers_them(backend):
    weights = nn.ParameterList([dualgrad.ones(2), nn.Parameter(dualgrad.zeros(3))])
    weights.append(dualgrad.ones(1)).extend([dualgrad.ones(4)])
    assert all(isinstance(p, nn.Parameter) for p in weights)
    assert [tuple(p.shape) for p in weights.parameters()] == [(2,), (3,), (1,), (4,)]
    assert len(weights) == 4 and weights[-1].shape == (4,)
    assert isinstance(weights[1:], nn.ParameterList) and len(weights[1:]) == 3
    weights[0] = dualgrad.zeros(5)
    assert weights[0].shape == (5,) and weights[0].requires_grad


def test_parameter_list_keeps_other_values_out_of_the_parameters():
    mixed = nn.ParameterList([dualgrad.ones(2), "note"])
    assert mixed[1] == "note"
    assert [name for name, _ in mixed.named_parameters()] == ["0"]


# --- forward hooks ------------------------------------------------------------------------------
def test_forward_hooks_see_and_replace_arguments_and_outputs(backend):
    layer = nn.Linear(2, 2)
    seen = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    post = layer.register_forward_hook(lambda m, args, out: seen.append(args[0]) or out + 1)
    x = dualgrad.ones(1, 2)
    out = layer(x)
    assert seen[0].tolist() == [[2.0, 2.0]]
    assert_close(
        out.detach().numpy(), (layer.forward(x * 2) + 1).detach().numpy(), TIGHT, TIGHT, "hooked"
    )
    pre.remove()
    post.remove()
    post.remove()  # removing twice is harmless
    assert_close(
        layer(x).detach().numpy(), layer.forward(x).detach().numpy(), TIGHT, TIGHT, "unhooked"
    )


def test_pre_hook_may_return_a_single_argument_and_kwargs_hooks_get_kwargs():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    module = Scale()
    module.register_forward_pre_hook(lambda m, args: args[0] + 1)
    module.register_forward_pre_hook(
        lambda m, args, kwargs: (args, {**kwargs, "factor": 10.0}), with_kwargs=True
    )
    calls = []
    module.register_forward_hook(
        lambda m, args, kwargs, out: calls.append(kwargs), with_kwargs=True
    )
    assert module(dualgrad.tensor(1.0)).item() == 20.0
    assert calls == [{"factor": 10.0}]


def test_hooks_run_in_order_and_prepend_goes_first():
    layer = nn.Identity()
    order = []
    layer.register_forward_hook(lambda *a: order.append("first"))
    layer.register_forward_hook(lambda *a: order.append("second"))
    layer.register_forward_hook(lambda *a: order.append("prepended"), prepend=True)
    layer(1)
    assert order == ["prepended", "first", "second"]


def test_handle_as_context_manager_removes_the_hook():
    layer = nn.Identity()
    calls = []
    with layer.register_forward_hook(lambda *a: calls.append(1)):
        layer(0)
    layer(0)
    assert calls == [1]


def test_always_call_hook_runs_when_forward_raises():
    class Failing(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    module = Failing()
    calls = []
    module.register_forward_hook(lambda m, args, out: calls.append(out), always_call=True)
    module.register_forward_hook(lambda m, args, out: calls.append("not always"))
    with pytest.raises(ValueError, match="boom"):
        module(1)
    assert calls == [None]


def test_pre_hook_with_kwargs_must_return_a_pair():
    layer = nn.Identity()
    layer.register_forward_pre_hook(lambda m, args, kwargs: "wrong", with_kwargs=True)
    with pytest.raises(RuntimeError, match="tuple of \\(new_args, new_kwargs\\)"):
        layer(1)


def test_hooks_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        nn.Identity().register_forward_hook(3)


def test_hooks_capture_activations_of_a_model(backend, mode):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    activations = {}
    for name, module in model.named_children():
        module.register_forward_hook(
            lambda m, args, out, name=name: activations.__setitem__(name, out.shape)
        )
    model(dualgrad.ones(5, 3)).sum().backward()
    assert activations == {"0": (5, 4), "1": (5, 4), "2": (5, 2)}
    assert model[0].weight.grad is not None


# --- Module.apply -------------------------------------------------------------------------------
def test_apply_visits_children_first_then_self_and_reinitialises(backend):
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    visited = []
    assert model.apply(lambda m: visited.append(type(m).__name__)) is model
    assert visited == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]

    def zero_linear(module):
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.weight)

    model.apply(zero_linear)
    assert model[0].weight.detach().numpy().tolist() == [[0.0, 0.0]] * 3


# --- nn.utils ------------------------------------------------------------------------------------
def _gradients(lib, values, dtype):
    params = []
    for value in values:
        p = lib.tensor(value, dtype=dtype, requires_grad=True)
        (p * p * p).sum().backward()
        params.append(p)
    return params


VALUES = [[[1.0, -2.0], [0.5, 3.0]], [4.0, -1.0, 0.25]]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1000.0])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm, backend):
    torch = torch_or_skip()
    ours = _gradients(dualgrad, VALUES, dualgrad.float64)
    theirs = _gradients(torch, VALUES, torch.float64)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert_close(total.numpy(), expected.numpy(), TIGHT, TIGHT, "total norm")
    for mine, other in zip(ours, theirs, strict=True):
        assert_close(mine.grad.numpy(), other.grad.numpy(), TIGHT, TIGHT, "clipped gradient")


def test_clip_grad_norm_of_no_gradients_is_zero():
    assert nn.utils.clip_grad_norm_([dualgrad.ones(2, requires_grad=True)], 1.0).item() == 0.0


def test_clip_grad_norm_can_refuse_a_non_finite_norm(backend):
    p = make_tensor(backend, [1.0, 2.0], requires_grad=True)
    p.grad = make_tensor(backend, [math.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert p.grad.tolist() == [math.inf, 1.0]


def test_clip_grad_value_matches_pytorch(backend):
    torch = torch_or_skip()
    ours = _gradients(dualgrad, VALUES, dualgrad.float64)
    theirs = _gradients(torch, VALUES, torch.float64)
    nn.utils.clip_grad_value_(ours, 2.5)
    torch.nn.utils.clip_grad_value_(theirs, 2.5)
    for mine, other in zip(ours, theirs, strict=True):
        assert_close(mine.grad.numpy(), other.grad.numpy(), TIGHT, TIGHT, "clamped gradient")


def test_parameters_to_vector_and_back(backend, mode):
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vector = nn.utils.parameters_to_vector(model.parameters())
    assert vector.shape == (11,)
    (vector * vector).sum().backward()  # differentiable: each parameter gets 2 * itself
    first = model[0].weight
    assert_close(
        first.grad.numpy(), 2 * first.detach().numpy(), TIGHT, TIGHT, "gradient through the vector"
    )
    nn.utils.vector_to_parameters(dualgrad.arange(11.0), model.parameters())
    assert model[0].weight.detach().numpy().tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert model[1].bias.detach().numpy().tolist() == [10.0]
    assert model[0].weight.requires_grad and model[0].weight.is_leaf


def test_vector_to_parameters_checks_its_vector():
    params = nn.Linear(2, 1).parameters()
    with pytest.raises(TypeError, match=r"expected dualgrad\.Tensor"):
        nn.utils.vector_to_parameters(np.zeros(3), params)
    with pytest.raises(ValueError, match="3 elements"):
        nn.utils.vector_to_parameters(dualgrad.zeros(4), nn.Linear(2, 1).parameters())


def test_clip_grad_norm_in_a_training_loop_matches_pytorch(backend: Any, mode: Any) -> None:
    torch = torch_or_skip()
    rng = np.random.default_rng(5)
    w0, x, y = (
        rng.standard_normal((3, 4)),
        rng.standard_normal((8, 4)),
        rng.standard_normal((8, 3)),
    )
    trajectories = []
    for lib in (dualgrad, torch):
        w = lib.tensor(w0, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.5)
        for _ in range(3):
            opt.zero_grad()
            ((lib.tensor(x) @ w.T - lib.tensor(y)) ** 2).sum().backward()
            lib.nn.utils.clip_grad_norm_([w], max_norm=1.0)
            opt.step()
        trajectories.append(np.asarray(w.tolist()))
    assert_close(trajectories[0], trajectories[1], TIGHT, TIGHT, "weights after clipped steps")
