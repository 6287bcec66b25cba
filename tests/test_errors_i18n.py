"""Keyed errors worded in the interface language: the catalogue is complete and consistent,
every key the code raises is in it, and ``error_text`` falls back to the English message."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from retrouve.errors import QueryError, QueryTooLong, StoreError
from retrouve.errors_i18n import CATALOGUE, LANGS, error_text
from retrouve.search.plate_pattern import PlatePattern

SRC = Path(__file__).resolve().parents[1] / "src" / "retrouve"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_key_has_french_and_english_with_the_same_placeholders(key: str) -> None:
    texts = CATALOGUE[key]
    assert set(texts) == set(LANGS)
    assert all(texts[lang].strip() for lang in LANGS)
    assert _fields(texts["fr"]) == _fields(texts["en"]), key
    assert texts["fr"] != texts["en"], f"{key}: the French text is the English one"


def test_every_key_raised_in_the_code_is_in_the_catalogue() -> None:
    raised = set()
    for path in SRC.rglob("*.py"):
        raised |= set(re.findall(r'(?<![a-z_])key="([a-z_]+\.[a-z_]+)"', path.read_text("utf-8")))
    assert raised, "no keyed error found: the scan is broken"
    assert raised - set(CATALOGUE) == set()
    assert set(CATALOGUE) - raised == set(), "catalogue keys nothing raises"


def test_plate_error_in_both_languages_english_str_unchanged() -> None:
    with pytest.raises(QueryError) as info:
        PlatePattern.parse("AB#12")
    err = info.value
    assert err.key == "plate.bad_chars" and err.params["chars"] == "#"
    assert str(err).startswith("plate pattern 'AB#12': unexpected character(s) #")
    assert error_text(err, "fr").startswith("motif de plaque « AB#12 » : caractère(s) "
                                            "inattendu(s) #")
    assert error_text(err, "en").startswith("plate pattern 'AB#12': unexpected")
    assert error_text(err, "de") == error_text(err, "fr")  # unknown language: the default


def test_too_long_keeps_its_class_and_numbers() -> None:
    with pytest.raises(QueryTooLong) as info:
        PlatePattern.parse("A" * 40)
    assert error_text(info.value, "fr") == ("motif de plaque de 40 caractères : au plus 32 "
                                            "(une plaque en a une dizaine)")


def test_unkeyed_error_is_shown_as_written() -> None:
    assert error_text(StoreError("database is locked"), "fr") == "database is locked"
    assert error_text(QueryError("odd", key="no.such_key"), "fr") == "odd"
    assert error_text(ValueError("x"), "en") == "x"


def test_field_words_are_translated() -> None:
    err = QueryError("from 'hier' is not ISO-8601", key="time.not_iso",
                     params={"what": "from", "text": "hier"})
    assert error_text(err, "fr").startswith("le début « hier » n'est pas au format ISO-8601")
    assert error_text(err, "en").startswith("from 'hier' is not ISO-8601")
