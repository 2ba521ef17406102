"""The transformer's encoder, as ``torch.nn``: ``TransformerEncoderLayer`` (self-attention and a
feed-forward block, each with a residual connection and a layer norm) and ``TransformerEncoder``
(a stack of copies of one layer). Parameter names are PyTorch's, so state dicts load across."""

from __future__ import annotations

__all__ = ["TransformerEncoder", "TransformerEncoderLayer"]

import copy
from collections.abc import Callable
from typing import Any

from ..tensor import Tensor
from . import functional as F
from ._args import InputValueError
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}


class TransformerEncoderLayer(Module):
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
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                msg = f"activation should be relu/gelu, not {activation}"
                raise InputValueError(msg)
            activation = _ACTIVATIONS[activation]
        self.activation = activation

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

    def _sa_block(
        self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None, is_causal: bool
    ) -> Tensor:
        """The self-attention block, before the residual connection."""
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        """The feed-forward block, before the residual connection."""
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


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
