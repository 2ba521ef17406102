"""L-BFGS (Liu & Nocedal, 1989), with PyTorch's algorithm, defaults and closure protocol."""

from __future__ import annotations

__all__ = ["LBFGS"]

from collections.abc import Callable, Iterable
from typing import Any

from .. import functions as fn
from .._state import converted_like
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor
from ._line_search import Point, strong_wolfe
from .optimizer import Optimizer


# The scalars computed from the vectors (dot products, curvatures, slopes) are 0-d Tensors in
# the parameters' dtype, as in PyTorch: a float32 run then rounds, and so decides, as PyTorch's.
def _dot(a: Tensor, b: Tensor) -> Tensor:
    return fn.vecdot(a, b)


def _largest(x: Tensor) -> Any:
    """The largest absolute element (0 for an empty vector)."""
    return fn.max(fn.abs(x)) if x.numel() else 0.0


class LBFGS(Optimizer):
    """PyTorch's L-BFGS: each ``step(closure)`` runs up to ``max_iter`` quasi-Newton iterations
    on all parameters as one vector, the inverse Hessian approximated from the last
    ``history_size`` steps and gradient changes (the two-loop recursion).

    The closure clears the gradients, computes the loss, calls ``backward()`` and returns the
    loss; it is called once per evaluation (more than once per step). Each iteration moves by
    ``lr`` times the direction (the first ever by ``min(1, 1 / sum|g|) * lr``), or, with
    ``line_search_fn="strong_wolfe"``, by a step that satisfies the strong Wolfe conditions.
    An iteration ends the step early when the gradient's largest element is at most
    ``tolerance_grad``, or the step or the change of the loss is below ``tolerance_change``.

    One parameter group only; its state (kept under the first parameter, as in PyTorch) holds
    the history. The iterations branch on values, so a step cannot be compiled by
    ``dualgrad.jit``.

    Args:
        params: the parameters.
        lr: the step length (float or 0-d Tensor).
        max_iter: iterations per ``step``.
        max_eval: evaluations of the closure per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when the gradient's largest absolute element is at most this.
        tolerance_change: stop when the step or the loss changes by less than this.
        history_size: how many past steps approximate the curvature.
        line_search_fn: None (fixed steps) or ``"strong_wolfe"``.

    Raises:
        ValueError: a negative lr, more than one parameter group, or an unknown line search.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([-1.5, 2.0], dtype=dualgrad.float64, requires_grad=True)
        >>> opt = dualgrad.optim.LBFGS([x], line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        ...     loss.backward()
        ...     return loss
        >>> for _ in range(5):
        ...     _ = opt.step(closure)
        >>> [round(v, 4) for v in x.tolist()]
        [1.0, 1.0]
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if line_search_fn not in (None, "strong_wolfe"):
            msg = f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}"
            raise ValueError(msg)
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_iter * 5 // 4 if max_eval is None else max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, group: dict[str, Any]) -> None:
        """As ``Optimizer.add_param_group``, for the one group LBFGS supports.

        Raises:
            ValueError: a second group.
        """
        if self.param_groups:
            msg = "LBFGS doesn't support per-parameter options (parameter groups)"
            raise ValueError(msg)
        super().add_param_group(group)

    def _update(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> Any:
        # Not used: LBFGS moves all parameters together, in step().
        msg = "LBFGS updates the parameters together in step(closure)"
        raise NotImplementedError(msg)

    # --- the parameters as one vector -----------------------------------------------------
    def _flat_grad(self) -> Tensor:
        return fn.concat(
            [
                fn.reshape(p.grad if p.grad is not None else fn.zeros_like(p), (-1,))
                for p in self._params
            ]
        )

    def _add_to_params(self, step: Any, direction: Tensor) -> None:
        offset = 0
        for p in self._params:
            size = p.numel()
            p.add_(fn.reshape(direction[offset : offset + size], p.shape) * step)
            offset += size

    def _evaluate(self, closure: Callable[[], Any]) -> tuple[Any, float, Tensor]:
        with enable_grad():
            loss = closure()
        return loss, float(loss), self._flat_grad()

    @no_grad()
    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` iterations, calling ``closure`` to evaluate the loss and its
        gradient.

        Returns:
            The loss of the first evaluation (before this step moved the parameters).

        Raises:
            TypeError: no closure.
        """
        if closure is None:
            msg = (
                "LBFGS.step needs a closure that clears the gradients, computes the loss, calls "
                "backward() and returns it"
            )
            raise TypeError(msg)
        group = self.param_groups[0]
        lr = float(group["lr"].item()) if isinstance(group["lr"], Tensor) else group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        first_loss, loss, flat_grad = self._evaluate(closure)
        evaluations = 1
        state["func_evals"] += 1
        if _largest(flat_grad) <= tolerance_grad:
            return first_loss

        direction, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_flat_grad = state.get("H_diag"), state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")
        iterations = 0
        while iterations < max_iter:
            iterations += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                direction = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = direction * t
                ys = _dot(y, s)
                if ys > 1e-10:  # keep the pair only where the curvature is positive
                    if len(old_dirs) == group["history_size"]:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / _dot(y, y)
                direction = _two_loop(-flat_grad, old_dirs, old_stps, ro, h_diag)
            prev_flat_grad, prev_loss = flat_grad, loss

            # The first step ever is scaled down by the gradient's size, later ones are lr.
            first = state["n_iter"] == 1
            t = min(1.0, 1.0 / fn.sum(fn.abs(flat_grad))) * lr if first else lr
            gtd = _dot(flat_grad, direction)
            if gtd > -tolerance_change:  # not a descent direction any more
                break

            spent = 0
            if group["line_search_fn"] == "strong_wolfe":
                start = [p.detach().clone() for p in self._params]

                def evaluate(
                    step: Any, start: list[Tensor] = start, direction: Tensor = direction
                ) -> Point:
                    self._add_to_params(step, direction)
                    _, value, gradient = self._evaluate(closure)
                    for p, value_before in zip(self._params, start, strict=True):
                        p.copy_(value_before)
                    return Point(step, value, gradient, _dot(gradient, direction))

                found, spent = strong_wolfe(
                    evaluate,
                    Point(0, loss, flat_grad, gtd),
                    t,
                    _largest(direction),
                    tolerance_change=tolerance_change,
                    max_evaluations=max_eval - evaluations,
                )
                loss, flat_grad, t = found.f, found.g, found.t
                self._add_to_params(t, direction)
                optimal = _largest(flat_grad) <= tolerance_grad
            else:
                self._add_to_params(t, direction)
                optimal = False
                if iterations != max_iter:
                    # The last iteration does not evaluate: the next step will.
                    _, loss, flat_grad = self._evaluate(closure)
                    optimal = _largest(flat_grad) <= tolerance_grad
                    spent = 1
            evaluations += spent
            state["func_evals"] += spent

            if iterations == max_iter or evaluations >= max_eval or optimal:
                break
            if _largest(direction * t) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(
            d=direction,
            t=t,
            old_dirs=old_dirs,
            old_stps=old_stps,
            ro=ro,
            H_diag=h_diag,
            prev_flat_grad=prev_flat_grad,
            prev_loss=prev_loss,
        )
        return first_loss

    def _loaded_state(self, param: Tensor, index: Any, key: str, value: Any) -> Any:
        """The history is flat vectors (and lists of them): onto the parameter's backend and
        dtype, whatever their shape."""
        if isinstance(value, Tensor):
            return converted_like(value, param)
        if isinstance(value, list):
            return [self._loaded_state(param, index, key, item) for item in value]
        return value


def _two_loop(
    q: Tensor, old_dirs: list[Tensor], old_stps: list[Tensor], ro: list[Tensor], h_diag: Any
) -> Tensor:
    """The L-BFGS direction: the inverse Hessian approximation applied to ``q`` (minus the
    gradient), by Nocedal's two-loop recursion over the stored (s, y) pairs."""
    alphas: list[Any] = [None] * len(old_dirs)
    for i in reversed(range(len(old_dirs))):
        alphas[i] = _dot(old_stps[i], q) * ro[i]
        q = q + old_dirs[i] * -alphas[i]
    r = q * h_diag
    for i in range(len(old_dirs)):
        beta = _dot(old_dirs[i], r) * ro[i]
        r = r + old_stps[i] * (alphas[i] - beta)
    return r
