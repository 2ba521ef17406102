"""``DataLoader``: batches of a dataset, as ``torch.utils.data.DataLoader``, and the collate
function that stacks samples into batches."""

from __future__ import annotations

__all__ = ["DataLoader", "default_collate", "default_convert"]

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ... import config
from ... import functions as fn
from ..._dtypes import float64, int64
from ..._generator import Generator
from ...tensor import Tensor
from .dataset import TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def default_convert(data: Any) -> Any:
    """One sample as a batch-less loader returns it: NumPy arrays become Tensors, inside
    dicts, tuples and lists too; anything else stays as it is."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSUV":
        return fn.asarray(data)
    if isinstance(data, Mapping):
        return type(data)({key: default_convert(value) for key, value in data.items()})  # type: ignore[call-arg]
    if _is_namedtuple(data):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, tuple):
        return [default_convert(value) for value in data]
    if isinstance(data, list):
        return [default_convert(value) for value in data]
    return data


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, as PyTorch's ``default_collate``.

    Tensors and NumPy arrays are stacked along a new first axis; Python floats become a
    float64 Tensor, ints (and bools) an int64 (bool) Tensor; strings stay a list. Dicts are
    collated key by key, named tuples field by field, and tuples and lists position by position
    (a tuple gives a list, as in PyTorch).

    Raises:
        RuntimeError: samples (lists or tuples) of different lengths.
        TypeError: an element of another type.

    Example:
        >>> import dualgrad
        >>> from dualgrad.utils.data import default_collate
        >>> default_collate([(dualgrad.tensor([1.0, 2.0]), 0), (dualgrad.tensor([3.0, 4.0]), 1)])
        [tensor([[1., 2.],
                [3., 4.]]), tensor([0, 1])]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return fn.stack(list(batch), axis=0)
    if isinstance(elem, np.ndarray) and elem.dtype.kind not in "OSUV":
        return fn.asarray(np.stack(batch))
    if isinstance(elem, np.generic) and elem.dtype.kind not in "OSUV":
        return fn.asarray(np.asarray(batch))
    if isinstance(elem, float):
        return fn.tensor(list(batch), dtype=float64)
    if isinstance(elem, bool):
        return fn.tensor(list(batch))
    if isinstance(elem, int):
        return fn.tensor(list(batch), dtype=int64)
    if isinstance(elem, str | bytes):
        return list(batch)
    if isinstance(elem, Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)  # type: ignore[call-arg]
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch, strict=True)))
    if isinstance(elem, Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            msg = "each element in list of batch should be of equal size"
            raise RuntimeError(msg)
        return [default_collate(list(position)) for position in zip(*batch, strict=True)]
    msg = (
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}"
    )
    raise TypeError(msg)


class DataLoader:
    """Iterates over a dataset in batches, as ``torch.utils.data.DataLoader``.

    Each batch is ``collate_fn([dataset[i] for i in indices])``; a ``TensorDataset`` with the
    default collate is gathered with one indexing operation per tensor instead, which gives the
    same batch faster. Loading runs in the calling process: ``num_workers`` is accepted (the
    batches are the same) but starts no worker processes, and ``pin_memory`` has nothing to pin
    without a GPU's host memory, so both only change speed in PyTorch, not results.

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size: samples per batch; None yields single samples (``default_convert``ed).
        shuffle: visit the samples in a new random order each pass.
        sampler: the order of the indices instead (exclusive with ``shuffle``).
        batch_sampler: yields whole lists of indices (exclusive with ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``).
        num_workers: accepted, >= 0 (see above).
        collate_fn: turns a list of samples into a batch (default: ``default_collate``).
        pin_memory: accepted (see above).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        timeout: accepted, >= 0 (no workers to wait for).
        worker_init_fn: never called (there are no workers); warns when given with workers.
        generator: the ``dualgrad.Generator`` that shuffles; seed it for the same order every
            run. Without one, each pass seeds itself from the active backend's generator, so
            ``dualgrad.manual_seed`` makes runs repeat.

    Raises:
        ValueError: options that exclude each other, or out of range.

    Example:
        >>> import dualgrad
        >>> from dualgrad.utils.data import DataLoader, TensorDataset
        >>> data = TensorDataset(dualgrad.arange(10.0).reshape(5, 2), dualgrad.arange(5))
        >>> loader = DataLoader(data, batch_size=2, shuffle=True,
        ...                     generator=dualgrad.Generator().manual_seed(0))
        >>> [tuple(y.shape) for x, y in loader], len(loader)
        ([(2,), (2,), (1,)], 3)
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterator[Any] | None = None,
        batch_sampler: Sampler | Iterator[Any] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if not isinstance(num_workers, int) or num_workers < 0:
            msg = (
                f"num_workers option should be non-negative; use num_workers=0 to disable "
                f"multiprocessing, got {num_workers!r}"
            )
            raise ValueError(msg)
        if timeout < 0:
            msg = f"timeout option should be non-negative, got {timeout}"
            raise ValueError(msg)
        if num_workers > 0 and worker_init_fn is not None:
            warnings.warn(
                "DataLoader: dualgrad loads in the calling process, with no worker processes, "
                "so worker_init_fn is not called",
                UserWarning,
                stacklevel=2,
            )
        if sampler is not None and shuffle:
            msg = "sampler option is mutually exclusive with shuffle"
            raise ValueError(msg)
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                msg = (
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
                raise ValueError(msg)
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            msg = (
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
            raise ValueError(msg)
        if sampler is None:
            sampler = (
                RandomSampler(dataset, generator=generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.collate_fn = collate_fn or (
            default_collate if batch_sampler is not None else default_convert
        )

    def __iter__(self) -> Iterator[Any]:
        if self.batch_sampler is None:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        gather = self._tensor_gather()
        for indices in self.batch_sampler:
            if gather is not None:
                yield gather(indices)
            else:
                yield self.collate_fn([self.dataset[index] for index in indices])

    def _tensor_gather(self) -> Callable[[list[int]], list[Tensor]] | None:
        """A TensorDataset's batch in one indexing per tensor, when that is what the default
        collate would stack (a list, as ``default_collate`` makes of tuple samples)."""
        dataset = self.dataset
        if self.collate_fn is not default_collate or not isinstance(dataset, TensorDataset):
            return None
        if type(dataset).__getitem__ is not TensorDataset.__getitem__:
            return None

        def gather(indices: list[int]) -> list[Tensor]:
            rows = np.asarray(indices, dtype=np.int64)
            return [fn.take(tensor, _on(tensor, rows), axis=0) for tensor in dataset.tensors]

        return gather

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)  # type: ignore[arg-type]
        return len(self.sampler)  # type: ignore[arg-type]


def _on(tensor: Tensor, rows: np.ndarray) -> Tensor:
    with config.use_backend(tensor.backend.name):
        return fn.asarray(rows)
