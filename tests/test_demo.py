"""The demo's parts: the spirals, and one training curve whichever engine or backend runs it."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping

import numpy as np
import pytest

import dualgrad
from dualgrad import nn
from dualgrad.demo import (
    accuracy,
    as_tensor,
    draw_figure,
    mode_gradient_difference,
    spiral_classifier,
    train,
    two_spirals,
)

JAX_MISSING = "jax not installed: pip install 'dualgrad[jax]'"
needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason=JAX_MISSING)
needs_array_api_strict = pytest.mark.skipif(
    importlib.util.find_spec("array_api_strict") is None,
    reason="array-api-strict not installed: pip install 'dualgrad[dev]'",
)

STEPS = 20
POINTS = 200  # few, so that forward mode (a tangent per parameter per point) stays quick


def test_two_spirals_repeat_with_the_seed_and_alternate_labels() -> None:
    points, labels = two_spirals(1000, seed=3)
    again, _ = two_spirals(1000, seed=3)
    other, _ = two_spirals(1000, seed=4)
    assert points.shape == (1000, 2)
    assert points.dtype == np.float64
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, np.arange(1000) % 2)
    np.testing.assert_array_equal(points, again)
    assert not np.array_equal(points, other)


def test_two_spirals_are_point_reflections_of_each_other_without_noise() -> None:
    points, labels = two_spirals(4, noise=0.0, seed=0)
    radius = np.hypot(points[:, 0], points[:, 1])
    assert np.all(radius <= 1.0)
    # the same draw turned by half a circle would land on the other spiral
    angle = np.arctan2(points[:, 1], points[:, 0]) - np.pi * labels
    np.testing.assert_allclose(np.cos(angle - 2 * np.pi * 1.5 * radius), 1.0, atol=1e-12)


@pytest.mark.parametrize(
    "arguments", [{"n_points": 1}, {"turns": 0.0}, {"noise": -0.1}], ids=lambda a: str(a)
)
def test_two_spirals_rejects_impossible_arguments(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="two_spirals: need n_points >= 2"):
        two_spirals(**{"n_points": 10, **arguments})


def initial_state() -> Mapping[str, dualgrad.Tensor]:
    """The classifier's starting weights, drawn once on NumPy, for every run to start from."""
    with dualgrad.use_backend("numpy"):
        dualgrad.manual_seed(0)
        return spiral_classifier().state_dict()


def loss_curve(backend: str, mode: str = "reverse", *, jit: bool = False) -> np.ndarray:
    """The demo's training losses over the first steps, from the same data and weights."""
    points, labels = two_spirals(POINTS, seed=0)
    with dualgrad.use_backend(backend), dualgrad.use_mode(mode):
        model = spiral_classifier()
        model.load_state_dict(initial_state())
        inputs, targets = as_tensor(points, dualgrad.float64), as_tensor(labels)
        return np.array(train(model, inputs, targets, epochs=STEPS, lr=0.02, jit=jit))


def test_curve_is_the_same_in_forward_and_reverse_mode(float64: None) -> None:
    reverse, forward = loss_curve("numpy", "reverse"), loss_curve("numpy", "forward")
    assert reverse[-1] < reverse[0]
    np.testing.assert_allclose(forward, reverse, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("jax", marks=needs_jax),
        pytest.param("array_api_strict", marks=needs_array_api_strict),
    ],
)
def test_curve_is_the_same_as_on_numpy(backend: str, float64: None) -> None:
    np.testing.assert_allclose(loss_curve(backend), loss_curve("numpy"), rtol=0, atol=1e-6)


@needs_jax
def test_jitted_step_gives_the_eager_curve_on_jax(float64: None) -> None:
    np.testing.assert_allclose(loss_curve("jax", jit=True), loss_curve("jax"), rtol=0, atol=1e-6)


def test_engines_differ_only_by_rounding_on_a_batch(float64: None) -> None:
    points, labels = two_spirals(32, seed=1)
    dualgrad.manual_seed(1)
    model = spiral_classifier()
    inputs, targets = as_tensor(points, dualgrad.float64), as_tensor(labels)
    difference = mode_gradient_difference(model, nn.CrossEntropyLoss(), inputs, targets)
    assert difference < 1e-12
    assert all(p.grad is None for p in model.parameters())


def test_accuracy_is_the_fraction_of_points_whose_largest_logit_is_the_label() -> None:
    model = nn.Linear(2, 2, bias=False)
    with dualgrad.no_grad():
        model.weight.copy_(dualgrad.eye(2))  # logits = the coordinates themselves
    inputs = dualgrad.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [-1.0, 3.0]])
    assert accuracy(model, inputs, dualgrad.tensor([0, 1, 1, 1])) == 0.75


def test_figure_labels_both_panels_axes_and_shows_the_accuracy() -> None:
    pytest.importorskip("matplotlib", reason="the figure needs matplotlib: pip install '.[demo]'")
    points, labels = two_spirals(50, seed=0)
    figure = draw_figure(
        [1.0, 0.5, 0.25],
        lambda grid: (grid[:, 0] > 0).astype(np.int64),
        points,
        labels,
        title="two spirals",
        accuracy=(0.984, 0.9),
    )
    loss_axes, plane_axes = figure.axes
    assert (loss_axes.get_xlabel(), loss_axes.get_ylabel()) == ("epoch", "cross-entropy loss")
    assert plane_axes.get_xlabel().startswith("first coordinate")
    assert plane_axes.get_ylabel().startswith("second coordinate")
    texts = [text.get_text() for text in plane_axes.texts]
    assert texts == ["accuracy: 98.4% training, 90.0% held out"]
