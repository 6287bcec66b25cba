"""One search request, from whichever front end, turned into one :class:`Query`.

The CLI's ``search`` options, the web search form (and the track page's previous/next links)
and ``GET /api/search`` are all generated from one table of criteria
(``retrouve.search.criteria.CRITERIA``); each fills a :class:`SearchRequest` from its values
(:meth:`SearchRequest.from_values`) and calls :func:`build_query`, so the three cannot
disagree on which fields there are, nor on how a field, a time or free text is read. What
still differs between front ends is passed in, not re-implemented:

* **wording**: how the time fields and the way to give a zone are named in error messages
  (``--from``/``a --camera`` on the command line, ``from``/``a camera`` on the web);
* **operator zone** typed times and free text are read in (the CLI's ``--tz``, else the
  site's ``site.time_zone`` through ``Services.search``; never a camera's, so the order of
  cameras cannot change the window);
* **language** of the free-text summary.

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
from retrouve.search.engine import Capabilities, Searcher, SearchResult, parse_wall_time

log = logging.getLogger(__name__)

__all__ = ["CLI_WORDING", "FALLBACK_ZONE", "ORDERS", "WEB_WORDING", "BuiltQuery",
           "CameraLookup", "ParseText", "ParsedTextLike", "SearchOutcome", "SearchRequest",
           "Wording", "build_query", "fit_capabilities", "ignored_line", "load_parse_text",
           "operator_lang", "run_search"]

TEXT_QUERY_MODULE: Final = "retrouve.search.text_query"
#: Operator zone assumed when a front end gives none and no camera has one.
FALLBACK_ZONE: Final = "UTC"


class ParsedTextLike(Protocol):
    """What ``retrouve.search.text_query.parse_text`` returns.

    :func:`build_query` uses only ``to_query`` and ``describe``; ``to_json`` is read by
    :meth:`BuiltQuery.reading` (the CLI's ``interpretation``) and, with ``without``, by
    :func:`fit_capabilities`, which leaves a parser without them as it is."""

    def to_query(self, base: Query) -> Query: ...

    def describe(self, lang: str) -> str: ...

    def to_json(self) -> dict[str, Any]: ...

    def without(self, *fields: str) -> ParsedTextLike: ...


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

    ``time_from``/``time_to`` are ISO-8601 text, read in the operator zone when they carry
    no offset. ``text`` is free text (French or English). ``operator_zone`` (IANA) is the
    zone typed times and free text's times ("hier 14h") are read in, whichever cameras are
    searched; None: the front end's default zone (``Services.search``: the site's operator
    zone), else UTC for free text. ``like`` is a track id (find similar).

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
    #: Words of the free text that do not shape the search (not understood, with no image
    #: ranking to use them; a make/model without its pack), in reading order.
    ignored: tuple[str, ...] = ()
    #: What the operator must be told about how the text was searched, in their language
    #: (a make/model not available and what was searched instead).
    notices: tuple[str, ...] = ()

    def reading(self) -> dict[str, Any] | None:
        """The free text's reading (``ParsedText.to_json()`` plus ``describe``, the summary,
        ``ignored`` and ``notices``), None when no text was parsed. Keys ``query``,
        ``interpretation``, ``unknown``…"""
        if self.parsed is None:
            return None
        return {**self.parsed.to_json(), "describe": self.understood,
                "ignored": list(self.ignored), "notices": list(self.notices)}


#: The make/model fallback, in the operator's language: the words, then what was searched.
_NO_MAKE_MODEL: Final = {
    "fr": "marque/modèle non disponible (aucun pack marque/modèle installé) : {words} n'est "
          "pas cherché ; recherche lancée sur : {rest}",
    "en": "make/model is not available (no make/model pack installed): {words} is not "
          "searched; searched instead: {rest}",
}
_IGNORED_WORD: Final = {"fr": "ignoré", "en": "ignored"}


def ignored_line(built: BuiltQuery, lang: str) -> str | None:
    """``ignoré : zzzz, qqqq`` / ``ignored: zzzz, qqqq``, None when nothing was ignored."""
    if not built.ignored:
        return None
    sep = " : " if lang == "fr" else ": "
    return f"{_IGNORED_WORD.get(lang, 'ignored')}{sep}{', '.join(built.ignored)}"


def _criteria_set(query: Query) -> bool:
    """Whether ``query`` narrows the search at all (anything but paging)."""
    return any((query.cameras, query.time_from, query.time_to, query.object, query.colour,
                query.upper, query.lower, query.accessory, query.plate, query.make,
                query.model, query.like_track is not None))


def fit_capabilities(built: BuiltQuery, request: SearchRequest, caps: Capabilities,
                     lang: str) -> BuiltQuery:
    """``built`` as the searcher can run it, saying what of the free text it cannot use.

    A make/model the *text* names without a make/model pack is dropped (an explicit
    ``--make``/``--model`` still fails, naming the pack) and a notice says what was searched
    instead. Words not understood are ``ignored`` unless a CLIP-family pack ranks hits by
    them; a text that then sets nothing, in a request that sets nothing else, is a
    ``QueryError`` rather than a search of everything.
    """
    parsed = built.parsed
    # A parser that cannot say how it read the text (only ``to_query``/``describe``) is
    # taken as it is.
    if parsed is None or not callable(getattr(parsed, "to_json", None)):
        return built
    query, understood, notices = built.query, built.understood, list(built.notices)
    ignored: list[str] = []
    reading = parsed.to_json()
    text_fields = reading.get("query", {})
    from_text = [k for k in ("make", "model")
                 if k in text_fields and getattr(request, k) is None]
    if from_text and not caps.make_model:
        words = [" ".join(i["words"]) or str(i["value"])
                 for i in reading.get("interpretation", [])
                 if i.get("field") in from_text and i.get("applied") and i.get("words")]
        ignored += words
        query = replace(query, make=None if "make" in from_text else query.make,
                        model=None if "model" in from_text else query.model)
        rest = parsed.without(*from_text)
        understood = rest.describe(lang)
        named = " ".join(words) or ", ".join(str(text_fields[k]) for k in from_text)
        notices.append(_NO_MAKE_MODEL.get(lang, _NO_MAKE_MODEL["en"]).format(
            words=f"« {named} »" if lang == "fr" else repr(named), rest=understood))
    ranks_text = bool(caps.embed_text and caps.text_kind)
    unknown = [str(w) for w in reading.get("unknown", [])]
    if not ranks_text:
        # The searcher leaves the text unused without an image-text pack; it stays in the
        # query (and the journal) as typed, and the words are reported as ignored.
        ignored += unknown
    if not _criteria_set(query) and not (ranks_text and query.text):
        said = f" (not understood: {', '.join(unknown)})" if unknown else ""
        raise QueryError(f"nothing searchable in {request.text!r}{said}: name an object, a "
                         "colour, a plate or a time", key="text.nothing_searchable",
                         params={"text": request.text, "unknown": ", ".join(unknown)})
    return replace(built, query=query, understood=understood, ignored=tuple(ignored),
                   notices=tuple(notices))


def operator_lang(zone: str) -> str:
    """The language of a free-text summary on the command line: French for an operator in
    Paris' zone, else English."""
    return "fr" if zone.startswith("Europe/Paris") else "en"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        raise QueryError(f"unknown time zone {name!r} (e.g. Europe/Paris)",
                         key="time.unknown_zone", params={"zone": name}) from None


def check_lengths(request: SearchRequest) -> None:
    """``QueryTooLong`` for any text criterion longer than its ``max_length`` (characters):
    the same bound at every front end (the API's 422 comes first there; the form and the CLI
    get this 400 / exit 2), before any parsing or SQL sees the text."""
    for c in CRITERIA:
        value = getattr(request, c.attr, None)
        if c.max_length is None or not isinstance(value, str):
            continue
        if len(value) > c.max_length:
            raise QueryTooLong(f"{c.param}: {len(value)} characters, at most {c.max_length}",
                               key="text.too_long",
                               params={"field": c.param, "n": len(value), "max": c.max_length})


def build_query(request: SearchRequest, cameras: CameraLookup, *, clock: Callable[[], datetime],
                lang: str, wording: Wording, default_zone: str | None = None,
                text_parser: Callable[[], ParseText | None] = load_parse_text) -> BuiltQuery:
    """The :class:`Query` for ``request``.

    Checks text lengths (:func:`check_lengths`), then that every camera exists
    (``UnknownCameraError``), reads the times in the request's ``operator_zone`` (else
    ``default_zone``; none: a time without an offset is a ``QueryError`` worded with
    ``wording``; a time the zone skips or repeats at a daylight-saving change is a
    ``QueryError`` naming the offsets to give), then merges the free text: fields the
    request sets win over the text's. ``clock`` (aware now) and ``text_parser`` are only
    called for free text; ``lang`` is the summary's language. Paging and order are the
    request's, never the text's. The query is not validated here: ``Searcher.search`` does
    that.
    """
    check_lengths(request)
    cams = tuple(dict.fromkeys(request.cameras))
    for cam in cams:
        cameras.require_camera(cam)
    # One operator zone for every camera: reading times in the first camera's zone made the
    # order of --camera options change the window searched.
    zone = request.operator_zone or default_zone
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
               spread: int = 0, scope: tuple[ScopeWindow, ...] | None = None,
               count: bool = False) -> SearchOutcome:
    """Build ``request``'s query (:func:`build_query`, cameras looked up in the searcher's
    store) and run it in the request's order; ``spread``, ``scope`` (a case's windows) and
    ``count`` (the total over all pages) as in :meth:`Searcher.search`. The one call a
    front end makes for a search."""
    built = build_query(request, searcher.store, clock=clock, lang=lang, wording=wording,
                        default_zone=default_zone, text_parser=text_parser)
    built = fit_capabilities(built, request, searcher.capabilities, lang)
    return SearchOutcome(built, searcher.search(built.query, built.order, spread=spread,
                                                scope=scope, count=count))
