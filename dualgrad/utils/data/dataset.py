"""Datasets, as ``torch.utils.data``: ``Dataset``, ``TensorDataset``, ``Subset`` and
``random_split``."""

from __future__ import annotations

__all__ = ["Dataset", "Subset", "TensorDataset", "random_split"]

import math
from collections.abc import Sequence
from typing import Any

from ..._generator import Generator
from ...tensor import Tensor
from .sampler import seeded_permutation


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` (one sample) and
    ``__len__`` (how many), and a DataLoader batches them.

    Example:
        >>> import dualgrad
        >>> from dualgrad.utils.data import Dataset
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, index):
        ...         return dualgrad.tensor(float(index)), dualgrad.tensor(float(index**2))
        >>> Squares()[3]
        (tensor(3.), tensor(9.))
    """

    def __getitem__(self, index: Any) -> Any:
        msg = f"{type(self).__name__} must define __getitem__(self, index), returning one sample"
        raise NotImplementedError(msg)


class TensorDataset(Dataset):
    """Samples are the rows of the given tensors: sample ``i`` is ``(t[i] for t in tensors)``.

    Args:
        *tensors: Tensors with the same first dimension.

    Raises:
        TypeError: an argument that is not a Tensor.
        ValueError: no tensors, a 0-d one, or first dimensions that differ.

    Example:
        >>> import dualgrad
        >>> from dualgrad.utils.data import TensorDataset
        >>> data = TensorDataset(dualgrad.ones(5, 2), dualgrad.arange(5))
        >>> len(data), data[1]
        (5, (tensor([1., 1.]), tensor(1)))
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            msg = "TensorDataset needs at least one tensor"
            raise ValueError(msg)
        for position, tensor in enumerate(tensors):
            if not isinstance(tensor, Tensor):
                kind = type(tensor).__name__
                msg = f"TensorDataset: argument {position} is a {kind}, not a Tensor"
                raise TypeError(msg)
            if tensor.ndim == 0:
                msg = f"TensorDataset: argument {position} is 0-d; samples are rows of tensors"
                raise ValueError(msg)
        sizes = [tensor.shape[0] for tensor in tensors]
        if len(set(sizes)) != 1:
            msg = f"TensorDataset: size mismatch between tensors: first dimensions {sizes}"
            raise ValueError(msg)
        self.tensors = tuple(tensors)

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Example:
        >>> import dualgrad
        >>> from dualgrad.utils.data import Subset, TensorDataset
        >>> part = Subset(TensorDataset(dualgrad.arange(10)), [7, 2])
        >>> len(part), part[0]
        (2, (tensor(7),))
    """

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(
    dataset: Any, lengths: Sequence[int | float], generator: Generator | None = None
) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping ``Subset``s of the given lengths.

    Args:
        dataset: a map-style dataset (with ``len``).
        lengths: sizes summing to ``len(dataset)``, or fractions summing to 1 (each
            ``floor(fraction * len)``, the remainder handed out one by one from the first, as
            PyTorch does).
        generator: the ``dualgrad.Generator`` of the permutation (default: a seed drawn from
            the active backend's generator, which ``dualgrad.manual_seed`` seeds).

    Raises:
        ValueError: lengths that do not add up.

    Example:
        >>> import dualgrad
        >>> from dualgrad.utils.data import TensorDataset, random_split
        >>> train, test = random_split(TensorDataset(dualgrad.arange(10)), [0.8, 0.2])
        >>> len(train), len(test)
        (8, 2)
    """
    total = len(dataset)
    lengths = list(lengths)
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [math.floor(total * fraction) for fraction in lengths]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != total or any(length < 0 for length in lengths):
        msg = (
            f"random_split: the lengths {lengths} must be non-negative and sum to the dataset's "
            f"length {total} (or be fractions summing to 1)"
        )
        raise ValueError(msg)
    order = seeded_permutation(total, generator).tolist()
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start : start + int(length)]))
        start += int(length)
    return subsets
