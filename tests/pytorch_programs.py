"""Run PyTorch programs under PyTorch and under dualgrad, and compare what they print.

A program is written once. The examples in examples/ are dualgrad programs (``import dualgrad as
torch``) that are also run under PyTorch; the programs in tests/programs/ are PyTorch programs
(``import torch``) that are also run under dualgrad. Either way the one line that imports the
library is the only change between the two runs.

Run as a script, this module is the runner the tests start in a fresh interpreter:

    python tests/pytorch_programs.py run {torch,dualgrad} PROGRAM.py [PROGRAM.py ...]

runs each program in turn (a fresh namespace and an empty working directory each, the library's
defaults restored after each) and prints one JSON object: for each program, what it printed and
the traceback it ended with, if any. ``DUALGRAD_BACKEND`` and ``DUALGRAD_MODE`` choose dualgrad's
backend and mode, as for any user's script. One interpreter per library, backend and mode runs
all the programs, which spares every program the seconds it takes to import a library.

    python tests/pytorch_programs.py record

writes what each program in tests/programs/ prints under PyTorch to tests/programs/expected/,
the outputs the tests compare dualgrad's with (they also check the record against a live
PyTorch wherever torch is installed).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROGRAMS_DIR = REPO_ROOT / "tests" / "programs"
EXPECTED_DIR = PROGRAMS_DIR / "expected"
PROGRAMS = sorted(PROGRAMS_DIR.glob("*.py"))
DUALGRAD_IMPORT = "import dualgrad as torch\n"
TORCH_IMPORT = "import torch\n"
IMPORTS = {"torch": TORCH_IMPORT, "dualgrad": DUALGRAD_IMPORT}
TORCH_MISSING = "torch not installed; pip install torch==2.13.0"

# A number as Python, NumPy and PyTorch print one: 3, -0.25, 1e-05, 7., nan, inf.
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")


def run_python(*args: str | Path, **env_overrides: str) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` from the repo root, with the repo importable; capture its output."""
    env = {**os.environ, **env_overrides}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def with_import(source: str, library: str) -> str:
    """The program's source importing ``library`` ("torch" or "dualgrad") as ``torch``."""
    current = [line for line in IMPORTS.values() if source.count(line) == 1]
    if len(current) != 1 or any(source.count(line) > 1 for line in IMPORTS.values()):
        msg = f"a program imports its library once, as {TORCH_IMPORT!r} or {DUALGRAD_IMPORT!r}"
        raise ValueError(msg)
    return source.replace(current[0], IMPORTS[library])


def run_programs(
    library: str, programs: list[Path], **env_overrides: str
) -> dict[str, dict[str, str | None]]:
    """Run the programs under ``library`` in one fresh interpreter: {stem: stdout, error}."""
    result = run_python(__file__, "run", library, *programs, **env_overrides)
    if result.returncode != 0:
        msg = f"the runner failed under {library} {env_overrides}:\n{result.stderr}"
        raise RuntimeError(msg)
    return json.loads(result.stdout)


# --- comparing outputs ------------------------------------------------------------------------
def _tokens(line: str) -> list[str | float | int]:
    """A printed line as its text (whitespace dropped: padding follows the values) and numbers."""
    tokens: list[str | float | int] = []
    position = 0
    for match in NUMBER.finditer(line):
        tokens.append("".join(line[position : match.start()].split()))
        text = match.group()
        is_int = text.lstrip("+-").isdigit()
        tokens.append(int(text) if is_int else float(text))
        position = match.end()
    tokens.append("".join(line[position:].split()))
    return tokens


def _close(actual: float, expected: float, rtol: float, atol: float) -> bool:
    if math.isnan(expected) or math.isinf(expected):
        return actual == expected or (math.isnan(actual) and math.isnan(expected))
    return abs(actual - expected) <= atol + rtol * abs(expected)


def output_difference(actual: str, expected: str, rtol: float, atol: float) -> str | None:
    """Where ``actual`` stops printing what ``expected`` prints, or None if nowhere.

    Lines are compared in order: their text must be the same up to whitespace, their integers
    equal, and their other numbers close (``|a - e| <= atol + rtol * |e|``).
    """
    actual_lines, expected_lines = actual.splitlines(), expected.splitlines()
    for number, (got, want) in enumerate(zip(actual_lines, expected_lines, strict=False), 1):
        got_tokens, want_tokens = _tokens(got), _tokens(want)
        same = len(got_tokens) == len(want_tokens) and all(
            _close(g, w, rtol, atol)
            if isinstance(w, float) and isinstance(g, (int, float))
            else g == w and type(g) is type(w)
            for g, w in zip(got_tokens, want_tokens, strict=True)
        )
        if not same:
            return f"line {number} differs:\n  got:      {got}\n  expected: {want}"
    if len(actual_lines) != len(expected_lines):
        longer = max(actual_lines, expected_lines, key=len)
        first = longer[min(len(actual_lines), len(expected_lines))]
        return (
            f"printed {len(actual_lines)} lines, PyTorch printed {len(expected_lines)}; the "
            f"first missing or extra line: {first!r}"
        )
    return None


def restore_defaults(library: object) -> None:
    """Undo what a program may have set globally (default dtype and device, grad mode, print
    options)."""
    library.set_default_dtype(library.float32)
    library.set_grad_enabled(True)
    library.set_printoptions(profile="default")
    if hasattr(library, "set_default_device"):
        library.set_default_device(None)


# --- the runner (in the child interpreter) ----------------------------------------------------
def _run_one(path: Path, library_name: str) -> dict[str, str | None]:
    source = with_import(path.read_text(), library_name)
    stdout = io.StringIO()
    error = None
    start = Path.cwd()
    with tempfile.TemporaryDirectory() as workdir:
        os.chdir(workdir)  # files a program writes (checkpoints) land in a directory of its own
        try:
            with contextlib.redirect_stdout(stdout):
                exec(compile(source, str(path), "exec"), {"__name__": "__main__"})
        except Exception as err:
            # The traceback from the program's own frame down: the runner's frame is noise.
            error = "".join(
                traceback.format_exception(err.with_traceback(err.__traceback__.tb_next))
            )
        finally:
            os.chdir(start)
            restore_defaults(importlib.import_module(library_name))
    return {"stdout": stdout.getvalue(), "error": error}


def _main(argv: list[str]) -> None:
    if argv[:1] == ["run"] and len(argv) >= 3 and argv[1] in IMPORTS:
        results = {Path(path).stem: _run_one(Path(path), argv[1]) for path in argv[2:]}
        print(json.dumps(results))
    elif argv == ["record"]:
        EXPECTED_DIR.mkdir(exist_ok=True)
        for stem, result in run_programs("torch", PROGRAMS).items():
            if result["error"]:
                msg = f"{stem} fails under PyTorch:\n{result['error']}"
                raise SystemExit(msg)
            (EXPECTED_DIR / f"{stem}.txt").write_text(result["stdout"])
            print(f"wrote {EXPECTED_DIR / stem}.txt")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    _main(sys.argv[1:])
