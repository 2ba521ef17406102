"""Array backends: what the engine needs from an array library, and the registry of them.

A backend is an Array API namespace (``xp``, which the primitives' rules are handed) plus the
few things the standard lacks: dtype mapping, conversion from Python data and NumPy, random
numbers, ``index_add`` (the scatter-add behind ``__getitem__``'s vjp) and the special function
``erf``. Everything else goes through ``xp``. Built-in backends are created lazily, on first
use, so an optional library that is not installed costs nothing until it is asked for.

``cuda``, ``cudnn`` and ``mps`` are ``torch.backends``' modules of those names, for PyTorch
programs (``torch.backends.mps.is_available()``, ``torch.backends.cudnn.benchmark = True``).
``mps`` asks the active backend's devices, above this registry: the package imports it.
"""

from __future__ import annotations

__all__ = [
    "ENTRY_POINT_GROUP",
    "SPECIAL_FUNCTIONS",
    "Backend",
    "available_backends",
    "backend_for_array",
    "check_backend_name",
    "cuda",
    "cudnn",
    "get_backend_by_name",
    "get_rng_states",
    "register_backend",
    "seed_all",
    "set_rng_states",
]

from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from . import cuda, cudnn
from ._base import SPECIAL_FUNCTIONS, Backend

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


def check_backend_name(name: str, where: str | None = None) -> str:
    """``name`` itself if a backend is registered under it (installed or not).

    Raises:
        ValueError: no backend of that name; the message lists the registered ones, after
            ``where`` (the setting or function that was given the name) if given.
    """
    if name not in _FACTORIES:
        _discover_plugins()
    if name not in _FACTORIES:
        choices = ", ".join(_FACTORIES)
        prefix = f"{where}: " if where else ""
        msg = f"{prefix}unknown backend {name!r}; choose one of: {choices}"
        raise ValueError(msg)
    return name


def get_backend_by_name(name: str) -> Backend:
    """The backend registered as ``name``, created on first use.

    Raises:
        ValueError: no backend of that name is registered.
        ImportError: the backend's library is not installed (the message says how to install it).
    """
    backend = _INSTANCES.get(name)
    if backend is not None:
        return backend
    backend = _FACTORIES[check_backend_name(name)]()
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
