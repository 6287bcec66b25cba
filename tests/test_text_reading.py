"""The free-text parser's first half: tokens (``text_tokens``), reading units (``text_reading``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from retrouve.search.text_reading import attach, detect_language, lex
from retrouve.search.text_time import TimeContext
from retrouve.search.text_tokens import phrase_key, tokenize
from retrouve.search.text_vocab import Lang

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 1, 7, 15, 30, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("text", "norms"),
    [
        ("Camionnette Blanche", ["camionnette", "blanche"]),
        ("l'homme", ["le", "homme"]),  # elision expanded into a stop word
        ("tee-shirt", ["tee", "shirt"]),  # hyphenated words split
        ("AB-123-CD", ["ab-123-cd"]),  # unless they hold digits (a plate)
        ("14h-16h", ["14h", "-", "16h"]),  # two clock times: a range
        ("aujourd’hui ?", ["aujourdhui"]),  # curly apostrophe; a lone '?' says nothing
    ],
)
def test_tokenize(text: str, norms: list[str]) -> None:
    assert [t.norm for t in tokenize(text)] == norms


def test_phrase_key_folds_like_the_tokeniser() -> None:
    assert phrase_key("Véhicule Utilitaire") == ("vehicule", "utilitaire")


@pytest.mark.parametrize(
    ("text", "kinds", "lang"),
    [
        ("voiture rouge plaque FG*", ["object", "colour", "plate"], "fr"),
        ("red car", ["colour", "object"], "en"),
        ("homme sans sac", ["object", "neg", "accessory"], "fr"),
        ("hier xyzzy", ["time", "unknown"], "fr"),
    ],
)
def test_lex_cuts_reading_units_in_order(text: str, kinds: list[str], lang: Lang) -> None:
    tokens = tokenize(text)
    detected, evidence = detect_language(tokens)
    assert detected == lang and evidence
    items = lex(tokens, TimeContext(now=NOW, tz=PARIS, lang=detected, evidence=evidence))
    assert [it.kind for it in items] == kinds
    assert [w for it in items for w in it.words] == [t.text for t in tokens]  # every word once


@pytest.mark.parametrize(
    ("text", "lang", "head", "colour"),
    [
        ("voiture rouge veste noire", "fr", "veste", "noire"),  # French: colour after its noun
        ("red car black jacket", "en", "jacket", "black"),  # English: before it
    ],
)
def test_attach_follows_the_language_direction(text: str, lang: Lang, head: str,
                                                colour: str) -> None:
    items = lex(tokenize(text), TimeContext(now=NOW, tz=PARIS, lang=lang, evidence=True))
    loose = attach(items, lang)
    assert loose == []
    by_word = {it.words[0]: it for it in items}
    assert [c.words[0] for c in by_word[head].colours] == [colour]
