"""Checking derivatives: against central finite differences, and one engine against the other.

``gradcheck`` compares the Jacobian that reverse mode computes for a function of Tensors with
the one central differences estimate; ``numerical_jvp`` is the finite-difference estimate
itself, for checks written against NumPy arrays (the derivative rules' tests use it).
``check_modes`` runs a function through both engines (``backward()`` in reverse and forward
mode, ``jacrev`` and ``jacfwd``) and compares them.

Example:
    >>> import dualgrad
    >>> from dualgrad.testing import gradcheck
    >>> x = dualgrad.tensor([0.5, 1.0, 2.0], dtype=dualgrad.float64, requires_grad=True)
    >>> gradcheck(lambda x: dualgrad.exp(x) * x, (x,))
    True
"""

from __future__ import annotations

__all__ = ["GradcheckError", "ModeReport", "check_modes", "gradcheck", "numerical_jvp"]

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _dtypes, config, func, functions
from .autograd.engine import grad
from .autograd.grad_mode import no_grad
from .functions.creation import ones_like, zeros_like
from .tensor import Tensor


class GradcheckError(AssertionError, RuntimeError):
    """Derivatives disagree (the message says where and by how much). Also a RuntimeError, as
    PyTorch's ``GradcheckError`` is, so that ported code catching that catches this."""


def numerical_jvp(
    f: Callable[..., Any],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    *,
    eps: float = 1e-6,
) -> np.ndarray:
    """The derivative of ``f`` at ``primals`` along ``tangents``, by central differences.

    ``(f(x + eps * v) - f(x - eps * v)) / (2 * eps)``: its truncation error shrinks as
    ``eps ** 2`` and its rounding error grows as ``1 / eps``; ``1e-6`` suits float64.

    Args:
        f: takes one NumPy array per primal (the perturbed point, in float64 or wider) and
            returns a NumPy array or a number; it casts the arrays itself if it needs another
            dtype.
        primals: the point, one array (or number) per argument of ``f``.
        tangents: the direction, one array per primal, of the primal's shape.
        eps: the step.

    Returns:
        The estimate, a float64 (complex128 for complex output) array of ``f``'s output shape.

    Raises:
        ValueError: the numbers of primals and tangents differ.

    Example:
        >>> import numpy as np
        >>> from dualgrad.testing import numerical_jvp
        >>> slope = numerical_jvp(lambda x: x**3, [np.array(2.0)], [np.array(1.0)])
        >>> round(float(slope), 6)
        12.0
    """
    if len(primals) != len(tangents):
        msg = f"numerical_jvp: got {len(primals)} primals but {len(tangents)} tangents"
        raise ValueError(msg)
    points = [np.asarray(x) for x in primals]
    # complex tangents, and complex outputs, in complex128
    steps = [eps * np.asarray(v, dtype=np.result_type(v, np.float64)) for v in tangents]
    forward = np.asarray(f(*(x + step for x, step in zip(points, steps, strict=True))))
    backward = np.asarray(f(*(x - step for x, step in zip(points, steps, strict=True))))
    wide = np.result_type(forward, np.float64)
    return (forward.astype(wide) - backward.astype(wide)) / (2 * eps)


def gradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    check_backward_ad: bool = True,
    check_forward_ad: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_grad_dtypes: bool = False,
    nondet_tol: float | None = None,
    fast_mode: bool = False,
) -> bool:
    """Check the derivatives of ``fn`` against central finite differences.

    Every input that requires grad is checked: its Jacobian block, from reverse mode (one
    ``dualgrad.autograd.grad`` per output element) and, if asked, from forward mode
    (``jacfwd``), must match the finite-difference estimate elementwise,
    ``|analytical - numerical| <= atol + rtol * |numerical|``. Inputs that do not require grad
    (other Tensors, Python numbers) are passed through unchanged. ``fn`` may return one Tensor
    or a tuple of them; its floating point outputs are checked, as one vector.

    Args:
        fn: a function of the inputs returning a Tensor or a sequence of Tensors.
        inputs: a Tensor or a sequence of arguments; those to check are float64 Tensors that
            require grad (finite differences need float64).
        eps: the finite-difference step.
        atol: absolute tolerance.
        rtol: relative tolerance, relative to the numerical value.
        check_backward_ad: check reverse mode.
        check_forward_ad: check forward mode (``jacfwd``).
        check_batched_grad: also check that reverse mode with a batch of cotangents
            (``jacrev``, one pass) gives the rows computed one by one.
        check_batched_forward_grad: also check that forward mode with a batch of tangents
            (``jacfwd``) gives the columns computed one by one (``jvp``).
        check_grad_dtypes: check that each gradient has its input's dtype and shape.
        nondet_tol: if given, compute the reverse-mode Jacobian twice and require the two to
            agree within it (PyTorch's reentrancy check).
        fast_mode: compare one random projection ``u^T J v`` per input instead of the whole
            Jacobian (one backward, one forward, two evaluations per input).

    Returns:
        True when every checked derivative matches.

    Raises:
        GradcheckError: a derivative differs; the message names the mode, the input, the
            worst output and input elements, both values and the tolerance.
        TypeError: ``fn`` does not return Tensors, or an input to check is not float64.
        ValueError: no input requires grad, or neither mode is checked.

    Example:
        >>> import dualgrad
        >>> from dualgrad.testing import gradcheck
        >>> x = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64, requires_grad=True)
        >>> gradcheck(lambda x: (x**3).sum(), x, check_forward_ad=True)
        True
    """
    if not (check_backward_ad or check_forward_ad):
        msg = "gradcheck: check_backward_ad and check_forward_ad are both False; check one mode"
        raise ValueError(msg)
    arguments = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = _checked_inputs(arguments)
    flat = _flattened(fn)
    output = flat(*arguments)
    numerical = (
        None
        if fast_mode
        else [_numerical_jacobian(flat, arguments, i, output, eps) for i in checked]
    )
    wrt = [arguments[i] for i in checked]
    if check_backward_ad:
        if fast_mode:
            _check_projection(flat, arguments, checked, output, eps, atol, rtol, "reverse")
        else:
            rows = _reverse_jacobians(output, wrt, check_grad_dtypes)
            _compare_all("reverse mode", checked, rows, numerical, output, wrt, atol, rtol)
            if nondet_tol is not None:
                again = _reverse_jacobians(output, wrt, False)
                for i, first, second in zip(checked, rows, again, strict=True):
                    _check_reentrant(i, first, second, nondet_tol)
            if check_batched_grad:
                batched = _jacobians(func.jacrev, flat, arguments, checked)
                _compare_all(
                    "batched reverse mode", checked, batched, rows, output, wrt, atol, rtol
                )
    if check_forward_ad:
        if fast_mode:
            _check_projection(flat, arguments, checked, output, eps, atol, rtol, "forward")
        else:
            columns = _jacobians(func.jacfwd, flat, arguments, checked)
            _compare_all("forward mode", checked, columns, numerical, output, wrt, atol, rtol)
            if check_batched_forward_grad:
                single = [_forward_columns(flat, arguments, i, output) for i in checked]
                _compare_all(
                    "batched forward mode", checked, columns, single, output, wrt, atol, rtol
                )
    return True


def _checked_inputs(arguments: tuple[Any, ...]) -> list[int]:
    """The positions of the inputs to check: float64 Tensors that require grad."""
    checked = [i for i, x in enumerate(arguments) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        msg = "gradcheck: no input requires grad; create them with requires_grad=True"
        raise ValueError(msg)
    for i in checked:
        if arguments[i].dtype is not _dtypes.float64:
            msg = (
                f"gradcheck: input {i} has dtype {arguments[i].dtype}; finite differences need "
                "float64: create it with dtype=dualgrad.float64"
            )
            raise TypeError(msg)
    return checked


def _flattened(fn: Callable[..., Any]) -> Callable[..., Tensor]:
    """``fn`` with its floating point outputs joined into one vector (one output stays as it
    is, so that messages keep its shape)."""

    def flat(*args: Any) -> Tensor:
        result = fn(*args)
        outputs = result if isinstance(result, tuple | list) else (result,)
        for output in outputs:
            if not isinstance(output, Tensor):
                msg = f"gradcheck: fn must return Tensors, got {type(output).__name__}"
                raise TypeError(msg)
        floating = [o for o in outputs if o.dtype.is_floating_point]
        if len(outputs) == 1 and floating:
            return floating[0]
        if not floating:
            return outputs[0]
        return functions.concat([functions.reshape(o, (-1,)) for o in floating])

    return flat


def _reverse_jacobians(output: Tensor, wrt: list[Tensor], check_dtypes: bool) -> list[np.ndarray]:
    """Each input's Jacobian block, ``(output.size, input.size)``, one backward per row."""
    jacobians = [np.zeros((output.numel(), x.numel())) for x in wrt]
    if not output.requires_grad:
        return jacobians
    backend = output.backend
    for row in range(output.numel()):
        seed = np.zeros(output.numel(), dtype=output.dtype.name)
        seed[row] = 1
        cotangent = Tensor(backend.from_numpy(seed.reshape(output.shape)), backend)
        grads = grad(output, wrt, grad_outputs=cotangent, retain_graph=True, allow_unused=True)
        for index, (jacobian, g, x) in enumerate(zip(jacobians, grads, wrt, strict=True)):
            if g is None:
                continue
            if check_dtypes and (g.dtype is not x.dtype or g.shape != x.shape):
                msg = (
                    f"gradcheck: the gradient of checked input {index} has dtype {g.dtype} and "
                    f"shape {tuple(g.shape)}, the input {x.dtype} and {tuple(x.shape)}"
                )
                raise GradcheckError(msg)
            jacobian[row] = g.numpy().reshape(-1)
    return jacobians


def _jacobians(
    transform: Callable[..., Any],
    flat: Callable[..., Tensor],
    arguments: tuple[Any, ...],
    checked: list[int],
) -> list[np.ndarray]:
    """Each checked input's Jacobian block from ``func.jacrev`` or ``func.jacfwd`` (one
    vectorized pass), as ``(output.size, input.size)`` arrays."""
    blocks = transform(flat, argnums=tuple(checked))(*arguments)
    return [
        block.detach().numpy().reshape(-1, arguments[i].numel())
        for i, block in zip(checked, blocks, strict=True)
    ]


def _forward_columns(
    flat: Callable[..., Tensor], arguments: tuple[Any, ...], index: int, output: Tensor
) -> np.ndarray:
    """Input ``index``'s Jacobian block by forward mode, one ``jvp`` per column."""
    x = arguments[index]
    backend = x.backend
    jacobian = np.zeros((output.numel(), x.numel()))

    def along(value: Tensor) -> Tensor:
        return flat(*arguments[:index], value, *arguments[index + 1 :])

    for column in range(x.numel()):
        direction = np.zeros(x.numel(), dtype=x.dtype.name)
        direction[column] = 1
        tangent = Tensor(backend.from_numpy(direction.reshape(x.shape)), backend)
        _, column_values = func.jvp(along, (x.detach(),), (tangent,))
        jacobian[:, column] = column_values.detach().numpy().reshape(-1)
    return jacobian


def _numerical_jacobian(
    fn: Callable[..., Tensor], arguments: tuple[Any, ...], index: int, output: Tensor, eps: float
) -> np.ndarray:
    """Input ``index``'s Jacobian block by central differences, one column per element."""
    evaluate = _perturbed(fn, arguments, index)
    x = arguments[index]
    point = x.detach().numpy()
    jacobian = np.zeros((output.numel(), x.numel()))
    for column in range(x.numel()):
        direction = np.zeros(x.numel())
        direction[column] = 1
        slope = numerical_jvp(evaluate, [point], [direction.reshape(x.shape)], eps=eps)
        jacobian[:, column] = slope.reshape(-1)
    return jacobian


def _perturbed(
    fn: Callable[..., Tensor], arguments: tuple[Any, ...], index: int
) -> Callable[[np.ndarray], np.ndarray]:
    """``fn``'s output values as a function of input ``index``'s values (NumPy in and out)."""
    x = arguments[index]
    backend = x.backend

    def evaluate(values: np.ndarray) -> np.ndarray:
        perturbed = Tensor(backend.from_numpy(values.astype(x.dtype.name)), backend)
        with no_grad():
            result = fn(*arguments[:index], perturbed, *arguments[index + 1 :])
        return result.detach().numpy()

    return evaluate


def _check_projection(
    flat: Callable[..., Tensor],
    arguments: tuple[Any, ...],
    checked: list[int],
    output: Tensor,
    eps: float,
    atol: float,
    rtol: float,
    mode: str,
) -> None:
    """fast_mode: ``u^T J v`` for random ``u`` and ``v``, analytical against numerical."""
    rng = np.random.default_rng(0)
    backend = output.backend
    u = rng.standard_normal(output.shape)
    for i in checked:
        x = arguments[i]
        v = rng.standard_normal(x.shape)
        numerical = float(
            np.sum(
                u
                * numerical_jvp(_perturbed(flat, arguments, i), [x.detach().numpy()], [v], eps=eps)
            )
        )
        if mode == "reverse":
            (g,) = grad(
                output,
                [x],
                grad_outputs=Tensor(backend.from_numpy(u.astype(output.dtype.name)), backend),
                retain_graph=True,
                allow_unused=True,
            )
            analytical = 0.0 if g is None else float(np.sum(g.numpy() * v))
        else:
            tangent = Tensor(backend.from_numpy(v.astype(x.dtype.name)), backend)
            _, jv = func.jvp(
                lambda value, i=i: flat(*arguments[:i], value, *arguments[i + 1 :]),
                (x.detach(),),
                (tangent,),
            )
            analytical = float(np.sum(u * jv.detach().numpy()))
        tolerance = atol + rtol * abs(numerical)
        if not abs(analytical - numerical) <= tolerance:
            msg = (
                f"gradcheck ({mode} mode, fast_mode): for input {i}, the projection u^T J v is "
                f"{analytical!r} analytically and {numerical!r} numerically, |difference| "
                f"{abs(analytical - numerical):.3g} > atol + rtol * |numerical| = {tolerance:.3g}"
            )
            raise GradcheckError(msg)


def _check_reentrant(index: int, first: np.ndarray, second: np.ndarray, tolerance: float) -> None:
    difference = float(np.max(np.abs(first - second), initial=0.0))
    if not difference <= tolerance:
        msg = (
            f"gradcheck: backward is not reentrant: two backward passes gave Jacobians for "
            f"input {index} that differ by {difference:.3g} > nondet_tol={tolerance}"
        )
        raise GradcheckError(msg)


def _compare_all(
    mode: str,
    checked: list[int],
    analytical: list[np.ndarray],
    numerical: list[np.ndarray] | None,
    output: Tensor,
    wrt: list[Tensor],
    atol: float,
    rtol: float,
) -> None:
    for i, got, expected, x in zip(checked, analytical, numerical or [], wrt, strict=True):
        _compare(mode, i, got, expected, tuple(output.shape), tuple(x.shape), atol, rtol)


def _compare(
    mode: str,
    index: int,
    analytical: np.ndarray,
    numerical: np.ndarray,
    output_shape: tuple[int, ...],
    input_shape: tuple[int, ...],
    atol: float,
    rtol: float,
) -> None:
    tolerance = atol + rtol * np.abs(numerical)
    excess = np.abs(analytical - numerical) - tolerance
    excess = np.where(np.isnan(excess), np.inf, excess)  # NaN on either side is a mismatch
    if excess.size == 0 or excess.max() <= 0:
        return
    row, column = np.unravel_index(int(np.argmax(excess)), excess.shape)
    out_at = tuple(int(k) for k in np.unravel_index(row, output_shape))
    in_at = tuple(int(k) for k in np.unravel_index(column, input_shape))
    count = int(np.count_nonzero(excess > 0))
    reference = "numerical" if "batched" not in mode else "one by one"
    msg = (
        f"gradcheck ({mode}): Jacobian mismatch for input {index} (shape {input_shape}) in "
        f"{count} of {excess.size} entries; worst at d output{list(out_at)} / d "
        f"input{list(in_at)}: analytical {float(analytical[row, column])!r}, {reference} "
        f"{float(numerical[row, column])!r}, "
        f"|difference| {abs(analytical[row, column] - numerical[row, column]):.3g} > "
        f"atol + rtol * |{reference}| = {tolerance[row, column]:.3g} (atol={atol}, rtol={rtol})"
    )
    raise GradcheckError(msg)


# --- forward mode against reverse mode ------------------------------------------------------
@dataclass(frozen=True)
class ModeReport:
    """What ``check_modes`` compared: the largest difference per input and comparison."""

    rows: tuple[tuple[int, str, float], ...]  # (input index, comparison, largest |difference|)

    @property
    def largest_difference(self) -> float:
        """The largest difference over every input and comparison."""
        return max((difference for _, _, difference in self.rows), default=0.0)

    def __str__(self) -> str:
        return "\n".join(
            f"input {i}: {comparison}: largest |difference| {difference:.3g}"
            for i, comparison, difference in self.rows
        )


def check_modes(
    fn: Callable[..., Tensor], *inputs: Any, atol: float = 1e-10, rtol: float = 1e-7
) -> ModeReport:
    """Run ``fn`` through both engines and compare what they give.

    Two comparisons per floating-point Tensor input: the ``.grad`` that ``backward()`` leaves
    in reverse mode and in forward mode (the output contracted with ones), and the Jacobians of
    ``jacrev`` and ``jacfwd``. They must agree to ``atol + rtol * |reverse|``. Complex inputs
    are checked too, through ``backward()`` only (the Jacobian transforms take real functions).

    Args:
        fn: a function of the inputs returning one floating-point Tensor.
        *inputs: its arguments; the floating-point Tensors among them are differentiated.
        atol: absolute tolerance.
        rtol: relative tolerance, relative to the reverse-mode value.

    Returns:
        The report of every comparison (``str(report)`` is readable).

    Raises:
        GradcheckError: the engines disagree; the message is the report.
        ValueError: no input is a floating-point Tensor.

    Example:
        >>> import dualgrad
        >>> from dualgrad.testing import check_modes
        >>> x = dualgrad.tensor([0.5, 1.0], dtype=dualgrad.float64)
        >>> check_modes(lambda x: dualgrad.sin(x) * x, x).largest_difference < 1e-12
        True
    """
    checked = tuple(
        i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.dtype.is_inexact
    )
    if not checked:
        msg = "check_modes: no input is a floating point Tensor; pass the tensors to differentiate"
        raise ValueError(msg)
    reverse, real = _backward_grads(fn, inputs, checked, "reverse")
    forward, _ = _backward_grads(fn, inputs, checked, "forward")
    pairs: list[tuple[str, Any, Any]] = [("backward() reverse vs forward", reverse, forward)]
    if real:
        by_rows = func.jacrev(fn, argnums=checked)(*inputs)
        by_columns = func.jacfwd(fn, argnums=checked)(*inputs)
        pairs.append(("jacrev vs jacfwd", by_rows, by_columns))
    rows = []
    failures = []
    for comparison, expected, got in pairs:
        for i, a, b in zip(checked, expected, got, strict=True):
            a_values, b_values = a.detach().numpy(), b.detach().numpy()
            difference = float(np.max(np.abs(a_values - b_values), initial=0.0))
            rows.append((i, comparison, difference))
            if not np.allclose(b_values, a_values, atol=atol, rtol=rtol, equal_nan=True):
                failures.append(i)
    report = ModeReport(tuple(rows))
    if failures:
        msg = f"check_modes: the engines disagree beyond atol={atol}, rtol={rtol}\n{report}"
        raise GradcheckError(msg)
    return report


def _backward_grads(
    fn: Callable[..., Tensor], inputs: tuple[Any, ...], checked: tuple[int, ...], mode: str
) -> tuple[list[Tensor], bool]:
    """The ``.grad`` of each checked input after ``backward()`` on ``fn``'s output in ``mode``,
    and whether the inputs and the output are all real."""
    arguments = list(inputs)
    leaves = []
    for i in checked:
        leaf = inputs[i].detach().requires_grad_()
        arguments[i] = leaf
        leaves.append(leaf)
    with config.use_mode(mode):
        output = fn(*arguments)
        if output.requires_grad:
            output.backward(gradient=_ones_like(output))
    real = not output.dtype.is_complex and not any(leaf.dtype.is_complex for leaf in leaves)
    grads = [leaf.grad if leaf.grad is not None else _zeros_like(leaf) for leaf in leaves]
    return grads, real


def _ones_like(x: Tensor) -> Tensor:
    return ones_like(x.detach())


def _zeros_like(x: Tensor) -> Tensor:
    return zeros_like(x.detach())
