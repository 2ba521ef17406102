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

from . import _dtypes, config, func
from .autograd import grad, no_grad
from .functions.creation import ones_like, zeros_like
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Reverse mode and finite differences disagree (the message says where and by how much)."""


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
        The estimate, a float64 array of ``f``'s output shape.

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
    steps = [eps * np.asarray(v, dtype=np.float64) for v in tangents]
    forward = np.asarray(f(*(x + step for x, step in zip(points, steps, strict=True))))
    backward = np.asarray(f(*(x - step for x, step in zip(points, steps, strict=True))))
    return (forward.astype(np.float64) - backward.astype(np.float64)) / (2 * eps)


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check reverse-mode derivatives of ``fn`` against central finite differences.

    Every input that requires grad is checked: its Jacobian block from reverse mode (one
    ``dualgrad.autograd.grad`` per output element) must match the finite-difference estimate
    elementwise, ``|analytical - numerical| <= atol + rtol * |numerical|``. Inputs that do not
    require grad (other Tensors, Python numbers) are passed through unchanged.

    Args:
        fn: a function of the inputs returning one Tensor.
        inputs: a Tensor or a sequence of arguments; those to check are float64 Tensors that
            require grad (finite differences need float64).
        eps: the finite-difference step.
        atol: absolute tolerance.
        rtol: relative tolerance, relative to the numerical value.

    Returns:
        True when every checked derivative matches.

    Raises:
        GradcheckError: a derivative differs; the message names the input, the worst output and
            input elements, both values and the tolerance.
        TypeError: ``fn`` does not return a Tensor, or an input to check is not float64.
        ValueError: no input requires grad.

    Example:
        >>> import dualgrad
        >>> from dualgrad.testing import gradcheck
        >>> x = dualgrad.tensor([1.0, 2.0], dtype=dualgrad.float64, requires_grad=True)
        >>> gradcheck(lambda x: (x**3).sum(), x)
        True
    """
    arguments = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
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
    output = fn(*arguments)
    if not isinstance(output, Tensor):
        msg = f"gradcheck: fn must return a Tensor, got {type(output).__name__}"
        raise TypeError(msg)
    analytical = _reverse_jacobians(output, [arguments[i] for i in checked])
    for i, jacobian in zip(checked, analytical, strict=True):
        numerical = _numerical_jacobian(fn, arguments, i, output, eps)
        _compare(i, jacobian, numerical, output.shape, arguments[i].shape, atol, rtol)
    return True


def _reverse_jacobians(output: Tensor, wrt: list[Tensor]) -> list[np.ndarray]:
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
        for jacobian, g in zip(jacobians, grads, strict=True):
            if g is not None:
                jacobian[row] = g.numpy().reshape(-1)
    return jacobians


def _numerical_jacobian(
    fn: Callable[..., Tensor], arguments: tuple[Any, ...], index: int, output: Tensor, eps: float
) -> np.ndarray:
    """Input ``index``'s Jacobian block by central differences, one column per element."""
    x = arguments[index]
    backend = x.backend

    def evaluate(values: np.ndarray) -> np.ndarray:
        perturbed = Tensor(backend.from_numpy(values.astype(x.dtype.name)), backend)
        with no_grad():
            result = fn(*arguments[:index], perturbed, *arguments[index + 1 :])
        return result.detach().numpy()

    point = x.detach().numpy()
    jacobian = np.zeros((output.numel(), x.numel()))
    for column in range(x.numel()):
        direction = np.zeros(x.numel())
        direction[column] = 1
        slope = numerical_jvp(evaluate, [point], [direction.reshape(x.shape)], eps=eps)
        jacobian[:, column] = slope.reshape(-1)
    return jacobian


def _compare(
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
    msg = (
        f"gradcheck: Jacobian mismatch for input {index} (shape {input_shape}) in {count} of "
        f"{excess.size} entries; worst at d output{list(out_at)} / d input{list(in_at)}: "
        f"analytical {float(analytical[row, column])!r}, "
        f"numerical {float(numerical[row, column])!r}, "
        f"|difference| {abs(analytical[row, column] - numerical[row, column]):.3g} > "
        f"atol + rtol * |numerical| = {tolerance[row, column]:.3g} (atol={atol}, rtol={rtol})"
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
    ``jacrev`` and ``jacfwd``. They must agree to ``atol + rtol * |reverse|``.

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
        i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.dtype.is_floating_point
    )
    if not checked:
        msg = "check_modes: no input is a floating point Tensor; pass the tensors to differentiate"
        raise ValueError(msg)
    reverse = _backward_grads(fn, inputs, checked, "reverse")
    forward = _backward_grads(fn, inputs, checked, "forward")
    by_rows = func.jacrev(fn, argnums=checked)(*inputs)
    by_columns = func.jacfwd(fn, argnums=checked)(*inputs)
    rows = []
    failures = []
    pairs = (
        ("backward() reverse vs forward", reverse, forward),
        ("jacrev vs jacfwd", by_rows, by_columns),
    )
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
) -> list[Tensor]:
    """The ``.grad`` of each checked input after ``backward()`` on ``fn``'s output in ``mode``."""
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
    return [leaf.grad if leaf.grad is not None else _zeros_like(leaf) for leaf in leaves]


def _ones_like(x: Tensor) -> Tensor:
    return ones_like(x.detach())


def _zeros_like(x: Tensor) -> Tensor:
    return zeros_like(x.detach())
