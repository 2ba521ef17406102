"""dualgrad.nn.functional against PyTorch (values and gradients in float64), at extreme logits,
and through both modes; dropout's statistics and seeding; erf's NumPy fallback."""

from __future__ import annotations

import builtins
import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from rule_checks import make_tensor
from tensors import assert_close
from torch_compare import TIGHT, compare, torch_or_skip

import dualgrad
import dualgrad.nn.functional as F
from dualgrad.backends._base import _numpy_erf
from dualgrad.testing import check_modes, gradcheck


@pytest.fixture
def numpy_backend() -> Any:
    """The NumPy backend, for the grids of options."""
    with dualgrad.use_backend("numpy") as active:
        yield active


def _points(*shape: int, seed: int = 0) -> np.ndarray:
    """Random values with exact zeros and +-1 among them (kinks of relu, elu, huber)."""
    values = np.random.default_rng(seed).uniform(-3.0, 3.0, shape)
    flat = values.reshape(-1)
    flat[: min(3, flat.size)] = [0.0, 1.0, -1.0][: min(3, flat.size)]
    return values


# --- activations ----------------------------------------------------------------------------
def _activations(module: Any) -> dict[str, Callable[[Any], Any]]:
    f = module.nn.functional
    return {
        "relu": f.relu,
        "leaky_relu": lambda x: f.leaky_relu(x, 0.2),
        "elu": f.elu,
        "elu_alpha": lambda x: f.elu(x, alpha=0.7),
        "gelu": f.gelu,
        "gelu_tanh": lambda x: f.gelu(x, approximate="tanh"),
        "silu": f.silu,
        "softplus": f.softplus,
        "softplus_beta": lambda x: f.softplus(x, beta=2.0, threshold=3.0),
        "sigmoid": f.sigmoid,
        "logsigmoid": f.logsigmoid,
        "tanh": f.tanh,
        "softmax": lambda x: f.softmax(x, dim=-1),
        "log_softmax": lambda x: f.log_softmax(x, dim=0),
    }


ACTIVATIONS = list(_activations(dualgrad))


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_pytorch(name: str, backend: Any) -> None:
    torch = torch_or_skip()
    compare(backend, _activations(dualgrad)[name], _activations(torch)[name], [_points(3, 5)])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_is_finite_at_extreme_logits(name: str, backend: Any) -> None:
    torch = torch_or_skip()
    extremes = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]])
    compare(backend, _activations(dualgrad)[name], _activations(torch)[name], [extremes])
    x = make_tensor(backend, extremes, requires_grad=True)
    out = _activations(dualgrad)[name](x)
    out.sum().backward()
    assert np.isfinite(out.detach().numpy()).all()
    assert np.isfinite(x.grad.numpy()).all()


def test_relu_gradient_is_zero_at_zero(backend: Any) -> None:
    x = make_tensor(backend, [0.0, 0.0], requires_grad=True)
    F.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_elu_negative_side_is_accurate_near_zero(backend: Any) -> None:
    x = make_tensor(backend, [-1e-10, -1e-300])
    np.testing.assert_allclose(F.elu(x).numpy(), np.expm1([-1e-10, -1e-300]), rtol=1e-15)


def test_softmax_without_dim_warns_and_picks_pytorchs_axis(backend: Any) -> None:
    x = make_tensor(backend, _points(2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = F.softmax(x)
    np.testing.assert_allclose(out.numpy().sum(axis=1), 1.0, rtol=1e-15)


def test_softmax_dtype_converts_first(backend: Any) -> None:
    x = make_tensor(backend, _points(2, 3), "float32")
    assert F.log_softmax(x, 1, dtype=dualgrad.float64).dtype is dualgrad.float64


def test_activation_rejects_integer_input(backend: Any) -> None:
    with pytest.raises(TypeError, match="floating point"):
        F.softplus(make_tensor(backend, [1, 2], "int64"))


def test_gelu_rejects_unknown_approximation(backend: Any) -> None:
    with pytest.raises(ValueError, match="'tanh'"):
        F.gelu(make_tensor(backend, [1.0]), approximate="fast")


# --- erf ------------------------------------------------------------------------------------
def test_erf_matches_pytorch(backend: Any) -> None:
    torch = torch_or_skip()
    compare(backend, dualgrad.erf, torch.erf, [_points(4, 3) * 2.0])


def test_erf_computes_integers_in_default_float(backend: Any) -> None:
    out = dualgrad.erf(make_tensor(backend, [0, 1], "int64"))
    assert out.dtype is dualgrad.get_default_dtype()


def test_erf_falls_back_to_math_erf_without_scipy(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_scipy(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("scipy"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    values = np.array([[-2.5, 0.0], [0.3, 7.0]], dtype=np.float32)
    out = _numpy_erf(values)
    expected = np.array([[math.erf(v) for v in row] for row in values.tolist()], np.float32)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)
    assert _numpy_erf(np.zeros((2, 0))).shape == (2, 0)
    assert _numpy_erf(np.asarray(1.0)).shape == ()


# --- linear ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_linear_matches_pytorch(bias: bool, backend: Any) -> None:
    torch = torch_or_skip()
    rng = np.random.default_rng(3)
    inputs = [rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)]
    if not bias:
        inputs = inputs[:2]
    compare(backend, F.linear, torch.nn.functional.linear, inputs, tuple(range(len(inputs))))


# --- regression losses ----------------------------------------------------------------------
REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "huber_loss_delta"])
def test_regression_loss_matches_pytorch(
    name: str, reduction: str, weighted: bool, numpy_backend: Any
) -> None:
    backend = numpy_backend
    torch = torch_or_skip()
    rng = np.random.default_rng(4)
    x, y = _points(3, 4), rng.uniform(-3.0, 3.0, (3, 4))
    y[0, 0] = x[0, 0]  # a tie: gradient 0 for l1
    inputs = [x, y] + ([rng.uniform(0.1, 2.0, (3, 4))] if weighted else [])
    options: dict[str, Any] = {"reduction": reduction}
    function = name
    if name == "huber_loss_delta":
        function, options["delta"] = "huber_loss", 0.5

    def call(module: Any) -> Callable[..., Any]:
        def run(x: Any, y: Any, w: Any = None) -> Any:
            return getattr(module.nn.functional, function)(x, y, weight=w, **options)

        return run

    compare(backend, call(dualgrad), call(torch), inputs, (0, 1))


def test_invalid_reduction_raises(backend: Any) -> None:
    x = make_tensor(backend, [1.0])
    with pytest.raises(ValueError, match="'average' is not a valid value for reduction"):
        F.mse_loss(x, x, reduction="average")


def test_legacy_size_average_and_reduce(backend: Any) -> None:
    x, y = make_tensor(backend, [1.0, 3.0]), make_tensor(backend, [0.0, 0.0])
    assert F.l1_loss(x, y, size_average=False).item() == 4.0
    assert F.l1_loss(x, y, reduce=False).tolist() == [1.0, 3.0]


# --- nll_loss and cross_entropy: class indices ----------------------------------------------
# (input shape, target with one ignored entry at index 1 where it applies)
CLASS_SHAPES = {
    "NC": ((4, 5), np.array([2, 1, 0, 4])),
    "NCd": ((3, 4, 2), np.array([[0, 3], [1, 1], [2, 3]])),
    "C": ((5,), np.array(3)),
}
# Every option against PyTorch on NumPy (the functions compose primitives that test_rules
# checks on every backend); a sample of them on every backend.
INDEX_OPTIONS = [
    options
    for options in itertools.product(
        CLASS_SHAPES, [False, True], REDUCTIONS, [-100, 1], [0.0, 0.3]
    )
    if options[0] == "NC" or options[2] != "sum"
]
INDEX_SAMPLE = [("NCd", True, "mean", 1, 0.3), ("C", False, "none", -100, 0.0)]


def _index_id(options: tuple[Any, ...]) -> str:
    shape, weighted, reduction, ignore_index, smoothing = options
    return f"{shape}-{'w' if weighted else 'nw'}-{reduction}-ign{ignore_index}-ls{smoothing}"


def _class_inputs(shape: str, weighted: bool, scale: float = 3.0) -> list[np.ndarray]:
    input_shape, target = CLASS_SHAPES[shape]
    rng = np.random.default_rng(5)
    classes = input_shape[0 if len(input_shape) == 1 else 1]
    logits = rng.uniform(-scale, scale, input_shape)
    return [logits, target.copy()] + ([rng.uniform(0.2, 2.0, classes)] if weighted else [])


@pytest.mark.parametrize("options", INDEX_OPTIONS, ids=_index_id)
def test_cross_entropy_with_class_indices_matches_pytorch(
    options: tuple[Any, ...], numpy_backend: Any
) -> None:
    _check_cross_entropy_with_class_indices(options, numpy_backend)


@pytest.mark.parametrize("options", INDEX_SAMPLE, ids=_index_id)
def test_cross_entropy_with_class_indices_on_every_backend(
    options: tuple[Any, ...], backend: Any
) -> None:
    _check_cross_entropy_with_class_indices(options, backend)


def _check_cross_entropy_with_class_indices(options: tuple[Any, ...], backend: Any) -> None:
    shape, weighted, reduction, ignore_index, smoothing = options

    def call(module: Any) -> Callable[..., Any]:
        def run(x: Any, t: Any, w: Any = None) -> Any:
            return module.nn.functional.cross_entropy(
                x,
                t,
                weight=w,
                ignore_index=ignore_index,
                reduction=reduction,
                label_smoothing=smoothing,
            )

        return run

    compare(backend, call(dualgrad), call(torch_or_skip()), _class_inputs(shape, weighted))


@pytest.mark.parametrize(
    "options", [o for o in INDEX_OPTIONS if o[4] == 0.0], ids=lambda o: _index_id(o)[:-6]
)
def test_nll_loss_matches_pytorch(options: tuple[Any, ...], numpy_backend: Any) -> None:
    backend = numpy_backend
    shape, weighted, reduction, ignore_index, _ = options

    def call(module: Any) -> Callable[..., Any]:
        def run(x: Any, t: Any, w: Any = None) -> Any:
            return module.nn.functional.nll_loss(
                x, t, weight=w, ignore_index=ignore_index, reduction=reduction
            )

        return run

    compare(backend, call(dualgrad), call(torch_or_skip()), _class_inputs(shape, weighted))


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_mean_is_nan_when_every_target_is_ignored(
    smoothing: float, backend: Any
) -> None:
    x = make_tensor(backend, np.zeros((2, 3)))
    t = make_tensor(backend, [-100, -100], "int64")
    with np.errstate(invalid="ignore"):  # 0 / 0, as in PyTorch
        loss = F.cross_entropy(x, t, label_smoothing=smoothing)
    assert math.isnan(loss.item())


def test_cross_entropy_rejects_out_of_range_targets(backend: Any) -> None:
    x = make_tensor(backend, np.zeros((2, 3)))
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F.cross_entropy(x, make_tensor(backend, [0, 7], "int64"))


def test_cross_entropy_rejects_bad_label_smoothing(backend: Any) -> None:
    x = make_tensor(backend, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, make_tensor(backend, [0, 1], "int64"), label_smoothing=1.5)


def test_nll_loss_rejects_float_class_indices(backend: Any) -> None:
    x = make_tensor(backend, np.zeros((2, 3)))
    with pytest.raises(TypeError, match="integers"):
        F.nll_loss(x, make_tensor(backend, [0.0, 1.0]))


# --- cross_entropy: class probabilities -----------------------------------------------------
PROBABILITY_OPTIONS = list(
    itertools.product(["NC", "NCd", "C"], [False, True], REDUCTIONS, [0.0, 0.2])
)


@pytest.mark.parametrize(
    "options", PROBABILITY_OPTIONS, ids=lambda o: "-".join(map(str, o)).replace("True", "w")
)
def test_cross_entropy_with_class_probabilities_matches_pytorch(
    options: tuple[Any, ...], numpy_backend: Any
) -> None:
    backend = numpy_backend
    shape, weighted, reduction, smoothing = options
    inputs = _class_inputs(shape, weighted)
    rng = np.random.default_rng(6)
    axis = 0 if inputs[0].ndim == 1 else 1
    raw = rng.uniform(0.0, 1.0, inputs[0].shape)
    inputs[1] = raw / raw.sum(axis=axis, keepdims=True)

    def call(module: Any) -> Callable[..., Any]:
        def run(x: Any, p: Any, w: Any = None) -> Any:
            return module.nn.functional.cross_entropy(
                x, p, weight=w, reduction=reduction, label_smoothing=smoothing
            )

        return run

    # PyTorch differentiates the probabilities too.
    compare(backend, call(dualgrad), call(torch_or_skip()), inputs, (0, 1))


def test_cross_entropy_probabilities_reject_ignore_index(backend: Any) -> None:
    x = make_tensor(backend, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="ignore_index"):
        F.cross_entropy(x, make_tensor(backend, np.full((2, 3), 1 / 3)), ignore_index=0)


# --- binary losses --------------------------------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_pytorch(
    reduction: str, weighted: bool, backend: Any
) -> None:
    rng = np.random.default_rng(7)
    inputs = [rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0.0, 1.0, (3, 4))]
    if weighted:
        inputs.append(rng.uniform(0.2, 2.0, (3, 4)))

    def call(module: Any) -> Callable[..., Any]:
        def run(x: Any, y: Any, w: Any = None) -> Any:
            return module.nn.functional.binary_cross_entropy(x, y, weight=w, reduction=reduction)

        return run

    compare(backend, call(dualgrad), call(torch_or_skip()), inputs, (0, 1))


def test_binary_cross_entropy_clamps_log_at_minus_100(backend: Any) -> None:
    torch = torch_or_skip()
    x, y = np.array([0.0, 1.0, 1e-50, 0.5]), np.array([1.0, 0.0, 1.0, 0.5])
    ours = F.binary_cross_entropy(
        make_tensor(backend, x), make_tensor(backend, y), reduction="none"
    )
    theirs = torch.nn.functional.binary_cross_entropy(
        torch.from_numpy(x), torch.from_numpy(y), reduction="none"
    )
    assert_close(ours, theirs, TIGHT, TIGHT, "value")
    leaf = make_tensor(backend, x, requires_grad=True)
    F.binary_cross_entropy(leaf, make_tensor(backend, y)).backward()
    assert np.isfinite(leaf.grad.numpy()).all()


def test_binary_cross_entropy_rejects_inputs_outside_unit_interval(backend: Any) -> None:
    x = make_tensor(backend, [1.5])
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(x, make_tensor(backend, [1.0]))


@pytest.mark.parametrize(
    ("scale", "reduction", "weighted", "pos_weight"),
    [
        (3.0, "mean", False, False),
        (3.0, "sum", True, False),
        (3.0, "none", False, True),
        (3.0, "mean", True, True),
        (1000.0, "mean", True, True),
        (1000.0, "none", False, False),
    ],
)
def test_binary_cross_entropy_with_logits_matches_pytorch(
    scale: float, reduction: str, weighted: bool, pos_weight: bool, backend: Any
) -> None:
    rng = np.random.default_rng(8)
    logits = rng.uniform(-1.0, 1.0, (3, 4)) * scale
    inputs = [logits, rng.uniform(0.0, 1.0, (3, 4)), rng.uniform(0.2, 2.0, (3, 4))]
    inputs.append(rng.uniform(0.5, 3.0, (4,)))

    def call(module: Any) -> Callable[..., Any]:
        def run(x: Any, y: Any, w: Any, pw: Any) -> Any:
            return module.nn.functional.binary_cross_entropy_with_logits(
                x,
                y,
                weight=w if weighted else None,
                pos_weight=pw if pos_weight else None,
                reduction=reduction,
            )

        return run

    compare(backend, call(dualgrad), call(torch_or_skip()), inputs, (0, 1))


# --- extreme logits: every loss stays finite ------------------------------------------------
EXTREME_LOGITS = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]])
EXTREME_LOSSES: dict[str, Callable[[Any, Any], Any]] = {
    "cross_entropy": lambda m, x: m.nn.functional.cross_entropy(x, _targets(m, x)),
    "cross_entropy_smoothed": lambda m, x: m.nn.functional.cross_entropy(
        x, _targets(m, x), label_smoothing=0.1
    ),
    "cross_entropy_probabilities": lambda m, x: m.nn.functional.cross_entropy(
        x, m.nn.functional.softmax(x * 0.001, dim=1).detach()
    ),
    "nll_log_softmax": lambda m, x: m.nn.functional.nll_loss(
        m.nn.functional.log_softmax(x, dim=1), _targets(m, x)
    ),
    "bce_with_logits": lambda m, x: m.nn.functional.binary_cross_entropy_with_logits(
        x, x.detach() * 0.0 + 0.25
    ),
    "bce_of_sigmoid": lambda m, x: m.nn.functional.binary_cross_entropy(
        m.nn.functional.sigmoid(x), x.detach() * 0.0 + 0.25
    ),
}


def _targets(module: Any, x: Any) -> Any:
    # The least likely classes: the largest losses.
    values = [1, 0]
    if module is dualgrad:
        return make_tensor(x._backend, values, "int64")
    return module.tensor(values)


@pytest.mark.parametrize("name", EXTREME_LOSSES)
def test_loss_is_finite_at_extreme_logits(name: str, backend: Any) -> None:
    torch = torch_or_skip()
    loss = EXTREME_LOSSES[name]
    x = make_tensor(backend, EXTREME_LOGITS, requires_grad=True)
    out = loss(dualgrad, x)
    out.backward()
    assert np.isfinite(out.item())
    assert np.isfinite(x.grad.numpy()).all()
    if name != "bce_of_sigmoid":  # PyTorch's own gradient there is (x - t) / 1e-12
        compare(backend, lambda x: loss(dualgrad, x), lambda x: loss(torch, x), [EXTREME_LOGITS])


# --- dropout --------------------------------------------------------------------------------
def test_dropout_zeroes_a_fraction_p_and_scales_the_rest(backend: Any) -> None:
    dualgrad.manual_seed(0)
    p, n = 0.3, 200_000
    out = F.dropout(make_tensor(backend, np.ones(n)), p=p).numpy()
    dropped = np.mean(out == 0.0)
    # binomial standard deviation sqrt(p (1 - p) / n) ~ 0.001: 5 of them
    assert abs(dropped - p) < 5 * math.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(out[out != 0.0], 1.0 / (1.0 - p), rtol=1e-15)
    assert abs(out.mean() - 1.0) < 0.01  # the expectation is kept


def test_dropout_repeats_under_manual_seed(backend: Any) -> None:
    x = make_tensor(backend, np.ones((50, 40)))
    dualgrad.manual_seed(123)
    first, second = F.dropout(x).numpy(), F.dropout(x).numpy()
    dualgrad.manual_seed(123)
    np.testing.assert_array_equal(F.dropout(x).numpy(), first)
    assert not np.array_equal(first, second)


def test_dropout_gradient_is_the_scaled_mask(backend: Any) -> None:
    dualgrad.manual_seed(1)
    x = make_tensor(backend, np.random.default_rng(0).standard_normal((6, 7)), requires_grad=True)
    out = F.dropout(x, p=0.4)
    out.sum().backward()
    kept = out.detach().numpy() != 0.0
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 1 / 0.6, 0.0), rtol=1e-15)


def test_dropout_is_the_identity_when_not_training_or_p_is_0(backend: Any) -> None:
    x = make_tensor(backend, [1.0, 2.0])
    assert F.dropout(x, training=False) is x
    assert F.dropout(x, p=0.0) is x
    assert F.dropout(x, p=1.0).tolist() == [0.0, 0.0]


def test_dropout_rejects_p_outside_unit_interval(backend: Any) -> None:
    with pytest.raises(ValueError, match=r"between 0 and 1, but got 1\.5"):
        F.dropout(make_tensor(backend, [1.0]), p=1.5)


# --- compositions: gradcheck and both modes -------------------------------------------------
COMPOSITIONS: dict[str, Callable[..., Any]] = {
    "mlp_cross_entropy": lambda x, w, b: F.cross_entropy(
        F.linear(F.gelu(x), w, b), dualgrad.tensor([0, 2, 1])
    ),
    "activations": lambda x, w, b: (
        (F.elu(x) * F.silu(x) + F.leaky_relu(x) - F.relu(x) + F.gelu(x, approximate="tanh")).sum()
        + (F.softplus(w, beta=2.0) * F.logsigmoid(w)).sum()
    ),
    "softmax_attention": lambda x, w, b: F.softmax(x @ w.T, dim=-1) @ w + b[:4],
    "bce_with_logits": lambda x, w, b: F.binary_cross_entropy_with_logits(
        F.linear(x, w), F.sigmoid(F.linear(x, w) * 0.5), pos_weight=F.softplus(b)
    ),
    "smoothed_cross_entropy": lambda x, w, b: F.cross_entropy(
        F.linear(x, w, b), F.softmax(F.linear(x, w), dim=1), label_smoothing=0.1
    ),
    "regression": lambda x, w, b: (
        F.huber_loss(F.linear(x, w, b), F.tanh(F.linear(x, w)) * 3.0)
        + F.mse_loss(x, F.log_softmax(x, dim=0))
        + dualgrad.erf(x).sum()
    ),
}


def _composition_inputs(backend: Any) -> list[dualgrad.Tensor]:
    rng = np.random.default_rng(9)
    shapes = ((3, 4), (5, 4), (5,))
    return [
        make_tensor(backend, rng.uniform(-1.5, 1.5, shape), requires_grad=True) for shape in shapes
    ]


@pytest.mark.parametrize("name", COMPOSITIONS)
def test_composition_gradcheck(name: str, backend: Any) -> None:
    assert gradcheck(COMPOSITIONS[name], _composition_inputs(backend), atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("name", COMPOSITIONS)
def test_composition_modes_agree(name: str, backend: Any) -> None:
    check_modes(COMPOSITIONS[name], *_composition_inputs(backend))


def test_losses_compile_under_jit() -> None:
    """The target checks step aside while dualgrad.jit traces (values are abstract there)."""
    pytest.importorskip("jax")
    with dualgrad.use_backend("jax") as jax_backend:
        rng = np.random.default_rng(10)
        w = make_tensor(jax_backend, rng.standard_normal((3, 4)), requires_grad=True)
        x = make_tensor(jax_backend, rng.standard_normal((5, 4)))
        t = make_tensor(jax_backend, [0, 1, 2, 1, 0], "int64")
        optimizer = dualgrad.optim.SGD([w], lr=0.1)

        def step(x: Any, t: Any) -> Any:
            optimizer.zero_grad()
            probabilities = F.sigmoid(F.linear(x, w))
            loss = F.cross_entropy(F.linear(x, w), t) + F.binary_cross_entropy(
                probabilities, probabilities.detach() * 0.0 + 0.5
            )
            loss.backward()
            optimizer.step()
            return loss

        compiled = dualgrad.jit(step)
        losses = [compiled(x, t).item() for _ in range(4)]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "silu"])
def test_inplace_activation_overwrites_and_keeps_gradients(name: str) -> None:
    activation = getattr(F, name)
    x = dualgrad.tensor([-1.5, -0.2, 0.3, 2.0], dtype=dualgrad.float64, requires_grad=True)
    expected = activation(x * 3)
    (expected_grad,) = dualgrad.autograd.grad(expected.sum(), x)
    h = x * 3
    out = activation(h, inplace=True)
    assert out is h
    np.testing.assert_allclose(h.detach().numpy(), expected.detach().numpy())
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected_grad.numpy())


def test_inplace_activation_on_a_leaf_that_requires_grad_raises() -> None:
    x = dualgrad.tensor([-1.0, 1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        F.relu(x, inplace=True)
