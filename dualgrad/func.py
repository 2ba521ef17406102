"""Function transforms, with JAX's and ``torch.func``'s conventions.

``grad``, ``value_and_grad``, ``vjp`` and ``jacrev`` run ``f`` on the tape (reverse mode);
``jvp`` and ``jacfwd`` push dual numbers through it (forward mode). The Jacobians take one
vectorized pass: a block of identity tangents (or cotangents) flows through the
batch-polymorphic rules at once, with no Python loop over rows. ``hessian`` is forward over
reverse, ``jacfwd(jacrev(f))``; ``hvp`` is reverse over reverse (the gradient's graph pulled
back along the tangents), which measured cheaper than a ``jvp`` of the gradient.

Arguments, tangents, cotangents, outputs and auxiliary data are pytrees (``dualgrad.tree_util``):
nested tuples, lists, dicts and named tuples whose leaves are Tensors, backend arrays or
numbers. Results have the structure of what they derive from: ``grad`` of a function of a dict
returns a dict; a Jacobian nests the output's structure outside and the argument's inside, as
in JAX. When no argument holds a Tensor, the results hold backend arrays. Transforms nest:
inside another transform (or when the inputs require grad or carry tangents) the results stay
differentiable.

Which mode pays: reverse costs one pass per output element, forward one per input element.
``jacrev`` suits wide-to-narrow functions (many inputs, few outputs, like a loss), ``jacfwd``
narrow-to-wide ones.

``functional_call`` and ``stack_module_state`` turn a Module's parameters into a pytree these
transforms take; ``checkpoint`` (``remat``) recomputes a function's activations in the backward
pass instead of keeping them.
"""

from __future__ import annotations

__all__ = [
    "checkpoint",
    "functional_call",
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacrev",
    "jvp",
    "remat",
    "stack_module_state",
    "value_and_grad",
    "vjp",
    "vmap",
]

import contextlib
import functools
import inspect
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from . import _batching, config, forward_ad
from . import functions as _functions
from ._dispatch import into_level, lift, move, out_of_level
from ._functional_call import functional_call, stack_module_state
from ._vmap import vmap
from .autograd import engine
from .autograd.grad_mode import enable_grad, is_grad_enabled
from .backends import backend_for_array
from .functions.creation import asarray
from .tensor import Tensor
from .tree_util import (
    PyTreeDef,
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_leaves,
    tree_map,
)
from .utils import checkpoint as _checkpoint

_depth: ContextVar[int] = ContextVar("dualgrad_transform_depth", default=0)


@contextlib.contextmanager
def _inside_transform() -> Iterator[None]:
    token = _depth.set(_depth.get() + 1)
    try:
        yield
    finally:
        _depth.reset(token)


def _positions(
    argnums: int | Sequence[int], nargs: int, name: str
) -> tuple[tuple[int, ...], bool]:
    single = isinstance(argnums, int)
    positions = (argnums,) if single else tuple(argnums)  # type: ignore[arg-type]
    for i in positions:
        if not isinstance(i, int) or not -nargs <= i < nargs:
            msg = f"{name}: argnums {argnums} is out of range for {nargs} positional arguments"
            raise ValueError(msg)
    normalized = tuple(i % nargs for i in positions)
    if len(set(normalized)) != len(normalized):
        msg = f"{name}: argnums {argnums} names an argument twice; name each once"
        raise ValueError(msg)
    return normalized, single


# --- leaves ----------------------------------------------------------------------------------
_NUMBERS = (int, float, complex)


def _is_array(value: Any) -> bool:
    """Whether ``value`` is a backend array (NumPy, JAX, ...), not a Tensor or plain data."""
    if isinstance(value, (Tensor, str, *_NUMBERS)) or value is None:
        return False
    return backend_for_array(value) is not None


def _passed(tree: Any) -> Any:
    """An argument that is not differentiated, as ``f`` sees it: arrays wrapped as Tensors."""
    if isinstance(tree, Tensor):
        return tree
    return tree_map(lambda leaf: asarray(leaf) if _is_array(leaf) else leaf, tree)


def _all_raw(args: Sequence[Any]) -> bool:
    """Whether no argument holds a Tensor (results are then handed back as backend arrays)."""
    if any(isinstance(arg, Tensor) for arg in args):
        return False
    return not any(isinstance(leaf, Tensor) for leaf in tree_leaves(args))


def _input_leaf(leaf: Any, where: Callable[[], str], name: str) -> Tensor:
    """A leaf of a differentiated argument as a floating Tensor, or a TypeError naming it."""
    if isinstance(leaf, Tensor):
        tensor = leaf
    elif isinstance(leaf, _NUMBERS) or _is_array(leaf):
        tensor = asarray(leaf)
    else:
        msg = (
            f"{name}: {where()} is a {type(leaf).__name__}, not an array or a number; the "
            "arguments a transform differentiates are pytrees (tuples, lists, dicts, named "
            "tuples) of Tensors, arrays and numbers: pass other values in an argument that is "
            "not differentiated (argnums) or through a closure"
        )
        raise TypeError(msg)
    dtype = tensor.dtype
    if not dtype.is_inexact:
        msg = (
            f"{name}: can only differentiate with respect to floating point or complex "
            f"tensors, got {dtype} at {where()}"
        )
        raise TypeError(msg)
    if dtype.is_complex and name in _REAL_ONLY:
        msg = (
            f"{name}: expected real inputs, got a {dtype.name} tensor at {where()}; "
            "differentiate the real and imaginary parts as separate real inputs, or use vjp "
            "or jvp (as torch.func, which refuses complex Jacobians too)"
        )
        raise TypeError(msg)
    return tensor


# The Jacobian transforms take real inputs and outputs only, as torch.func's: of a function
# that is not holomorphic, one complex matrix cannot hold the derivative.
_REAL_ONLY = frozenset({"jacrev", "jacfwd", "hessian", "hvp"})


def _at_current_level(x: Tensor) -> Tensor:
    """``x`` lifted to the innermost vmap level open here, if it comes from outside it.

    A transform inside vmap differentiates per example: an unmapped argument (a model's
    parameters, with ``in_dims=None``) must become a value of the level before it becomes a
    differentiation leaf, so that its derivative is one per example, not summed over the batch.
    """
    return _at_level(x, _batching.current_levels())


def _at_level(x: Tensor, levels: Sequence[Any]) -> Tensor:
    """``_at_current_level`` with the open levels looked up once for several leaves."""
    if levels and x._backend is not levels[-1] and _batching.below(x._backend, levels[-1]):
        return lift(x, levels[-1])
    return x


def _named_path(names: Callable[[int], str], k: int, tree: Any, index: int) -> str:
    """Where leaf number ``index`` of differentiated argument ``k`` is, for an error."""
    return f"{names(k)}{_path_of(tree, index)}"


def _path_of(tree: Any, index: int) -> str:
    """The key path of ``tree``'s leaf number ``index``, as Python would index it."""
    return keystr(tree_flatten_with_path(tree)[0][index][0])


def _output_leaves(out: Any, name: str) -> tuple[list[Tensor], PyTreeDef]:
    """The leaves of ``f``'s output as floating Tensors (arrays and numbers as constants)."""
    raw_leaves, treedef = tree_flatten(out)
    leaves = []
    for index, leaf in enumerate(raw_leaves):
        path = functools.partial(_path_of, out, index)
        if not isinstance(leaf, Tensor):
            if not (isinstance(leaf, _NUMBERS) or _is_array(leaf)):
                msg = (
                    f"{name}: the function's output{path()} is a {type(leaf).__name__}, "
                    "not an array; return other values as auxiliary data (has_aux=True)"
                )
                raise TypeError(msg)
            leaf = asarray(leaf)
        if not leaf.dtype.is_inexact:
            msg = (
                f"{name}: the function's output{path()} has dtype {leaf.dtype}; only "
                "floating point and complex outputs have derivatives (return others as "
                "auxiliary data, has_aux=True)"
            )
            raise TypeError(msg)
        if leaf.dtype.is_complex and name in _REAL_ONLY:
            msg = (
                f"{name}: the function's output{path()} is complex ({leaf.dtype.name}); "
                "return its real and imaginary parts as separate real outputs, or use vjp or jvp"
            )
            raise TypeError(msg)
        leaves.append(leaf)
    return leaves, treedef


class _Differentiated:
    """The differentiated arguments of one call, flattened: their leaves as Tensors, and the
    structures to rebuild per-leaf results in."""

    def __init__(self, trees: Sequence[Any], names: Callable[[int], str], transform: str) -> None:
        self.treedefs: list[PyTreeDef] = []
        self.leaves: list[Tensor] = []
        levels = _batching.current_levels()
        for k, tree in enumerate(trees):
            leaves, treedef = tree_flatten(tree)
            self.treedefs.append(treedef)
            for index, leaf in enumerate(leaves):
                where = functools.partial(_named_path, names, k, tree, index)
                self.leaves.append(_at_level(_input_leaf(leaf, where, transform), levels))

    def rebuild(self, values: Sequence[Any]) -> list[Any]:
        """One pytree per argument, holding ``values`` (one per leaf, in order)."""
        trees, start = [], 0
        for treedef in self.treedefs:
            trees.append(treedef.unflatten(values[start : start + treedef.num_leaves]))
            start += treedef.num_leaves
        return trees


def _parameter_names(f: Callable[..., Any]) -> Callable[[int], str]:
    """Names ``f``'s positional parameters, for error messages (``args[i]`` when unknown)."""

    def name(index: int) -> str:
        try:
            parameters = list(inspect.signature(f).parameters.values())
        except (TypeError, ValueError):
            parameters = []
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        if index < len(parameters) and parameters[index].kind in positional:
            return parameters[index].name
        return f"args[{index}]"

    return name


def _split_arguments(
    f: Callable[..., Any], args: Sequence[Any], positions: tuple[int, ...], transform: str
) -> tuple[list[Any], _Differentiated]:
    """The arguments as ``f`` will see them, and the differentiated ones flattened."""
    call_args = [arg if i in positions else _passed(arg) for i, arg in enumerate(args)]
    names = _parameter_names(f)
    differentiated = _Differentiated(
        [args[i] for i in positions], lambda k: names(positions[k]), transform
    )
    return call_args, differentiated


def _finish(tree: Any, raw: bool, keep: bool) -> Any:
    """Results as handed back: detached unless they must stay differentiable, and backend
    arrays when the arguments held no Tensor (unless nested, where they must stay Tensors)."""
    if isinstance(tree, Tensor):
        return _finished(tree, raw, keep)
    return tree_map(functools.partial(_finished, raw=raw, keep=keep), tree)


def _finished(leaf: Any, raw: bool, keep: bool) -> Any:
    """One leaf of ``_finish``."""
    if not isinstance(leaf, Tensor) or keep:
        return leaf
    return leaf._array if raw else leaf._detached()


def _stays_differentiable(inputs: Sequence[Tensor]) -> bool:
    """Whether results must carry derivatives further: nested, or inputs that need them."""
    return _depth.get() > 0 or any(x._requires_grad or x._tangents for x in inputs)


def _fresh_leaves(inputs: Sequence[Tensor]) -> list[Tensor]:
    """One differentiation leaf per input: the input itself if it requires grad (its graph is
    kept), else a fresh leaf holding its value and tangents.

    A tensor that requires grad and sits at several places of the arguments gets an identity
    node per place, so that each place gets its own derivative, as separate leaves would.
    """
    count: dict[int, int] = {}
    for x in inputs:
        count[id(x)] = count.get(id(x), 0) + 1
    leaves = []
    for x in inputs:
        if not x._requires_grad:
            leaf = Tensor._wrap(x._array, x._backend)
            leaf._tangents = None if x._tangents is None else dict(x._tangents)
            leaf._requires_grad = True
            _TRANSFORM_LEAVES[id(leaf)] = leaf
        else:
            leaf = _functions.positive(x) if count[id(x)] > 1 else x
        leaves.append(leaf)
    return leaves


def _split_aux(result: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not isinstance(result, tuple) or len(result) != 2:
        msg = f"{name}(has_aux=True): the function must return a pair (output, aux)"
        raise TypeError(msg)
    return result


def _run_on_tape(
    f: Callable[..., Any],
    call_args: list[Any],
    kwargs: dict[str, Any],
    positions: tuple[int, ...],
    differentiated: _Differentiated,
) -> tuple[Any, list[Tensor], bool]:
    """Call ``f`` with fresh leaves for the differentiated arguments, recording the tape."""
    keep = _stays_differentiable(differentiated.leaves)
    outer_grad = is_grad_enabled()
    with _inside_transform(), config.use_mode("reverse"), enable_grad():
        leaves = _fresh_leaves(differentiated.leaves)
        for i, tree in zip(positions, differentiated.rebuild(leaves), strict=True):
            call_args[i] = tree
        out = f(*call_args, **{k: _passed(v) for k, v in kwargs.items()})
    if not keep and outer_grad:
        keep = _reaches_outside(out, leaves)
    return out, leaves, keep


# The leaves the transforms make (``_fresh_leaves``), by id: not the user's tensors.
_TRANSFORM_LEAVES: weakref.WeakValueDictionary[int, Tensor] = weakref.WeakValueDictionary()


def _reaches_outside(out: Any, leaves: Sequence[Tensor]) -> bool:
    """Whether ``out`` was computed from a tensor that requires grad and is neither one of
    ``leaves`` nor a leaf a transform made: a parameter the function reads from a closure or
    a module. Its derivatives must then stay differentiable in that tensor, as in torch.func
    (a gradient penalty backpropagates through ``grad`` of the critic into its weights)."""
    own = {id(leaf) for leaf in leaves}
    nodes = [t._node for t in tree_leaves(out) if isinstance(t, Tensor) and t._node is not None]
    seen = set()
    while nodes:
        node = nodes.pop()
        if node in seen:
            continue
        seen.add(node)
        for parent in getattr(node, "parents", ()):
            if isinstance(parent, Tensor):
                if id(parent) not in own and _TRANSFORM_LEAVES.get(id(parent)) is not parent:
                    return True
            elif parent is not None:
                nodes.append(parent)
    return False


def _gradients_of(
    out: Tensor, leaves: list[Tensor], cotangent: Any, keep: bool, *, batched: bool = False
) -> list[Tensor]:
    """d out / d leaves contracted with ``cotangent`` (zeros for leaves ``out`` ignores); None
    for a single-element real ``out``: the seed 1, made as ``backward()`` makes it (cheaper than
    ``ones_like``)."""
    if not out._requires_grad:
        results: dict[Any, Any] = {}
    else:
        results = engine.cotangents_of(out, cotangent, leaves, create_graph=keep, batched=batched)
    batch = cotangent.shape[: cotangent.ndim - out.ndim] if batched else ()
    grads = []
    for leaf in leaves:
        value = results.get(leaf._node if leaf._node is not None else leaf)
        if value is None:
            value = _functions.zeros_like(
                _functions.broadcast_to(leaf._detached(), batch + leaf.shape)
                if batch
                else leaf._detached()
            )
        grads.append(value if keep else value._detached())
    return grads


def _pulled_back(output: Tensor, leaves: list[Tensor], cotangent: Tensor, keep: bool) -> Any:
    """``_gradients_of`` for a cotangent that may be batched by vmap levels opened after
    ``output`` was computed (``vjp_fn`` called inside vmap): those levels' batch axes are
    moved out in front of the cotangent, pulled back as one block, and moved back in."""
    levels = []
    while cotangent._backend is not output._backend and _batching.depth(cotangent._backend):
        level = cotangent._backend
        if not _batching.below(output._backend, level):
            break
        cotangent = move(
            out_of_level, cotangent, {"level": level, "axis": -cotangent.ndim - 1}, level.base
        )
        levels.append(level)
    if not levels:
        return _gradients_of(output, leaves, cotangent, keep)
    grads = _gradients_of(output, leaves, cotangent, keep, batched=True)
    for level in reversed(levels):
        grads = [
            move(into_level, lift(g, level.base), {"level": level, "axis": -g.ndim}, level)
            for g in grads
        ]
    return grads


def _cast(t: Tensor, dtype: Any) -> Tensor:
    return t if t.dtype is dtype else t.astype(dtype)


def _scalar_output(out: Any, name: str) -> Tensor:
    if not isinstance(out, Tensor) and (isinstance(out, _NUMBERS) or _is_array(out)):
        out = asarray(out)
    if not isinstance(out, Tensor) or out.numel() != 1 or not out.dtype.is_floating_point:
        got = (
            f"{out.dtype} of shape {tuple(out.shape)}"
            if isinstance(out, Tensor)
            else type(out).__name__
        )
        msg = (
            f"{name}: the function must return a floating point scalar Tensor, got {got}; "
            "use jacrev or vjp for other outputs"
        )
        raise TypeError(msg)
    return out


def _basis_block(x: Tensor, total: int, offset: int) -> Tensor:
    """``x``'s rows of the identity over ``total`` elements: shape ``(total, *x.shape)``, ones
    where row ``offset + j`` meets ``x``'s element ``j`` (flat), zeros elsewhere."""
    namespace = x._backend.namespace
    dtype = x._backend.native_dtype(x.dtype)
    eye = namespace.eye(total, x.numel(), k=-offset, dtype=dtype)
    return _functions.reshape(Tensor._wrap(eye, x._backend), (total, *x.shape))


# --- reverse ---------------------------------------------------------------------------------
def value_and_grad(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """A function returning ``(f(*args), gradient of f at args)``; ``f`` must return a scalar.

    The gradient has the structure of the differentiated argument (a tuple of them with a
    tuple ``argnums``). With ``has_aux``, ``f`` returns ``(scalar, aux)`` and the first result
    is that pair.

    Example:
        >>> import dualgrad
        >>> dualgrad.value_and_grad(lambda x: (x ** 2).sum())(dualgrad.tensor([1.0, 2.0]))
        (tensor(5.), tensor([2., 4.]))
    """

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        positions, single = _positions(argnums, len(args), "value_and_grad")
        raw = _all_raw(args)
        call_args, differentiated = _split_arguments(f, args, positions, "grad")
        result, leaves, keep = _run_on_tape(f, call_args, kwargs, positions, differentiated)
        out, aux = _split_aux(result, has_aux, "grad")
        out = _scalar_output(out, "grad")
        grads = _gradients_of(out, leaves, None, keep)  # None: the seed 1 (a scalar output)
        # Finished leaf by leaf before the trees are built: no walk of the trees again.
        trees = differentiated.rebuild([_finished(g, raw, keep) for g in grads])
        gradient = trees[0] if single else tuple(trees)
        value_out = (out, aux) if has_aux else out
        return _finish(value_out, raw, keep), gradient

    return value_and_grad_f


def grad(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The gradient of a scalar function (with ``has_aux``: ``(gradient, aux)``).

    The gradient has the structure of the differentiated argument: a dict for a dict of
    parameters, a tuple of them with a tuple ``argnums``.

    Example:
        >>> import dualgrad
        >>> dualgrad.grad(lambda x: x ** 3)(dualgrad.tensor(2.0))
        tensor(12.)
        >>> dualgrad.grad(lambda p: (p["w"] * p["b"]).sum())(
        ...     {"w": dualgrad.tensor([1.0, 2.0]), "b": dualgrad.tensor(3.0)}
        ... )
        {'w': tensor([3., 3.]), 'b': tensor(3.)}
    """
    both = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        value, gradient = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return grad_f


def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(f(*primals), vjp_fn)``: ``vjp_fn(cotangent)`` gives each primal's cotangent.

    The cotangent has the structure of ``f``'s output; ``vjp_fn`` returns a tuple with one
    pytree per primal, of that primal's structure. ``vjp_fn`` can be called any number of
    times. With ``has_aux``, returns ``(output, vjp_fn, aux)``.

    Example:
        >>> import dualgrad
        >>> out, vjp_fn = dualgrad.vjp(dualgrad.sin, dualgrad.tensor([0.0, 1.0]))
        >>> vjp_fn(dualgrad.ones(2))
        (tensor([1.0000, 0.5403]),)
    """
    raw = _all_raw(primals)
    positions = tuple(range(len(primals)))
    differentiated = _Differentiated(primals, lambda k: f"primals[{k}]", "vjp")
    call_args = list(primals)
    result, leaves, keep = _run_on_tape(f, call_args, {}, positions, differentiated)
    out, aux = _split_aux(result, has_aux, "vjp")
    outputs, out_def = _output_leaves(out, "vjp")

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        cotangents, cotangent_def = tree_flatten(cotangent)
        if cotangent_def != out_def:
            msg = (
                f"vjp_fn: the cotangent has structure {cotangent_def} but the output has "
                f"{out_def}; pass one cotangent per output, in a pytree of the output's structure"
            )
            raise ValueError(msg)
        total: list[Tensor] | None = None
        for index, (output, cot) in enumerate(zip(outputs, cotangents, strict=True)):
            cot = asarray(cot)
            if cot.shape != output.shape:
                path = _path_of(cotangent, index)
                msg = (
                    f"vjp_fn: the cotangent{path} has shape {tuple(cot.shape)} "
                    f"but the output{path} has shape {tuple(output.shape)}"
                )
                raise ValueError(msg)
            grads = _pulled_back(output, leaves, cot, keep)
            total = grads if total is None else [a + b for a, b in zip(total, grads, strict=True)]
        if total is None:  # an output without leaves
            total = [_functions.zeros_like(leaf.detach()) for leaf in leaves]
        return tuple(differentiated.rebuild([_finished(g, raw, keep) for g in total]))

    results = (_finish(out, raw, keep), vjp_fn)
    return (*results, _finish(aux, raw, keep)) if has_aux else results


def jacrev(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The Jacobian by reverse mode: shape ``out.shape + x.shape``, one vectorized pass per
    output leaf.

    Structures nest as in JAX: the output's structure outside, the argument's inside (a tuple
    of arguments' with a tuple ``argnums``); a dict-to-dict function gives a dict of dicts.

    Example:
        >>> import dualgrad
        >>> dualgrad.jacrev(lambda x: x ** 2)(dualgrad.tensor([1.0, 2.0]))
        tensor([[2., 0.],
                [0., 4.]])
    """

    @functools.wraps(f)
    def jacrev_f(*args: Any, **kwargs: Any) -> Any:
        positions, single = _positions(argnums, len(args), "jacrev")
        raw = _all_raw(args)
        call_args, differentiated = _split_arguments(f, args, positions, "jacrev")
        result, leaves, keep = _run_on_tape(f, call_args, kwargs, positions, differentiated)
        out, aux = _split_aux(result, has_aux, "jacrev")
        outputs, out_def = _output_leaves(out, "jacrev")

        def jacobian_of(output: Tensor) -> Any:
            seeds = _basis_block(output, output.numel(), 0)
            blocks = _gradients_of(output, leaves, seeds, keep, batched=True)
            jacobians = differentiated.rebuild(
                [
                    _functions.reshape(block, output.shape + leaf.shape)
                    for block, leaf in zip(blocks, leaves, strict=True)
                ]
            )
            return jacobians[0] if single else tuple(jacobians)

        jacobian = out_def.unflatten(jacobian_of(output) for output in outputs)
        if has_aux:
            return _finish(jacobian, raw, keep), _finish(aux, raw, keep)
        return _finish(jacobian, raw, keep)

    return jacrev_f


# --- forward ---------------------------------------------------------------------------------
def _check_sequences(primals: Any, tangents: Any, name: str) -> None:
    for which, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, tuple | list):
            msg = f"{name}: {which} must be a tuple or a list, got {type(value).__name__}"
            raise TypeError(msg)
    if len(primals) != len(tangents):
        msg = f"{name}: got {len(primals)} primals but {len(tangents)} tangents"
        raise ValueError(msg)


def _tangent_leaves(
    tangents: Sequence[Any], differentiated: _Differentiated, name: str
) -> list[Tensor]:
    """The tangents' leaves as Tensors, checked against the primals' structures and shapes."""
    leaves: list[Tensor] = []
    for k, (tangent, primal_def) in enumerate(zip(tangents, differentiated.treedefs, strict=True)):
        values, tangent_def = tree_flatten(tangent)
        if tangent_def != primal_def:
            msg = (
                f"{name}: tangents[{k}] has structure {tangent_def} but primals[{k}] has "
                f"{primal_def}; give each primal a tangent of its structure"
            )
            raise ValueError(msg)
        for index, value in enumerate(values):
            t = asarray(value)
            shape = differentiated.leaves[len(leaves)].shape
            if t.shape != shape:
                msg = (
                    f"{name}: a tangent has shape {tuple(t.shape)} "
                    f"but its primal has {tuple(shape)} "
                    f"(at tangents[{k}]{_path_of(tangent, index)})"
                )
                raise ValueError(msg)
            leaves.append(_at_current_level(t))
    return leaves


def jvp(
    f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], has_aux: bool = False
) -> tuple[Any, ...]:
    """``(f(*primals), J @ tangents)`` by forward mode (dual numbers), in one pass.

    ``tangents`` has the structure of ``primals`` (one pytree per primal); the output's tangent
    has the structure of the output.

    Example:
        >>> import dualgrad
        >>> dualgrad.jvp(dualgrad.exp, (dualgrad.tensor(0.0),), (dualgrad.tensor(2.0),))
        (tensor(1.), tensor(2.))
    """
    _check_sequences(primals, tangents, "jvp")
    raw = _all_raw(primals)
    differentiated = _Differentiated(primals, lambda k: f"primals[{k}]", "jvp")
    directions = _tangent_leaves(tangents, differentiated, "jvp")
    inputs = differentiated.leaves
    with _inside_transform(), forward_ad.dual_level() as level:
        duals = [
            forward_ad.attach_tangent(x, level, t.astype(x.dtype))
            for x, t in zip(inputs, directions, strict=True)
        ]
        result = f(*differentiated.rebuild(duals))
        out, aux = _split_aux(result, has_aux, "jvp")
        outputs, out_def = _output_leaves(out, "jvp")
        pairs = [_unpack(output, level, batch=()) for output in outputs]
    keep = _stays_differentiable(inputs)
    if not keep and is_grad_enabled():  # a closure's parameter: see _reaches_outside
        keep = _reaches_outside(pairs, inputs)
    primal_out = out_def.unflatten(primal for primal, _ in pairs)
    tangent_out = out_def.unflatten(tangent for _, tangent in pairs)
    results = (_finish(primal_out, raw, keep), _finish(tangent_out, raw, keep))
    return (*results, _finish(aux, raw, keep)) if has_aux else results


def _unpack(out: Tensor, level: Any, batch: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """Primal and tangent of an output; zeros where no tangent flowed."""
    primal, tangent = forward_ad.unpack_dual(out, level=level)
    if tangent is None:
        detached = primal.detach()
        tangent = _functions.zeros_like(
            _functions.broadcast_to(detached, batch + primal.shape) if batch else detached
        )
    return primal, tangent


def jacfwd(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The Jacobian by forward mode: shape ``out.shape + x.shape``, in one vectorized pass.

    Every element of every differentiated leaf is seeded at once (a block of identity rows),
    so ``f`` runs once whatever ``argnums``. Structures nest as in ``jacrev`` and JAX: the
    output's structure outside, the argument's inside (a tuple of arguments' with a tuple
    ``argnums``).

    Example:
        >>> import dualgrad
        >>> dualgrad.jacfwd(lambda x: x ** 2)(dualgrad.tensor([1.0, 2.0]))
        tensor([[2., 0.],
                [0., 4.]])
    """

    @functools.wraps(f)
    def jacfwd_f(*args: Any, **kwargs: Any) -> Any:
        positions, single = _positions(argnums, len(args), "jacfwd")
        raw = _all_raw(args)
        call_args, differentiated = _split_arguments(f, args, positions, "jacfwd")
        inputs = differentiated.leaves
        keep = _stays_differentiable(inputs)
        sizes = [x.numel() for x in inputs]
        total = sum(sizes)
        offsets = [sum(sizes[:k]) for k in range(len(sizes))]
        with _inside_transform(), forward_ad.dual_level() as level:
            duals = [
                forward_ad.attach_tangent(x, level, _basis_block(x, total, offset))
                for x, offset in zip(inputs, offsets, strict=True)
            ]
            for i, tree in zip(positions, differentiated.rebuild(duals), strict=True):
                call_args[i] = tree
            result = f(*call_args, **{k: _passed(v) for k, v in kwargs.items()})
            out, aux = _split_aux(result, has_aux, "jacfwd")
            outputs, out_def = _output_leaves(out, "jacfwd")
            blocks = [_unpack(output, level, batch=(total,))[1] for output in outputs]
        if not keep and is_grad_enabled():  # a closure's parameter: see _reaches_outside
            keep = _reaches_outside(blocks, inputs)

        def jacobian_of(block: Tensor) -> Any:
            per_leaf = [
                _jacobian_of_block(block if n == total else block[offset : offset + n], x, keep)
                for x, n, offset in zip(inputs, sizes, offsets, strict=True)
            ]
            jacobians = differentiated.rebuild(per_leaf)
            return jacobians[0] if single else tuple(jacobians)

        jacobian = out_def.unflatten(jacobian_of(block) for block in blocks)
        if has_aux:
            return _finish(jacobian, raw, keep), _finish(aux, raw, keep)
        return _finish(jacobian, raw, keep)

    return jacfwd_f


def _jacobian_of_block(block: Tensor, x: Tensor, keep: bool) -> Tensor:
    """A tangent block ``(x.numel(), *out.shape)`` as a Jacobian ``out.shape + x.shape``."""
    moved = _functions.permute_dims(block, (*range(1, block.ndim), 0))
    jacobian = _functions.reshape(moved, block.shape[1:] + x.shape)
    return jacobian if keep else jacobian._detached()


def hessian(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The Hessian of a scalar function, forward over reverse: ``jacfwd(jacrev(f))``.

    For an argument that is a pytree, the result nests its structure twice, as in JAX:
    ``hessian(f)(params)[a][b]`` is the block of second derivatives in leaves ``a`` and ``b``.

    Example:
        >>> import dualgrad
        >>> dualgrad.hessian(lambda x: (x ** 3).sum())(dualgrad.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), H @ tangents)`` for a scalar ``f``, without forming the Hessian.

    ``tangents`` has the structure of ``primals``; the product has the structure of the
    primal (a tuple of them for several primals).

    Reverse over reverse, as PyTorch's double backward: the gradient is taken keeping its
    graph, then pulled back along ``tangents``. That walks the tape twice with plain arrays in
    the second walk, where forward over reverse would push a tangent through every rule of the
    first walk; for a loss like ``sum(log1p(exp(A @ x)))`` it costs one product with ``A`` per
    walk and per direction, as the hand-written Hessian-vector product does.

    Example:
        >>> import dualgrad
        >>> x = dualgrad.tensor([1.0, 2.0])
        >>> dualgrad.hvp(lambda x: (x ** 3).sum(), (x,), (dualgrad.ones(2),))
        (tensor(9.), tensor([ 6., 12.]))
    """
    _check_sequences(primals, tangents, "hvp")
    if not primals:
        msg = "hvp: got no primals; pass at least one, with one tangent each"
        raise ValueError(msg)
    raw = _all_raw(primals)
    differentiated = _Differentiated(primals, lambda k: f"primals[{k}]", "hvp")
    directions = _tangent_leaves(tangents, differentiated, "hvp")
    positions = tuple(range(len(primals)))
    out, leaves, keep = _run_on_tape(f, list(primals), {}, positions, differentiated)
    out = _scalar_output(out, "hvp")
    keep = keep or any(t._requires_grad or t._tangents for t in directions)
    grads = _gradients_of(out, leaves, None, keep=True)  # None: the seed 1 (a scalar output)
    if len(grads) == 1:
        (gradient,) = grads
        total = _gradients_of(gradient, leaves, _cast(directions[0], gradient.dtype), keep)
    else:
        # One pull-back of sum_j grad_j . t_j, rather than one walk per leaf.
        with config.use_mode("reverse"), enable_grad():
            products = [
                _functions.sum(gradient * _cast(t, gradient.dtype))
                for gradient, t in zip(grads, directions, strict=True)
            ]
            inner = functools.reduce(lambda a, b: a + b, products)
        total = _gradients_of(inner, leaves, _functions.ones_like(inner.detach()), keep)
    trees = differentiated.rebuild(total)
    product = trees[0] if len(primals) == 1 else tuple(trees)
    return _finish(out, raw, keep), _finish(product, raw, keep)


# --- checkpointing -----------------------------------------------------------------------------
def checkpoint(fun: Callable[..., Any], *, preserve_rng_state: bool = True) -> Callable[..., Any]:
    """``fun`` with its activations recomputed in the backward pass instead of kept, as JAX's
    ``jax.checkpoint`` (``jax.remat``).

    The checkpointed function returns what ``fun`` returns; its derivatives, by any transform
    or by ``backward()``, are ``fun``'s. Reverse mode then holds only its arguments and outputs
    until the backward pass, which reruns ``fun`` (with the same random draws, unless
    ``preserve_rng_state=False``) to get the rest back. Forward mode keeps no activations to
    begin with: there the checkpointed function is ``fun``. See
    ``dualgrad.utils.checkpoint.checkpoint`` for the PyTorch-style call.

    Example:
        >>> import dualgrad
        >>> layer = dualgrad.checkpoint(lambda x: dualgrad.tanh(x) * x)
        >>> dualgrad.grad(lambda x: layer(layer(x)).sum())(dualgrad.tensor([0.5, 1.0]))
        tensor([0.3816, 1.2875])
    """

    @functools.wraps(fun)
    def checkpointed(*args: Any, **kwargs: Any) -> Any:
        return _checkpoint._run(fun, args, kwargs, preserve_rng_state=preserve_rng_state)

    return checkpointed


remat = checkpoint
