"""nn.functional's convolution, pooling, normalization, embedding, padding and the newer losses
against PyTorch (values and gradients in float64), on every backend and in both modes, and
their errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from rule_checks import make_tensor
from tensors import assert_close
from torch_compare import TIGHT, compare, torch_or_skip

import dualgrad
import dualgrad.nn.functional as F
from dualgrad.testing import check_modes

RNG = np.random.default_rng(11)
TOL = 1e-10  # im2col sums in another order than PyTorch's kernels


def _same(name: str, **options: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The function ``name`` with ``options``, on dualgrad and on PyTorch."""
    torch = torch_or_skip()
    ours = getattr(F, name)
    theirs = getattr(torch.nn.functional, name)
    return (lambda *a: ours(*a, **options)), (lambda *a: theirs(*a, **options))


# --- convolution ------------------------------------------------------------------------------
CONV2D = {
    "plain": ((2, 4, 7, 6), (3, 4, 3, 3), {}),
    "stride_padding": ((2, 4, 7, 6), (3, 4, 3, 2), {"stride": 2, "padding": 1}),
    "dilation_pairs": ((1, 4, 8, 7), (2, 4, 2, 3), {"dilation": (2, 1), "stride": (1, 2)}),
    "groups": ((2, 4, 6, 6), (6, 2, 3, 3), {"groups": 2, "padding": (1, 0)}),
    "same_even_kernel": ((2, 3, 5, 6), (2, 3, 4, 2), {"padding": "same"}),
    "valid": ((2, 3, 5, 6), (2, 3, 2, 2), {"padding": "valid"}),
    "unbatched": ((3, 5, 5), (2, 3, 3, 3), {"padding": 2}),
}


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("case", CONV2D)
def test_conv2d_matches_pytorch(case: str, bias: bool, backend: Any) -> None:
    x_shape, w_shape, options = CONV2D[case]
    inputs = [RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)]
    if bias:
        inputs.append(RNG.standard_normal(w_shape[0]))
    ours, theirs = _same("conv2d", **options)
    compare(backend, ours, theirs, inputs, tuple(range(len(inputs))), TOL)


CONV1D = {
    "plain": ((2, 3, 9), (4, 3, 3), {}),
    "stride_padding_dilation": ((2, 3, 9), (4, 3, 3), {"stride": 2, "padding": 2, "dilation": 2}),
    "groups": ((2, 4, 8), (2, 2, 2), {"groups": 2}),
    "same_even_kernel": ((2, 3, 7), (2, 3, 4), {"padding": "same", "dilation": 3}),
    "unbatched": ((3, 6), (2, 3, 2), {"stride": (2,), "padding": (1,)}),
}


@pytest.mark.parametrize("case", CONV1D)
def test_conv1d_matches_pytorch(case: str, backend: Any) -> None:
    x_shape, w_shape, options = CONV1D[case]
    inputs = [RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)]
    inputs.append(RNG.standard_normal(w_shape[0]))
    ours, theirs = _same("conv1d", **options)
    compare(backend, ours, theirs, inputs, (0, 1, 2), TOL)


@pytest.mark.parametrize("case", ["stride_padding", "groups"])
def test_conv2d_gradients_in_both_modes(case: str, backend: Any, mode: Any) -> None:
    x_shape, w_shape, options = CONV2D[case]
    inputs = [RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)]
    ours, theirs = _same("conv2d", **options)
    compare(backend, ours, theirs, inputs, (0, 1), TOL)


def test_conv2d_engines_agree(backend: Any) -> None:
    x = make_tensor(backend, RNG.standard_normal((1, 2, 4, 4)))
    w = make_tensor(backend, RNG.standard_normal((2, 2, 2, 2)))
    report = check_modes(lambda x, w: F.conv2d(x, w, stride=2, padding=1), x, w)
    assert report.largest_difference < 1e-12


def test_conv2d_matches_pytorch_in_float32(backend: Any) -> None:
    x = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
    ours, theirs = _same("conv2d", padding=1)
    compare(backend, ours, theirs, [x, w], (0, 1), 1e-5)


CONV_ERRORS = [
    ((1, 3, 5, 5), (2, 2, 3, 3), {}, ValueError, "does not fit an input with 3 channels"),
    ((1, 4, 5, 5), (3, 2, 3, 3), {"groups": 2}, ValueError, "divisible by 2"),
    ((5, 5), (2, 1, 3, 3), {}, ValueError, "3-d .* or 4-d"),
    ((1, 1, 2, 2), (1, 1, 3, 3), {}, ValueError, "holds no patch"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": "same", "stride": 2}, ValueError, "strided"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"padding": "full"}, ValueError, "'valid', 'same'"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"stride": 0}, ValueError, "stride must be at least 1"),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "options", "error", "match"), CONV_ERRORS)
def test_conv2d_rejects_what_does_not_fit(
    x_shape: Any, w_shape: Any, options: Any, error: Any, match: str, backend: Any
) -> None:
    x = make_tensor(backend, np.ones(x_shape))
    w = make_tensor(backend, np.ones(w_shape))
    with pytest.raises(error, match=match):
        F.conv2d(x, w, **options)


def test_conv2d_rejects_mixed_dtypes(backend: Any) -> None:
    x = make_tensor(backend, np.ones((1, 1, 3, 3)), "float32")
    w = make_tensor(backend, np.ones((1, 1, 2, 2)))
    with pytest.raises(TypeError, match="share one dtype"):
        F.conv2d(x, w)


# --- unfold, fold, pad ------------------------------------------------------------------------
def test_unfold_and_fold_match_pytorch(backend: Any) -> None:
    options = {"kernel_size": (2, 3), "dilation": (1, 2), "padding": 1, "stride": (2, 1)}
    ours, theirs = _same("unfold", **options)
    compare(backend, ours, theirs, [RNG.standard_normal((2, 3, 6, 7))])
    columns = RNG.standard_normal((2, 3 * 6, 4 * 5))
    ours, theirs = _same("fold", output_size=(6, 7), **options)
    compare(backend, ours, theirs, [columns])


def test_fold_rejects_columns_of_the_wrong_count(backend: Any) -> None:
    with pytest.raises(ValueError, match="has 2 \\* 2 = 4 patches, but the input has 5"):
        F.fold(make_tensor(backend, np.ones((1, 4, 5))), (3, 3), 2)


PADS = {
    "constant": ((2, 3, 4, 5), (1, 2, 2, 0), {"value": 1.5}),
    "constant_crop": ((2, 3, 4, 5), (-1, 2, 0, -2, 1, 1), {}),
    "reflect": ((2, 3, 4, 5), (3, 1, 2, 3), {"mode": "reflect"}),
    "replicate": ((2, 3, 5), (4, 2), {"mode": "replicate"}),
    "circular": ((1, 2, 3, 4, 5), (1, 2, 3, 0, 2, 2), {"mode": "circular"}),
}


@pytest.mark.parametrize("case", PADS)
def test_pad_matches_pytorch(case: str, backend: Any) -> None:
    shape, counts, options = PADS[case]
    ours, theirs = _same("pad", **options)
    compare(backend, lambda x: ours(x, counts), lambda x: theirs(x, counts), [RNG.random(shape)])


@pytest.mark.parametrize(
    ("shape", "counts", "mode", "match"),
    [
        ((2, 3), (1,), "constant", "even number"),
        ((2, 3), (1, 1, 1, 1, 1, 1), "constant", "3 axes to pad"),
        ((2, 3, 4), (4, 0), "reflect", "between 0 and 3"),
        ((2, 3, 4), (1, 1), "mirror", "unknown mode"),
        ((4,), (1, 1), "reflect", "channel axis"),
    ],
)
def test_pad_rejects_bad_counts_and_modes(
    shape: Any, counts: Any, mode: str, match: str, backend: Any
) -> None:
    with pytest.raises(ValueError, match=match):
        F.pad(make_tensor(backend, np.ones(shape)), counts, mode=mode)


# --- pooling ----------------------------------------------------------------------------------
MAX_POOLS = {
    "square": {"kernel_size": 2},
    "overlapping_padded": {"kernel_size": 3, "stride": 2, "padding": 1},
    "ceil_mode": {"kernel_size": (3, 2), "stride": 2, "ceil_mode": True},
    "dilated": {"kernel_size": 3, "dilation": 2, "padding": 1},
    "ceil_padding": {"kernel_size": 2, "stride": 3, "padding": 1, "ceil_mode": True},
}


def _pool_input() -> np.ndarray:
    x = RNG.standard_normal((2, 3, 9, 8))
    x[0, 0, :2, :2] = 0.5  # a tie: the gradient goes to the first, as in PyTorch
    x[1, 2, 4:6, 2:4] = -np.inf  # a window of -inf keeps them
    return x


@pytest.mark.parametrize("case", MAX_POOLS)
def test_max_pool2d_matches_pytorch(case: str, backend: Any) -> None:
    ours, theirs = _same("max_pool2d", **MAX_POOLS[case])
    compare(backend, ours, theirs, [_pool_input()])


@pytest.mark.parametrize("case", ["overlapping_padded", "ceil_padding", "dilated"])
def test_max_pool2d_indices_match_pytorch(case: str, backend: Any) -> None:
    torch = torch_or_skip()
    x = _pool_input()
    pooled, indices = F.max_pool2d(make_tensor(backend, x), **MAX_POOLS[case], return_indices=True)
    expected = torch.nn.functional.max_pool2d(
        torch.from_numpy(x), **MAX_POOLS[case], return_indices=True
    )
    assert_close(pooled, expected[0], TIGHT, TIGHT, "values")
    assert indices.dtype is dualgrad.int64
    np.testing.assert_array_equal(indices.numpy(), expected[1].numpy())


AVG_POOLS = {
    "square": {"kernel_size": 2},
    "padded": {"kernel_size": 3, "stride": 2, "padding": 1},
    "padded_excluded": {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    "ceil_mode": {"kernel_size": (3, 2), "stride": 2, "ceil_mode": True},
    "ceil_excluded": {
        "kernel_size": 3,
        "stride": 2,
        "padding": 1,
        "ceil_mode": True,
        "count_include_pad": False,
    },
    "divisor": {"kernel_size": 2, "divisor_override": 3},
}


@pytest.mark.parametrize("case", AVG_POOLS)
def test_avg_pool2d_matches_pytorch(case: str, backend: Any) -> None:
    ours, theirs = _same("avg_pool2d", **AVG_POOLS[case])
    compare(backend, ours, theirs, [RNG.standard_normal((2, 3, 9, 8))])


@pytest.mark.parametrize("size", [1, (3, 4), (5, 3), (None, 2), 7])
def test_adaptive_avg_pool2d_matches_pytorch(size: Any, backend: Any) -> None:
    ours, theirs = _same("adaptive_avg_pool2d", output_size=size)
    compare(backend, ours, theirs, [RNG.standard_normal((2, 3, 9, 8))])


def test_pooling_gradients_in_both_modes(backend: Any, mode: Any) -> None:
    x = RNG.standard_normal((1, 2, 5, 4))
    for name, options in [
        ("max_pool2d", MAX_POOLS["overlapping_padded"]),
        ("avg_pool2d", AVG_POOLS["ceil_excluded"]),
        ("adaptive_avg_pool2d", {"output_size": (3, 2)}),
    ]:
        ours, theirs = _same(name, **options)
        compare(backend, ours, theirs, [x])


@pytest.mark.parametrize(
    ("function", "options", "match"),
    [
        (F.max_pool2d, {"kernel_size": 2, "padding": 2}, "at most half"),
        (F.avg_pool2d, {"kernel_size": 10}, "too small"),
        (F.avg_pool2d, {"kernel_size": 2, "divisor_override": 0}, "non-zero"),
        (F.adaptive_avg_pool2d, {"output_size": (2, 2, 2)}, "an int or a pair"),
    ],
)
def test_pooling_rejects_bad_options(
    function: Callable[..., Any], options: Any, match: str, backend: Any
) -> None:
    with pytest.raises(ValueError, match=match):
        function(make_tensor(backend, np.ones((1, 1, 4, 4))), **options)


# --- normalization ----------------------------------------------------------------------------
def test_layer_norm_matches_pytorch(backend: Any, mode: Any) -> None:
    torch = torch_or_skip()
    inputs = [RNG.standard_normal((3, 4, 5)), RNG.standard_normal(5), RNG.standard_normal(5)]
    compare(
        backend,
        lambda x, w, b: F.layer_norm(x, (5,), w, b, eps=1e-3),
        lambda x, w, b: torch.nn.functional.layer_norm(x, (5,), w, b, eps=1e-3),
        inputs,
        (0, 1, 2),
    )


def test_layer_norm_over_two_axes_without_affine(backend: Any) -> None:
    ours, theirs = _same("layer_norm", normalized_shape=(4, 5))
    compare(backend, ours, theirs, [RNG.standard_normal((3, 4, 5))])


@pytest.mark.parametrize("shape", [(6, 3), (5, 3, 4), (4, 3, 2, 5)], ids=["NC", "NCL", "NCHW"])
def test_batch_norm_in_training_matches_pytorch_and_updates_running_stats(
    shape: tuple[int, ...], backend: Any, mode: Any
) -> None:
    torch = torch_or_skip()
    mean, var = RNG.standard_normal(3), RNG.uniform(0.5, 2.0, 3)
    ours_stats = [make_tensor(backend, mean), make_tensor(backend, var)]
    theirs_stats = [torch.from_numpy(mean.copy()), torch.from_numpy(var.copy())]
    inputs = [RNG.standard_normal(shape), RNG.standard_normal(3), RNG.standard_normal(3)]
    compare(
        backend,
        lambda x, w, b: F.batch_norm(x, *ours_stats, w, b, training=True, momentum=0.3),
        lambda x, w, b: torch.nn.functional.batch_norm(
            x, *theirs_stats, w, b, training=True, momentum=0.3
        ),
        inputs,
        (0, 1, 2),
    )
    for ours, theirs, what in zip(ours_stats, theirs_stats, ["mean", "var"], strict=True):
        assert_close(ours.numpy(), theirs.numpy(), TIGHT, TIGHT, f"running {what}")


def test_batch_norm_in_evaluation_matches_pytorch(backend: Any) -> None:
    torch = torch_or_skip()
    mean, var = RNG.standard_normal(3), RNG.uniform(0.5, 2.0, 3)
    compare(
        backend,
        lambda x, w, b, m, v: F.batch_norm(x, m, v, w, b),
        lambda x, w, b, m, v: torch.nn.functional.batch_norm(x, m, v, w, b),
        [
            RNG.standard_normal((4, 3, 2)),
            RNG.standard_normal(3),
            RNG.standard_normal(3),
            mean,
            var,
        ],
        (0, 1, 2),
    )


def test_batch_norm_needs_more_than_one_value_per_channel(backend: Any) -> None:
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(make_tensor(backend, np.ones((1, 3))), None, None, training=True)


def test_batch_norm_needs_running_stats_outside_training(backend: Any) -> None:
    with pytest.raises(ValueError, match="needed outside training"):
        F.batch_norm(make_tensor(backend, np.ones((2, 3))), None, None)


def test_layer_norm_rejects_a_shape_that_does_not_end_the_input(backend: Any) -> None:
    with pytest.raises(ValueError, match="trailing axes"):
        F.layer_norm(make_tensor(backend, np.ones((2, 3))), (2,))


# --- embedding --------------------------------------------------------------------------------
EMBEDDINGS = {
    "plain": {},
    "padding_idx": {"padding_idx": 2},
    "scale_grad_by_freq": {"scale_grad_by_freq": True},
    "both": {"padding_idx": -1, "scale_grad_by_freq": True},
}


def _indices() -> np.ndarray:
    indices = RNG.integers(0, 7, (4, 6))
    indices[0, :3] = 2  # repeats
    indices[1, 0] = 6
    return indices


@pytest.mark.parametrize("case", EMBEDDINGS)
def test_embedding_matches_pytorch(case: str, backend: Any, mode: Any) -> None:
    ours, theirs = _same("embedding", **EMBEDDINGS[case])
    compare(
        backend,
        lambda i, w: ours(i, w),
        lambda i, w: theirs(i, w),
        [_indices(), RNG.standard_normal((7, 3))],
        (1,),
    )


def test_embedding_max_norm_renormalizes_the_looked_up_rows_in_place(backend: Any) -> None:
    torch = torch_or_skip()
    weight, indices = 3.0 * RNG.standard_normal((7, 3)), _indices()
    ours = make_tensor(backend, weight)
    theirs = torch.from_numpy(weight.copy())
    out = F.embedding(make_tensor(backend, indices, "int64"), ours, max_norm=1.5, norm_type=1.0)
    expected = torch.nn.functional.embedding(
        torch.from_numpy(indices), theirs, max_norm=1.5, norm_type=1.0
    )
    assert_close(out.numpy(), expected.numpy(), TIGHT, TIGHT, "values")
    assert_close(ours.numpy(), theirs.numpy(), TIGHT, TIGHT, "renormalized weight")


def test_embedding_rejects_indices_out_of_range(backend: Any) -> None:
    weight = make_tensor(backend, np.ones((3, 2)))
    with pytest.raises(IndexError, match="index 3 is out of range for 3 embeddings"):
        F.embedding(make_tensor(backend, [0, 3], "int64"), weight)


def test_embedding_rejects_float_indices(backend: Any) -> None:
    weight = make_tensor(backend, np.ones((3, 2)))
    with pytest.raises(TypeError, match="indices must be integers"):
        F.embedding(make_tensor(backend, [0.0]), weight)


def test_embedding_sparse_warns_and_gives_the_dense_gradient(backend: Any) -> None:
    weight = make_tensor(backend, np.ones((3, 2)), requires_grad=True)
    with pytest.warns(UserWarning, match="dense"):
        F.embedding(make_tensor(backend, [1, 1], "int64"), weight, sparse=True).sum().backward()
    assert weight.grad.tolist() == [[0.0, 0.0], [2.0, 2.0], [0.0, 0.0]]


# --- smooth_l1_loss, kl_div ----------------------------------------------------------------------
@pytest.mark.parametrize("beta", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_smooth_l1_loss_matches_pytorch(reduction: str, beta: float, backend: Any) -> None:
    x, y = RNG.uniform(-2, 2, (3, 4)), RNG.uniform(-2, 2, (3, 4))
    y[0, 0] = x[0, 0] + beta  # at the switch
    ours, theirs = _same("smooth_l1_loss", reduction=reduction, beta=beta)
    compare(backend, ours, theirs, [x, y], (0, 1))


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none"])
def test_kl_div_matches_pytorch(reduction: str, log_target: bool, backend: Any) -> None:
    log_q = np.log(RNG.dirichlet(np.ones(5), 4))
    p = RNG.dirichlet(np.ones(5), 4)
    target = np.log(p) if log_target else p
    ours, theirs = _same("kl_div", reduction=reduction, log_target=log_target)
    compare(backend, ours, theirs, [log_q, target], (0, 1))


def test_kl_div_mean_warns_as_pytorch_does(backend: Any) -> None:
    x = make_tensor(backend, np.log(np.full((2, 2), 0.5)))
    with pytest.warns(UserWarning, match="'batchmean'"):
        loss = F.kl_div(x, make_tensor(backend, np.full((2, 2), 0.5)))
    assert loss.item() == 0.0


def test_kl_div_of_a_zero_target_is_zero(backend: Any) -> None:
    loss = F.kl_div(
        make_tensor(backend, [[-3.0, 0.0]]),
        make_tensor(backend, [[0.0, 1.0]]),
        reduction="none",
    )
    assert loss.tolist() == [[0.0, 0.0]]


def test_new_losses_reject_bad_options(backend: Any) -> None:
    x = make_tensor(backend, [1.0])
    with pytest.raises(ValueError, match="beta must be >= 0"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.kl_div(x, x, reduction="average")
