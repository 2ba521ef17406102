"""The recurrent layers (RNN, LSTM, GRU), their cells, and nn.utils.rnn's padding and packing,
against PyTorch's with the same weights: outputs, final states, and every parameter's, the
input's and the initial state's gradients (float64), on every backend and in both modes; plus
reprs, state dict keys, initialisation, dropout and the errors."""

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
from dualgrad.nn.utils import rnn as rnn_utils

RNG = np.random.default_rng(5)
TOL = 1e-10


def _both(build: Callable[[Any], Any]) -> tuple[Any, Any]:
    """The same layer from dualgrad.nn and torch.nn, dualgrad's holding PyTorch's initial
    parameters (float64)."""
    torch = torch_or_skip()
    theirs = build(torch.nn).double()
    ours = build(nn).double()
    ours.load_state_dict(
        {k: dualgrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    )
    return ours, theirs


def _flat(result: Any) -> list[Any]:
    """The tensors of a layer's result, ``(output, h_n)`` or ``(output, (h_n, c_n))``, in order."""
    if isinstance(result, tuple | list):
        return [t for part in result for t in _flat(part)]
    return [result]


def _run_both(
    ours: Any, theirs: Any, backend: Any, x: np.ndarray, hx: list[np.ndarray] | None = None
) -> None:
    """Outputs, final states and the gradients of a random weighted sum of them agree, for the
    parameters, the input and the initial states."""
    torch = torch_or_skip()
    ours_in = [make_tensor(backend, a, requires_grad=True) for a in [x, *(hx or [])]]
    theirs_in = [torch.from_numpy(a.copy()).requires_grad_() for a in [x, *(hx or [])]]

    def call(layer: Any, inputs: list[Any]) -> list[Any]:
        if hx is None:
            return _flat(layer(inputs[0]))
        state = tuple(inputs[1:]) if len(inputs) == 3 else inputs[1]
        return _flat(layer(inputs[0], state))

    mine, expected = call(ours, ours_in), call(theirs, theirs_in)
    _check_results_and_gradients(ours, theirs, backend, (mine, expected), (ours_in, theirs_in))


def _check_results_and_gradients(
    ours: Any, theirs: Any, backend: Any, results: tuple[list, list], inputs: tuple[list, list]
) -> None:
    """Each of our results equals PyTorch's, and so do the gradients of a random weighted sum
    of them in every input and parameter."""
    torch = torch_or_skip()
    mine, expected = results
    assert len(mine) == len(expected)
    ours_loss, theirs_loss = 0.0, 0.0
    for i, (a, b) in enumerate(zip(mine, expected, strict=True)):
        assert_close(a.detach().numpy(), values(b), TOL, TOL, f"result {i}")
        u = RNG.standard_normal(tuple(b.shape))
        ours_loss = ours_loss + (a * make_tensor(backend, u)).sum()
        theirs_loss = theirs_loss + (b * torch.from_numpy(u)).sum()
    ours_loss.backward()
    theirs_loss.backward()
    for i, (a, b) in enumerate(zip(*inputs, strict=True)):
        assert_close(a.grad.numpy(), values(b.grad), TOL, TOL, f"grad of input {i}")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad.numpy(), values(theirs_params[name].grad), TOL, TOL, name)


# --- reprs, state dict keys and initialisation ---------------------------------------------------
REPRS: dict[str, Callable[[Any], Any]] = {
    "rnn": lambda m: m.RNN(10, 20),
    "rnn_relu": lambda m: m.RNN(10, 20, 2, nonlinearity="relu", bias=False, dropout=0.5),
    "lstm": lambda m: m.LSTM(10, 20, num_layers=2, batch_first=True),
    "lstm_all": lambda m: m.LSTM(3, 4, 2, False, True, 0.25, True, proj_size=2),
    "gru": lambda m: m.GRU(3, 4, bidirectional=True),
    "cells": lambda m: m.Sequential(
        m.RNNCell(3, 4),
        m.RNNCell(3, 4, bias=False, nonlinearity="relu"),
        m.LSTMCell(3, 4),
        m.GRUCell(3, 4, bias=False),
    ),
}


@pytest.mark.parametrize("name", REPRS)
def test_repr_matches_pytorch(name: str) -> None:
    torch = torch_or_skip()
    assert repr(REPRS[name](nn)) == repr(REPRS[name](torch.nn))


@pytest.mark.parametrize("name", REPRS)
def test_parameter_names_and_shapes_match_pytorch(name: str) -> None:
    torch = torch_or_skip()
    ours = [(k, tuple(v.shape)) for k, v in REPRS[name](nn).state_dict().items()]
    theirs = [(k, tuple(v.shape)) for k, v in REPRS[name](torch.nn).state_dict().items()]
    assert ours == theirs


def test_weights_start_uniform_within_one_over_sqrt_hidden(backend: Any) -> None:
    dualgrad.manual_seed(0)
    lstm = nn.LSTM(8, 25, num_layers=2, bidirectional=True)
    bound = 1 / math.sqrt(25)
    for p in lstm.parameters():
        drawn = p.detach().numpy()
        assert drawn.dtype == np.float32
        assert -bound <= drawn.min() < -0.8 * bound and 0.8 * bound < drawn.max() <= bound
        assert p.backend is backend
    assert [len(weights) for weights in lstm.all_weights] == [4, 4, 4, 4]


def test_float32_layer_matches_pytorch_within_float32_tolerance(backend: Any) -> None:
    torch = torch_or_skip()
    theirs = torch.nn.GRU(3, 5, num_layers=2)
    ours = nn.GRU(3, 5, num_layers=2)
    ours.load_state_dict(
        {k: dualgrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    )
    x = RNG.standard_normal((6, 2, 3)).astype(np.float32)
    out, h_n = ours(make_tensor(backend, x, "float32"))
    expected, expected_h = theirs(torch.from_numpy(x))
    assert out.dtype is dualgrad.float32
    assert_close(out, expected, 1e-5, 1e-5, "output")
    assert_close(h_n, expected_h, 1e-5, 1e-5, "h_n")


# --- layers: outputs, states and gradients with PyTorch's weights --------------------------------
# name -> (layer, input shape, initial state shapes or None)
LAYERS: dict[str, tuple[Callable[[Any], Any], tuple[int, ...], list[tuple[int, ...]] | None]] = {
    "rnn_tanh": (lambda m: m.RNN(3, 4), (5, 2, 3), None),
    "rnn_relu_no_bias": (lambda m: m.RNN(3, 4, nonlinearity="relu", bias=False), (5, 2, 3), None),
    "rnn_stacked_bidirectional_hx": (
        lambda m: m.RNN(3, 4, num_layers=2, bidirectional=True),
        (4, 2, 3),
        [(4, 2, 4)],
    ),
    "lstm": (lambda m: m.LSTM(3, 4), (5, 2, 3), None),
    "lstm_hx": (lambda m: m.LSTM(3, 4, num_layers=2), (4, 3, 3), [(2, 3, 4), (2, 3, 4)]),
    "lstm_bidirectional_batch_first": (
        lambda m: m.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True),
        (2, 4, 3),
        None,
    ),
    "lstm_proj": (
        lambda m: m.LSTM(3, 5, num_layers=2, proj_size=2, bidirectional=True),
        (4, 2, 3),
        [(4, 2, 2), (4, 2, 5)],
    ),
    "lstm_unbatched_hx": (lambda m: m.LSTM(3, 4), (5, 3), [(1, 4), (1, 4)]),
    "gru": (lambda m: m.GRU(3, 4), (5, 2, 3), None),
    "gru_stacked_bidirectional_batch_first_hx": (
        lambda m: m.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True),
        (2, 4, 3),
        [(4, 2, 4)],
    ),
    "gru_unbatched_bidirectional": (lambda m: m.GRU(3, 4, bidirectional=True), (5, 3), None),
    "rnn_unbatched_hx": (lambda m: m.RNN(3, 4, num_layers=2), (5, 3), [(2, 4)]),
    "lstm_dropout_in_eval": (
        lambda m: m.LSTM(3, 4, num_layers=3, dropout=0.5).eval(),
        (4, 2, 3),
        None,
    ),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_pytorch(name: str, backend: Any) -> None:
    build, shape, states = LAYERS[name]
    ours, theirs = _both(build)
    hx = None if states is None else [RNG.standard_normal(s) for s in states]
    _run_both(ours, theirs, backend, RNG.standard_normal(shape), hx)


FORWARD_MODE: dict[
    str, tuple[Callable[[Any], Any], tuple[int, ...], list[tuple[int, ...]] | None]
] = {
    "rnn_relu_bidirectional": (
        lambda m: m.RNN(2, 3, nonlinearity="relu", bidirectional=True),
        (3, 2, 2),
        None,
    ),
    "lstm_hx": (lambda m: m.LSTM(2, 3), (3, 2, 2), [(1, 2, 3), (1, 2, 3)]),
    "lstm_proj_batch_first": (
        lambda m: m.LSTM(2, 3, proj_size=2, batch_first=True),
        (2, 3, 2),
        None,
    ),
    "gru_stacked": (lambda m: m.GRU(2, 3, num_layers=2), (3, 2, 2), [(2, 2, 3)]),
}


@pytest.mark.parametrize("name", FORWARD_MODE)
def test_layer_gradients_in_both_modes(name: str, backend: Any, mode: Any) -> None:
    build, shape, states = FORWARD_MODE[name]
    ours, theirs = _both(build)
    hx = None if states is None else [RNG.standard_normal(s) for s in states]
    _run_both(ours, theirs, backend, RNG.standard_normal(shape), hx)


def test_layer_survives_a_change_of_dtype(backend: Any) -> None:
    lstm = nn.LSTM(3, 4).double()
    output, (h_n, c_n) = lstm(make_tensor(backend, np.ones((2, 3))))
    assert output.dtype is h_n.dtype is c_n.dtype is dualgrad.float64
    assert tuple(output.shape) == (2, 4) and tuple(c_n.shape) == (1, 4)


# --- dropout between layers ----------------------------------------------------------------------
def test_dropout_applies_between_layers_only_while_training(backend: Any) -> None:
    dualgrad.manual_seed(0)
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5, dtype=dualgrad.float64)
    x = make_tensor(backend, RNG.standard_normal((5, 2, 3)))
    dualgrad.manual_seed(1)
    first = values(gru(x)[0])
    dualgrad.manual_seed(1)
    assert np.array_equal(values(gru(x)[0]), first)  # the mask comes from the seeded generator
    gru.eval()
    evaluated = values(gru(x)[0])
    assert not np.allclose(evaluated, first)
    gru.dropout = 0.0
    gru.train()
    assert np.array_equal(values(gru(x)[0]), evaluated)


def test_dropout_with_a_single_layer_warns() -> None:
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.3)


# --- cells ---------------------------------------------------------------------------------------
CELLS: dict[str, tuple[Callable[[Any], Any], int]] = {
    "rnn_tanh": (lambda m: m.RNNCell(3, 4), 1),
    "rnn_relu_no_bias": (lambda m: m.RNNCell(3, 4, bias=False, nonlinearity="relu"), 1),
    "lstm": (lambda m: m.LSTMCell(3, 4), 2),
    "gru": (lambda m: m.GRUCell(3, 4), 1),
}


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("given_state", [True, False], ids=["hx", "no_hx"])
@pytest.mark.parametrize("name", CELLS)
def test_cell_matches_pytorch(name: str, given_state: bool, batched: bool, backend: Any) -> None:
    build, states = CELLS[name]
    ours, theirs = _both(build)
    lead = (2,) if batched else ()
    hx = [RNG.standard_normal((*lead, 4)) for _ in range(states)] if given_state else None
    _run_both(ours, theirs, backend, RNG.standard_normal((*lead, 3)), hx)


@pytest.mark.parametrize("name", CELLS)
def test_cell_gradients_in_both_modes(name: str, backend: Any, mode: Any) -> None:
    build, states = CELLS[name]
    ours, theirs = _both(build)
    hx = [RNG.standard_normal((2, 4)) for _ in range(states)]
    _run_both(ours, theirs, backend, RNG.standard_normal((2, 3)), hx)


# --- padding and packing -------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True], ids=["time_first", "batch_first"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_pytorch(side: str, batch_first: bool, backend: Any) -> None:
    torch = torch_or_skip()
    arrays = [RNG.standard_normal((n, 2)) for n in (3, 5, 1)]
    ours_in = [make_tensor(backend, a, requires_grad=True) for a in arrays]
    theirs_in = [torch.from_numpy(a).requires_grad_() for a in arrays]
    options = {"batch_first": batch_first, "padding_value": -1.5, "padding_side": side}
    out = rnn_utils.pad_sequence(ours_in, **options)
    expected = torch.nn.utils.rnn.pad_sequence(theirs_in, **options)
    assert_close(out.detach().numpy(), values(expected), TOL, TOL, "padded")
    u = RNG.standard_normal(tuple(expected.shape))
    (out * make_tensor(backend, u)).sum().backward()
    (expected * torch.from_numpy(u)).sum().backward()
    for a, b in zip(ours_in, theirs_in, strict=True):
        assert_close(a.grad.numpy(), values(b.grad), TOL, TOL, "grad")


@pytest.mark.parametrize("enforce_sorted", [True, False], ids=["sorted", "unsorted"])
def test_pack_and_pad_round_trip_as_pytorchs(enforce_sorted: bool, backend: Any) -> None:
    torch = torch_or_skip()
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    padded = RNG.standard_normal((4, 5, 2))
    ours = rnn_utils.pack_padded_sequence(
        make_tensor(backend, padded), lengths, batch_first=True, enforce_sorted=enforce_sorted
    )
    theirs = torch.nn.utils.rnn.pack_padded_sequence(
        torch.from_numpy(padded), lengths, batch_first=True, enforce_sorted=enforce_sorted
    )
    for mine, expected in zip(ours, theirs, strict=True):
        assert (mine is None) == (expected is None)
        if mine is not None:
            assert_close(mine.numpy(), values(expected), 0, 0, "packed")
    out, out_lengths = rnn_utils.pad_packed_sequence(ours, True, 7.0, total_length=6)
    expected, expected_lengths = torch.nn.utils.rnn.pad_packed_sequence(theirs, True, 7.0, 6)
    assert_close(out.numpy(), values(expected), 0, 0, "padded")
    assert out_lengths.tolist() == expected_lengths.tolist() == lengths
    assert out_lengths.dtype is dualgrad.int64


def _run_packed_both(ours: Any, theirs: Any, backend: Any, lengths: list[int]) -> None:
    """A layer on ``pack_sequence`` of sequences of ``lengths`` (not sorted), from a given initial
    state: the padded output, the final states and the gradients agree with PyTorch's."""
    torch = torch_or_skip()
    arrays = [RNG.standard_normal((n, ours.input_size)) for n in lengths]
    rows = ours.num_layers * (2 if ours.bidirectional else 1)
    states = 2 if ours.mode == "LSTM" else 1
    sizes = [ours.proj_size or ours.hidden_size, ours.hidden_size][:states]
    hx = [RNG.standard_normal((rows, len(lengths), size)) for size in sizes]
    ours_in = [make_tensor(backend, a, requires_grad=True) for a in [*arrays, *hx]]
    theirs_in = [torch.from_numpy(a.copy()).requires_grad_() for a in [*arrays, *hx]]
    results = []
    for layer, inputs, utils in (
        (ours, ours_in, rnn_utils),
        (theirs, theirs_in, torch.nn.utils.rnn),
    ):
        packed = utils.pack_sequence(inputs[: len(lengths)], enforce_sorted=False)
        state = tuple(inputs[len(lengths) :]) if states == 2 else inputs[-1]
        output, final = layer(packed, state)
        padded, _ = utils.pad_packed_sequence(output, batch_first=True)
        results.append([padded, *_flat(final)])
    _check_results_and_gradients(ours, theirs, backend, tuple(results), (ours_in, theirs_in))


PACKED: dict[str, Callable[[Any], Any]] = {
    "lstm_stacked_bidirectional": lambda m: m.LSTM(3, 4, num_layers=2, bidirectional=True),
    "lstm_proj": lambda m: m.LSTM(3, 4, proj_size=2),
    "gru": lambda m: m.GRU(3, 4),
    "rnn_relu_bidirectional": lambda m: m.RNN(3, 4, nonlinearity="relu", bidirectional=True),
}


@pytest.mark.parametrize("name", PACKED)
def test_layer_on_a_packed_sequence_matches_pytorch(name: str, backend: Any) -> None:
    ours, theirs = _both(PACKED[name])
    _run_packed_both(ours, theirs, backend, [2, 4, 1, 2])


def test_packed_sequence_gradients_in_both_modes(backend: Any, mode: Any) -> None:
    ours, theirs = _both(lambda m: m.RNN(2, 2, bidirectional=True))
    _run_packed_both(ours, theirs, backend, [2, 3, 1])


# --- errors --------------------------------------------------------------------------------------
def test_constructor_rejects_bad_options() -> None:
    with pytest.raises(ValueError, match=r"dropout should be a number in range \[0, 1\]"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.RNN(3, 0)
    with pytest.raises(TypeError, match="hidden_size should be of type int"):
        nn.LSTM(3, 4.0)
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        nn.LSTM(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size should be a positive integer"):
        nn.LSTM(3, 4, proj_size=-1)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNNCell(3, 4, nonlinearity="gelu")


def test_layer_rejects_inputs_of_the_wrong_rank_or_size(backend: Any) -> None:
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D tensor"):
        lstm(make_tensor(backend, np.ones((2, 2, 2, 3)), "float32"))
    with pytest.raises(RuntimeError, match=r"input.size\(-1\) must be equal to input_size"):
        nn.RNN(3, 4)(make_tensor(backend, np.ones((2, 2, 5)), "float32"))
    with pytest.raises(ValueError, match="Expected 3, got 5"):
        nn.GRU(3, 4)(make_tensor(backend, np.ones((2, 5)), "float32"))


def test_layer_rejects_initial_states_of_the_wrong_shape(backend: Any) -> None:
    x = make_tensor(backend, np.ones((5, 2, 3)), "float32")
    gru = nn.GRU(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 2, 4\), got \[1, 2, 4\]"):
        gru(x, make_tensor(backend, np.ones((1, 2, 4)), "float32"))
    with pytest.raises(ValueError, match="For batched 3-D input, hx should also be 3-D"):
        gru(x, make_tensor(backend, np.ones((2, 4)), "float32"))
    with pytest.raises(ValueError, match="For unbatched 2-D input, hx should also be 2-D"):
        gru(x[:, 0], make_tensor(backend, np.ones((2, 1, 4)), "float32"))
    lstm = nn.LSTM(3, 4)
    h0 = make_tensor(backend, np.ones((1, 2, 4)), "float32")
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h_0, c_0\)"):
        lstm(x, h0)
    with pytest.raises(
        ValueError, match=r"Expected hidden\[1\] size \(1, 2, 4\), got \[1, 3, 4\]"
    ):
        lstm(x, (h0, make_tensor(backend, np.ones((1, 3, 4)), "float32")))
    with pytest.raises(RuntimeError, match=r"hx and cx should also be 3-D but got \(3-D, 2-D\)"):
        lstm(x, (h0, h0[0]))


def test_cell_rejects_inputs_and_states_of_the_wrong_shape(backend: Any) -> None:
    cell = nn.GRUCell(3, 4)
    with pytest.raises(ValueError, match="GRUCell: Expected input to be 1D or 2D, got 3D"):
        cell(make_tensor(backend, np.ones((1, 2, 3)), "float32"))
    with pytest.raises(RuntimeError, match="inconsistent input_size: got 5, expected 3"):
        cell(make_tensor(backend, np.ones((2, 5)), "float32"))
    with pytest.raises(ValueError, match=r"expected hidden state of shape \(2, 4\)"):
        cell(
            make_tensor(backend, np.ones((2, 3)), "float32"),
            make_tensor(backend, np.ones((3, 4)), "float32"),
        )
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h, c\)"):
        nn.LSTMCell(3, 4)(make_tensor(backend, np.ones((2, 3)), "float32"), dualgrad.zeros(2, 4))


def test_packing_rejects_bad_lengths(backend: Any) -> None:
    padded = make_tensor(backend, np.ones((4, 3, 2)))
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(padded, [2, 4, 3])
    with pytest.raises(ValueError, match="has to be greater than 0"):
        rnn_utils.pack_padded_sequence(padded, [4, 2, 0])
    with pytest.raises(ValueError, match="got 2 lengths"):
        rnn_utils.pack_padded_sequence(padded, [4, 2])
    with pytest.raises(ValueError, match="exceeds the input's 4 time steps"):
        rnn_utils.pack_padded_sequence(padded, [5, 2, 1])
    packed = rnn_utils.pack_padded_sequence(padded, [4, 2, 1])
    with pytest.raises(ValueError, match="total_length=3"):
        rnn_utils.pad_packed_sequence(packed, total_length=3)
    with pytest.raises(ValueError, match="padding_side must be 'left' or 'right'"):
        rnn_utils.pad_sequence([padded[0]], padding_side="middle")
    with pytest.raises(RuntimeError, match="empty list of sequences"):
        rnn_utils.pad_sequence([])
