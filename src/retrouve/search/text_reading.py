"""Reading free text into units: phrases, plates and colours attached to what they describe.

The first half of the free-text parser (:mod:`retrouve.search.text_query` assembles the
result). :func:`lex` cuts folded tokens (``text_vocab.tokenize``) into :class:`Item` units, in
reading order: time expressions, plate phrases, vocabulary phrases (longest match), bare
plate-looking tokens, stop words, then unknown. :func:`attach` then hangs shades on colours and
colours on the nearest object or garment word in the language's direction (French: after the
noun, English: before it), falling back to the other side, and marks negated items. Every word
is in exactly one item. The vocabulary is data (``text_vocab``); nothing here tests a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from retrouve.search.text_fuzzy import near
from retrouve.search.text_time import TimeBit, TimeContext, match_time
from retrouve.search.text_tokens import (
    HAS_DIGIT_OR_WILD,
    MAX_PHRASE_WORDS,
    Token,
    match_phrase,
    phrase_len,
)
from retrouve.search.text_vocab import (
    ALL,
    AMBIGUOUS_WORDS,
    DRESS,
    LEXICON,
    NEGATION,
    ONLY_IN,
    PLATE_KW,
    PLATE_QUAL,
    STOP,
    WORD_LANG,
    Entry,
    Lang,
)

#: Item kinds that never carry meaning of their own.
FILLER: Final = frozenset({"stop", "dress", "all", "neg"})
#: Item kinds a colour can describe.
_HEADS: Final = frozenset({"object", "garment", "accessory", "make", "model"})
#: Item kinds a colour looks past when searching for its head.
_TRANSPARENT: Final = frozenset({"stop", "colour", "shade", "dress", "all", "unknown"})
_PLATE_CHARS: Final = re.compile(r"^[A-Za-z0-9?*.\-]+$")
_PLATE_ORDINAL: Final = re.compile(r"^\d{1,2}(er|e|eme|st|nd|rd|th)$", re.IGNORECASE)


@dataclass
class Item:
    """One reading unit (a phrase) of the text, in reading order.

    Mutable on purpose: :func:`attach` fills ``colours``/``shades``/``negated``/``used`` in
    place. Internal to the parser; never crosses a module boundary outside ``search``.
    ``index`` is the position of its first token in the text.
    """

    index: int
    words: tuple[str, ...]
    kind: str  # time, plate, object, colour, shade, garment, accessory, make, model, + FILLER
    value: str = ""
    extra: str = ""
    bit: TimeBit | None = None
    note: str = ""
    negated: bool = False
    colours: list[Item] = field(default_factory=list)
    shades: list[Item] = field(default_factory=list)
    used: bool = False  # a colour attached somewhere, or a shade attached to a colour


def detect_language(tokens: list[Token]) -> tuple[Lang, bool]:
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
        # A plain word stops the plate unless it could be part of one ("plaque AB 123 CD"):
        # a plate's letter groups are short, so a longer word is the text going on.
        known = norm in STOP or (norm,) in LEXICON or phrase_len(w, j, PLATE_KW)
        wordy = norm.isalpha() and len(norm) > 3
        if (known or wordy) and not HAS_DIGIT_OR_WILD.search(norm):
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


def lex(tokens: list[Token], ctx: TimeContext) -> list[Item]:
    """Cut the tokens into reading units, left to right, longest phrase first."""
    w = [t.norm for t in tokens]
    items: list[Item] = []
    i = 0
    while i < len(tokens):
        def words(n: int, at: int = i) -> tuple[str, ...]:
            return tuple(t.text for t in tokens[at:at + n])

        timed = match_time(w, i, ctx)
        plate = None if timed else _match_plate(tokens, w, i, ctx)
        entry = None if timed or plate else _lookup(w, i, ctx)
        if timed is not None:
            n, bit = timed
            item = Item(i, words(n), "time", bit.label(), bit=bit)
        elif plate is not None:
            n = plate[0]
            item = Item(i, words(n), "plate", plate[1])
        elif entry is not None:
            n, e = entry
            item = Item(i, words(n), e.kind, e.value, e.extra, note=e.note)
            if e.value == "?":
                item.value, item.note = _ambiguous(w[i], ctx)
        else:
            n = 1
            item = Item(i, words(1), _filler_kind(w, i, tokens[i]))
            if item.kind == "unknown":
                item = _near_miss(item, w[i])
            if item.kind == "plate":
                item.value = _plate_pattern([tokens[i].text]) or ""
            elif item.kind == "neg":
                n = phrase_len(w, i, NEGATION)
                item.words = words(n)
        items.append(item)
        i += n
    return items


def _near_miss(item: Item, word: str) -> Item:
    """An unknown word read as the vocabulary word it is a typo of (with a note saying so),
    or left unknown with the tied candidates in its note."""
    found = near(word)
    if found is None:
        return item
    typed = " ".join(item.words)
    if found.entry is None:
        item.note = f"did you mean {' or '.join(repr(c) for c in found.candidates)}?"
        return item
    e = found.entry
    said = f"{typed!r} read as {found.key!r} ({found.typos} typo{'s' if found.typos > 1 else ''})"
    return Item(item.index, item.words, e.kind, e.value, e.extra,
                note="; ".join(n for n in (said, e.note) if n))


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


def _neighbour_head(items: list[Item], k: int, step: int) -> int | None:
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


def attach(items: list[Item], lang: Lang) -> list[tuple[Item, str]]:
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
                if nxt.kind not in FILLER:
                    nxt.negated = True
                    break
    prefer, other = (-1, 1) if lang == "fr" else (1, -1)
    out: list[tuple[Item, str]] = []
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
