"""``vmap``: a function of one example, mapped over a batch, as ``torch.func.vmap`` and
``jax.vmap``.

The batched arguments enter a new vmap level (``dualgrad._batching``): each becomes a Tensor
of that level whose array hides the batch axis, so the function sees one example's shapes,
and every operation it runs is one call on the whole batch. The outputs leave the level with
the batch along ``out_dims``. Entering and leaving are operations with derivative rules (the
dispatcher's moves), so vmap composes with every transform, in either order: ``grad`` inside
vmap gives per-example gradients, ``jacrev`` of a vmapped function differentiates through the
batch.

An in-place change of a mapped argument inside the function (``x.add_(1)``, ``x[0] = 5.0``, a
BatchNorm's running statistics) is written back into the caller's Tensor when the function
returns, as ``torch.func.vmap`` does: the changed values are moved out of the level, batch
along the argument's in_dim, and swapped into the caller's Tensor as an in-place operation
(recorded, its version bumped). Which arguments changed is read from the moved-in Tensors'
versions and arrays, so a function that changes nothing pays one comparison per argument.
"""

from __future__ import annotations

__all__ = ["vmap"]

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

from . import _batching, config
from ._dispatch import into_level, lift, move, out_of_level
from .backends import backend_for_array, get_rng_states, set_rng_states
from .functions.creation import asarray
from .functions.shape import concat
from .tensor import Tensor, same_backend
from .tree_util import broadcast_prefix, keystr, tree_flatten, tree_flatten_with_path


def _none_is_leaf(value: Any) -> bool:
    return value is None


def vmap(
    func: Callable[..., Any],
    in_dims: Any = 0,
    out_dims: Any = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable[..., Any]:
    """``func`` mapped over a batch axis of its arguments, without a Python loop.

    ``func`` is written for one example; the mapped function takes arguments with an extra
    batch axis and returns outputs with one. Operations run once on the whole batch.

    Args:
        func: a function of Tensors (pytrees of them: tuples, lists, dicts, named tuples).
        in_dims: which axis of each positional argument is the batch: an int (every
            argument), ``None`` (not mapped: the same value for every example), or a tuple
            with one entry per positional argument, each an int, ``None`` or a pytree of them
            matching that argument. Negative axes count from the end. Keyword arguments are
            not mapped.
        out_dims: where the batch axis goes in each output: an int, ``None`` (an output that
            does not depend on the batch) or a pytree of them matching the output.
        randomness: random draws inside ``func`` (``dualgrad.randn``, dropout): ``"error"``
            (raise), ``"different"`` (independent per example) or ``"same"`` (one draw shared
            by the batch), as ``torch.func.vmap``.
        chunk_size: map at most this many examples at a time (less memory, more calls);
            ``None``: the whole batch at once.

    Returns:
        The mapped function. A mapped Tensor argument that ``func`` changes in place
        (``x.add_(1)``, ``x[0] = 5.0``, ``x.copy_(y)``) is changed in the caller's Tensor too,
        for each example, as in ``torch.func.vmap``; an unmapped one changes as usual.

    Raises:
        ValueError: a bad ``randomness`` or ``chunk_size``; at call time ``in_dims`` or
            ``out_dims`` that do not fit the arguments or outputs, an axis out of range,
            batch axes of different sizes, or no argument to map over.
        TypeError: an int in ``in_dims`` for an argument that is not an array.
        RuntimeError: inside ``func``, reading a batched value on the host (``item()``,
            ``if x > 0:``), a random draw with ``randomness="error"`` or an in-place update
            of an unmapped tensor with values that differ from example to example; once
            ``func`` returns, an in-place change of a mapped argument that is a leaf requiring
            grad, outside ``no_grad()`` (as any in-place operation on such a leaf).
        NotImplementedError: an operation that has no batching rule (its name is given).

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> dualgrad.vmap(lambda row: row @ row)(x)
        tensor([ 5., 25.])
        >>> dualgrad.vmap(dualgrad.grad(lambda row: (row ** 3).sum()))(x)
        tensor([[ 3., 12.],
                [27., 48.]])
        >>> _ = dualgrad.vmap(lambda row: row.mul_(row.sum()))(x)
        >>> x
        tensor([[ 3.,  6.],
                [21., 28.]])
    """
    if randomness not in _batching.RANDOMNESS:
        msg = (
            f"vmap: randomness must be one of {', '.join(map(repr, _batching.RANDOMNESS))}, "
            f"got {randomness!r}"
        )
        raise ValueError(msg)
    if chunk_size is not None and (
        not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1
    ):
        msg = f"vmap: chunk_size must be a positive int or None, got {chunk_size!r}"
        raise ValueError(msg)
    _check_dims_type(in_dims, "in_dims")
    _check_dims_type(out_dims, "out_dims")

    @functools.wraps(func)
    def vmapped(*args: Any, **kwargs: Any) -> Any:
        leaves, treedef, dims = _arguments(func, in_dims, args)
        size = _batch_size(func, leaves, dims)
        raw = not any(isinstance(leaf, Tensor) for leaf in leaves)
        tensors = [
            asarray(leaf)
            if not isinstance(leaf, Tensor) and (dim is not None or _is_array(leaf))
            else leaf
            for leaf, dim in zip(leaves, dims, strict=True)
        ]
        if chunk_size is None or chunk_size >= size:
            result = _map(func, tensors, dims, treedef, kwargs, size, out_dims, randomness)
        else:
            result = _chunked(
                func, tensors, dims, treedef, kwargs, size, out_dims, randomness, chunk_size
            )
        if raw:
            return _arrays(result)
        return result

    return vmapped


def _check_dims_type(dims: Any, name: str) -> None:
    leaves, _ = tree_flatten(dims, is_leaf=_none_is_leaf)
    for dim in leaves:
        if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool)):
            msg = (
                f"vmap: {name} must be an int, None, or a pytree (tuple, list, dict) of them, "
                f"got {dims!r}"
            )
            raise TypeError(msg)


def _name(func: Callable[..., Any]) -> str:
    return getattr(func, "__name__", type(func).__name__)


def _is_array(value: Any) -> bool:
    """Whether ``value`` is a backend array (NumPy, JAX, ...), which vmap takes as a Tensor."""
    return not isinstance(value, Tensor) and backend_for_array(value) is not None


def _arguments(
    func: Callable[..., Any], in_dims: Any, args: tuple[Any, ...]
) -> tuple[list[Any], Any, list[int | None]]:
    """The arguments' leaves, their structure, and each leaf's batch axis (or None)."""
    if not args:
        msg = (
            f"vmap({_name(func)}): got no positional arguments; vmap maps over positional "
            "arguments (keyword arguments are passed unmapped)"
        )
        raise ValueError(msg)
    if isinstance(in_dims, int | None):
        prefix: Any = in_dims
    elif isinstance(in_dims, tuple):
        prefix = in_dims
        if len(in_dims) != len(args):
            msg = (
                f"vmap({_name(func)}, in_dims={in_dims!r}): in_dims has {len(in_dims)} entries "
                f"but the function got {len(args)} positional arguments; give one per argument"
            )
            raise ValueError(msg)
    else:
        msg = (
            f"vmap({_name(func)}, in_dims={in_dims!r}): in_dims must be an int, None or a "
            f"tuple with one entry per positional argument, got a {type(in_dims).__name__}"
        )
        raise TypeError(msg)
    leaves, treedef = tree_flatten(args, is_leaf=_none_is_leaf)
    if isinstance(prefix, int | None):
        dims = [prefix] * len(leaves)
    elif all(isinstance(dim, int | None) for dim in prefix):
        # One dim per argument, repeated over its leaves: no second walk of the arguments.
        dims = [
            dim
            for dim, arg_def in zip(prefix, treedef.children(), strict=True)
            for _ in range(arg_def.num_leaves)
        ]
    else:
        try:
            dims = broadcast_prefix(prefix, args, is_leaf=_none_is_leaf)
        except ValueError as err:
            msg = (
                f"vmap({_name(func)}, in_dims={in_dims!r}): in_dims does not match the "
                f"structure of the arguments: {err}"
            )
            raise ValueError(msg) from err
    for index, (leaf, dim) in enumerate(zip(leaves, dims, strict=True)):
        if dim is not None:
            where = _where("args", args, index)
            if not isinstance(leaf, Tensor) and not _is_array(leaf):
                msg = (
                    f"vmap({_name(func)}, in_dims={in_dims!r}): in_dim {dim} for {where()}, "
                    f"which is a {type(leaf).__name__}; only arrays can be mapped over: give "
                    "it in_dim None"
                )
                raise TypeError(msg)
            ndim = len(leaf.shape)
            if not -ndim <= dim < ndim:
                msg = (
                    f"vmap({_name(func)}, in_dims={in_dims!r}): in_dim {dim} for {where()}, "
                    f"which has {ndim} dimensions (shape {tuple(leaf.shape)}); expected "
                    f"{-ndim} <= in_dim < {ndim}"
                )
                raise ValueError(msg)
    return leaves, treedef, dims


def _where(root: str, tree: Any, index: int) -> Callable[[], str]:
    """The key path of ``tree``'s leaf number ``index``, computed when an error asks for it
    (key paths cost a second flattening)."""

    def where() -> str:
        path = tree_flatten_with_path(tree, is_leaf=_none_is_leaf)[0][index][0]
        return f"{root}{keystr(path)}"

    return where


def _batch_size(func: Callable[..., Any], leaves: list[Any], dims: list[int | None]) -> int:
    sizes = {
        int(leaf.shape[dim]) for leaf, dim in zip(leaves, dims, strict=True) if dim is not None
    }
    if not sizes:
        msg = (
            f"vmap({_name(func)}): no argument is mapped (every in_dim is None or the "
            "arguments hold no arrays); map at least one"
        )
        raise ValueError(msg)
    if len(sizes) > 1:
        listed = [
            f"{tuple(leaf.shape)} along axis {dim}"
            for leaf, dim in zip(leaves, dims, strict=True)
            if dim is not None
        ]
        msg = (
            f"vmap({_name(func)}): the mapped axes have different sizes {sorted(sizes)}; "
            f"the arguments are {', '.join(listed)}: every mapped axis must have one size"
        )
        raise ValueError(msg)
    return sizes.pop()


def _map(
    func: Callable[..., Any],
    tensors: list[Any],
    dims: list[int | None],
    treedef: Any,
    kwargs: dict[str, Any],
    size: int,
    out_dims: Any,
    randomness: str,
) -> Any:
    """One vmap level: the batched arguments moved in, ``func`` run, the outputs moved out."""
    mapped = [x for x, dim in zip(tensors, dims, strict=True) if dim is not None]
    base = same_backend("vmap", mapped)
    levels = _batching.current_levels()
    if levels and _batching.below(base, levels[-1]):
        base = levels[-1]  # nested: the new level sits on the innermost one open
    level = _batching.Level(base, size, randomness)
    inner = [
        x
        if dim is None
        else move(
            into_level, lift(x, base), {"level": level, "axis": dim % x.ndim - x.ndim}, level
        )
        for x, dim in zip(tensors, dims, strict=True)
    ]
    # Each moved-in Tensor's array, to tell afterwards which ones the function changed.
    entered = [
        (index, dim, inner[index]._array) for index, dim in enumerate(dims) if dim is not None
    ]
    with _batching.entered(level), _creating_on(level):
        out = func(*treedef.unflatten(inner), **kwargs)
    result = _outputs(func, out, out_dims, level)  # checked before anything is written back
    for index, dim, array in entered:
        moved = inner[index]
        # Every in-place operation bumps the version; ``x.data = ...`` only swaps the array.
        if moved._version or moved._array is not array:
            target = tensors[index]
            axis = dim % target.ndim - target.ndim
            changed = move(out_of_level, moved, {"level": level, "axis": axis}, level.base)
            _write_back(func, target, changed, _where("args", treedef.unflatten(tensors), index))
    return result


def _write_back(
    func: Callable[..., Any], target: Tensor, changed: Tensor, where: Callable[[], str]
) -> None:
    """Swap ``changed``, a mapped argument's new value with its batch axis, into the caller's
    ``target`` as an in-place operation: recorded, versioned, and refused for a leaf that
    requires grad (outside ``no_grad()``) as any in-place operation is."""
    # A tensor of a lower level than the outer vmap's (a plain one mapped by a nested vmap)
    # gets the value moved down through the levels that do not map it; one that does map it
    # stays, and ``_update`` raises its error for batched values in an unmapped tensor.
    level: Any = changed._backend
    while (
        level is not target._backend
        and type(level) is _batching.Level
        and not _batching.mapped(changed._array, level)
    ):
        changed = move(out_of_level, changed, {"level": level, "axis": None}, level.base)
        level = changed._backend
    target._update(lambda _: changed, f"vmap({_name(func)}) writing back {where()}")


@contextlib.contextmanager
def _creating_on(level: _batching.Level) -> Iterator[None]:
    """New tensors inside the mapped function are created on the level (so that random draws
    follow its policy) when the default backend is under it."""
    if not _batching.below(config.get_backend(), level):
        yield
        return
    with config.use_backend_instance(level):
        yield


def _outputs(func: Callable[..., Any], out: Any, out_dims: Any, level: _batching.Level) -> Any:
    """Each output moved out of the level, its batch along its out_dim."""
    leaves, treedef = tree_flatten(out, is_leaf=_none_is_leaf)
    if isinstance(out_dims, int | None):
        dims: list[Any] = [out_dims] * len(leaves)
    else:
        try:
            dims = broadcast_prefix(out_dims, out, is_leaf=_none_is_leaf)
        except ValueError as err:
            msg = (
                f"vmap({_name(func)}, out_dims={out_dims!r}): out_dims does not match the "
                f"structure of the outputs: {err}"
            )
            raise ValueError(msg) from err
    results = []
    for index, (leaf, dim) in enumerate(zip(leaves, dims, strict=True)):
        results.append(_output(func, leaf, dim, level, _where("output", out, index), out_dims))
    return treedef.unflatten(results)


def _output(
    func: Callable[..., Any],
    leaf: Any,
    dim: int | None,
    level: _batching.Level,
    where: Callable[[], str],
    out_dims: Any,
) -> Any:
    if not isinstance(leaf, Tensor):
        if _is_array(leaf) or (isinstance(leaf, int | float | complex) and dim is not None):
            leaf = asarray(leaf)
        elif dim is None:
            return leaf  # not mapped: returned as it is, as torch.func does
        else:
            msg = (
                f"vmap({_name(func)}): the {where()} is a {type(leaf).__name__}, not an array; "
                "a mapped function returns arrays (give other outputs out_dim None)"
            )
            raise TypeError(msg)
    inside = leaf._backend is level
    if dim is None:
        if not inside:
            return leaf
        if _batching.mapped(leaf._array, level):
            msg = (
                f"vmap({_name(func)}, out_dims={out_dims!r}): the {where()} has out_dim None "
                "but differs from example to example; give it an int out_dim"
            )
            raise ValueError(msg)
        return move(out_of_level, leaf, {"level": level, "axis": None}, level.base)
    ndim = leaf.ndim
    if not -ndim - 1 <= dim <= ndim:
        msg = (
            f"vmap({_name(func)}, out_dims={out_dims!r}): out_dim {dim} for the {where()}, "
            f"which has {ndim} dimensions per example; expected {-ndim - 1} <= out_dim <= {ndim}"
        )
        raise ValueError(msg)
    axis = dim % (ndim + 1) - (ndim + 1)
    if not inside:
        leaf = lift(leaf, level)  # the same for every example: broadcast along the batch
    return move(out_of_level, leaf, {"level": level, "axis": axis}, level.base)


def _chunked(
    func: Callable[..., Any],
    tensors: list[Any],
    dims: list[int | None],
    treedef: Any,
    kwargs: dict[str, Any],
    size: int,
    out_dims: Any,
    randomness: str,
    chunk_size: int,
) -> Any:
    """``_map`` over consecutive chunks of the batch, the outputs concatenated."""
    states = get_rng_states() if randomness == "same" else None
    chunks = []
    parts = []
    for start in range(0, size, chunk_size):
        if states is not None:
            set_rng_states(states)  # one draw for the whole batch, whatever the chunks
        count = min(chunk_size, size - start)
        part = [
            x
            if dim is None
            else x[(slice(None),) * (dim % x.ndim) + (slice(start, start + count),)]
            for x, dim in zip(tensors, dims, strict=True)
        ]
        chunks.append(_map(func, part, dims, treedef, kwargs, count, out_dims, randomness))
        parts.append(part)
    # A mapped argument that some chunk changed in place (its slice, written back by
    # ``_map``, has a new version) gets every chunk's slice back, in one in-place update.
    for index, (x, dim) in enumerate(zip(tensors, dims, strict=True)):
        if dim is not None and any(part[index]._version for part in parts):
            joined_slices = concat([part[index] for part in parts], axis=dim)
            _write_back(func, x, joined_slices, _where("args", treedef.unflatten(tensors), index))
    first, out_def = tree_flatten(chunks[0], is_leaf=_none_is_leaf)
    per_chunk = [tree_flatten(chunk, is_leaf=_none_is_leaf)[0] for chunk in chunks]
    if isinstance(out_dims, int | None):
        dims_out: list[Any] = [out_dims] * len(first)
    else:
        dims_out = broadcast_prefix(out_dims, chunks[0], is_leaf=_none_is_leaf)
    joined = []
    for k, dim in enumerate(dims_out):
        if dim is None:
            joined.append(first[k])
        else:
            joined.append(concat([leaves[k] for leaves in per_chunk], axis=dim))
    return out_def.unflatten(joined)


def _arrays(tree: Any) -> Any:
    """Outputs as backend arrays, for arguments that held no Tensor."""
    leaves, treedef = tree_flatten(tree, is_leaf=_none_is_leaf)
    return treedef.unflatten(leaf.array if isinstance(leaf, Tensor) else leaf for leaf in leaves)
