"""scikit-learn's array-API estimators and functions differentiated through dualgrad: the cases,
their runner and the docs table.

scikit-learn dispatches to the inputs' namespace under ``sklearn.set_config(
array_api_dispatch=True)``, which needs SciPy imported with ``SCIPY_ARRAY_API=1``; SciPy reads
the variable once, when it is first imported, so the checks run in a fresh interpreter:
``python tests/sklearn_interop.py [BACKEND ...]`` (default: ``BACKENDS``) prints one JSON object
per case, backend and mode. ``tests/test_sklearn_interop.py`` starts it and
``docs/scikit-learn.md`` shows the table ``render_table`` makes from the same list.

Each case maps a matrix ``X`` (and, where it makes sense, a tensor-valued hyperparameter) to an
array; the scalar differentiated is ``sum(out * u)`` for a fixed random ``u``. Its gradient is
checked against central finite differences of scikit-learn on NumPy arrays along random
directions, and against ``jax.grad`` of the same scikit-learn code on JAX arrays where JAX runs
it. The references do not depend on the backend, so both backends answer to the same numbers.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# Read by SciPy when it is first imported; this module imports it only in ``run``.
os.environ["SCIPY_ARRAY_API"] = "1"

BACKENDS = ("numpy", "jax")
MODES = ("reverse", "forward")
SHAPE = (10, 3)  # X: well-conditioned, distinct rows
DIRECTIONS = 1  # random directions for the finite-difference checks
STEP = 1e-6

# Why JAX cannot differentiate a case (its arrays are immutable; scikit-learn writes into them).
JAX_IMMUTABLE = "JAX: scikit-learn assigns into array elements, which JAX arrays forbid"
JAX_DEVICE = "JAX: scikit-learn compares devices, and jax.grad's tracers have none"
JAX_FLOAT = "JAX: scikit-learn calls float() on a traced value"
JAX_VALIDATION = "JAX: scikit-learn's parameter validation rejects a traced gamma too"


@dataclass(frozen=True)
class Case:
    """One scikit-learn estimator or function, called as ``call(sklearn, xp, X, hyper)``."""

    name: str  # as scikit-learn spells it, "preprocessing.StandardScaler"
    kind: str  # "estimator" or "function"
    differentiated: str  # what is called, for the table: "fit_transform(X)"
    call: Callable[..., Any]
    hyper: tuple[str, float] | None = None  # a hyperparameter given as a 0-d tensor, and its value
    jax_reason: str | None = None  # why jax.grad cannot run it (None: it runs and is compared)
    raises: dict[str, str] = field(default_factory=dict)  # mode -> why dualgrad raises there
    returns_float: str | None = None  # why the output is a Python float (the graph is cut)
    nan_safe: bool = False  # its reverse-mode gradient needs dualgrad.autograd.nan_safe_mode
    note: str | None = None  # how the case is set up, and why


def _data() -> dict[str, Any]:
    """The inputs every case reads (NumPy): X, a target, classes, and unseen rows V."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE)
    target = x @ np.linspace(1.0, -2.0, SHAPE[1]) + 0.1 * rng.standard_normal(SHAPE[0])
    classes = (np.arange(SHAPE[0]) % 2).astype(np.int64)
    return {"X": x, "y": target, "c": classes, "V": rng.standard_normal((4, SHAPE[1]))}


DATA: dict[str, Any] = {}


def _given(xp: Any, name: str) -> Any:
    """Data (``y``, ``c``, ``V``) in the namespace under test, made as library code makes it."""
    return xp.asarray(DATA[name])


def _fitted_predict(estimator: Any, xp: Any, x: Any, target: str = "y") -> Any:
    return estimator.fit(x, _given(xp, target)).predict(_given(xp, "V"))


IN_PLACE = (
    "scikit-learn divides its working copy of X in place after a product saved it (X /= norms); "
    "reverse mode refuses, as PyTorch does, rather than use the overwritten values"
)
NUMPY_SOLVER = (
    "fit runs SciPy's L-BFGS (compiled, on NumPy arrays): the Tensor refuses the conversion, "
    "so the result is never silently detached"
)
VALIDATION = (
    "scikit-learn's parameter validation accepts only a Python or NumPy number for gamma "
    "(as for coef0 and the kernel approximations' gamma): a hyperparameter gradient is possible "
    "where, as Ridge's alpha, an array is accepted"
)
PYTHON_FLOAT = "scikit-learn returns a scalar score as a Python float, which no library can trace"

CASES = [
    Case(
        "preprocessing.StandardScaler",
        "estimator",
        "fit_transform(X)",
        lambda sk, xp, x, h: sk.preprocessing.StandardScaler().fit_transform(x),
        jax_reason=JAX_IMMUTABLE,
        nan_safe=True,
    ),
    Case(
        "preprocessing.MinMaxScaler",
        "estimator",
        "fit_transform(X)",
        lambda sk, xp, x, h: sk.preprocessing.MinMaxScaler().fit_transform(x),
        jax_reason=JAX_IMMUTABLE,
    ),
    Case(
        "preprocessing.MaxAbsScaler",
        "estimator",
        "fit_transform(X)",
        lambda sk, xp, x, h: sk.preprocessing.MaxAbsScaler().fit_transform(x),
        jax_reason=JAX_IMMUTABLE,
    ),
    Case(
        "preprocessing.Normalizer",
        "estimator",
        "fit_transform(X)",
        lambda sk, xp, x, h: sk.preprocessing.Normalizer().fit_transform(x),
        jax_reason=JAX_IMMUTABLE,
        raises={"reverse": IN_PLACE},
    ),
    Case(
        "preprocessing.Binarizer",
        "estimator",
        "fit_transform(X) (piecewise constant: zero gradient)",
        lambda sk, xp, x, h: sk.preprocessing.Binarizer().fit_transform(x),
        jax_reason=JAX_IMMUTABLE,
    ),
    Case(
        "preprocessing.KernelCenterer",
        "estimator",
        "fit_transform(X Xᵀ)",
        lambda sk, xp, x, h: sk.preprocessing.KernelCenterer().fit_transform(
            x @ xp.matrix_transpose(x)
        ),
    ),
    Case(
        "preprocessing.PolynomialFeatures",
        "estimator",
        "fit_transform(X), degree 2",
        lambda sk, xp, x, h: sk.preprocessing.PolynomialFeatures(2).fit_transform(x),
        jax_reason=JAX_IMMUTABLE,
    ),
    Case(
        "decomposition.PCA",
        "estimator",
        'fit_transform(X), svd_solver="full"',
        lambda sk, xp, x, h: sk.decomposition.PCA(2, svd_solver="full").fit_transform(x),
    ),
    Case(
        "decomposition.PCA",
        "estimator",
        'fit_transform(X), svd_solver="covariance_eigh"',
        lambda sk, xp, x, h: sk.decomposition.PCA(2, svd_solver="covariance_eigh").fit_transform(
            x
        ),
        jax_reason=JAX_IMMUTABLE,
    ),
    Case(
        "linear_model.Ridge",
        "estimator",
        'fit(X, y).predict(V), solver="svd"; X and alpha',
        lambda sk, xp, x, h: _fitted_predict(sk.linear_model.Ridge(alpha=h, solver="svd"), xp, x),
        hyper=("alpha", 0.7),
        jax_reason=JAX_DEVICE,
    ),
    Case(
        "linear_model.RidgeCV",
        "estimator",
        "fit(X, y).predict(V), alphas (0.1, 1, 10)",
        lambda sk, xp, x, h: _fitted_predict(
            sk.linear_model.RidgeCV(alphas=(0.1, 1.0, 10.0)), xp, x
        ),
        jax_reason=JAX_DEVICE,
    ),
    Case(
        "linear_model.RidgeClassifier",
        "estimator",
        'fit(X, c).decision_function(V), solver="svd"',
        lambda sk, xp, x, h: (
            sk.linear_model.RidgeClassifier(solver="svd")
            .fit(x, _given(xp, "c"))
            .decision_function(_given(xp, "V"))
        ),
        jax_reason=JAX_IMMUTABLE,
    ),
    Case(
        "linear_model.RidgeClassifierCV",
        "estimator",
        "fit(X, c).decision_function(V), alphas (0.1, 1)",
        lambda sk, xp, x, h: (
            sk.linear_model.RidgeClassifierCV(alphas=(0.1, 1.0))
            .fit(x, _given(xp, "c"))
            .decision_function(_given(xp, "V"))
        ),
        jax_reason=JAX_IMMUTABLE,
    ),
    Case(
        "discriminant_analysis.LinearDiscriminantAnalysis",
        "estimator",
        'fit(X, c).predict_proba(V), solver="svd"',
        lambda sk, xp, x, h: (
            sk.discriminant_analysis.LinearDiscriminantAnalysis(solver="svd")
            .fit(x, _given(xp, "c"))
            .predict_proba(_given(xp, "V"))
        ),
        jax_reason=JAX_IMMUTABLE,
    ),
    Case(
        "naive_bayes.GaussianNB",
        "estimator",
        "fit(X, c).predict_proba(V)",
        lambda sk, xp, x, h: (
            sk.naive_bayes.GaussianNB().fit(x, _given(xp, "c")).predict_proba(_given(xp, "V"))
        ),
        jax_reason=JAX_IMMUTABLE,
    ),
    Case(
        "kernel_approximation.Nystroem",
        "estimator",
        "fit_transform(X), 6 components",
        lambda sk, xp, x, h: sk.kernel_approximation.Nystroem(
            gamma=0.3, n_components=6, random_state=0
        ).fit_transform(x),
        jax_reason=JAX_IMMUTABLE,
    ),
    Case(
        "mixture.GaussianMixture",
        "estimator",
        'fit(X).predict_proba(X), 2 components, init_params="random", 3 EM steps, reg_covar=0.1',
        lambda sk, xp, x, h: (
            sk.mixture.GaussianMixture(
                2, init_params="random", random_state=0, max_iter=3, reg_covar=0.1
            )
            .fit(x)
            .predict_proba(x)
        ),
        jax_reason=JAX_IMMUTABLE,
        note="scikit-learn adds reg_covar to each covariance's diagonal through a slice "
        "(covariances[k, :, :]), which writes back into the covariances, as a NumPy view does",
    ),
    Case(
        "linear_model.LogisticRegression",
        "estimator",
        "fit(X, c).predict_proba(V)",
        lambda sk, xp, x, h: (
            sk.linear_model.LogisticRegression()
            .fit(x, _given(xp, "c"))
            .predict_proba(_given(xp, "V"))
        ),
        jax_reason=JAX_IMMUTABLE,
        raises={"reverse": NUMPY_SOLVER, "forward": NUMPY_SOLVER},
    ),
    Case(
        "linear_model.PoissonRegressor",
        "estimator",
        "fit(X, exp(y / 4)).predict(V)",
        lambda sk, xp, x, h: (
            sk.linear_model.PoissonRegressor()
            .fit(x, xp.exp(_given(xp, "y") / 4))
            .predict(_given(xp, "V"))
        ),
        jax_reason=JAX_FLOAT,
        raises={"reverse": NUMPY_SOLVER, "forward": NUMPY_SOLVER},
    ),
    Case(
        "metrics.pairwise.rbf_kernel",
        "function",
        "rbf_kernel(X)",
        lambda sk, xp, x, h: sk.metrics.pairwise.rbf_kernel(x, gamma=0.3),
        jax_reason=JAX_IMMUTABLE,
    ),
    Case(
        "metrics.pairwise.rbf_kernel",
        "function",
        "rbf_kernel(X, gamma=Tensor)",
        lambda sk, xp, x, h: sk.metrics.pairwise.rbf_kernel(x, gamma=h),
        hyper=("gamma", 0.3),
        jax_reason=JAX_VALIDATION,
        raises={"reverse": VALIDATION, "forward": VALIDATION},
    ),
    Case(
        "metrics.pairwise.euclidean_distances",
        "function",
        "euclidean_distances(X, V)",
        lambda sk, xp, x, h: sk.metrics.pairwise.euclidean_distances(x, _given(xp, "V")),
        jax_reason=JAX_DEVICE,
    ),
    Case(
        "metrics.pairwise.cosine_similarity",
        "function",
        "cosine_similarity(X)",
        lambda sk, xp, x, h: sk.metrics.pairwise.cosine_similarity(x),
        jax_reason=JAX_IMMUTABLE,
        raises={"reverse": IN_PLACE},
    ),
    Case(
        "metrics.pairwise.linear_kernel",
        "function",
        "linear_kernel(X)",
        lambda sk, xp, x, h: sk.metrics.pairwise.linear_kernel(x),
    ),
    Case(
        "metrics.pairwise.polynomial_kernel",
        "function",
        "polynomial_kernel(X), degree 2",
        lambda sk, xp, x, h: sk.metrics.pairwise.polynomial_kernel(x, degree=2),
    ),
    Case(
        "metrics.pairwise.sigmoid_kernel",
        "function",
        "sigmoid_kernel(X)",
        lambda sk, xp, x, h: sk.metrics.pairwise.sigmoid_kernel(x, gamma=0.2),
    ),
    Case(
        "metrics.pairwise.chi2_kernel",
        "function",
        "chi2_kernel(X * X)",
        lambda sk, xp, x, h: sk.metrics.pairwise.chi2_kernel(x * x),
    ),
    Case(
        "metrics.pairwise.paired_euclidean_distances",
        "function",
        "paired_euclidean_distances(X, reversed X)",
        lambda sk, xp, x, h: sk.metrics.pairwise.paired_euclidean_distances(
            x, xp.flip(x, axis=0) + 1.0
        ),
    ),
    Case(
        "metrics.mean_squared_error",
        "function",
        'mean_squared_error(X / 2, X, multioutput="raw_values")',
        lambda sk, xp, x, h: sk.metrics.mean_squared_error(
            _given(xp, "X") / 2, x, multioutput="raw_values"
        ),
    ),
    Case(
        "metrics.r2_score",
        "function",
        'r2_score(X / 2, X, multioutput="raw_values")',
        lambda sk, xp, x, h: sk.metrics.r2_score(_given(xp, "X") / 2, x, multioutput="raw_values"),
        jax_reason=JAX_IMMUTABLE,
    ),
    Case(
        "metrics.mean_squared_error",
        "function",
        "mean_squared_error(X / 2, X): one score",
        lambda sk, xp, x, h: sk.metrics.mean_squared_error(_given(xp, "X") / 2, x),
        jax_reason=JAX_FLOAT,
        returns_float=PYTHON_FLOAT,
    ),
]


class _ScikitLearn:
    """The scikit-learn submodules the cases use, imported on first use (after the env is set)."""

    def __getattr__(self, name: str) -> Any:
        import importlib

        return importlib.import_module(f"sklearn.{name}")


def _weights(shape: tuple[int, ...]) -> Any:
    """The fixed ``u`` of the scalar ``sum(out * u)``."""
    import numpy as np

    return np.random.default_rng(len(shape) + 7).standard_normal(shape)


def _directions() -> list[tuple[Any, float]]:
    """Random directions in (X, hyperparameter) space."""
    import numpy as np

    rng = np.random.default_rng(1)
    return [(rng.standard_normal(SHAPE), float(rng.standard_normal())) for _ in range(DIRECTIONS)]


def _scalar_numpy(case: Case, x: Any, hyper: float | None) -> float:
    """``sum(out * u)`` by scikit-learn on NumPy arrays."""
    import numpy as np

    out = np.asarray(case.call(_ScikitLearn(), np, x, hyper))
    return float(np.sum(out * _weights(out.shape)))


def _finite_differences(case: Case) -> list[float]:
    """The scalar's derivative along each of ``_directions()``, by central differences."""
    hyper = case.hyper[1] if case.hyper else None
    slopes = []
    for dx, dh in _directions():
        step_h = STEP * dh if case.hyper else 0.0
        up = _scalar_numpy(case, DATA["X"] + STEP * dx, None if hyper is None else hyper + step_h)
        down = _scalar_numpy(
            case, DATA["X"] - STEP * dx, None if hyper is None else hyper - step_h
        )
        slopes.append((up - down) / (2 * STEP))
    return slopes


def _jax_gradient(case: Case) -> tuple[Any, Any]:
    """``jax.grad`` of the scalar through the same scikit-learn code on JAX arrays."""
    import jax
    import jax.numpy as jnp

    def scalar(x: Any, hyper: Any) -> Any:
        out = case.call(_ScikitLearn(), jnp, x, hyper if case.hyper else None)
        return jnp.sum(out * jnp.asarray(_weights(out.shape)))

    hyper = jnp.asarray(case.hyper[1] if case.hyper else 0.0)
    gx, gh = jax.grad(scalar, argnums=(0, 1))(jnp.asarray(DATA["X"]), hyper)
    return jax.device_get(gx), float(gh)


def _dualgrad_gradient(case: Case, backend: str, mode: str) -> tuple[Any, float]:
    """The scalar's gradient with respect to X and the hyperparameter, by dualgrad (X from a
    list: a NumPy array would keep the numpy backend)."""
    import contextlib

    import dualgrad

    safe = dualgrad.autograd.nan_safe_mode() if case.nan_safe else contextlib.nullcontext()
    with dualgrad.use_backend(backend), dualgrad.use_mode(mode), safe:
        x = dualgrad.tensor(DATA["X"].tolist(), dtype=dualgrad.float64, requires_grad=True)
        hyper = None
        if case.hyper:
            hyper = dualgrad.tensor(case.hyper[1], dtype=dualgrad.float64, requires_grad=True)
        out = case.call(_ScikitLearn(), dualgrad, x, hyper)
        if not isinstance(out, dualgrad.Tensor):
            msg = f"returned {type(out).__name__}, not a Tensor"
            raise TypeError(msg)
        if out.backend.name != backend:
            msg = f"returned a Tensor of the {out.backend.name} backend"
            raise TypeError(msg)
        dualgrad.sum(out * dualgrad.asarray(_weights(out.shape))).backward()
        return x.grad.numpy(), float(hyper.grad) if case.hyper else 0.0


def _compare(case: Case, gradient: tuple[Any, float], slopes: list[float], jax_ref: Any) -> str:
    """An empty string where ``gradient`` agrees with the references, else what differs."""
    import numpy as np

    gx, gh = gradient
    if not (np.all(np.isfinite(gx)) and np.isfinite(gh)):
        return f"gradient not finite: {gx.tolist()}, {gh}"
    along = [float(np.sum(gx * dx) + gh * dh) for dx, dh in _directions()]
    if not np.allclose(along, slopes, rtol=1e-5, atol=1e-7):
        return f"directional derivatives {along} != finite differences {slopes}"
    if jax_ref is not None and not (
        np.allclose(gx, jax_ref[0], rtol=1e-7, atol=1e-9)
        and np.isclose(gh, jax_ref[1], rtol=1e-7, atol=1e-9)
    ):
        return f"gradient {gx.tolist()}, {gh} != jax.grad {jax_ref[0].tolist()}, {jax_ref[1]}"
    return ""


def _check(case: Case, backend: str, mode: str, slopes: Any, jax_ref: Any) -> dict[str, Any]:
    """One case on one backend in one mode: does it behave as the case says?"""
    import dualgrad

    row: dict[str, Any] = {"name": case.name, "call": case.differentiated}
    row.update(backend=backend, mode=mode, ok=False, error="")
    if case.returns_float:
        with dualgrad.use_backend(backend), dualgrad.use_mode(mode):
            x = dualgrad.tensor(DATA["X"].tolist(), dtype=dualgrad.float64, requires_grad=True)
            out = case.call(_ScikitLearn(), dualgrad, x, None)
        row["ok"] = type(out) is float
        row["error"] = f"returned {type(out).__name__}"
        return row
    try:
        gradient = _dualgrad_gradient(case, backend, mode)
    except Exception as error:
        row["ok"] = mode in case.raises
        row["error"] = repr(error)
        return row
    if mode in case.raises:
        row["error"] = "ran, though the case says it raises"
        return row
    row["error"] = _compare(case, gradient, slopes, jax_ref)
    row["ok"] = not row["error"]
    return row


def _check_the_trap(case: Case, backend: str) -> dict[str, Any]:
    """A nan_safe case's reverse-mode gradient is NaN without NaN-safe mode."""
    import numpy as np

    plain = Case(case.name, case.kind, case.differentiated, case.call, case.hyper)
    row = {"name": case.name, "call": case.differentiated, "backend": backend, "mode": "trap"}
    with np.errstate(all="ignore"):
        gx, _ = _dualgrad_gradient(plain, backend, "reverse")
    row.update(ok=bool(np.isnan(gx).any()), error=f"finite without nan_safe_mode: {gx.tolist()}")
    return row


def _check_jax_reference(case: Case, jax_error: str | None) -> dict[str, Any]:
    """jax.grad runs where the case says it runs, and fails where it says it fails."""
    row = {"name": case.name, "call": case.differentiated, "backend": "jax.grad", "mode": "-"}
    if case.jax_reason is None:
        row.update(ok=jax_error is None, error=f"jax.grad failed: {jax_error}")
    else:
        row.update(ok=jax_error is not None, error="jax.grad ran, though the case says it fails")
    return row


def run(backends: Sequence[str]) -> list[dict[str, Any]]:
    """Every case in both modes on each of ``backends``, against its references (computed once
    per case)."""
    import warnings

    import jax
    import numpy as np
    import sklearn

    # float64 on JAX, for the reference and the jax backend alike (dualgrad never sets it)
    jax.config.update("jax_enable_x64", True)
    sklearn.set_config(array_api_dispatch=True)
    warnings.simplefilter("ignore")  # scikit-learn's convergence and device notes
    DATA.update(_data())
    rows = []
    for case in CASES:
        started = time.process_time()
        slopes = None if case.returns_float else _finite_differences(case)
        jax_ref, jax_error = None, None
        try:
            with np.errstate(all="ignore"):
                jax_ref = _jax_gradient(case)
        except Exception as error:
            jax_error = repr(error)
        rows.append(_check_jax_reference(case, jax_error))
        for backend in backends:
            for mode in MODES:
                rows.append(_check(case, backend, mode, slopes, jax_ref))
            if case.nan_safe:
                rows.append(_check_the_trap(case, backend))
        rows[-1]["cpu_seconds"] = round(time.process_time() - started, 2)  # the case's cost
    return rows


def _verdict(case: Case) -> str:
    if case.returns_float:
        return "runs; graph cut (Python float)"
    working = [mode for mode in MODES if mode not in case.raises]
    if not working:
        return "raises"
    if case.nan_safe:
        working = [
            f"{mode} (with `nan_safe_mode`)" if mode == "reverse" else mode for mode in working
        ]
    verdict = f"{', '.join(working)}: gradient = finite differences"
    return verdict + (" = jax.grad" if case.jax_reason is None else "")


def _reason(case: Case) -> str:
    reasons = [case.note] if case.note else []
    reasons += [case.returns_float] if case.returns_float else []
    reasons += [f"{mode}: {why}" for mode, why in case.raises.items()]
    if len(set(case.raises.values())) == 1 and len(case.raises) == len(MODES):
        reasons = [next(iter(case.raises.values()))]
    if case.nan_safe:
        reasons.append(
            "a 0/0 for features seen zero times, discarded by a masked assignment, makes the "
            "reverse-mode gradient NaN (as in PyTorch) unless `dualgrad.autograd.nan_safe_mode` "
            "is on; forward mode is finite either way"
        )
    reasons.append(case.jax_reason or "JAX runs it: compared with jax.grad")
    return "; ".join(reasons)


def render_table() -> str:
    """The docs' table of the cases checked, from ``CASES``."""
    lines = [
        "| scikit-learn | differentiated | numpy and jax backends | notes |",
        "| --- | --- | --- | --- |",
    ]
    for kind in ("estimator", "function"):
        for case in (case for case in CASES if case.kind == kind):
            lines.append(
                f"| `{case.name}` | `{case.differentiated}` | {_verdict(case)} | {_reason(case)} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if "scipy" in sys.modules:  # pragma: no cover - only if something imported it first
        sys.exit("scipy was imported before SCIPY_ARRAY_API could be set")
    for row in run(sys.argv[1:] or BACKENDS):
        print(json.dumps(row))
