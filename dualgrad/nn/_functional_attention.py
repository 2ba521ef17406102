"""Attention, as ``torch.nn.functional``: ``scaled_dot_product_attention``, and the multi-head
attention that ``nn.MultiheadAttention`` (and through it the transformer layers) computes.

Both are compositions (matmul, softmax, where), so their derivatives in both modes come from
those primitives' rules. A row of scores that every mask removes attends to nothing: its
weights are 0 (PyTorch's "safe softmax"), and its scores get no gradient, not NaN.
"""

from __future__ import annotations

__all__ = ["multi_head_attention", "scaled_dot_product_attention"]

import math
import warnings
from typing import Any

import numpy as np

from .. import functions as fn
from .._dtypes import bool as bool_
from ..functions._args import as_tensor, require_floating
from ..tensor import Tensor
from ._args import InputTypeError, InputValueError, constant_on
from ._functional_linear import dropout, linear

_NEG_INF = float("-inf")


def _attention_weights(scores: Tensor, safe: bool) -> Tensor:
    """Softmax over the last axis. A row of only ``-inf`` gives zeros with ``safe``, else NaN
    as PyTorch's plain softmax does; either way its scores get a zero gradient, and the
    backend computes no ``-inf - -inf``."""
    empty = fn.all(scores == _NEG_INF, axis=-1, keepdims=True)
    weights = fn.softmax(fn.where(empty, 0.0, scores), axis=-1)
    return fn.where(empty, 0.0 if safe else math.nan, weights)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``softmax(query @ key.mT * scale + mask) @ value``, as
    ``torch.nn.functional.scaled_dot_product_attention``.

    Args:
        query: ``(..., L, E)``; key: ``(..., S, E)``; value: ``(..., S, Ev)``; the leading axes
            broadcast. All of one floating dtype.
        attn_mask: ``(L, S)`` or broadcasting to the scores: a bool mask (True: the query may
            attend to the key) or a float one of the query's dtype, added to the scores.
        dropout_p: the probability of zeroing an attention weight (always applied when > 0,
            as in PyTorch; modules pass 0 in evaluation). The mask comes from the backend's
            seeded generator.
        is_causal: query ``i`` attends to keys ``j <= i`` only (then ``attn_mask`` must be
            None).
        scale: the factor of the scores (None: ``1 / sqrt(E)``).
        enable_gqa: grouped-query attention: key and value have fewer heads (axis -3), a
            divisor of the query's, each repeated for its group of query heads.

    Returns:
        ``(..., L, Ev)``. A query that every mask keeps from every key gets zeros.

    Raises:
        ValueError: an input of fewer than 2 axes, ``dropout_p`` outside [0, 1], both
            ``attn_mask`` and ``is_causal``, or head counts that do not divide with
            ``enable_gqa`` (also RuntimeErrors, as PyTorch's).
        TypeError: inputs of different dtypes, or a mask neither bool nor of the query's dtype
            (also RuntimeErrors).

    Example:
        >>> import dualgrad
        >>> import dualgrad.nn.functional as F
        >>> q = k = dualgrad.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> v = dualgrad.tensor([[1.0], [2.0]])
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True)
        tensor([[1.0000],
                [1.6698]])
    """
    name = "scaled_dot_product_attention"
    q, k, v = (as_tensor(t, name) for t in (query, key, value))
    if min(q.ndim, k.ndim, v.ndim) < 2:
        msg = (
            "Expected query, key, and value to all be at least 2 dimensional, but got query.dim: "
            f"{q.ndim} key.dim: {k.ndim} and value.dim: {v.ndim} instead."
        )
        raise InputValueError(msg)
    if not q.dtype == k.dtype == v.dtype:
        msg = (
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{q.dtype} key.dtype: {k.dtype} and value.dtype: {v.dtype} instead."
        )
        raise InputTypeError(msg)
    q = require_floating(q, name)
    if not 0.0 <= dropout_p <= 1.0:
        msg = f"dropout probability has to be between 0 and 1, but got {dropout_p}"
        raise InputValueError(msg)
    if is_causal and attn_mask is not None:
        msg = (
            "scaled_dot_product_attention: Explicit attn_mask should not be set when "
            "is_causal=True; fold the causal mask into attn_mask instead"
        )
        raise InputValueError(msg)
    if enable_gqa:
        k, v = _grouped(q, k, v)
    length, source_length = q.shape[-2], k.shape[-2]
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = fn.matmul(q, fn.matrix_transpose(k)) * factor
    if is_causal:  # PyTorch's mask is the top-left lower triangle, also where L != S
        keep = constant_on(q, np.tri(length, source_length, dtype=bool), bool_)
        scores = fn.where(keep, scores, _NEG_INF)
    if attn_mask is not None:
        mask = as_tensor(attn_mask, name)
        if mask.dtype == bool_:
            scores = fn.where(mask, scores, _NEG_INF)
        elif mask.dtype == q.dtype:
            scores = scores + mask
        else:
            msg = (
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                f"attn_mask.dtype: {mask.dtype} and query.dtype: {q.dtype} instead."
            )
            raise InputTypeError(msg)
    weights = _attention_weights(scores, safe=True)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return fn.matmul(weights, v)


def _grouped(q: Tensor, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    """Key and value with each head repeated for its group of query heads (axis -3)."""
    if min(q.ndim, k.ndim, v.ndim) < 3:
        msg = "scaled_dot_product_attention: enable_gqa needs heads, inputs (..., H, L, E)"
        raise InputValueError(msg)
    heads, key_heads, value_heads = q.shape[-3], k.shape[-3], v.shape[-3]
    if heads % key_heads or heads % value_heads:
        msg = (
            f"Number of heads in key and value must divide the number of heads in query, got "
            f"{key_heads} and {value_heads} for {heads}"
        )
        raise InputValueError(msg)
    return (
        fn.repeat(k, heads // key_heads, axis=-3),
        fn.repeat(v, heads // value_heads, axis=-3),
    )


# --- multi-head attention ---------------------------------------------------------------------
def _float_mask(mask: Any, name: str, dtype: Any) -> Tensor | None:
    """An attention or key-padding mask as an additive float one, as PyTorch's ``_canonical_mask``:
    a bool mask's True (here: masked out) becomes ``-inf``."""
    if mask is None:
        return None
    mask = as_tensor(mask, name)
    if mask.dtype == bool_:
        return fn.where(mask, _NEG_INF, constant_on(mask, 0.0, dtype))
    if not mask.dtype.is_floating_point:
        msg = f"only bool and floating types of {name} are supported, got {mask.dtype}"
        raise InputTypeError(msg)
    return mask


def _check_shapes(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    key_padding_mask: Tensor | None,
    attn_mask: Tensor | None,
    num_heads: int,
) -> bool:
    """Whether the inputs are batched (3-D) rather than single (2-D), checking that they
    agree, as PyTorch's ``_mha_shape_check``."""
    if query.ndim not in (2, 3):
        msg = (
            "query should be unbatched 2D or batched 3D tensor but received "
            f"{query.ndim}-D query tensor"
        )
        raise ValueError(msg)
    batched = query.ndim == 3
    if key.ndim != query.ndim or value.ndim != query.ndim:
        msg = (
            f"For {'batched (3-D)' if batched else 'unbatched (2-D)'} `query`, expected `key` "
            f"and `value` to be {query.ndim}-D but found {key.ndim}-D and {value.ndim}-D "
            "tensors respectively"
        )
        raise ValueError(msg)
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        msg = (
            f"For {'batched (3-D)' if batched else 'unbatched (2-D)'} `query`, expected "
            f"`key_padding_mask` to be `None` or {query.ndim - 1}-D but found "
            f"{key_padding_mask.ndim}-D tensor instead"
        )
        raise ValueError(msg)
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            msg = f"attn_mask's dimension {attn_mask.ndim} is not supported"
            raise InputValueError(msg)
        if not batched and attn_mask.ndim == 3:
            expected = (num_heads, query.shape[0], key.shape[0])
            if tuple(attn_mask.shape) != expected:
                msg = (
                    f"Expected `attn_mask` shape to be {expected} but got {tuple(attn_mask.shape)}"
                )
                raise ValueError(msg)
    return batched


def multi_head_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention of sequence-first inputs ``(L, N, E)`` (or unbatched ``(L, E)``),
    as PyTorch's ``F.multi_head_attention_forward``: project, attend per head, concatenate,
    project out. ``in_proj_weight`` None means the separate ``q/k/v_proj_weight``.

    Bool masks mark what is masked out (True); float ones are added to the scores. Returns the
    output and, with ``need_weights``, the attention weights ``(N, H, L, S)`` (averaged over the
    heads to ``(N, L, S)`` with ``average_attn_weights``), else None.
    """
    name = "MultiheadAttention"
    query, key, value = (as_tensor(t, name) for t in (query, key, value))
    if key_padding_mask is not None:
        key_padding_mask = as_tensor(key_padding_mask, name)
    if attn_mask is not None:
        attn_mask = as_tensor(attn_mask, name)
    batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = (fn.expand_dims(t, axis=1) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = fn.expand_dims(key_padding_mask, axis=0)
    if (
        key_padding_mask is not None
        and attn_mask is not None
        and (key_padding_mask.dtype == bool_) != (attn_mask.dtype == bool_)
    ):
        warnings.warn(
            "Support for mismatched key_padding_mask and attn_mask is deprecated. Use same "
            "type for both instead.",
            UserWarning,
            stacklevel=3,
        )
    length, batch, embed_dim = query.shape
    key_padding_mask = _float_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and attn_mask is None:
        msg = (
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
        raise InputValueError(msg)
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # PyTorch takes the hint: scaled_dot_product_attention's is_causal
    else:
        attn_mask = _float_mask(attn_mask, "attn_mask", query.dtype)
        if key_padding_mask is not None:
            is_causal = False
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        msg = f"embed_dim {embed_dim} not divisible by num_heads {num_heads}"
        raise ValueError(msg)
    separate = in_proj_weight is None
    if (key.shape[:2] != value.shape[:2]) if separate else (key.shape != value.shape):
        msg = f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}"
        raise ValueError(msg)

    # in-projection
    weights = (
        (q_proj_weight, k_proj_weight, v_proj_weight)
        if separate
        else tuple(in_proj_weight.chunk(3))
    )
    biases = (None,) * 3 if in_proj_bias is None else tuple(in_proj_bias.chunk(3))
    q, k, v = (
        linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases, strict=True)
    )
    source_length = key.shape[0]
    if attn_mask is not None:
        expected = (length, source_length) if attn_mask.ndim == 2 else None
        if attn_mask.ndim == 3:
            expected = (batch * num_heads, length, source_length)
        if tuple(attn_mask.shape) != expected:
            msg = (
                f"The shape of the {attn_mask.ndim}D attn_mask is {tuple(attn_mask.shape)}, "
                f"but should be {expected}."
            )
            raise InputValueError(msg)
        if attn_mask.ndim == 2:
            attn_mask = fn.expand_dims(attn_mask, axis=0)

    def one_more_key(mask: Tensor | None) -> Tensor | None:
        """The mask with a column of zeros: the key appended attends freely."""
        if mask is None:
            return None
        return fn.concat([mask, fn.zeros_like(mask[..., :1])], axis=-1)

    if bias_k is not None and bias_v is not None:
        k = fn.concat([k, fn.broadcast_to(bias_k, (1, batch, embed_dim))], axis=0)
        v = fn.concat([v, fn.broadcast_to(bias_v, (1, batch, embed_dim))], axis=0)
        attn_mask, key_padding_mask = one_more_key(attn_mask), one_more_key(key_padding_mask)

    def heads_first(x: Tensor) -> Tensor:
        """``(S, N, E)`` as ``(N * H, S, E / H)``."""
        return fn.permute_dims(fn.reshape(x, (x.shape[0], batch * num_heads, head_dim)), (1, 0, 2))

    q, k, v = heads_first(q), heads_first(k), heads_first(v)
    if add_zero_attn:
        zeros = fn.zeros_like(k[:, :1])
        k, v = fn.concat([k, zeros], axis=1), fn.concat([v, fn.zeros_like(v[:, :1])], axis=1)
        attn_mask, key_padding_mask = one_more_key(attn_mask), one_more_key(key_padding_mask)
    source_length = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (batch, source_length):
            msg = (
                f"expecting key_padding_mask shape of {(batch, source_length)}, but got "
                f"{tuple(key_padding_mask.shape)}"
            )
            raise ValueError(msg)
        per_head = fn.broadcast_to(
            fn.reshape(key_padding_mask, (batch, 1, 1, source_length)),
            (batch, num_heads, 1, source_length),
        )
        per_head = fn.reshape(per_head, (batch * num_heads, 1, source_length))
        attn_mask = per_head if attn_mask is None else attn_mask + per_head
    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = fn.matmul(q * math.sqrt(1.0 / head_dim), fn.matrix_transpose(k))
        if attn_mask is not None:
            scores = scores + attn_mask
        attention = _attention_weights(scores, safe=False)  # PyTorch's NaN rows kept here
        if dropout_p > 0.0:
            attention = dropout(attention, dropout_p)
        out = fn.matmul(attention, v)
        attention = fn.reshape(attention, (batch, num_heads, length, source_length))
        if average_attn_weights:
            attention = fn.mean(attention, axis=1)
    else:
        if attn_mask is not None:
            attn_mask = (
                fn.expand_dims(attn_mask, axis=0)
                if attn_mask.shape[0] == 1
                else fn.reshape(attn_mask, (batch, num_heads, -1, source_length))
            )
        shape = (batch, num_heads, -1, head_dim)
        out = scaled_dot_product_attention(
            fn.reshape(q, shape),
            fn.reshape(k, shape),
            fn.reshape(v, shape),
            attn_mask,
            dropout_p,
            is_causal,
        )
        out = fn.reshape(out, (batch * num_heads, length, head_dim))
        attention = None
    # (N * H, L, E / H) -> (L, N, E)
    out = fn.reshape(fn.permute_dims(out, (1, 0, 2)), (length, batch, embed_dim))
    out = linear(out, out_proj_weight, out_proj_bias)
    if not batched:
        out = fn.squeeze(out, axis=1)
        if attention is not None:
            attention = fn.squeeze(attention, axis=0)
    return out, attention
