"""Two interleaved spirals: a small classification problem that no straight line solves."""

from __future__ import annotations

__all__ = ["two_spirals"]

import math

import numpy as np


def two_spirals(
    n_points: int = 2000, *, turns: float = 1.5, noise: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points on two spirals that wind around each other, labelled by spiral.

    Point ``i`` belongs to spiral ``i % 2``; the second spiral is the first turned by half a
    circle. Along each spiral the radius grows from 0 to 1 with the angle, and positions are
    drawn so that the points are spread evenly along its length, then jittered by Gaussian
    noise. The same seed gives the same points on every machine.

    Args:
        n_points: how many points, both spirals together.
        turns: how many times each spiral winds around the centre.
        noise: standard deviation of the jitter (the spirals' arms are ``1 / (2 * turns)``
            apart).
        seed: seed of the NumPy generator that draws the points.

    Returns:
        ``(points, labels)``: float64 points of shape ``(n_points, 2)`` and int64 labels of
        shape ``(n_points,)``, 0 or 1.

    Raises:
        ValueError: ``n_points`` below 2, ``turns`` not positive or ``noise`` negative.

    Example:
        >>> points, labels = two_spirals(6, seed=0)
        >>> points.shape, labels.tolist()
        ((6, 2), [0, 1, 0, 1, 0, 1])
    """
    if n_points < 2 or turns <= 0 or noise < 0:
        msg = (
            f"two_spirals: need n_points >= 2, turns > 0 and noise >= 0, got n_points={n_points}"
            f", turns={turns}, noise={noise}"
        )
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    labels = np.arange(n_points, dtype=np.int64) % 2
    # The arc length of r = angle / max_angle grows like angle**2, so taking the angle as
    # max_angle * sqrt(u) for uniform u spreads the points evenly along the curve.
    max_angle = 2 * math.pi * turns
    angle = max_angle * np.sqrt(rng.uniform(size=n_points))
    radius = angle / max_angle
    rotated = angle + math.pi * labels
    points = np.stack([radius * np.cos(rotated), radius * np.sin(rotated)], axis=1)
    return points + noise * rng.standard_normal((n_points, 2)), labels
