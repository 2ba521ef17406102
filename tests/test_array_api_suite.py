"""The official conformance suite's expected failures (tests/array_api_expected_failures.txt):
a well-formed file that names tests of the vendored suite, and that CI runs the suite with."""

from __future__ import annotations

import re

from array_api_suite import EXPECTED_FAILURES, KINDS, ROOT, SUITE, groups


def test_every_expected_failure_is_in_a_group_with_a_kind_and_a_reason() -> None:
    found = groups()
    assert found, f"{EXPECTED_FAILURES.name} has no group"
    for group in found:
        assert group.kind in KINDS
        assert len(group.reason) > 20, group.reason  # a reason, not a word


def test_every_expected_failure_names_a_test_of_the_vendored_suite() -> None:
    for group in groups():
        for test_id in group.test_ids:
            path, _, rest = test_id.partition("::")
            function = rest.split("[", 1)[0].split("::")[-1]  # a method of a test class too
            source = SUITE / path
            assert source.is_file(), f"{test_id}: no file {path} in {SUITE.name}"
            assert re.search(rf"^\s*def {function}\(", source.read_text(), re.M), test_id


def test_ci_runs_the_suite_strictly_with_the_expected_failures() -> None:
    runner = (ROOT / ".ci" / "array-api-suite").read_text()
    assert f"tests/{EXPECTED_FAILURES.name}" in runner
    assert "xfail_strict=true" in runner
    assert "--max-examples=20" in runner and "--hypothesis-seed=0" in runner
    assert ".ci/array-api-suite" in (ROOT / ".ci" / "run").read_text()
