"""Anomaly detection: a NaN derivative raises at the op that made it, showing where it was made."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from tensors import leaf

import dualgrad
from dualgrad.autograd import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning"),
]


def _sqrt_of_negative(x: Any) -> Any:
    doubled = x * 2.0
    return dualgrad.sqrt(doubled).sum()  # the forward line the traceback must show


def test_nan_in_backward_names_the_op_and_its_forward_line(backend: Any) -> None:
    x = leaf([1.0, -1.0], requires_grad=True)
    with detect_anomaly():
        y = _sqrt_of_negative(x)
        with pytest.raises(RuntimeError) as info:
            y.backward()
    message = str(info.value)
    assert "Function 'SqrtBackward0' returned nan values in its 0th output." in message
    assert "Traceback of forward call that caused the error" in message
    assert "return dualgrad.sqrt(doubled).sum()" in message
    assert x.grad is None  # nothing was committed


def test_nan_in_forward_mode_tangent_raises_when_the_op_runs(backend: Any) -> None:
    x = leaf([1.0, -1.0], requires_grad=True)
    nan = r"Function 'SqrtBackward0' returned nan"
    with (
        dualgrad.use_mode("forward"),
        detect_anomaly(),
        pytest.raises(RuntimeError, match=nan) as info,
    ):
        _sqrt_of_negative(x)
    assert "return dualgrad.sqrt(doubled).sum()" in str(info.value)


def test_nan_in_jvp_tangent_raises(backend: Any) -> None:
    x = leaf([-1.0])
    with detect_anomaly(), pytest.raises(RuntimeError, match="SqrtBackward0"):
        dualgrad.jvp(dualgrad.sqrt, (x,), (leaf([1.0]),))


def test_the_error_names_the_input_position(backend: Any) -> None:
    x = leaf([0.0], requires_grad=True)
    y = leaf([0.0], requires_grad=True)
    with detect_anomaly():
        out = x / y  # d/dx = 1/y is inf, d/dy = -x/y**2 is 0/0: NaN in the 1th output only
        with pytest.raises(RuntimeError, match="'DivBackward0' returned nan values in its 1th"):
            out.sum().backward()


def test_without_anomaly_mode_nan_flows_into_grad(backend: Any) -> None:
    x = leaf([1.0, -1.0], requires_grad=True)
    _sqrt_of_negative(x).backward()
    assert np.isnan(x.grad.numpy()[1])


def test_check_nan_false_records_but_does_not_raise(backend: Any) -> None:
    x = leaf([1.0, -1.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        assert is_anomaly_enabled() and not is_anomaly_check_nan_enabled()
        _sqrt_of_negative(x).backward()
    assert np.isnan(x.grad.numpy()[1])


def test_node_made_outside_anomaly_mode_says_there_is_no_traceback(backend: Any) -> None:
    x = leaf([-1.0], requires_grad=True)
    y = dualgrad.sqrt(x).sum()
    with detect_anomaly(), pytest.raises(RuntimeError, match="No forward traceback"):
        y.backward()


def test_finite_gradients_pass(backend: Any, mode: str) -> None:
    x = leaf([1.0, 4.0], requires_grad=True)
    with detect_anomaly():
        dualgrad.sqrt(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.25])


def test_set_detect_anomaly_as_call_and_as_context() -> None:
    with set_detect_anomaly(True):
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled()


def test_detect_anomaly_as_decorator() -> None:
    @detect_anomaly()
    def inside() -> bool:
        return is_anomaly_enabled()

    assert inside() and not is_anomaly_enabled()


def test_anomaly_mode_is_per_thread() -> None:
    seen = []
    with detect_anomaly():
        thread = threading.Thread(target=lambda: seen.append(is_anomaly_enabled()))
        thread.start()
        thread.join()
        assert is_anomaly_enabled()
    assert seen == [False]


def test_traces_are_kept_only_while_anomaly_mode_is_on() -> None:
    from dualgrad.autograd import anomaly_mode

    x = leaf([1.0], requires_grad=True)
    off = x * 2.0
    with detect_anomaly():
        on = x * 3.0
    assert off.grad_fn not in anomaly_mode._traces
    assert on.grad_fn in anomaly_mode._traces


def test_first_use_in_a_process_takes_effect(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dispatcher reads the ContextVar only once anomaly detection was ever turned on: a
    process that never did must still record the forward traces from the first use."""
    from dualgrad import _settings_used

    monkeypatch.setattr(_settings_used, "anomaly", False)
    x = dualgrad.tensor(-1.0, requires_grad=True)
    with detect_anomaly(), pytest.raises(RuntimeError, match="SqrtBackward0"):
        y = dualgrad.sqrt(x)
        with np.errstate(invalid="ignore"):
            y.backward()
    assert _settings_used.anomaly
