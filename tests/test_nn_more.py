"""Attention, the transformer encoder, GroupNorm, one_hot, normalize, cosine similarity and the
newer nn.init functions against PyTorch's: reprs, state dict keys, initialisation, outputs and
every gradient with the same weights (both modes), masks, errors, and an encoder trained side by
side."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from rule_checks import make_tensor
from tensors import assert_close, values
from torch_compare import compare, torch_or_skip

import dualgrad
import dualgrad.nn.functional as F
from dualgrad import nn

RNG = np.random.default_rng(7)
TOL = 1e-10


def _both(build: Callable[[Any], Any], dtype: str = "float64") -> tuple[Any, Any]:
    """The same module from dualgrad.nn and torch.nn, dualgrad's loaded with PyTorch's state
    dict (through NumPy), both in ``dtype``."""
    torch = torch_or_skip()
    theirs = build(torch.nn).to(getattr(torch, dtype))
    ours = build(nn).to(getattr(dualgrad, dtype))
    state = {k: dualgrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    return ours, theirs


def _run_both(
    ours: Any,
    theirs: Any,
    inputs: list[np.ndarray],
    backend: Any,
    kwargs: Callable[[Any], dict[str, Any]] = lambda lib: {},
    tol: float = TOL,
) -> None:
    """The output (the first of a pair) and the attention weights (the second, if any), the
    inputs' gradients and every parameter's gradient agree, for one random cotangent."""
    torch = torch_or_skip()
    dtype = str(inputs[0].dtype)
    ours_in = [make_tensor(backend, x, dtype, requires_grad=True) for x in inputs]
    theirs_in = [torch.from_numpy(x.copy()).requires_grad_() for x in inputs]
    out, expected = ours(*ours_in, **kwargs(dualgrad)), theirs(*theirs_in, **kwargs(torch))
    if isinstance(expected, tuple):
        (out, weights), (expected, expected_weights) = out, expected
        if expected_weights is None:
            assert weights is None
        else:
            assert_close(weights, expected_weights, tol, tol, "attention weights")
    assert_close(out, expected, tol, tol, "output")
    u = RNG.standard_normal(tuple(expected.shape)).astype(dtype)
    out.backward(make_tensor(backend, u, dtype))
    expected.backward(torch.from_numpy(u))
    for i, (mine, theirs_x) in enumerate(zip(ours_in, theirs_in, strict=True)):
        assert_close(mine.grad, theirs_x.grad, tol, tol, f"input {i} grad")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, theirs_params[name].grad, tol, tol, name)


def _bools(rows: list[list[int]]) -> np.ndarray:
    return np.array(rows, dtype=bool)


def _mask_on(lib: Any, mask: np.ndarray | None) -> Any:
    return None if mask is None else lib.from_numpy(mask.copy())


# --- reprs and state dict keys ----------------------------------------------------------------
BUILDS: dict[str, Callable[[Any], Any]] = {
    "groupnorm": lambda m: m.GroupNorm(2, 6),
    "groupnorm_options": lambda m: m.GroupNorm(3, 6, eps=1e-3, affine=False),
    "groupnorm_no_bias": lambda m: m.GroupNorm(1, 4, bias=False),
    "cosine": lambda m: m.CosineSimilarity(dim=0, eps=1e-6),
    "mha": lambda m: m.MultiheadAttention(8, 2),
    "mha_kdim_vdim": lambda m: m.MultiheadAttention(8, 4, kdim=3, vdim=5, add_bias_kv=True),
    "mha_no_bias": lambda m: m.MultiheadAttention(8, 2, bias=False, add_zero_attn=True),
    "encoder_layer": lambda m: m.TransformerEncoderLayer(8, 2, dim_feedforward=16),
    "encoder_layer_gelu_module": lambda m: m.TransformerEncoderLayer(
        8, 2, 16, activation=m.GELU(), norm_first=True, bias=False
    ),
    "encoder": lambda m: m.TransformerEncoder(
        m.TransformerEncoderLayer(8, 2, 16), 3, norm=m.LayerNorm(8), enable_nested_tensor=False
    ),
}


@pytest.mark.parametrize("name", BUILDS)
def test_repr_matches_pytorch(name: str) -> None:
    torch = torch_or_skip()
    assert repr(BUILDS[name](nn)) == repr(BUILDS[name](torch.nn))


@pytest.mark.parametrize("name", BUILDS)
def test_state_dict_keys_and_shapes_match_pytorch(name: str) -> None:
    torch = torch_or_skip()
    ours = {k: tuple(v.shape) for k, v in BUILDS[name](nn).state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in BUILDS[name](torch.nn).state_dict().items()}
    assert list(ours.items()) == list(theirs.items())


def test_default_feed_forward_width_and_attributes_match_pytorch() -> None:
    torch = torch_or_skip()
    ours, theirs = nn.TransformerEncoderLayer(4, 2), torch.nn.TransformerEncoderLayer(4, 2)
    assert repr(ours) == repr(theirs)
    assert ours.linear1.out_features == 2048 and ours.dropout.p == 0.1
    assert ours.activation is F.relu and not ours.norm_first
    attention = nn.MultiheadAttention(6, 3, kdim=2)
    assert (attention.head_dim, attention.kdim, attention.vdim) == (2, 2, 6)
    assert not attention._qkv_same_embed_dim and attention.in_proj_weight is None
    assert attention.bias_k is None and attention.bias_v is None


# --- initialisation ---------------------------------------------------------------------------
def test_multihead_attention_starts_as_pytorchs(backend: Any) -> None:
    dualgrad.manual_seed(0)
    attention = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    bound = math.sqrt(6.0 / (64 + 3 * 64))  # xavier_uniform_ of the (192, 64) in_proj_weight
    drawn = attention.in_proj_weight.detach().numpy()
    assert drawn.dtype == np.float32
    assert -bound <= drawn.min() < -0.9 * bound and 0.9 * bound < drawn.max() <= bound
    assert (attention.in_proj_bias.detach().numpy() == 0).all()
    assert (attention.out_proj.bias.detach().numpy() == 0).all()
    out_bound = 1 / math.sqrt(64)  # out_proj.weight keeps Linear's initialisation
    assert np.abs(attention.out_proj.weight.detach().numpy()).max() <= out_bound
    assert type(attention.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(attention.out_proj, nn.Linear)
    assert attention.bias_k.shape == (1, 1, 64) and attention.bias_k.detach().numpy().std() > 0
    assert attention.in_proj_weight.backend is backend


def test_encoder_layers_are_independent_copies(backend: Any) -> None:
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    encoder = nn.TransformerEncoder(layer, 2)
    first, second = encoder.layers[0], encoder.layers[1]
    assert first is not layer and first.linear1.weight is not second.linear1.weight
    assert_close(first.linear1.weight, layer.linear1.weight, 0, 0, "copied weight")
    with dualgrad.no_grad():
        first.linear1.weight.fill_(0.0)
    assert (second.linear1.weight.detach().numpy() != 0).any()
    assert len(list(encoder.parameters())) == 2 * len(list(layer.parameters()))


# --- layers against PyTorch with the same weights ---------------------------------------------
CAUSAL_BOOL = np.triu(np.ones((5, 5), dtype=bool), 1)  # nn's convention: True is masked out
CAUSAL_FLOAT = np.where(CAUSAL_BOOL, -np.inf, 0.0)
PADDING = _bools([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 1, 0, 0, 0]])
HEAD_MASK = RNG.standard_normal((6, 5, 4))  # (N * H, L, S), float: added to the scores


def _mha_kwargs(**options: Any) -> Callable[[Any], dict[str, Any]]:
    """Keyword arguments for both libraries, NumPy masks made tensors of each."""

    def kwargs(lib: Any) -> dict[str, Any]:
        return {
            k: lib.from_numpy(v.copy()) if isinstance(v, np.ndarray) else v
            for k, v in options.items()
        }

    return kwargs


SEQ, BATCH, SRC = (5, 3, 8), (3, 5, 8), (4, 3, 8)
MHA_CASES: dict[str, tuple[Callable[[Any], Any], list[tuple[int, ...]], Any]] = {
    "self": (lambda m: m.MultiheadAttention(8, 2), [SEQ] * 3, _mha_kwargs()),
    "batch_first_per_head": (
        lambda m: m.MultiheadAttention(8, 4, batch_first=True),
        [BATCH] * 3,
        _mha_kwargs(average_attn_weights=False),
    ),
    "cross_kdim_vdim": (
        lambda m: m.MultiheadAttention(8, 2, kdim=3, vdim=6),
        [SEQ, (4, 3, 3), (4, 3, 6)],
        _mha_kwargs(attn_mask=HEAD_MASK),
    ),
    "bool_masks": (
        lambda m: m.MultiheadAttention(8, 2),
        [SEQ] * 3,
        _mha_kwargs(attn_mask=CAUSAL_BOOL, key_padding_mask=PADDING),
    ),
    "float_causal_hint_no_weights": (
        lambda m: m.MultiheadAttention(8, 2, bias=False),
        [SEQ] * 3,
        _mha_kwargs(attn_mask=CAUSAL_FLOAT, need_weights=False, is_causal=True),
    ),
    "bias_kv_zero_attn": (
        lambda m: m.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True),
        [SEQ, SRC, SRC],
        _mha_kwargs(attn_mask=CAUSAL_BOOL[:, :4], key_padding_mask=PADDING[:, :4]),
    ),
    "unbatched": (
        lambda m: m.MultiheadAttention(8, 2),
        [(5, 8), (4, 8), (4, 8)],
        _mha_kwargs(key_padding_mask=_bools([[0, 0, 1, 0]]).ravel(), need_weights=False),
    ),
    "unbatched_head_mask": (
        lambda m: m.MultiheadAttention(8, 2),
        [(5, 8)] * 3,
        _mha_kwargs(attn_mask=RNG.standard_normal((2, 5, 5))),
    ),
}


@pytest.mark.parametrize("name", MHA_CASES)
def test_multihead_attention_matches_pytorch(name: str, backend: Any) -> None:
    build, shapes, kwargs = MHA_CASES[name]
    ours, theirs = _both(build)
    _run_both(ours, theirs, [RNG.standard_normal(s) for s in shapes], backend, kwargs)


@pytest.mark.parametrize("name", ["bool_masks", "bias_kv_zero_attn", "cross_kdim_vdim"])
def test_multihead_attention_gradients_in_both_modes(name: str, backend: Any, mode: Any) -> None:
    build, shapes, kwargs = MHA_CASES[name]
    ours, theirs = _both(build)
    _run_both(ours, theirs, [RNG.standard_normal(s) for s in shapes], backend, kwargs)


def test_multihead_attention_matches_pytorch_in_float32(backend: Any) -> None:
    ours, theirs = _both(lambda m: m.MultiheadAttention(8, 2, batch_first=True), "float32")
    x = RNG.standard_normal(BATCH).astype(np.float32)
    _run_both(ours, theirs, [x, x, x], backend, _mha_kwargs(key_padding_mask=PADDING), 1e-5)


def test_fully_padded_rows_give_pytorchs_nan_weights_or_zeros() -> None:
    torch = torch_or_skip()
    ours, theirs = _both(lambda m: m.MultiheadAttention(4, 2, batch_first=True))
    x = RNG.standard_normal((2, 3, 4))
    padding = _bools([[1, 1, 1], [0, 0, 1]])
    for need_weights in (True, False):
        out, weights = ours(*[dualgrad.tensor(x)] * 3, key_padding_mask=dualgrad.tensor(padding))
        expected, expected_weights = theirs(
            *[torch.from_numpy(x)] * 3, key_padding_mask=torch.from_numpy(padding)
        )
        if not need_weights:
            out, _ = ours(
                *[dualgrad.tensor(x)] * 3,
                key_padding_mask=dualgrad.tensor(padding),
                need_weights=False,
            )
            expected, _ = theirs(
                *[torch.from_numpy(x)] * 3,
                key_padding_mask=torch.from_numpy(padding),
                need_weights=False,
            )
        np.testing.assert_allclose(values(out), values(expected), TOL, TOL, equal_nan=True)
        if need_weights:
            assert np.isnan(values(weights)[0]).all()
            np.testing.assert_allclose(values(weights), values(expected_weights), TOL, TOL, True)
        else:
            assert (values(out)[0] == 0).all()  # out_proj.bias starts at 0


ENCODER_CASES: dict[str, tuple[Callable[[Any], Any], tuple[int, ...], Any]] = {
    "post_norm_causal": (
        lambda m: m.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
        SEQ,
        lambda lib: {"src_mask": _mask_on(lib, CAUSAL_FLOAT), "is_causal": True},
    ),
    "pre_norm_gelu_padding": (
        lambda m: m.TransformerEncoderLayer(
            8, 2, 16, dropout=0.0, activation="gelu", norm_first=True, batch_first=True
        ),
        BATCH,
        lambda lib: {"src_key_padding_mask": _mask_on(lib, PADDING)},
    ),
    "no_bias_module_activation": (
        lambda m: m.TransformerEncoderLayer(
            8, 4, 12, dropout=0.0, activation=m.SiLU(), bias=False, layer_norm_eps=1e-3
        ),
        SEQ,
        lambda lib: {},
    ),
    "encoder_with_norm": (
        lambda m: m.TransformerEncoder(
            m.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
            2,
            norm=m.LayerNorm(8),
            enable_nested_tensor=False,
        ),
        SEQ,
        lambda lib: {
            "mask": _mask_on(lib, CAUSAL_BOOL),
            "src_key_padding_mask": _mask_on(lib, PADDING),
        },
    ),
    "encoder_detects_causal_mask": (
        lambda m: m.TransformerEncoder(
            m.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
            2,
            enable_nested_tensor=False,
        ),
        BATCH,
        lambda lib: {"mask": _mask_on(lib, CAUSAL_FLOAT)},
    ),
}


@pytest.mark.parametrize("name", ENCODER_CASES)
def test_transformer_encoder_matches_pytorch(name: str, backend: Any) -> None:
    build, shape, kwargs = ENCODER_CASES[name]
    ours, theirs = _both(build)
    _run_both(ours, theirs, [RNG.standard_normal(shape)], backend, kwargs)


@pytest.mark.parametrize("name", ["pre_norm_gelu_padding", "encoder_with_norm"])
def test_transformer_encoder_gradients_in_both_modes(name: str, backend: Any, mode: Any) -> None:
    build, shape, kwargs = ENCODER_CASES[name]
    ours, theirs = _both(build)
    _run_both(ours, theirs, [RNG.standard_normal(shape)], backend, kwargs)


def test_transformer_encoder_matches_pytorch_in_float32_and_eval(backend: Any) -> None:
    build = ENCODER_CASES["encoder_with_norm"][0]
    ours, theirs = _both(lambda m: build(m).train(), "float32")
    ours.eval()
    theirs.eval()
    x = RNG.standard_normal(SEQ).astype(np.float32)
    _run_both(ours, theirs, [x], backend, ENCODER_CASES["encoder_with_norm"][2], 1e-5)


MEMORY_PADDING = _bools([[0, 0, 1, 1], [0, 0, 0, 0], [1, 0, 0, 0]])
MEMORY_MASK = np.triu(np.ones((5, 4), dtype=bool), 2)
DECODER_CASES: dict[str, tuple[Callable[[Any], Any], list[tuple[int, ...]], Any]] = {
    "decoder_layer_causal_memory_padding": (
        lambda m: m.TransformerDecoderLayer(8, 2, 16, dropout=0.0),
        [SEQ, SRC],
        lambda lib: {
            "tgt_mask": _mask_on(lib, CAUSAL_FLOAT),
            "tgt_is_causal": True,
            "memory_key_padding_mask": _mask_on(lib, MEMORY_PADDING),
        },
    ),
    "decoder_layer_pre_norm_gelu_batch_first": (
        lambda m: m.TransformerDecoderLayer(
            8, 2, 16, dropout=0.0, activation="gelu", norm_first=True, batch_first=True
        ),
        [BATCH, (3, 4, 8)],
        lambda lib: {
            "tgt_key_padding_mask": _mask_on(lib, PADDING),
            "memory_mask": _mask_on(lib, MEMORY_MASK),
        },
    ),
    "decoder_with_norm": (
        lambda m: m.TransformerDecoder(
            m.TransformerDecoderLayer(8, 4, 12, dropout=0.0, bias=False), 2, norm=m.LayerNorm(8)
        ),
        [SEQ, SRC],
        lambda lib: {"tgt_mask": _mask_on(lib, CAUSAL_BOOL)},
    ),
    "transformer": (
        lambda m: m.Transformer(8, 2, 2, 1, 16, dropout=0.0),
        [SRC, SEQ],
        lambda lib: {
            "tgt_mask": lib.nn.Transformer.generate_square_subsequent_mask(5).double(),
            "src_key_padding_mask": _mask_on(lib, MEMORY_PADDING),
            "memory_key_padding_mask": _mask_on(lib, MEMORY_PADDING),
        },
    ),
    "transformer_batch_first_pre_norm": (
        lambda m: m.Transformer(
            8, 2, 1, 2, 16, dropout=0.0, batch_first=True, norm_first=True, activation="gelu"
        ),
        [(3, 4, 8), BATCH],
        lambda lib: {"src_mask": _mask_on(lib, np.triu(np.ones((4, 4), dtype=bool), 1))},
    ),
}


NESTED_TENSOR_WARNING = "ignore:enable_nested_tensor is True:UserWarning"  # PyTorch's


@pytest.mark.filterwarnings(NESTED_TENSOR_WARNING)
@pytest.mark.parametrize("name", DECODER_CASES)
def test_transformer_decoder_matches_pytorch(name: str, backend: Any) -> None:
    build, shapes, kwargs = DECODER_CASES[name]
    ours, theirs = _both(build)
    _run_both(ours, theirs, [RNG.standard_normal(shape) for shape in shapes], backend, kwargs)


@pytest.mark.filterwarnings(NESTED_TENSOR_WARNING)
@pytest.mark.parametrize("name", ["decoder_with_norm", "transformer"])
def test_transformer_decoder_gradients_in_both_modes(name: str, backend: Any, mode: Any) -> None:
    build, shapes, kwargs = DECODER_CASES[name]
    ours, theirs = _both(build)
    _run_both(ours, theirs, [RNG.standard_normal(shape) for shape in shapes], backend, kwargs)


@pytest.mark.filterwarnings(NESTED_TENSOR_WARNING)
def test_transformer_reprs_keys_mask_and_errors() -> None:
    torch = torch_or_skip()
    for build in (
        lambda m: m.Transformer(8, 2, 1, 1, 16),
        lambda m: m.TransformerDecoderLayer(8, 2),
    ):
        ours, theirs = build(nn), build(torch.nn)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert [tuple(p.shape) for p in ours.parameters()] == [
            tuple(p.shape) for p in theirs.parameters()
        ]
    for size in (1, 4):
        mask = nn.Transformer.generate_square_subsequent_mask(size)
        expected = torch.nn.Transformer.generate_square_subsequent_mask(size)
        assert mask.dtype == dualgrad.float32
        np.testing.assert_array_equal(values(mask), expected.numpy())
    double = nn.Transformer.generate_square_subsequent_mask(3, dtype=dualgrad.float64)
    assert double.dtype == dualgrad.float64
    model, theirs = nn.Transformer(8, 2, 1, 1, 16), torch.nn.Transformer(8, 2, 1, 1, 16)
    matrices = [p for p in model.parameters() if p.ndim > 1]
    assert all(abs(values(p)).max() <= np.sqrt(6 / sum(p.shape)) for p in matrices)  # Xavier
    for src, tgt in (((4, 3, 8), (5, 2, 8)), ((4, 3, 8), (5, 3, 6))):
        for lib, module in ((dualgrad, model), (torch, theirs)):
            with pytest.raises(RuntimeError, match="must be equal"):
                module(lib.zeros(*src), lib.zeros(*tgt))
    with pytest.raises(ValueError, match="activation should be relu/gelu"):
        nn.TransformerDecoderLayer(8, 2, activation="tanh")


def test_encoder_layer_dropout_is_active_in_training_only(backend: Any) -> None:
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = make_tensor(backend, RNG.standard_normal(SEQ), "float32")
    dualgrad.manual_seed(3)
    first = layer(x)
    dualgrad.manual_seed(3)
    assert_close(layer(x), first, 0, 0, "same seed, same masks")
    assert not np.allclose(values(layer(x)), values(first))
    layer.eval()
    assert_close(layer(x), layer(x), 0, 0, "evaluation is deterministic")


def test_small_encoder_trains_as_pytorchs(backend: Any) -> None:
    torch = torch_or_skip()

    def model(m: Any) -> Any:
        return m.Sequential(
            m.TransformerEncoder(
                m.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
                2,
                enable_nested_tensor=False,
            ),
            m.Flatten(),
            m.Linear(40, 3),
        )

    ours, theirs = _both(model)
    inputs, labels = RNG.standard_normal(BATCH), RNG.integers(0, 3, 3)
    ours_opt = dualgrad.optim.Adam(ours.parameters(), lr=0.01)
    theirs_opt = torch.optim.Adam(theirs.parameters(), lr=0.01)
    x, y = make_tensor(backend, inputs), make_tensor(backend, labels, "int64")
    tx, ty = torch.from_numpy(inputs), torch.from_numpy(labels)
    for step in range(3):
        for net, opt, data, targets, lib in (
            (ours, ours_opt, x, y, dualgrad),
            (theirs, theirs_opt, tx, ty, torch),
        ):
            opt.zero_grad()
            lib.nn.functional.cross_entropy(net(data), targets).backward()
            opt.step()
        for (name, mine), (_, expected) in zip(
            ours.state_dict().items(), theirs.state_dict().items(), strict=True
        ):
            assert_close(mine, expected, 1e-8, 1e-8, f"step {step}: {name}")


@pytest.mark.parametrize(
    ("build", "shape"),
    [
        (lambda m: m.GroupNorm(2, 6), (3, 6, 4, 2)),
        (lambda m: m.GroupNorm(3, 6, eps=1e-3, affine=False), (2, 6, 5)),
        (lambda m: m.GroupNorm(1, 4, bias=False), (5, 4)),
    ],
    ids=["4d", "3d_no_affine", "2d_no_bias"],
)
def test_group_norm_matches_pytorch(
    build: Callable[[Any], Any], shape: tuple[int, ...], backend: Any, mode: Any
) -> None:
    ours, theirs = _both(build)
    _run_both(ours, theirs, [RNG.standard_normal(shape)], backend)


def test_cosine_similarity_layer_matches_pytorch(backend: Any) -> None:
    ours, theirs = _both(lambda m: m.CosineSimilarity(dim=-1))
    _run_both(ours, theirs, [RNG.standard_normal((3, 4)), RNG.standard_normal((1, 4))], backend)


# --- functions --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "mask"),
    [
        ({}, None),
        ({"is_causal": True}, None),
        ({"scale": 0.3}, "bool"),
        ({}, "float"),
        ({"scale": 2.0}, "float_broadcast"),
    ],
    ids=["plain", "causal", "bool_scale", "float", "float_broadcast"],
)
def test_scaled_dot_product_attention_matches_pytorch(
    options: dict[str, Any], mask: str | None, backend: Any, mode: Any
) -> None:
    torch = torch_or_skip()
    masks = {
        None: None,
        "bool": RNG.random((2, 1, 4, 6)) < 0.7,  # True: attend
        "float": RNG.standard_normal((4, 6)),
        "float_broadcast": RNG.standard_normal((2, 3, 1, 6)),
    }
    array = masks[mask]
    inputs = [RNG.standard_normal((2, 3, 4, 5)), RNG.standard_normal((2, 3, 6, 5))]
    inputs.append(RNG.standard_normal((2, 3, 6, 7)))
    compare(
        backend,
        lambda q, k, v: F.scaled_dot_product_attention(
            q, k, v, attn_mask=_mask_on(dualgrad, array), **options
        ),
        lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=_mask_on(torch, array), **options
        ),
        inputs,
        differentiable=(0, 1, 2),
        tol=TOL,
    )


def test_scaled_dot_product_attention_rows_masked_everywhere_give_zeros(
    backend: Any, mode: Any
) -> None:
    torch = torch_or_skip()
    mask = _bools([[1, 0, 0], [0, 0, 0], [1, 1, 1]])  # the middle query attends to nothing
    float_mask = np.where(mask, 0.0, -np.inf)
    for ours_mask, theirs_mask in ((mask, mask), (float_mask, float_mask)):
        compare(
            backend,
            lambda q, k, v, m=ours_mask: F.scaled_dot_product_attention(
                q, k, v, attn_mask=_mask_on(dualgrad, m)
            ),
            lambda q, k, v, m=theirs_mask: torch.nn.functional.scaled_dot_product_attention(
                q, k, v, attn_mask=_mask_on(torch, m)
            ),
            [RNG.standard_normal((2, 3, 4)) for _ in range(3)],
            differentiable=(0, 1, 2),
            tol=TOL,
        )


def test_scaled_dot_product_attention_grouped_query_heads(backend: Any) -> None:
    torch = torch_or_skip()
    compare(
        backend,
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True),
        lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
            q, k, v, is_causal=True, enable_gqa=True
        ),
        [RNG.standard_normal(s) for s in ((2, 4, 3, 5), (2, 2, 3, 5), (2, 2, 3, 4))],
        differentiable=(0, 1, 2),
        tol=TOL,
    )


def test_scaled_dot_product_attention_in_float32_and_unbatched(backend: Any) -> None:
    torch = torch_or_skip()
    compare(
        backend,
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True),
        [RNG.standard_normal((5, 4)).astype(np.float32) for _ in range(3)],
        differentiable=(0, 1, 2),
        tol=1e-5,
    )


def test_scaled_dot_product_attention_dropout(backend: Any) -> None:
    q, k, v = (make_tensor(backend, RNG.standard_normal((2, 4, 3))) for _ in range(3))
    plain = F.scaled_dot_product_attention(q, k, v)
    dualgrad.manual_seed(5)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    dualgrad.manual_seed(5)
    assert_close(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5), dropped, 0, 0, "seed")
    assert dropped.shape == plain.shape and not np.allclose(values(dropped), values(plain))
    nothing = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert (values(nothing) == 0).all()
    # each kept weight is scaled by 1 / (1 - p): over many draws the mean is the plain output
    dualgrad.manual_seed(0)
    big = [make_tensor(backend, np.repeat(t.numpy()[None], 4000, 0)) for t in (q, k, v)]
    mean = values(F.scaled_dot_product_attention(*big, dropout_p=0.5)).mean(0)
    assert_close(mean, plain, 0.1, 0.1, "expected value")


def test_one_hot_matches_pytorch(backend: Any) -> None:
    torch = torch_or_skip()
    indices = np.array([[0, 3], [2, 2]])
    for num_classes in (-1, 4, 6):
        out = F.one_hot(make_tensor(backend, indices, "int64"), num_classes)
        expected = torch.nn.functional.one_hot(torch.from_numpy(indices), num_classes)
        assert out.dtype is dualgrad.int64 and not out.requires_grad
        assert_close(out, expected, 0, 0, f"num_classes={num_classes}")
    empty = F.one_hot(make_tensor(backend, np.zeros(0), "int64"), 3)
    assert empty.shape == (0, 3)


def test_normalize_matches_pytorch(backend: Any, mode: Any) -> None:
    torch = torch_or_skip()
    x = RNG.standard_normal((3, 4, 2))
    x[1, :, 0] = 0.0  # a zero vector: divided by eps, gradient through the clamp is 0
    for p, dim in ((2.0, 1), (1.0, -1), (math.inf, 0), (3.0, 1)):
        compare(
            backend,
            lambda t, p=p, dim=dim: F.normalize(t, p=p, dim=dim),
            lambda t, p=p, dim=dim: torch.nn.functional.normalize(t, p=p, dim=dim),
            [x],
            tol=TOL,
        )


def test_cosine_similarity_matches_pytorch(backend: Any, mode: Any) -> None:
    torch = torch_or_skip()
    a, b = RNG.standard_normal((3, 1, 4)), RNG.standard_normal((2, 4))
    a[0] = 0.0  # zero vectors: the norm is clamped to eps in value only
    for dim in (-1, 0):
        compare(
            backend,
            lambda x, y, dim=dim: F.cosine_similarity(x, y, dim=dim),
            lambda x, y, dim=dim: torch.nn.functional.cosine_similarity(x, y, dim=dim),
            [a, b],
            differentiable=(0, 1),
            tol=TOL,
        )


def test_group_norm_function_matches_pytorch(backend: Any) -> None:
    torch = torch_or_skip()
    x, w, b = RNG.standard_normal((2, 6, 3)), RNG.standard_normal(6), RNG.standard_normal(6)
    compare(
        backend,
        lambda x, w, b: F.group_norm(x, 3, w, b, eps=1e-3),
        lambda x, w, b: torch.nn.functional.group_norm(x, 3, w, b, eps=1e-3),
        [x, w, b],
        differentiable=(0, 1, 2),
        tol=TOL,
    )


# --- errors -----------------------------------------------------------------------------------
def test_one_hot_errors_are_pytorchs(backend: Any) -> None:
    def indices(data: Any, dtype: str = "int64") -> Any:
        return make_tensor(backend, data, dtype)

    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(indices([0, 3]), 3)
    with pytest.raises(ValueError, match="non-negative"):
        F.one_hot(indices([0, -1]), 3)
    with pytest.raises(RuntimeError, match="empty tensor"):
        F.one_hot(indices(np.zeros(0)))
    with pytest.raises(TypeError, match="LongTensor"):
        F.one_hot(indices([0, 1], "int32"), 3)
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(indices([0.0, 1.0], "float64"), 3)


def test_group_norm_rejects_what_does_not_fit(backend: Any) -> None:
    with pytest.raises(ValueError, match=r"num_channels \(4\) must be divisible by num_groups"):
        nn.GroupNorm(3, 4)
    x = make_tensor(backend, np.ones((2, 4, 3)))
    with pytest.raises(RuntimeError, match=r"divisible by num_groups, but got input of shape"):
        F.group_norm(x, 3)
    with pytest.raises(ValueError, match=r"at least 2 dimensions"):
        F.group_norm(make_tensor(backend, np.ones(4)), 2)
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        F.group_norm(x, 2, make_tensor(backend, np.ones(3)))


def test_scaled_dot_product_attention_rejects_what_does_not_fit(backend: Any) -> None:
    q = make_tensor(backend, np.ones((2, 3, 4)))
    with pytest.raises(RuntimeError, match="at least 2 dimensional"):
        F.scaled_dot_product_attention(make_tensor(backend, np.ones(4)), q, q)
    with pytest.raises(TypeError, match="same dtype"):
        F.scaled_dot_product_attention(q, make_tensor(backend, np.ones((2, 3, 4)), "float32"), q)
    with pytest.raises(TypeError, match="attn_mask dtype"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=make_tensor(backend, [[1]], "int64"))
    with pytest.raises(ValueError, match="dropout probability"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)
    with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal=True"):
        mask = make_tensor(backend, np.ones((3, 3)), "bool")
        F.scaled_dot_product_attention(q, q, q, attn_mask=mask, is_causal=True)
    with pytest.raises(ValueError, match="must divide the number of heads"):
        k = make_tensor(backend, np.ones((2, 2, 3, 4)))
        F.scaled_dot_product_attention(
            make_tensor(backend, np.ones((3, 3, 4))), k, k, enable_gqa=True
        )


def test_multihead_attention_rejects_what_does_not_fit(backend: Any) -> None:
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(5, 2)
    attention = nn.MultiheadAttention(4, 2)
    x = make_tensor(backend, np.ones((3, 2, 4)), "float32")
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        attention(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match=r"The shape of the 3D attn_mask is \(2, 3, 3\)"):
        attention(x, x, x, attn_mask=make_tensor(backend, np.zeros((2, 3, 3)), "float32"))
    with pytest.raises(ValueError, match="key shape"):
        attention(x, make_tensor(backend, np.ones((2, 2, 4)), "float32"), x)
    with pytest.raises(ValueError, match="unbatched 2D or batched 3D"):
        attention(make_tensor(backend, np.ones(4), "float32"), x, x)
    with pytest.raises(TypeError, match="only bool and floating types of attn_mask"):
        attention(x, x, x, attn_mask=make_tensor(backend, np.zeros((3, 3)), "int64"))
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        attention(
            x,
            x,
            x,
            attn_mask=make_tensor(backend, np.zeros((3, 3)), "float32"),
            key_padding_mask=make_tensor(backend, np.zeros((2, 3)), "bool"),
        )
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")


# --- nn.init ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 4), (3, 6), (6, 3), (4, 2, 3)])
def test_orthogonal_fills_a_semi_orthogonal_matrix(shape: tuple[int, ...], backend: Any) -> None:
    dualgrad.manual_seed(1)
    w = nn.init.orthogonal_(nn.Parameter(dualgrad.empty(*shape, dtype=dualgrad.float64)), gain=2)
    flat = w.detach().numpy().reshape(shape[0], -1)
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
    assert_close(gram, 4 * np.eye(small), 1e-10, 1e-10, "gram")
    assert w.requires_grad and w.grad_fn is None


def test_trunc_normal_draws_within_the_bounds(backend: Any) -> None:
    dualgrad.manual_seed(2)
    w = nn.init.trunc_normal_(dualgrad.empty(20000, dtype=dualgrad.float64), 1.0, 2.0, -1.0, 4.0)
    drawn = w.numpy()
    assert drawn.min() >= -1.0 and drawn.max() <= 4.0
    assert drawn.min() < -0.95 and drawn.max() > 3.95
    # N(1, 4) truncated symmetrically to [-1, 3 (+1)]: mean a little above 1, std below 2
    assert 1.0 < drawn.mean() < 1.3 and 1.2 < drawn.std() < 1.5
    assert (nn.init.trunc_normal_(dualgrad.empty(3), 0.5, 0.0).numpy() == 0.5).all()


def test_eye_fills_the_identity() -> None:
    torch = torch_or_skip()
    for shape in ((3, 3), (2, 4), (4, 2)):
        expected = torch.nn.init.eye_(torch.empty(*shape))
        assert_close(nn.init.eye_(dualgrad.empty(*shape)), expected, 0, 0, str(shape))


def test_init_rejects_tensors_of_the_wrong_rank() -> None:
    with pytest.raises(ValueError, match="2 or more dimensions"):
        nn.init.orthogonal_(dualgrad.empty(3))
    with pytest.raises(ValueError, match="only tensors with 2 dimensions"):
        nn.init.eye_(dualgrad.empty(2, 2, 2))
    with pytest.raises(ValueError, match="a <= b"):
        nn.init.trunc_normal_(dualgrad.empty(2), a=1.0, b=0.0)
