"""A progress bar for training: tqdm's when it is installed, a few printed lines otherwise."""

from __future__ import annotations

__all__ = ["INSTALL_HINT", "Progress"]

import sys
from types import TracebackType
from typing import Any

INSTALL_HINT = "pip install 'dualgrad[demo]'"


class Progress:
    """Shows the epoch and the latest loss; use as a context manager, call it once per epoch.

    Without tqdm it says how to get the bar, then prints the loss ten times over the run.

    Args:
        total: the number of epochs.
        enabled: False shows nothing at all.
    """

    def __init__(self, total: int, *, enabled: bool = True) -> None:
        self.total = total
        self.enabled = enabled
        self.epoch = 0
        self._bar: Any = None

    def __enter__(self) -> Progress:
        if not self.enabled:
            return self
        try:
            from tqdm import tqdm
        except ImportError:
            print(f"(no progress bar: tqdm is not installed; {INSTALL_HINT})")
        else:
            self._bar = tqdm(total=self.total, desc="training", unit="epoch", file=sys.stderr)
        return self

    def __call__(self, loss: float) -> None:
        self.epoch += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            self._bar.update()
        elif self.epoch % max(1, self.total // 10) == 0 or self.epoch == self.total:
            print(f"epoch {self.epoch}/{self.total}: loss {loss:.4f}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.close()
