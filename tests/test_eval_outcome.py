"""``EvalOutcome``'s summaries for ``retrouve eval``: the unsupported queries in short and the
``--hits-json`` document."""

from __future__ import annotations

from typing import Any

import pytest

from retrouve.evaluation.runner import EvalOutcome, UnsupportedSummary


@pytest.mark.parametrize(("unsupported", "expected"), [
    ([], UnsupportedSummary(0, {}, [])),
    ([("q1", "vehicle", ["make"])], UnsupportedSummary(1, {"vehicle": 1}, ["make"])),
    ([("q1", "vehicle", ["model", "make"]), ("q2", "person", ["age"]),
      ("q3", "vehicle", ["make"])],
     UnsupportedSummary(3, {"person": 1, "vehicle": 2}, ["age", "make", "model"])),
])
def test_unsupported_summary(unsupported: list[tuple[str, str, list[str]]],
                             expected: UnsupportedSummary) -> None:
    outcome = EvalOutcome("set", unsupported=unsupported)
    summary = outcome.unsupported_summary()
    assert summary == expected
    assert list(summary.by_category) == sorted(summary.by_category)


@pytest.mark.parametrize(("hits", "expected"), [
    ({}, {"queries": []}),
    ({"q1": [{"track": 3}], "q2": []},
     {"queries": [{"id": "q1", "hits": [{"track": 3}]}, {"id": "q2", "hits": []}]}),
])
def test_hits_document(hits: dict[str, list[dict[str, Any]]], expected: dict[str, Any]) -> None:
    assert EvalOutcome("set", hits=hits).hits_document() == expected
