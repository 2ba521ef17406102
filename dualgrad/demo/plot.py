"""The picture of a training run: the loss curve and the learned decision boundary."""

from __future__ import annotations

__all__ = ["draw_figure", "save_figure"]

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

GRID_SIZE = 200  # decision-boundary grid points per axis


def save_figure(
    path: Path,
    losses: Sequence[float],
    classify: Callable[[np.ndarray], np.ndarray],
    points: np.ndarray,
    labels: np.ndarray,
    *,
    title: str = "",
    accuracy: tuple[float, float] | None = None,
) -> Path:
    """Draw the figure of ``draw_figure`` and write it as a PNG to ``path``.

    Returns:
        ``path``.

    Raises:
        ImportError: matplotlib is not installed (the message says how to install it).
    """
    figure = draw_figure(losses, classify, points, labels, title=title, accuracy=accuracy)
    figure.savefig(path, dpi=100)
    return path


def draw_figure(
    losses: Sequence[float],
    classify: Callable[[np.ndarray], np.ndarray],
    points: np.ndarray,
    labels: np.ndarray,
    *,
    title: str = "",
    accuracy: tuple[float, float] | None = None,
) -> Any:
    """The loss per epoch beside the plane coloured by ``classify``, as a matplotlib Figure.

    Args:
        losses: the training loss of each epoch.
        classify: maps ``(n, 2)`` points to their predicted classes ``(n,)``.
        points: the data points ``(n, 2)``, drawn over the coloured plane.
        labels: their true classes ``(n,)``.
        title: the figure's title.
        accuracy: the fractions of training and held-out points classified right, written
            on the plane.

    Raises:
        ImportError: matplotlib is not installed (the message says how to install it).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        msg = "the demo's figure needs matplotlib: pip install 'dualgrad[demo]'"
        raise ImportError(msg) from err

    # A Figure on the Agg canvas, without pyplot: no display needed, and the caller's own
    # matplotlib backend (a notebook's, say) is left alone.
    figure = Figure(figsize=(11, 4.8))
    FigureCanvasAgg(figure)
    loss_axes, plane_axes = figure.subplots(1, 2)
    loss_axes.plot(np.arange(1, len(losses) + 1), losses, color="tab:blue")
    loss_axes.set_yscale("log")
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("cross-entropy loss")
    loss_axes.set_title("training loss")
    loss_axes.grid(True, which="both", alpha=0.3)

    xs, ys = _grid(points)
    predicted = classify(np.stack([xs.ravel(), ys.ravel()], axis=1)).reshape(xs.shape)
    plane_axes.contourf(xs, ys, predicted, levels=[-0.5, 0.5, 1.5], colors=["#c6dbef", "#fdd0a2"])
    plane_axes.contour(xs, ys, predicted, levels=[0.5], colors="black", linewidths=1)
    for label, color in ((0, "tab:blue"), (1, "tab:orange")):
        chosen = labels == label
        plane_axes.scatter(*points[chosen].T, s=4, color=color, label=f"spiral {label}")
    plane_axes.set_aspect("equal")
    plane_axes.set_xlabel("first coordinate, $x_1$")
    plane_axes.set_ylabel("second coordinate, $x_2$")
    plane_axes.set_title("decision boundary")
    plane_axes.legend(loc="upper right", markerscale=3)
    if accuracy is not None:
        training, held_out = accuracy
        plane_axes.text(
            0.02,
            0.02,
            f"accuracy: {100 * training:.1f}% training, {100 * held_out:.1f}% held out",
            transform=plane_axes.transAxes,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
        )

    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def _grid(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A square grid covering the points with a margin."""
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.1 * (high - low)
    low, high = low - margin, high + margin
    xs = np.linspace(low[0], high[0], GRID_SIZE)
    ys = np.linspace(low[1], high[1], GRID_SIZE)
    return np.meshgrid(xs, ys)
