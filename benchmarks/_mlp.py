"""The MLPs of W3 and W4, written once per library: parameters, forward, loss and update.

Every peer starts from the same float32 parameters and data (fixed seed) and takes the same
plain SGD step. The PyTorch-style peers (dualgrad, torch) are written as a user writes them:
by default six raw leaf tensors, ``p.grad = None`` before the step and ``p -= lr * p.grad``
under ``no_grad()`` after it; ``update="optimizer"`` uses ``optim.SGD`` instead. The
hand-written NumPy step derives its backward pass by hand.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._peers import module

LR = 0.01


@dataclass(frozen=True)
class Spec:
    """An MLP: layer sizes, batch, activation, loss and update.

    ``activation``: "tanh" or "relu" (``F.relu``; ``jax.nn.relu``). ``loss``: "mse";
    "log_softmax" (``-(onehot * F.log_softmax(out, dim=1)).sum(1).mean()`` with one-hot
    targets); or "cross_entropy" (``F.cross_entropy`` with class indices). ``update``: "raw"
    (``p -= lr * p.grad`` under ``no_grad``) or "optimizer" (``optim.SGD``).
    """

    sizes: tuple[int, ...]
    batch: int
    activation: str
    loss: str
    update: str = "raw"

    def data(self, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Initial weights and biases (alternating), inputs, and targets.

        Targets: values for "mse", one-hot float32 rows for "log_softmax", class indices for
        "cross_entropy".
        """
        rng = np.random.default_rng(seed)
        params = []
        for fan_in, fan_out in itertools.pairwise(self.sizes):
            params.append(
                (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype("float32")
            )
            params.append(np.zeros(fan_out, dtype="float32"))
        x = rng.standard_normal((self.batch, self.sizes[0])).astype("float32")
        if self.loss == "mse":
            y = rng.standard_normal((self.batch, self.sizes[-1])).astype("float32")
        else:
            y = rng.integers(0, self.sizes[-1], self.batch)
            if self.loss == "log_softmax":
                y = np.eye(self.sizes[-1], dtype="float32")[y]
        return params, x, y


def loss_fn(spec: Spec, lib: Any, activation: Callable[[Any], Any]) -> Callable[..., Any]:
    """``loss(params, x, y)`` in a NumPy-like library ``lib`` (jax.numpy, autograd.numpy)."""

    def loss(params: list[Any], x: Any, y: Any) -> Any:
        h = x
        for i in range(0, len(params) - 2, 2):
            h = activation(h @ params[i] + params[i + 1])
        out = h @ params[-2] + params[-1]
        if spec.loss == "mse":
            return lib.mean((out - y) ** 2)
        shifted = out - lib.max(out, axis=1, keepdims=True)
        logp = shifted - lib.log(lib.sum(lib.exp(shifted), axis=1, keepdims=True))
        if spec.loss == "log_softmax":
            return -lib.mean(lib.sum(y * logp, axis=1))
        return -lib.mean(logp[lib.arange(spec.batch), y])

    return loss


# --- hand-written NumPy ---------------------------------------------------------------------
def numpy_step(spec: Spec) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(step, forward alone): the forward pass and its hand-derived backward, float32."""
    params, x, y = spec.data()
    relu = spec.activation == "relu"
    rows = np.arange(spec.batch)

    def forward() -> tuple[list[np.ndarray], np.ndarray]:
        hs = [x]
        for i in range(0, len(params) - 2, 2):
            z = hs[-1] @ params[i] + params[i + 1]
            hs.append(np.maximum(z, 0) if relu else np.tanh(z))
        return hs, hs[-1] @ params[-2] + params[-1]

    def loss_and_seed(out: np.ndarray) -> tuple[Any, np.ndarray]:
        if spec.loss == "mse":
            diff = out - y
            return np.mean(diff**2), diff * np.float32(2 / diff.size)
        shifted = out - out.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        softmax = exp / total
        if spec.loss == "log_softmax":
            loss = -np.mean(np.sum(y * (shifted - np.log(total)), axis=1))
            return loss, (softmax - y) * np.float32(1 / spec.batch)
        loss = -np.mean(shifted[rows, y] - np.log(total[:, 0]))
        softmax[rows, y] -= 1
        return loss, softmax * np.float32(1 / spec.batch)

    def step() -> Any:
        hs, out = forward()
        loss, g = loss_and_seed(out)
        grads = [None] * len(params)
        for i in range(len(params) - 2, -1, -2):
            grads[i], grads[i + 1] = hs[i // 2].T @ g, g.sum(axis=0)
            if i:
                g = g @ params[i].T
                h = hs[i // 2]
                g = g * (h > 0) if relu else g * (1 - h * h)
        for k, grad in enumerate(grads):
            params[k] = params[k] - LR * grad
        return loss

    return step, lambda: loss_and_seed(forward()[1])[0]


# --- dualgrad and PyTorch: the same code ----------------------------------------------------
def _pytorch_style(
    spec: Spec, lib: Any, params: list[Any]
) -> tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]:
    """(step, loss) for ``lib`` (dualgrad or torch), written as a PyTorch user writes them."""
    F = lib.nn.functional
    activation = F.relu if spec.activation == "relu" else lib.tanh
    optimizer = lib.optim.SGD(params, lr=LR) if spec.update == "optimizer" else None

    def loss_of(x: Any, y: Any) -> Any:
        h = x
        for i in range(0, len(params) - 2, 2):
            h = activation(h @ params[i] + params[i + 1])
        out = h @ params[-2] + params[-1]
        if spec.loss == "mse":
            return ((out - y) ** 2).mean()
        if spec.loss == "log_softmax":
            return -(y * F.log_softmax(out, dim=1)).sum(1).mean()
        return F.cross_entropy(out, y)

    def step(x: Any, y: Any) -> Any:
        if optimizer is not None:
            optimizer.zero_grad()
            loss = loss_of(x, y)
            loss.backward()
            optimizer.step()
            return loss
        for p in params:
            p.grad = None
        loss = loss_of(x, y)
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss

    return step, loss_of


def dualgrad_step(
    spec: Spec, *, jit: bool = False
) -> tuple[Callable[[], Any], Callable[[], Any] | None]:
    """(step, forward alone). With ``jit`` the arrays live on the JAX backend and the same
    step runs under ``dualgrad.jit`` (no forward alone then)."""
    import dualgrad

    weights, x_np, y_np = spec.data()
    with dualgrad.use_backend("jax" if jit else "numpy"):
        convert = dualgrad.get_backend().from_numpy
        params = [dualgrad.tensor(convert(w), requires_grad=True) for w in weights]
        x, y = dualgrad.tensor(convert(x_np)), dualgrad.tensor(convert(y_np))
    step, loss_of = _pytorch_style(spec, dualgrad, params)
    if jit:
        compiled = dualgrad.jit(step)
        return lambda: compiled(x, y).array.block_until_ready(), None

    def forward() -> Any:
        with dualgrad.no_grad():
            return loss_of(x, y)

    return lambda: step(x, y), forward


def torch_step(spec: Spec) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(step, forward alone) in PyTorch eager on the CPU."""
    torch = module("torch")
    weights, x_np, y_np = spec.data()
    params = [torch.from_numpy(w).requires_grad_(True) for w in weights]
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    step, loss_of = _pytorch_style(spec, torch, params)

    def forward() -> Any:
        with torch.no_grad():
            return loss_of(x, y)

    return lambda: step(x, y), forward


# --- JAX and HIPS autograd ------------------------------------------------------------------
def jax_step(spec: Spec, *, jit: bool) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(step, forward alone): ``value_and_grad`` plus the update, under ``jax.jit`` or eager."""
    jax = module("jax")
    jnp = jax.numpy
    weights, x_np, y_np = spec.data()
    activation = jax.nn.relu if spec.activation == "relu" else jnp.tanh
    if spec.loss == "log_softmax":

        def loss(params: list[Any], x: Any, y: Any) -> Any:
            h = x
            for i in range(0, len(params) - 2, 2):
                h = activation(h @ params[i] + params[i + 1])
            out = h @ params[-2] + params[-1]
            return -(y * jax.nn.log_softmax(out, axis=1)).sum(1).mean()

    else:
        loss = loss_fn(spec, jnp, activation)

    def update(params: list[Any], x: Any, y: Any) -> tuple[Any, list[Any]]:
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return value, [p - LR * g for p, g in zip(params, grads, strict=True)]

    update = jax.jit(update) if jit else update
    forward = jax.jit(loss) if jit else loss
    state = {"params": [jnp.asarray(w) for w in weights]}
    x, y = jnp.asarray(x_np), jnp.asarray(y_np)

    def step() -> Any:
        value, state["params"] = update(state["params"], x, y)
        return value.block_until_ready()

    return step, lambda: forward(state["params"], x, y).block_until_ready()


def autograd_step(spec: Spec) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(step, forward alone) with HIPS autograd's ``value_and_grad`` (it has no relu or
    log-softmax of its own: ``maximum`` and the log-sum-exp by hand)."""
    autograd = module("autograd")
    anp = module("autograd.numpy")
    weights, x, y = spec.data()
    activation = (lambda z: anp.maximum(z, 0)) if spec.activation == "relu" else anp.tanh
    loss = loss_fn(spec, anp, activation)
    value_and_grad = autograd.value_and_grad(loss)
    params = list(weights)

    def step() -> Any:
        value, grads = value_and_grad(params, x, y)
        params[:] = [p - LR * g for p, g in zip(params, grads, strict=True)]
        return value

    return step, lambda: loss(params, x, y)
