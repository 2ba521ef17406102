"""vmap over indexing with each example's own index arrays: ``x[i]``, ``take``, ``gather``,
the scatters and ``F.embedding``, with the indexed tensor mapped or shared, their gradients,
and the bounds, on every backend and in both modes.

References: a Python loop over the examples (the definition of vmap), ``torch.func`` where
installed.
"""

from __future__ import annotations

import numpy as np
import pytest
from tensors import assert_close, leaf, values

import dualgrad
import dualgrad.nn.functional as F

RNG = np.random.default_rng(11)
X = RNG.standard_normal((3, 5, 4, 2))  # a batch of 3 examples of shape (5, 4, 2)
I = RNG.integers(-5, 5, (3, 4))  # each example's indices along its first axis  # noqa: E741
K = RNG.integers(-2, 2, (3, 4))  # ... along its last axis

pytestmark = pytest.mark.usefixtures("backend", "mode")  # every backend, both modes


def _ints(data):
    return leaf(data, dtype=dualgrad.int64)


def _loop(function, *batched, shared=None):
    """The definition: ``function`` on each example (and the shared tensor), stacked."""
    size = len(batched[0])
    extra = () if shared is None else (shared,)
    return np.stack([values(function(*extra, *(b[n] for b in batched))) for n in range(size)])


KEYS = {
    "x[i]": lambda x, i, k: x[i],
    "x[i, 1]": lambda x, i, k: x[i, 1],
    "x[..., k]": lambda x, i, k: x[..., k],
    "x[i, :, k] (split)": lambda x, i, k: x[i, :, k],
    "x[i, 2:, k] (split)": lambda x, i, k: x[i, 2:, k],
    "x[None, i, -1]": lambda x, i, k: x[None, i, -1],
    "x[i[:2, None], :, k[:3]]": lambda x, i, k: x[i[:2, None], :, k[:3]],
    "take axis 0": lambda x, i, k: dualgrad.take(x, i, axis=0),
    "take axis 2": lambda x, i, k: dualgrad.take(x, k, axis=2),
    "take axis -2": lambda x, i, k: dualgrad.take(x, k + 2, axis=-2),
    "gather dim 0": lambda x, i, k: x.gather(0, (i % 5)[:, None, None].expand(4, 4, 2)),
}


@pytest.mark.parametrize("name", list(KEYS))
def test_each_examples_indices_pick_as_a_loop_does(name):
    key = KEYS[name]
    x, i, k = leaf(X), _ints(I), _ints(K)
    assert_close(dualgrad.vmap(key)(x, i, k), _loop(key, x, i, k), 1e-12, 1e-12, name)
    # One tensor for the whole batch, each example with its own indices.
    shared = leaf(X[0])
    got = dualgrad.vmap(key, in_dims=(None, 0, 0))(shared, i, k)
    assert_close(got, _loop(key, i, k, shared=shared), 1e-12, 1e-12, f"{name}, x shared")


@pytest.mark.parametrize("name", list(KEYS))
def test_gradients_through_each_examples_indices_are_a_loops(name):
    """The cotangent scatters back with each example's indices, into its own x or into one
    shared x (per-example gradients of a shared tensor); the tangent gathers with them."""
    key = KEYS[name]

    def loss(x, i, k):
        return (dualgrad.sin(key(x, i, k)) * key(x, i, k)).sum()

    grad = dualgrad.grad(loss)
    x, i, k = leaf(X), _ints(I), _ints(K)
    assert_close(dualgrad.vmap(grad)(x, i, k), _loop(grad, x, i, k), 1e-12, 1e-12, name)
    shared = leaf(X[0])
    got = dualgrad.vmap(grad, in_dims=(None, 0, 0))(shared, i, k)
    assert_close(got, _loop(grad, i, k, shared=shared), 1e-12, 1e-12, f"{name}, x shared")

    def pushed(x, t, i, k):
        return dualgrad.jvp(lambda z: key(z, i, k), (x,), (t,))[1]

    t = leaf(RNG.standard_normal(X.shape))
    assert_close(dualgrad.vmap(pushed)(x, t, i, k), _loop(pushed, x, t, i, k), 1e-12, 1e-12)


def test_nested_vmaps_index_with_the_innermost_examples_indices():
    xs = leaf(RNG.standard_normal((2, 3, 5, 4)))
    indices = _ints(RNG.integers(0, 5, (2, 3, 6)))
    got = dualgrad.vmap(dualgrad.vmap(lambda x, i: x[i, 1:]))(xs, indices)
    expected = np.stack(
        [
            np.stack([X_[I_, 1:] for X_, I_ in zip(xb, ib, strict=True)])
            for xb, ib in zip(values(xs), values(indices), strict=True)
        ]
    )
    assert_close(got, expected, 1e-12, 1e-12)
    shared = leaf(X[0])
    got = dualgrad.vmap(dualgrad.vmap(lambda i: shared[i, :, -1]))(indices)
    assert_close(got, X[0][values(indices), :, -1], 1e-12, 1e-12)


def test_scatters_with_each_examples_indices_add_and_write_as_a_loop():
    base = leaf(RNG.standard_normal((3, 5, 2)))
    source = leaf(RNG.standard_normal((3, 4, 2)))
    rows = _ints(RNG.integers(0, 5, (3, 4)))
    operations = {
        "index_add": lambda b, r, s: b.index_add(0, r, s),
        "scatter_add": lambda b, r, s: b.scatter_add(0, r[:, None].expand(4, 2), s),
        "index_put": lambda b, r, s: dualgrad.index_put(b, (r[:1],), s[:1]),
        "index_fill": lambda b, r, s: b.index_fill(0, r, -1.0),
    }
    for name, operation in operations.items():
        got = dualgrad.vmap(operation)(base, rows, source)
        assert_close(got, _loop(operation, base, rows, source), 1e-12, 1e-12, name)
        shared = base[0]
        got = dualgrad.vmap(operation, in_dims=(None, 0, 0))(shared, rows, source)
        expected = _loop(operation, rows, source, shared=shared)
        assert_close(got, expected, 1e-12, 1e-12, f"{name}, base shared")


def test_an_index_out_of_range_raises_index_error_on_every_backend():
    """JAX clamps an out-of-range gather by itself; inside vmap dualgrad reads every example's
    indices, as it does outside (an index past one example's end must not read the next's)."""
    x = leaf(X)
    for bad in ([[0, 5]] * 3, [[0, -6]] * 3):
        with pytest.raises(IndexError, match=r"out of (bounds|range)"):
            dualgrad.vmap(lambda x, i: x[i])(x, _ints(bad))
        with pytest.raises(IndexError, match=r"out of (bounds|range)"):
            dualgrad.vmap(lambda x, i: dualgrad.take(x, i, axis=0))(x, _ints(bad))
        with pytest.raises(IndexError, match=r"out of (bounds|range)"):
            dualgrad.vmap(lambda i: x[0][i])(_ints(bad))


def test_per_sample_gradients_of_an_embedding_model_are_a_loop_of_backward():
    weight = leaf(RNG.standard_normal((10, 3)))
    tokens = _ints(RNG.integers(0, 10, (6, 5)))
    targets = leaf(RNG.standard_normal((6, 3)))

    def loss(weight, tokens, target):
        return ((F.embedding(tokens, weight).mean(0) - target) ** 2).sum()

    ours = dualgrad.vmap(dualgrad.grad(loss), in_dims=(None, 0, 0))(weight, tokens, targets)
    for n in range(6):
        w = weight.detach().clone().requires_grad_()
        loss(w, tokens[n], targets[n]).backward()
        assert_close(ours[n], w.grad, 1e-12, 1e-12, f"example {n}")


def test_per_sample_gradients_of_an_embedding_bag_classifier_match_torch_func(torch):
    dualgrad.manual_seed(0)
    weights = RNG.standard_normal((12, 4)).astype(np.float32)
    head = RNG.standard_normal((3, 4)).astype(np.float32)
    tokens = RNG.integers(0, 12, (8, 7))
    labels = RNG.integers(0, 3, 8)

    def loss_of(lib):
        def loss(params, tokens, label):
            pooled = lib.nn.functional.embedding(tokens, params["embedding"]).mean(0)
            logits = pooled @ params["head"].T
            return lib.nn.functional.cross_entropy(logits[None], label[None])

        return loss

    ours = dualgrad.vmap(dualgrad.grad(loss_of(dualgrad)), in_dims=(None, 0, 0))(
        {
            "embedding": leaf(weights, dtype=dualgrad.float32),
            "head": leaf(head, dtype=dualgrad.float32),
        },
        _ints(tokens),
        _ints(labels),
    )
    theirs = torch.func.vmap(torch.func.grad(loss_of(torch)), in_dims=(None, 0, 0))(
        {"embedding": torch.tensor(weights), "head": torch.tensor(head)},
        torch.tensor(tokens),
        torch.tensor(labels),
    )
    for name in ("embedding", "head"):
        assert_close(ours[name], theirs[name], 1e-5, 1e-6, name)


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="PyTorch is a reference: pip install torch")
