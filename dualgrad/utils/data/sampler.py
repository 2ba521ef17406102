"""Samplers, as ``torch.utils.data``: the orders in which a DataLoader visits a dataset's
indices, and how it groups them into batches."""

from __future__ import annotations

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "seeded_permutation"]

from collections.abc import Iterable, Iterator, Sized
from typing import Any

import numpy as np

from ... import config
from ..._dtypes import float32
from ..._generator import Generator


def _fresh_generator() -> Generator:
    """A Generator seeded from the active backend's generator (which ``dualgrad.manual_seed``
    seeds), as PyTorch draws a sampler's seed from its global generator."""
    draws = config.get_backend().to_numpy(config.get_backend().rand((2,), float32))
    high, low = (int(float(u) * 2**24) for u in np.asarray(draws).reshape(-1))
    return Generator().manual_seed(high << 24 | low)


def seeded_permutation(n: int, generator: Generator | None) -> np.ndarray:
    """A random permutation of ``range(n)`` from ``generator`` (or a freshly seeded one)."""
    return (generator or _fresh_generator())._permutation(n)


class Sampler:
    """Base class: an iterable of dataset indices (define ``__iter__``, and ``__len__`` if the
    count is known)."""

    def __iter__(self) -> Iterator[Any]:
        msg = f"{type(self).__name__} must define __iter__, yielding indices"
        raise NotImplementedError(msg)


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in a random order: a new permutation each pass (or, with ``replacement``,
    ``num_samples`` independent draws).

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw with replacement.
        num_samples: how many indices per pass (default: the dataset's length; more than that
            needs ``replacement`` or repeats whole permutations, as PyTorch does).
        generator: a ``dualgrad.Generator``; each pass draws from it, so seeding it once makes
            every pass reproducible. Without one, each pass seeds itself from the active
            backend's generator (``dualgrad.manual_seed``).

    Raises:
        ValueError: ``num_samples`` that is not a positive int.
        TypeError: ``generator`` that is not a ``dualgrad.Generator``.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            msg = f"num_samples should be a positive integer value, but got {num_samples!r}"
            raise ValueError(msg)
        if generator is not None and not isinstance(generator, Generator):
            msg = f"generator must be a dualgrad.Generator, got {type(generator).__name__}"
            raise TypeError(msg)
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, wanted = len(self.data_source), self.num_samples
        generator = self.generator or _fresh_generator()
        if self.replacement:
            yield from generator._integers(n, wanted).tolist()
            return
        for _ in range(wanted // n if n else 0):
            yield from generator._permutation(n).tolist()
        if n:
            yield from generator._permutation(n)[: wanted % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size`` (the last one shorter,
    unless ``drop_last`` drops it).

    Raises:
        ValueError: ``batch_size`` that is not a positive int, or ``drop_last`` not a bool.

    Example:
        >>> from dualgrad.utils.data import BatchSampler, SequentialSampler
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Iterable[Any], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            msg = f"batch_size should be a positive integer value, but got {batch_size!r}"
            raise ValueError(msg)
        if not isinstance(drop_last, bool):
            msg = f"drop_last should be a boolean value, but got {drop_last!r}"
            raise ValueError(msg)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[Any]]:
        batch: list[Any] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        count = len(self.sampler)  # type: ignore[arg-type]
        if self.drop_last:
            return count // self.batch_size
        return -(-count // self.batch_size)
