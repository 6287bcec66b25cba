"""Keyed errors worded in the interface language: the catalogue is complete and consistent,
every key the code raises is in it, and ``error_text`` falls back to the English message."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from retrouve.domain import Role
from retrouve.errors import CaseError, NotPermitted, QueryError, QueryTooLong, StoreError, Word
from retrouve.errors_i18n import CATALOGUE, LANGS, WORDS, error_text
from retrouve.legal.cases import parse_scope
from retrouve.legal.permissions import Right, require
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


def test_an_error_raised_with_a_key_alone_takes_the_catalogues_english() -> None:
    err = CaseError(key="case.unknown", params={"ref": "PV-9"})
    assert str(err) == "unknown case 'PV-9' (see `retrouve cases list`)"
    assert error_text(err, "fr") == "affaire inconnue « PV-9 » (voir `retrouve cases list`)"


def test_vocabulary_params_are_worded_in_the_language_data_never() -> None:
    with pytest.raises(NotPermitted) as info:
        require("admin", Role.OPERATOR, Right.READ_JOURNAL)
    err = info.value
    # A user named like a role stays as typed; the role, the right and the holders are words.
    assert str(err) == ("user 'admin' (operator) may not read-journal: that needs role "
                        "supervisor or auditor")
    assert error_text(err, "fr") == ("l'utilisateur « admin » (opérateur) ne peut pas lire le "
                                     "journal : il faut le rôle superviseur ou auditeur")


def test_a_nested_error_and_a_field_word_are_worded_together() -> None:
    row = Word.of("field.scope_row", n=2)
    with pytest.raises(CaseError) as info:
        parse_scope("cam1:2026-01-04T12:00+01:00/2026-01-04T10:00+01:00")
    err = CaseError(key="form.row_error", params={"what": row, "error": info.value})
    assert str(err) == ("scope row 2: scope 'cam1:2026-01-04T12:00+01:00/2026-01-04T10:00"
                        "+01:00': the window ends before it starts")
    assert error_text(err, "fr") == ("ligne de portée 2 : portée « cam1:2026-01-04T12:00+01:00/"
                                     "2026-01-04T10:00+01:00 » : la fenêtre finit avant de "
                                     "commencer")


def test_every_word_has_both_languages_and_the_same_placeholders() -> None:
    for key, texts in WORDS.items():
        assert set(texts) == set(LANGS), key
        assert _fields(texts["fr"]) == _fields(texts["en"]), key
    # A word the table lacks is shown as its key, never lost.
    assert str(Word("no.such_word")) == "no.such_word"


@pytest.mark.parametrize("right", list(Right))
def test_every_right_and_role_is_a_word(right: Right) -> None:
    assert f"right.{right.value}" in WORDS
    assert all(f"role.{role.value}" in WORDS for role in Role)
