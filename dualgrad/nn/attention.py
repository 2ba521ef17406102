"""``MultiheadAttention``, as ``torch.nn.MultiheadAttention``: PyTorch's parameters (names,
shapes, initialisation), arguments and results, so state dicts load across."""

from __future__ import annotations

__all__ = ["MultiheadAttention"]

from typing import Any

from ..functions.creation import empty
from ..tensor import Tensor
from . import init
from ._functional_attention import multi_head_attention
from .linear import NonDynamicallyQuantizableLinear
from .module import Module
from .parameter import Parameter


class MultiheadAttention(Module):
    """Attention of ``num_heads`` heads side by side, each on ``embed_dim // num_heads``
    features, as ``torch.nn.MultiheadAttention`` (Vaswani et al., 2017).

    The query, key and value projections are one ``in_proj_weight`` ``(3 * embed_dim,
    embed_dim)`` (initialised ``xavier_uniform_``), or ``q_proj_weight``, ``k_proj_weight``,
    ``v_proj_weight`` when ``kdim`` or ``vdim`` differ from ``embed_dim``; ``in_proj_bias``
    ``(3 * embed_dim,)`` and ``out_proj.bias`` start at 0.

    Args:
        embed_dim: the features of the query (and of the output).
        num_heads: the number of heads; divides ``embed_dim``.
        dropout: the probability of dropping an attention weight while training.
        bias: learn the projections' biases.
        add_bias_kv: learn a key and a value (``bias_k``, ``bias_v``, ``(1, 1, embed_dim)``)
            appended to every sequence of keys and values.
        add_zero_attn: append a key and a value of zeros (after the projections).
        kdim, vdim: the features of the key and the value (None: ``embed_dim``).
        batch_first: inputs and output ``(N, L, E)`` rather than ``(L, N, E)``.
        dtype: the parameters' dtype.

    Raises:
        ValueError: ``embed_dim`` not divisible by ``num_heads``.

    Example:
        >>> import dualgrad
        >>> attention = dualgrad.nn.MultiheadAttention(8, 2, batch_first=True)
        >>> attention
        MultiheadAttention(
          (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)
        )
        >>> x = dualgrad.randn(3, 5, 8)
        >>> output, weights = attention(x, x, x)
        >>> output.shape, weights.shape
        (torch.Size([3, 5, 8]), torch.Size([3, 5, 5]))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            msg = (
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                f"and num_heads={num_heads} instead"
            )
            raise ValueError(msg)
        if embed_dim % num_heads:
            msg = f"embed_dim must be divisible by num_heads, got {embed_dim} and {num_heads}"
            raise ValueError(msg)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads

        def parameter(*shape: int) -> Parameter:
            return Parameter(empty(*shape, dtype=dtype, device=device))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = parameter(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = parameter(embed_dim, embed_dim)
            self.k_proj_weight = parameter(embed_dim, self.kdim)
            self.v_proj_weight = parameter(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = parameter(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(
            embed_dim, embed_dim, bias=bias, device=device, dtype=dtype
        )
        if add_bias_kv:
            self.bias_k = parameter(1, 1, embed_dim)
            self.bias_v = parameter(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's initialisation: xavier_uniform_ projections, zero biases, xavier_normal_
        ``bias_k`` and ``bias_v``; ``out_proj.weight`` keeps ``Linear``'s."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend from ``query`` to ``key``, returning ``(output, weights)``.

        Args:
            query: ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``), or unbatched ``(L, E)``.
            key: ``(S, N, kdim)``; value: ``(S, N, vdim)`` (likewise).
            key_padding_mask: ``(N, S)``: True (or a float added to the scores) for keys to
                ignore, such as padding.
            need_weights: also return the attention weights (else None).
            attn_mask: ``(L, S)`` or ``(N * num_heads, L, S)``: True (or a float added) where
                a query may not attend to a key.
            average_attn_weights: average the returned weights over the heads: ``(N, L, S)``
                rather than ``(N, num_heads, L, S)``.
            is_causal: a hint that ``attn_mask`` is the causal mask (it must be given).

        Raises:
            ValueError: inputs or masks of shapes that do not fit, or ``is_causal`` without
                ``attn_mask`` (a RuntimeError too, as PyTorch's).
        """
        batched = isinstance(query, Tensor) and query.ndim == 3
        if self.batch_first and batched:
            query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        output, weights = multi_head_attention(
            query,
            key,
            value,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )
        if self.batch_first and batched:
            output = output.transpose(1, 0)
        return output, weights
