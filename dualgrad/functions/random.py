"""Random tensors: drawn from the active backend's seeded stream (``manual_seed``), or from a
``dualgrad.Generator`` passed as ``generator=``; and filling a tensor in place with samples."""

from __future__ import annotations

__all__ = [
    "bernoulli",
    "manual_seed",
    "multinomial",
    "normal",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
]

from typing import Any

import numpy as np

from .. import _dtypes, config
from .._dtypes import DType
from ..backends import Backend, seed_all
from ..tensor import Tensor, method
from ._args import as_dtype, as_tensor
from .creation import _finish, _shape


def _floating(dtype: Any, op_name: str) -> DType:
    dtype = config.get_default_dtype() if dtype is None else as_dtype(dtype)
    if not dtype.is_floating_point:
        msg = f"{op_name}: expected a floating dtype, got {dtype}"
        raise TypeError(msg)
    return dtype


def _draw(
    backend: Backend, kind: str, shape: tuple[int, ...], dtype: DType, generator: Any
) -> Any:
    """``shape`` samples (``kind``: "randn" or "rand") as ``backend``'s array of ``dtype``."""
    if generator is None:
        return getattr(backend, kind)(shape, dtype)
    rng = getattr(generator, "_rng", None)  # a dualgrad.Generator's NumPy stream
    if not isinstance(rng, np.random.Generator):
        msg = f"generator must be a dualgrad.Generator, got {type(generator).__name__}"
        raise TypeError(msg)
    values = rng.standard_normal(shape) if kind == "randn" else rng.random(shape)
    return backend.from_numpy(values.astype(dtype.name))


def _sampled(
    kind: str,
    size: tuple[Any, ...],
    dtype: Any,
    device: Any,
    requires_grad: bool,
    generator: Any,
) -> Tensor:
    backend = config.get_backend()
    dtype = _floating(dtype, kind)
    array = _draw(backend, kind, _shape(size), dtype, generator)
    return _finish(array, backend, requires_grad, device)


def _integers(backend: Any, array: Any, dtype: Any) -> Any:
    """``array`` in ``dtype``, int64 by default, as PyTorch's integer samplers give."""
    target = _dtypes.int64 if dtype is None else as_dtype(dtype)
    return backend.xp.astype(array, backend.native_dtype(target))


def randn(
    *size: Any,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Samples from the standard normal distribution, from the backend's seeded generator.

    Example:
        >>> import dualgrad
        >>> dualgrad.manual_seed(0)
        >>> dualgrad.randn(2, 3).shape
        torch.Size([2, 3])
    """
    return _sampled("randn", size, dtype, device, requires_grad, generator)


def rand(
    *size: Any,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Samples from the uniform distribution on [0, 1), from the backend's seeded generator."""
    return _sampled("rand", size, dtype, device, requires_grad, generator)


def _like(kind: str, x: Tensor, dtype: Any, requires_grad: bool) -> Tensor:
    x = as_tensor(x, f"{kind}_like")
    dtype = _floating(x.dtype if dtype is None else dtype, f"{kind}_like")
    array = _draw(x._backend, kind, x.shape, dtype, None)
    return Tensor(array, x._backend, requires_grad=requires_grad)


def rand_like(x: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) with the shape, dtype and backend of ``x``."""
    return _like("rand", x, dtype, requires_grad)


def randn_like(x: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples with the shape, dtype and backend of ``x``."""
    return _like("randn", x, dtype, requires_grad)


def randint(
    low: int,
    high: int | None = None,
    size: Any = None,
    *,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Integers drawn uniformly from ``[low, high)`` (int64 unless ``dtype`` says otherwise), as
    ``torch.randint(low, high, size)`` or ``torch.randint(high, size)``.

    Raises:
        ValueError: an empty range.

    Example:
        >>> import dualgrad
        >>> dualgrad.randint(0, 10, (3,)).dtype
        dualgrad.int64
    """
    if size is None:  # randint(high, size)
        if high is None:
            msg = "randint: give the size, as randint(high, size) or randint(low, high, size)"
            raise TypeError(msg)
        low, high, size = 0, low, high
    elif high is None:
        msg = "randint: give high, as randint(high, size) or randint(low, high, size)"
        raise TypeError(msg)
    if high <= low:
        msg = f"randint: the range [{low}, {high}) is empty; give low < high"
        raise ValueError(msg)
    backend = config.get_backend()
    uniform = _draw(backend, "rand", _shape((size,)), _widest_float(backend), generator)
    draws = backend.xp.floor(uniform * (high - low)) + low
    return _finish(_integers(backend, draws, dtype), backend, requires_grad, device)


def _widest_float(backend: Any) -> _dtypes.DType:
    """float64 where ``backend`` holds it, else float32 (JAX outside its 64-bit mode): the
    dtype of the uniform draws behind integer samples, which the user never sees."""
    try:
        backend.native_dtype(_dtypes.float64)
    except TypeError:
        return _dtypes.float32
    return _dtypes.float64


def randperm(
    n: int,
    *,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64), as ``torch.randperm``.

    Example:
        >>> import dualgrad
        >>> sorted(dualgrad.randperm(4).tolist())
        [0, 1, 2, 3]
    """
    backend = config.get_backend()
    keys = _draw(backend, "rand", (int(n),), _widest_float(backend), generator)
    order = backend.xp.argsort(keys)
    return _finish(_integers(backend, order, dtype), backend, requires_grad, device)


def normal(
    mean: Any = 0.0,
    std: Any = 1.0,
    size: Any = None,
    *,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Normal samples of mean ``mean`` and standard deviation ``std`` (numbers with ``size``,
    or Tensors, whose broadcast shape the result takes), as ``torch.normal``."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        like = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(
            getattr(mean, "shape", ()),
            getattr(std, "shape", ()),
        )
        backend = like._backend
        noise = Tensor._wrap(_draw(backend, "randn", shape, like.dtype, generator), backend)
        return (mean + std * noise)._detached().requires_grad_(requires_grad)
    if size is None:
        msg = "normal: with a number for mean and std, give the size"
        raise TypeError(msg)
    noise = _sampled("randn", (size,), dtype, device, False, generator)
    return (mean + std * noise).requires_grad_(requires_grad)


def bernoulli(p: Tensor, *, generator: Any = None) -> Tensor:
    """Zeros and ones, each one with the probability in ``p`` (of ``p``'s shape and dtype)."""
    p = as_tensor(p, "bernoulli")
    uniform = _draw(p._backend, "rand", p.shape, p.dtype, generator)
    xp = p._backend.xp
    return Tensor._wrap(xp.astype(uniform < p._array, p._array.dtype), p._backend)


def multinomial(
    input: Tensor,
    num_samples: int,
    replacement: bool = False,
    *,
    generator: Any = None,
) -> Tensor:
    """Indices drawn from the categories that the last axis of ``input`` weighs (one row, or a
    batch of rows), as ``torch.multinomial``.

    Raises:
        ValueError: more samples than categories without replacement, or a row without weight.
    """
    weights = np.asarray(as_tensor(input, "multinomial").detach().numpy(), dtype=np.float64)
    rows = weights.reshape(-1, weights.shape[-1])
    if (rows < 0).any() or (rows.sum(axis=-1) <= 0).any():
        msg = "multinomial: the weights must be non-negative with a positive sum in every row"
        raise ValueError(msg)
    categories = rows.shape[-1]
    if not replacement and num_samples > categories:
        msg = (
            f"multinomial: cannot draw {num_samples} samples from {categories} categories "
            "without replacement; pass replacement=True"
        )
        raise ValueError(msg)
    backend = input._backend
    uniform = backend.to_numpy(
        _draw(backend, "rand", (rows.shape[0], num_samples), _dtypes.float64, generator)
    )
    probabilities = rows / rows.sum(axis=-1, keepdims=True)
    if replacement:  # inverse transform sampling
        cumulative = np.cumsum(probabilities, axis=-1)
        drawn = np.stack(
            [np.searchsorted(c, u, side="right") for c, u in zip(cumulative, uniform, strict=True)]
        )
        drawn = np.minimum(drawn, categories - 1)
    else:  # Gumbel top-k: the k largest perturbed log-weights, a sample without replacement
        gumbel_uniform = backend.to_numpy(
            _draw(backend, "rand", rows.shape, _dtypes.float64, generator)
        )
        with np.errstate(divide="ignore"):
            keys = np.log(probabilities) - np.log(-np.log(gumbel_uniform))
        drawn = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    drawn = drawn.reshape(*weights.shape[:-1], num_samples).astype(np.int64)
    return Tensor._wrap(backend.from_numpy(drawn), backend)


def manual_seed(seed: int) -> None:
    """Seed the random generator of every backend, so runs repeat exactly."""
    seed_all(int(seed))


# --- filling in place with samples --------------------------------------------------------------
def _normal_(
    self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None
) -> Tensor:
    """Fill with normal samples of mean ``mean`` and standard deviation ``std``, in place."""
    noise = Tensor._wrap(
        _draw(self._backend, "randn", self.shape, _floating(self.dtype, "normal_"), generator),
        self._backend,
    )
    return self.copy_(mean + std * noise)  # type: ignore[attr-defined, no-any-return]


def _uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with samples drawn uniformly from ``[a, b)``, in place."""
    uniform = Tensor._wrap(
        _draw(self._backend, "rand", self.shape, _floating(self.dtype, "uniform_"), generator),
        self._backend,
    )
    return self.copy_(a + (b - a) * uniform)  # type: ignore[attr-defined, no-any-return]


method(_normal_, "normal_")
method(_uniform_, "uniform_")
