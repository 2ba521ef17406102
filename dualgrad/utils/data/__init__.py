"""Loading data in batches, as ``torch.utils.data``: datasets, samplers and the DataLoader.

Example:
    >>> import dualgrad
    >>> from dualgrad.utils.data import DataLoader, TensorDataset
    >>> x, y = dualgrad.randn(10, 3), dualgrad.randn(10, 1)
    >>> for inputs, targets in DataLoader(TensorDataset(x, y), batch_size=4):
    ...     print(tuple(inputs.shape), tuple(targets.shape))
    (4, 3) (4, 1)
    (4, 3) (4, 1)
    (2, 3) (2, 1)
"""

from __future__ import annotations

from .dataloader import DataLoader, default_collate, default_convert
from .dataset import Dataset, Subset, TensorDataset, random_split
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = [
    "BatchSampler",
    "DataLoader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "TensorDataset",
    "default_collate",
    "default_convert",
    "random_split",
]
