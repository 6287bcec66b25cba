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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

from retrouve.domain import VEHICLE_CLASSES, Query, ensure_aware
from retrouve.errors import QueryError
from retrouve.search.text_time import TimeBit, TimeContext, match_time, time_kind, time_window
from retrouve.search.text_vocab import (
    ALL,
    AMBIGUOUS_WORDS,
    DRESS,
    HAS_DIGIT_OR_WILD,
    LEXICON,
    MAX_PHRASE_WORDS,
    NEGATION,
    ONLY_IN,
    PLATE_KW,
    PLATE_QUAL,
    STOP,
    WORD_LANG,
    Entry,
    Lang,
    Token,
    match_phrase,
    phrase_len,
    tokenize,
)

# ================================================================================= reading

#: Item kinds that never carry meaning of their own.
_FILLER: Final = frozenset({"stop", "dress", "all", "neg"})
#: Item kinds a colour can describe.
_HEADS: Final = frozenset({"object", "garment", "accessory", "make", "model"})
#: Item kinds a colour looks past when searching for its head.
_TRANSPARENT: Final = frozenset({"stop", "colour", "shade", "dress", "all", "unknown"})
_PLATE_CHARS: Final = re.compile(r"^[A-Za-z0-9?*.\-]+$")
_PLATE_ORDINAL: Final = re.compile(r"^\d{1,2}(er|e|eme|st|nd|rd|th)$", re.IGNORECASE)


@dataclass
class _Item:
    """One reading unit (a phrase) of the text, in reading order."""

    index: int
    words: tuple[str, ...]
    kind: str  # time, plate, object, colour, shade, garment, accessory, make, model, + _FILLER
    value: str = ""
    extra: str = ""
    bit: TimeBit | None = None
    note: str = ""
    negated: bool = False
    colours: list[_Item] = field(default_factory=list)
    shades: list[_Item] = field(default_factory=list)
    used: bool = False  # a colour attached somewhere, or a shade attached to a colour


def _detect_language(tokens: list[Token]) -> tuple[Lang, bool]:
    """The language with more of its own words (French on a tie), and whether any word told."""
    fr = sum(1 for t in tokens if WORD_LANG.get(t.norm) == "fr")
    en = sum(1 for t in tokens if WORD_LANG.get(t.norm) == "en")
    return ("en" if en > fr else "fr"), bool(fr or en)


def _plate_pattern(parts: list[str], mode: str = "") -> str | None:
    """Normalise typed plate parts: upper case, no separators, one ``*`` per run."""
    text = re.sub(r"\*+", "*", re.sub(r"[\s.\-]", "", "".join(parts)).upper())
    if sum(c.isalnum() for c in text) < 2 or not re.fullmatch(r"[A-Z0-9?*]+", text):
        return None
    if mode in ("prefix", "contains") and not text.endswith("*"):
        text += "*"
    if mode in ("suffix", "contains") and not text.startswith("*"):
        text = "*" + text
    return text


def _looks_like_plate(token: Token) -> bool:
    """A bare token that can only be a plate: letters and digits ("AB-123-CD"), or a wildcard
    ("FG*", "12*"); a trailing "?" counts only in upper case ("FG?", not "rouge?")."""
    raw = token.text
    if not _PLATE_CHARS.match(raw) or _PLATE_ORDINAL.match(raw):
        return False
    core = raw.replace("-", "").replace(".", "")
    has_digit = any(c.isdigit() for c in core)
    has_alpha = any(c.isalpha() for c in core)
    wild = "*" in core or "?" in core[:-1] or (core.endswith("?") and core[:-1].isupper())
    return (has_digit and has_alpha) or (wild and sum(c.isalnum() for c in core) >= 2)


def _match_plate(tokens: list[Token], w: list[str], i: int,
                 ctx: TimeContext) -> tuple[int, str] | None:
    """"plaque FG*", "immatriculée AB-123-CD", "plate starting with 12", "plaque AB 123 CD"."""
    kw = phrase_len(w, i, PLATE_KW)
    if not kw:
        return None
    j = i + kw
    qual = match_phrase(w, j, PLATE_QUAL)
    mode = ""
    if qual is not None:
        j, mode = j + qual[0], qual[1]
    parts: list[str] = []
    while j < len(tokens) and sum(len(p) for p in parts) < 10:
        norm = w[j]
        if not _PLATE_CHARS.match(tokens[j].text) or match_time(w, j, ctx) is not None:
            break
        # A plain word stops the plate unless it could be part of one ("plaque AB 123 CD").
        known = norm in STOP or (norm,) in LEXICON or phrase_len(w, j, PLATE_KW)
        if known and not HAS_DIGIT_OR_WILD.search(norm):
            break
        parts.append(tokens[j].text)
        j += 1
    pattern = _plate_pattern(parts, mode) if parts else None
    return None if pattern is None else (j - i, pattern)


def _lookup(w: list[str], i: int, ctx: TimeContext) -> tuple[int, Entry] | None:
    """Longest vocabulary phrase at ``i``; a plural falls back to its singular."""
    for n in range(min(MAX_PHRASE_WORDS, len(w) - i), 0, -1):
        key = tuple(w[i:i + n])
        key = (*key[:-1], key[-1].rstrip("?"))
        entry = LEXICON.get(key)
        if entry is None and len(key[-1]) > 3 and key[-1][-1] in "sx":
            entry = LEXICON.get((*key[:-1], key[-1][:-1]))
        if entry is None:
            continue
        only = ONLY_IN.get(key[0]) if n == 1 else None
        if only is not None and ctx.evidence and only != ctx.lang:
            return None
        return n, entry
    return None


def _lex(tokens: list[Token], ctx: TimeContext) -> list[_Item]:
    """Cut the tokens into reading units, left to right, longest phrase first."""
    w = [t.norm for t in tokens]
    items: list[_Item] = []
    i = 0
    while i < len(tokens):
        def words(n: int, at: int = i) -> tuple[str, ...]:
            return tuple(t.text for t in tokens[at:at + n])

        timed = match_time(w, i, ctx)
        plate = None if timed else _match_plate(tokens, w, i, ctx)
        entry = None if timed or plate else _lookup(w, i, ctx)
        if timed is not None:
            n, bit = timed
            item = _Item(i, words(n), "time", bit.label(), bit=bit)
        elif plate is not None:
            n = plate[0]
            item = _Item(i, words(n), "plate", plate[1])
        elif entry is not None:
            n, e = entry
            item = _Item(i, words(n), e.kind, e.value, e.extra)
            if e.value == "?":
                item.value, item.note = _ambiguous(w[i], ctx)
        else:
            n = 1
            item = _Item(i, words(1), _filler_kind(w, i, tokens[i]))
            if item.kind == "plate":
                item.value = _plate_pattern([tokens[i].text]) or ""
            elif item.kind == "neg":
                n = phrase_len(w, i, NEGATION)
                item.words = words(n)
        items.append(item)
        i += n
    return items


def _ambiguous(word: str, ctx: TimeContext) -> tuple[str, str]:
    meaning = AMBIGUOUS_WORDS[word]
    # Without a word telling the language, the meaning most searched for wins (English "car");
    # "autocar" or "bus" say coach unambiguously.
    lang: Lang = ctx.lang if ctx.evidence else "en"
    other: Lang = "en" if lang == "fr" else "fr"
    return meaning[lang], f"{word!r} read in {lang}: {meaning[lang]} (in {other}: " \
                         f"{meaning[other]})"


def _filler_kind(w: list[str], i: int, token: Token) -> str:
    if phrase_len(w, i, NEGATION):
        return "neg"
    if _looks_like_plate(token):
        return "plate"
    if w[i] in DRESS:
        return "dress"
    if w[i] in ALL:
        return "all"
    return "stop" if w[i] in STOP else "unknown"


def _neighbour_head(items: list[_Item], k: int, step: int) -> int | None:
    """The nearest head from item ``k`` going ``step`` (±1), looking past stop words, other
    colours and at most two unknown words, stopping at anything else."""
    j, unknown = k + step, 0
    while 0 <= j < len(items):
        it = items[j]
        if it.kind in _HEADS:
            return j
        if it.kind not in _TRANSPARENT:
            return None
        unknown += it.kind == "unknown"
        if unknown > 2:
            return None
        j += step
    return None


def _attach(items: list[_Item], lang: Lang) -> list[tuple[_Item, str]]:
    """Attach shades to colours and colours to heads. Returns the colours said of the whole
    person ("habillé en noir": ``upper``; "tout en noir": ``both``) or of nothing (``free``)."""
    for k, it in enumerate(items):
        if it.kind != "shade":
            continue
        # A shade sits after its colour in French, before it in English; either is accepted.
        for j in (k - 1, k + 1) if lang == "fr" else (k + 1, k - 1):
            if 0 <= j < len(items) and items[j].kind == "colour" and not it.used:
                items[j].shades.append(it)
                it.used = True
    for k, it in enumerate(items):
        if it.kind == "neg":
            for nxt in items[k + 1:k + 4]:
                if nxt.kind not in _FILLER:
                    nxt.negated = True
                    break
    prefer, other = (-1, 1) if lang == "fr" else (1, -1)
    out: list[tuple[_Item, str]] = []
    for k, it in enumerate(items):
        if it.kind != "colour":
            continue
        head = _neighbour_head(items, k, prefer)
        if head is None:
            head = _neighbour_head(items, k, other)
        before = [p for p in items[max(0, k - 3):k] if p.kind not in ("stop", "shade")]
        dressed = bool(before) and before[-1].kind in ("dress", "all")
        if head is not None and (items[head].kind != "object" or not dressed
                                 or items[head].value != "person"):
            items[head].colours.append(it)
        elif dressed:
            out.append((it, "both" if any(p.kind == "all" for p in before) else "upper"))
        else:
            out.append((it, "free"))
        it.used = True
    return out


# ================================================================================= results

#: Keys of :attr:`ParsedText.fields`, in the eval format's order (``shared/eval/README.md``).
FIELDS: Final[tuple[str, ...]] = ("object", "colour", "upper", "lower", "accessory", "plate",
                                  "make", "model", "time_from", "time_to")

_PERSON_COLOUR_NOTE: Final = ("a person's own colour (skin, hair) is never searched: name a "
                              "garment ('veste noire', 'black jacket')")
_ACCESSORY_COLOUR_NOTE: Final = ("the colour of a carried object is not a search field: kept "
                                 "in the free text")


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

    def describe(self, lang: Lang | None = None) -> str:
        """One line for the operator, e.g. ``Véhicule: camionnette · couleur: blanc ·
        plaque: FG*`` (``lang`` defaults to the language of the text)."""
        lang = lang or self.lang
        words = _LABELS[lang]
        colour = _COLOUR_NAMES[lang]
        f = self.fields
        parts: list[str] = []
        obj = f.get("object")
        if obj == "person":
            parts.append(words["person"])
        elif obj is not None:
            parts.append(f"{words['vehicle']}: {_OBJECT_NAMES[lang].get(obj, obj)}")
        for key in ("colour", "upper", "lower"):
            if key in f:
                parts.append(f"{words[key]}: {colour.get(f[key], f[key])}")
        if "accessory" in f:
            acc = _ACCESSORY_NAMES[lang].get(f["accessory"], f["accessory"])
            parts.append(f"{words['accessory']}: {acc}")
        for key in ("plate", "make", "model"):
            if key in f:
                parts.append(f"{words[key]}: {f[key]}")
        if "time_from" in f and "time_to" in f:
            parts.append(f"{words['time']}: {_describe_window(f['time_from'], f['time_to'], lang)}")
        if self.unknown:
            parts.append(f"{words['unknown']}: {', '.join(self.unknown)}")
        return " · ".join(parts) if parts else words["nothing"]

    def to_json(self) -> dict[str, Any]:
        """``{"query": {...eval keys, ISO times...}, "interpretation": [...], "unknown": [...]}``
        plus ``text`` (the residual text), ``notes`` and ``lang``."""
        query = {k: v.isoformat() if isinstance(v, datetime) else v
                 for k, v in self.fields.items()}
        return {"query": query, "interpretation": [i.to_json() for i in self.interpretation],
                "unknown": list(self.unknown), "text": self.residual_text or None,
                "notes": list(self.notes), "lang": self.lang}


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


# =============================================================================== assembling


def _category(it: _Item) -> str | None:
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


def _colour_words(c: _Item) -> tuple[tuple[str, ...], str]:
    parts = sorted([c, *c.shades], key=lambda x: x.index)
    words = tuple(w for p in parts for w in p.words)
    note = ""
    if c.shades:
        shades = " ".join(w for s in c.shades for w in s.words)
        note = f"shade {shades!r} ignored: colours are the eleven basic terms"
    return words, note


def _assemble(text: str, items: list[_Item], ctx: TimeContext) -> ParsedText:
    loose = dict((id(c), how) for c, how in _attach(items, ctx.lang))
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
                b.skip(at, it.value, None, words, "a garment without a colour is not searchable")
            for c in it.colours:
                cw, note = _colour_words(c)
                for slot in slots:
                    b.put(at, slot, c.value, _joined(it, words, c, cw), note)
        elif it.kind == "accessory":
            b.imply(at, "person", words)
            b.put(at, "accessory", it.value, words)
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
                b.put(at, "make", it.value, words)
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


def _joined(head: _Item, words: tuple[str, ...], colour: _Item,
            colour_words: tuple[str, ...]) -> tuple[str, ...]:
    """A head's and its colour's words, in reading order."""
    return (*words, *colour_words) if head.index < colour.index else (*colour_words, *words)


def _loose_colour(b: _Builder, c: _Item, how: str, subject: str | None) -> None:
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


# ===================================================================================== API


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
    detected, evidence = _detect_language(tokens)
    ctx = TimeContext(now=now.astimezone(tz), tz=tz, lang=lang or detected,
               evidence=evidence or lang is not None)
    items = _lex(tokens, ctx)
    if all(it.kind in _FILLER for it in items):
        raise QueryError(f"nothing to search for in {text!r}")
    return _assemble(text, items, ctx)

