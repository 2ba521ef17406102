"""Batches of sequences of different lengths, as ``torch.nn.utils.rnn``: padding them to one length
(``pad_sequence``), and packing them so that the recurrent layers skip the padding
(``PackedSequence``, ``pack_padded_sequence``, ``pack_sequence``, ``pad_packed_sequence``).

Lengths are control flow, not data: they are read on the host (as PyTorch keeps them on the CPU),
and every array operation stays differentiable in both modes.

Example:
    >>> import dualgrad
    >>> from dualgrad.nn.utils.rnn import pack_sequence, pad_packed_sequence
    >>> batch = pack_sequence([dualgrad.ones(3, 2), dualgrad.ones(1, 2)])
    >>> batch.batch_sizes
    tensor([2, 1, 1])
    >>> padded, lengths = pad_packed_sequence(batch, batch_first=True)
    >>> padded.shape, lengths
    (torch.Size([2, 3, 2]), tensor([3, 1]))
"""

from __future__ import annotations

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
]

from collections import namedtuple
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from ... import functions as fn
from ..._dtypes import int64
from ...tensor import Tensor


class _SequenceError(ValueError, RuntimeError):
    """Lengths or sequences that do not fit (PyTorch raises RuntimeError here; dualgrad's value
    errors are ValueErrors: this is both)."""


_Packed = namedtuple("_Packed", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_Packed):
    """A batch of sequences packed time step by time step, as ``torch.nn.utils.rnn``'s; made by
    ``pack_padded_sequence`` or ``pack_sequence`` and read by the recurrent layers.

    Attributes:
        data: the steps of all sequences, ``(sum(lengths), *)``: first every sequence's step 0
            (longest sequence first), then every step 1 of those that have one, and so on.
        batch_sizes: an int64 tensor, how many sequences have each time step.
        sorted_indices: the caller's index of each sorted sequence (None: already sorted).
        unsorted_indices: the inverse permutation (None: already sorted).
    """

    __slots__ = ()

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _inverse(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)


def _inverse(permutation: Tensor) -> Tensor:
    """The inverse of a permutation given as an int64 tensor."""
    order = [int(i) for i in permutation.tolist()]
    inverse = [0] * len(order)
    for position, index in enumerate(order):
        inverse[index] = position
    return permutation.new_tensor(inverse, dtype=int64)


def _lengths(lengths: Any) -> list[int]:
    """``lengths`` (a tensor or a sequence of ints) as Python ints."""
    values = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    return [int(length) for length in values]


def pad_sequence(
    sequences: Sequence[Tensor] | Tensor,
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences ``(L_i, *)`` of different lengths into ``(max L_i, B, *)`` (``(B, max
    L_i, *)`` with ``batch_first``), filling the missing steps with ``padding_value``.

    Args:
        sequences: the tensors, each ``(L_i, *)`` with one trailing shape.
        batch_first: put the batch axis first.
        padding_value: the value of the filled steps.
        padding_side: ``'right'`` (pad after each sequence) or ``'left'``.

    Returns:
        The padded batch, differentiable in each sequence.

    Raises:
        ValueError: no sequences, trailing shapes that differ, or an unknown ``padding_side``.

    Example:
        >>> import dualgrad
        >>> from dualgrad.nn.utils.rnn import pad_sequence
        >>> pad_sequence([dualgrad.tensor([1.0, 2.0, 3.0]), dualgrad.tensor([4.0])], True)
        tensor([[1., 2., 3.],
                [4., 0., 0.]])
    """
    if padding_side not in ("left", "right"):
        msg = f"padding_side must be 'left' or 'right', got {padding_side!r}"
        raise ValueError(msg)
    sequences = list(fn.unbind(sequences, 0) if isinstance(sequences, Tensor) else sequences)
    if not sequences:
        msg = "pad_sequence: received an empty list of sequences; pass at least one tensor"
        raise _SequenceError(msg)
    trailing = tuple(sequences[0].shape[1:])
    for sequence in sequences:
        if tuple(sequence.shape[1:]) != trailing:
            msg = (
                "pad_sequence: the sequences' trailing shapes differ: "
                f"{[tuple(s.shape) for s in sequences]}; they must match after the length axis"
            )
            raise _SequenceError(msg)
    longest = max(sequence.shape[0] for sequence in sequences)
    padded = []
    for sequence in sequences:
        missing = longest - sequence.shape[0]
        if missing:
            fill = sequence.new_full((missing, *trailing), padding_value)
            parts = [sequence, fill] if padding_side == "right" else [fill, sequence]
            sequence = fn.concat(parts, axis=0)
        padded.append(sequence)
    return fn.stack(padded, axis=0 if batch_first else 1)


def pack_padded_sequence(
    input: Tensor, lengths: Any, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) whose sequence
    ``b`` has ``lengths[b]`` steps, for a recurrent layer to skip the padding.

    Args:
        input: the padded batch.
        lengths: each sequence's length (a list or an int64 tensor), all > 0.
        batch_first: the batch axis is first.
        enforce_sorted: the lengths must be in decreasing order; with False they are sorted
            here (stably) and the layer's outputs come back in the caller's order.

    Returns:
        The ``PackedSequence``.

    Raises:
        ValueError: a length count other than the batch size, a length <= 0 or longer than the
            input, or unsorted lengths with ``enforce_sorted``.

    Example:
        >>> import dualgrad
        >>> from dualgrad.nn.utils.rnn import pack_padded_sequence
        >>> padded = dualgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]])
        >>> pack_padded_sequence(padded, [3, 2], batch_first=True).data
        tensor([1., 4., 2., 5., 3.])
    """
    sizes = _lengths(lengths)
    batch_axis = 0 if batch_first else 1
    if input.ndim < 2 or len(sizes) != input.shape[batch_axis]:
        msg = (
            f"pack_padded_sequence: got {len(sizes)} lengths for an input of shape "
            f"{tuple(input.shape)} (batch axis {batch_axis}); give one length per sequence"
        )
        raise _SequenceError(msg)
    if min(sizes) <= 0:
        msg = (
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            f"that is <= 0: {sizes}"
        )
        raise _SequenceError(msg)
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in pairwise(sizes)):
            msg = (
                f"`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                f"True, got {sizes}. You can pass `enforce_sorted=False` to pack_padded_sequence "
                "and/or pack_sequence to sidestep this requirement."
            )
            raise _SequenceError(msg)
    else:
        order = sorted(range(len(sizes)), key=lambda b: -sizes[b])
        sorted_indices = input.new_tensor(order, dtype=int64)
        input = fn.take(input, sorted_indices, axis=batch_axis)
        sizes = [sizes[b] for b in order]
    if batch_first:
        input = input.transpose(0, 1)
    if sizes[0] > input.shape[0]:
        msg = (
            f"pack_padded_sequence: a length of {sizes[0]} exceeds the input's "
            f"{input.shape[0]} time steps"
        )
        raise _SequenceError(msg)
    batch_sizes = [sum(1 for size in sizes if size > t) for t in range(sizes[0])]
    data = fn.concat([input[t, :size] for t, size in enumerate(batch_sizes)], axis=0)
    return PackedSequence(data, input.new_tensor(batch_sizes, dtype=int64), sorted_indices)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Undo ``pack_padded_sequence``: the padded batch, in the caller's order, and its lengths.

    Args:
        sequence: the ``PackedSequence``.
        batch_first: return ``(B, T, *)`` rather than ``(T, B, *)``.
        padding_value: the value of the padded steps.
        total_length: pad to this many steps rather than to the longest sequence.

    Returns:
        ``(padded, lengths)``, ``lengths`` an int64 tensor.

    Raises:
        ValueError: a ``total_length`` shorter than the longest sequence.
    """
    data = sequence.data
    batch_sizes = [int(size) for size in sequence.batch_sizes.tolist()]
    steps, batch, trailing = len(batch_sizes), batch_sizes[0], tuple(data.shape[1:])
    if total_length is not None and total_length < steps:
        msg = (
            "Expected total_length to be at least the length of the longest sequence in input, "
            f"but got total_length={total_length} and max sequence length being {steps}"
        )
        raise ValueError(msg)
    rows, offset = [], 0
    for size in batch_sizes:
        step = data[offset : offset + size]
        offset += size
        if size < batch:
            step = fn.concat([step, data.new_full((batch - size, *trailing), padding_value)])
        rows.append(step)
    for _ in range(steps, total_length or steps):
        rows.append(data.new_full((batch, *trailing), padding_value))
    padded = fn.stack(rows, axis=0)
    lengths = [sum(1 for size in batch_sizes if size > b) for b in range(batch)]
    if sequence.unsorted_indices is not None:
        padded = fn.take(padded, sequence.unsorted_indices, axis=1)
        lengths = [lengths[int(b)] for b in sequence.unsorted_indices.tolist()]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, sequence.batch_sizes.new_tensor(lengths, dtype=int64)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack sequences ``(L_i, *)`` of different lengths: ``pack_padded_sequence`` of their
    ``pad_sequence``.

    Raises:
        ValueError: as ``pad_sequence`` and ``pack_padded_sequence``.
    """
    lengths = [sequence.shape[0] for sequence in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
