"""Plate grammars: normalisation, country band, grammar fit, coercion (pure, table-driven)."""

from __future__ import annotations

import pytest

from retrouve.vision.plates.grammar import (
    GRAMMARS,
    best_grammar,
    coerce,
    grammar_named,
    grammar_score,
    normalise,
    normalise_indexed,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AB-123-CD", "AB123CD"),
        ("ab 123 cd", "AB123CD"),
        ("AB.123.CD", "AB123CD"),
        ("  1234 AB 75 ", "1234AB75"),
        ("АВ-123-СD", "AB123CD"),  # Cyrillic look-alikes
        ("ÀB-123-ÇD", "AB123CD"),  # accents dropped
        ("AB—123·CD", "AB123CD"),  # typographic junk
        ("ＡＢ１２３ＣＤ", "AB123CD"),  # full-width forms
        ("F AB-123-CD", "AB123CD"),  # French band
        ("F|AB-123-CD", "AB123CD"),
        ("F 1234 AB 75", "1234AB75"),
        ("GB AB12 CDE", "AB12CDE"),
        ("E 1234 BCD", "1234BCD"),
        ("I AB 123 CD", "AB123CD"),
        ("D B MW 1234", "BMW1234"),
        ("", ""),
        ("---", ""),
        # No band to strip: the letters belong to the plate.
        ("BD51 SMR", "BD51SMR"),
        ("FG-123-AB", "FG123AB"),
        ("FF-123-AB", "FF123AB"),
        ("DAB123", "DAB123"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected
    assert normalise(normalise(raw)) == expected  # idempotent


def test_normalise_indexed_tracks_source_positions() -> None:
    text, idx = normalise_indexed("F ab-123-cd")
    assert text == "AB123CD"
    assert idx == (2, 3, 5, 6, 7, 9, 10)


@pytest.mark.parametrize(
    ("text", "grammar", "min_score"),
    [
        ("AB123CD", "fr-siv", 1.0),
        ("GH405KL", "fr-siv", 1.0),
        ("1234AB75", "fr-fni", 1.0),
        ("1A01", "fr-fni", 1.0),
        ("123ABC974", "fr-fni", 1.0),
        ("56AB2A", "fr-fni", 1.0),
        ("AB12CDE", "uk", 0.97),
        ("1234BCD", "es", 0.97),
        ("1ABC123", "be", 0.95),
        ("BMW1234", "de", 0.94),
        ("12BCD3", "nl", 0.94),
        ("Q7XR9W2", "us", 0.75),
        ("A8I23CD", "fr-siv", 0.85),  # two look-alikes still French SIV
    ],
)
def test_best_grammar(text: str, grammar: str, min_score: float) -> None:
    name, score = best_grammar(text)
    assert name == grammar
    assert min_score - 1e-9 <= score <= 1.0


@pytest.mark.parametrize(
    ("text", "grammar", "max_score"),
    [
        ("AI123CD", "fr-siv", 0.95),  # I is not an SIV letter: look-alike only
        ("AB000CD", "fr-siv", 0.5),  # 000 is not issued
        ("1234AB99", "fr-fni", 0.5),  # no department 99
        ("1234AB20", "fr-fni", 0.5),  # 20 became 2A/2B
        ("1234AB977", "fr-fni", 0.5),  # overseas departments are 971–976
        ("AB123CD", "uk", 0.9),
        ("ABCDEF", "us", 0.375),  # no digit
        ("123456", "us", 0.375),  # no letter
    ],
)
def test_grammar_penalties(text: str, grammar: str, max_score: float) -> None:
    assert grammar_score(text, grammar) <= max_score + 1e-9


@pytest.mark.parametrize("text", ["", "A", "A1", "ABCDEFGHIJK1"])
def test_no_grammar_for_odd_lengths(text: str) -> None:
    assert best_grammar(text) == (None, 0.0)


@pytest.mark.parametrize(
    ("text", "grammar", "expected"),
    [
        ("A8I23CD", "fr-siv", "AB123CD"),  # letter slot 8 → B, digit slot I → 1
        ("AB1O3CD", "fr-siv", "AB103CD"),  # digit slot O → 0
        ("0B123CD", "fr-siv", "DB123CD"),  # SIV has no O: a round glyph in a letter slot is D
        ("AB12SCD", "fr-siv", "AB125CD"),
        ("A8123C0", "fr-siv", "AB123CD"),
        ("I234AB75", "fr-fni", "1234AB75"),
        ("1234A875", "fr-fni", "1234AB75"),
        ("1234ABZB", "fr-fni", "1234AB2B"),  # Corsica
        ("AB1ZCDE", "uk", "AB12CDE"),
        ("I234BCD", "es", "1234BCD"),
        ("08E6CK", "us", "08E6CK"),  # generic slots never coerce
        ("AB123CD", None, "AB123CD"),
        ("AB123", "fr-siv", "AB123"),  # no template of that length: unchanged
    ],
)
def test_coerce(text: str, grammar: str | None, expected: str) -> None:
    assert coerce(text, grammar) == expected


def test_grammar_names_unique_and_known() -> None:
    names = [g.name for g in GRAMMARS]
    assert len(names) == len(set(names))
    assert {"fr-siv", "fr-fni", "de", "it", "es", "be", "nl", "uk", "us"} <= set(names)
    with pytest.raises(KeyError, match="unknown plate grammar"):
        grammar_named("xx")
