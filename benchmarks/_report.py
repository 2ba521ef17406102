"""The report: a table of medians with ratios to hand-written NumPy and to PyTorch, the
targets' status, the raw figures as JSON and a bar chart as PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._peers import PEERS
from ._timing import median, ratio
from ._workload import Result


def _figure(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value >= 0.01 else f"{value:.2e}"


def _ratio(result: Result, peer: str, reference: str) -> float | None:
    if peer not in result.samples or reference not in result.samples:
        return None
    return ratio(result.samples[peer], result.samples[reference])


def markdown_table(results: list[Result]) -> str:
    """Medians per workload and peer, then dualgrad's ratios to NumPy and to PyTorch."""
    peers = [p for p in PEERS if any(p in r.samples for r in results)]
    header = ["workload", "unit", *peers, "dualgrad / numpy", "dualgrad / torch"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for result in results:
        cells = [result.id, result.unit]
        cells += [
            _figure(median(result.samples[p])) if p in result.samples else "—" for p in peers
        ]
        cells += [
            _figure(_ratio(result, "dualgrad", "numpy")),
            _figure(_ratio(result, "dualgrad", "torch")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets_table(rows: list[dict[str, Any]]) -> str:
    """The targets as a markdown table: measured value and status."""
    lines = ["| target | measured | status |", "|---|---|---|"]
    for row in rows:
        value = "—" if row["value"] is None else f"{_figure(row['value'])}{row['unit']}"
        lines.append(f"| {row['target']} | {value} | {row['status']} |")
    return "\n".join(lines)


def print_details(result: Result) -> None:
    """One workload's block: every peer's median and its ratios, and why peers were skipped."""
    print(f"\n{result.id}: {result.title} ({result.unit}, median)")
    print(f"  {'peer':<18}{'median':>12}{'x numpy':>10}{'x torch':>10}")
    for peer in PEERS:
        if peer in result.samples:
            extra = "".join(
                f"  {name} {_figure(values[peer])}"
                for name, values in result.extra.items()
                if peer in values
            )
            print(
                f"  {peer:<18}{_figure(median(result.samples[peer])):>12}"
                f"{_figure(_ratio(result, peer, 'numpy')):>10}"
                f"{_figure(_ratio(result, peer, 'torch')):>10}{extra}"
            )
    for peer, reason in result.skipped.items():
        print(f"  {peer:<18}skipped: {reason}")


def write_json(path: Path, machine: dict[str, Any], results: list[Result], targets: Any) -> None:
    """Every sample, the machine description and the targets, for later comparison."""
    figures = {
        "machine": machine,
        "results": [
            {
                "id": r.id,
                "title": r.title,
                "unit": r.unit,
                "samples": r.samples,
                "median": {peer: median(values) for peer, values in r.samples.items()},
                "skipped": r.skipped,
                "extra": r.extra,
            }
            for r in results
        ],
        "targets": targets,
    }
    path.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n")


def write_chart(path: Path, results: list[Result]) -> str | None:
    """Bars of each peer's time relative to PyTorch (log scale); None, or why none was drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return 'matplotlib is not installed (pip install -e ".[bench]")'
    rows = [r for r in results if "torch" in r.samples]
    if not rows:
        return "no workload has a PyTorch figure to compare with"
    peers = [p for p in PEERS if p != "torch" and any(p in r.samples for r in rows)]
    figure, axes = plt.subplots(figsize=(9, 3.6), dpi=80)
    width = 0.8 / max(len(peers), 1)
    for k, peer in enumerate(peers):
        ratios = [_ratio(r, peer, "torch") for r in rows]
        positions = [i + (k - (len(peers) - 1) / 2) * width for i in range(len(rows))]
        axes.bar(
            [p for p, v in zip(positions, ratios, strict=True) if v is not None],
            [v for v in ratios if v is not None],
            width,
            label=peer,
        )
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_yscale("log")
    axes.set_ylabel("time / PyTorch eager")
    axes.set_xticks(range(len(rows)), [r.id for r in rows], fontsize=8)
    axes.legend(fontsize=7, ncol=4)
    axes.set_title("lower is faster; 1 = PyTorch eager on the CPU", fontsize=9)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return None
