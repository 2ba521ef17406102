"""``torch.autograd.functional``: Jacobians, Hessians and products with them, in PyTorch's
signatures (``inputs`` a Tensor or a tuple of Tensors, ``v`` the vectors), computed by the
transforms of ``dualgrad.func``.

``strict=True`` raises, as in PyTorch, where an output does not depend on an input (for Hessians,
where a first derivative does not depend on the inputs); it is checked on the tape whichever
engine is configured. ``vectorize`` is accepted for PyTorch's signature: the Jacobians are always
computed in one vectorized pass.

Example:
    >>> import dualgrad
    >>> dualgrad.autograd.functional.hessian(lambda x: (x ** 3).sum(), dualgrad.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
"""

from __future__ import annotations

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]

from collections.abc import Callable
from typing import Any

from ..tensor import Tensor

_STRICT = "This is not allowed in strict mode."


def _as_tuple(inputs: Any, name: str) -> tuple[bool, tuple[Tensor, ...]]:
    is_tuple = isinstance(inputs, tuple | list)
    values = tuple(inputs) if is_tuple else (inputs,)
    if not all(isinstance(value, Tensor) for value in values):
        msg = f"{name}: inputs must be a Tensor or a tuple of Tensors"
        raise TypeError(msg)
    return is_tuple, values


def _outputs(
    func: Callable[..., Any], values: tuple[Tensor, ...]
) -> tuple[list[Tensor], list[Tensor]]:
    """``func`` recorded on the tape at copies of ``values``: the copies and the flat outputs."""
    from ..tree_util import tree_leaves

    inputs = [value._detached().requires_grad_() for value in values]
    return inputs, [out for out in tree_leaves(func(*inputs)) if isinstance(out, Tensor)]


def _dependents(
    output: Tensor, inputs: list[Tensor], create_graph: bool = False
) -> tuple[Any, ...]:
    """The gradients of ``output`` in each input, None where it does not depend on one."""
    from ..functions import ones_like
    from .engine import grad

    if not output.requires_grad:
        return (None,) * len(inputs)
    cotangent = ones_like(output)
    return grad(
        output, inputs, cotangent, retain_graph=True, create_graph=create_graph, allow_unused=True
    )


def _check_strict(func: Callable[..., Any], values: tuple[Tensor, ...], per_output: bool) -> None:
    """PyTorch's ``strict=True``: an error where an output does not depend on an input (each
    output separately for Jacobians, all of them together for the products). The question is
    structural, so it is asked of the tape whichever engine is configured."""
    from .. import config
    from .grad_mode import enable_grad

    with config.use_mode("reverse"), enable_grad():
        inputs, outputs = _outputs(func, values)
        used = [False] * len(inputs)
        for i, output in enumerate(outputs):
            for j, gradient in enumerate(_dependents(output, inputs)):
                used[j] = used[j] or gradient is not None
                if per_output and gradient is None:
                    msg = f"Output {i} of the user-provided function is independent of input {j}."
                    msg += f" {_STRICT}"
                    raise RuntimeError(msg)
        for j, is_used in enumerate(used):
            if not is_used:
                msg = f"The output of the user-provided function is independent of input {j}."
                msg += f" {_STRICT}"
                raise RuntimeError(msg)


def _check_strict_hessian(func: Callable[..., Any], values: tuple[Tensor, ...]) -> None:
    """``strict=True`` for Hessians: each first derivative must depend on the inputs again."""
    from .. import config
    from .grad_mode import enable_grad

    with config.use_mode("reverse"), enable_grad():
        inputs, outputs = _outputs(func, values)
        first = (
            _dependents(outputs[0], inputs, create_graph=True)
            if outputs
            else (None,) * len(inputs)
        )
        for j, gradient in enumerate(first):
            if gradient is None or all(g is None for g in _dependents(gradient, inputs)):
                msg = (
                    f"While computing the hessian, found that the jacobian of the user-provided "
                    f"function with respect to input {j} is independent of the input. {_STRICT} "
                    "The function must be twice differentiable with a Jacobian that depends on "
                    "the inputs (a linear function's does not)."
                )
                raise RuntimeError(msg)


def _directions(v: Any, values: tuple[Tensor, ...]) -> tuple[Any, ...]:
    """The vectors ``v`` one per input; omitted, 1 for a single input of one element, as
    PyTorch allows."""
    from ..functions import ones_like

    if v is None:
        if len(values) != 1 or values[0].numel() != 1:
            msg = (
                "The vector v can only be None if the input to the user-provided function is a "
                "single Tensor with a single element."
            )
            raise RuntimeError(msg)
        return (ones_like(values[0]),)
    return tuple(v) if isinstance(v, tuple | list) else (v,)


def _check_strategy(strategy: str, what: str) -> None:
    if strategy not in ("reverse-mode", "forward-mode"):
        msg = f"{what} must be 'reverse-mode' or 'forward-mode', got {strategy!r}"
        raise ValueError(msg)


def _kept(tree: Any, create_graph: bool) -> Any:
    """The results detached, unless the caller differentiates them again."""
    if isinstance(tree, tuple | list):
        return type(tree)(_kept(item, create_graph) for item in tree)
    return tree if create_graph or not isinstance(tree, Tensor) else tree._detached()


def _unwrap(result: Any, inputs_tuple: bool, outputs_tuple: bool) -> Any:
    """PyTorch's nesting: ``result[i][j]`` for tuple outputs and inputs, a flat tuple or a single
    Tensor where either is not a tuple."""
    if not inputs_tuple:
        return tuple(r[0] for r in result) if outputs_tuple else result[0]
    return result


def jacobian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of ``func`` at ``inputs``: of shape ``output.shape + input.shape`` for each
    output and input. ``strategy="forward-mode"`` computes it with dual numbers.

    Raises:
        ValueError: an unknown strategy.
        RuntimeError: ``strict=True`` and an output does not depend on an input.
    """
    from ..func import jacfwd, jacrev

    _check_strategy(strategy, "jacobian: strategy")
    inputs_tuple, values = _as_tuple(inputs, "jacobian")
    if strict:
        _check_strict(func, values, per_output=True)
    transform = jacrev if strategy == "reverse-mode" else jacfwd
    argnums = tuple(range(len(values)))
    outputs_tuple = isinstance(func(*values), tuple | list)
    result = transform(func, argnums=argnums)(*values)
    return _kept(_unwrap(result, inputs_tuple, outputs_tuple), create_graph)


def hessian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of the scalar function ``func`` at ``inputs`` (``result[i][j]`` for tuple
    inputs: the second derivatives in inputs ``i`` and ``j``). ``outer_jacobian_strategy`` picks
    the outer Jacobian's mode; the inner one is always reverse, as in PyTorch.

    Raises:
        ValueError: an unknown strategy.
        RuntimeError: ``strict=True`` and a first derivative does not depend on the inputs.
    """
    from ..func import jacfwd, jacrev

    _check_strategy(outer_jacobian_strategy, "hessian: outer_jacobian_strategy")
    inputs_tuple, values = _as_tuple(inputs, "hessian")
    if strict:
        _check_strict_hessian(func, values)
    argnums = tuple(range(len(values)))
    outer = jacrev if outer_jacobian_strategy == "reverse-mode" else jacfwd
    result = outer(jacrev(func, argnums), argnums)(*values)
    if not inputs_tuple:
        result = result[0][0]
    return _kept(result, create_graph)


def vjp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), v^T J)``; ``v`` may be omitted for a scalar output."""
    from ..func import vjp as vjp_transform
    from ..functions import ones_like

    inputs_tuple, values = _as_tuple(inputs, "vjp")
    if strict:
        _check_strict(func, values, per_output=False)
    out, pullback = vjp_transform(func, *values)
    if v is None:
        if not isinstance(out, Tensor) or out.numel() != 1:
            msg = (
                "The vector v can only be None if the user-provided function returns a single "
                "Tensor with a single element."
            )
            raise RuntimeError(msg)
        v = ones_like(out)
    products = pullback(v)
    return _kept(out, create_graph), _kept(products if inputs_tuple else products[0], create_graph)


def jvp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), J v)``; ``v`` may be omitted for a single input of one element."""
    from ..func import jvp as jvp_transform

    _, values = _as_tuple(inputs, "jvp")
    if strict:
        _check_strict(func, values, per_output=False)
    out, product = jvp_transform(func, values, _directions(v, values))
    return _kept(out, create_graph), _kept(product, create_graph)


def vhp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), v^T H)`` for a scalar ``func``."""
    return hvp(func, inputs, v, create_graph, strict)  # H is symmetric: v^T H = (H v)^T


def hvp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), H v)`` for a scalar ``func``."""
    from ..func import hvp as hvp_transform

    inputs_tuple, values = _as_tuple(inputs, "hvp")
    if strict:
        _check_strict_hessian(func, values)
    out, product = hvp_transform(func, values, _directions(v, values))
    if not inputs_tuple and isinstance(product, tuple | list):
        product = product[0]
    return _kept(out, create_graph), _kept(product, create_graph)
