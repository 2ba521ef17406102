"""The Backend base class: what the engine needs from an array library.

The registry (``dualgrad.backends``) builds backends from the subclasses in this package, each of
which imports this module only, so that the package and its backends import in one direction.
"""

from __future__ import annotations

__all__ = ["SPECIAL_FUNCTIONS", "Array", "Backend"]

import abc
import math
import types
from collections.abc import Callable
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
    # Whether the dispatcher may share one 0-d constant between operations (``constants``):
    # only where arrays are plain host memory. A JAX array a trace closes over becomes an
    # argument of the compiled program, so sharing one between traces is not harmless there.
    shares_constants: bool = False
    # Whether the library raises for an integer index array out of range: JAX clamps or fills
    # instead, CuPy wraps around; for them dualgrad checks the values it can read.
    checks_index_bounds: bool = True

    def __init__(self, namespace: Any) -> None:
        # The rules' namespace: the standard's functions plus dualgrad's few extras, copied into
        # one flat object so that a rule's ``xp.exp`` is a single dict lookup.
        # array_api_strict's extensions are not in its dir()
        names = [*dir(namespace), "linalg", "fft"]
        standard = {
            key: getattr(namespace, key)
            for key in names
            if not key.startswith("__") and hasattr(namespace, key)
        }
        extras = {"index_add": self.index_add, "erf": self.erf}
        extras.update({name: self.special_function(name) for name in SPECIAL_FUNCTIONS})
        self.xp = types.SimpleNamespace(**{**standard, **extras})
        self.namespace = namespace
        # Python numbers met as operands, as the 0-d constant Tensors the dispatcher made of
        # them, by (array dtype, type, value): shared by the operations that use them, so that
        # ``x * 0.5`` in a loop allocates no Tensor. None where the backend shares none.
        self.constants: dict[Any, Any] | None = {} if self.shares_constants else None
        # Whether each array dtype met is floating or complex, filled as the unary functions
        # meet them: a dict lookup costs a third of the Tensor's dualgrad dtype, on every sin.
        self.inexact: dict[Any, bool] = {}
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

    def default_integer(self) -> DType:
        """The dtype this library gives a Python int and an index: int64, or int32 where 64-bit
        integers are off (JAX by default). Asked each time: JAX's mode can change. (The rules,
        handed a namespace rather than a backend, ask ``ops.index._index_dtype``.)"""
        return self.dtype_of(self.xp.arange(0))

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

    def operand(self, value: complex, dtype: DType, like: Array) -> Any:
        """A Python number as a 0-d operand in ``dtype`` for operations with ``like``: by
        default the 0-d array ``scalar`` gives. Never mutated: the dispatcher shares one
        between operations (``constants``)."""
        return self.scalar(value, dtype)

    def index_add(self, x: Array, key: Any, values: Array) -> Array:
        """A copy of ``x`` with ``values`` added at ``x[key]``, repeated indices accumulating."""
        out = np.array(self.to_numpy(x))
        np.add.at(out, tuple(self._key_to_numpy(part) for part in key), self.to_numpy(values))
        return self.from_numpy(out)

    def _key_to_numpy(self, part: Any) -> Any:
        return self.to_numpy(part) if self.owns(part) else part

    def outer_products(self, a: Array, b: Array) -> Array:
        """``a @ b`` for stacks of columns ``a`` ``(..., m, 1)`` and rows ``b`` ``(..., 1, n)``,
        the stacks broadcasting: one outer product per stack entry (vmap's per-example weight
        gradients). A broadcast multiplication; a backend may know a faster loop."""
        return a * b

    def erf(self, x: Array) -> Array:
        """The error function, elementwise, in ``x``'s dtype."""
        return self.from_numpy(_numpy_erf(self.to_numpy(x)))

    def readable(self, array: Array) -> bool:
        """Whether ``array``'s values can be read now (not one a compiler is tracing)."""
        return not self.lazy

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
