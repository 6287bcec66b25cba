"""Plate patterns: parsing, folding, tolerant matching, LIKE prefilter (pure, table-driven)."""

from __future__ import annotations

import re

import pytest

from retrouve.domain import PlateRead
from retrouve.errors import QueryError
from retrouve.search.plate_pattern import (
    CONFUSION_CLASSES,
    PlatePattern,
    explain_read,
    fold,
    match_read,
    rank_plates,
    tolerance,
)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("FG-123-AB", "FG123AB"),
        ("fg 123 ab", "FG123AB"),
        ("fg.123.ab", "FG123AB"),
        ("FG*", "FG*"),
        ("**75", "*75"),
        ("*12*", "*12*"),
        ("2mf?746", "2MF?746"),
        ("  ab - ? - 1  ", "AB?1"),
    ],
)
def test_parse(text: str, tokens: str) -> None:
    assert PlatePattern.parse(text).tokens == tokens


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("--", "no letter or digit"),
        ("*", "no letter or digit"),
        ("??", "no letter or digit"),
        ("AB_123", "unexpected character"),
        ("AB%", "unexpected character"),
        ("AB'; DROP", "unexpected character"),
        ("AB/12", "unexpected character"),
    ],
)
def test_parse_rejects(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        PlatePattern.parse(text)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("FG123AB", "F612348"),
        ("odq0", "0000"),
        ("IL1", "111"),
        ("SZ5T7", "52577"),
        ("UVW", "UUW"),
        ("XKM", "XKM"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold(folded) == folded  # representatives fold to themselves


def test_confusion_classes_are_a_partition() -> None:
    chars = "".join(CONFUSION_CLASSES)
    assert len(chars) == len(set(chars))


@pytest.mark.parametrize(
    ("pattern", "plate", "expected"),
    [
        # Exact patterns match the whole plate.
        ("FG123AB", "FG123AB", 0.0),
        ("FG-123-AB", "FG123AB", 0.0),
        ("FG123AB", "F6123AB", 0.25),  # one confusion
        ("FG123AB", "F6I23A8", 0.75),  # three confusions
        ("FG123AB", "FG128AB", 1.0),  # one real error
        ("FG123AB", "FG12AB", 1.0),  # one missing
        ("FG123AB", "FG1234AB", 1.0),  # one extra
        ("FG123AB", "FG128A8", 1.25),  # one error + one confusion
        ("FG123AB", "XX123AB", None),  # two real errors
        ("FG123AB", "FG123ABXY", None),  # exact pattern: no trailing run
        ("FG123AB", "ZZFG123AB", None),
        # Wildcards.
        ("FG*", "FG123AB", 0.0),
        ("FG*", "F6123AB", 0.25),
        ("FG*", "XG123AB", None),  # fragment: confusions only
        ("*AB", "FG123AB", 0.0),
        ("*75", "1234AB75", 0.0),
        ("*75", "1234AB76", None),
        ("*12*", "FG123AB", 0.0),
        ("*12*", "FGI23AB", 0.25),
        ("*12*", "FG456AB", None),
        ("2MF?746", "2MFZ746", 0.0),
        ("2MF?746", "2MF746", 1.0),  # ? unmatched costs an edit
        ("AB?1", "ABX1", 0.0),
        ("AB?1", "AB1", None),
        ("AB*CD", "ABCD", 0.0),
        ("AB*CD", "AB123CD", 0.0),
    ],
)
def test_match_cost(pattern: str, plate: str, expected: float | None) -> None:
    cost = PlatePattern.parse(pattern).match_cost(plate)
    if expected is None:
        assert cost is None
    else:
        assert cost == pytest.approx(expected)


@pytest.mark.parametrize(
    ("conf", "expected"),
    [(1.0, 0.25), (0.5, 0.175), (0.0, 0.1)],
)
def test_low_confidence_makes_confusions_cheaper(conf: float, expected: float) -> None:
    confs = [1.0, conf, 1.0, 1.0, 1.0, 1.0, 1.0]
    cost = PlatePattern.parse("FG123AB").match_cost("F6123AB", confs)
    assert cost == pytest.approx(expected)


def test_chars_conf_length_checked() -> None:
    with pytest.raises(ValueError, match="chars_conf has 2 entries"):
        PlatePattern.parse("AB").match_cost("AB1", [1.0, 1.0])


@pytest.mark.parametrize(
    ("n_fixed", "real_errors"),
    [(2, 0), (4, 0), (5, 1), (7, 1), (9, 1), (10, 2)],
)
def test_tolerance_grows_with_fixed_chars(n_fixed: int, real_errors: int) -> None:
    tol = tolerance(n_fixed)
    assert real_errors <= tol < real_errors + 1


@pytest.mark.parametrize(
    ("pattern", "like"),
    [
        ("FG-123-AB", "F612348"),
        ("FG*", "F6%"),
        ("*75", "%75"),
        ("*12*", "%12%"),
        ("2MF?746", "2MF_746"),
        ("ab?1", "48_1"),
    ],
)
def test_sql_like(pattern: str, like: str) -> None:
    assert PlatePattern.parse(pattern).sql_like() == like


@pytest.mark.parametrize(
    ("pattern", "plate"),
    [("FG*", "F6123AB"), ("*12*", "FGI23AB"), ("2MF?746", "ZMFQ7A6"), ("FG123AB", "F6IZ3A8")],
)
def test_sql_like_selects_confusion_only_matches(pattern: str, plate: str) -> None:
    # Emulate LIKE on the folded column with a regex; every such plate must be accepted.
    pat = PlatePattern.parse(pattern)
    regex = pat.sql_like().replace("_", ".").replace("%", ".*")
    assert re.fullmatch(regex, fold(plate))
    assert pat.match_cost(plate) is not None


def test_rank_plates() -> None:
    candidates = [("FG128AB", "b"), ("XX999XX", "none"), ("FG123AB", "a"), ("F6123AB", "c")]
    ranked = rank_plates("FG-123-AB", candidates)
    assert [item for _, item in ranked] == ["a", "c", "b"]
    assert [cost for cost, _ in ranked] == pytest.approx([0.0, 0.25, 1.0])


def test_match_read_uses_alternatives() -> None:
    read = PlateRead(
        text="FG128AB",
        confidence=0.8,
        chars=tuple((c, 0.9) for c in "FG128AB"),
        alternatives=(("FG123AB", 0.6),),
    )
    pat = PlatePattern.parse("FG123AB")
    assert match_read(pat, read) == pytest.approx(0.25)  # alternative + its penalty
    assert match_read(PlatePattern.parse("ZZ999ZZ"), read) is None


# ------------------------------------------------------------------ how approximate a match is
@pytest.mark.parametrize(
    ("pattern", "plate_text", "edits"),
    [
        ("FG123AB", "FG123AB", 0),   # exact
        ("FG-12?-AB", "FG128AB", 0),  # the wildcard never counts
        ("FG*", "FG123AB", 0),
        ("6*", "GHP995", 1),         # a look-alike confusion is still a differing character
        ("FG23AB", "FG123AB", 1),    # one character missing from the pattern
        ("FG1Z3AB", "FG123AB", 1),
        ("AB012CD", "A8O12CD", 2),
    ],
)
def test_edit_count(pattern: str, plate_text: str, edits: int) -> None:
    assert PlatePattern.parse(pattern).edit_count(plate_text) == edits


def _read(text: str, alts: tuple[tuple[str, float], ...] = ()) -> PlateRead:
    return PlateRead(text, 0.9, tuple((c, 0.9) for c in text), alts)


def test_explain_read_exact_confusion_and_runner_up() -> None:
    exact = explain_read(PlatePattern.parse("FG123AB"), _read("FG123AB"))
    assert exact is not None and exact.edits == 0 and not exact.approximate
    assert exact.read == "FG123AB" and exact.cost == 0.0
    # OCR tolerance: "6*" keeps GHP995 (6/G look alike) but says one character differs.
    loose = explain_read(PlatePattern.parse("6*"), _read("GHP995"))
    assert loose is not None and loose.approximate and loose.edits == 1
    assert 0 < loose.cost <= PlatePattern.parse("6*").max_cost
    # Only the runner-up read fits: the match names it.
    alt = explain_read(PlatePattern.parse("KM123PR"), _read("XY999ZZ", (("KM123PR", 0.4),)),
                       alternative_penalty=0.5)
    assert alt is not None and alt.alternative and alt.approximate
    assert (alt.read, alt.edits, alt.cost) == ("KM123PR", 0, 0.5)
    assert explain_read(PlatePattern.parse("ZZ999ZZ"), _read("FG123AB")) is None


def test_explain_read_prefers_the_consensus_on_equal_fit() -> None:
    got = explain_read(PlatePattern.parse("FG*"), _read("FG123AB", (("FG128AB", 0.5),)))
    assert got is not None and not got.alternative and got.read == "FG123AB"
