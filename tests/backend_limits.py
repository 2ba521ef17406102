"""What a backend cannot do, and why: the one table the tests consult.

``tests/conftest.py`` reads it when the tests are collected: a test parametrized by a backend
whose id matches a limit of that backend is marked ``xfail`` with the limit's reason and not run
(these are library limits, not dualgrad bugs; running them would only spend CI time). Patterns
are ``fnmatch`` patterns over the test id without the backend's part: for the operator table's
checks that is the variant id (``det-3x3``, ``getitem-4x5-key=(1,mask5)``); ``tests`` narrows a
limit to some test functions.

Beside the limits, ``COST`` says which backends run only a share of the operator table in the
default run, and why; ``DUALGRAD_TEST_ALL_VARIANTS=1`` runs all of it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """One thing a backend's library cannot do, the tests it takes out, and the reason."""

    backend: str
    patterns: tuple[str, ...]
    reason: str
    tests: tuple[str, ...] = ()  # test functions it applies to; empty: every test

    def covers(self, backend: str, test: str, test_id: str) -> bool:
        if backend != self.backend or (self.tests and test not in self.tests):
            return False
        return any(fnmatch.fnmatchcase(test_id, pattern) for pattern in self.patterns)


LIMITS = (
    # --- dask: dask.array's linear algebra is built for tall-and-skinny 2-D arrays ----------
    Limit(
        "dask",
        ("det-*", "slogdet_*", "eigh_*", "eigvalsh-*"),
        "dask.array.linalg has no det, slogdet, eigh or eigvalsh (AttributeError)",
    ),
    Limit(
        "dask",
        (
            "inv-0x2x2",
            "inv-2x3x3",
            "solve-2x3x3,*",
            "cholesky-2x3x3",
            "cholesky-complex-2x3x3",
            "qr_*-2x3x2",
            "svd_*-2x3x2",
            "svdvals-2x3x2",
        ),
        "dask.array.linalg factorizes one 2-D matrix at a time ('Dimension must be 2 to "
        "perform lu decomposition'): stacks of matrices fail",
    ),
    Limit(
        "dask",
        ("solve-*",),
        "dask.array.linalg's solve takes one 2-D matrix and a 1-D or 2-D right-hand side ('b "
        "must be 1 or 2 dimensional'): the checks that stack tangents or cotangents on a new "
        "axis fail (the random programs do in forward mode)",
        tests=(
            "test_batched_cotangents",
            "test_batched_tangents",
            "test_forward_and_reverse_mode_agree",
            "test_random_programs_match_finite_differences",
        ),
    ),
    Limit(
        "dask",
        ("eigh", "matrix_norm-nuc", "matrix_norm-2"),
        "dask.array.linalg has no eigh or eigvalsh (AttributeError), and its svd takes one 2-D "
        "matrix at a time ('Array must be 2D'), where these tests take the singular-value "
        "norms of a stack",
        tests=(
            "test_decomposition_gradients_match_direct_formula",
            "test_decomposition_compositions_agree_in_both_modes",
            "test_composite_gradients",
            "test_composite_forward_matches_numpy",
        ),
    ),
    Limit(
        "dask",
        ("logdet",),
        "dask.array.linalg has no slogdet (AttributeError)",
        tests=("test_decomposition_gradients_match_direct_formula",),
    ),
    Limit(
        "dask",
        ("*",),
        "dask.array.linalg has no eigh (AttributeError)",
        tests=("test_eigenvector_sign_invariant_function_matches_pytorch",),
    ),
    # --- dask: checks that would read values ---------------------------------------------------
    Limit(
        "dask",
        ("*",),
        "checking label ranges and probabilities in [0, 1] would compute the values, so lazy "
        "backends skip these checks and bad values pass unnoticed until computed",
        tests=(
            "test_binary_cross_entropy_rejects_inputs_outside_unit_interval",
            "test_cross_entropy_rejects_out_of_range_targets",
        ),
    ),
    # --- dask: shapes that depend on values, and fancy indexing ------------------------------
    Limit(
        "dask",
        ("getitem-*mask*", "index_add-*mask*"),
        "a boolean mask's result has as many elements as the mask holds True: unknown to a lazy "
        "library until computed (dualgrad raises NotImplementedError saying so)",
    ),
    Limit(
        "dask",
        ("getitem-*idx*", "index_add-*idx*", "getitem"),
        "dask.array indexes with one integer array at a time ('Don't yet support nd fancy "
        "indexing'); several in one key, or one of two dimensions, fail",
    ),
    Limit(
        "dask",
        ("repeat-counts", "mask"),
        "repeat with counts held in a tensor, and index_put with a boolean mask, give shapes or "
        "positions that depend on the values (dualgrad raises NotImplementedError saying so)",
    ),
    Limit(
        "dask",
        ("nonzero-*",),
        "nonzero's result has as many elements as its input has nonzero values: Dask gives "
        "each axis's positions an unknown (nan) length and cannot stack those of a 2-D array "
        "('Stacked arrays must have the same shape'); dualgrad.nonzero raises "
        "NotImplementedError on lazy backends",
    ),
    Limit(
        "dask",
        ("unique_*",),
        "the unique_* primitives give arrays of unknown (nan) length on Dask, which the later "
        "steps of a random program cannot broadcast or index; dualgrad's unique_* functions "
        "raise NotImplementedError on lazy backends",
        tests=("test_random_programs_match_finite_differences",),
    ),
    Limit(
        "dask",
        ("*",),
        "dualgrad raises NotImplementedError for a boolean mask on a lazy backend",
        tests=("test_getitem_with_bool_mask",),
    ),
    Limit(
        "dask",
        ("take_along_axis*", "sort*", "integer-arrays"),
        "take_along_axis, sort and index_put with integer arrays index with several integer "
        "arrays at once, which dask.array does not support ('Don't yet support nd fancy "
        "indexing')",
    ),
    Limit(
        "dask",
        ("*",),
        "repeated integer indices of index_put index with several integer arrays at once "
        "('Don't yet support nd fancy indexing')",
        tests=("test_index_put_repeated_indices_gradients",),
    ),
    # --- dask: long iterative loops and Dask's own reference cycles ------------------------
    Limit(
        "dask",
        ("06_linear_regression",),
        "the example's 1,000 gradient-descent epochs build one graph, each epoch's parameters "
        "on the last's, since dualgrad never computes by itself; Dask copies every ancestor's "
        "layers into each new array, so building costs grow with the square of the epochs and "
        "1,000 run past the test's 120 s limit. A Dask user persists the "
        "parameters each epoch, which the PyTorch tutorial's code has no place for: "
        "test_backend_dask.py trains that way",
        tests=("test_example_prints_what_pytorch_prints", "test_example_runs_in_forward_mode_too"),
    ),
    Limit(
        "dask",
        ("*",),
        "Dask's graph building leaves reference cycles of its own (each elementwise operation "
        "inspects the signature of a builtin such as operator.mul, which makes a class in a "
        "cycle; Array.__dask_keys__ is a recursive closure), so no collection can find zero; "
        "test_backend_dask.py checks that the tape still frees itself by reference counting "
        "and that no cycle holds an object of dualgrad's",
        tests=(
            "test_graph_is_freed_by_reference_counting",
            "test_backward_creates_no_reference_cycles",
        ),
    ),
)


@dataclass(frozen=True)
class Cost:
    """A backend whose operator-table checks run on one variant per primitive by default."""

    backend: str
    reason: str


COST = (
    Cost(
        "dask",
        "every check builds and schedules Dask graphs, about 3 times the CPU time of the same "
        "check on NumPy: the whole table would add about 3 minutes to a 2-core CI run, the "
        "first variant of each primitive (every rule still runs on Dask arrays) about 1",
    ),
)


def limit_reason(backend: str, test: str, test_id: str) -> str | None:
    """The reason ``backend`` cannot run this test, or None when it can."""
    for limit in LIMITS:
        if limit.covers(backend, test, test_id):
            return f"{backend}: {limit.reason}"
    return None


def cost_reason(backend: str) -> str | None:
    """Why ``backend`` runs one variant per primitive by default, or None when it runs all."""
    for cost in COST:
        if cost.backend == backend:
            return f"{backend}: {cost.reason}; DUALGRAD_TEST_ALL_VARIANTS=1 runs every variant"
    return None
