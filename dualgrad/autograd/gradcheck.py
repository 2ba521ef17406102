"""``gradcheck`` and ``gradgradcheck`` with PyTorch's signatures, as
``torch.autograd.gradcheck``: thin fronts over ``dualgrad.testing.gradcheck``, which does the
finite differences and the comparisons."""

from __future__ import annotations

__all__ = ["gradcheck", "gradgradcheck"]

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from .engine import grad
from .grad_mode import enable_grad


def _testing() -> Any:
    from .. import testing  # testing imports autograd: import it when first used

    return testing


def _check_options(forward: bool, backward: bool, batched: bool, batched_forward: bool) -> None:
    if not (forward or backward):
        msg = "Expected at least one of check_forward_ad or check_backward_ad to be True"
        raise ValueError(msg)
    if batched and not backward:
        msg = "Setting check_batched_grad=True requires check_backward_ad to be True"
        raise ValueError(msg)
    if batched_forward and not forward:
        msg = "Setting check_batched_forward_grad=True requires check_forward_ad to be True"
        raise ValueError(msg)


def gradcheck(
    func: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Tensor | Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Check ``func``'s derivatives against central finite differences, as
    ``torch.autograd.gradcheck``.

    The inputs that require grad must be float64. Reverse mode (and forward mode with
    ``check_forward_ad``) must match the finite differences within
    ``atol + rtol * |numerical|``; see ``dualgrad.testing.gradcheck`` for each option.
    ``check_undefined_grad`` is accepted and always holds: no derivative rule is ever handed an
    undefined (None) gradient. Sparse tensors do not exist here, so ``masked`` must stay off.

    Returns:
        True if every check passes; False instead of raising when ``raise_exception`` is
        False.

    Raises:
        GradcheckError: (a RuntimeError) a derivative differs.
        TypeError: an input to check is not float64, or ``func`` returns no Tensors.
        ValueError: no input requires grad, or options that contradict each other.
        NotImplementedError: ``masked=True``.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([0.5, 2.0], dtype=dualgrad.float64, requires_grad=True)
        >>> dualgrad.autograd.gradcheck(dualgrad.sin, (x,), check_forward_ad=True)
        True
    """
    if masked:
        msg = "gradcheck: masked=True is for sparse tensors, which dualgrad does not have"
        raise NotImplementedError(msg)
    _check_options(
        check_forward_ad, check_backward_ad, check_batched_grad, check_batched_forward_grad
    )
    testing = _testing()
    try:
        return testing.gradcheck(
            func,
            inputs,
            eps=eps,
            atol=atol,
            rtol=rtol,
            check_backward_ad=check_backward_ad,
            check_forward_ad=check_forward_ad,
            check_batched_grad=check_batched_grad,
            check_batched_forward_grad=check_batched_forward_grad,
            check_grad_dtypes=check_grad_dtypes,
            nondet_tol=nondet_tol,
            fast_mode=fast_mode,
        )
    except testing.GradcheckError:
        if raise_exception:
            raise
        return False


def gradgradcheck(
    func: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """Check ``func``'s second derivatives, as ``torch.autograd.gradgradcheck``: ``gradcheck``
    of the function ``(inputs, grad_outputs) -> vjp``, whose derivatives are second
    derivatives of ``func``. The arguments not described here are ``gradcheck``'s.

    Args:
        func, inputs: as ``gradcheck``.
        grad_outputs: the cotangents of ``func``'s outputs; by default random float64 ones in
            [-1, 1) (from a fixed seed), which are checked too.
        check_rev_over_rev: check the vjp's reverse-mode derivatives.
        check_fwd_over_rev: check its forward-mode derivatives (forward over reverse).
        gen_non_contig_grad_outputs: accepted; arrays here have no memory layouts to vary.

    Returns:
        True if every check passes (False instead of raising with ``raise_exception=False``).

    Raises:
        GradcheckError: (a RuntimeError) a derivative differs; the other errors are
            ``gradcheck``'s.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([0.5, 2.0], dtype=dualgrad.float64, requires_grad=True)
        >>> dualgrad.autograd.gradgradcheck(lambda x: x ** 3, (x,), check_fwd_over_rev=True)
        True
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        msg = "Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True"
        raise ValueError(msg)
    if check_batched_grad and not check_rev_over_rev:
        msg = "Setting check_batched_grad=True requires check_rev_over_rev to be True"
        raise ValueError(msg)
    arguments = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outputs = func(*arguments)
    outputs = tuple(outputs) if isinstance(outputs, tuple | list) else (outputs,)
    cotangents = _cotangents(grad_outputs, _floating(outputs))
    checked = [i for i, x in enumerate(arguments) if isinstance(x, Tensor) and x.requires_grad]
    count = len(arguments)

    def vjp(*values: Any) -> tuple[Tensor, ...]:
        # The finite differences evaluate this on fresh tensors under no_grad: those become
        # leaves that require grad here, so that there is a vjp to compute.
        with enable_grad():
            for i in checked:
                if not values[i].requires_grad:
                    values[i].requires_grad_()
            results = func(*values[:count])
            results = results if isinstance(results, tuple | list) else (results,)
            pairs = [
                (r, c)
                for r, c in zip(_floating(results), values[count:], strict=True)
                if r.requires_grad
            ]
            grads = grad(
                [r for r, _ in pairs],
                [values[i] for i in checked],
                grad_outputs=[c for _, c in pairs],
                create_graph=True,
                allow_unused=True,
            )
        return tuple(g for g in grads if g is not None)

    return gradcheck(
        vjp,
        (*arguments, *cotangents),
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        nondet_tol=nondet_tol,
        check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes,
        check_batched_grad=check_batched_grad,
        check_forward_ad=check_fwd_over_rev,
        check_backward_ad=check_rev_over_rev,
        fast_mode=fast_mode,
        masked=masked,
    )


def _floating(outputs: Sequence[Any]) -> list[Tensor]:
    return [o for o in outputs if isinstance(o, Tensor) and o.dtype.is_floating_point]


def _cotangents(grad_outputs: Any, outputs: list[Tensor]) -> list[Tensor]:
    """The given cotangents, or random ones like each output, that require grad."""
    if grad_outputs is not None:
        given = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
        if len(given) != len(outputs):
            msg = (
                f"gradgradcheck: {len(given)} grad_outputs for {len(outputs)} floating point "
                "outputs; give one per output"
            )
            raise ValueError(msg)
        return [g if g.requires_grad else g.detach().requires_grad_() for g in given]
    rng = np.random.default_rng(0)
    cotangents = []
    for output in outputs:
        values = rng.uniform(-1.0, 1.0, output.shape).astype(output.dtype.name)
        backend = output.backend
        cotangents.append(Tensor(backend.from_numpy(values), backend, requires_grad=True))
    return cotangents
