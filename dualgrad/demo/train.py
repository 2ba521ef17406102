"""Training the demo's classifier, measuring it, and comparing the two engines on it."""

from __future__ import annotations

__all__ = [
    "accuracy",
    "as_tensor",
    "mode_gradient_difference",
    "predict",
    "train",
    "training_step",
]

from collections.abc import Callable

import numpy as np

from .. import _jit, config, nn, optim
from .._dtypes import DType
from ..autograd import no_grad
from ..functions.creation import tensor
from ..tensor import Tensor

Step = Callable[[Tensor, Tensor], Tensor]


def as_tensor(array: np.ndarray, dtype: DType | None = None) -> Tensor:
    """A NumPy array as a Tensor on the active backend, in ``dtype`` if given.

    ``dualgrad.tensor`` of a NumPy array keeps it on NumPy; the demo's data belongs on the
    backend the user chose.
    """
    if dtype is not None:
        array = array.astype(dtype.name)
    return tensor(config.get_backend().from_numpy(array))


def training_step(
    model: nn.Module, optimizer: optim.Optimizer, loss_fn: nn.Module, *, jit: bool = False
) -> Step:
    """One optimizer step on a batch; returns the loss before the update.

    With ``jit``, the whole step is compiled by ``dualgrad.jit`` (on the JAX backend; elsewhere
    it runs as it is).
    """

    def step(inputs: Tensor, labels: Tensor) -> Tensor:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss

    return _jit.jit(step) if jit else step


def train(
    model: nn.Module,
    inputs: Tensor,
    labels: Tensor,
    *,
    epochs: int,
    lr: float,
    jit: bool = False,
    on_epoch: Callable[[float], None] | None = None,
) -> list[float]:
    """Full-batch training with Adam and cross entropy; returns the loss of every epoch.

    Args:
        model: maps ``inputs`` to class logits.
        inputs: ``(n, features)`` floating point.
        labels: ``(n,)`` class indices.
        epochs: how many steps, each on the whole data set.
        lr: Adam's learning rate.
        jit: compile the step with ``dualgrad.jit``.
        on_epoch: called with each epoch's loss (a progress bar, say).
    """
    step = training_step(
        model, optim.Adam(model.parameters(), lr=lr), nn.CrossEntropyLoss(), jit=jit
    )
    losses = []
    for _ in range(epochs):
        loss = step(inputs, labels).item()
        losses.append(loss)
        if on_epoch is not None:
            on_epoch(loss)
    return losses


def predict(model: nn.Module, inputs: Tensor) -> np.ndarray:
    """The most likely class of each input, as a NumPy array."""
    with no_grad():
        logits = model(inputs).numpy()
    return np.argmax(logits, axis=-1)


def accuracy(model: nn.Module, inputs: Tensor, labels: Tensor) -> float:
    """The fraction of ``inputs`` whose most likely class is the label."""
    return float(np.mean(predict(model, inputs) == labels.numpy()))


def mode_gradient_difference(
    model: nn.Module, loss_fn: nn.Module, inputs: Tensor, labels: Tensor
) -> float:
    """The largest difference between the parameters' gradients in reverse and forward mode.

    The same batch's loss is differentiated by ``backward()`` once with each engine; the
    model's gradients are cleared afterwards.
    """
    gradients = {}
    for mode in config.MODES:
        model.zero_grad()
        with config.use_mode(mode):
            loss_fn(model(inputs), labels).backward()
        gradients[mode] = [p.grad.numpy() for p in model.parameters()]
    model.zero_grad()
    reverse, forward = (gradients[mode] for mode in ("reverse", "forward"))
    return max(float(np.max(np.abs(r - f))) for r, f in zip(reverse, forward, strict=True))
