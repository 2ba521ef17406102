"""What a workload module gives the runner: results, made from timed cases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import _timing
from ._peers import missing


@dataclass
class Settings:
    """The run's options, as every workload sees them."""

    quick: bool
    peers: tuple[str, ...]
    threads: int
    clock: str  # "cpu" or "wall" (see _timing)

    def repeats(self, full: int) -> int:
        """Samples per case: ``full`` normally, 3 in quick mode."""
        return 3 if self.quick else full

    @property
    def budget(self) -> float:
        """The most seconds one sample of one case may take (see ``_timing.measure``)."""
        return 0.02 if self.quick else 0.1


@dataclass
class Result:
    """One measured quantity (a row of the table): a sample list per peer, in ``unit``."""

    id: str
    title: str
    unit: str
    samples: dict[str, list[float]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # peer -> why it did not run
    extra: dict[str, dict[str, float]] = field(default_factory=dict)  # e.g. bytes per op


def timed(
    id: str,
    title: str,
    unit: str,
    builders: dict[str, Callable[[], Callable[[], Any] | str]],
    settings: Settings,
    *,
    scale: float,
    number: int,
    repeats: int,
    warmup: int = 2,
) -> Result:
    """Time each selected peer's case; ``scale`` turns seconds per call into ``unit``.

    ``builders`` maps a peer to a function that sets its case up and returns it: a callable
    doing one call's work (blocking until its result is ready), or a string saying why this
    peer does not apply to the workload.
    """
    result = Result(id, title, unit)
    cases = {}
    for peer in settings.peers:
        if peer not in builders:
            continue
        reason = missing(peer)
        case = builders[peer]() if reason is None else reason
        if isinstance(case, str):
            result.skipped[peer] = case
        else:
            cases[peer] = case
    samples = _timing.measure(
        cases,
        number=number,
        repeats=settings.repeats(repeats),
        warmup=warmup,
        budget=settings.budget,
        clock=settings.clock,
    )
    result.samples = {peer: [s * scale for s in values] for peer, values in samples.items()}
    return result
