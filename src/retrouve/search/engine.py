"""Search: validate a query, turn it into store filters, rank, return hits.

Ranking: a track's score is its object confidence times the confidence of every attribute the
query asked for (colour, upper, lower, accessory, vehicle type, make, model). A track whose
*runner-up* value matches still appears, but in a lower tier: it never outranks a track that
matches by first choices (operators prefer a ranked list to a silent miss when white and grey,
or a van and a car, are close). Ties break on score components, never on time.

One hit per object: the fragments of an object (``tracks.object_id``, linked after analysis by
``analysis/objects.py``) are returned once, as their best-ranked fragment, with every fragment's
id, the seconds they cover and the union of their plate reads.

Two criteria re-rank candidates in Python after the SQL filter (:mod:`retrouve.search.rerank`):
a **plate pattern** (confusion-tolerant edit cost; a folded ``LIKE`` prefilter first, then a
bounded scan for edits the prefilter cannot see) and **find similar** (cosine similarity of
appearance vectors). Hits carry wall-clock times in the camera's zone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from retrouve.domain import (
    ACCESSORIES,
    CAR_LIKE_CLASSES,
    CARRIED_CLASSES,
    COLOURS,
    QUERY_OBJECTS,
    VEHICLE_CLASSES,
    Hit,
    Query,
    ScopeWindow,
    Sighting,
)
from retrouve.errors import QueryError
from retrouve.search import rerank
from retrouve.search.plate_pattern import PlatePattern, explain_read
from retrouve.search.schema import EmptyReason
from retrouve.store.db import AttributeFilter, Store, TrackFilter, TrackRow, TrackSpan
from retrouve.store.top_objects import narrow_limit
from retrouve.vision import appearance
from retrouve.wallclock import read_local

#: Attribute values below this confidence are not returned (noise, not evidence).
MIN_ATTRIBUTE_CONFIDENCE = 0.15
MAX_LIMIT = 1000
#: Deepest result an operator can page to: beyond it, narrow the search (bounds the rows a
#: request can make the store rank and read).
MAX_OFFSET = 10_000
#: Tracks re-ranked in Python at most (plate and similarity searches), best SQL score first.
RERANK_CANDIDATES = 20000
#: Matching tracks a result count ever reads (:meth:`Store.count_objects_upto`; beyond, the
#: count is a lower bound, "at least"): above the deepest page an operator can reach.
COUNT_CAP = MAX_OFFSET + MAX_LIMIT
#: Types a car/truck track may be re-labelled between (``vehicle_type`` attribute).
CAR_LIKE = tuple(sorted(CAR_LIKE_CLASSES))
#: Types a detector pack's ``vehicle`` track may become (``analysis.type_vote``): a bus
#: query also searches the car/van/truck tracks whose runner-up type is bus.
TYPED = tuple(sorted({*CAR_LIKE_CLASSES, "bus"}))


def count_cap(need: int) -> int:
    """Matching tracks the count of a search needing its first ``need`` objects (page end, or
    timeline length when larger) reads: one more than the ranking's
    :func:`~retrouve.store.top_objects.narrow_limit`, so that the count also tells the
    ranking whether the search is broad, and at most :data:`COUNT_CAP`. A broad search's
    first page then says "at least N" from its first 2,001 matches instead of reading
    11,000 for a figure that says "narrow the search" just the same (the count was the
    largest statement of most searches at 1 M tracks, ``benchmarks/README.md``); deeper
    pages count deeper, and a full page always links the next, up to :data:`MAX_OFFSET`."""
    return min(COUNT_CAP, narrow_limit(need) + 1)


@dataclass(frozen=True)
class Capabilities:
    """What the installed models allow a search to ask for.

    ``make_model``: a make/model classifier pack is installed. ``text_vectors``: the vector
    kind and text encoder of a CLIP-family pack, matching free text against images.
    """

    make_model: bool = False
    text_kind: str | None = None
    embed_text: Callable[[str], np.ndarray | None] | None = None


@dataclass(frozen=True)
class SearchResult:
    """Hits of one query plus what the operator needs when there are none."""

    query: Query
    hits: tuple[Hit, ...]
    recordings_in_scope: int
    recordings_analysed: int
    #: The first ``spread`` matches in result order (all pages), when asked for.
    spread: tuple[Sighting, ...] = ()
    #: How many results (objects, one per hit, as paged) the query has over all pages, when
    #: asked for (``count``); None when not counted.
    total: int | None = None
    #: ``total`` is a lower bound: a re-ranked search (plate pattern, find similar, image-text
    #: free text) looked at its first :data:`RERANK_CANDIDATES` tracks only, or a count
    #: read its first :func:`count_cap` matching tracks only, and there were more.
    total_at_least: bool = False

    def empty_reason(self) -> EmptyReason | None:
        """Why there are no hits (None when there are some); front ends word it."""
        if self.hits:
            return None
        if self.recordings_in_scope == 0:
            return EmptyReason.NO_FOOTAGE
        if self.recordings_analysed == 0:
            return EmptyReason.NOT_ANALYSED
        return EmptyReason.NO_MATCH

    def why_empty(self) -> str | None:
        """:meth:`empty_reason` as an English sentence (CLI, API), None with hits."""
        reason = self.empty_reason()
        return None if reason is None else reason.english


def parse_wall_time(text: str | None, zone: str | None, what: str,
                    zone_hint: str) -> datetime | None:
    """An operator's ``--from``/``--to``: ISO-8601; without an offset it is read in ``zone``
    (the operator's, :func:`retrouve.wallclock.read_local`), and without a zone it is
    refused with ``zone_hint`` (how to give one)."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{what} {text!r} is not ISO-8601 (e.g. 2026-01-04T10:00)",
                         key="time.not_iso", params={"what": what, "text": text}) from None
    if when.tzinfo is None:
        if zone is None:
            raise QueryError(f"{what} {text!r} has no offset: add one (+01:00) or {zone_hint}",
                             key="time.no_offset",
                             params={"what": what, "text": text, "hint": zone_hint})
        # Refuses the hour a daylight-saving change skips or repeats, as ingest does.
        when = read_local(when, zone, f"{what} {text!r}", QueryError)
    return when


def validate(query: Query, caps: Capabilities | None = None) -> None:
    """Raise :class:`QueryError` naming the bad field."""
    caps = caps or Capabilities()
    if query.object is not None and query.object not in QUERY_OBJECTS:
        raise QueryError(
            f"unknown object {query.object!r}: expected one of {', '.join(sorted(QUERY_OBJECTS))}",
            key="query.unknown_object",
            params={"value": query.object, "choices": ", ".join(sorted(QUERY_OBJECTS))})
    for name in ("colour", "upper", "lower"):
        value = getattr(query, name)
        if value is not None and value not in COLOURS:
            raise QueryError(f"unknown {name} {value!r}: expected one of {', '.join(COLOURS)}",
                             key="query.unknown_colour",
                             params={"field": name, "value": value, "choices": ", ".join(COLOURS)})
    if query.accessory is not None and query.accessory not in ACCESSORIES:
        raise QueryError(
            f"unknown accessory {query.accessory!r}: expected one of {', '.join(ACCESSORIES)}",
            key="query.unknown_accessory",
            params={"value": query.accessory, "choices": ", ".join(ACCESSORIES)})
    for name in ("time_from", "time_to"):
        value = getattr(query, name)
        if value is not None and value.tzinfo is None:
            raise QueryError(f"{name} {value.isoformat()} has no time zone")
    if query.time_from and query.time_to and query.time_from > query.time_to:
        raise QueryError(
            f"empty time window: from {query.time_from.isoformat()} is after "
            f"to {query.time_to.isoformat()}",
            key="time.empty_window", params={"start": query.time_from.isoformat(),
                                             "end": query.time_to.isoformat()})
    if not 1 <= query.limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, got {query.limit}",
                         key="query.bad_limit", params={"max": MAX_LIMIT, "value": query.limit})
    if not 0 <= query.offset <= MAX_OFFSET:
        raise QueryError(f"offset must be between 0 and {MAX_OFFSET} (narrow the search to see "
                         f"further), got {query.offset}",
                         key="query.bad_offset", params={"max": MAX_OFFSET, "value": query.offset})
    if query.colour and (query.object == "person" or query.object in CARRIED_CLASSES):
        raise QueryError(
            f"colour applies to vehicles; for a {query.object} use upper/lower clothing colours",
            key="query.colour_not_vehicle", params={"object": query.object})
    person_only = [n for n in ("upper", "lower", "accessory") if getattr(query, n)]
    if person_only and query.object not in (None, "person"):
        raise QueryError(f"{'/'.join(person_only)} apply to people (object person), "
                         f"not to a {query.object}",
                         key="query.person_only",
                         params={"fields": "/".join(person_only), "object": query.object})
    vehicle_only = [n for n in ("plate", "make", "model") if getattr(query, n)]
    if vehicle_only and (query.object == "person" or query.object in CARRIED_CLASSES
                         or query.object == "bicycle"):
        raise QueryError(f"{'/'.join(vehicle_only)} apply to motor vehicles, "
                         f"not to a {query.object}",
                         key="query.vehicle_only",
                         params={"fields": "/".join(vehicle_only), "object": query.object})
    if vehicle_only and person_only:
        raise QueryError(f"{'/'.join(vehicle_only)} (vehicles) cannot be combined with "
                         f"{'/'.join(person_only)} (people)",
                         key="query.vehicle_and_person",
                         params={"vehicle": "/".join(vehicle_only),
                                 "person": "/".join(person_only)})
    if query.plate is not None:
        PlatePattern.parse(query.plate)  # raises QueryError naming the bad character
    if (query.make or query.model) and not caps.make_model:
        raise QueryError(
            "make/model search needs a vehicle make/model classifier pack: install one with "
            "`retrouve models install PACK` (task classifier, attribute make_model), then "
            "re-analyse the footage",
            key="query.no_make_model")


def _norm_label(value: str) -> str:
    return " ".join(value.lower().split())


def to_filter(query: Query) -> TrackFilter:
    """The store filter for a validated query (pure). Plate matching and similarity are
    applied after it (see :class:`Searcher`); the filter only requires a plate read."""
    objects: tuple[str, ...] = ()
    attrs: list[AttributeFilter] = []
    if query.object == "vehicle":
        objects = tuple(sorted(VEHICLE_CLASSES))
    elif query.object in TYPED:
        # Car, van, truck (and bus, with a detector pack) are told apart by evidence with a
        # probability: search them all and rank by the probability of the asked type.
        objects = TYPED
        # With another attribute (a colour) the type joins loosely (outer join): SQLite then
        # drives the search from the more selective colour index. Alone, it joins strictly
        # and its own index drives. Measured at 100k tracks: 95–100 ms either way, against
        # 200–275 ms for the other choice (benchmarks/bench_web_load.py, in-process column).
        # A bus from a COCO detector carries no ``vehicle_type`` (its class is the
        # detector's own): bus always joins loosely so such tracks still match.
        loose = any((query.colour, query.make, query.model)) or query.object not in CAR_LIKE
        attrs.append(AttributeFilter("vehicle_type", query.object, MIN_ATTRIBUTE_CONFIDENCE,
                                     or_object=query.object if loose else None))
    elif query.object:
        objects = (query.object,)
    elif query.upper or query.lower or query.accessory:
        objects = ("person",)
    elif query.plate or query.make or query.model:
        objects = tuple(sorted(VEHICLE_CLASSES))
    elif query.colour:
        objects = (*sorted(VEHICLE_CLASSES), "bicycle")
    attrs.extend(
        AttributeFilter(name, value, MIN_ATTRIBUTE_CONFIDENCE)
        for name, value in (("colour", query.colour), ("upper", query.upper),
                            ("lower", query.lower), ("accessory", query.accessory))
        if value
    )
    attrs.extend(
        AttributeFilter(name, _norm_label(value), 0.0)
        for name, value in (("make", query.make), ("model", query.model)) if value
    )
    return TrackFilter(query.cameras, objects, query.time_from, query.time_to, tuple(attrs),
                       with_plate=query.plate is not None)


def _object_key(row: TrackRow) -> int:
    """The object ``row`` is a fragment of (itself when unlinked)."""
    return row.object_id if row.object_id is not None else row.id


def first_seen(rows: list[TrackRow]) -> dict[int, datetime]:
    """Each object's earliest start among ``rows`` (its matching fragments), by object."""
    out: dict[int, datetime] = {}
    for r in rows:
        key = _object_key(r)
        if key not in out or r.start < out[key]:
            out[key] = r.start
    return out


def first_per_object(rows: list[TrackRow]) -> list[TrackRow]:
    """``rows`` (ranked) keeping only the first, best-ranked, fragment of each object."""
    seen: set[int] = set()
    out = []
    for r in rows:
        key = _object_key(r)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


class Searcher:
    """Runs queries against the store."""

    def __init__(self, store: Store, capabilities: Capabilities | None = None) -> None:
        self.store = store
        self.capabilities = capabilities or Capabilities()

    def search(self, query: Query, order: str = "score", spread: int = 0,
               scope: tuple[ScopeWindow, ...] | None = None, count: bool = False
               ) -> SearchResult:
        """Run ``query``; ``spread`` > 0 also returns where the first ``spread`` matches
        (beyond this page) were seen, from the same ranking. ``scope`` (a case's windows)
        restricts every track read, find-similar's target included, in the store query.

        ``count``: also say how many results all pages hold (:attr:`SearchResult.total`),
        objects as the pages list them: by one more SQL ``COUNT(DISTINCT object)`` over the
        same filter reading at most :func:`count_cap` matching tracks
        (:meth:`Store.count_objects_upto`; beyond, a lower bound with ``total_at_least``), or,
        for re-ranked searches, the length of the re-ranked list the page is cut from (bounded
        by :data:`RERANK_CANDIDATES`)."""
        if order not in ("score", "time"):
            raise QueryError(f"unknown order {order!r}: expected score or time",
                             key="query.unknown_order", params={"value": order})
        validate(query, self.capabilities)
        zones = {}
        for cam in query.cameras:
            zones[cam] = ZoneInfo(self.store.require_camera(cam).timezone)
        flt = replace(to_filter(query), scope=scope)
        spans: list[TrackSpan] = []
        total: int | None = None
        capped = False
        pool: list[TrackRow] = []
        if query.like_track is not None:
            rows, pool = self._similar(query, flt)
        elif query.plate is not None:
            rows, pool = self._plates(query, flt)
        elif query.text and self.capabilities.embed_text and self.capabilities.text_kind:
            rows, pool = self._text(query, flt)
        else:
            # Counted first: the count tells the ranking whether the search is broad.
            need = max(query.offset + query.limit, spread)
            counted = (self.store.count_objects_upto(flt, count_cap(need)) if count
                       else None)
            rows, spans = self.store.find_tracks_and_spans(
                flt, order=order, limit=query.limit, offset=query.offset, spans=spread,
                group=True, counted=counted)
            if counted is not None:
                total, capped = counted.objects, counted.capped
                # The page itself proves that many objects (a capped count may be fewer).
                total = max(total, query.offset + len(rows)) if capped else total
            order = "done"
        if order != "done":
            # Re-ranked in Python: one row per object, its best fragment, then the page.
            seen = first_seen(rows)
            rows = first_per_object(rows)
            total = len(rows) if count else None
            if order == "time":
                # As the store orders objects by time: by their earliest matching fragment.
                rows.sort(key=lambda r: (seen[_object_key(r)], r.id))
            spans = [TrackSpan(r.id, r.camera_id, r.object, r.start, r.end, r.score)
                     for r in rows[:spread]]
            rows = self.store.with_objects(rows[query.offset:query.offset + query.limit],
                                           flt.scope)
        missing = ({r.camera_id for r in rows} | {sp.camera_id for sp in spans}) - set(zones)
        # One query for every camera of the page and timeline (not one per camera).
        named = self.store.camera_zones(sorted(missing)) if missing else {}
        for cam in missing:
            zones[cam] = ZoneInfo(named.get(cam, "UTC"))
        pattern = PlatePattern.parse(query.plate) if query.plate is not None else None
        hits = tuple(self._hit(r, zones[r.camera_id], pattern) for r in rows)
        sightings = tuple(
            Sighting(sp.id, sp.camera_id, sp.object, sp.start.astimezone(zones[sp.camera_id]),
                     sp.end.astimezone(zones[sp.camera_id])) for sp in spans)
        span = self.store.analysed_span(query.cameras)
        return SearchResult(query, hits, span.recordings, span.analysed, sightings, total,
                            total_at_least=total is not None
                            and (capped or len(pool) >= RERANK_CANDIDATES))

    def _plates(self, query: Query, flt: TrackFilter) -> tuple[list[TrackRow], list[TrackRow]]:
        """Tracks whose plate read (or a runner-up read) fits the pattern, ranked by edit cost,
        and the candidate pool they were chosen from (:data:`RERANK_CANDIDATES` at most).

        One SQL prefilter finds every possible match — the folded pattern, plus its one-edit
        variants when the pattern tolerates a real edit (:meth:`PlatePattern.sql_likes`),
        against the folded read and the folded runner-ups — then :mod:`.rerank` decides and
        ranks. The candidate set never depends on the page asked for, so paging is stable.
        """
        assert query.plate is not None
        pattern = PlatePattern.parse(query.plate)
        rows = self.store.find_tracks(replace(flt, plate_likes=pattern.sql_likes()),
                                      limit=RERANK_CANDIDATES)
        return rerank.by_plate(pattern, rows), rows

    def _similar(self, query: Query, flt: TrackFilter
                 ) -> tuple[list[TrackRow], list[TrackRow]]:
        """Tracks ranked by appearance similarity to ``query.like_track``, and the candidate
        pool (:data:`RERANK_CANDIDATES` at most)."""
        assert query.like_track is not None
        target = self.store.get_track(query.like_track, scope=flt.scope)
        if target is None:
            raise QueryError(f"unknown track {query.like_track} for find-similar",
                             key="query.unknown_track", params={"track": query.like_track})
        kinds = [k for k in (self.capabilities.text_kind, appearance.KIND) if k]
        for kind in kinds:
            vec = self.store.vectors(kind, [target.id]).get(target.id)
            if vec is not None:
                break
        else:
            raise QueryError(f"track {target.id} has no appearance vector: re-analyse its "
                             "recording to enable find-similar")
        if not flt.objects:
            same = (tuple(sorted(VEHICLE_CLASSES)) if target.object in VEHICLE_CLASSES
                    else (target.object,))
            flt = replace(flt, objects=same)
        # A plate pattern restricts the candidates too (only tracks whose read fits it).
        if query.plate is not None:
            pool, candidates = self._plates(query, flt)
        else:
            pool = candidates = self.store.find_tracks(flt, limit=RERANK_CANDIDATES)
        # Not the target itself, nor its other fragments (the same object).
        mine = target.object_id if target.object_id is not None else target.id
        rows = [r for r in pool if r.id != target.id and r.object_id != mine]
        vectors = self.store.vectors(kind, [r.id for r in rows])
        return rerank.by_similarity(appearance.from_bytes(vec), rows, vectors), candidates

    def _text(self, query: Query, flt: TrackFilter) -> tuple[list[TrackRow], list[TrackRow]]:
        """Tracks ranked by CLIP similarity between ``query.text`` and their best view, and
        the candidate pool (:data:`RERANK_CANDIDATES` at most)."""
        caps = self.capabilities
        assert query.text and caps.embed_text and caps.text_kind
        vec = caps.embed_text(query.text)
        rows = self.store.find_tracks(flt, limit=RERANK_CANDIDATES)
        if vec is None:
            return rows, rows
        vectors = self.store.vectors(caps.text_kind, [r.id for r in rows])
        return (rerank.by_similarity(np.asarray(vec, np.float32), rows, vectors, min_sim=0.0),
                rows)

    def _hit(self, row: TrackRow, tz: ZoneInfo, pattern: PlatePattern | None = None) -> Hit:
        """``row`` as a hit in zone ``tz``; with ``pattern``, how its plate read fits it (the
        same costs :func:`.rerank.plate_score` ranked it by)."""
        match = (explain_read(pattern, row.plate, rerank.ALTERNATIVE_PENALTY)
                 if pattern is not None and row.plate is not None else None)
        thumb = str(self.store.blobs.path_of(row.thumbnail)) if row.thumbnail else None
        return Hit(
            track_id=row.id, camera=row.camera_id, recording=row.recording_id,
            start=row.start.astimezone(tz), end=row.end.astimezone(tz), score=row.score,
            object=row.object, attributes=row.attributes, box=row.box,
            box_time=row.box_time.astimezone(tz),
            thumbnail=thumb, plate=row.plate, object_id=row.object_id,
            track_ids=row.track_ids or (row.id,),
            total_duration_s=(row.total_duration_s if row.total_duration_s is not None
                              else (row.end - row.start).total_seconds()),
            plates=row.plates or ((row.plate.text,) if row.plate else ()),
            plate_match=match,
        )
