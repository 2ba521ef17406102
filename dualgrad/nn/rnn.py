"""Recurrent layers, as ``torch.nn``: ``RNN``, ``LSTM`` and ``GRU`` over whole sequences, and the
one-step cells ``RNNCell``, ``LSTMCell`` and ``GRUCell``.

Each layer is a Python loop over the time steps of ``dualgrad.nn.functional`` and
``dualgrad.functions`` calls, so both modes differentiate it through the ops it composes. The
parameters are named, shaped, ordered and initialised as PyTorch's (gates i, f, g, o for the
LSTM; r, z, n for the GRU), so a PyTorch state dict loads and gives the same numbers.
"""

from __future__ import annotations

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

from .. import functions as fn
from ..functions import creation as _creation
from ..tensor import Tensor
from . import functional as F
from . import init
from ._args import InputValueError
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"tanh": F.tanh, "relu": F.relu}


# --- one time step, shared by the layers and the cells -------------------------------------------
# ``gi`` is the input's share of the gates, ``x @ weight_ih.T + bias_ih``, computed for the whole
# sequence at once by the layers.
def _rnn_step(
    gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, activation: Callable[..., Tensor]
) -> Tensor:
    """``activation(gi + h @ w_hh.T + b_hh)``."""
    return activation(gi + F.linear(h, w_hh, b_hh))


def _lstm_step(
    gi: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None
) -> tuple[Tensor, Tensor]:
    """One LSTM step, gates in PyTorch's order (input, forget, cell, output)."""
    i, f, g, o = fn.chunk(gi + F.linear(h, w_hh, b_hh), 4, -1)
    c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
    h = F.sigmoid(o) * F.tanh(c)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """One GRU step as PyTorch's: ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``."""
    i_r, i_z, i_n = fn.chunk(gi, 3, -1)
    h_r, h_z, h_n = fn.chunk(F.linear(h, w_hh, b_hh), 3, -1)
    r = F.sigmoid(i_r + h_r)
    z = F.sigmoid(i_z + h_z)
    n = F.tanh(i_n + r * h_n)
    return n + z * (h - n)


def _check_nonlinearity(nonlinearity: str) -> None:
    if nonlinearity not in _ACTIVATIONS:
        msg = f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
        raise ValueError(msg)


def _check_size(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        msg = f"{name} should be of type int, got: {type(value).__name__}"
        raise TypeError(msg)
    if value <= 0:
        msg = f"{name} must be greater than zero, got {value}"
        raise ValueError(msg)


# --- the layers ---------------------------------------------------------------------------------
class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: the parameters of each layer and direction, the
    checks of the input and hidden state, and the loop over layers, directions and time steps.

    ``mode`` is one of ``'RNN_TANH'``, ``'RNN_RELU'``, ``'LSTM'``, ``'GRU'``; the other
    arguments are those of the subclasses.

    Raises:
        ValueError: an unknown mode, sizes not > 0, ``dropout`` outside [0, 1], a ``proj_size``
            that is negative, not smaller than ``hidden_size``, or given to a non-LSTM.
        TypeError: a size that is not an int.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if mode not in _GATES:
            msg = f"Unrecognized RNN mode: {mode!r}; choose one of: {', '.join(_GATES)}"
            raise ValueError(msg)
        if (
            not isinstance(dropout, numbers.Number)
            or isinstance(dropout, bool)
            or not 0 <= dropout <= 1
        ):
            msg = (
                "dropout should be a number in range [0, 1] representing the probability of "
                f"an element being zeroed, got {dropout!r}"
            )
            raise ValueError(msg)
        _check_size("hidden_size", hidden_size)
        _check_size("num_layers", num_layers)
        if proj_size < 0:
            msg = (
                "proj_size should be a positive integer or zero to disable projections, "
                f"got {proj_size}"
            )
            raise ValueError(msg)
        if proj_size >= hidden_size:
            msg = f"proj_size has to be smaller than hidden_size, got {proj_size} >= {hidden_size}"
            raise ValueError(msg)
        if proj_size and mode != "LSTM":
            msg = "proj_size argument is only supported for LSTM, not RNN or GRU"
            raise ValueError(msg)
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=2,
            )
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else real_hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes: dict[str, tuple[int, ...]] = {
                    "weight_ih": (gate_size, layer_input_size),
                    "weight_hh": (gate_size, real_hidden_size),
                }
                if bias:
                    shapes |= {"bias_ih": (gate_size,), "bias_hh": (gate_size,)}
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    name = kind + suffix
                    tensor = _creation.empty(*shape, dtype=dtype, device=device)
                    self.register_parameter(name, Parameter(tensor))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias anew from uniform(-1/sqrt(hidden_size), 1/sqrt(hidden_size)),
        as the constructor does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """Does nothing: PyTorch packs the weights for cuDNN here, which dualgrad has no use for
        (PyTorch's own call is a no-op off cuDNN too)."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, in PyTorch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _output_size(self) -> int:
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    def _weights(self, layer: int, direction: int) -> dict[str, Tensor | None]:
        """The parameters of one layer and direction by kind (``None`` where absent)."""
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        return {kind: getattr(self, kind + suffix, None) for kind in kinds}

    # --- checks ---------------------------------------------------------------------------------
    def _check_input(self, input: Tensor) -> bool:
        """Whether the input is batched; raises for a rank or feature size PyTorch rejects."""
        if input.ndim not in (2, 3):
            name = "RNN" if self.mode.startswith("RNN") else self.mode
            msg = f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead"
            raise ValueError(msg)
        if input.shape[-1] != self.input_size:
            msg = (
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.shape[-1]}"
            )
            raise InputValueError(msg)
        return input.ndim == 3

    def _check_hidden(self, hx: Tensor, expected: tuple[int, ...], what: str) -> None:
        if not isinstance(hx, Tensor):
            msg = f"{type(self).__name__}: {what} must be a Tensor, got {type(hx).__name__}"
            raise TypeError(msg)
        if tuple(hx.shape) != expected:
            msg = f"Expected {what} size {expected}, got {list(hx.shape)}"
            raise InputValueError(msg)

    # --- the loop -------------------------------------------------------------------------------
    def _step(
        self,
        w: dict[str, Any],
        gi: Tensor,
        h: Tensor,
        c: Tensor | None,
        activation: Callable[..., Tensor],
    ) -> tuple[Tensor, Tensor | None]:
        """One time step of this layer's kind: the new ``h`` and (for the LSTM) ``c``."""
        if self.mode == "LSTM":
            return _lstm_step(gi, h, c, w["weight_hh"], w["bias_hh"], w["weight_hr"])
        if self.mode == "GRU":
            return _gru_step(gi, h, w["weight_hh"], w["bias_hh"]), None
        return _rnn_step(gi, h, w["weight_hh"], w["bias_hh"], activation), None

    def _run(
        self, input: Tensor, hidden: list[Tensor], cells: list[Tensor] | None
    ) -> tuple[Tensor, list[Tensor], list[Tensor] | None]:
        """Run the layers over ``input`` ``(L, N, H_in)`` from the initial states ``hidden``
        (and ``cells``, for the LSTM), one ``(N, H)`` tensor per layer and direction; returns
        the last layer's output and the final states, in the same order."""
        activation = _ACTIVATIONS["relu" if self.mode == "RNN_RELU" else "tanh"]
        final_h: list[Tensor] = []
        final_c: list[Tensor] = []
        layer_input = input
        steps = range(input.shape[0])
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                layer_input = F.dropout(layer_input, self.dropout, True)
            outputs = []
            for direction in range(self._directions):
                index = layer * self._directions + direction
                w = self._weights(layer, direction)
                gi = fn.unbind(F.linear(layer_input, w["weight_ih"], w["bias_ih"]), 0)
                h = hidden[index]
                c = cells[index] if cells is not None else None
                out: list[Tensor | None] = [None] * len(gi)
                for t in reversed(steps) if direction == 1 else steps:
                    h, c = self._step(w, gi[t], h, c, activation)
                    out[t] = h
                outputs.append(fn.stack(out, axis=0))
                final_h.append(h)
                if c is not None:
                    final_c.append(c)
            layer_input = outputs[0] if len(outputs) == 1 else fn.concat(outputs, axis=-1)
        return layer_input, final_h, final_c if cells is not None else None

    def _run_packed(
        self,
        data: Tensor,
        batch_sizes: list[int],
        hidden: list[Tensor],
        cells: list[Tensor] | None,
    ) -> tuple[Tensor, list[Tensor], list[Tensor] | None]:
        """``_run`` on packed data ``(sum(batch_sizes), H_in)``: at step ``t`` only the first
        ``batch_sizes[t]`` sequences (sorted longest first) advance; the others keep their
        state, which is then their final one (forward) or still their initial one (reverse)."""
        activation = _ACTIVATIONS["relu" if self.mode == "RNN_RELU" else "tanh"]
        offsets = [0]
        for size in batch_sizes:
            offsets.append(offsets[-1] + size)
        steps = range(len(batch_sizes))
        final_h: list[Tensor] = []
        final_c: list[Tensor] = []
        layer_input = data
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                layer_input = F.dropout(layer_input, self.dropout, True)
            outputs = []
            for direction in range(self._directions):
                index = layer * self._directions + direction
                w = self._weights(layer, direction)
                gates_in = F.linear(layer_input, w["weight_ih"], w["bias_ih"])
                h = hidden[index]
                c = cells[index] if cells is not None else None
                out: list[Tensor | None] = [None] * len(batch_sizes)
                for t in reversed(steps) if direction == 1 else steps:
                    size, full = batch_sizes[t], h.shape[0]
                    gi = gates_in[offsets[t] : offsets[t + 1]]
                    running_c = None if c is None else c[:size]
                    new_h, new_c = self._step(w, gi, h[:size], running_c, activation)
                    if c is not None:
                        c = new_c if size == full else fn.concat([new_c, c[size:]], axis=0)
                    h = new_h if size == full else fn.concat([new_h, h[size:]], axis=0)
                    out[t] = new_h
                outputs.append(fn.concat(out, axis=0))
                final_h.append(h)
                if c is not None:
                    final_c.append(c)
            layer_input = outputs[0] if len(outputs) == 1 else fn.concat(outputs, axis=-1)
        return layer_input, final_h, final_c if cells is not None else None

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        """``(output, h_n)``, as ``RNN`` and ``GRU`` return them (``LSTM`` has its own)."""
        output, h_n, _ = self._forward(input, hx)
        return output, h_n

    def _forward(self, input: Any, hx: Any) -> tuple[Any, Tensor, Tensor | None]:
        """The shared forward: ``(output, h_n, c_n)`` with ``c_n`` None but for the LSTM."""
        is_lstm = self.mode == "LSTM"
        directions, layers = self._directions, self.num_layers
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes = input.data, [int(n) for n in input.batch_sizes.tolist()]
            self._check_input(data)
            if data.ndim != 2:
                msg = f"PackedSequence data must be 2-D (steps, features), got {data.ndim}-D"
                raise InputValueError(msg)
            batched, batch, template = True, batch_sizes[0], data
        else:
            if not isinstance(input, Tensor):
                msg = f"{type(self).__name__}: input must be a Tensor or a PackedSequence, got "
                msg += type(input).__name__
                raise TypeError(msg)
            batched = self._check_input(input)
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
            batch, template = x.shape[1], x
        h_shape = (layers * directions, batch, self._output_size)
        c_shape = (layers * directions, batch, self.hidden_size)
        if hx is None:
            h0 = template.new_zeros(h_shape)
            c0 = template.new_zeros(c_shape) if is_lstm else None
        else:
            if is_lstm:
                if not isinstance(hx, tuple | list) or len(hx) != 2:
                    msg = f"LSTM: hx must be a tuple (h_0, c_0) of two tensors, got {hx!r}"
                    raise TypeError(msg)
                h0, c0 = hx
                for name, state in (("hx", h0), ("cx", c0)):
                    if not isinstance(state, Tensor):
                        msg = f"LSTM: {name} must be a Tensor, got {type(state).__name__}"
                        raise TypeError(msg)
                if not batched and (h0.ndim != 2 or c0.ndim != 2):
                    msg = (
                        "For unbatched 2-D input, hx and cx should also be 2-D but got "
                        f"({h0.ndim}-D, {c0.ndim}-D) tensors"
                    )
                    raise InputValueError(msg)
                if batched and (h0.ndim != 3 or c0.ndim != 3):
                    msg = (
                        "For batched 3-D input, hx and cx should also be 3-D but got "
                        f"({h0.ndim}-D, {c0.ndim}-D) tensors"
                    )
                    raise InputValueError(msg)
            else:
                if not isinstance(hx, Tensor):
                    msg = f"{type(self).__name__}: hx must be a Tensor, got {type(hx).__name__}"
                    raise TypeError(msg)
                h0, c0 = hx, None
                if h0.ndim != (3 if batched else 2):
                    kind = "batched 3-D" if batched else "unbatched 2-D"
                    msg = (
                        f"For {kind} input, hx should also be {3 if batched else 2}-D but got "
                        f"{h0.ndim}-D tensor"
                    )
                    raise InputValueError(msg)
            if not batched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if c0 is not None else None
            self._check_hidden(h0, h_shape, "hidden[0]" if is_lstm else "hidden")
            if c0 is not None:
                self._check_hidden(c0, c_shape, "hidden[1]")
            if packed:
                # PyTorch's convention: hx is in the caller's batch order; the loop runs sorted.
                h0 = _permute(h0, input.sorted_indices)
                c0 = _permute(c0, input.sorted_indices) if c0 is not None else None
        hidden = list(fn.unbind(h0, 0))
        cells = list(fn.unbind(c0, 0)) if c0 is not None else None
        if packed:
            data_out, final_h, final_c = self._run_packed(data, batch_sizes, hidden, cells)
            output: Any = PackedSequence(
                data_out, input.batch_sizes, input.sorted_indices, input.unsorted_indices
            )
        else:
            output, final_h, final_c = self._run(x, hidden, cells)
        h_n = fn.stack(final_h, axis=0)
        c_n = fn.stack(final_c, axis=0) if final_c is not None else None
        if packed:
            h_n = _permute(h_n, input.unsorted_indices)
            c_n = _permute(c_n, input.unsorted_indices) if c_n is not None else None
        elif not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, h_n, c_n

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


def _permute(state: Tensor, indices: Tensor | None) -> Tensor:
    """``state[:, indices]``: a hidden state reordered along the batch axis."""
    return state if indices is None else fn.take(state, indices, axis=1)


class RNN(RNNBase):
    """An Elman recurrent network, as ``torch.nn.RNN``: for each layer and time step,
    ``h_t = nonlinearity(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh)``.

    Args:
        input_size: the features of each time step of the input.
        hidden_size: the features of the hidden state.
        num_layers: recurrent layers stacked, each reading the previous one's output.
        nonlinearity: ``'tanh'`` or ``'relu'``.
        bias: whether the layers learn ``b_ih`` and ``b_hh``.
        batch_first: input and output are ``(N, L, H)`` rather than ``(L, N, H)`` (the hidden
            state keeps its layout).
        dropout: the probability of dropout on each layer's output but the last, in training.
        bidirectional: also run each layer backwards in time, concatenating the two outputs.
        dtype: the parameters' dtype.

    The forward takes ``input`` ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``),
    ``(L, H_in)`` unbatched, or a ``PackedSequence``, and ``hx`` ``(D * num_layers, N,
    hidden_size)`` (zeros if None), and returns ``(output, h_n)``: the last layer's hidden state
    at every step ``(L, N, D * hidden_size)`` and every layer's last one.

    Raises:
        ValueError: an unknown nonlinearity, or the constructor's or the input's checks
            (``RNNBase``); a wrong hidden-state shape raises an error that is both a
            ValueError and PyTorch's RuntimeError.

    Example:
        >>> import dualgrad
        >>> rnn = dualgrad.nn.RNN(10, 20, num_layers=2, nonlinearity="relu")
        >>> rnn
        RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(dualgrad.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        _check_nonlinearity(nonlinearity)
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )


class LSTM(RNNBase):
    """A long short-term memory network, as ``torch.nn.LSTM``: for each layer and time step,
    with gates in PyTorch's order ``i, f, g, o`` (rows of ``W_ih``, ``W_hh`` and the biases),
    ``c_t = f * c_{t-1} + i * g`` and ``h_t = o * tanh(c_t)``, where ``i, f, o`` are sigmoids
    and ``g`` a tanh of ``x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh``. With ``proj_size``,
    ``h_t`` is then projected: ``h_t @ W_hr.T``.

    Args:
        proj_size: if > 0, the size ``h_t`` is projected to (smaller than ``hidden_size``).

    The other arguments are ``RNN``'s (but ``nonlinearity``).

    The forward takes ``input`` as ``RNN``'s and ``hx`` a tuple ``(h_0, c_0)`` (zeros if None)
    and returns ``(output, (h_n, c_n))``; ``h`` has ``proj_size`` features when it is set.

    Raises:
        ValueError: the constructor's or the input's checks (``RNNBase``).
        TypeError: an ``hx`` that is not a pair of tensors.

    Example:
        >>> import dualgrad
        >>> lstm = dualgrad.nn.LSTM(10, 20, num_layers=2, batch_first=True)
        >>> lstm
        LSTM(10, 20, num_layers=2, batch_first=True)
        >>> output, (h_n, c_n) = lstm(dualgrad.randn(3, 5, 10))
        >>> output.shape, h_n.shape, c_n.shape
        (torch.Size([3, 5, 20]), torch.Size([2, 3, 20]), torch.Size([2, 3, 20]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device=device,
            dtype=dtype,
        )

    def forward(
        self, input: Any, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Any, tuple[Tensor, Tensor]]:
        output, h_n, c_n = self._forward(input, hx)
        assert c_n is not None
        return output, (h_n, c_n)


class GRU(RNNBase):
    """A gated recurrent unit network, as ``torch.nn.GRU``: for each layer and time step, with
    gates in PyTorch's order ``r, z, n``,
    ``r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)``, ``z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)``,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`` and ``h' = (1 - z) * n + z * h``.

    The arguments are ``RNN``'s (but ``nonlinearity``); the forward takes and returns what
    ``RNN``'s does.

    Raises:
        ValueError: the constructor's or the input's checks (``RNNBase``).

    Example:
        >>> import dualgrad
        >>> gru = dualgrad.nn.GRU(4, 8, bidirectional=True)
        >>> output, h_n = gru(dualgrad.randn(6, 4))  # unbatched: (L, H_in)
        >>> output.shape, h_n.shape
        (torch.Size([6, 16]), torch.Size([2, 8]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )


# --- the cells ----------------------------------------------------------------------------------
class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` ``(chunks * hidden_size, input_size)``, ``weight_hh``
    ``(chunks * hidden_size, hidden_size)`` and the two biases, drawn as the layers' are, and
    the checks of the input and the hidden state.

    Raises:
        ValueError: sizes not > 0.
        TypeError: a size that is not an int.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        _check_size("hidden_size", hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gates = num_chunks * hidden_size
        options = {"dtype": dtype, "device": device}
        self.weight_ih = Parameter(_creation.empty(gates, input_size, **options))
        self.weight_hh = Parameter(_creation.empty(gates, hidden_size, **options))
        if bias:
            self.bias_ih = Parameter(_creation.empty(gates, **options))
            self.bias_hh = Parameter(_creation.empty(gates, **options))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias anew from uniform(-1/sqrt(hidden_size), 1/sqrt(hidden_size)),
        as the constructor does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _prepare(
        self, input: Tensor, states: tuple[Tensor | None, ...]
    ) -> tuple[bool, Tensor, list[Tensor]]:
        """Whether the input is batched, the input as ``(N, H_in)`` and the states as ``(N, H)``
        (zeros where None), after PyTorch's checks."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            msg = f"{name}: input must be a Tensor, got {type(input).__name__}"
            raise TypeError(msg)
        if input.ndim not in (1, 2):
            msg = f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead"
            raise ValueError(msg)
        if input.shape[-1] != self.input_size:
            msg = (
                f"{name}: input has inconsistent input_size: got {input.shape[-1]}, "
                f"expected {self.input_size}"
            )
            raise InputValueError(msg)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        prepared = []
        for state in states:
            if state is None:
                prepared.append(x.new_zeros((x.shape[0], self.hidden_size)))
                continue
            if not isinstance(state, Tensor):
                msg = f"{name}: hidden state must be a Tensor, got {type(state).__name__}"
                raise TypeError(msg)
            if state.ndim != input.ndim:
                msg = (
                    f"{name}: Expected hidden to be {input.ndim}D like the input, got "
                    f"{state.ndim}D instead"
                )
                raise ValueError(msg)
            state = state if batched else state.unsqueeze(0)
            if tuple(state.shape) != (x.shape[0], self.hidden_size):
                msg = (
                    f"{name}: expected hidden state of shape {(x.shape[0], self.hidden_size)} "
                    f"for an input of shape {tuple(x.shape)}, got {tuple(state.shape)}"
                )
                raise InputValueError(msg)
            prepared.append(state)
        return batched, x, prepared

    def _gates_in(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight_ih, self.bias_ih)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            text += f", nonlinearity={nonlinearity}"
        return text


class RNNCell(RNNCellBase):
    """One step of ``RNN``, as ``torch.nn.RNNCell``:
    ``h' = nonlinearity(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)``.

    Args:
        input_size: the features of the input.
        hidden_size: the features of the hidden state.
        bias: whether to learn ``bias_ih`` and ``bias_hh``.
        nonlinearity: ``'tanh'`` or ``'relu'``.
        dtype: the parameters' dtype.

    The forward takes ``input`` ``(N, H_in)`` or ``(H_in,)`` and ``hx`` ``(N, H)`` or ``(H,)``
    (zeros if None) and returns ``h'`` of ``hx``'s shape.

    Raises:
        ValueError: an unknown nonlinearity; an input or state of the wrong rank or shape.

    Example:
        >>> import dualgrad
        >>> cell = dualgrad.nn.RNNCell(3, 5, nonlinearity="relu")
        >>> cell
        RNNCell(3, 5, nonlinearity=relu)
        >>> cell(dualgrad.randn(2, 3)).shape
        torch.Size([2, 5])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        _check_nonlinearity(nonlinearity)
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched, x, (h,) = self._prepare(input, (hx,))
        activation = _ACTIVATIONS[self.nonlinearity]
        h = _rnn_step(self._gates_in(x), h, self.weight_hh, self.bias_hh, activation)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of ``LSTM``, as ``torch.nn.LSTMCell`` (gates ``i, f, g, o``).

    The arguments are ``RNNCell``'s (but ``nonlinearity``).

    The forward takes ``input`` ``(N, H_in)`` or ``(H_in,)`` and ``hx`` a tuple ``(h, c)``
    (zeros if None) and returns ``(h', c')``.

    Raises:
        ValueError: an input or state of the wrong rank or shape.
        TypeError: an ``hx`` that is not a pair of tensors.

    Example:
        >>> import dualgrad
        >>> cell = dualgrad.nn.LSTMCell(3, 5)
        >>> h, c = cell(dualgrad.randn(2, 3))
        >>> h.shape, c.shape
        (torch.Size([2, 5]), torch.Size([2, 5]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        if hx is not None and (not isinstance(hx, tuple | list) or len(hx) != 2):
            msg = f"LSTMCell: hx must be a tuple (h, c) of two tensors, got {hx!r}"
            raise TypeError(msg)
        batched, x, (h, c) = self._prepare(input, (None, None) if hx is None else tuple(hx))
        h, c = _lstm_step(self._gates_in(x), h, c, self.weight_hh, self.bias_hh, None)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One step of ``GRU``, as ``torch.nn.GRUCell`` (gates ``r, z, n``).

    The arguments are ``RNNCell``'s (but ``nonlinearity``).

    The forward takes and returns what ``RNNCell``'s does.

    Raises:
        ValueError: an input or state of the wrong rank or shape.

    Example:
        >>> import dualgrad
        >>> cell = dualgrad.nn.GRUCell(3, 5, bias=False)
        >>> cell
        GRUCell(3, 5, bias=False)
        >>> cell(dualgrad.randn(3), dualgrad.zeros(5)).shape
        torch.Size([5])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched, x, (h,) = self._prepare(input, (hx,))
        h = _gru_step(self._gates_in(x), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
