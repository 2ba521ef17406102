"""``python -m benchmarks [--only W1,W3] [--quick] [--peers dualgrad,torch] [--out DIR]``.

Times the workloads W1-W8 for every installed peer, prints the tables and the targets' status,
and writes ``results.json`` (every sample) and ``results.png`` (a bar chart) into ``--out``.
Thread counts are pinned before any math library loads, the same for every peer.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from pathlib import Path

from . import _threads

WORKLOADS = {
    "W1": "w1_scalar",
    "W2": "w2_chain",
    "W3": "w3_small_mlp",
    "W4": "w4_large_mlp",
    "W5": "w5_jacobian",
    "W6": "w6_hvp",
    "W7": "w7_long_chain",
    "W8": "w8_linear_regression",
}


def _options(argv: list[str] | None) -> argparse.Namespace:
    from ._peers import PEERS

    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", default=",".join(WORKLOADS), help="e.g. W1,W3 (default: all)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"from {', '.join(PEERS)}")
    parser.add_argument("--out", default="benchmarks/results", help="where the files go")
    parser.add_argument("--threads", type=int, default=1, help="threads for every peer")
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="process CPU time (default; steadier on a shared machine) or elapsed time",
    )
    options = parser.parse_args(argv)
    for flag, chosen, known in (
        ("--only", options.only, WORKLOADS),
        ("--peers", options.peers, PEERS),
    ):
        unknown = sorted(set(chosen.split(",")) - set(known))
        if unknown:
            parser.error(f"{flag}: unknown {', '.join(unknown)}; choose from {', '.join(known)}")
    return options


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads and write the report."""
    options = _options(argv)
    pinned = _threads.pin(options.threads)  # before NumPy, torch or JAX is imported

    from . import _report, _targets
    from ._peers import PEERS, missing, module
    from ._workload import Settings

    if missing("torch") is None:
        _threads.pin_torch(module("torch"), options.threads)
    chosen = options.peers.split(",")
    peers = tuple(p for p in PEERS if p in chosen)
    settings = Settings(options.quick, peers, options.threads, options.clock)
    print(f"threads: {pinned}, torch.set_num_threads({options.threads}), XLA likewise")
    print(f"clock: {options.clock} time; medians of interleaved samples")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    for peer in settings.peers:
        reason = missing(peer)
        if reason:
            print(f"peer {peer} skipped: {reason}")

    start = time.perf_counter()
    results = []
    for id in options.only.split(","):
        workload = importlib.import_module(f"benchmarks.{WORKLOADS[id]}")
        for result in workload.run(settings):
            _report.print_details(result)
            results.append(result)
    elapsed = time.perf_counter() - start

    status = _targets.check({r.id: r for r in results})
    print("\n" + _report.markdown_table(results))
    print("\n" + _report.targets_table(status))
    print(f"\n{elapsed:.0f} s; ratios compare peers measured in this run only")

    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    machine = {
        "threads": options.threads,
        "clock": options.clock,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "quick": options.quick,
        "command": " ".join(["python -m benchmarks", *(argv or sys.argv[1:])]),
    }
    _report.write_json(out / "results.json", machine, results, status)
    why_not = _report.write_chart(out / "results.png", results)
    print(f"wrote {out / 'results.json'}" + (f"; no chart: {why_not}" if why_not else ""))
    if not why_not:
        print(f"wrote {out / 'results.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
