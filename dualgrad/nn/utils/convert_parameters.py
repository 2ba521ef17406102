"""Parameters as one flat vector and back, as ``torch.nn.utils``: ``parameters_to_vector``
and ``vector_to_parameters``."""

from __future__ import annotations

__all__ = ["parameters_to_vector", "vector_to_parameters"]

from collections.abc import Iterable

from ... import functions as fn
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Every parameter flattened and joined into one 1-d Tensor, in order (differentiable).

    Example:
        >>> import dualgrad
        >>> layer = dualgrad.nn.Linear(3, 2)
        >>> dualgrad.nn.utils.parameters_to_vector(layer.parameters()).shape
        torch.Size([8])
    """
    return fn.concat([fn.reshape(p, (-1,)) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-d ``vec`` into the parameters, in place, in order.

    Raises:
        TypeError: ``vec`` is not a Tensor.
        ValueError: ``vec`` is not 1-d, or its length is not the parameters' total size.

    Example:
        >>> import dualgrad
        >>> layer = dualgrad.nn.Linear(2, 1)
        >>> vector = dualgrad.tensor([1.0, 2.0, 3.0])
        >>> dualgrad.nn.utils.vector_to_parameters(vector, layer.parameters())
        >>> layer.weight, layer.bias
        (Parameter containing:
        tensor([[1., 2.]], requires_grad=True), Parameter containing:
        tensor([3.], requires_grad=True))
    """
    if not isinstance(vec, Tensor):
        msg = f"expected dualgrad.Tensor, but got: {type(vec).__name__}"
        raise TypeError(msg)
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        msg = (
            "vector_to_parameters: a vector of shape "
            f"{tuple(vec.shape)} does not fit parameters of "
            f"{total} elements in all; pass a 1-d vector of that length"
        )
        raise ValueError(msg)
    with no_grad():
        start = 0
        for p in params:
            size = p.numel()
            p.copy_(fn.reshape(vec[start : start + size], p.shape))
            start += size
