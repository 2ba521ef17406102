"""The layers beyond Linear (convolution, pooling, normalization, embedding, flatten, the newer
activations and losses) against PyTorch's: reprs, state dict keys, initialisation, outputs and
gradients with the same weights, running statistics, and a small CNN trained side by side."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from rule_checks import make_tensor
from tensors import assert_close, values
from torch_compare import torch_or_skip

import dualgrad
from dualgrad import nn

RNG = np.random.default_rng(21)
TOL = 1e-10


def _both(build: Callable[[Any], Any]) -> tuple[Any, Any]:
    """The same layer built from dualgrad.nn and torch.nn, dualgrad's holding PyTorch's
    initial parameters and buffers (float64)."""
    torch = torch_or_skip()
    theirs = build(torch.nn).double()
    ours = build(nn).double()
    state = {k: dualgrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    return ours, theirs


def _run_both(ours: Any, theirs: Any, x: np.ndarray, backend: Any, integer: bool = False) -> None:
    """Output and every parameter's gradient (for one random cotangent) agree."""
    torch = torch_or_skip()
    ours_x = make_tensor(backend, x, "int64" if integer else "float64", requires_grad=not integer)
    theirs_x = torch.from_numpy(x.copy())
    if not integer:
        theirs_x.requires_grad_()
    out, expected = ours(ours_x), theirs(theirs_x)
    assert_close(out.detach().numpy(), values(expected), TOL, TOL, "output")
    u = RNG.standard_normal(tuple(expected.shape))
    out.backward(make_tensor(backend, u))
    expected.backward(torch.from_numpy(u))
    if not integer:
        assert_close(ours_x.grad.numpy(), values(theirs_x.grad), TOL, TOL, "input grad")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        if p.requires_grad:
            assert_close(p.grad.numpy(), values(theirs_params[name].grad), TOL, TOL, name)


# --- reprs and state dict keys --------------------------------------------------------------
REPRS: dict[str, Callable[[Any], Any]] = {
    "conv2d": lambda m: m.Conv2d(3, 8, 3),
    "conv2d_options": lambda m: m.Conv2d(
        3, 8, (3, 2), stride=2, padding=1, dilation=2, bias=False, padding_mode="reflect"
    ),
    "conv2d_same": lambda m: m.Conv2d(4, 8, 3, padding="same", groups=2),
    "conv1d": lambda m: m.Conv1d(3, 8, 3, stride=2, padding=1),
    "maxpool": lambda m: m.MaxPool2d(2),
    "maxpool_options": lambda m: m.MaxPool2d(3, 1, 1, ceil_mode=True),
    "avgpool": lambda m: m.AvgPool2d(3, 2, 1),
    "adaptive": lambda m: m.AdaptiveAvgPool2d((None, 3)),
    "layernorm": lambda m: m.LayerNorm(4),
    "layernorm_options": lambda m: m.LayerNorm((3, 4), eps=1e-6, elementwise_affine=False),
    "batchnorm1d": lambda m: m.BatchNorm1d(5),
    "batchnorm2d": lambda m: m.BatchNorm2d(5, momentum=None, affine=False),
    "embedding": lambda m: m.Embedding(10, 3),
    "embedding_options": lambda m: m.Embedding(
        10, 3, padding_idx=0, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True, sparse=True
    ),
    "flatten": lambda m: m.Flatten(),
    "unflatten": lambda m: m.Unflatten(1, (2, 5)),
    "leaky_relu": lambda m: m.LeakyReLU(0.2, True),
    "elu": lambda m: m.ELU(),
    "silu": lambda m: m.SiLU(inplace=True),
    "softplus": lambda m: m.Softplus(2, 10),
    "losses": lambda m: m.Sequential(
        m.NLLLoss(),
        m.BCELoss(),
        m.BCEWithLogitsLoss(),
        m.L1Loss(),
        m.SmoothL1Loss(),
        m.HuberLoss(),
        m.KLDivLoss(),
    ),
    "module_list": lambda m: m.ModuleList(
        [m.Linear(2, 2), m.Linear(2, 2), m.Linear(2, 2), m.ReLU(), m.Linear(2, 2)]
    ),
    "module_dict": lambda m: m.ModuleDict({"a": m.ReLU(), "b": m.Linear(1, 2)}),
    "cnn": lambda m: m.Sequential(
        m.Conv2d(1, 4, 3, padding=1),
        m.BatchNorm2d(4),
        m.ReLU(),
        m.MaxPool2d(2),
        m.Flatten(),
        m.Linear(16, 3),
    ),
}


@pytest.mark.parametrize("name", REPRS)
def test_repr_matches_pytorch(name: str) -> None:
    torch = torch_or_skip()
    assert repr(REPRS[name](nn)) == repr(REPRS[name](torch.nn))


def test_parameter_list_repr_matches_pytorch_but_for_the_dtype_name() -> None:
    torch = torch_or_skip()
    ours = nn.ParameterList([dualgrad.ones(3, 4), dualgrad.ones(3), 7])
    theirs = torch.nn.ParameterList([torch.ones(3, 4), torch.ones(3), 7])
    assert repr(ours) == repr(theirs).replace("torch.", "dualgrad.")
    single = nn.ParameterList([dualgrad.ones(2)])
    assert repr(single) == repr(torch.nn.ParameterList([torch.ones(2)])).replace(
        "torch.", "dualgrad."
    )


@pytest.mark.parametrize("name", ["conv2d", "batchnorm1d", "layernorm", "embedding", "cnn"])
def test_state_dict_keys_and_shapes_match_pytorch(name: str) -> None:
    torch = torch_or_skip()
    ours = {k: tuple(v.shape) for k, v in REPRS[name](nn).state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in REPRS[name](torch.nn).state_dict().items()}
    assert ours == theirs


# --- initialisation -------------------------------------------------------------------------
def test_conv_weights_start_as_pytorchs(backend: Any) -> None:
    dualgrad.manual_seed(0)
    conv = nn.Conv2d(4, 64, 3)
    bound = 1 / math.sqrt(4 * 9)  # kaiming_uniform_(a=sqrt(5)) and the bias: both 1/sqrt(fan_in)
    for p in (conv.weight, conv.bias):
        drawn = p.detach().numpy()
        assert drawn.dtype == np.float32
        assert -bound <= drawn.min() < -0.8 * bound and 0.8 * bound < drawn.max() <= bound
    assert conv.weight.backend is backend


def test_embedding_starts_standard_normal_with_the_padding_row_at_zero(backend: Any) -> None:
    dualgrad.manual_seed(0)
    table = nn.Embedding(2000, 8, padding_idx=-2, dtype=dualgrad.float64)
    drawn = table.weight.detach().numpy()
    assert table.padding_idx == 1998
    assert (drawn[1998] == 0).all()
    assert abs(drawn.std() - 1.0) < 0.04 and abs(drawn.mean()) < 0.04  # 5 standard errors


def test_norm_layers_start_at_one_and_zero(backend: Any) -> None:
    norm = nn.BatchNorm2d(3)
    assert norm.weight.tolist() == [1.0] * 3 and norm.bias.tolist() == [0.0] * 3
    assert norm.running_var.tolist() == [1.0] * 3 and norm.num_batches_tracked.item() == 0
    assert norm.num_batches_tracked.dtype is dualgrad.int64
    assert nn.LayerNorm((2, 3)).weight.shape == (2, 3)


def test_embedding_from_pretrained_is_frozen_by_default(backend: Any) -> None:
    weights = make_tensor(backend, [[1.0, 2.0], [3.0, 4.0]])
    table = nn.Embedding.from_pretrained(weights)
    assert not table.weight.requires_grad
    assert table(make_tensor(backend, [1], "int64")).tolist() == [[3.0, 4.0]]
    assert nn.Embedding.from_pretrained(weights, freeze=False).weight.requires_grad


# --- outputs and gradients with PyTorch's weights ---------------------------------------------
LAYERS: dict[str, tuple[Callable[[Any], Any], tuple[int, ...]]] = {
    "conv2d": (lambda m: m.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 6)),
    "conv2d_groups_dilation": (
        lambda m: m.Conv2d(4, 6, (2, 3), dilation=2, groups=2),
        (2, 4, 7, 8),
    ),
    "conv2d_same": (lambda m: m.Conv2d(3, 2, 4, padding="same", bias=False), (1, 3, 5, 6)),
    "conv2d_reflect": (
        lambda m: m.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="reflect"),
        (2, 2, 5, 5),
    ),
    "conv2d_circular": (
        lambda m: m.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
        (2, 2, 5, 5),
    ),
    "conv2d_replicate_same": (
        lambda m: m.Conv2d(2, 3, 2, padding="same", padding_mode="replicate"),
        (2, 2, 5, 5),
    ),
    "conv1d": (lambda m: m.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9)),
    "conv1d_circular": (
        lambda m: m.Conv1d(3, 4, 3, padding=2, padding_mode="circular"),
        (2, 3, 9),
    ),
    "maxpool": (lambda m: m.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 6)),
    "avgpool": (
        lambda m: m.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
        (2, 3, 7, 6),
    ),
    "adaptive": (lambda m: m.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 6)),
    "layernorm": (lambda m: m.LayerNorm((3, 4)), (2, 5, 3, 4)),
    "flatten": (lambda m: m.Flatten(0, 1), (2, 3, 4)),
    "unflatten": (lambda m: m.Unflatten(-1, (2, -1)), (3, 6)),
    "leaky_relu": (lambda m: m.LeakyReLU(0.2), (3, 5)),
    "elu": (lambda m: m.ELU(0.7), (3, 5)),
    "silu": (lambda m: m.SiLU(), (3, 5)),
    "softplus": (lambda m: m.Softplus(2.0, 3.0), (3, 5)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_pytorch(name: str, backend: Any) -> None:
    build, shape = LAYERS[name]
    ours, theirs = _both(build)
    _run_both(ours, theirs, RNG.standard_normal(shape), backend)


@pytest.mark.parametrize("name", ["conv2d", "conv1d", "layernorm", "maxpool"])
def test_layer_gradients_in_forward_mode(name: str, backend: Any, mode: Any) -> None:
    build, shape = LAYERS[name]
    ours, theirs = _both(build)
    _run_both(ours, theirs, RNG.standard_normal(shape), backend)


def test_embedding_matches_pytorch(backend: Any, mode: Any) -> None:
    ours, theirs = _both(lambda m: m.Embedding(7, 3, padding_idx=2, scale_grad_by_freq=True))
    indices = RNG.integers(0, 7, (4, 5))
    indices[0, :3] = 2
    _run_both(ours, theirs, indices, backend, integer=True)


@pytest.mark.parametrize(
    ("build", "shape"),
    [
        (lambda m: m.BatchNorm1d(3), (6, 3)),
        (lambda m: m.BatchNorm1d(3, momentum=None), (5, 3, 4)),
        (lambda m: m.BatchNorm2d(3, affine=False), (4, 3, 2, 5)),
        (lambda m: m.BatchNorm2d(3, track_running_stats=False, bias=False), (4, 3, 2, 2)),
    ],
    ids=["1d", "1d_cumulative", "2d_no_affine", "2d_untracked"],
)
def test_batch_norm_trains_and_evaluates_as_pytorchs(
    build: Callable[[Any], Any], shape: tuple[int, ...], backend: Any, mode: Any
) -> None:
    ours, theirs = _both(build)
    for _ in range(3):  # the running statistics move with each training batch
        ours.zero_grad()
        theirs.zero_grad()
        _run_both(ours, theirs, RNG.standard_normal(shape), backend)
    for (name, mine), (_, expected) in zip(
        ours.state_dict().items(), theirs.state_dict().items(), strict=True
    ):
        assert_close(mine.numpy(), values(expected), TOL, TOL, name)
    ours.eval()
    theirs.eval()
    _run_both(ours, theirs, RNG.standard_normal(shape), backend)


def test_batch_norm_rejects_inputs_of_the_wrong_rank(backend: Any) -> None:
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(make_tensor(backend, np.ones((2, 3, 4))))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(make_tensor(backend, np.ones((2, 3, 4, 5))))


def test_max_pool_layer_returns_indices_when_asked(backend: Any) -> None:
    _, indices = nn.MaxPool2d(2, return_indices=True)(
        make_tensor(backend, np.arange(16.0).reshape(1, 1, 4, 4))
    )
    assert indices.tolist() == [[[[5, 7], [13, 15]]]]


def test_conv_layer_rejects_bad_options() -> None:
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 6, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="strided"):
        nn.Conv1d(3, 6, 3, stride=2, padding="same")


def test_unflatten_rejects_sizes_that_do_not_split_the_axis(backend: Any) -> None:
    with pytest.raises(ValueError, match="do not split axis"):
        nn.Unflatten(1, (4, 2))(make_tensor(backend, np.ones((2, 6))))


# --- losses --------------------------------------------------------------------------------------
def _loss_inputs(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "NLLLoss":
        return np.log(RNG.dirichlet(np.ones(4), 5)), np.array([0, 3, 1, 1, 2])
    if name == "BCELoss":
        return RNG.uniform(0.05, 0.95, (5, 3)), RNG.integers(0, 2, (5, 3)).astype(float)
    if name == "KLDivLoss":
        return np.log(RNG.dirichlet(np.ones(4), 5)), RNG.dirichlet(np.ones(4), 5)
    return RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3))


LOSSES: dict[str, Callable[[Any, Any], Any]] = {
    "NLLLoss": lambda m, lib: m.NLLLoss(weight=lib.tensor([0.5, 1.0, 2.0, 1.5]), ignore_index=1),
    "NLLLoss-sum": lambda m, lib: m.NLLLoss(reduction="sum"),
    "BCELoss": lambda m, lib: m.BCELoss(weight=lib.tensor([1.0, 2.0, 0.5])),
    "BCEWithLogitsLoss": lambda m, lib: m.BCEWithLogitsLoss(
        pos_weight=lib.tensor([1.0, 3.0, 0.5])
    ),
    "L1Loss": lambda m, lib: m.L1Loss(reduction="sum"),
    "SmoothL1Loss": lambda m, lib: m.SmoothL1Loss(beta=0.5),
    "HuberLoss": lambda m, lib: m.HuberLoss(delta=0.5, reduction="none"),
    "KLDivLoss": lambda m, lib: m.KLDivLoss(reduction="batchmean", log_target=False),
    "L1Loss-legacy": lambda m, lib: m.L1Loss(size_average=False),
}


@pytest.mark.parametrize("name", LOSSES)
def test_loss_layer_matches_pytorch(name: str, backend: Any) -> None:
    torch = torch_or_skip()
    kind = name.split("-")[0]
    x, target = _loss_inputs(kind)
    if kind == "BCEWithLogitsLoss":
        target = RNG.integers(0, 2, x.shape).astype(float)
    ours_loss = LOSSES[name](nn, dualgrad)
    theirs_loss = LOSSES[name](torch.nn, torch)
    integer = kind == "NLLLoss"
    ours_x = make_tensor(backend, x, requires_grad=True)
    theirs_x = torch.from_numpy(x.copy()).requires_grad_()
    ours_t = make_tensor(backend, target, "int64" if integer else "float64")
    theirs_t = torch.from_numpy(target.copy())
    ours_loss.to(dualgrad.float64)
    theirs_loss.double()
    out, expected = ours_loss(ours_x, ours_t), theirs_loss(theirs_x, theirs_t)
    assert_close(out.detach().numpy(), values(expected), TOL, TOL, "loss")
    u = RNG.standard_normal(tuple(expected.shape))
    out.backward(make_tensor(backend, u))
    expected.backward(torch.from_numpy(u))
    assert_close(ours_x.grad.numpy(), values(theirs_x.grad), TOL, TOL, "grad")
    assert list(ours_loss.state_dict()) == list(theirs_loss.state_dict())


def test_loss_layers_reject_unknown_reductions() -> None:
    for layer in (nn.NLLLoss, nn.BCELoss, nn.BCEWithLogitsLoss, nn.L1Loss, nn.SmoothL1Loss):
        with pytest.raises(ValueError, match="not a valid value for reduction"):
            layer(reduction="average")
    with pytest.raises(ValueError, match="batchmean"):
        nn.KLDivLoss(reduction="average")


# --- a small CNN, trained side by side ----------------------------------------------------------
def _cnn(m: Any) -> Any:
    return m.Sequential(
        m.Conv2d(1, 3, 3, padding=1),
        m.BatchNorm2d(3),
        m.ReLU(),
        m.MaxPool2d(2),
        m.Conv2d(3, 4, 2),
        m.AdaptiveAvgPool2d(1),
        m.Flatten(),
        m.Linear(4, 3),
    )


def test_small_cnn_trains_as_pytorchs(backend: Any, mode: Any) -> None:
    torch = torch_or_skip()
    ours, theirs = _both(_cnn)
    images, labels = RNG.standard_normal((8, 1, 6, 6)), RNG.integers(0, 3, 8)
    ours_opt = dualgrad.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    theirs_opt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    x, y = make_tensor(backend, images), make_tensor(backend, labels, "int64")
    tx, ty = torch.from_numpy(images), torch.from_numpy(labels)
    for step in range(4):
        for model, opt, inputs, targets, lib in (
            (ours, ours_opt, x, y, dualgrad),
            (theirs, theirs_opt, tx, ty, torch),
        ):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(inputs), targets)
            loss.backward()
            opt.step()
        for (name, mine), (_, expected) in zip(
            ours.state_dict().items(), theirs.state_dict().items(), strict=True
        ):
            assert_close(mine.numpy(), values(expected), 1e-9, 1e-9, f"step {step}: {name}")
