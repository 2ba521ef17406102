"""Pytrees: nested tuples, lists, dicts and named tuples of arrays, as ``jax.tree_util`` has them.

The function transforms take and return pytrees: ``grad`` of a function of a dict of parameters
returns a dict of gradients. This module flattens a pytree into its leaves and a ``PyTreeDef``
(the structure without the leaves), rebuilds one from leaves, and maps functions over leaves.

Containers (the nodes) are ``tuple``, ``list``, ``dict``, ``OrderedDict``, ``defaultdict``,
named tuples, ``None`` (a node without children), and any type given to
``register_pytree_node``; everything else is a leaf, subclasses of the built-in containers
included. A dict's leaves come in sorted key order, as in JAX, so two dicts with the same keys
have one structure whatever their insertion order; rebuilding keeps the insertion order of the
dict that was flattened (``OrderedDict`` keeps its order throughout, and its order is part of
its structure). Each leaf has a key path, written by ``keystr`` as Python would index it:
``['layer'][1].weight``.

Example:
    >>> from dualgrad import tree_util
    >>> leaves, treedef = tree_util.tree_flatten({"b": [1, 2], "a": (3, None)})
    >>> leaves
    [3, 1, 2]
    >>> treedef
    PyTreeDef({'a': (*, None), 'b': [*, *]})
    >>> tree_util.tree_map(lambda x: 10 * x, {"b": [1, 2], "a": (3, None)})
    {'b': [10, 20], 'a': (30, None)}
"""

from __future__ import annotations

__all__ = [
    "DictKey",
    "FlattenedIndexKey",
    "GetAttrKey",
    "PyTreeDef",
    "SequenceKey",
    "broadcast_prefix",
    "keystr",
    "register_pytree_node",
    "tree_broadcast",
    "tree_flatten",
    "tree_flatten_with_path",
    "tree_leaves",
    "tree_map",
    "tree_map_with_path",
    "tree_structure",
    "tree_unflatten",
]

from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

IsLeaf = Callable[[Any], bool] | None


# --- key paths ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SequenceKey:
    """The position of a child in a tuple or list: ``[idx]``."""

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"


@dataclass(frozen=True)
class DictKey:
    """The key of a child in a dict: ``['key']``."""

    key: Hashable

    def __str__(self) -> str:
        return f"[{self.key!r}]"


@dataclass(frozen=True)
class GetAttrKey:
    """The field of a child in a named tuple: ``.name``."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"


@dataclass(frozen=True)
class FlattenedIndexKey:
    """The position of a child among the children of a registered type."""

    key: int

    def __str__(self) -> str:
        return f"[<flat index {self.key}>]"


KeyEntry = SequenceKey | DictKey | GetAttrKey | FlattenedIndexKey
KeyPath = tuple[KeyEntry, ...]


def keystr(path: Sequence[KeyEntry]) -> str:
    """A key path as Python would index it: ``keystr((DictKey('a'), SequenceKey(1)))`` is
    ``"['a'][1]"``."""
    return "".join(map(str, path))


# --- node types --------------------------------------------------------------------------------
class _NodeType(NamedTuple):
    """How one container type splits into children and comes back together.

    ``flatten(node) -> (children, aux, order)``: ``aux`` is what the structure compares (dict
    keys, a named tuple's class); ``order`` is what rebuilding needs beyond it and is not
    compared (a dict's insertion order). ``unflatten(aux, order, children)`` rebuilds.
    ``keys(aux, count)`` names the children.
    """

    name: str
    flatten: Callable[[Any], tuple[list[Any], Any, Any]]
    unflatten: Callable[[Any, Any, list[Any]], Any]
    keys: Callable[[Any, int], list[KeyEntry]]


def _sequence_keys(aux: Any, count: int) -> list[KeyEntry]:
    return [SequenceKey(i) for i in range(count)]


def _dict_keys(aux: Any, count: int) -> list[KeyEntry]:
    return [DictKey(key) for key in aux]


def _sorted_keys(mapping: dict[Any, Any]) -> tuple[Any, ...]:
    keys = tuple(mapping)
    try:
        return tuple(sorted(keys))
    except TypeError:  # keys of mixed types: their insertion order is the only order there is
        return keys


def _flatten_dict(mapping: dict[Any, Any]) -> tuple[list[Any], Any, Any]:
    keys = _sorted_keys(mapping)
    return [mapping[key] for key in keys], keys, tuple(mapping)


def _unflatten_dict(keys: tuple[Any, ...], order: tuple[Any, ...], children: list[Any]) -> Any:
    by_key = dict(zip(keys, children, strict=True))
    return {key: by_key[key] for key in order}


def _flatten_defaultdict(mapping: defaultdict[Any, Any]) -> tuple[list[Any], Any, Any]:
    children, keys, order = _flatten_dict(mapping)
    return children, (mapping.default_factory, keys), order


def _unflatten_defaultdict(aux: Any, order: tuple[Any, ...], children: list[Any]) -> Any:
    factory, keys = aux
    return defaultdict(factory, _unflatten_dict(keys, order, children))


_BUILTIN_NODES: dict[type, _NodeType] = {
    tuple: _NodeType(
        "tuple",
        lambda node: (list(node), None, None),
        lambda aux, order, children: tuple(children),
        _sequence_keys,
    ),
    list: _NodeType(
        "list",
        lambda node: (list(node), None, None),
        lambda aux, order, children: list(children),
        _sequence_keys,
    ),
    dict: _NodeType("dict", _flatten_dict, _unflatten_dict, lambda aux, n: _dict_keys(aux, n)),
    OrderedDict: _NodeType(
        "OrderedDict",
        lambda node: (list(node.values()), tuple(node), None),
        lambda aux, order, children: OrderedDict(zip(aux, children, strict=True)),
        _dict_keys,
    ),
    defaultdict: _NodeType(
        "defaultdict",
        _flatten_defaultdict,
        _unflatten_defaultdict,
        lambda aux, n: _dict_keys(aux[1], n),
    ),
    type(None): _NodeType(
        "None", lambda node: ([], None, None), lambda aux, order, children: None, _sequence_keys
    ),
}
_NAMEDTUPLE = _NodeType(
    "namedtuple",
    lambda node: (list(node), type(node), None),
    lambda aux, order, children: aux(*children),
    lambda aux, count: [GetAttrKey(name) for name in aux._fields],
)
_registry: dict[type, _NodeType] = dict(_BUILTIN_NODES)


def register_pytree_node(
    nodetype: type,
    flatten_func: Callable[[Any], tuple[Iterable[Any], Any]],
    unflatten_func: Callable[[Any, Iterable[Any]], Any],
) -> None:
    """Make ``nodetype`` a container: its instances are flattened into children, not leaves.

    Args:
        nodetype: the class (exactly: subclasses are not included).
        flatten_func: ``x -> (children, aux_data)``; ``aux_data`` is hashable, compared between
            structures, and handed back to ``unflatten_func``.
        unflatten_func: ``(aux_data, children) -> x``.

    Raises:
        ValueError: ``nodetype`` is already a container type.

    Example:
        >>> from dualgrad import tree_util
        >>> class Pair:
        ...     def __init__(self, a, b):
        ...         self.a, self.b = a, b
        >>> tree_util.register_pytree_node(
        ...     Pair, lambda p: ((p.a, p.b), None), lambda aux, children: Pair(*children)
        ... )
        >>> tree_util.tree_leaves([Pair(1, 2), 3])
        [1, 2, 3]
    """
    if nodetype in _registry:
        msg = f"register_pytree_node: {nodetype.__name__} is already registered as a pytree node"
        raise ValueError(msg)

    def flatten(node: Any) -> tuple[list[Any], Any, Any]:
        children, aux = flatten_func(node)
        return list(children), aux, None

    _registry[nodetype] = _NodeType(
        nodetype.__name__,
        flatten,
        lambda aux, order, children: unflatten_func(aux, children),
        lambda aux, count: [FlattenedIndexKey(i) for i in range(count)],
    )


def _node_type(value: Any) -> _NodeType | None:
    node_type = _registry.get(type(value))
    if node_type is None and isinstance(value, tuple) and hasattr(type(value), "_fields"):
        return _NAMEDTUPLE
    return node_type


# --- structures --------------------------------------------------------------------------------
class PyTreeDef:
    """The structure of a pytree: its containers without its leaves.

    Two structures are equal when they have the same containers, with the same keys (a dict's
    insertion order aside), and the same leaves' positions.
    """

    __slots__ = ("_aux", "_children", "_node", "_num_leaves", "_order")

    def __init__(
        self,
        node: _NodeType | None,
        aux: Any = None,
        order: Any = None,
        children: tuple[PyTreeDef, ...] = (),
    ) -> None:
        self._node = node  # None for a leaf
        self._aux = aux
        self._order = order
        self._children = children
        self._num_leaves = 1 if node is None else sum(c._num_leaves for c in children)

    @property
    def num_leaves(self) -> int:
        """How many leaves a pytree of this structure has."""
        return self._num_leaves

    @property
    def num_nodes(self) -> int:
        """How many nodes (containers and leaves) the structure has."""
        return 1 + sum(child.num_nodes for child in self._children)

    def is_leaf(self) -> bool:
        """Whether this is the structure of a single leaf."""
        return self._node is None

    def children(self) -> list[PyTreeDef]:
        """The structures of the top container's children."""
        return list(self._children)

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        """The pytree of this structure holding ``leaves`` (in flattening order).

        Raises:
            ValueError: the number of leaves is not ``num_leaves``.
        """
        leaves = list(leaves)
        if len(leaves) != self._num_leaves:
            msg = (
                f"tree_unflatten: the structure {self} has {self._num_leaves} leaves, "
                f"got {len(leaves)}"
            )
            raise ValueError(msg)
        if self._node is None:
            return leaves[0]
        return self._build(iter(leaves))

    def _build(self, leaves: Iterator[Any]) -> Any:
        children = [
            next(leaves) if child._node is None else child._build(leaves)
            for child in self._children
        ]
        return self._node.unflatten(self._aux, self._order, children)  # type: ignore[union-attr]

    def flatten_up_to(self, tree: Any, *, name: str = "tree") -> list[Any]:
        """The subtrees of ``tree`` where this structure has leaves (``tree`` has this
        structure, or this structure as a prefix).

        Args:
            tree: the pytree to split.
            name: how error messages call ``tree``'s root (its key paths follow).

        Raises:
            ValueError: ``tree`` does not have this structure as a prefix; the message names
                the key path where they differ.
        """
        subtrees: list[Any] = []
        if not self._matches(tree, subtrees):
            subtrees.clear()
            self._up_to(tree, (), subtrees, name)  # raises, naming the key path
        return subtrees

    def _matches(self, tree: Any, out: list[Any]) -> bool:
        """``_up_to`` without key paths: whether ``tree`` fits, its subtrees appended to
        ``out``; a mismatch is reported again by ``_up_to``, which names where."""
        if self._node is None:
            out.append(tree)
            return True
        node = _node_type(tree)
        if node is not self._node:
            return False
        children, aux, _ = node.flatten(tree)
        if aux != self._aux or len(children) != len(self._children):
            return False
        return all(
            child_def._matches(child, out)
            for child_def, child in zip(self._children, children, strict=True)
        )

    def _up_to(self, tree: Any, path: KeyPath, out: list[Any], name: str) -> None:
        if self._node is None:
            out.append(tree)
            return
        node = _node_type(tree)
        where = f"{name}{keystr(path)}"
        if node is not self._node:
            got = "a leaf" if node is None else f"a {node.name}"
            expected = self._node.name
            msg = f"{where} is {got} of type {type(tree).__name__} where a {expected} was expected"
            raise ValueError(msg)
        children, aux, _ = node.flatten(tree)
        if aux != self._aux or len(children) != len(self._children):
            msg = (
                f"{where} is a {node.name} {_describe(node, aux, len(children))} where "
                f"{_describe(node, self._aux, len(self._children))} was expected"
            )
            raise ValueError(msg)
        keys = node.keys(aux, len(children))
        for child_def, child, key in zip(self._children, children, keys, strict=True):
            child_def._up_to(child, (*path, key), out, name)

    def _key(self) -> tuple[Any, ...]:
        return (self._node, self._aux, tuple(child._key() for child in self._children))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PyTreeDef) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"PyTreeDef({self._show()})"

    def _show(self) -> str:
        node = self._node
        if node is None:
            return "*"
        shown = [child._show() for child in self._children]
        if node is _BUILTIN_NODES[type(None)]:
            return "None"
        if node.name == "tuple":
            return "(" + ", ".join(shown) + ("," if len(shown) == 1 else "") + ")"
        if node.name == "list":
            return "[" + ", ".join(shown) + "]"
        if node.name == "dict":
            return (
                "{" + ", ".join(f"{k!r}: {s}" for k, s in zip(self._aux, shown, strict=True)) + "}"
            )
        # The other containers as JAX shows them.
        aux = self._aux.__name__ if node is _NAMEDTUPLE else repr(self._aux)
        return f"CustomNode({node.name}[{aux}], [" + ", ".join(shown) + "])"


def _describe(node: _NodeType, aux: Any, count: int) -> str:
    if node.name in ("dict", "OrderedDict"):
        return f"with keys {list(aux)}"
    if node.name == "defaultdict":
        return f"with keys {list(aux[1])}"
    if node is _NAMEDTUPLE:
        return f"of type {aux.__name__}"
    if node.name in ("tuple", "list"):
        return f"of length {count}"
    return f"with metadata {aux!r} and {count} children"


_LEAF = PyTreeDef(None)


def _flatten(
    tree: Any, is_leaf: IsLeaf, path: KeyPath, leaves: list[Any], paths: list[KeyPath]
) -> PyTreeDef:
    node = None if is_leaf is not None and is_leaf(tree) else _node_type(tree)
    if node is None:
        leaves.append(tree)
        paths.append(path)
        return _LEAF
    children, aux, order = node.flatten(tree)
    keys = node.keys(aux, len(children))
    child_defs = tuple(
        _flatten(child, is_leaf, (*path, key), leaves, paths)
        for child, key in zip(children, keys, strict=True)
    )
    return PyTreeDef(node, aux, order, child_defs)


def _flatten_leaves(tree: Any, is_leaf: IsLeaf, leaves: list[Any]) -> PyTreeDef:
    """``_flatten`` without key paths: the transforms flatten their arguments and results on
    every call, and a path is only wanted when an error names one."""
    node = None if is_leaf is not None and is_leaf(tree) else _node_type(tree)
    if node is None:
        leaves.append(tree)
        return _LEAF
    return _flatten_node(tree, node, is_leaf, leaves)


def _flatten_node(tree: Any, node: _NodeType, is_leaf: IsLeaf, leaves: list[Any]) -> PyTreeDef:
    children, aux, order = node.flatten(tree)
    child_defs = []
    for child in children:
        child_node = None if is_leaf is not None and is_leaf(child) else _node_type(child)
        if child_node is None:  # a leaf, taken here rather than in a call of its own
            leaves.append(child)
            child_defs.append(_LEAF)
        else:
            child_defs.append(_flatten_node(child, child_node, is_leaf, leaves))
    return PyTreeDef(node, aux, order, tuple(child_defs))


# --- functions ---------------------------------------------------------------------------------
def tree_flatten(tree: Any, is_leaf: IsLeaf = None) -> tuple[list[Any], PyTreeDef]:
    """The leaves of ``tree`` (in order: dicts by sorted key) and its structure.

    Args:
        tree: a pytree.
        is_leaf: a predicate: a subtree for which it returns True is taken as a leaf.

    Example:
        >>> from dualgrad import tree_util
        >>> tree_util.tree_flatten([1, (2, None)])
        ([1, 2], PyTreeDef([*, (*, None)]))
    """
    leaves: list[Any] = []
    treedef = _flatten_leaves(tree, is_leaf, leaves)
    return leaves, treedef


def tree_flatten_with_path(
    tree: Any, is_leaf: IsLeaf = None
) -> tuple[list[tuple[KeyPath, Any]], PyTreeDef]:
    """Like ``tree_flatten``, each leaf paired with its key path.

    Example:
        >>> from dualgrad import tree_util
        >>> pairs, _ = tree_util.tree_flatten_with_path({"w": [1, 2]})
        >>> [(tree_util.keystr(path), leaf) for path, leaf in pairs]
        [("['w'][0]", 1), ("['w'][1]", 2)]
    """
    leaves: list[Any] = []
    paths: list[KeyPath] = []
    treedef = _flatten(tree, is_leaf, (), leaves, paths)
    return list(zip(paths, leaves, strict=True)), treedef


def tree_leaves(tree: Any, is_leaf: IsLeaf = None) -> list[Any]:
    """The leaves of ``tree``, in flattening order."""
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: IsLeaf = None) -> PyTreeDef:
    """The structure of ``tree``."""
    return tree_flatten(tree, is_leaf)[1]


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """The pytree of structure ``treedef`` holding ``leaves``.

    Raises:
        ValueError: the number of leaves does not match the structure.
    """
    return treedef.unflatten(leaves)


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any, is_leaf: IsLeaf = None) -> Any:
    """``f`` applied to each leaf of ``tree`` (and the matching subtrees of ``rest``), in a
    pytree of ``tree``'s structure.

    Each tree of ``rest`` has ``tree``'s structure, or ``tree``'s structure as a prefix (then
    ``f`` receives its subtrees where ``tree`` has leaves).

    Raises:
        ValueError: a tree of ``rest`` differs from ``tree``; the message names the key path.

    Example:
        >>> from dualgrad import tree_util
        >>> params = {"w": 1.0, "b": 2.0}
        >>> grads = {"w": 0.5, "b": -1.0}
        >>> tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
        {'w': 0.95, 'b': 2.1}
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = _flattened_up_to(treedef, rest)
    return treedef.unflatten(f(*xs) for xs in zip(leaves, *others, strict=True))


def tree_map_with_path(
    f: Callable[..., Any], tree: Any, *rest: Any, is_leaf: IsLeaf = None
) -> Any:
    """Like ``tree_map``, with each leaf's key path as ``f``'s first argument."""
    pairs, treedef = tree_flatten_with_path(tree, is_leaf)
    others = _flattened_up_to(treedef, rest)
    return treedef.unflatten(
        f(path, leaf, *xs) for (path, leaf), *xs in zip(pairs, *others, strict=True)
    )


def _flattened_up_to(treedef: PyTreeDef, rest: tuple[Any, ...]) -> list[list[Any]]:
    return [
        treedef.flatten_up_to(other, name=f"tree_map: rest[{i}]") for i, other in enumerate(rest)
    ]


def tree_broadcast(prefix_tree: Any, full_tree: Any, is_leaf: IsLeaf = None) -> Any:
    """``prefix_tree`` with each of its leaves repeated over the matching subtree of
    ``full_tree``: a pytree of ``full_tree``'s structure.

    This is how a per-argument option (``vmap``'s ``in_dims``) given once for a whole subtree
    reaches every leaf of it.

    Raises:
        ValueError: ``prefix_tree``'s structure is not a prefix of ``full_tree``'s.

    Example:
        >>> from dualgrad import tree_util
        >>> tree_util.tree_broadcast((0, 1), ({"a": 5, "b": 6}, [7]))
        ({'a': 0, 'b': 0}, [1])
    """
    prefix_leaves, prefix_def = tree_flatten(prefix_tree, is_leaf)
    subtrees = prefix_def.flatten_up_to(full_tree, name="tree_broadcast: full_tree")
    return prefix_def.unflatten(
        tree_map(lambda _, value=value: value, subtree, is_leaf=is_leaf)
        for value, subtree in zip(prefix_leaves, subtrees, strict=True)
    )


def broadcast_prefix(prefix_tree: Any, full_tree: Any, is_leaf: IsLeaf = None) -> list[Any]:
    """The leaves of ``tree_broadcast(prefix_tree, full_tree)``, without building that tree:
    one per leaf of ``full_tree``, in flattening order.

    Raises:
        ValueError: ``prefix_tree``'s structure is not a prefix of ``full_tree``'s.

    Example:
        >>> from dualgrad import tree_util
        >>> tree_util.broadcast_prefix((0, 1), ({"a": 5, "b": 6}, [7]))
        [0, 0, 1]
    """
    prefix_leaves, prefix_def = tree_flatten(prefix_tree, is_leaf)
    subtrees = prefix_def.flatten_up_to(full_tree, name="broadcast_prefix: full_tree")
    leaves: list[Any] = []
    for value, subtree in zip(prefix_leaves, subtrees, strict=True):
        leaves.extend([value] * len(tree_leaves(subtree, is_leaf)))
    return leaves
