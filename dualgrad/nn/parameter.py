"""``Parameter``: a Tensor that a Module registers as one of its trainable weights."""

from __future__ import annotations

__all__ = ["Parameter"]

from .. import config
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that, assigned as an attribute of a ``Module``, becomes one of its
    parameters (listed by ``parameters()``, saved by ``state_dict()``).

    Args:
        data: the initial values (a Tensor, whose backend and dtype it keeps); an empty
            tensor of the default dtype on the active backend when omitted.
        requires_grad: whether it is trained (True by default, as in PyTorch).

    Raises:
        TypeError: ``data`` is not a Tensor, or is not floating point while ``requires_grad``.

    Example:
        >>> import dualgrad
        >>> dualgrad.nn.Parameter(dualgrad.ones(2))
        Parameter containing:
        tensor([1., 1.], requires_grad=True)
    """

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            backend = config.get_backend()
            empty = backend.namespace.empty(
                (0,), dtype=backend.native_dtype(config.get_default_dtype())
            )
            data = Tensor._wrap(empty, backend)
        if not isinstance(data, Tensor):
            msg = (
                f"Parameter expects a Tensor, got {type(data).__name__}; "
                "wrap the values with dualgrad.tensor(...) first"
            )
            raise TypeError(msg)
        # The values, not the history: a Parameter is always a leaf.
        super().__init__(data._array, data._backend, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
