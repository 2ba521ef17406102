"""The transformer, as ``torch.nn``: ``TransformerEncoderLayer`` (self-attention and a
feed-forward block, each with a residual connection and a layer norm), ``TransformerDecoderLayer``
(self-attention, attention over the encoder's output, then the feed-forward block),
``TransformerEncoder`` and ``TransformerDecoder`` (stacks of copies of one layer) and
``Transformer`` (an encoder and a decoder). Parameter names are PyTorch's, so state dicts load
across."""

from __future__ import annotations

__all__ = [
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]

import copy
from collections.abc import Callable
from typing import Any

from .. import functions as fn
from ..tensor import Tensor
from . import functional as F
from . import init
from ._args import InputValueError
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}


def _activation(activation: str | Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """A layer's activation: a name PyTorch takes, or the callable (or module) itself."""
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            msg = f"activation should be relu/gelu, not {activation}"
            raise InputValueError(msg)
        return _ACTIVATIONS[activation]
    return activation


class _TransformerLayer(Module):
    """What the encoder and decoder layers share: the self-attention block (attention, then
    ``dropout1``) and the feed-forward network ``linear2(dropout(activation(linear1(x))))``.
    Each layer makes its own sub-modules, in PyTorch's order (its state-dict keys)."""

    def _sa_block(
        self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None, is_causal: bool
    ) -> Tensor:
        """The self-attention block, before the residual connection."""
        return self.dropout1(_attend(self.self_attn, x, x, attn_mask, key_padding_mask, is_causal))

    def _feed_forward(self, x: Tensor) -> Tensor:
        """The feed-forward network, before its last dropout."""
        return self.linear2(self.dropout(self.activation(self.linear1(x))))


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention, then a feed-forward network ``linear2(dropout(activation(linear1(x))))``,
    each added back to its input and layer-normalized, as ``torch.nn.TransformerEncoderLayer``
    (Vaswani et al., 2017).

    Args:
        d_model: the features of each position.
        nhead: the attention heads; divides ``d_model``.
        dim_feedforward: the width of the feed-forward network.
        dropout: the dropout probability everywhere in the layer.
        activation: ``"relu"``, ``"gelu"``, or a callable (a module becomes a sub-module).
        layer_norm_eps: the layer norms' ``eps``.
        batch_first: inputs ``(N, L, E)`` rather than ``(L, N, E)``.
        norm_first: normalize before attention and feed-forward (pre-LN) rather than after.
        bias: learn the linear layers' and layer norms' biases.
        dtype: the parameters' dtype.

    Raises:
        ValueError: an unknown activation name (a RuntimeError too, as PyTorch's), or
            ``d_model`` not divisible by ``nhead``.

    Example:
        >>> import dualgrad
        >>> layer = dualgrad.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
        >>> layer(dualgrad.randn(3, 5, 8)).shape
        torch.Size([3, 5, 8])
        >>> list(layer.state_dict())[:3]
        ['self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight']
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        options = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **options
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **options)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **options)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **options)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **options)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        """The layer on ``src`` ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``, or ``(L,
        E)``); the masks and ``is_causal`` as ``MultiheadAttention``'s ``attn_mask``,
        ``key_padding_mask`` and ``is_causal``."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _ff_block(self, x: Tensor) -> Tensor:
        """The feed-forward block, before the residual connection."""
        return self.dropout2(self._feed_forward(x))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (deep copies: each its own parameters), one
    after the other, then ``norm`` if given, as ``torch.nn.TransformerEncoder``.

    Args:
        encoder_layer: the layer to copy, a ``TransformerEncoderLayer``.
        num_layers: how many copies.
        norm: a module applied to the last layer's output (a ``LayerNorm``), or None.
        enable_nested_tensor, mask_check: accepted for PyTorch's signature; dualgrad has no
            nested tensors, so padded positions are computed as any other (PyTorch's fast path
            in evaluation under ``no_grad`` gives them zeros).

    Example:
        >>> import dualgrad
        >>> from dualgrad import nn
        >>> layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
        >>> encoder = nn.TransformerEncoder(layer, num_layers=2)
        >>> encoder(dualgrad.randn(5, 3, 8)).shape
        torch.Size([5, 3, 8])
        >>> sorted({name.split(".")[1] for name, _ in encoder.named_parameters()})
        ['0', '1']
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        """Every layer on ``src`` with ``mask`` as ``src_mask``, ``src_key_padding_mask`` and
        ``is_causal`` (None: whether ``mask`` is the causal mask; a hint only, as the mask
        applies either way)."""
        output = src
        for layer in self.layers:
            output = layer(
                output,
                src_mask=mask,
                src_key_padding_mask=src_key_padding_mask,
                is_causal=is_causal is True,
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention over the target, attention over the encoder's output (``memory``), then
    the feed-forward network, each added back to its input and layer-normalized, as
    ``torch.nn.TransformerDecoderLayer``. The arguments are ``TransformerEncoderLayer``'s.

    Raises:
        ValueError: an unknown activation name (a RuntimeError too, as PyTorch's), or
            ``d_model`` not divisible by ``nhead``.

    Example:
        >>> import dualgrad
        >>> layer = dualgrad.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16)
        >>> layer(dualgrad.randn(4, 3, 8), dualgrad.randn(6, 3, 8)).shape
        torch.Size([4, 3, 8])
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        options = {"device": device, "dtype": dtype}
        attention = {"dropout": dropout, "bias": bias, "batch_first": batch_first, **options}
        self.self_attn = MultiheadAttention(d_model, nhead, **attention)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **attention)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **options)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **options)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **options)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **options)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **options)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """The layer on ``tgt`` ``(T, N, E)`` attending to ``memory`` ``(S, N, E)`` (batch
        first with ``batch_first``); the masks as ``MultiheadAttention``'s, the target's for
        its self-attention and the memory's for the attention over it."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(
                self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal
            )
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(
            x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal)
        )
        return self.norm3(x + self._ff_block(x))

    def _mha_block(
        self,
        x: Tensor,
        memory: Tensor,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
        is_causal: bool,
    ) -> Tensor:
        attended = _attend(self.multihead_attn, x, memory, attn_mask, key_padding_mask, is_causal)
        return self.dropout2(attended)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout3(self._feed_forward(x))


def _attend(
    attention: MultiheadAttention,
    query: Tensor,
    keys: Tensor,
    attn_mask: Tensor | None,
    key_padding_mask: Tensor | None,
    is_causal: bool,
) -> Tensor:
    """``attention`` of ``query`` over ``keys`` (the values too), without the weights."""
    return attention(
        query,
        keys,
        keys,
        attn_mask=attn_mask,
        key_padding_mask=key_padding_mask,
        need_weights=False,
        is_causal=is_causal,
    )[0]


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer``, one after the other, then ``norm`` if given,
    as ``torch.nn.TransformerDecoder``.

    Example:
        >>> import dualgrad
        >>> from dualgrad import nn
        >>> decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), num_layers=2)
        >>> decoder(dualgrad.randn(4, 3, 8), dualgrad.randn(6, 3, 8)).shape
        torch.Size([4, 3, 8])
    """

    def __init__(
        self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None
    ) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Every layer on ``tgt`` and ``memory`` with the masks; ``tgt_is_causal`` is a hint
        only, as the mask applies either way."""
        output = tgt
        for layer in self.layers:
            output = layer(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=tgt_is_causal is True,
                memory_is_causal=memory_is_causal,
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """An encoder over ``src`` and a decoder over ``tgt`` that attends to the encoder's output,
    as ``torch.nn.Transformer``: ``num_encoder_layers`` and ``num_decoder_layers`` layers, each
    stack ending in a layer norm, the weight matrices Xavier-uniform initialized.

    The layer options (``d_model``, ``nhead``, ``dim_feedforward``, ``dropout``,
    ``activation``, ``layer_norm_eps``, ``batch_first``, ``norm_first``, ``bias``, ``device``,
    ``dtype``) are ``TransformerEncoderLayer``'s; ``num_encoder_layers`` and
    ``num_decoder_layers`` are the depth of each stack; ``custom_encoder`` and
    ``custom_decoder`` are modules to use instead of the stacks.

    Raises:
        ValueError: ``src`` and ``tgt`` of different batch sizes, or features other than
            ``d_model`` (a RuntimeError too, as PyTorch's).

    Example:
        >>> import dualgrad
        >>> from dualgrad import nn
        >>> model = nn.Transformer(8, 2, 1, 1, dim_feedforward=16, batch_first=True)
        >>> mask = nn.Transformer.generate_square_subsequent_mask(4)
        >>> model(dualgrad.randn(3, 6, 8), dualgrad.randn(3, 4, 8), tgt_mask=mask).shape
        torch.Size([3, 4, 8])
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        options = {"device": device, "dtype": dtype}
        layer = {
            "dim_feedforward": dim_feedforward,
            "dropout": dropout,
            "activation": activation,
            "layer_norm_eps": layer_norm_eps,
            "batch_first": batch_first,
            "norm_first": norm_first,
            "bias": bias,
            **options,
        }
        self.encoder = custom_encoder or TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **layer),
            num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **options),
        )
        self.decoder = custom_decoder or TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **layer),
            num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **options),
        )
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """The decoder's output for ``tgt`` attending to the encoded ``src``."""
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_axis] != tgt.shape[batch_axis]:
            msg = "the batch number of src and tgt must be equal"
            raise InputValueError(msg)
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            msg = "the feature number of src and tgt must be equal to d_model"
            raise InputValueError(msg)
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(  # type: ignore[no-any-return]
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
        """The causal mask of ``sz`` positions: 0 on and below the diagonal, -inf above it (a
        position attends to itself and the ones before), in ``dtype`` (the default float)."""
        full = fn.full((sz, sz), float("-inf"), dtype=dtype, device=device)
        return fn.triu(full, k=1)
