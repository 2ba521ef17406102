"""Misuses fail cleanly: the right exception, a message that says what and what to do, and no
tensor changed. Then the same promise for failures part way: a backward that fails leaves every
``.grad`` as it was, in both modes, and a failing optimizer step changes no parameter.

The catalogue of misuses is the table in ``tests/bad_inputs.py``, which also writes
docs/errors.md (``tests/render_errors.py``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from bad_inputs import CATALOGUE, Misuse
from tensors import leaf

import dualgrad
from dualgrad import Tensor

pytestmark = pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")


# --- snapshots --------------------------------------------------------------------------------
def _tensors(value: Any, found: dict[int, Tensor]) -> None:
    """Every Tensor reachable from ``value``: itself, its .grad, inside containers, optimizers."""
    if isinstance(value, Tensor):
        if id(value) not in found:
            found[id(value)] = value
            _tensors(value._grad, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _tensors(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _tensors(item, found)
    elif isinstance(value, dualgrad.optim.Optimizer):
        _tensors(value.param_groups, found)
        _tensors(list(value.state.values()), found)


def _state(tensor: Tensor) -> tuple[Any, ...]:
    grad = tensor._grad
    return (
        np.array(tensor._backend.to_numpy(tensor._array), copy=True),
        None if grad is None else np.array(grad._backend.to_numpy(grad._array), copy=True),
        tensor._requires_grad,
        tensor._version,
        tensor.shape,
        tensor.dtype,
    )


def snapshot(*values: Any) -> dict[int, tuple[Tensor, tuple[Any, ...]]]:
    """Value, .grad, requires_grad, version, shape and dtype of every tensor in ``values``."""
    found: dict[int, Tensor] = {}
    for value in values:
        _tensors(value, found)
    return {key: (tensor, _state(tensor)) for key, tensor in found.items()}


def assert_unchanged(before: dict[int, tuple[Tensor, tuple[Any, ...]]]) -> None:
    """Every tensor of the snapshot is as it was, NaNs included."""
    fields = ("value", "grad", "requires_grad", "version", "shape", "dtype")
    for tensor, old in before.values():
        new = _state(tensor)
        for field, a, b in zip(fields, old, new, strict=True):
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                same = (
                    isinstance(a, np.ndarray)
                    and isinstance(b, np.ndarray)
                    and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
                )
            else:
                same = a == b
            assert same, f"the tensor's {field} changed: {a!r} -> {b!r}"


# --- the catalogue ----------------------------------------------------------------------------
@pytest.mark.parametrize("misuse", CATALOGUE, ids=lambda misuse: misuse.id)
def test_misuse_raises_a_clear_error_and_changes_nothing(misuse: Misuse) -> None:
    namespace: dict[str, Any] = {"dualgrad": dualgrad}
    *prepare, mistake = misuse.code.splitlines()
    with dualgrad.use_backend("numpy"), dualgrad.use_mode("reverse"):
        exec(misuse.setup + "\n".join(prepare), namespace)
        before = snapshot(list(namespace.values()))
        settings = (dualgrad.get_backend(), dualgrad.get_mode(), dualgrad.get_default_dtype())
        with pytest.raises(misuse.error) as info:
            exec(mistake, namespace)
        assert (dualgrad.get_backend(), dualgrad.get_mode(), dualgrad.get_default_dtype()) == (
            settings
        )
    message = str(info.value)
    assert type(info.value) is misuse.error or misuse.error is ValueError, (
        f"raised {type(info.value).__name__}, a subclass of {misuse.error.__name__}"
    )
    assert re.search(misuse.says, message, re.DOTALL), f"message: {message!r}"
    assert_unchanged(before)


def test_every_misuse_has_its_own_name() -> None:
    ids = [misuse.id for misuse in CATALOGUE]
    assert len(ids) == len(set(ids))


def test_error_page_is_generated_from_the_catalogue() -> None:
    from render_errors import PAGE, render

    assert PAGE.read_text() == render(), "docs/errors.md is stale: python tests/render_errors.py"


# --- nothing lost when backward fails part way ------------------------------------------------
def _two_leaves_with_grads() -> tuple[Tensor, Tensor]:
    """Two leaves whose .grad already holds something, which a failing backward must keep."""
    a = leaf([1.0, 2.0], requires_grad=True)
    b = leaf([3.0, 4.0], requires_grad=True)
    (a * b).sum().backward()
    return a, b


def test_backward_with_a_raising_hook_keeps_every_grad(backend: Any, mode: str) -> None:
    a, b = _two_leaves_with_grads()

    def broken(g: Tensor) -> Tensor:
        raise ArithmeticError("hook failed")

    b.register_hook(broken)  # a's gradient is computed, b's hook raises: neither may land
    y = (a * a + b * a).sum()
    before = snapshot(a, b)
    with pytest.raises(ArithmeticError, match="hook failed"):
        y.backward()
    assert_unchanged(before)


def test_backward_with_a_hook_of_the_wrong_shape_keeps_every_grad(backend: Any, mode: str) -> None:
    a, b = _two_leaves_with_grads()
    b.register_hook(lambda g: dualgrad.ones(3, dtype=g.dtype))
    y = (a * b).sum()
    before = snapshot(a, b)
    with pytest.raises(ValueError, match=r"expected None or a Tensor of shape \(2,\)"):
        y.backward()
    assert_unchanged(before)


def test_backward_failing_at_a_modified_saved_tensor_keeps_every_grad(backend: Any) -> None:
    a, b = _two_leaves_with_grads()
    h = a * 2.0
    y = (h * h).sum() + (a * b).sum()  # the walk reaches a's and b's product first
    with dualgrad.no_grad():
        h.mul_(3.0)
    before = snapshot(a, b)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    assert_unchanged(before)


def test_backward_of_several_outputs_failing_on_the_last_keeps_every_grad(
    backend: Any, mode: str
) -> None:
    a, b = _two_leaves_with_grads()
    outputs = [(a * b).sum(), a * 3.0]
    before = snapshot(a, b)
    with pytest.raises(ValueError, match="gradient has shape"):
        dualgrad.autograd.backward(outputs, [dualgrad.ones(()), dualgrad.ones(3)])
    assert_unchanged(before)


def test_failed_operation_changes_no_input(backend: Any, mode: str) -> None:
    a, b = _two_leaves_with_grads()
    c = leaf([1.0, 2.0, 3.0], requires_grad=True)
    before = snapshot(a, b, c)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        a * c
    with pytest.raises(RuntimeError, match="in-place operation"):
        a.mul_(c)
    assert_unchanged(before)


def test_failed_optimizer_step_changes_no_parameter(backend: Any) -> None:
    a, b = _two_leaves_with_grads()
    optimizer = dualgrad.optim.SGD([a, b], lr=0.1, momentum=0.9)
    optimizer.step()  # fills the momentum buffers
    (a * b).sum().backward()
    b._grad = dualgrad.ones(3, dtype=b.dtype)  # planted: the .grad setter would refuse it
    before = snapshot(optimizer)
    with pytest.raises(ValueError):
        optimizer.step()
    assert_unchanged(before)
