"""Function transforms, with JAX's and ``torch.func``'s conventions.

``grad``, ``value_and_grad``, ``vjp`` and ``jacrev`` run ``f`` on the tape (reverse mode);
``jvp`` and ``jacfwd`` push dual numbers through it (forward mode). The Jacobians take one
vectorized pass: a block of identity tangents (or cotangents) flows through the
batch-polymorphic rules at once, with no Python loop over rows. ``hessian`` is forward over
reverse, ``jacfwd(jacrev(f))``; ``hvp`` is reverse over reverse (the gradient's graph pulled
back along the tangents), which measured cheaper than a ``jvp`` of the gradient.

Inputs may be Tensors or backend arrays; when every argument is a backend array, the results
are backend arrays too. Transforms nest: inside another transform (or when the inputs require
grad or carry tangents) the results stay differentiable.

Which mode pays: reverse costs one pass per output element, forward one per input element.
``jacrev`` suits wide-to-narrow functions (many inputs, few outputs, like a loss), ``jacfwd``
narrow-to-wide ones.
"""

from __future__ import annotations

__all__ = ["grad", "hessian", "hvp", "jacfwd", "jacrev", "jvp", "value_and_grad", "vjp"]

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from . import config, forward_ad
from . import functions as _functions
from .autograd import engine
from .autograd.grad_mode import enable_grad
from .functions._args import require_floating
from .functions.creation import asarray
from .tensor import Tensor

_depth: ContextVar[int] = ContextVar("dualgrad_transform_depth", default=0)


@contextlib.contextmanager
def _inside_transform() -> Iterator[None]:
    token = _depth.set(_depth.get() + 1)
    try:
        yield
    finally:
        _depth.reset(token)


def _positions(
    argnums: int | Sequence[int], nargs: int, name: str
) -> tuple[tuple[int, ...], bool]:
    single = isinstance(argnums, int)
    positions = (argnums,) if single else tuple(argnums)  # type: ignore[arg-type]
    for i in positions:
        if not -nargs <= i < nargs:
            msg = f"{name}: argnums {argnums} is out of range for {nargs} positional arguments"
            raise ValueError(msg)
    return tuple(i % nargs for i in positions), single


def _as_tensors(args: Sequence[Any]) -> tuple[list[Any], bool]:
    """Arguments as Tensors (arrays wrapped; other values left), and whether all were arrays."""
    raw = not any(isinstance(a, Tensor) for a in args)
    return [a if isinstance(a, Tensor) else _maybe_tensor(a) for a in args], raw


def _maybe_tensor(value: Any) -> Any:
    return value if isinstance(value, int | bool | str) or value is None else asarray(value)


def _unwrap(value: Any, raw: bool) -> Any:
    """Results as the caller handed arguments: backend arrays for arrays, else Tensors."""
    if isinstance(value, tuple | list):
        return type(value)(_unwrap(v, raw) for v in value)
    return value.detach().array if raw and isinstance(value, Tensor) else value


def _stays_differentiable(inputs: Sequence[Tensor]) -> bool:
    """Whether results must carry derivatives further: nested, or inputs that need them."""
    return _depth.get() > 0 or any(x._requires_grad or x._tangents for x in inputs)


def _leaf(x: Tensor) -> Tensor:
    """``x`` itself if it already requires grad (its graph is kept), else a fresh leaf
    holding its value and tangents."""
    if x._requires_grad:
        return x
    leaf = Tensor._wrap(x._array, x._backend)
    leaf._tangents = None if x._tangents is None else dict(x._tangents)
    leaf._requires_grad = True
    return leaf


def _split_aux(result: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not isinstance(result, tuple) or len(result) != 2:
        msg = f"{name}(has_aux=True): the function must return a pair (output, aux)"
        raise TypeError(msg)
    return result


def _run_on_tape(
    f: Callable[..., Any],
    args: list[Any],
    positions: tuple[int, ...],
    kwargs: dict[str, Any],
    name: str,
) -> tuple[Any, list[Tensor], bool]:
    """Call ``f`` with fresh leaves at ``positions``, recording the tape."""
    inputs = [require_floating(args[i], name) for i in positions]
    keep = _stays_differentiable(inputs)
    leaves = [_leaf(x) for x in inputs]
    call_args = list(args)
    for i, leaf in zip(positions, leaves, strict=True):
        call_args[i] = leaf
    with _inside_transform(), config.use_mode("reverse"), enable_grad():
        out = f(*call_args, **kwargs)
    return out, leaves, keep


def _gradients_of(
    out: Tensor, leaves: list[Tensor], cotangent: Any, keep: bool, *, batched: bool = False
) -> list[Tensor]:
    """d out / d leaves contracted with ``cotangent`` (zeros for leaves ``out`` ignores)."""
    if not out._requires_grad:
        results: dict[Any, Any] = {}
    else:
        results = engine.cotangents_of(out, cotangent, leaves, create_graph=keep, batched=batched)
    batch = cotangent.shape[: cotangent.ndim - out.ndim] if batched else ()
    grads = []
    for leaf in leaves:
        value = results.get(leaf._node if leaf._node is not None else leaf)
        if value is None:
            value = _functions.zeros_like(
                _functions.broadcast_to(leaf.detach(), batch + leaf.shape)
                if batch
                else leaf.detach()
            )
        grads.append(value if keep else value.detach())
    return grads


def _cast(t: Tensor, dtype: Any) -> Tensor:
    return t if t.dtype is dtype else t.astype(dtype)


def _check_scalar(out: Any, name: str) -> None:
    if not isinstance(out, Tensor) or out.numel() != 1 or not out.dtype.is_floating_point:
        got = f"shape {out.shape}" if isinstance(out, Tensor) else type(out).__name__
        msg = (
            f"{name}: the function must return a floating point scalar Tensor, got {got}; "
            "use jacrev or vjp for other outputs"
        )
        raise TypeError(msg)


# --- reverse ---------------------------------------------------------------------------------
def value_and_grad(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """A function returning ``(f(*args), gradient of f at args)``; ``f`` must return a scalar.

    With ``has_aux``, ``f`` returns ``(scalar, aux)`` and the first result is that pair.

    Example:
        >>> import dualgrad
        >>> dualgrad.value_and_grad(lambda x: (x ** 2).sum())(dualgrad.tensor([1.0, 2.0]))
        (tensor(5.), tensor([2., 4.]))
    """

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        positions, single = _positions(argnums, len(args), "value_and_grad")
        tensors, raw = _as_tensors(args)
        result, leaves, keep = _run_on_tape(f, tensors, positions, kwargs, "grad")
        out, aux = _split_aux(result, has_aux, "grad")
        _check_scalar(out, "grad")
        grads = _gradients_of(out, leaves, _functions.ones_like(out.detach()), keep)
        value = out if keep else out.detach()
        gradient = grads[0] if single else tuple(grads)
        value_out = (value, aux) if has_aux else value
        return _unwrap(value_out, raw), _unwrap(gradient, raw)

    return value_and_grad_f


def grad(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The gradient of a scalar function (with ``has_aux``: ``(gradient, aux)``).

    Example:
        >>> import dualgrad
        >>> dualgrad.grad(lambda x: x ** 3)(dualgrad.tensor(2.0))
        tensor(12.)
    """
    both = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        value, gradient = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return grad_f


def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(f(*primals), vjp_fn)``: ``vjp_fn(cotangent)`` gives each primal's cotangent.

    ``vjp_fn`` can be called any number of times. With ``has_aux``, returns
    ``(output, vjp_fn, aux)``.

    Example:
        >>> import dualgrad
        >>> out, vjp_fn = dualgrad.vjp(dualgrad.sin, dualgrad.tensor([0.0, 1.0]))
        >>> vjp_fn(dualgrad.ones(2))
        (tensor([1.0000, 0.5403]),)
    """
    tensors, raw = _as_tensors(primals)
    result, leaves, keep = _run_on_tape(f, tensors, tuple(range(len(tensors))), {}, "vjp")
    out, aux = _split_aux(result, has_aux, "vjp")
    outputs = out if isinstance(out, tuple | list) else (out,)

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        cotangents = cotangent if isinstance(out, tuple | list) else (cotangent,)
        if len(cotangents) != len(outputs):
            msg = f"vjp_fn: expected {len(outputs)} cotangents, got {len(cotangents)}"
            raise ValueError(msg)
        total: list[Tensor] | None = None
        for output, cot in zip(outputs, cotangents, strict=True):
            cot = asarray(cot)
            if cot.shape != output.shape:
                msg = (
                    f"vjp_fn: the cotangent has shape {cot.shape} "
                    f"but the output has shape {output.shape}"
                )
                raise ValueError(msg)
            grads = _gradients_of(output, leaves, cot, keep)
            total = grads if total is None else [a + b for a, b in zip(total, grads, strict=True)]
        return _unwrap(tuple(total or ()), raw)

    shown = (
        out
        if keep
        else type(out)(o.detach() for o in out)
        if isinstance(out, tuple | list)
        else out.detach()
    )
    results = (_unwrap(shown, raw), vjp_fn)
    return (*results, aux) if has_aux else results


def jacrev(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The Jacobian by reverse mode: shape ``out.shape + x.shape``, one vectorized pass.

    Tuple outputs and tuple ``argnums`` nest as in ``jacfwd`` (outputs outside, arguments
    inside); each output takes one pass.

    Example:
        >>> import dualgrad
        >>> dualgrad.jacrev(lambda x: x ** 2)(dualgrad.tensor([1.0, 2.0]))
        tensor([[2., 0.],
                [0., 4.]])
    """

    @functools.wraps(f)
    def jacrev_f(*args: Any, **kwargs: Any) -> Any:
        positions, single = _positions(argnums, len(args), "jacrev")
        tensors, raw = _as_tensors(args)
        result, leaves, keep = _run_on_tape(f, tensors, positions, kwargs, "jacrev")
        out, aux = _split_aux(result, has_aux, "jacrev")

        def jacobian_of(output: Any) -> Any:
            output = require_floating(output, "jacrev")
            blocks = _gradients_of(output, leaves, _identity_block(output), keep, batched=True)
            jacobians = [
                _functions.reshape(b, output.shape + leaf.shape)
                for b, leaf in zip(blocks, leaves, strict=True)
            ]
            return jacobians[0] if single else tuple(jacobians)

        jacobian = _map_outputs(jacobian_of, out)
        return (_unwrap(jacobian, raw), aux) if has_aux else _unwrap(jacobian, raw)

    return jacrev_f


def _identity_block(x: Tensor) -> Tensor:
    """The identity as a block of tangents for ``x``: shape ``(x.numel(), *x.shape)``."""
    n = x.numel()
    eye = Tensor._wrap(
        x._backend.namespace.eye(n, dtype=x._backend.native_dtype(x.dtype)), x._backend
    )
    return _functions.reshape(eye, (n, *x.shape))


# --- forward ---------------------------------------------------------------------------------
def jvp(
    f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], has_aux: bool = False
) -> tuple[Any, ...]:
    """``(f(*primals), J @ tangents)`` by forward mode (dual numbers), in one pass.

    Example:
        >>> import dualgrad
        >>> dualgrad.jvp(dualgrad.exp, (dualgrad.tensor(0.0),), (dualgrad.tensor(2.0),))
        (tensor(1.), tensor(2.))
    """
    if len(primals) != len(tangents):
        msg = f"jvp: got {len(primals)} primals but {len(tangents)} tangents"
        raise ValueError(msg)
    inputs, raw = _as_tensors(primals)
    directions = [asarray(t) for t in tangents]
    for x, t in zip(inputs, directions, strict=True):
        require_floating(x, "jvp")
        if t.shape != x.shape:
            msg = f"jvp: a tangent has shape {t.shape} but its primal has {x.shape}"
            raise ValueError(msg)
    with _inside_transform(), forward_ad.dual_level() as level:
        duals = [
            forward_ad.attach_tangent(x, level, t.astype(x.dtype))
            for x, t in zip(inputs, directions, strict=True)
        ]
        result = f(*duals)
        out, aux = _split_aux(result, has_aux, "jvp")
        primal_out, tangent_out = _unpack(out, level, batch=())
    keep = _stays_differentiable(inputs)
    if not keep:
        primal_out, tangent_out = _detached(primal_out), _detached(tangent_out)
    results = (_unwrap(primal_out, raw), _unwrap(tangent_out, raw))
    return (*results, aux) if has_aux else results


def _detached(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return type(value)(_detached(v) for v in value)
    return value.detach()


def _unpack(out: Any, level: Any, batch: tuple[int, ...]) -> tuple[Any, Any]:
    """Primal and tangent of an output (or of each in a tuple); zeros where none flowed."""
    if isinstance(out, tuple | list):
        pairs = [_unpack(o, level, batch) for o in out]
        return type(out)(p for p, _ in pairs), type(out)(t for _, t in pairs)
    out = require_floating(out, "jvp")
    primal, tangent = forward_ad.unpack_dual(out, level=level)
    if tangent is None:
        detached = primal.detach()
        tangent = _functions.zeros_like(
            _functions.broadcast_to(detached, batch + primal.shape) if batch else detached
        )
    return primal, tangent


def jacfwd(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The Jacobian by forward mode: shape ``out.shape + x.shape``, one vectorized pass per
    argument.

    When ``f`` returns a tuple, the result is a tuple with one Jacobian per output; with a
    tuple ``argnums``, each Jacobian is itself a tuple with one entry per argument (outputs
    outside, arguments inside, as ``torch.func.jacfwd``).

    Example:
        >>> import dualgrad
        >>> dualgrad.jacfwd(lambda x: x ** 2)(dualgrad.tensor([1.0, 2.0]))
        tensor([[2., 0.],
                [0., 4.]])
    """

    @functools.wraps(f)
    def jacfwd_f(*args: Any, **kwargs: Any) -> Any:
        positions, single = _positions(argnums, len(args), "jacfwd")
        tensors, raw = _as_tensors(args)
        keep = _stays_differentiable([require_floating(tensors[i], "jacfwd") for i in positions])
        jacobians = []
        aux = None
        for i in positions:
            x = tensors[i]
            with _inside_transform(), forward_ad.dual_level() as level:
                call_args = list(tensors)
                call_args[i] = forward_ad.attach_tangent(x, level, _identity_block(x))
                out, aux = _split_aux(f(*call_args, **kwargs), has_aux, "jacfwd")
                _, block = _unpack(out, level, batch=(x.numel(),))
            jacobians.append(_map_outputs(lambda b, x=x: _jacobian_of_block(b, x, keep), block))
        jacobian = jacobians[0] if single else _outputs_outside(jacobians)
        return (_unwrap(jacobian, raw), aux) if has_aux else _unwrap(jacobian, raw)

    return jacfwd_f


def _jacobian_of_block(block: Tensor, x: Tensor, keep: bool) -> Tensor:
    """A tangent block ``(x.numel(), *out.shape)`` as a Jacobian ``out.shape + x.shape``."""
    moved = _functions.permute_dims(block, (*range(1, block.ndim), 0))
    jacobian = _functions.reshape(moved, block.shape[1:] + x.shape)
    return jacobian if keep else jacobian.detach()


def _map_outputs(fn: Callable[[Any], Any], value: Any) -> Any:
    """``fn`` applied to each output of a (possibly nested) tuple or list of outputs."""
    if isinstance(value, tuple | list):
        return type(value)(_map_outputs(fn, v) for v in value)
    return fn(value)


def _outputs_outside(per_argument: list[Any]) -> Any:
    """One result per argument, each shaped like the outputs -> outputs outside, arguments in."""
    first = per_argument[0]
    if isinstance(first, tuple | list):
        return type(first)(
            _outputs_outside([result[k] for result in per_argument]) for k in range(len(first))
        )
    return tuple(per_argument)


def hessian(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The Hessian of a scalar function, forward over reverse: ``jacfwd(jacrev(f))``.

    Example:
        >>> import dualgrad
        >>> dualgrad.hessian(lambda x: (x ** 3).sum())(dualgrad.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), H @ tangents)`` for a scalar ``f``, without forming the Hessian.

    Reverse over reverse, as PyTorch's double backward: the gradient is taken keeping its
    graph, then pulled back along ``tangents``. That walks the tape twice with plain arrays in
    the second walk, where forward over reverse would push a tangent through every rule of the
    first walk; for a loss like ``sum(log1p(exp(A @ x)))`` it costs one product with ``A`` per
    walk and per direction, as the hand-written Hessian-vector product does.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([1.0, 2.0])
        >>> dualgrad.hvp(lambda x: (x ** 3).sum(), (x,), (dualgrad.ones(2),))
        (tensor(9.), tensor([ 6., 12.]))
    """
    if len(primals) != len(tangents) or not primals:
        msg = (
            f"hvp: got {len(primals)} primals and {len(tangents)} tangents; pass one tangent "
            "per primal, and at least one primal"
        )
        raise ValueError(msg)
    tensors, raw = _as_tensors(primals)
    directions = [asarray(t) for t in tangents]
    for x, t in zip(tensors, directions, strict=True):
        if t.shape != require_floating(x, "hvp").shape:
            msg = f"hvp: a tangent has shape {t.shape} but its primal has {x.shape}"
            raise ValueError(msg)
    positions = tuple(range(len(tensors)))
    out, leaves, keep = _run_on_tape(f, tensors, positions, {}, "hvp")
    _check_scalar(out, "hvp")
    keep = keep or any(t._requires_grad or t._tangents for t in directions)
    grads = _gradients_of(out, leaves, _functions.ones_like(out.detach()), keep=True)
    # One pull-back per primal's gradient, summed: sum_j d(grad_j . t_j) / d primals.
    pulled = [
        _gradients_of(gradient, leaves, _cast(t, gradient.dtype), keep)
        for gradient, t in zip(grads, directions, strict=True)
    ]
    total = pulled[0]
    for more in pulled[1:]:
        total = [a + b for a, b in zip(total, more, strict=True)]
    value = out if keep else out.detach()
    hessian_vector = total[0] if len(primals) == 1 else tuple(total)
    return _unwrap(value, raw), _unwrap(hessian_vector, raw)
