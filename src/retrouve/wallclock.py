"""The operator's clock: which zone times are shown and typed in, and how they are printed.

Stored times are aware and in UTC (``domain``); an operator reads and types wall-clock times
in one *operator zone* (the ``site.time_zone`` setting, see :func:`site_zone`), never in
whichever camera happens to come first. Every time shown to a person goes through
:func:`show_time` (CLI tables, web pages through the ``local_time`` Jinja filter, the
coverage report), so all say the same thing the same way: ``2026-01-04 14:03:12 CET`` (French:
``04/01/2026 14:03:12 CET``), the zone's abbreviation after the time, or its UTC offset
(``+04``) where the zone has no abbreviation. JSON keeps the UTC ISO-8601 value and adds the
operator-zone reading beside it (:func:`local_iso`, ``2026-01-04T14:03:12+01:00``).

A typed time without an offset is read in the operator zone by :func:`read_local`, which
refuses the wall-clock times the zone skips (spring daylight-saving gap) or repeats (autumn
fold), naming both readings: silently picking one would shift a search or a recording by an
hour. ``catalogue.sources.local_time`` uses it for recordings' start times.

Pure functions, lowest layer: no I/O, nothing above ``errors``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from retrouve.errors import InputError, Word

__all__ = ["DEFAULT_ZONE", "camera_note", "local_iso", "read_local", "show_time",
           "site_zone", "zone_of"]

#: The operator zone when the setting is unset and the cameras do not share one zone.
DEFAULT_ZONE: Final = "Europe/Paris"

_FORMATS: Final = {"fr": ("%d/%m/%Y", "%H:%M:%S"), "en": ("%Y-%m-%d", "%H:%M:%S")}


def zone_of(name: str, error: type[InputError] = InputError) -> ZoneInfo:
    """The zone named ``name`` (IANA, e.g. ``Europe/Paris``); ``error`` when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: "../x", empty names
        raise error(f"unknown time zone {name!r} (e.g. Europe/Paris)",
                    key="time.unknown_zone", params={"zone": name}) from None


def site_zone(configured: str | None, camera_zones: Iterable[str]) -> str:
    """The operator zone: ``configured`` (``site.time_zone``) when set, else the zone every
    registered camera shares, else :data:`DEFAULT_ZONE`. Never depends on camera order."""
    if configured:
        return configured
    zones = set(camera_zones)
    return zones.pop() if len(zones) == 1 else DEFAULT_ZONE


def _abbreviation(when: datetime) -> str:
    """``CET``/``BST``/``UTC``; tzdata's numeric names (``+04``) are already offsets."""
    name = when.tzname()
    if name:
        return name
    offset = when.strftime("%z")  # +0100
    return f"{offset[:3]}:{offset[3:]}" if offset else "UTC"


def show_time(when: datetime, zone: ZoneInfo | str, lang: str = "en", *,
              date: bool = True) -> str:
    """``when`` (aware) as the operator reads it in ``zone``: ``2026-01-04 14:03:12 CET``
    (``lang`` ``fr``: ``04/01/2026 14:03:12 CET``); ``date=False``: ``14:03:12 CET``."""
    z = zone if isinstance(zone, ZoneInfo) else zone_of(zone)
    local = when.astimezone(z)
    day_fmt, time_fmt = _FORMATS.get(lang, _FORMATS["en"])
    fmt = f"{day_fmt} {time_fmt}" if date else time_fmt
    return f"{local.strftime(fmt)} {_abbreviation(local)}"


def camera_note(when: datetime, zone: ZoneInfo | str, camera_zone: str, lang: str = "en"
                ) -> str:
    """The camera's own local time when its zone reads ``when`` differently from the
    operator's (``camera 13:03:12 GMT``), else an empty string."""
    z = zone if isinstance(zone, ZoneInfo) else zone_of(zone)
    cz = zone_of(camera_zone)
    mine, theirs = when.astimezone(z), when.astimezone(cz)
    if mine.utcoffset() == theirs.utcoffset() and mine.tzname() == theirs.tzname():
        return ""
    word = "caméra" if lang == "fr" else "camera"
    same_day = mine.date() == theirs.date()
    return f"{word} {show_time(when, cz, lang, date=not same_day)}"


def local_iso(when: datetime, zone: ZoneInfo | str) -> str:
    """``when`` in ``zone`` as ISO-8601 with its offset (``2026-01-04T14:03:12+01:00``):
    the ``*_local`` fields beside the UTC ones in JSON."""
    z = zone if isinstance(zone, ZoneInfo) else zone_of(zone)
    return when.astimezone(z).isoformat()


def read_local(naive: datetime, zone: str, what: str | Word,
               error: type[InputError] = InputError) -> datetime:
    """``naive`` wall-clock time in ``zone`` (aware), refusing with ``error`` a time the
    zone skips (the spring daylight-saving gap) or repeats (the autumn fold), naming the
    offset(s) to give instead, and a time out of range."""
    z = zone_of(zone, error)
    first, second = naive.replace(tzinfo=z, fold=0), naive.replace(tzinfo=z, fold=1)
    try:
        back = first.astimezone(UTC).astimezone(z).replace(tzinfo=None)
        ambiguous = first.utcoffset() != second.utcoffset()
    except OverflowError as exc:
        raise error(key="time.out_of_range", params={"what": what}) from exc
    if back != naive:
        raise error(key="time.dst_gap", params={"what": what, "zone": zone})
    if ambiguous:
        raise error(key="time.dst_fold", params={"what": what, "zone": zone,
                                                 "first": first.isoformat(),
                                                 "second": second.isoformat()})
    return first
