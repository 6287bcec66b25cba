"""The result of reading a free-text query: :class:`ParsedText` and its :class:`Interpretation`.

:class:`ParsedText` holds the search fields the text sets (the eval format's keys,
:data:`FIELDS`), how each word was read, what was not understood, and turns into a
:class:`~retrouve.domain.Query` (:meth:`ParsedText.to_query`), one operator-facing line in
French or English (:meth:`ParsedText.describe`) or JSON (:meth:`ParsedText.to_json`).
Built by :func:`retrouve.search.text_query.parse_text`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import Any, Final

from retrouve.domain import Query
from retrouve.search.text_vocab import Lang

#: Keys of :attr:`ParsedText.fields`, in the eval format's order (``shared/eval/README.md``).
FIELDS: Final[tuple[str, ...]] = ("object", "colour", "upper", "lower", "accessory", "plate",
                                  "make", "model", "time_from", "time_to")


@dataclass(frozen=True)
class Interpretation:
    """How some words of the text were read.

    ``field`` is a :data:`FIELDS` name (``time`` for a time expression), or
    ``accessory_colour``/``ignored`` for words understood but not searchable. ``applied`` is
    false when the reading is not in the query (a contradiction, another subject, a negation);
    ``note`` says why. ``words`` are as typed, in reading order (empty for an implied value).
    """

    words: tuple[str, ...]
    field: str
    value: str | None
    applied: bool = True
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"words": list(self.words), "field": self.field, "value": self.value,
                "applied": self.applied, "note": self.note or None}


@dataclass(frozen=True)
class ParsedText:
    """A free-text query read into search fields.

    ``fields`` holds only the fields the text sets, with the eval format's ``query`` keys
    (:data:`FIELDS`); ``time_from``/``time_to`` are aware datetimes in the operator's zone
    (``time_to`` exclusive). ``unknown`` lists the words not understood (stop words excluded);
    ``residual_text`` is what the fields cannot express (unknown words, a carried object's
    colour), for an embedding matcher; ``notes`` explain every reading not applied.
    """

    text: str
    lang: Lang
    fields: dict[str, Any]
    interpretation: tuple[Interpretation, ...]
    unknown: tuple[str, ...]
    residual_text: str
    notes: tuple[str, ...] = ()

    def to_query(self, base: Query | None = None) -> Query:
        """``base`` with the parsed fields filled in. A field ``base`` already sets wins (an
        explicit ``--colour`` beats the text); ``text`` becomes the residual text."""
        base = base if base is not None else Query()
        updates = {k: v for k, v in self.fields.items() if getattr(base, k) is None}
        return replace(base, **updates, text=self.residual_text or None)

    def without(self, *fields: str) -> ParsedText:
        """The same reading without ``fields`` (what is searched when the searcher cannot use
        them, e.g. a make/model without its pack)."""
        return replace(self, fields={k: v for k, v in self.fields.items() if k not in fields})

    def describe(self, lang: Lang | None = None) -> str:
        """One line for the operator, e.g. ``Véhicule : camionnette · couleur : blanc ·
        plaque : FG*`` (``lang`` defaults to the language of the text; French typography
        puts a space before the colon, English does not: ``Vehicle: van``)."""
        lang = lang or self.lang
        words = _LABELS[lang]
        c = _COLON[lang]
        colour = _COLOUR_NAMES[lang]
        f = self.fields
        parts: list[str] = []
        obj = f.get("object")
        if obj == "person":
            parts.append(words["person"])
        elif obj is not None:
            parts.append(f"{words['vehicle']}{c}{_OBJECT_NAMES[lang].get(obj, obj)}")
        for key in ("colour", "upper", "lower"):
            if key in f:
                parts.append(f"{words[key]}{c}{colour.get(f[key], f[key])}")
        if "accessory" in f:
            acc = _ACCESSORY_NAMES[lang].get(f["accessory"], f["accessory"])
            parts.append(f"{words['accessory']}{c}{acc}")
        for key in ("plate", "make", "model"):
            if key in f:
                parts.append(f"{words[key]}{c}{f[key]}")
        if "time_from" in f and "time_to" in f:
            window = _describe_window(f["time_from"], f["time_to"], lang)
            parts.append(f"{words['time']}{c}{window}")
        if self.unknown:
            parts.append(f"{words['unknown']}{c}{', '.join(self.unknown)}")
        return " · ".join(parts) if parts else words["nothing"]

    def to_json(self) -> dict[str, Any]:
        """``{"query": {...eval keys, ISO times...}, "interpretation": [...], "unknown": [...]}``
        plus ``text`` (the residual text), ``notes`` and ``lang``."""
        query = {k: v.isoformat() if isinstance(v, datetime) else v
                 for k, v in self.fields.items()}
        return {"query": query, "interpretation": [i.to_json() for i in self.interpretation],
                "unknown": list(self.unknown), "text": self.residual_text or None,
                "notes": list(self.notes), "lang": self.lang}


#: What follows a label ("couleur : gris", "colour: grey").
_COLON: Final[dict[Lang, str]] = {"fr": " : ", "en": ": "}

_LABELS: Final[dict[Lang, dict[str, str]]] = {
    "fr": {"vehicle": "Véhicule", "person": "Personne", "colour": "couleur", "upper": "haut",
           "lower": "bas", "accessory": "accessoire", "plate": "plaque", "make": "marque",
           "model": "modèle", "time": "période", "unknown": "non compris",
           "nothing": "aucun critère reconnu"},
    "en": {"vehicle": "Vehicle", "person": "Person", "colour": "colour", "upper": "upper",
           "lower": "lower", "accessory": "accessory", "plate": "plate", "make": "make",
           "model": "model", "time": "time", "unknown": "not understood",
           "nothing": "no criterion recognised"},
}
_OBJECT_NAMES: Final[dict[Lang, dict[str, str]]] = {
    "fr": {"car": "voiture", "van": "camionnette", "truck": "camion", "bus": "bus ou car",
           "motorcycle": "moto", "bicycle": "vélo", "vehicle": "tout type"},
    "en": {"car": "car", "van": "van", "truck": "truck", "bus": "bus or coach",
           "motorcycle": "motorcycle", "bicycle": "bicycle", "vehicle": "any type"},
}
_COLOUR_NAMES: Final[dict[Lang, dict[str, str]]] = {
    "fr": {"black": "noir", "white": "blanc", "grey": "gris", "red": "rouge", "orange": "orange",
           "yellow": "jaune", "green": "vert", "blue": "bleu", "brown": "marron",
           "purple": "violet", "pink": "rose"},
    "en": {},
}
_ACCESSORY_NAMES: Final[dict[Lang, dict[str, str]]] = {
    "fr": {"backpack": "sac à dos", "handbag": "sac", "suitcase": "valise",
           "umbrella": "parapluie"},
    "en": {},
}


def _describe_window(start: datetime, end: datetime, lang: Lang) -> str:
    midnight = time(0)
    days = (end.date() - start.date()).days
    if start.time() == midnight and end.time() == midnight and days == 1:
        return f"le {start:%d/%m/%Y} (journée entière)" if lang == "fr" else \
            f"{start:%Y-%m-%d} (whole day)"
    if days == 0 or (days == 1 and end.time() == midnight):
        stop = "24:00" if days else f"{end:%H:%M}"
        return f"le {start:%d/%m/%Y} de {start:%H:%M} à {stop}" if lang == "fr" else \
            f"{start:%Y-%m-%d} {start:%H:%M}–{stop}"
    return f"du {start:%d/%m/%Y %H:%M} au {end:%d/%m/%Y %H:%M}" if lang == "fr" else \
        f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"
