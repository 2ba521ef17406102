"""amp.GradScaler against PyTorch's, step by step: the scaled loss, the skipped steps and the
scale's backoff and growth, the parameters after each step, the state dict, the order of calls
PyTorch refuses, and the scalers that pass everything through."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from tensors import assert_close
from torch_compare import torch_or_skip

import dualgrad

WEIGHTS = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32)
DATA = np.array([[1.0, 2.0], [-3.0, 0.5], [0.1, -0.2]], dtype=np.float32)


def _training(library, scaler, steps, clip=None):
    """A linear model trained through ``scaler``; after each step, (the weight, the scale,
    the state dict)."""
    weight = library.tensor(WEIGHTS, requires_grad=True)
    optimizer = library.optim.SGD([weight], lr=0.01)
    x = library.tensor(DATA)
    trace = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((x @ weight) ** 2).mean()
        scaler.scale(loss).backward()
        if clip is not None:
            scaler.unscale_(optimizer)
            library.nn.utils.clip_grad_norm_([weight], clip)
        assert scaler.step(optimizer) is None  # SGD's step returns None; a skipped step too
        scaler.update()
        trace.append((weight.detach().clone(), scaler.get_scale(), scaler.state_dict()))
    return trace


@pytest.mark.parametrize(
    ("options", "clip"),
    [
        ({}, None),
        # 2**127 overflows the gradients: the first steps are skipped and the scale halves
        # until they fit; then it doubles every two good steps.
        ({"init_scale": 2.0**127, "growth_interval": 2}, None),
        ({"init_scale": 2.0**127, "growth_interval": 3, "growth_factor": 4.0}, 1.0),
        ({"init_scale": 1000.0, "backoff_factor": 0.25, "growth_interval": 1}, 0.5),
    ],
)
def test_training_through_a_scaler_is_pytorchs(backend, options, clip):
    torch = torch_or_skip()
    with np.errstate(over="ignore", invalid="ignore"):  # where a step overflows: the point
        ours = _training(dualgrad, dualgrad.amp.GradScaler("cpu", **options), 8, clip)
    theirs = _training(torch, torch.amp.GradScaler("cpu", **options), 8, clip)
    for step, (mine, reference) in enumerate(zip(ours, theirs, strict=True)):
        assert_close(mine[0], reference[0], 1e-6, 1e-6, f"weight after step {step}")
        assert mine[1] == reference[1], f"scale after step {step}"
        their_state = {**reference[2], "_growth_tracker": int(reference[2]["_growth_tracker"])}
        assert mine[2] == their_state, f"state after step {step}"
    overflowed = options.get("init_scale", 0) > 2.0**100
    assert (ours[0][0].tolist() == WEIGHTS.tolist()) == overflowed  # the step was skipped
    assert (ours[0][1] < options.get("init_scale", 2.0**16)) == overflowed  # the scale backed off


def test_scale_keeps_the_structure_of_its_outputs(backend):
    scaler = dualgrad.amp.GradScaler("cpu", init_scale=4.0)
    a, b = dualgrad.ones(2), dualgrad.ones(1)
    assert_close(scaler.scale(a), [4.0, 4.0])
    pair = scaler.scale((a, b))
    assert type(pair) is tuple
    assert_close(pair[1], [4.0])
    assert [t.tolist() for t in scaler.scale([a, [b]])[1]] == [[4.0]]
    with pytest.raises(ValueError, match="iterable of Tensors"):
        scaler.scale(3.0)


def test_state_dict_loads_into_a_new_scaler(backend):
    scaler = dualgrad.amp.GradScaler("cpu", init_scale=8.0, growth_interval=5)
    _training(dualgrad, scaler, 3)
    copy = dualgrad.amp.GradScaler("cpu")
    copy.load_state_dict(scaler.state_dict())
    assert (
        copy.state_dict()
        == scaler.state_dict()
        == {
            "scale": 8.0,
            "growth_factor": 2.0,
            "backoff_factor": 0.5,
            "growth_interval": 5,
            "_growth_tracker": 3,
        }
    )
    with pytest.raises(RuntimeError, match="state dict is empty"):
        copy.load_state_dict({})


def _ready():
    weight = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    optimizer = dualgrad.optim.SGD([weight], lr=0.1)
    scaler = dualgrad.amp.GradScaler("cpu")
    scaler.scale((weight * weight).sum()).backward()
    return weight, optimizer, scaler


def test_the_calls_pytorch_refuses_raise_its_messages(backend):
    _, optimizer, scaler = _ready()
    scaler.unscale_(optimizer)
    with pytest.raises(RuntimeError, match="already been called on this optimizer"):
        scaler.unscale_(optimizer)
    scaler.step(optimizer)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(optimizer)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(optimizer)
    scaler.update()
    with pytest.raises(RuntimeError, match="No inf checks were recorded"):
        scaler.update()
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(optimizer, closure=lambda: None)
    fresh = dualgrad.amp.GradScaler("cpu")
    for call in (lambda: fresh.step(optimizer), fresh.update, lambda: fresh.unscale_(optimizer)):
        with pytest.raises(RuntimeError, match=r"did not use scaler\.scale"):
            call()
    for options, message in (
        ({"growth_factor": 1.0}, "growth factor must be > 1.0"),
        ({"backoff_factor": 1.0}, "backoff factor must be < 1.0"),
    ):
        with pytest.raises(ValueError, match=message):
            dualgrad.amp.GradScaler("cpu", **options)


def test_update_takes_a_new_scale(backend):
    _, _, scaler = _ready()
    scaler.update(128.0)
    assert scaler.get_scale() == 128.0
    scaler.update(dualgrad.tensor([0.5]))
    assert scaler.get_scale() == 0.5
    for bad in (2, dualgrad.tensor([1.0, 2.0]), dualgrad.tensor(1.0, requires_grad=True)):
        with pytest.raises(ValueError, match="new_scale should be a float"):
            scaler.update(bad)
    assert scaler.get_scale() == 0.5


def test_float16_gradients_are_not_unscaled(backend):
    try:
        weight = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float16, requires_grad=True)
    except TypeError as err:  # array_api_strict has no float16
        pytest.skip(str(err))
    optimizer = dualgrad.optim.SGD([weight], lr=0.1)
    scaler = dualgrad.amp.GradScaler("cpu", init_scale=2.0)
    scaler.scale(weight.sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        scaler.step(optimizer)
    assert weight.grad.tolist() == [2.0, 2.0]  # unchanged


def test_a_disabled_scaler_passes_everything_through(backend):
    torch = torch_or_skip()
    for library in (dualgrad, torch):
        scaler = library.amp.GradScaler("cpu", enabled=False)
        weight = library.tensor([1.0, 2.0], requires_grad=True)
        optimizer = library.optim.SGD([weight], lr=0.1)
        loss = (weight * weight).sum()
        assert scaler.scale(loss) is loss
        loss.backward()
        scaler.unscale_(optimizer)
        assert scaler.step(optimizer) is None
        scaler.update()
        assert weight.tolist() == pytest.approx([0.8, 1.6])
        assert (scaler.get_scale(), scaler.state_dict(), scaler.is_enabled()) == (1.0, {}, False)


def test_a_cuda_scaler_without_cuda_disables_itself_as_pytorchs(backend):
    if dualgrad.cuda.is_available():
        pytest.skip("the active backend has a CUDA device")
    torch = torch_or_skip()
    for library in (dualgrad, torch):
        with pytest.warns(UserWarning, match=r"CUDA is not available\.  Disabling\."):
            assert not library.amp.GradScaler().is_enabled()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert not library.cuda.amp.GradScaler().is_enabled()
        messages = [str(w.message) for w in caught]
        assert any("torch.cuda.amp.GradScaler(args...)` is deprecated" in m for m in messages)
        assert {w.category for w in caught} == {FutureWarning, UserWarning}
