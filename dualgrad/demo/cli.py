"""The spirals demo of ``python -m dualgrad``: its command-line options and the run itself."""

from __future__ import annotations

__all__ = ["DEFAULT_OUT", "add_arguments", "check_arguments", "run"]

import argparse
from collections.abc import Callable
from pathlib import Path

from .. import config
from ..backends import available_backends
from ..functions.random import manual_seed
from ..nn import CrossEntropyLoss
from .data import two_spirals
from .model import spiral_classifier
from .plot import save_figure
from .progress import Progress
from .train import accuracy, as_tensor, mode_gradient_difference, predict, train

DEFAULT_OUT = Path("dualgrad-spirals.png")  # in the working directory, where a user looks
TRAINING_POINTS = 2000
HELD_OUT_POINTS = 500
HIDDEN_UNITS = 16
LEARNING_RATE = 0.02
CHECK_BATCH = 32  # points in the batch that both engines differentiate


def _at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number no smaller than ``minimum``."""

    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            msg = f"expected a whole number, got {text!r}"
            raise argparse.ArgumentTypeError(msg) from None
        if value < minimum:
            msg = f"must be at least {minimum}, got {value}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return whole_number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options: backend, mode, epochs, seed, output path, jit, quiet."""
    parser.add_argument(
        "--backend",
        choices=available_backends(),
        help="array library to compute with (default: DUALGRAD_BACKEND, else numpy)",
    )
    parser.add_argument(
        "--mode",
        choices=config.MODES,
        help="engine behind backward() (default: DUALGRAD_MODE, else reverse); forward mode "
        "carries a tangent per parameter and trains several times slower",
    )
    parser.add_argument(
        "--epochs",
        type=_at_least(1),
        default=500,
        help="full-batch training steps (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=_at_least(0),
        default=0,
        help="seed of the data and of the initial weights (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="where to write the PNG of the loss curve and decision boundary "
        "(default: %(default)s in the working directory)",
    )
    parser.add_argument(
        "--jit",
        action="store_true",
        help="compile the training step with dualgrad.jit (on the jax backend; elsewhere the "
        "step runs as it is)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Select the backend and mode, and check the output folder, before anything runs.

    Problems end the program through ``parser.error``, with the usage line.
    """
    if not args.out.parent.is_dir():
        parser.error(f"--out {args.out}: the folder {args.out.parent} does not exist")
    if args.backend is not None:
        try:
            config.set_backend(args.backend)
        except ImportError as err:
            parser.error(f"--backend {args.backend}: {err}")
    if args.mode is not None:
        config.set_mode(args.mode)


def _jit_note(jit: bool, backend: str) -> str:
    """How the training step ran, for the summary: compiled, or ``--jit`` without effect."""
    if not jit:
        return ""
    return ", step compiled with dualgrad.jit" if backend == "jax" else ", --jit (no effect)"


def run(args: argparse.Namespace) -> None:
    """Train the classifier on two spirals and report accuracy, engine agreement, figure."""
    backend, mode, dtype = config.get_backend().name, config.get_mode(), config.get_default_dtype()
    print("\n== Training a classifier on two spirals ==")
    points, labels = two_spirals(TRAINING_POINTS + HELD_OUT_POINTS, seed=args.seed)
    points, held_out_points = points[:TRAINING_POINTS], points[TRAINING_POINTS:]
    labels, held_out_labels = labels[:TRAINING_POINTS], labels[TRAINING_POINTS:]
    inputs, targets = as_tensor(points, dtype), as_tensor(labels)
    held_out = as_tensor(held_out_points, dtype), as_tensor(held_out_labels)
    manual_seed(args.seed)
    model = spiral_classifier(HIDDEN_UNITS)
    parameters = sum(p.numel() for p in model.parameters())
    setting = f"{backend} backend, {mode} mode{_jit_note(args.jit, backend)}"
    print(
        f"{TRAINING_POINTS} training points, {HELD_OUT_POINTS} held out; a 2-{HIDDEN_UNITS}-"
        f"{HIDDEN_UNITS}-2 tanh network ({parameters} parameters, {dtype}); Adam, lr "
        f"{LEARNING_RATE}, {args.epochs} full-batch epochs; {setting}"
    )
    if args.jit and backend != "jax":
        print(f"(--jit compiles on the jax backend only; on {backend} the step runs as it is)")

    with Progress(args.epochs, enabled=not args.quiet) as progress:
        losses = train(
            model,
            inputs,
            targets,
            epochs=args.epochs,
            lr=LEARNING_RATE,
            jit=args.jit,
            on_epoch=progress,
        )
    print(f"final loss: {losses[-1]:.4f}")
    accuracies = accuracy(model, inputs, targets), accuracy(model, *held_out)
    print(
        f"accuracy: {100 * accuracies[0]:.2f}% on the training points, "
        f"{100 * accuracies[1]:.2f}% on the held-out points"
    )
    difference = mode_gradient_difference(
        model, CrossEntropyLoss(), inputs[:CHECK_BATCH], targets[:CHECK_BATCH]
    )
    print(
        f"largest |reverse - forward| over the {parameters} parameter gradients of a "
        f"{CHECK_BATCH}-point batch: {difference:.2e}"
    )
    try:
        path = save_figure(
            args.out,
            losses,
            lambda grid: predict(model, as_tensor(grid, dtype)),
            points,
            labels,
            title=f"dualgrad: two spirals ({setting})",
            accuracy=accuracies,
        )
    except ImportError as err:
        print(f"no figure: {err}")
    else:
        print(f"figure: {path.resolve()}")
