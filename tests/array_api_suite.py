"""The official Array API conformance suite's expected failures on dualgrad, read from
``tests/array_api_expected_failures.txt``.

That file is the suite's ``--xfails-file`` (``.ci/array-api-suite`` passes it). Its test ids
come in groups, each under a header line ``## <kind>: <reason>``: kind ``suite`` for what
array_api_strict fails on NumPy too (the suite's own expectations, not dualgrad's). The
deviations table of ``docs/array-api.md`` shows one row per group (``rows()``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_FAILURES = ROOT / "tests" / "array_api_expected_failures.txt"
SUITE = ROOT / "third_party" / "array-api-tests"
KINDS = {
    "suite": "the suite's own: array_api_strict fails it on NumPy too",
}


@dataclass(frozen=True)
class Group:
    """Test ids the suite is expected to fail, for one reason."""

    kind: str
    reason: str
    test_ids: tuple[str, ...]


def groups(path: Path = EXPECTED_FAILURES) -> list[Group]:
    """The file's groups, in order.

    Raises:
        ValueError: a test id before any header, a header of an unknown kind or without a
            reason, or a group without test ids.
    """
    found: list[Group] = []
    header: tuple[str, str] | None = None
    ids: list[str] = []

    def close() -> None:
        if header is not None:
            if not ids:
                msg = f"{path.name}: the group '{header[0]}: {header[1]}' lists no test"
                raise ValueError(msg)
            found.append(Group(header[0], header[1], tuple(ids)))

    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("## "):
            close()
            kind, _, reason = line[3:].partition(":")
            if kind not in KINDS or not reason.strip():
                msg = f"{path.name}:{number}: expected '## <{'|'.join(KINDS)}>: <reason>'"
                raise ValueError(msg)
            header, ids = (kind, reason.strip()), []
        elif line.strip() and not line.startswith("#"):
            if header is None:
                msg = f"{path.name}:{number}: a test id before any '## kind: reason' header"
                raise ValueError(msg)
            ids.append(line.strip())
    close()
    return found


def _functions(test_ids: tuple[str, ...]) -> str:
    """``test_x.py::test_f`` (with the number of its cases when several), comma separated."""
    counts = Counter(test_id.split("[", 1)[0].split("/", 1)[-1] for test_id in test_ids)
    return ", ".join(
        f"`{name}`" + (f" ({count} cases)" if count > 1 else "") for name, count in counts.items()
    )


def rows() -> list[str]:
    """The deviations table's rows for the suite's expected failures, one per group."""
    return [
        f"| conformance suite: {_functions(group.test_ids)} | all | {KINDS[group.kind]}: "
        f"{group.reason} |"
        for group in groups()
    ]
