"""Free-text queries in French or English, mapped onto the structured :class:`Query`.

``parse_text("camionnette blanche plaque FG*", now=..., tz=ZoneInfo("Europe/Paris"))`` gives
``fields == {"object": "van", "colour": "white", "plate": "FG*"}`` plus, word by word, how the
text was read (:class:`Interpretation`) and which words were not understood.

Contract:

* **Pure.** The clock is the explicit ``now`` (aware); relative times ("hier", "in the last
  2 hours") are resolved against it in the operator's zone ``tz``. ``time_from``/``time_to``
  are aware datetimes in ``tz``; ``time_to`` is exclusive.
* **Vocabulary is data.** Every word list below is a table; the parsing code never tests a
  particular word. Accents and case are optional (``unicodedata`` folding).
* **Nothing silently dropped.** A word is either a stop word, part of an
  :class:`Interpretation` (applied, or understood but not searchable, with a note), or
  reported in ``unknown`` (and in ``residual_text`` for an embedding matcher).
* **No biometric categorisation.** "homme"/"femme"/"man"/"woman" all mean ``person``; gender is
  never stored, and a colour said of a person rather than of a garment (skin, hair) is refused
  with a note, never searched.

Reading rules, in order: time expressions, plate phrases, vocabulary phrases (longest match),
bare plate-looking tokens, stop words, then unknown. A colour attaches to the nearest object or
garment word in the language's direction (French: after the noun, English: before it), falling
back to the other side. One subject per search (a vehicle or a person): words about the other
kind, a second object type or a second colour for the same thing are kept as notes, the first
one wins.

Code: :mod:`retrouve.search.text_reading` reads the text into units, this module assembles
them into fields (:func:`parse_text`, the entry point), :mod:`retrouve.search.text_parsed`
holds the result (:class:`ParsedText`, :class:`Interpretation`, :data:`FIELDS`, re-exported
here); vocabulary in ``text_vocab``, time expressions in ``text_time``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from retrouve.domain import VEHICLE_CLASSES, ensure_aware
from retrouve.errors import QueryError
from retrouve.search.text_parsed import FIELDS, Interpretation, ParsedText
from retrouve.search.text_reading import FILLER, Item, attach, detect_language, lex
from retrouve.search.text_time import TimeBit, TimeContext, time_kind, time_window
from retrouve.search.text_tokens import tokenize
from retrouve.search.text_vocab import Lang

__all__ = ["FIELDS", "Interpretation", "ParsedText", "parse_text"]

_PERSON_COLOUR_NOTE: Final = ("a person's own colour (skin, hair) is never searched: name a "
                              "garment ('veste noire', 'black jacket')")
_ACCESSORY_COLOUR_NOTE: Final = ("the colour of a carried object is not a search field: kept "
                                 "in the free text")


# =============================================================================== assembling


def _category(it: Item) -> str | None:
    """Which subject an item is about: ``person`` or ``vehicle`` (None: either)."""
    if it.kind == "object":
        return "person" if it.value == "person" else "vehicle"
    if it.kind in ("garment", "accessory"):
        return "person"
    if it.kind in ("make", "model", "plate"):
        return "vehicle"
    return None


class _Builder:
    """Fields and interpretation entries, first reading wins."""

    def __init__(self, chosen: str | None) -> None:
        self.fields: dict[str, Any] = {}
        self.entries: list[tuple[int, Interpretation]] = []
        self.chosen = chosen

    def put(self, at: int, name: str, value: str, words: tuple[str, ...], note: str = "") -> None:
        current = self.fields.get(name)
        if current is not None and current != value:
            self.skip(at, name, value, words, f"contradicts {name} {current!r}: the first is kept")
            return
        self.fields[name] = value
        self.entries.append((at, Interpretation(words, name, value, True, note)))

    def skip(self, at: int, name: str, value: str | None, words: tuple[str, ...],
             note: str) -> None:
        self.entries.append((at, Interpretation(words, name, value, False, note)))

    def imply(self, at: int, value: str, because: tuple[str, ...]) -> None:
        """An object implied by another word ("veste" → person) when none is named."""
        if self.chosen is None and "object" not in self.fields:
            self.put(at, "object", value, (), f"implied by {' '.join(because)!r}")


def _notes(*notes: str) -> str:
    """Notes joined with "; ", empty ones left out."""
    return "; ".join(n for n in notes if n)


def _colour_words(c: Item) -> tuple[tuple[str, ...], str]:
    parts = sorted([c, *c.shades], key=lambda x: x.index)
    words = tuple(w for p in parts for w in p.words)
    note = c.note  # a typo read as this colour
    if c.shades:
        shades = " ".join(w for s in c.shades for w in s.words)
        note = _notes(note, f"shade {shades!r} ignored: colours are the eleven basic terms")
    return words, note


def _assemble(text: str, items: list[Item], ctx: TimeContext) -> ParsedText:
    loose = dict((id(c), how) for c, how in attach(items, ctx.lang))
    live = [it for it in items if not it.negated]
    objects = [it.value for it in live if it.kind == "object"]
    chosen = objects[0] if objects else None
    specific = [o for o in objects if o != "vehicle"]
    if chosen == "vehicle" and specific and specific[0] in VEHICLE_CLASSES:
        chosen = specific[0]  # "véhicule utilitaire blanc": the generic word is narrowed
    categories = [cat for it in live if (cat := _category(it)) is not None]
    subject = categories[0] if categories else None
    if chosen is not None:
        subject = "person" if chosen == "person" else "vehicle"
    b = _Builder(chosen)
    unknown: list[tuple[int, str]] = []
    residual: list[tuple[int, str]] = []
    times: dict[str, tuple[TimeBit, str]] = {}

    for it in items:
        at, words = it.index, it.words
        cat = _category(it)
        if it.negated:
            b.skip(at, it.kind, it.value, words, "a negation is not searchable")
            continue
        if cat is not None and subject is not None and cat != subject:
            b.skip(at, it.kind, it.value, words,
                   f"about a {cat}, but this search is for a {subject}: one subject per search")
            for c in it.colours:
                b.skip(c.index, "ignored", c.value, _colour_words(c)[0], f"colour of that {cat}")
            continue
        if it.kind == "object":
            if it.value == "vehicle" and b.chosen not in (None, "vehicle"):
                b.skip(at, "object", it.value, words, f"narrowed to {b.chosen!r}")
            else:
                b.put(at, "object", it.value, words, it.note)
            for c in it.colours:
                cw, note = _colour_words(c)
                if cat == "person":
                    b.skip(c.index, "ignored", c.value, cw, _PERSON_COLOUR_NOTE)
                else:
                    b.put(c.index, "colour", c.value, cw, note)
        elif it.kind == "garment":
            b.imply(at, "person", words)
            slots = ("upper", "lower") if it.value == "both" else (it.value,)
            if not it.colours:
                b.skip(at, it.value, None, words,
                       _notes(it.note, "a garment without a colour is not searchable"))
            for c in it.colours:
                cw, note = _colour_words(c)
                for slot in slots:
                    b.put(at, slot, c.value, _joined(it, words, c, cw), _notes(it.note, note))
        elif it.kind == "accessory":
            b.imply(at, "person", words)
            b.put(at, "accessory", it.value, words, it.note)
            for c in it.colours:
                cw, _ = _colour_words(c)
                b.skip(c.index, "accessory_colour", c.value, cw, _ACCESSORY_COLOUR_NOTE)
                residual.append((at, " ".join(_joined(it, words, c, cw))))
        elif it.kind in ("make", "model"):
            if it.kind == "model":
                make, obj = it.extra.split("|")
                b.imply(at, obj, words)
                b.put(at, "model", it.value, words)
                if "make" not in b.fields:
                    b.put(at, "make", make, (), f"implied by {it.value!r}")
            else:
                b.put(at, "make", it.value, words, it.note)
            for c in it.colours:
                cw, note = _colour_words(c)
                b.put(c.index, "colour", c.value, cw, note)
        elif it.kind == "plate":
            if it.value:
                b.put(at, "plate", it.value, words)
            else:
                unknown.append((at, " ".join(words)))
        elif it.kind == "colour" and id(it) in loose:
            _loose_colour(b, it, loose[id(it)], subject)
        elif it.kind == "time" and it.bit is not None:
            kind = time_kind(it.bit)
            old = times.get(kind)
            # A relative span ("depuis 2 heures") excludes any other time; otherwise one of
            # each kind (day, part of day, hours).
            span_clash = bool(times) and (kind == "span" or "span" in times)
            if (old is not None and old[0] != it.bit) or (old is None and span_clash):
                b.skip(at, "time", it.value, words, "contradicts an earlier time: the first is "
                       "kept")
            else:
                times.setdefault(kind, (it.bit, " ".join(words)))
                b.entries.append((at, Interpretation(words, "time", it.value)))
        elif (it.kind == "shade" and not it.used) or it.kind == "unknown":
            unknown.append((at, " ".join(words)))
            if it.note:  # a near miss of several words: ask rather than guess
                b.skip(at, "ignored", None, words, it.note)
    if times:
        b.fields["time_from"], b.fields["time_to"] = time_window(times, ctx)
    for entry in unknown:
        residual.append(entry)
    interpretation = tuple(e for _, e in sorted(b.entries, key=lambda x: x[0]))
    notes = tuple(f"{' '.join(e.words) or e.field}: {e.note}" for e in interpretation if e.note)
    return ParsedText(
        text=text, lang=ctx.lang,
        fields={k: b.fields[k] for k in FIELDS if k in b.fields},
        interpretation=interpretation,
        unknown=tuple(w for _, w in sorted(unknown)),
        residual_text=" ".join(w for _, w in sorted(residual, key=lambda x: x[0])),
        notes=notes,
    )


def _joined(head: Item, words: tuple[str, ...], colour: Item,
            colour_words: tuple[str, ...]) -> tuple[str, ...]:
    """A head's and its colour's words, in reading order."""
    return (*words, *colour_words) if head.index < colour.index else (*colour_words, *words)


def _loose_colour(b: _Builder, c: Item, how: str, subject: str | None) -> None:
    """A colour with no garment or object next to it."""
    cw, note = _colour_words(c)
    if how in ("upper", "both"):
        if subject == "vehicle":
            b.skip(c.index, "upper", c.value, cw, "clothing colour, but this search is for a "
                   "vehicle")
            return
        b.imply(c.index, "person", cw)
        b.put(c.index, "upper", c.value, cw, note)
        if how == "both":
            b.put(c.index, "lower", c.value, cw, note)
    elif subject == "person":
        b.skip(c.index, "ignored", c.value, cw, "colour of what? name the garment ('veste "
               "rouge', 'red jacket')")
    else:
        b.put(c.index, "colour", c.value, cw, note or ("no object named: read as a vehicle "
                                                       "colour" if subject is None else ""))




def parse_text(text: str, *, now: datetime, tz: ZoneInfo, lang: Lang | None = None) -> ParsedText:
    """Read a French or English free-text query into search fields.

    ``now`` (aware) anchors relative times ("hier", "last night", "depuis 2 heures"); times are
    read in ``tz``, the operator's zone. ``lang`` forces the language (it decides the colour
    direction and the French "car" = coach); by default it is detected from the words.

    Raises :class:`QueryError` for a text with nothing to search for, a time window that ends
    before it starts, or an impossible date.
    """
    ensure_aware(now, "parse_text(now)")
    tokens = tokenize(text)
    detected, evidence = detect_language(tokens)
    ctx = TimeContext(now=now.astimezone(tz), tz=tz, lang=lang or detected,
               evidence=evidence or lang is not None)
    items = lex(tokens, ctx)
    if all(it.kind in FILLER for it in items):
        raise QueryError(f"nothing to search for in {text!r}", key="text.nothing",
                         params={"text": text})
    return _assemble(text, items, ctx)

