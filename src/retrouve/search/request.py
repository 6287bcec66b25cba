"""One search request, from whichever front end, turned into one :class:`Query`.

The CLI's ``search`` options, the web search form (and the track page's previous/next links)
and ``GET /api/search`` are all generated from one table of criteria
(``retrouve.search.criteria.CRITERIA``); each fills a :class:`SearchRequest` from its values
(:meth:`SearchRequest.from_values`) and calls :func:`build_query`, so the three cannot
disagree on which fields there are, nor on how a field, a time or free text is read. What
still differs between front ends is passed in, not re-implemented:

* **wording**: how the time fields and the way to give a zone are named in error messages
  (``--from``/``a --camera`` on the command line, ``from``/``a camera`` on the web);
* **default zone** of times typed without an offset when no camera is given (the pages use the
  first registered camera's; the CLI and the API have none and refuse such times);
* **language** of the free-text summary, and the **operator zone** free text is read in (the
  CLI's ``--tz``; the web reads it in the camera's zone).

Free text goes through ``retrouve.search.text_query.parse_text`` (loaded by
:func:`load_parse_text`); explicit fields win over what the text says about the same field.
Without a parser, or when it fails on a bug, the text is searched as is and the caller is told.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Protocol, Self, cast
from zoneinfo import ZoneInfo

from retrouve.domain import Camera, Query, ScopeWindow
from retrouve.errors import QueryError, QueryTooLong, RetrouveError
from retrouve.search.criteria import CRITERIA, ORDERS
from retrouve.search.engine import Searcher, SearchResult, parse_wall_time

log = logging.getLogger(__name__)

__all__ = ["CLI_WORDING", "FALLBACK_ZONE", "ORDERS", "WEB_WORDING", "BuiltQuery",
           "CameraLookup", "ParseText", "ParsedTextLike", "SearchOutcome", "SearchRequest",
           "Wording", "build_query", "load_parse_text", "operator_lang", "run_search"]

TEXT_QUERY_MODULE: Final = "retrouve.search.text_query"
#: Operator zone assumed when a front end gives none and no camera has one.
FALLBACK_ZONE: Final = "UTC"


class ParsedTextLike(Protocol):
    """What ``retrouve.search.text_query.parse_text`` returns.

    :func:`build_query` uses only ``to_query`` and ``describe``; ``to_json`` is read only by
    :meth:`BuiltQuery.reading` (the CLI's ``interpretation``)."""

    def to_query(self, base: Query) -> Query: ...

    def describe(self, lang: str) -> str: ...

    def to_json(self) -> dict[str, Any]: ...


#: ``parse_text(text, *, now, tz)``.
ParseText = Callable[..., ParsedTextLike]


def load_parse_text() -> ParseText | None:
    """``parse_text`` if its module imports, else None (front ends then search the text as is)."""
    try:
        module = importlib.import_module(TEXT_QUERY_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != TEXT_QUERY_MODULE:
            log.warning("free-text parsing unavailable: %s", exc)
        return None
    except Exception as exc:  # a broken parser must not take the search down with it
        log.warning("free-text parsing unavailable: %s: %s", type(exc).__name__, exc)
        return None
    fn = getattr(module, "parse_text", None)
    return cast(ParseText, fn) if callable(fn) else None


class CameraLookup(Protocol):
    """The one store call a request needs: a camera by id, or ``UnknownCameraError``."""

    def require_camera(self, camera_id: str) -> Camera: ...


@dataclass(frozen=True)
class Wording:
    """How a front end names things in the error messages :func:`build_query` raises."""

    time_from: str
    time_to: str
    #: How to give a zone to a time without an offset ("add one (+01:00) or <zone_hint>").
    zone_hint: str


CLI_WORDING: Final = Wording("--from", "--to", "a --camera")
WEB_WORDING: Final = Wording("from", "to", "a camera")


@dataclass(frozen=True)
class SearchRequest:
    """A search as an operator typed it: strings as given (blank fields None), not validated.

    ``time_from``/``time_to`` are ISO-8601 text, read in the first camera's zone when they
    carry no offset. ``text`` is free text (French or English). ``operator_zone`` (IANA) is
    the zone free text's times ("hier 14h") are read in; None: the first camera's, else the
    front end's default zone, else UTC. ``like`` is a track id (find similar).

    The fields other than ``operator_zone`` are the criteria of
    ``retrouve.search.criteria.CRITERIA`` (a test keeps the two equal).
    """

    cameras: tuple[str, ...] = ()
    time_from: str | None = None
    time_to: str | None = None
    object: str | None = None
    colour: str | None = None
    upper: str | None = None
    lower: str | None = None
    accessory: str | None = None
    plate: str | None = None
    make: str | None = None
    model: str | None = None
    text: str | None = None
    like: int | None = None
    operator_zone: str | None = None
    limit: int = 20
    offset: int = 0
    order: str = "score"

    @classmethod
    def from_values(cls, values: Mapping[str, Any], *,
                    operator_zone: str | None = None) -> Self:
        """The request for a front end's values, keyed by criterion attribute (``time_from``,
        not ``from``), as its library parsed them: a missing or None value takes the
        criterion's default; a repeatable one (``cameras``) becomes a tuple, duplicates kept
        (``build_query`` drops them). Keys that are not criteria are a ``TypeError`` (a
        front end out of step with the table)."""
        unknown = set(values) - {c.attr for c in CRITERIA}
        if unknown:
            raise TypeError(f"not search criteria: {sorted(unknown)}")
        fields: dict[str, Any] = {}
        for c in CRITERIA:
            value = values.get(c.attr)
            if c.repeatable:
                fields[c.attr] = tuple(value or ())
            elif value is not None:
                fields[c.attr] = value
            elif c.default is not None:
                fields[c.attr] = c.default
        return cls(**fields, operator_zone=operator_zone)


@dataclass(frozen=True)
class BuiltQuery:
    """A query ready for the searcher, plus what to tell the operator about it."""

    query: Query
    order: str
    #: How the free text was understood (``ParsedText.describe``), when it was parsed.
    understood: str | None = None
    #: The free text could not be parsed (no parser, or it failed): searched as is.
    text_unparsed: bool = False
    #: The parsed free text, when there was some and it was parsed.
    parsed: ParsedTextLike | None = None

    def reading(self) -> dict[str, Any] | None:
        """The free text's reading (``ParsedText.to_json()`` plus ``describe``, the summary),
        None when no text was parsed. Keys ``query``, ``interpretation``, ``unknown``…"""
        if self.parsed is None:
            return None
        return {**self.parsed.to_json(), "describe": self.understood}


def operator_lang(zone: str) -> str:
    """The language of a free-text summary on the command line: French for an operator in
    Paris' zone, else English."""
    return "fr" if zone.startswith("Europe/Paris") else "en"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        raise QueryError(f"unknown time zone {name!r} (e.g. Europe/Paris)") from None


def check_lengths(request: SearchRequest) -> None:
    """``QueryTooLong`` for any text criterion longer than its ``max_length`` (characters):
    the same bound at every front end (the API's 422 comes first there; the form and the CLI
    get this 400 / exit 2), before any parsing or SQL sees the text."""
    for c in CRITERIA:
        value = getattr(request, c.attr, None)
        if c.max_length is None or not isinstance(value, str):
            continue
        if len(value) > c.max_length:
            raise QueryTooLong(f"{c.param}: {len(value)} characters, at most {c.max_length}")


def build_query(request: SearchRequest, cameras: CameraLookup, *, clock: Callable[[], datetime],
                lang: str, wording: Wording, default_zone: str | None = None,
                text_parser: Callable[[], ParseText | None] = load_parse_text) -> BuiltQuery:
    """The :class:`Query` for ``request``.

    Checks text lengths (:func:`check_lengths`), then that every camera exists
    (``UnknownCameraError``), reads the times in the first camera's zone (else
    ``default_zone``; none: a time without an offset is a ``QueryError`` worded with
    ``wording``), then merges the free text: fields the request sets win over the
    text's. ``clock`` (aware now) and ``text_parser`` are only called for free text; ``lang``
    is the summary's language. Paging and order are the request's, never the text's. The
    query is not validated here: ``Searcher.search`` does that.
    """
    check_lengths(request)
    cams = tuple(dict.fromkeys(request.cameras))
    zone = cameras.require_camera(cams[0]).timezone if cams else default_zone
    for cam in cams[1:]:
        cameras.require_camera(cam)
    base = Query(
        cameras=cams,
        time_from=parse_wall_time(request.time_from, zone, wording.time_from, wording.zone_hint),
        time_to=parse_wall_time(request.time_to, zone, wording.time_to, wording.zone_hint),
        object=request.object, colour=request.colour, upper=request.upper,
        lower=request.lower, accessory=request.accessory, plate=request.plate,
        make=request.make, model=request.model, like_track=request.like,
        limit=request.limit, offset=request.offset,
    )
    if not request.text:
        return BuiltQuery(base, request.order)
    tz = _zone(request.operator_zone or zone or FALLBACK_ZONE)
    unparsed = BuiltQuery(replace(base, text=request.text), request.order, text_unparsed=True)
    parse_text = text_parser()
    if parse_text is None:
        return unparsed
    try:
        parsed = parse_text(request.text, now=clock(), tz=tz)
        query = parsed.to_query(base)
        understood = parsed.describe(lang)
    except RetrouveError:
        raise  # the operator's text is at fault (QueryError names the word)
    except Exception:  # a parser bug: search the text as is rather than fail the search
        log.exception("free-text parsing failed; searching the text as is")
        return unparsed
    # The parser fills criteria; paging stays the caller's.
    query = replace(query, limit=request.limit, offset=request.offset)
    return BuiltQuery(query, request.order, understood=understood, parsed=parsed)



@dataclass(frozen=True)
class SearchOutcome:
    """A request's query as built (with its free-text reading) and the searcher's result."""

    built: BuiltQuery
    result: SearchResult


def run_search(searcher: Searcher, request: SearchRequest, *, clock: Callable[[], datetime],
               lang: str, wording: Wording, default_zone: str | None = None,
               text_parser: Callable[[], ParseText | None] = load_parse_text,
               spread: int = 0, scope: tuple[ScopeWindow, ...] | None = None
               ) -> SearchOutcome:
    """Build ``request``'s query (:func:`build_query`, cameras looked up in the searcher's
    store) and run it in the request's order; ``spread`` and ``scope`` (a case's windows)
    as in :meth:`Searcher.search`. The one call a front end makes for a search."""
    built = build_query(request, searcher.store, clock=clock, lang=lang, wording=wording,
                        default_zone=default_zone, text_parser=text_parser)
    return SearchOutcome(built, searcher.search(built.query, built.order, spread=spread,
                                                scope=scope))
