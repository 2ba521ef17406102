"""SciPy's array-API functions differentiated through dualgrad: the cases, and their runner.

SciPy reads ``SCIPY_ARRAY_API`` once, when it is first imported, so the checks run in a fresh
interpreter: ``python tests/scipy_interop.py [BACKEND ...]`` (default: ``BACKENDS``) prints one
JSON object per case, backend and mode. ``tests/test_scipy_interop.py`` starts it (so the
pytest process, with or without xdist, never imports SciPy in this mode) and
``docs/array-api.md`` shows the table ``render_table`` makes from the same lists.

Each case's gradient is compared with JAX's through the same SciPy function (``jax.grad`` of
SciPy on JAX arrays) or, where noted, with central finite differences. The reference does not
depend on the backend, so both backends answer to the same numbers.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# Read by SciPy when it is first imported; this module imports it only in ``run``.
os.environ["SCIPY_ARRAY_API"] = "1"

X0 = [0.5, 1.2, 2.0, 0.8, 1.5, 0.3]  # positive, distinct, inside every case's domain
# SciPy's own array-API test backends among dualgrad's: NumPy, and JAX (eager).
BACKENDS = ("numpy", "jax")


@dataclass(frozen=True)
class Case:
    """One SciPy function, called on a 1-D array ``x`` of ``X0``'s values through ``call``."""

    name: str  # as SciPy spells it, "scipy.stats.gmean"
    call: Callable[[Any, Any], Any]  # (scipy, x) -> array
    reference: str = "jax.grad"  # or "finite differences", where JAX cannot run the function


def _namespace(x: Any) -> Any:
    import array_api_compat

    return array_api_compat.array_namespace(x)


def _matrix(x: Any) -> Any:
    return _namespace(x).reshape(x[:4], (2, 2))


def _modulus(z: Any) -> Any:
    """The magnitudes of a complex result: a real function to differentiate."""
    return _namespace(z).abs(z)


FINITE = "finite differences"
CASES = [
    Case("scipy.optimize.rosen", lambda sp, x: sp.optimize.rosen(x)),
    # JAX cannot run these: SciPy assigns into array elements, which JAX arrays forbid.
    Case("scipy.optimize.rosen_der", lambda sp, x: sp.optimize.rosen_der(x), FINITE),
    Case("scipy.optimize.rosen_hess", lambda sp, x: sp.optimize.rosen_hess(x)),
    Case(
        "scipy.optimize.rosen_hess_prod",
        lambda sp, x: sp.optimize.rosen_hess_prod(x, x),
        FINITE,
    ),
    Case("scipy.special.logsumexp", lambda sp, x: sp.special.logsumexp(x)),
    Case("scipy.special.softmax", lambda sp, x: sp.special.softmax(x) * x),
    Case("scipy.special.log_softmax", lambda sp, x: sp.special.log_softmax(x)),
    Case("scipy.special.erf", lambda sp, x: sp.special.erf(x)),
    Case("scipy.special.erfc", lambda sp, x: sp.special.erfc(x)),
    Case("scipy.special.erfinv", lambda sp, x: sp.special.erfinv(x / 4)),
    Case("scipy.special.expit", lambda sp, x: sp.special.expit(x)),
    Case("scipy.special.logit", lambda sp, x: sp.special.logit(x / 4)),
    Case("scipy.special.xlogy", lambda sp, x: sp.special.xlogy(x, x + 1)),
    Case("scipy.special.xlog1py", lambda sp, x: sp.special.xlog1py(x, x)),
    Case("scipy.special.rel_entr", lambda sp, x: sp.special.rel_entr(x, x + 1)),
    Case("scipy.special.gammaln", lambda sp, x: sp.special.gammaln(x)),
    Case("scipy.special.ndtr", lambda sp, x: sp.special.ndtr(x)),
    Case("scipy.special.log_ndtr", lambda sp, x: sp.special.log_ndtr(x)),
    Case("scipy.special.ndtri", lambda sp, x: sp.special.ndtri(x / 4)),
    Case("scipy.stats.gmean", lambda sp, x: sp.stats.gmean(x)),
    Case("scipy.stats.hmean", lambda sp, x: sp.stats.hmean(x)),
    Case("scipy.stats.pmean", lambda sp, x: sp.stats.pmean(x, 2.5)),
    Case("scipy.stats.moment", lambda sp, x: sp.stats.moment(x, order=3)),
    Case("scipy.stats.skew", lambda sp, x: sp.stats.skew(x)),
    Case("scipy.stats.kurtosis", lambda sp, x: sp.stats.kurtosis(x)),
    Case("scipy.stats.zscore", lambda sp, x: sp.stats.zscore(x) * x),
    Case("scipy.stats.sem", lambda sp, x: sp.stats.sem(x)),
    Case("scipy.stats.trim_mean", lambda sp, x: sp.stats.trim_mean(x, 0.2)),
    Case("scipy.stats.iqr", lambda sp, x: sp.stats.iqr(x)),
    Case("scipy.integrate.trapezoid", lambda sp, x: sp.integrate.trapezoid(x * x)),
    Case(
        "scipy.integrate.cumulative_trapezoid",
        lambda sp, x: sp.integrate.cumulative_trapezoid(x * x),
    ),
    Case(
        "scipy.integrate.cumulative_simpson",
        lambda sp, x: sp.integrate.cumulative_simpson(x * x),
        FINITE,
    ),
    Case("scipy.fft.fft", lambda sp, x: _modulus(sp.fft.fft(x, n=8))),
    Case("scipy.fft.ifft", lambda sp, x: _modulus(sp.fft.ifft(x * x, norm="ortho"))),
    Case("scipy.fft.fftn", lambda sp, x: _modulus(sp.fft.fftn(_matrix(x)))),
    Case("scipy.fft.rfft", lambda sp, x: _modulus(sp.fft.rfft(x))),
    Case("scipy.fft.irfft", lambda sp, x: sp.fft.irfft(sp.fft.rfft(x) ** 2, n=6)),
    Case("scipy.fft.rfftn", lambda sp, x: _modulus(sp.fft.rfftn(_matrix(x), norm="forward"))),
    Case("scipy.fft.hfft", lambda sp, x: sp.fft.hfft(sp.fft.rfft(x))),
    Case("scipy.fft.ihfft", lambda sp, x: _modulus(sp.fft.ihfft(x))),
    Case("scipy.fft.fftshift", lambda sp, x: sp.fft.fftshift(x) * x),
    Case("scipy.linalg.block_diag", lambda sp, x: sp.linalg.block_diag(_matrix(x), x[4:]) ** 2),
    Case("scipy.cluster.vq.whiten", lambda sp, x: sp.cluster.vq.whiten(_matrix(x))),
]

# Functions that convert their input with NumPy internally: with a Tensor that requires grad
# they must raise (as ``np.asarray`` does), never return a silently detached result.
FALLS_BACK_TO_NUMPY = {
    "scipy.special.gamma": lambda sp, x: sp.special.gamma(x),
    "scipy.special.entr": lambda sp, x: sp.special.entr(x),
    "scipy.stats.entropy": lambda sp, x: sp.stats.entropy(x),
    "scipy.integrate.simpson": lambda sp, x: sp.integrate.simpson(x),
    "scipy.signal.convolve": lambda sp, x: sp.signal.convolve(x, x),
    "scipy.ndimage.gaussian_filter": lambda sp, x: sp.ndimage.gaussian_filter(x, 1.0),
}


class _SciPy:
    """The SciPy submodules the cases use, imported on first use (after the env is set)."""

    def __getattr__(self, name: str) -> Any:
        import importlib

        return importlib.import_module(f"scipy.{name}")


def _cotangent(shape: tuple[int, ...]) -> Any:
    import numpy as np

    return np.random.default_rng(len(shape) + 7).standard_normal(shape)


def _dualgrad_gradient(case: Case, backend: str, mode: str) -> Any:

    import dualgrad

    with dualgrad.use_backend(backend), dualgrad.use_mode(mode):
        x = dualgrad.tensor(X0, dtype=dualgrad.float64, requires_grad=True)
        out = case.call(_SciPy(), x)
        if not isinstance(out, dualgrad.Tensor):
            msg = f"returned {type(out).__name__}, not a Tensor"
            raise TypeError(msg)
        if out.backend.name != backend:  # computed elsewhere: not the backend under test
            msg = f"returned a Tensor of the {out.backend.name} backend"
            raise TypeError(msg)
        u = dualgrad.asarray(_cotangent(out.shape))
        dualgrad.sum(out * u).backward()
        return x.grad.numpy()


def _reference_gradient(case: Case) -> Any:
    import numpy as np

    if case.reference == "jax.grad":
        import jax
        import jax.numpy as jnp

        def pairing(x: Any) -> Any:
            out = case.call(_SciPy(), x)
            return jnp.sum(out * jnp.asarray(_cotangent(out.shape)))

        return np.asarray(jax.grad(pairing)(jnp.asarray(X0, dtype=jnp.float64)))
    import dualgrad

    x0, step = np.asarray(X0), 1e-6
    with dualgrad.use_backend("numpy"):

        def pairing_value(x: np.ndarray) -> float:
            out = case.call(_SciPy(), dualgrad.tensor(x, dtype=dualgrad.float64))
            return float(np.sum(out.numpy() * _cotangent(out.shape)))

        return np.asarray(
            [
                (pairing_value(x0 + step * e) - pairing_value(x0 - step * e)) / (2 * step)
                for e in np.eye(len(x0))
            ]
        )


def _raises_instead_of_detaching(call: Callable[[Any, Any], Any], backend: str) -> str:

    import dualgrad

    with dualgrad.use_backend(backend):
        x = dualgrad.tensor(X0, dtype=dualgrad.float64, requires_grad=True)
        try:
            out = call(_SciPy(), x)
        except Exception as error:  # any refusal is fine; detaching is not
            return f"raised {type(error).__name__}: {error}"
    detached = not (isinstance(out, dualgrad.Tensor) and out.requires_grad)
    return "returned a detached result" if detached else "returned a differentiable result"


def run(backends: Sequence[str]) -> list[dict[str, Any]]:
    """Every case in both modes on each of ``backends``, compared with its reference gradient
    (computed once per case)."""
    import jax
    import numpy as np

    # float64 on JAX, for the reference and the jax backend alike (dualgrad never sets it)
    jax.config.update("jax_enable_x64", True)
    results = []
    for case in CASES:
        try:
            expected = _reference_gradient(case)
        except Exception as error:
            expected, reference_error = None, f"reference failed: {error!r}"
        for backend in backends:
            for mode in ("reverse", "forward"):
                result = {"name": case.name, "backend": backend, "mode": mode, "ok": False}
                try:
                    actual = _dualgrad_gradient(case, backend, mode)
                except Exception as error:
                    result["error"] = repr(error)
                else:
                    if expected is None:
                        result["error"] = reference_error
                    else:
                        result["ok"] = bool(np.allclose(actual, expected, rtol=1e-6, atol=1e-8))
                        result["error"] = f"dualgrad {actual.tolist()} != {expected.tolist()}"
                results.append(result)
    for backend in backends:
        for name, call in FALLS_BACK_TO_NUMPY.items():
            outcome = _raises_instead_of_detaching(call, backend)
            results.append(
                {
                    "name": name,
                    "backend": backend,
                    "mode": "raises",
                    "ok": outcome.startswith("raised"),
                    "error": outcome,
                }
            )
    return results


def render_table() -> str:
    """The docs' tables of the SciPy functions checked, from ``CASES`` and
    ``FALLS_BACK_TO_NUMPY``."""
    # every case is checked in both modes on every backend (a failure fails its test)
    checked = " | ".join("reverse, forward" for _ in BACKENDS)
    lines = [
        f"| SciPy function | {' | '.join(f'{name} backend' for name in BACKENDS)} "
        "| gradient checked against |",
        "| --- " * (len(BACKENDS) + 2) + "|",
        *(f"| `{case.name}` | {checked} | {case.reference} |" for case in CASES),
        "",
        f"Checked to raise rather than detach on the {' and '.join(BACKENDS)} backends "
        "(they convert to NumPy inside):",
        ", ".join(f"`{name}`" for name in FALLS_BACK_TO_NUMPY) + ".",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if "scipy" in sys.modules:  # pragma: no cover - only if something imported it first
        sys.exit("scipy was imported before SCIPY_ARRAY_API could be set")
    for row in run(sys.argv[1:] or BACKENDS):
        print(json.dumps(row))
