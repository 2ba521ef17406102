"""``python -m benchmarks.per_sample_grads [--batch B] [--hidden H] [--rounds 7] [--number 20]``.

Per-example gradients of a 2-layer MLP (Linear, ReLU, Linear, cross entropy), float32, on the
NumPy backend, four ways side by side:

- ``vmap``: ``vmap(grad(loss), in_dims=(None, 0, 0))`` over ``functional_call``, one pass;
- ``loop``: one ``backward()`` per example, the gradients stacked;
- ``batched backward``: one ordinary ``backward()`` of the batch's mean loss (one gradient,
  not one per example: the floor vmap is measured against);
- ``torch.func.vmap`` and PyTorch's batched backward, where PyTorch is installed;
- the same two computations written by hand in NumPy, with no autodiff at all: the floor of
  the ratio, since per-example gradients write 256 weight-shaped outer products where the
  batched gradient sums them inside one matrix product.

Each round times every variant in turn, ``--number`` calls back to back (one for the loop, whose
call takes more than 50 ms), on CPU time, as every workload is timed (``_timing.measure``): the
load of a shared machine weighs on all alike; one BLAS thread for every peer; ratios are medians
of the round-by-round ratios. Not one call of each variant in turn, as an earlier version did:
a single call right after another variant's ran slower, the batched backward about twice as
slow (0.8 to 0.9 ms against 0.4 ms), which flattered vmap's ratio to it. The targets: vmap at
most 1.5x one batched backward, at least 10x faster than the loop. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Callable
from typing import Any

from . import _threads, _timing


def _variants(batch: int, features: int, hidden: int) -> dict[str, Callable[[], Any]]:
    import numpy as np

    import dualgrad
    import dualgrad.nn.functional as F
    from dualgrad import nn
    from dualgrad.func import functional_call, grad, vmap

    rng = np.random.default_rng(0)
    x_values = rng.standard_normal((batch, features)).astype(np.float32)
    y_values = rng.integers(0, 10, batch)
    dualgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    x, y = dualgrad.tensor(x_values), dualgrad.tensor(y_values)
    params = {name: p.detach() for name, p in model.named_parameters()}

    def example_loss(params: Any, x: Any, y: Any) -> Any:
        return F.cross_entropy(functional_call(model, params, (x[None],)), y[None])

    per_example = vmap(grad(example_loss), in_dims=(None, 0, 0))

    def with_vmap() -> Any:
        return per_example(params, x, y)

    def loop() -> Any:
        grads = []
        for i in range(batch):
            model.zero_grad()
            F.cross_entropy(model(x[i : i + 1]), y[i : i + 1]).backward()
            grads.append([p.grad for p in model.parameters()])
        return [dualgrad.stack(shards) for shards in zip(*grads, strict=True)]

    def batched_backward() -> Any:
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()
        return [p.grad for p in model.parameters()]

    variants = {
        "dualgrad vmap": with_vmap,
        "dualgrad loop": loop,
        "dualgrad batched backward": batched_backward,
        **_by_hand(x_values, y_values, params),
    }
    if importlib.util.find_spec("torch") is not None:
        variants.update(_torch_variants(x_values, y_values, params))
    return variants


def _by_hand(x: Any, y: Any, params: Any) -> dict[str, Callable[[], Any]]:
    """The model's gradients written out in NumPy, per example and batched (mean loss)."""
    import numpy as np

    w1, b1, w2, b2 = (
        params[name].numpy() for name in ("0.weight", "0.bias", "2.weight", "2.bias")
    )
    onehot = np.eye(w2.shape[0], dtype=x.dtype)[y]

    def cotangents() -> tuple[Any, Any, Any]:
        """The hidden activations and both layers' output cotangents of each example's loss."""
        pre = x @ w1.T + b1
        hidden = np.maximum(pre, 0)
        logits = hidden @ w2.T + b2
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        d_logits = exp / exp.sum(axis=1, keepdims=True) - onehot
        d_pre = (d_logits @ w2) * (pre > 0)
        return hidden, d_logits, d_pre

    def per_example() -> list[Any]:
        hidden, d_logits, d_pre = cotangents()
        outer = "bi,bj->bij"
        return [np.einsum(outer, d_pre, x), d_pre, np.einsum(outer, d_logits, hidden), d_logits]

    def batched() -> list[Any]:
        hidden, d_logits, d_pre = cotangents()
        d_logits, d_pre = d_logits / len(x), d_pre / len(x)
        return [d_pre.T @ x, d_pre.sum(0), d_logits.T @ hidden, d_logits.sum(0)]

    return {"numpy per-example by hand": per_example, "numpy batched by hand": batched}


def _torch_variants(x_values: Any, y_values: Any, params: Any) -> dict[str, Callable[[], Any]]:
    import torch

    _threads.pin_torch(torch, 1)
    weights = {name: torch.tensor(p.numpy()) for name, p in params.items()}
    x, y = torch.tensor(x_values), torch.tensor(y_values)
    features, hidden = weights["0.weight"].shape[1], weights["0.weight"].shape[0]
    model = torch.nn.Sequential(
        torch.nn.Linear(features, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10)
    )
    model.load_state_dict(weights)
    detached = {name: p.detach() for name, p in model.named_parameters()}

    def example_loss(params: Any, x: Any, y: Any) -> Any:
        logits = torch.func.functional_call(model, params, (x[None],))
        return torch.nn.functional.cross_entropy(logits, y[None])

    per_example = torch.func.vmap(torch.func.grad(example_loss), in_dims=(None, 0, 0))

    def batched_backward() -> Any:
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        return [p.grad for p in model.parameters()]

    return {
        "torch.func.vmap": lambda: per_example(detached, x, y),
        "torch batched backward": batched_backward,
    }


def _check(variants: dict[str, Callable[[], Any]]) -> None:
    """vmap's gradients are the loop's and the hand-written ones, and the batched backward's
    are the hand-written batched ones (the figures compare equal work)."""
    import numpy as np

    by_vmap = [g.numpy() for g in variants["dualgrad vmap"]().values()]
    by_loop = [g.numpy() for g in variants["dualgrad loop"]()]
    by_hand = variants["numpy per-example by hand"]()
    for ours, loop, hand in zip(by_vmap, by_loop, by_hand, strict=True):
        np.testing.assert_allclose(ours, loop, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(ours, hand, rtol=1e-4, atol=1e-5)
    batched = [g.numpy() for g in variants["dualgrad batched backward"]()]
    for ours, hand in zip(batched, variants["numpy batched by hand"](), strict=True):
        np.testing.assert_allclose(ours, hand, rtol=1e-4, atol=1e-6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=20, help="calls per round and variant")
    options = parser.parse_args()
    _threads.pin(1)  # before NumPy or torch is imported; one thread for every peer
    variants = _variants(options.batch, options.features, options.hidden)
    _check(variants)
    times = _timing.measure(
        variants, number=options.number, repeats=options.rounds, warmup=2, budget=0.05
    )
    print(
        f"per-example gradients, 2-layer MLP {options.features}-{options.hidden}-10, "
        f"batch {options.batch}, float32, NumPy backend; CPU ms per call, median of "
        f"{options.rounds} rounds of up to {options.number} calls"
    )
    print(f"{'variant':<28}{'ms':>10}{'vmap / variant':>16}")
    for name, samples in times.items():
        ratio = _timing.ratio(times["dualgrad vmap"], samples)
        print(f"{name:<28}{_timing.median(samples) * 1e3:>10.2f}{ratio:>15.2f}x")
    floor = _timing.ratio(times["numpy per-example by hand"], times["numpy batched by hand"])
    print(f"hand-written NumPy, per-example / batched: {floor:.2f}x (the floor, with no autodiff)")


if __name__ == "__main__":
    main()
