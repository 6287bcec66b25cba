"""Time expressions of free-text queries, French and English, resolved against an explicit now.

"hier", "ce matin", "cette nuit", "lundi", "le 12/11", "le 12 novembre", "entre 14h et 16h",
"de 14h30 à 15h", "vers 15h" (±30 min), "après 18h", "avant 9h", "depuis 2 heures",
"il y a 2 heures", "yesterday", "this morning", "last night", "between 2pm and 4pm",
"from 14:00 to 16:00", "around 3pm", "after 6 pm", "on 12 November", "in the last 2 hours".

A query's time words are read as *bits* (a day, a part of the day, hours, or a relative span);
:func:`time_window` combines one of each kind into ``[start, end)`` in the operator's zone.
Without a day, hours mean their most recent occurrence that has started (a posteriori search).
All arithmetic on durations is done in UTC so that it stays right across daylight-saving days.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from retrouve.errors import QueryError
from retrouve.search.text_tokens import (
    match_phrase,
    phrase_key,
    phrase_len,
    phrase_set,
    phrases,
    word_set,
)
from retrouve.search.text_vocab import (
    AGO_AFTER,
    AGO_BEFORE,
    AROUND,
    CLOCK_KEYWORDS,
    CLOCK_WORDS,
    DAY_PART_PHRASES,
    DAY_WORDS,
    DURATION_UNITS,
    FIXED_DURATIONS,
    LAST_WORDS,
    MONTHS,
    NUMBER_WORDS,
    PART_HOURS,
    PART_WORDS,
    RANGE_SEPARATORS,
    RECENT_WORDS,
    SINCE_WORDS,
    THIS_WORDS,
    WEEKDAYS,
    Lang,
)

# ==================================================================================== time


@dataclass(frozen=True)
class _Clock:
    hour: int
    minute: int
    meridiem: str | None  # "am", "pm" or None (24-hour)
    explicit: bool  # a unit was written ("14h", "14:00", "3pm")

    def label(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"


@dataclass(frozen=True)
class _Day:
    day: date
    since: bool = False

    def label(self) -> str:
        return ("since " if self.since else "") + self.day.isoformat()


@dataclass(frozen=True)
class _Part:
    name: str
    anchor: date | None  # the day the part belongs to (None: the most recent one)
    since: bool = False

    def label(self) -> str:
        day = f"{self.anchor.isoformat()} " if self.anchor else ""
        return ("since " if self.since else "") + day + self.name


@dataclass(frozen=True)
class _Hours:
    kind: str  # range, around, after, before
    a: _Clock
    b: _Clock | None = None
    since: bool = False

    def label(self) -> str:
        if self.kind == "range" and self.b:
            return f"{self.a.label()}-{self.b.label()}"
        return {"around": "~", "after": ">= ", "before": "< "}[self.kind] + self.a.label()


@dataclass(frozen=True)
class _Span:
    start: datetime
    end: datetime

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M}-{self.end:%H:%M}"


TimeBit = _Day | _Part | _Hours | _Span


@dataclass(frozen=True)
class TimeContext:
    now: datetime  # in tz
    tz: ZoneInfo
    lang: Lang
    evidence: bool  # whether any word told the language

    @property
    def today(self) -> date:
        return self.now.date()


_CLOCK_RE: Final = re.compile(r"^(\d{1,2})(?:([h:.])(\d{2})?)?(am|pm|a\.m|p\.m)?$")
_HOUR_UNITS: Final = word_set("h, heure, heures, hr, hrs, o'clock")
_MERIDIEM: Final[dict[str, str]] = {"am": "am", "a.m": "am", "pm": "pm", "p.m": "pm"}
_MINUTES: Final = re.compile(r"^\d{2}$")
_ORDINAL: Final = re.compile(r"^(\d{1,2})(?:er|e|eme|st|nd|rd|th)?$")
_DMY: Final = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?$")
_ISO_DATE: Final = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YEAR: Final = re.compile(r"^(19|20)\d{2}$")
_COMPACT_DURATION: Final = re.compile(r"^(\d{1,3})(h|min|mn|j)$")
_COMPACT_UNITS: Final[dict[str, timedelta]] = {
    "h": timedelta(hours=1), "min": timedelta(minutes=1), "mn": timedelta(minutes=1),
    "j": timedelta(days=1),
}
_MONTH: Final[dict[tuple[str, ...], int]] = {
    k: n for n, csv in enumerate(MONTHS, start=1) for k in phrases(csv)
}
_WEEKDAY: Final[dict[tuple[str, ...], int]] = {
    k: n for n, (fr, en) in enumerate(WEEKDAYS) for k in phrases(f"{fr}, {en}")
}
_DAY_WORD: Final = {phrase_key(k): v for k, v in DAY_WORDS.items()}
_PART_WORD: Final = {phrase_key(k): v for k, v in PART_WORDS.items()}
_DAY_PART: Final = {phrase_key(k): v for k, v in DAY_PART_PHRASES.items()}
_CLOCK_KW: Final = {phrase_key(k): v for k, v in CLOCK_KEYWORDS.items()}
# "-" is not a word for the tokeniser: it only appears where "14h-16h" was split.
_RANGE_SEP: Final = phrase_set(RANGE_SEPARATORS) | {("-",)}
_THIS: Final = phrase_set(THIS_WORDS)
_LAST: Final = phrase_set(LAST_WORDS)
_SINCE: Final = phrase_set(SINCE_WORDS)
_RECENT: Final = phrase_set(RECENT_WORDS)
_AGO_BEFORE: Final = phrase_set(AGO_BEFORE)
_AGO_AFTER: Final = phrase_set(AGO_AFTER)
_FIXED: Final = {phrase_key(k): v for k, v in FIXED_DURATIONS.items()}
_UNITS: Final = {phrase_key(k): v for k, v in DURATION_UNITS.items()}
_AROUND_AFTER: Final = phrase_set("environ, approximately, approx, ish")


def _clock(w: list[str], i: int, *, bare: bool) -> tuple[int, _Clock] | None:
    """A clock time at word ``i``: "14h", "14h30", "14:30", "14 h 30", "2pm", "2 pm", "midi".
    A bare number ("entre 14 et 16h") only when ``bare``."""
    if i >= len(w):
        return None
    if w[i] in CLOCK_WORDS:
        return 1, _Clock(CLOCK_WORDS[w[i]], 0, None, True)
    m = _CLOCK_RE.match(w[i])
    if not m:
        return None
    hour, minute, n = int(m.group(1)), int(m.group(3) or 0), 1
    meridiem = _MERIDIEM.get(m.group(4) or "")
    explicit = bool(m.group(2) or meridiem)
    if not explicit and i + 1 < len(w):
        if w[i + 1] in _HOUR_UNITS:
            explicit, n = True, 2
            if i + 2 < len(w) and _MINUTES.match(w[i + 2]):
                minute, n = int(w[i + 2]), 3
        elif w[i + 1] in _MERIDIEM:
            meridiem, explicit, n = _MERIDIEM[w[i + 1]], True, 2
    if not (explicit or bare) or minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    return n, _Clock(hour, minute, meridiem, explicit)


def _pm_like(a: _Clock, b: _Clock) -> _Clock:
    """"between 2 and 4pm": ``a`` takes ``b``'s pm when it has none and stays before ``b``."""
    if a.meridiem is None and b.meridiem == "pm" and a.hour < 12 and a.hour + 12 <= b.hour:
        return replace(a, hour=a.hour + 12, meridiem="pm")
    return a


def _range_from(w: list[str], j: int, first: tuple[int, _Clock]) -> tuple[int, _Hours] | None:
    """``first`` clock at ``j``, then a separator and a second clock: a range."""
    n1, a = first
    k = j + n1
    sep = phrase_len(w, k, _RANGE_SEP)
    second = _clock(w, k + sep, bare=True) if sep else _clock(w, k, bare=False)
    if second is None or not (a.explicit or second[1].explicit):
        return None
    b = second[1]
    return k + sep + second[0] - j, _Hours("range", _pm_like(a, b), _pm_like(b, a))


def _m_clock(w: list[str], i: int, ctx: TimeContext) -> tuple[int, TimeBit] | None:
    """Keyword + clock ("vers 15h", "entre 14h et 16h"), or a bare explicit clock or range."""
    kw = match_phrase(w, i, _CLOCK_KW)
    if kw is not None:
        n, (kind, strict) = kw
        first = _clock(w, i + n, bare=not strict)
        if first is None:
            return None
        if kind in ("range", "from"):
            rng = _range_from(w, i + n, first)
            if rng is not None:
                return n + rng[0], rng[1]
            if kind == "range" or not first[1].explicit:
                return None
            kind = "after"
        elif not first[1].explicit and kind == "around" and strict:
            return None
        return n + first[0], _Hours(kind, first[1])
    first = _clock(w, i, bare=False)
    if first is None:
        return None
    rng = _range_from(w, i, first)
    if rng is not None:
        return rng
    n = first[0] + phrase_len(w, i + first[0], _AROUND_AFTER)
    return n, _Hours("around", first[1])


def _duration(w: list[str], i: int, *, bare_unit: bool = False) -> tuple[int, timedelta] | None:
    """"2 heures", "30 min", "24h", "deux jours", "une demi-heure"; a unit alone
    ("last hour") when ``bare_unit``."""
    fixed = match_phrase(w, i, _FIXED)
    if fixed is not None:
        return fixed
    if i >= len(w):
        return None
    m = _COMPACT_DURATION.match(w[i])
    if m:
        return 1, int(m.group(1)) * _COMPACT_UNITS[m.group(2)]
    count = int(w[i]) if w[i].isdigit() else NUMBER_WORDS.get(w[i])
    if count is not None:
        unit = match_phrase(w, i + 1, _UNITS)
        if unit is not None:
            return 1 + unit[0], count * unit[1]
    if bare_unit:
        unit = match_phrase(w, i, _UNITS)
        if unit is not None and w[i] != "h":
            return unit
    return None


def _utc_shift(when: datetime, delta: timedelta, tz: ZoneInfo) -> datetime:
    """``when + delta`` in elapsed time (right across daylight-saving changes)."""
    return (when.astimezone(UTC) + delta).astimezone(tz)


def _m_relative(w: list[str], i: int, ctx: TimeContext) -> tuple[int, TimeBit] | None:
    """"in the last 2 hours", "les 2 dernières heures", "il y a 1 heure", "3 hours ago"."""
    now = ctx.now
    recent = phrase_len(w, i, _RECENT)
    if recent:
        d = _duration(w, i + recent, bare_unit=True)
        if d is not None:
            return recent + d[0], _Span(_utc_shift(now, -d[1], ctx.tz), now)
    if i < len(w) and (w[i].isdigit() or w[i] in NUMBER_WORDS):
        recent = phrase_len(w, i + 1, _RECENT)
        unit = match_phrase(w, i + 1 + recent, _UNITS) if recent else None
        if unit is not None:
            count = int(w[i]) if w[i].isdigit() else NUMBER_WORDS[w[i]]
            return 1 + recent + unit[0], _Span(_utc_shift(now, -count * unit[1], ctx.tz), now)
    ago = phrase_len(w, i, _AGO_BEFORE)
    d = _duration(w, i + ago) if ago else _duration(w, i)
    if d is not None and (ago or phrase_len(w, i + d[0], _AGO_AFTER)):
        centre = _utc_shift(now, -d[1], ctx.tz)
        n = ago + d[0] + (0 if ago else 1)
        return n, _Span(_utc_shift(centre, -AROUND, ctx.tz), _utc_shift(centre, AROUND, ctx.tz))
    return None


def _m_since(w: list[str], i: int, ctx: TimeContext) -> tuple[int, TimeBit] | None:
    """"depuis 2 heures" (a duration), "depuis hier"/"since Monday" (from then to now),
    "depuis 14h" (after 14:00). "depuis 2h" is a clock time; "depuis N heures" is a duration
    for N ≤ 12 or N ≥ 24 (nobody means "the last 15 hours")."""
    n = phrase_len(w, i, _SINCE)
    if not n:
        return None
    d = _duration(w, i + n)
    if d is not None:
        word = w[i + n]
        hours = d[1] / timedelta(hours=1)
        clocky = _CLOCK_RE.match(word) is not None or word.endswith("h")
        if not clocky or hours >= 24 or (d[0] > 1 and w[i + n + 1] != "h" and hours <= 12):
            return n + d[0], _Span(_utc_shift(ctx.now, -d[1], ctx.tz), ctx.now)
    for matcher in (_m_day, _m_date):
        hit = matcher(w, i + n, ctx)
        if hit is not None and isinstance(hit[1], _Day | _Part):
            return n + hit[0], replace(hit[1], since=True)
    first = _clock(w, i + n, bare=False)
    if first is not None:
        return n + first[0], _Hours("after", first[1], since=True)
    return None


def _m_day(w: list[str], i: int, ctx: TimeContext) -> tuple[int, TimeBit] | None:
    """"hier", "avant-hier", "ce matin", "la nuit dernière", "lundi", "last Monday"."""
    today = ctx.today
    hit: tuple[int, Any] | None = match_phrase(w, i, _DAY_PART)
    if hit is not None:
        part, offset = hit[1]
        return hit[0], _Part(part, _night_anchor(ctx) if offset is None else today)
    hit = match_phrase(w, i, _DAY_WORD)
    if hit is not None:
        return hit[0], _Day(today + timedelta(days=hit[1]))
    this = phrase_len(w, i, _THIS)
    hit = match_phrase(w, i + this, _PART_WORD)
    if hit is not None:
        n = this + hit[0]
        if hit[1] == "night" and (this or phrase_len(w, i + n, _LAST)):
            return n + phrase_len(w, i + n, _LAST), _Part("night", _night_anchor(ctx))
        return n, _Part(hit[1], today if this else None)
    last = phrase_len(w, i, _LAST)
    hit = match_phrase(w, i + last, _WEEKDAY)
    if hit is not None:
        n = last + hit[0]
        n += phrase_len(w, i + n, _LAST)
        # The most recent such day strictly before today: on a Monday, "lundi" is last week's
        # (today is "aujourd'hui").
        back = (today.weekday() - hit[1]) % 7 or 7
        return n, _Day(today - timedelta(days=back))
    return None


def _night_anchor(ctx: TimeContext) -> date:
    """The evening the night "cette nuit"/"last night" began: tonight once it has started."""
    start = PART_HOURS["night"][0]
    return ctx.today if ctx.now.hour >= start else ctx.today - timedelta(days=1)


def _m_date(w: list[str], i: int, ctx: TimeContext) -> tuple[int, TimeBit] | None:
    """"12/11", "12/11/2025", "2025-11-12", "12 novembre", "1er nov 2025", "November 12th"."""
    if i >= len(w):
        return None
    words = w[i]
    year: int | None = None
    m = _DMY.match(words)
    iso = _ISO_DATE.match(words)
    if m:
        n, day, month = 1, int(m.group(1)), int(m.group(2))
        if m.group(3):
            year = int(m.group(3)) + (2000 if len(m.group(3)) == 2 else 0)
    elif iso:
        n, year, month, day = 1, int(iso.group(1)), int(iso.group(2)), int(iso.group(3))
    else:
        d = _ORDINAL.match(words)
        month_first = match_phrase(w, i, _MONTH)
        if d and (mon := match_phrase(w, i + 1, _MONTH)) is not None:
            n, day, month = 1 + mon[0], int(d.group(1)), mon[1]
        elif month_first is not None and i + month_first[0] < len(w) and (
            d2 := _ORDINAL.match(w[i + month_first[0]])
        ):
            n, day, month = month_first[0] + 1, int(d2.group(1)), month_first[1]
        else:
            return None
        if i + n < len(w) and _YEAR.match(w[i + n]):
            year, n = int(w[i + n]), n + 1
    try:
        when = date(year or ctx.today.year, month, day)
        if year is None and when > ctx.today:
            # No year: the most recent such date (footage is in the past).
            when = date(ctx.today.year - 1, month, day)
    except ValueError:
        raise QueryError(f"no such date: {' '.join(w[i:i + n])!r}", key="time.no_such_date",
                         params={"text": " ".join(w[i:i + n])}) from None
    return n, _Day(when)


_Matcher = Callable[[list[str], int, TimeContext], tuple[int, TimeBit] | None]
_TIME_MATCHERS: Final[tuple[_Matcher, ...]] = (_m_since, _m_relative, _m_day, _m_date, _m_clock)


def match_time(w: list[str], i: int, ctx: TimeContext) -> tuple[int, TimeBit] | None:
    for matcher in _TIME_MATCHERS:
        hit = matcher(w, i, ctx)
        if hit is not None:
            return hit
    return None


def _at(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    """Wall-clock ``hour:minute`` of ``day`` in ``tz``; hours ≥ 24 run into the next days."""
    extra, hour = divmod(hour, 24)
    return datetime.combine(day + timedelta(days=extra), time(hour, minute), tzinfo=tz)


def time_window(bits: dict[str, tuple[TimeBit, str]],
                ctx: TimeContext) -> tuple[datetime, datetime]:
    """Combine the kept time bits (one per kind: span, day, part, hours) into a window."""
    if "span" in bits:
        span = bits["span"][0]
        assert isinstance(span, _Span)
        return span.start, span.end
    day = bits["day"][0] if "day" in bits else None
    part = bits["part"][0] if "part" in bits else None
    hours = bits["hours"][0] if "hours" in bits else None
    assert day is None or isinstance(day, _Day)
    assert part is None or isinstance(part, _Part)
    assert hours is None or isinstance(hours, _Hours)
    tz = ctx.tz
    p0, p1 = PART_HOURS[part.name] if part else (0, 24)

    def hour_of(c: _Clock) -> int:
        # "ce soir vers 9h" is 21:00; "cette nuit vers 3h" is 03:00 the next morning.
        if part and c.meridiem is None and c.hour < 12:
            if part.name in ("afternoon", "evening"):
                return c.hour + 12
            if part.name == "night":
                return c.hour + 24
        return c.hour

    def build(d: date) -> tuple[datetime, datetime]:
        if hours is None:
            return _at(d, p0, 0, tz), _at(d, p1, 0, tz)
        a = _at(d, hour_of(hours.a), hours.a.minute, tz)
        if hours.kind == "range" and hours.b is not None:
            return a, _at(d, hour_of(hours.b), hours.b.minute, tz)
        if hours.kind == "around":
            return _utc_shift(a, -AROUND, tz), _utc_shift(a, AROUND, tz)
        if hours.kind == "after":
            return a, _at(d, p1, 0, tz)
        return _at(d, p0, 0, tz), a

    anchor = day.day if day else part.anchor if part else None
    if anchor is None:
        # No day given: the most recent occurrence that has started.
        start, end = build(ctx.today)
        if start > ctx.now:
            start, end = build(ctx.today - timedelta(days=1))
    else:
        start, end = build(anchor)
    if any(b is not None and b.since for b in (day, part, hours)) and ctx.now > start:
        end = ctx.now
    if end <= start:
        words = " ".join(v[1] for v in bits.values())
        raise QueryError(f"time window {words!r} ends before it starts: "
                         f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} (for a window "
                         "across midnight say 'cette nuit'/'last night' or give two dates)",
                         key="time.ends_before_start",
                         params={"words": words, "start": f"{start:%Y-%m-%d %H:%M}",
                                 "end": f"{end:%Y-%m-%d %H:%M}"})
    return start, end


def time_kind(bit: TimeBit) -> str:
    """The kind of a time bit: ``span``, ``day``, ``part`` or ``hours`` (one of each is kept)."""
    return {_Span: "span", _Day: "day", _Part: "part", _Hours: "hours"}[type(bit)]
