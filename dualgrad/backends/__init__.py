"""Array backends: what the engine needs from an array library, and the registry of them.

A backend is an Array API namespace (``xp``, which the primitives' rules are handed) plus the
few things the standard lacks: dtype mapping, conversion from Python data and NumPy, random
numbers, ``index_add`` (the scatter-add behind ``__getitem__``'s vjp) and the special function
``erf``. Everything else goes through ``xp``. Built-in backends are created lazily, on first
use, so an optional library that is not installed costs nothing until it is asked for.
"""

from __future__ import annotations

__all__ = [
    "ENTRY_POINT_GROUP",
    "SPECIAL_FUNCTIONS",
    "Backend",
    "available_backends",
    "backend_for_array",
    "get_backend_by_name",
    "get_rng_states",
    "register_backend",
    "seed_all",
    "set_rng_states",
]

import abc
import math
import types
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import numpy as np

from .._dtypes import ALL_DTYPES, DType

Array = Any


class Backend(abc.ABC):
    """One array library as the engine sees it.

    Subclasses set ``name`` and call ``__init__`` with the library's Array API namespace; they
    override ``index_add``, the random-number methods and ``owns`` where the defaults (which go
    through NumPy) do not fit.
    """

    name: str = ""
    install_hint: str = ""
    # Arrays are task graphs computed on request (Dask): dualgrad then never reads values by
    # itself, skipping the checks that would, so nothing is computed until the user asks.
    lazy: bool = False
    # Whether the dispatcher may share one 0-d constant array between operations (see
    # _dispatch._constant): only where arrays are plain host memory. A JAX array a trace closes
    # over becomes an argument of the compiled program, so sharing one between traces is not
    # harmless there.
    shares_constants: bool = False

    def __init__(self, namespace: Any) -> None:
        # The rules' namespace: the standard's functions plus dualgrad's few extras, copied into
        # one flat object so that a rule's ``xp.exp`` is a single dict lookup.
        names = [*dir(namespace), "linalg"]  # array_api_strict's linalg is not in its dir()
        standard = {
            key: getattr(namespace, key)
            for key in names
            if not key.startswith("__") and hasattr(namespace, key)
        }
        extras = {"index_add": self.index_add, "erf": self.erf}
        extras.update({name: self.special_function(name) for name in SPECIAL_FUNCTIONS})
        self.xp = types.SimpleNamespace(**{**standard, **extras})
        self.namespace = namespace
        self._native = {}
        self._dtype_of: dict[Any, DType] = {}
        for dtype in ALL_DTYPES:
            native = getattr(namespace, dtype.name, None)
            if native is not None:
                self._native[dtype] = native
                self._dtype_of[native] = dtype

    def __repr__(self) -> str:
        return f"<dualgrad backend {self.name!r}>"

    # --- dtypes ---------------------------------------------------------------------------
    def native_dtype(self, dtype: DType) -> Any:
        """The library's dtype object for a dualgrad dtype."""
        try:
            return self._native[dtype]
        except KeyError:
            msg = f"backend {self.name!r} has no dtype {dtype.name}"
            raise TypeError(msg) from None

    def dtype_of(self, array: Array) -> DType:
        """The dualgrad dtype of one of this library's arrays."""
        return self._dtype_of[array.dtype]

    # --- arrays -----------------------------------------------------------------------------
    @abc.abstractmethod
    def owns(self, obj: object) -> bool:
        """Whether ``obj`` is an array of this library."""

    def from_numpy(self, array: np.ndarray) -> Array:
        """This library's copy of a NumPy array (same dtype)."""
        return self.namespace.asarray(array)

    def to_numpy(self, array: Array) -> np.ndarray:
        """A NumPy copy of one of this library's arrays, for printing and ``.numpy()``."""
        return np.asarray(array)

    def scalar(self, value: complex, dtype: DType) -> Array:
        """A 0-d array holding a Python number, in ``dtype``."""
        return self.namespace.asarray(value, dtype=self.native_dtype(dtype))

    def index_add(self, x: Array, key: Any, values: Array) -> Array:
        """A copy of ``x`` with ``values`` added at ``x[key]``, repeated indices accumulating."""
        out = np.array(self.to_numpy(x))
        np.add.at(out, tuple(self._key_to_numpy(part) for part in key), self.to_numpy(values))
        return self.from_numpy(out)

    def _key_to_numpy(self, part: Any) -> Any:
        return self.to_numpy(part) if self.owns(part) else part

    def erf(self, x: Array) -> Array:
        """The error function, elementwise, in ``x``'s dtype."""
        return self.from_numpy(_numpy_erf(self.to_numpy(x)))

    def check_static_shape(self, operation: str, hint: str) -> None:
        """Raise before ``operation``, whose result's shape depends on values, on a lazy backend.

        Eager libraries compute the values and know the shape. A lazy one cannot without
        computing, which dualgrad never does by itself: ``NotImplementedError`` says so, with
        ``hint`` (what to do instead).
        """
        if self.lazy:
            msg = (
                f"{operation}: the result's shape depends on the values, which the {self.name} "
                f"backend does not compute until asked; {hint}"
            )
            raise NotImplementedError(msg)

    def special_function(self, name: str) -> Callable[..., Array]:
        """SciPy's special function ``name`` on this library's arrays (through NumPy).

        Backends with their own special functions (JAX) override this; the rest need SciPy,
        which is imported only when a special function is first called.
        """

        def function(*args: Any) -> Array:
            scipy_function = getattr(_scipy_special(name), name)
            values = [self.to_numpy(a) if self.owns(a) else a for a in args]
            # in the dtype of x (the last argument): SciPy computes polygamma in float64
            return self.from_numpy(np.asarray(scipy_function(*values), dtype=values[-1].dtype))

        function.__name__ = name
        return function

    # --- random numbers ----------------------------------------------------------------------
    def seed(self, seed: int) -> None:
        """Reset the random stream (``dualgrad.manual_seed``)."""
        self._rng = np.random.default_rng(seed)

    def randn(self, shape: tuple[int, ...], dtype: DType) -> Array:
        """Standard normal samples."""
        return self.from_numpy(self._rng.standard_normal(shape).astype(dtype.name))

    def rand(self, shape: tuple[int, ...], dtype: DType) -> Array:
        """Uniform samples on [0, 1)."""
        return self.from_numpy(self._rng.random(shape).astype(dtype.name))

    def get_rng_state(self) -> Any:
        """A snapshot of the random stream, which ``set_rng_state`` rewinds it to."""
        return self._rng.bit_generator.state  # a fresh dict of ints

    def set_rng_state(self, state: Any) -> None:
        """Rewind the random stream to a snapshot of ``get_rng_state`` (which stays usable)."""
        self._rng.bit_generator.state = state


def _numpy_erf(x: np.ndarray) -> np.ndarray:
    """The error function of a NumPy array: SciPy's when it is installed, else ``math.erf``."""
    try:
        from scipy.special import erf
    except ImportError:
        values = np.asarray(x)
        out = np.fromiter(map(math.erf, values.ravel().tolist()), values.dtype, values.size)
        return out.reshape(values.shape)
    return np.asarray(erf(x))


# Special functions the standard lacks, under SciPy's names: every backend's ``xp`` has them.
SPECIAL_FUNCTIONS = ("erfc", "erfinv", "gammaln", "polygamma", "log_ndtr", "ndtri")


def _scipy_special(name: str) -> types.ModuleType:
    try:
        import scipy.special
    except ImportError as err:
        msg = f"dualgrad.special.{name} on this backend needs SciPy: pip install 'dualgrad[scipy]'"
        raise ImportError(msg) from err
    return scipy.special


_FACTORIES: dict[str, Callable[[], Backend]] = {}
_INSTANCES: dict[str, Backend] = {}
_seed = 0  # the last manual_seed; backends created later start from it too


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make a backend available under ``name``; ``factory`` builds it on first use."""
    _FACTORIES[name] = factory
    _INSTANCES.pop(name, None)


ENTRY_POINT_GROUP = "dualgrad.backends"


def _discover_plugins() -> None:
    """Register the backends other packages declare in the ``dualgrad.backends`` entry-point
    group: ``name = "package.module:factory"``, a callable returning a ``Backend``."""
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name not in _FACTORIES:
            register_backend(entry_point.name, _plugin_factory(entry_point))


def _plugin_factory(entry_point: EntryPoint) -> Callable[[], Backend]:
    def factory() -> Backend:
        backend = entry_point.load()()
        if not isinstance(backend, Backend):
            msg = (
                f"the {ENTRY_POINT_GROUP} entry point {entry_point.name!r} "
                f"({entry_point.value}) returned {type(backend).__name__}, not a Backend"
            )
            raise TypeError(msg)
        return backend

    return factory


def available_backends() -> tuple[str, ...]:
    """Names of every registered backend (built in or plugged in), installed or not."""
    _discover_plugins()
    return tuple(_FACTORIES)


def get_backend_by_name(name: str) -> Backend:
    """The backend registered as ``name``, created on first use.

    Raises:
        ValueError: no backend of that name is registered.
        ImportError: the backend's library is not installed (the message says how to install it).
    """
    backend = _INSTANCES.get(name)
    if backend is not None:
        return backend
    if name not in _FACTORIES:
        _discover_plugins()
    factory = _FACTORIES.get(name)
    if factory is None:
        choices = ", ".join(_FACTORIES)
        msg = f"unknown backend {name!r}; choose one of: {choices}"
        raise ValueError(msg)
    backend = factory()
    backend.seed(_seed)
    _INSTANCES[name] = backend
    return backend


def seed_all(seed: int) -> None:
    """Seed every backend's random generator, including those created later."""
    global _seed
    _seed = seed
    for backend in _INSTANCES.values():
        backend.seed(seed)


def get_rng_states() -> dict[str, Any]:
    """A snapshot of every created backend's random stream, for ``set_rng_states``.

    Activation checkpointing takes one before running a function and replays the function's
    random draws from it when recomputing.
    """
    return {name: backend.get_rng_state() for name, backend in _INSTANCES.items()}


def set_rng_states(states: dict[str, Any]) -> None:
    """Rewind the backends' random streams to a snapshot of ``get_rng_states``."""
    for name, state in states.items():
        _INSTANCES[name].set_rng_state(state)


def backend_for_array(obj: object) -> Backend | None:
    """The backend owning ``obj`` (created if need be), or None when ``obj`` is no backend's
    array."""
    for backend in _INSTANCES.values():
        if backend.owns(obj):
            return backend
    return _backend_named_after_module(obj)


# Array types whose top-level module is not named like their backend.
_MODULE_BACKENDS = {"jaxlib": "jax"}


def _backend_named_after_module(obj: object) -> Backend | None:
    """The not yet created backend for ``obj``'s library, found by its type's module name, so
    that a Dask or torch array is adopted as it is instead of being copied through NumPy."""
    module = type(obj).__module__.partition(".")[0]
    if module == "builtins":
        return None
    name = _MODULE_BACKENDS.get(module, module)
    if name not in _FACTORIES:
        _discover_plugins()
    if name not in _FACTORIES:
        return None
    backend = get_backend_by_name(name)
    return backend if backend.owns(obj) else None


def _numpy_backend() -> Backend:
    from .numpy import NumPyBackend

    return NumPyBackend()


def _jax_backend() -> Backend:
    from .jax import JaxBackend

    return JaxBackend()


def _array_api_strict_backend() -> Backend:
    from .array_api_strict import ArrayAPIStrictBackend

    return ArrayAPIStrictBackend()


register_backend("numpy", _numpy_backend)
register_backend("jax", _jax_backend)
register_backend("array_api_strict", _array_api_strict_backend)
