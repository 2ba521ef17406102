"""Custom operations, as ``torch.autograd.Function``: your forward, your derivatives.

Subclass ``Function`` with static ``forward`` and ``backward`` (for reverse mode) and ``jvp``
(for forward mode), then call ``MyFunction.apply(...)``. Each call becomes a primitive of its
own: the engines treat it like any built-in operation. Rules receive and return Tensors; when a
block of cotangents or tangents arrives (``jacrev``, ``jacfwd``, forward mode behind
``backward()``), your rule is called once per row, since it was written for one.

Example:
    >>> import dualgrad
    >>> class Cube(dualgrad.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x ** 2 * grad
    ...     @staticmethod
    ...     def jvp(ctx, tangent):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x ** 2 * tangent
    >>> x = dualgrad.tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward()
    >>> x.grad
    tensor(12.)
"""

from __future__ import annotations

__all__ = ["Function", "FunctionCtx"]

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from .. import _batching, _dispatch
from .. import functions as _functions
from ..backends import backend_for_array
from ..tensor import Tensor
from .grad_mode import no_grad


class FunctionCtx:
    """What ``forward`` leaves for ``backward`` and ``jvp``."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple[Tensor, ...] = ()

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors for ``backward``/``jvp``; read them back from ``ctx.saved_tensors``."""
        for tensor in tensors:
            if tensor is not None and not isinstance(tensor, Tensor):
                msg = (
                    f"save_for_backward can only save Tensors or None, got {type(tensor).__name__}"
                )
                raise TypeError(msg)
        self.saved_tensors = tensors  # type: ignore[assignment]

    def save_for_forward(self, *tensors: Tensor | None) -> None:
        """Keep tensors for ``jvp`` (the same store as ``save_for_backward``)."""
        self.save_for_backward(*tensors)


class Function:
    """Base class for custom differentiable operations; see the module docstring."""

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        """Compute the output from the inputs (Tensors arrive; nothing is recorded here)."""
        msg = "subclasses of dualgrad.autograd.Function must define forward"
        raise TypeError(msg)

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple[Any, ...], output: Any) -> None:
        """Optional (PyTorch 2 style): fill ``ctx`` when ``forward`` takes no ``ctx``."""

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Tensor) -> Any:
        """The gradient of each input (None where none), from the output's gradient."""
        msg = "this Function does not define backward, which reverse mode needs"
        raise RuntimeError(msg)

    @staticmethod
    def jvp(ctx: FunctionCtx, *grad_inputs: Tensor | None) -> Tensor:
        """The output's tangent from the inputs' tangents (zeros for inputs without one)."""
        msg = "this Function does not define jvp, which forward mode needs"
        raise RuntimeError(msg)

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        """Run the operation and make its output differentiable through your rules.

        Raises:
            TypeError: ``forward`` returned something other than one Tensor.
        """
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        with no_grad():
            if cls.setup_context is Function.setup_context:
                output = cls.forward(ctx, *args)
            else:
                output = cls.forward(*args)
                cls.setup_context(ctx, args, output)
        if not isinstance(output, Tensor):
            msg = (
                f"{cls.__name__}.forward must return one Tensor, got {type(output).__name__}; "
                "split several outputs into several Functions"
            )
            raise TypeError(msg)
        positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        inputs = tuple(args[i] for i in positions)
        out = Tensor._wrap(output._array, output._backend)  # a fresh result, rules attached below
        traced = any(t._requires_grad for t in inputs)
        dual = any(t._tangents is not None for t in inputs)
        if traced or dual:
            prim = _CustomPrimitive(cls, ctx, len(args), positions)
            _dispatch.differentiate(prim, {}, inputs, out, traced=traced, dual=dual)
        return out


class _CustomPrimitive:
    """One call of a Function, shaped like a Primitive (variadic) for the engines."""

    linear = False
    elementwise = False
    variadic = True
    forward = None  # never re-run: the rules read ctx, not the output

    def __init__(
        self, cls: type[Function], ctx: FunctionCtx, nargs: int, positions: tuple[int, ...]
    ) -> None:
        self.name = cls.__name__
        self.grad_fn_name = f"{cls.__name__}Backward"
        self.function = cls
        self.ctx = ctx
        self.nargs = nargs
        self.positions = positions
        self._last: tuple[Any, list[Any]] | None = None  # (g, grads): backward runs once per g

    def differentiable(self, index: int) -> bool:
        return True

    def vjp(self, xp: Any, g: Any, ans: Any, *inputs: Any, index: int) -> Any:
        if self._last is None or self._last[0] is not g:
            self._last = (g, self._all_grads(g, ans, inputs))
        return self._last[1][index]

    def _all_grads(self, g: Any, ans: Any, inputs: Sequence[Any]) -> list[Any]:
        backend = self.ctx_backend(inputs)

        def one(rows: list[Tensor]) -> list[Tensor]:
            # backward is written in PyTorch's convention, the rules' conjugate for complex
            # values (autograd/engine.py): the cotangent and the gradients are conjugated.
            grads = self.function.backward(self.ctx, _pytorch_convention(rows[0]))
            grads = grads if isinstance(grads, tuple | list) else (grads,)
            if len(grads) != self.nargs:
                msg = (
                    f"{self.name}.backward returned {len(grads)} gradients, expected "
                    f"{self.nargs} (one per forward input, None for non-Tensors)"
                )
                raise RuntimeError(msg)
            return [
                _pytorch_convention(self._checked(grads[p], inputs[k], backend, "backward"))
                for k, p in enumerate(self.positions)
            ]

        return _per_row(one, [g], [len(ans.shape)], backend)

    def jvp(self, xp: Any, tangents: list[Any], ans: Any, *inputs: Any) -> Any:
        backend = self.ctx_backend(inputs)

        def one(rows: list[Tensor | None]) -> list[Tensor]:
            full: list[Tensor | None] = [None] * self.nargs
            for k, p in enumerate(self.positions):
                full[p] = self._checked(rows[k], inputs[k], backend, "jvp input")
            return [self._checked(self.function.jvp(self.ctx, *full), ans, backend, "jvp")]

        return _per_row(one, tangents, [len(x.shape) for x in inputs], backend)[0]

    def ctx_backend(self, inputs: Sequence[Any]) -> Any:
        """The backend of this call's tensors: a vmap level's, where one holds any of them
        (the rules then run on its batched arrays, ``vmap(grad(f))``)."""
        levels = [v.level for v in inputs if type(v) is _batching.BatchedArray]
        if levels:
            return max(levels, key=lambda level: level.depth)
        first = inputs[0]
        return first._backend if isinstance(first, Tensor) else backend_for_array(first)

    def _checked(self, value: Any, like: Any, backend: Any, rule: str) -> Tensor:
        """A rule's result (or a missing tangent) as a Tensor of ``like``'s shape."""
        shape = tuple(like.shape)
        if value is None:
            return _functions.zeros_like(_as_tensor(like, backend).detach())
        if not isinstance(value, Tensor) or value.shape != shape:
            got = (
                f"shape {tuple(value.shape)}"
                if isinstance(value, Tensor)
                else type(value).__name__
            )
            msg = f"{self.name}.{rule} gave {got} where a Tensor of shape {shape} was expected"
            raise ValueError(msg)
        return value


def _pytorch_convention(value: Tensor) -> Tensor:
    """A cotangent between the rules' convention and PyTorch's: conjugated if complex."""
    return _functions.conj(value) if value.dtype.is_complex else value


def _as_tensor(value: Any, backend: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._wrap(value, backend)


def _per_row(
    rule: Callable[[list[Any]], list[Tensor]],
    blocks: list[Any],
    unbatched_ndims: list[int],
    backend: Any,
) -> list[Any]:
    """Call a rule written for single cotangents or tangents on each row of a block.

    ``blocks`` may carry leading batch axes in front of their ``unbatched_ndims``; the rule's
    results are stacked back into blocks. Arrays in give arrays out; Tensors give Tensors.
    """
    given = [b for b in blocks if b is not None]
    raw = not isinstance(given[0], Tensor)
    tensors = [None if b is None else _as_tensor(b, backend) for b in blocks]
    first = next(k for k, b in enumerate(blocks) if b is not None)
    batch = tensors[first].shape[: tensors[first].ndim - unbatched_ndims[first]]
    if not batch:
        results = rule(tensors)
    else:
        rows = []
        for index in itertools.product(*(range(n) for n in batch)):
            rows.append(rule([None if t is None else t[index] for t in tensors]))
        results = [
            _functions.reshape(
                _functions.stack([row[k] for row in rows]), batch + rows[0][k].shape
            )
            for k in range(len(rows[0]))
        ]
    return [r._array for r in results] if raw else results
