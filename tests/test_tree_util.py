"""Pytrees (dualgrad.tree_util): flattening, key paths and structures, compared with JAX's."""

from __future__ import annotations

from collections import OrderedDict, defaultdict, namedtuple

import pytest

from dualgrad import tree_util


@pytest.fixture
def jax():
    """JAX, the reference for pytrees (the comparisons are skipped without it)."""
    return pytest.importorskip("jax", reason="JAX is the reference: pip install 'dualgrad[jax]'")


Point = namedtuple("Point", "x y")

TREES = {
    "leaf": 3,
    "none": None,
    "empty_tuple": (),
    "list": [1, 2, 3],
    "nested": {"b": [1, (2, None)], "a": {"z": 3, "y": Point(4, 5)}},
    "ordered": OrderedDict([("z", 1), ("a", 2)]),
    "defaultdict": defaultdict(list, {"k": 1, "c": [2, 3]}),
    "namedtuple_of_dicts": Point({"w": 1}, [None, 2]),
    "one_tuple": (7,),
}


@pytest.mark.parametrize("name", TREES)
def test_leaves_come_in_jax_order(name, jax):
    tree = TREES[name]
    assert tree_util.tree_leaves(tree) == jax.tree_util.tree_leaves(tree)


@pytest.mark.parametrize("name", TREES)
def test_key_paths_are_written_as_jax_writes_them(name, jax):
    tree = TREES[name]
    ours, _ = tree_util.tree_flatten_with_path(tree)
    theirs, _ = jax.tree_util.tree_flatten_with_path(tree)
    assert [tree_util.keystr(path) for path, _ in ours] == [
        jax.tree_util.keystr(path) for path, _ in theirs
    ]


@pytest.mark.parametrize("name", TREES)
def test_unflatten_gives_back_the_tree_with_its_types(name):
    tree = TREES[name]
    leaves, treedef = tree_util.tree_flatten(tree)
    rebuilt = tree_util.tree_unflatten(treedef, leaves)
    assert rebuilt == tree
    assert type(rebuilt) is type(tree)
    assert treedef.num_leaves == len(leaves)


@pytest.mark.parametrize("name", TREES)
def test_structure_repr_matches_jax(name, jax):
    tree = TREES[name]
    assert repr(tree_util.tree_structure(tree)) == repr(jax.tree_util.tree_structure(tree))


def test_dict_structure_repr_matches_jax(jax):
    tree = {"b": [1, (2, None)], "a": (3,)}
    assert repr(tree_util.tree_structure(tree)) == repr(jax.tree_util.tree_structure(tree))


def test_dict_keeps_its_insertion_order_when_rebuilt():
    leaves, treedef = tree_util.tree_flatten({"b": 1, "a": 2})
    assert leaves == [2, 1]  # sorted, as in JAX
    assert list(tree_util.tree_unflatten(treedef, [20, 10])) == ["b", "a"]


def test_dicts_with_the_same_keys_have_one_structure():
    first = tree_util.tree_structure({"a": 1, "b": 2})
    second = tree_util.tree_structure({"b": 1, "a": 2})
    assert first == second
    assert hash(first) == hash(second)


def test_ordered_dict_order_is_part_of_its_structure():
    first = tree_util.tree_structure(OrderedDict([("a", 1), ("b", 2)]))
    second = tree_util.tree_structure(OrderedDict([("b", 1), ("a", 2)]))
    assert first != second


def test_containers_differ_from_each_other():
    assert tree_util.tree_structure((1, 2)) != tree_util.tree_structure([1, 2])
    assert tree_util.tree_structure(Point(1, 2)) != tree_util.tree_structure((1, 2))


def test_dict_keys_of_mixed_types_keep_insertion_order():
    leaves, treedef = tree_util.tree_flatten({"x": 1, 0: 2})
    assert leaves == [1, 2]
    assert tree_util.tree_unflatten(treedef, leaves) == {"x": 1, 0: 2}


def test_subclasses_of_containers_are_leaves():
    class Row(list):
        pass

    row = Row([1, 2])
    assert tree_util.tree_leaves([row]) == [row]


def test_is_leaf_stops_the_descent():
    tree = {"a": (1, 2), "b": [3]}
    leaves = tree_util.tree_leaves(tree, is_leaf=lambda node: isinstance(node, tuple))
    assert leaves == [(1, 2), 3]


def test_tree_map_over_several_trees():
    result = tree_util.tree_map(
        lambda a, b: a + b, {"w": 1, "b": [2, 3]}, {"w": 10, "b": [20, 30]}
    )
    assert result == {"w": 11, "b": [22, 33]}


def test_tree_map_takes_trees_the_first_is_a_prefix_of(jax):
    result = tree_util.tree_map(lambda a, b: (a, b), (1, 2), ([3, 4], {"q": 5}))
    assert result == jax.tree_util.tree_map(lambda a, b: (a, b), (1, 2), ([3, 4], {"q": 5}))


def test_tree_map_with_path_passes_key_paths():
    result = tree_util.tree_map_with_path(
        lambda path, leaf: f"{tree_util.keystr(path)}={leaf}", {"a": [1, 2]}
    )
    assert result == {"a": ["['a'][0]=1", "['a'][1]=2"]}


def test_tree_map_names_the_path_where_trees_differ():
    with pytest.raises(ValueError, match=r"rest\[0\]\['b'\] is a list of length 3 .* length 2"):
        tree_util.tree_map(lambda a, b: a, {"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2, 3]})


def test_tree_map_names_differing_dict_keys():
    with pytest.raises(ValueError, match=r"with keys \['b'\] where with keys \['a'\]"):
        tree_util.tree_map(lambda a, b: a, {"a": 1}, {"b": 1})


def test_tree_map_names_a_leaf_where_a_container_was_expected():
    with pytest.raises(ValueError, match=r"rest\[0\]\[1\] is a leaf of type int where a tuple"):
        tree_util.tree_map(lambda a, b: a, [1, (2, 3)], [1, 2])


def test_unflatten_with_the_wrong_number_of_leaves_raises():
    treedef = tree_util.tree_structure((1, (2, 3)))
    with pytest.raises(ValueError, match="has 3 leaves, got 2"):
        tree_util.tree_unflatten(treedef, [1, 2])


def test_flatten_up_to_gives_the_subtrees_at_the_leaves(jax):
    treedef = tree_util.tree_structure({"a": [1, 2], "b": None})
    subtrees = treedef.flatten_up_to({"a": [(1, 2), 3], "b": None})
    assert subtrees == jax.tree_util.tree_structure({"a": [1, 2], "b": None}).flatten_up_to(
        {"a": [(1, 2), 3], "b": None}
    )


@pytest.mark.parametrize(
    ("prefix", "full"),
    [
        ((0, 1), ({"a": 5, "b": 6}, [7])),
        (0, {"a": [1, 2], "b": (3,)}),
        ({"a": 1, "b": 2}, {"a": [5, 6], "b": {"c": 7}}),
    ],
)
def test_broadcast_matches_jax(prefix, full, jax):
    assert tree_util.tree_broadcast(prefix, full) == jax.tree.broadcast(prefix, full)


def test_broadcast_with_none_as_a_leaf_matches_jax(jax):
    # vmap's in_dims: None means "not batched" for a whole subtree.
    prefix, full = (1, None), ((2, 3), {"a": 4})
    ours = tree_util.tree_broadcast(prefix, full, is_leaf=lambda node: node is None)
    assert ours == jax.tree.broadcast(prefix, full, is_leaf=lambda node: node is None)


@pytest.mark.parametrize("is_leaf", [None, lambda node: node is None])
@pytest.mark.parametrize(
    ("prefix", "full"),
    [
        ((0, 1), ({"b": 5, "a": 6}, [7])),
        ((1, 0), ((2, 3), {"a": 4, "b": None})),
        ({"a": 1, "b": 2}, {"a": [5, 6], "b": {"c": 7}}),
    ],
)
def test_broadcast_prefix_gives_the_leaves_of_tree_broadcast(prefix, full, is_leaf):
    broadcast = tree_util.tree_broadcast(prefix, full, is_leaf=is_leaf)
    leaves = tree_util.tree_leaves(broadcast, is_leaf=is_leaf)
    assert tree_util.broadcast_prefix(prefix, full, is_leaf=is_leaf) == leaves
    assert len(leaves) == len(tree_util.tree_leaves(full, is_leaf=is_leaf))


def test_a_mismatch_names_the_key_path():
    with pytest.raises(ValueError, match=r"full_tree\[1\]\['b'\] is a leaf of type int where a"):
        tree_util.broadcast_prefix((0, {"a": 1, "b": (2,)}), ([1], {"a": 2, "b": 3}))
    with pytest.raises(ValueError, match=r"rest\[0\]\['a'\]\[1\] is a tuple of length 1 where"):
        tree_util.tree_map(lambda a, b: a, {"a": (1, (2, 3))}, {"a": (1, (2,))})


def test_register_pytree_node_makes_a_container():
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    tree_util.register_pytree_node(
        Pair, lambda p: ((p.a, p.b), "pair"), lambda aux, children: Pair(*children)
    )
    pairs, treedef = tree_util.tree_flatten_with_path([Pair(1, 2)])
    assert [leaf for _, leaf in pairs] == [1, 2]
    assert tree_util.keystr(pairs[1][0]) == "[0][<flat index 1>]"
    rebuilt = tree_util.tree_unflatten(treedef, [3, 4])
    assert (rebuilt[0].a, rebuilt[0].b) == (3, 4)
    with pytest.raises(ValueError, match="already registered"):
        tree_util.register_pytree_node(Pair, lambda p: ((), None), lambda aux, children: Pair())


def test_structure_counts_nodes_as_jax_does(jax):
    tree = {"a": [1, 2], "b": None}
    ours, theirs = tree_util.tree_structure(tree), jax.tree_util.tree_structure(tree)
    assert (ours.num_leaves, ours.num_nodes) == (theirs.num_leaves, theirs.num_nodes)
