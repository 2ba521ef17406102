"""dualgrad.utils.data: datasets, samplers, the DataLoader and its collate, and
dualgrad.Generator's seeding, in a training loop in both modes."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np
import pytest
from rule_checks import make_tensor
from tensors import assert_close
from torch_compare import TIGHT, torch_or_skip

import dualgrad
from dualgrad.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def _data(backend: Any, n: int = 10) -> TensorDataset:
    x = make_tensor(backend, np.arange(2.0 * n).reshape(n, 2))
    y = make_tensor(backend, np.arange(n), "int64")
    return TensorDataset(x, y)


class Pairs(Dataset):
    """A map-style dataset of (NumPy array, int, str) samples, for collate."""

    def __len__(self) -> int:
        return 5

    def __getitem__(self, index: int) -> Any:
        return np.full(3, float(index)), index, f"item{index}"


# --- datasets -------------------------------------------------------------------------------
def test_tensor_dataset_gives_rows(backend: Any) -> None:
    data = _data(backend)
    x, y = data[3]
    assert len(data) == 10 and x.tolist() == [6.0, 7.0] and y.item() == 3


def test_tensor_dataset_checks_its_tensors(backend: Any) -> None:
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(dualgrad.ones(3, 2), dualgrad.ones(4))
    with pytest.raises(TypeError, match="not a Tensor"):
        TensorDataset(np.ones(3))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_dataset_without_getitem_says_what_to_define() -> None:
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]


def test_subset_and_random_split(backend: Any) -> None:
    data = _data(backend)
    assert Subset(data, [4, 1])[1][1].item() == 1
    generator = dualgrad.Generator().manual_seed(3)
    parts = random_split(data, [0.7, 0.3], generator=generator)
    assert [len(p) for p in parts] == [7, 3]
    indices = sorted(i for p in parts for i in p.indices)
    assert indices == list(range(10))
    again = random_split(data, [7, 3], generator=dualgrad.Generator().manual_seed(3))
    assert [p.indices for p in again] == [p.indices for p in parts]
    assert [len(p) for p in random_split(range(10), [0.34, 0.33, 0.33])] == [4, 3, 3]
    with pytest.raises(ValueError, match="sum to the dataset's length 10"):
        random_split(data, [5, 4])


# --- samplers -------------------------------------------------------------------------------
def test_random_sampler_is_a_permutation_that_the_generator_repeats() -> None:
    orders = [
        list(RandomSampler(range(20), generator=dualgrad.Generator().manual_seed(7)))
        for _ in range(2)
    ]
    assert orders[0] == orders[1] and sorted(orders[0]) == list(range(20))
    assert orders[0] != list(range(20))


def test_random_sampler_draws_a_new_order_each_pass_and_follows_manual_seed() -> None:
    sampler = RandomSampler(range(20))
    dualgrad.manual_seed(0)
    first, second = list(sampler), list(sampler)
    dualgrad.manual_seed(0)
    assert first != second and list(sampler) == first


def test_random_sampler_with_replacement_and_num_samples() -> None:
    generator = dualgrad.Generator().manual_seed(1)
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=50, generator=generator))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2}
    longer = list(RandomSampler(range(4), num_samples=10, generator=generator))
    assert sorted(longer[:4]) == [0, 1, 2, 3] and sorted(longer[4:8]) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="positive integer"):
        RandomSampler(range(3), num_samples=0)


def test_batch_sampler_groups_and_counts() -> None:
    assert list(BatchSampler(SequentialSampler(range(7)), 3, drop_last=True)) == [
        [0, 1, 2],
        [3, 4, 5],
    ]
    assert len(BatchSampler(range(7), 3, drop_last=False)) == 3
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(7), 0, drop_last=False)


# --- the DataLoader -------------------------------------------------------------------------
def test_loader_batches_in_order_with_a_shorter_last_batch(backend: Any) -> None:
    loader = DataLoader(_data(backend), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [tuple(y.shape) for _, y in batches] == [(4,), (4,), (2,)]
    assert batches[2][1].tolist() == [8, 9] and batches[0][0].shape == (4, 2)
    assert isinstance(batches[0], list)  # as PyTorch's default_collate gives for tuples
    assert batches[0][0].backend is backend


def test_loader_drop_last(backend: Any) -> None:
    loader = DataLoader(_data(backend), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(y) for _, y in loader] == [4, 4]


def test_shuffled_loader_visits_every_sample_once_per_epoch_reproducibly(backend: Any) -> None:
    def epochs(seed: int) -> list[list[int]]:
        loader = DataLoader(
            _data(backend),
            batch_size=3,
            shuffle=True,
            generator=dualgrad.Generator().manual_seed(seed),
        )
        return [[int(v) for _, y in loader for v in y.tolist()] for _ in range(2)]

    first = epochs(0)
    assert first == epochs(0) and first != epochs(1)
    assert first[0] != first[1]  # a new order each epoch
    assert all(sorted(order) == list(range(10)) for order in first)


def test_tensor_dataset_fast_path_gives_what_the_default_collate_gives(backend: Any) -> None:
    class Rows(TensorDataset):
        def __getitem__(self, index: Any) -> Any:  # not a plain TensorDataset: no fast path
            return super().__getitem__(index)

    data = _data(backend)
    fast = list(DataLoader(data, batch_size=4))
    slow = list(DataLoader(Rows(*data.tensors), batch_size=4))
    for (fx, fy), (sx, sy) in zip(fast, slow, strict=True):
        assert fx.tolist() == sx.tolist() and fy.tolist() == sy.tolist()
        assert fx.dtype is sx.dtype and fy.dtype is sy.dtype


def test_default_collate_of_arrays_numbers_strings_dicts_and_named_tuples() -> None:
    batch = default_collate([Pairs()[i] for i in range(3)])
    assert batch[0].shape == (3, 3) and batch[1].tolist() == [0, 1, 2]
    assert batch[1].dtype is dualgrad.int64 and batch[2] == ["item0", "item1", "item2"]
    assert default_collate([0.5, 1.5]).dtype is dualgrad.float64
    assert default_collate([True, False]).dtype is dualgrad.bool
    records = default_collate([{"x": dualgrad.ones(2), "n": 1}, {"x": dualgrad.zeros(2), "n": 2}])
    assert records["x"].tolist() == [[1.0, 1.0], [0.0, 0.0]] and records["n"].tolist() == [1, 2]
    Point = namedtuple("Point", "x y")
    points = default_collate([Point(1.0, 2), Point(3.0, 4)])
    assert isinstance(points, Point) and points.x.tolist() == [1.0, 3.0]


def test_default_collate_errors() -> None:
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


def test_loader_of_a_map_dataset_with_dict_samples_and_a_custom_collate() -> None:
    class Records(Dataset):
        def __len__(self) -> int:
            return 4

        def __getitem__(self, index: int) -> Any:
            return {"x": dualgrad.full((2,), float(index)), "label": index % 2}

    batches = list(DataLoader(Records(), batch_size=2))
    assert batches[1]["x"].tolist() == [[2.0, 2.0], [3.0, 3.0]] and batches[1][
        "label"
    ].tolist() == [0, 1]
    counted = list(DataLoader(Records(), batch_size=3, collate_fn=len))
    assert counted == [3, 1]


def test_loader_without_batching_converts_arrays() -> None:
    samples = list(DataLoader(Pairs(), batch_size=None))
    assert len(samples) == 5 and samples[2][0].tolist() == [2.0, 2.0, 2.0] and samples[2][1] == 2


def test_loader_with_a_batch_sampler() -> None:
    loader = DataLoader(Pairs(), batch_sampler=[[4, 0], [2]])
    assert [batch[1].tolist() for batch in loader] == [[4, 0], [2]]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (
            {"sampler": SequentialSampler(range(5)), "shuffle": True},
            "mutually exclusive with shuffle",
        ),
        ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive"),
        ({"batch_size": None, "drop_last": True}, "disables auto-batching"),
        ({"num_workers": -1}, "non-negative"),
        ({"timeout": -1}, "non-negative"),
    ],
)
def test_loader_rejects_options_that_exclude_each_other(options: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        DataLoader(Pairs(), **options)


def test_loader_with_workers_loads_the_same_batches() -> None:
    with pytest.warns(UserWarning, match="worker_init_fn is not called"):
        loader = DataLoader(Pairs(), batch_size=2, num_workers=2, worker_init_fn=print)
    assert [b[1].tolist() for b in loader] == [[0, 1], [2, 3], [4]]


# --- the Generator --------------------------------------------------------------------------
def test_generator_state_round_trips_and_seeds_are_kept() -> None:
    generator = dualgrad.Generator()
    assert generator.initial_seed() == 67280421310721  # PyTorch's unseeded value
    generator.manual_seed(5)
    state = generator.get_state()
    first = generator._permutation(10).tolist()
    generator.set_state(state)
    assert generator._permutation(10).tolist() == first and generator.initial_seed() == 5
    assert isinstance(generator.seed(), int)


def test_generator_errors() -> None:
    with pytest.raises(ValueError, match="device='cpu'"):
        dualgrad.Generator(device="cuda")
    with pytest.raises(TypeError, match="manual_seed expected an int"):
        dualgrad.Generator().manual_seed(1.5)
    with pytest.raises(ValueError, match="not a generator state"):
        dualgrad.Generator().set_state(dualgrad.tensor([1, 2], dtype=dualgrad.uint8))


# --- the usual training loop ----------------------------------------------------------------
def test_training_loop_with_a_loader_matches_pytorch(backend: Any, mode: Any) -> None:
    """Mini-batch SGD over the same batches: the data order is the loader's (PyTorch shuffles
    with another generator), so both loops are fed the order dualgrad's loader gives."""
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    x, y, w0 = (
        rng.standard_normal((12, 3)),
        rng.standard_normal((12, 1)),
        rng.standard_normal((1, 3)),
    )
    loader = DataLoader(
        TensorDataset(make_tensor(backend, x), make_tensor(backend, y)),
        batch_size=5,
        shuffle=True,
        generator=dualgrad.Generator().manual_seed(0),
    )
    w = make_tensor(backend, w0, requires_grad=True)
    tw = torch.from_numpy(w0.copy()).requires_grad_()
    optimizer, torch_optimizer = dualgrad.optim.SGD([w], lr=0.1), torch.optim.SGD([tw], lr=0.1)
    for _ in range(2):
        for inputs, targets in loader:
            optimizer.zero_grad()
            ((inputs @ w.T - targets) ** 2).mean().backward()
            optimizer.step()
            torch_optimizer.zero_grad()
            tx, ty = (torch.from_numpy(np.array(t.numpy())) for t in (inputs, targets))
            ((tx @ tw.T - ty) ** 2).mean().backward()
            torch_optimizer.step()
    assert_close(w.detach().numpy(), tw.detach().numpy(), TIGHT, TIGHT, "weights after two epochs")
