"""dualgrad.nn: the Module API, state dicts and their errors, reprs against PyTorch's, the
layers and losses, nn.init's statistics, and an MLP trained in both modes."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
from tensors import values

import dualgrad
import dualgrad.nn.functional as F
from dualgrad import nn

TORCH_MISSING = "torch not installed; pip install torch==2.13.0"


def _torch():
    return pytest.importorskip("torch", reason=TORCH_MISSING)


class Block(nn.Module):
    """Two layers, a buffer and a parameter of its own: every kind of member."""

    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 4)
        self.second = nn.Linear(4, 2, bias=False)
        self.scale = nn.Parameter(dualgrad.ones(2))
        self.register_buffer("calls", dualgrad.zeros(()))
        self.register_buffer("cache", dualgrad.zeros(2), persistent=False)

    def forward(self, x):
        return self.second(F.relu(self.first(x))) * self.scale


# --- registration ---------------------------------------------------------------------------
def test_parameters_are_registered_by_attribute_in_order(backend):
    block = Block()
    names = [name for name, _ in block.named_parameters()]
    assert names == ["scale", "first.weight", "first.bias", "second.weight"]
    assert [p.shape for p in block.parameters()] == [(2,), (4, 3), (4,), (2, 4)]
    assert all(isinstance(p, nn.Parameter) for p in block.parameters())
    assert [name for name, _ in block.named_parameters(recurse=False)] == ["scale"]
    assert [p.backend for p in block.parameters()] == [backend] * 4


def test_modules_and_children(backend):
    block = Block()
    assert [name for name, _ in block.named_children()] == ["first", "second"]
    assert list(block.children()) == [block.first, block.second]
    assert [name for name, _ in block.named_modules()] == ["", "first", "second"]
    assert list(block.modules()) == [block, block.first, block.second]
    outer = nn.Sequential(block, nn.ReLU())
    assert [name for name, _ in outer.named_modules()] == [
        "",
        "0",
        "0.first",
        "0.second",
        "1",
    ]


def test_shared_parameter_is_listed_once(backend):
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert len(list(model.parameters())) == 2
    assert [name for name, _ in model.named_modules()] == ["", "0", "1"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_buffers_are_state_but_not_parameters(backend):
    block = Block()
    assert [name for name, _ in block.named_buffers()] == ["calls", "cache"]
    assert "calls" in block.state_dict()
    assert "cache" not in block.state_dict()  # not persistent
    assert not any(p is block.calls for p in block.parameters())


def test_reassigning_and_deleting_members(backend):
    block = Block()
    block.scale = None
    assert [name for name, _ in block.named_parameters(recurse=False)] == []
    block.scale = nn.Parameter(dualgrad.zeros(2))
    del block.second
    assert [name for name, _ in block.named_children()] == ["first"]
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'second'"):
        _ = block.second
    block.note = "plain attribute"
    assert block.note == "plain attribute"
    assert "note" not in dict(block.named_parameters())


def test_assigning_a_plain_tensor_to_a_parameter_raises(backend):
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"parameter 'weight'.*nn\.Parameter"):
        layer.weight = dualgrad.ones(2, 2)
    assert isinstance(layer.weight, nn.Parameter)


def test_assigning_a_non_module_to_a_submodule_raises(backend):
    model = nn.Sequential(nn.ReLU())
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        model.add_module("1", 3)


def test_assigning_before_init_raises():
    class Forgetful(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(dualgrad.ones(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\).*super\(\).__init__"):
        Forgetful()


def test_bad_member_names_raise():
    module = nn.Module()
    with pytest.raises(KeyError, match="must be non-empty and without dots"):
        module.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="should be a string"):
        module.register_buffer(1, None)
    module.plain = 1
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        module.register_buffer("plain", dualgrad.ones(1))


def test_module_without_forward_raises():
    with pytest.raises(NotImplementedError, match=r"Module \[Module\].*forward"):
        nn.Module()(dualgrad.ones(1))


def test_call_runs_forward(backend):
    block = Block()
    x = dualgrad.randn(5, 3)
    expected = F.linear(
        F.relu(F.linear(x, block.first.weight, block.first.bias)), block.second.weight
    )
    np.testing.assert_allclose(values(block(x)), values(expected * block.scale))


# --- modes, gradients, dtype ----------------------------------------------------------------
def test_train_and_eval_reach_every_module(backend):
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())


def test_train_with_a_non_bool_raises():
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        nn.Linear(1, 1).train("no")


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none, backend, mode):
    model = nn.Linear(3, 2)
    model(dualgrad.ones(4, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=set_to_none)
    for p in model.parameters():
        if set_to_none:
            assert p.grad is None
        else:
            assert not np.any(values(p.grad))


def test_requires_grad_freezes_and_unfreezes(backend):
    model = nn.Linear(2, 2)
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def test_double_keeps_the_parameter_objects(backend):
    model = nn.Linear(2, 2)
    weight = model.weight
    before = values(weight)
    model.double()
    assert model.weight is weight
    assert weight.dtype is dualgrad.float64
    np.testing.assert_array_equal(values(weight), before.astype(np.float64))
    assert model.float().weight.dtype is dualgrad.float32
    with pytest.raises(TypeError, match="floating point dtypes"):
        model.to(dualgrad.int64)


# --- Parameter ------------------------------------------------------------------------------
def test_parameter_is_a_leaf_that_requires_grad(backend):
    p = nn.Parameter(dualgrad.tensor([1.0, 2.0]) * 2)
    assert isinstance(p, dualgrad.Tensor)
    assert p.is_leaf
    assert p.requires_grad
    assert p.tolist() == [2.0, 4.0]
    assert p.backend is backend
    assert type(p * 2) is dualgrad.Tensor
    assert not nn.Parameter(dualgrad.ones(1), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)


def test_parameter_of_non_tensor_raises():
    with pytest.raises(TypeError, match=r"Parameter expects a Tensor, got list"):
        nn.Parameter([1.0])


def test_parameter_repr_matches_pytorch():
    expected = "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert repr(nn.Parameter(dualgrad.tensor([1.0, 2.0]))) == expected


def test_parameter_repr_matches_live_pytorch():
    torch = _torch()
    for data in ([1.0, 2.0], [[0.5, -1.25], [3.0, 4.0]]):
        theirs = repr(torch.nn.Parameter(torch.tensor(data)))
        assert repr(nn.Parameter(dualgrad.tensor(data))) == theirs


# --- repr -----------------------------------------------------------------------------------
def _zoo(lib):
    n = lib.nn
    return n.Sequential(
        n.Linear(2, 64),
        n.ReLU(),
        n.Sequential(n.Linear(64, 8, bias=False), n.Tanh()),
        n.Sigmoid(),
        n.GELU(),
        n.GELU(approximate="tanh"),
        n.Softmax(dim=1),
        n.LogSoftmax(dim=-1),
        n.Dropout(0.1),
        n.ReLU(inplace=True),
        n.MSELoss(),
        n.CrossEntropyLoss(),
        n.Identity(),
    )


ZOO_REPR = """\
Sequential(
  (0): Linear(in_features=2, out_features=64, bias=True)
  (1): ReLU()
  (2): Sequential(
    (0): Linear(in_features=64, out_features=8, bias=False)
    (1): Tanh()
  )
  (3): Sigmoid()
  (4): GELU(approximate='none')
  (5): GELU(approximate='tanh')
  (6): Softmax(dim=1)
  (7): LogSoftmax(dim=-1)
  (8): Dropout(p=0.1, inplace=False)
  (9): ReLU(inplace=True)
  (10): MSELoss()
  (11): CrossEntropyLoss()
  (12): Identity()
)"""


def test_repr_matches_pytorchs_text():
    assert repr(_zoo(dualgrad)) == ZOO_REPR
    assert repr(nn.Sequential()) == "Sequential()"
    assert repr(nn.Softmax()) == "Softmax(dim=None)"


def test_repr_matches_live_pytorch():
    torch = _torch()
    assert repr(_zoo(dualgrad)) == repr(_zoo(torch))
    assert repr(nn.Sequential()) == repr(torch.nn.Sequential())


def test_custom_module_repr_matches_live_pytorch():
    torch = _torch()

    class Block(torch.nn.Module):  # the torch twin of this file's Block
        def __init__(self):
            super().__init__()
            self.first = torch.nn.Linear(3, 4)
            self.second = torch.nn.Linear(4, 2, bias=False)
            self.scale = torch.nn.Parameter(torch.ones(2))
            self.register_buffer("calls", torch.zeros(()))

    assert repr(globals()["Block"]()) == repr(Block())


# --- state_dict / load_state_dict -----------------------------------------------------------
def test_state_dict_holds_detached_views(backend):
    block = Block()
    state = block.state_dict()
    assert list(state) == ["scale", "calls", "first.weight", "first.bias", "second.weight"]
    assert all(isinstance(v, dualgrad.Tensor) and not v.requires_grad for v in state.values())
    kept = block.state_dict(keep_vars=True)
    assert kept["first.weight"] is block.first.weight
    state["first.bias"].fill_(2.0)  # as PyTorch's: an in-place change reaches the parameter
    assert (values(block.first.bias) == 2.0).all() and block.first.bias.requires_grad


def test_state_dict_keys_match_pytorchs():
    torch = _torch()
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 1)))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Sequential(torch.nn.Linear(3, 1))
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_load_state_dict_copies_values_in_place(backend):
    dualgrad.manual_seed(0)
    source, target = Block(), Block()
    weight = target.first.weight
    result = target.load_state_dict(source.state_dict())
    assert result == nn.IncompatibleKeys([], [])
    assert target.first.weight is weight  # an optimizer holding it sees the new values
    for (name, p), q in zip(
        target.state_dict().items(), source.state_dict().values(), strict=True
    ):
        np.testing.assert_array_equal(values(p), values(q), err_msg=name)


def test_load_state_dict_from_pytorch_values(backend):
    torch = _torch()
    theirs = torch.nn.Linear(3, 2)
    ours = nn.Linear(3, 2)
    ours.load_state_dict({k: dualgrad.tensor(v.tolist()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(values(ours(dualgrad.tensor(x.tolist()))), expected, atol=1e-6)


def test_load_state_dict_converts_dtype_and_backend(backend):
    model = nn.Linear(2, 1)
    with dualgrad.use_backend("numpy"):
        state = {
            "weight": dualgrad.tensor([[1.0, 2.0]], dtype="float64"),
            "bias": dualgrad.zeros(1),
        }
    model.load_state_dict(state)
    assert model.weight.backend is backend
    assert model.weight.dtype is dualgrad.float32
    assert model.weight.tolist() == [[1.0, 2.0]]


def _values(module):
    return {name: values(t).copy() for name, t in module.state_dict().items()}


def _assert_unchanged(module, before):
    after = _values(module)
    assert list(after) == list(before)
    for name in before:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)


def test_missing_and_unexpected_keys_raise_and_change_nothing(backend):
    block = Block()
    before = _values(block)
    state = {k: v + 1 for k, v in block.state_dict().items() if k != "first.bias"}
    state["third.weight"] = dualgrad.ones(1)
    with pytest.raises(nn.StateDictKeyError) as info:
        block.load_state_dict(state)
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "first.bias".' in message
    assert 'Unexpected key(s) in state_dict: "third.weight".' in message
    assert "strict=False" in message
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, RuntimeError)  # what PyTorch raises
    assert info.value.missing_keys == ["first.bias"]
    assert info.value.unexpected_keys == ["third.weight"]
    _assert_unchanged(block, before)


def test_non_strict_load_reports_and_loads_the_rest(backend):
    block = Block()
    state = {"scale": dualgrad.full((2,), 7.0), "extra": dualgrad.ones(1)}
    result = block.load_state_dict(state, strict=False)
    assert result.missing_keys == ["calls", "first.weight", "first.bias", "second.weight"]
    assert result.unexpected_keys == ["extra"]
    assert block.scale.tolist() == [7.0, 7.0]


def test_mis_shaped_value_raises_naming_key_and_shapes_and_changes_nothing(backend):
    block = Block()
    before = _values(block)
    state = {k: v + 1 for k, v in block.state_dict().items()}
    state["second.weight"] = dualgrad.ones(3, 4)  # after other keys that would load fine
    with pytest.raises(nn.StateDictShapeError) as info:
        block.load_state_dict(state)
    assert isinstance(info.value, ValueError)
    assert "size mismatch for second.weight" in str(info.value)
    assert "shape (3, 4) from checkpoint" in str(info.value)
    assert "current model is (2, 4)" in str(info.value)
    _assert_unchanged(block, before)


def test_mis_shaped_value_raises_even_without_strict(backend):
    with pytest.raises(ValueError, match=r"size mismatch for bias"):
        nn.Linear(2, 2).load_state_dict({"bias": dualgrad.ones(3)}, strict=False)


def test_non_tensor_values_raise_and_change_nothing(backend):
    layer = nn.Linear(2, 2)
    before = _values(layer)
    with pytest.raises(TypeError, match=r"'bias' is a list, not a Tensor"):
        layer.load_state_dict({"weight": dualgrad.ones(2, 2), "bias": [1.0, 2.0]})
    _assert_unchanged(layer, before)
    with pytest.raises(TypeError, match="expects a dict of Tensors"):
        layer.load_state_dict([("weight", dualgrad.ones(2, 2))])


# --- layers ---------------------------------------------------------------------------------
def test_linear_shapes_and_options(backend):
    layer = nn.Linear(3, 5, dtype=dualgrad.float64)
    assert layer.weight.shape == (5, 3)
    assert layer.bias.shape == (5,)
    assert layer.weight.dtype is dualgrad.float64
    assert layer(dualgrad.ones(2, 7, 3, dtype="float64")).shape == (2, 7, 5)
    assert nn.Linear(3, 5, bias=False).bias is None
    assert [n for n, _ in nn.Linear(3, 5, bias=False).named_parameters()] == ["weight"]
    with pytest.raises(ValueError, match="sizes >= 0"):
        nn.Linear(-1, 2)


def test_linear_default_init_is_pytorchs(backend):
    dualgrad.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight, layer.bias):
        drawn = values(p)
        assert drawn.min() >= -bound
        assert drawn.max() <= bound
        assert drawn.max() > 0.95 * bound  # spread over the whole interval
        assert drawn.min() < -0.95 * bound
    # uniform(-b, b) has standard deviation b / sqrt(3)
    assert values(layer.weight).std() == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_same_seed_gives_the_same_model(backend):
    dualgrad.manual_seed(3)
    first = values(nn.Linear(4, 4).weight)
    dualgrad.manual_seed(3)
    np.testing.assert_array_equal(values(nn.Linear(4, 4).weight), first)


def test_sequential_behaves_like_a_list(backend):
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(a, b, c)
    assert len(model) == 3
    assert list(model) == [a, b, c]
    assert model[0] is a
    assert model[-1] is c
    head = model[:2]
    assert isinstance(head, nn.Sequential)
    assert list(head) == [a, b]
    assert head[0] is a
    x = dualgrad.randn(4, 2)
    np.testing.assert_allclose(values(model(x)), values(c(b(a(x)))))
    assert model.append(nn.Sigmoid()) is model
    assert len(model) == 4
    del model[1]
    assert [name for name, _ in model.named_children()] == ["0", "1", "2"]
    assert model[1] is c
    model[0] = nn.Identity()
    assert isinstance(model[0], nn.Identity)
    with pytest.raises(IndexError, match="out of range for a Sequential of length 3"):
        model[3]


def test_sequential_from_ordered_dict_keeps_names():
    model = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert [name for name, _ in model.named_children()] == ["hidden", "act"]
    assert model[1] is model.act


def test_sequential_of_a_non_module_raises():
    with pytest.raises(TypeError, match="function is not a Module subclass"):
        nn.Sequential(nn.ReLU(), F.relu)


ACTIVATIONS = {
    "ReLU": ({}, lambda x: F.relu(x)),
    "Tanh": ({}, lambda x: F.tanh(x)),
    "Sigmoid": ({}, lambda x: F.sigmoid(x)),
    "GELU": ({}, lambda x: F.gelu(x)),
    "Softmax": ({"dim": 1}, lambda x: F.softmax(x, dim=1)),
    "LogSoftmax": ({"dim": 0}, lambda x: F.log_softmax(x, dim=0)),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_layers_apply_their_function(name, backend, mode, float64):
    kwargs, function = ACTIVATIONS[name]
    x = dualgrad.randn(3, 4, requires_grad=True)
    layer_out = getattr(nn, name)(**kwargs)(x)
    np.testing.assert_array_equal(values(layer_out), values(function(x)))
    (layer_out * dualgrad.arange(12.0).reshape(3, 4)).sum().backward()
    assert x.grad.shape == (3, 4)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_layers_match_live_pytorch(name, float64):
    torch = _torch()
    kwargs, _ = ACTIVATIONS[name]
    x = np.random.default_rng(0).standard_normal((3, 4))
    theirs = getattr(torch.nn, name)(**kwargs)(torch.from_numpy(x)).numpy()
    ours = getattr(nn, name)(**kwargs)(dualgrad.tensor(x.tolist()))
    np.testing.assert_allclose(values(ours), theirs, rtol=0, atol=1e-12)


def test_dropout_drops_in_training_and_passes_through_in_eval(backend):
    dualgrad.manual_seed(0)
    layer = nn.Dropout(0.25)
    x = dualgrad.ones(200, 50)
    out = values(layer(x))
    kept = out != 0
    assert kept.mean() == pytest.approx(0.75, abs=0.02)
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    layer.eval()
    assert layer(x) is x


def test_dropout_repeats_with_the_seed(backend):
    x = dualgrad.ones(10, 10)
    dualgrad.manual_seed(5)
    first = values(nn.Dropout(0.5)(x))
    dualgrad.manual_seed(5)
    np.testing.assert_array_equal(values(nn.Dropout(0.5)(x)), first)


def test_dropout_with_bad_probability_raises():
    with pytest.raises(ValueError, match=r"between 0 and 1, but got 1\.5"):
        nn.Dropout(1.5)


# --- losses ---------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(reduction, backend):
    loss = nn.MSELoss(reduction=reduction)(
        dualgrad.tensor([1.0, 3.0]), dualgrad.tensor([0.0, 1.0])
    )
    expected = {"mean": 2.5, "sum": 5.0, "none": [1.0, 4.0]}[reduction]
    assert loss.tolist() == expected


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_loss_matches_the_function(reduction, backend, mode, float64):
    logits = dualgrad.randn(5, 3, requires_grad=True)
    target = dualgrad.tensor([0, 2, 1, 1, 0])
    weight = dualgrad.tensor([1.0, 2.0, 0.5])
    layer = nn.CrossEntropyLoss(weight=weight, reduction=reduction, label_smoothing=0.1)
    expected = F.cross_entropy(logits, target, weight, reduction=reduction, label_smoothing=0.1)
    np.testing.assert_array_equal(values(layer(logits, target)), values(expected))


def test_cross_entropy_loss_matches_live_pytorch(float64):
    torch = _torch()
    logits = np.random.default_rng(0).standard_normal((6, 4))
    target = [3, 0, 1, 2, 1, -100]
    options = {"ignore_index": -100, "label_smoothing": 0.2}
    ours = nn.CrossEntropyLoss(**options)(
        dualgrad.tensor(logits.tolist()), dualgrad.tensor(target)
    )
    theirs = torch.nn.CrossEntropyLoss(**options)(torch.from_numpy(logits), torch.tensor(target))
    assert ours.item() == pytest.approx(theirs.item(), abs=1e-12)


def test_cross_entropy_weight_is_a_saved_buffer(backend):
    weighted = nn.CrossEntropyLoss(weight=dualgrad.tensor([1.0, 2.0]))
    assert list(weighted.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []


def test_loss_with_unknown_reduction_raises():
    with pytest.raises(ValueError, match="'average' is not a valid value for reduction"):
        nn.MSELoss(reduction="average")
    with pytest.raises(ValueError, match=r"label_smoothing must be between 0\.0 and 1\.0"):
        nn.CrossEntropyLoss(label_smoothing=2.0)


# --- nn.init --------------------------------------------------------------------------------
def _drawn(fill, shape=(200, 300), **kwargs):
    dualgrad.manual_seed(0)
    tensor = nn.Parameter(dualgrad.empty(*shape))
    assert fill(tensor, **kwargs) is tensor
    assert tensor.is_leaf
    assert tensor.requires_grad
    return values(tensor).astype(np.float64)


def _assert_uniform(values, low, high):
    assert values.min() >= low
    assert values.max() <= high
    std = (high - low) / math.sqrt(12)
    # within 5 standard errors, whichever backend's generator drew them
    assert values.mean() == pytest.approx((low + high) / 2, abs=5 * std / math.sqrt(values.size))
    assert values.std() == pytest.approx(std, rel=5 / math.sqrt(values.size))


def _assert_normal(values, mean, std):
    assert values.mean() == pytest.approx(mean, abs=5 * std / math.sqrt(values.size))
    assert values.std() == pytest.approx(std, rel=5 / math.sqrt(2 * values.size))


def test_uniform_and_normal(backend):
    _assert_uniform(_drawn(nn.init.uniform_, a=-2.0, b=3.0), -2.0, 3.0)
    _assert_normal(_drawn(nn.init.normal_, mean=1.5, std=0.5), 1.5, 0.5)


def test_constant_zeros_ones(backend):
    assert set(_drawn(nn.init.constant_, val=0.25).flat) == {0.25}
    assert set(_drawn(nn.init.zeros_).flat) == {0.0}
    assert set(_drawn(nn.init.ones_).flat) == {1.0}


def test_xavier(backend):
    # shape (200, 300): fan_in 300, fan_out 200
    bound = 2.0 * math.sqrt(6 / 500)
    _assert_uniform(_drawn(nn.init.xavier_uniform_, gain=2.0), -bound, bound)
    _assert_normal(_drawn(nn.init.xavier_normal_), 0.0, math.sqrt(2 / 500))


def test_kaiming(backend):
    relu_std_in = math.sqrt(2) / math.sqrt(300)
    bound = math.sqrt(3) * relu_std_in
    _assert_uniform(_drawn(nn.init.kaiming_uniform_, nonlinearity="relu"), -bound, bound)
    _assert_normal(_drawn(nn.init.kaiming_normal_, mode="fan_out"), 0.0, math.sqrt(2 / 200))
    leaky = math.sqrt(2 / (1 + 0.2**2)) / math.sqrt(300)
    _assert_normal(_drawn(nn.init.kaiming_normal_, a=0.2), 0.0, leaky)


def test_fans_count_the_receptive_field(backend):
    # (out, in, k, k): fan_in = in * k * k
    std = math.sqrt(2 / (32 * 3 * 3 + 64 * 3 * 3))
    _assert_normal(_drawn(nn.init.xavier_normal_, shape=(64, 32, 3, 3)), 0.0, std)


def test_init_draws_repeat_with_the_seed(backend):
    np.testing.assert_array_equal(_drawn(nn.init.normal_), _drawn(nn.init.normal_))


def test_init_fills_on_the_tensors_own_backend():
    with dualgrad.use_backend("array_api_strict"):
        tensor = dualgrad.empty(3, 4)
    nn.init.kaiming_uniform_(tensor)
    assert tensor.backend.name == "array_api_strict"


@pytest.mark.parametrize(
    ("nonlinearity", "param", "gain"),
    [
        ("linear", None, 1.0),
        ("sigmoid", None, 1.0),
        ("conv2d", None, 1.0),
        ("tanh", None, 5 / 3),
        ("relu", None, math.sqrt(2)),
        ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
        ("leaky_relu", 0.3, math.sqrt(2 / (1 + 0.3**2))),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain(nonlinearity, param, gain):
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-15)


def test_calculate_gain_matches_live_pytorch():
    torch = _torch()
    for name in ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"):
        assert nn.init.calculate_gain(name) == torch.nn.init.calculate_gain(name)


def test_init_errors():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions, got shape \(3,\)"):
        nn.init.xavier_uniform_(dualgrad.empty(3))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        nn.init.kaiming_normal_(dualgrad.empty(3, 3), mode="fan")
    with pytest.raises(ValueError, match="lower bound a=1 exceeds"):
        nn.init.uniform_(dualgrad.empty(3), a=1, b=0)
    with pytest.raises(TypeError, match=r"floating point tensor, got dualgrad\.int64"):
        nn.init.normal_(dualgrad.zeros(3, dtype="int64"))


# --- training in both modes -----------------------------------------------------------------
def _loss_curve(mode, steps=20):
    """A seeded MLP (a few hundred parameters) trained with Adam on a seeded batch."""
    with dualgrad.use_mode(mode):
        dualgrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.GELU())
        model.append(nn.Linear(16, 3))
        x = dualgrad.randn(32, 2)
        target = dualgrad.tensor((np.arange(32) % 3).tolist())
        optimizer = dualgrad.optim.Adam(model.parameters(), lr=0.05)
        criterion = nn.CrossEntropyLoss()
        curve = []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = criterion(model(x), target)
            loss.backward()
            optimizer.step()
            curve.append(loss.item())
    return np.array(curve), sum(p.numel() for p in model.parameters())


def test_mlp_trains_to_the_same_loss_curve_in_both_modes(backend, float64):
    reverse, size = _loss_curve("reverse")
    forward, _ = _loss_curve("forward")
    assert 200 <= size <= 500
    np.testing.assert_allclose(forward, reverse, rtol=0, atol=1e-6)
    assert reverse[-1] < 0.9 * reverse[0]  # it learns
