"""The PyTorch backend: torch tensors as plain arrays under dualgrad's engine.

The arrays go through ``array_api_compat.torch``; PyTorch's own autograd is never used (the
tensors inside never require grad), so dualgrad's tape and dual numbers do all the
differentiating, and ``torch.autograd`` can check them.

dualgrad's default dtype is dualgrad's: ``set_default_dtype`` does not touch
``torch.set_default_dtype``, and every array dualgrad creates gets its dtype explicitly. float64
works wherever PyTorch has it (CPU and CUDA; Apple's MPS has none). Random numbers come from a
``torch.Generator`` that ``dualgrad.manual_seed`` reseeds.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._dtypes import BY_NAME, DType
from ._base import Backend

try:
    import array_api_compat.torch as compat_torch
    import torch
except ImportError as err:  # pragma: no cover - exercised only without the extra
    msg = "the torch backend needs PyTorch: pip install 'dualgrad[torch]'"
    raise ImportError(msg) from err


class TorchBackend(Backend):
    """``torch`` (through ``array_api_compat.torch``) as a backend."""

    name = "torch"

    def __init__(self) -> None:
        super().__init__(compat_torch)
        self.xp.unique_all = _unique_all  # array-api-compat has none for torch
        self.xp.fft = _fft_namespace()
        # PyTorch's uint16/32/64 are storage types (no arithmetic kernels): not offered here
        for name in ("uint16", "uint32", "uint64"):
            self._dtype_of.pop(self._native.pop(BY_NAME[name], None), None)
        self._generator = torch.Generator()

    def owns(self, obj: object) -> bool:
        return isinstance(obj, torch.Tensor)

    def from_numpy(self, array: np.ndarray) -> Any:
        if array.dtype.name in BY_NAME:
            self.native_dtype(BY_NAME[array.dtype.name])  # raises for uint16/32/64
        return torch.from_numpy(np.array(array))  # a copy: NumPy's array stays the caller's

    def to_numpy(self, array: Any) -> np.ndarray:
        return array.detach().cpu().numpy()

    def scalar(self, value: complex, dtype: DType) -> Any:
        return torch.tensor(value, dtype=self.native_dtype(dtype))

    def index_add(self, x: Any, key: Any, values: Any) -> Any:
        # NumPy's rules pick the positions (PyTorch's differ: an integer beside an index array
        # is not an advanced index, and negative steps are refused); index_add_ then accumulates
        # repeated positions.
        numpy_key = tuple(self.to_numpy(part) if self.owns(part) else part for part in key)
        positions = np.arange(x.numel()).reshape(tuple(x.shape))[numpy_key]
        # a copy: negative steps leave negative strides, which torch.from_numpy refuses
        flat = torch.from_numpy(np.ascontiguousarray(positions.reshape(-1))).to(x.device)
        out = x.clone(memory_format=torch.contiguous_format)  # so that view(-1) is allowed
        out.view(-1).index_add_(0, flat, values.expand(positions.shape).reshape(-1))
        return out

    def erf(self, x: Any) -> Any:
        return torch.special.erf(x)

    def seed(self, seed: int) -> None:
        self._generator.manual_seed(seed)

    def get_rng_state(self) -> Any:
        return self._generator.get_state()

    def set_rng_state(self, state: Any) -> None:
        self._generator.set_state(state)

    def randn(self, shape: tuple[int, ...], dtype: DType) -> Any:
        return torch.randn(shape, generator=self._generator, dtype=self.native_dtype(dtype))

    def rand(self, shape: tuple[int, ...], dtype: DType) -> Any:
        return torch.rand(shape, generator=self._generator, dtype=self.native_dtype(dtype))


class _UniqueAll(NamedTuple):
    values: Any
    indices: Any
    inverse_indices: Any
    counts: Any


def _unique_all(x: Any) -> _UniqueAll:
    """The Array API's ``unique_all`` (sorted, as NumPy's): ``torch.unique`` gives all but the
    index of each value's first occurrence, which is the least flat index mapped to the value."""
    flat = x.reshape(-1)
    values, inverse, counts = torch.unique(
        flat, sorted=True, return_inverse=True, return_counts=True
    )
    size = flat.shape[0]
    positions = torch.arange(size, device=x.device)
    indices = torch.full(values.shape, size, dtype=torch.int64, device=x.device)
    indices = indices.scatter_reduce(0, inverse, positions, reduce="amin")
    return _UniqueAll(values, indices, inverse.reshape(x.shape), counts)


def _fft_namespace() -> types.SimpleNamespace:
    """``xp.fft`` for the rules: array-api-compat's, with the n-dimensional transforms taking
    an array with no elements (an empty batch of tangents or examples) as NumPy does."""
    fft = compat_torch.fft
    functions = {name: getattr(fft, name) for name in dir(fft) if not name.startswith("_")}
    for name in ("fftn", "ifftn", "rfftn", "irfftn"):
        functions[name] = _empty_batches_allowed(functions[name])
    return types.SimpleNamespace(**functions)


def _empty_batches_allowed(transform: Callable[..., Any]) -> Callable[..., Any]:
    """``transform`` for arrays with no elements along axes it does not transform, which
    PyTorch's FFTs (MKL's) refuse outright: the transform of one zero per such axis, then
    none of it. An empty transformed axis is left to PyTorch's own error, as NumPy raises."""

    def call(x: Any, /, *, axes: Any = None, **kwargs: Any) -> Any:
        if x.numel() or axes is None or any(x.shape[axis] == 0 for axis in axes):
            return transform(x, axes=axes, **kwargs)
        stand_in = x.new_zeros([n or 1 for n in x.shape])
        out = transform(stand_in, axes=axes, **kwargs)
        return out[tuple(slice(0, 0) if n == 0 else slice(None) for n in x.shape)]

    call.__name__ = call.__qualname__ = transform.__name__
    return call
