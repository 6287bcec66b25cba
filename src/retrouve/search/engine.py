"""Search: validate a query, turn it into store filters, rank, return hits.

Ranking: a track's score is its object confidence times the confidence of every attribute the
query asked for (colour, upper, lower). A track whose *runner-up* colour matches still appears,
ranked by that lower confidence: operators prefer a ranked list to a silent miss when white
and grey, or brown and orange, are close. Hits carry wall-clock times in the camera's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from retrouve.domain import CARRIED_CLASSES, COLOURS, QUERY_OBJECTS, VEHICLE_CLASSES, Hit, Query
from retrouve.errors import QueryError
from retrouve.store.db import AttributeFilter, Store, TrackFilter, TrackRow

#: Attribute values below this confidence are not returned (noise, not evidence).
MIN_ATTRIBUTE_CONFIDENCE = 0.15
MAX_LIMIT = 1000


@dataclass(frozen=True)
class SearchResult:
    """Hits of one query plus what the operator needs when there are none."""

    query: Query
    hits: tuple[Hit, ...]
    recordings_in_scope: int
    recordings_analysed: int

    def why_empty(self) -> str | None:
        if self.hits:
            return None
        if self.recordings_in_scope == 0:
            return "no footage is registered for these cameras"
        if self.recordings_analysed == 0:
            return "no footage has been analysed yet for these cameras: run `retrouve analyse`"
        return "no sighting matches: widen the time window or drop a criterion"


def validate(query: Query) -> None:
    """Raise :class:`QueryError` naming the bad field."""
    if query.object is not None and query.object not in QUERY_OBJECTS:
        raise QueryError(
            f"unknown object {query.object!r}: expected one of {', '.join(sorted(QUERY_OBJECTS))}"
        )
    for name in ("colour", "upper", "lower"):
        value = getattr(query, name)
        if value is not None and value not in COLOURS:
            raise QueryError(f"unknown {name} {value!r}: expected one of {', '.join(COLOURS)}")
    for name in ("time_from", "time_to"):
        value = getattr(query, name)
        if value is not None and value.tzinfo is None:
            raise QueryError(f"{name} {value.isoformat()} has no time zone")
    if query.time_from and query.time_to and query.time_from > query.time_to:
        raise QueryError(
            f"empty time window: from {query.time_from.isoformat()} is after "
            f"to {query.time_to.isoformat()}"
        )
    if not 1 <= query.limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, got {query.limit}")
    if query.offset < 0:
        raise QueryError(f"offset must be ≥ 0, got {query.offset}")
    if query.colour and (query.object == "person" or query.object in CARRIED_CLASSES):
        raise QueryError(
            f"colour applies to vehicles; for a {query.object} use upper/lower clothing colours"
        )
    if (query.upper or query.lower) and query.object not in (None, "person"):
        raise QueryError("upper/lower clothing colours apply to people (object person)")


def to_filter(query: Query) -> TrackFilter:
    """The store filter for a validated query (pure)."""
    objects: tuple[str, ...] = ()
    if query.object == "vehicle":
        objects = tuple(sorted(VEHICLE_CLASSES))
    elif query.object:
        objects = (query.object,)
    elif query.upper or query.lower:
        objects = ("person",)
    elif query.colour:
        objects = (*sorted(VEHICLE_CLASSES), "bicycle")
    attrs = tuple(
        AttributeFilter(name, value, MIN_ATTRIBUTE_CONFIDENCE)
        for name, value in (("colour", query.colour), ("upper", query.upper),
                            ("lower", query.lower))
        if value
    )
    return TrackFilter(query.cameras, objects, query.time_from, query.time_to, attrs)


class Searcher:
    """Runs queries against the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def search(self, query: Query, order: str = "score") -> SearchResult:
        validate(query)
        zones = {}
        for cam in query.cameras:
            zones[cam] = ZoneInfo(self.store.require_camera(cam).timezone)
        rows = self.store.find_tracks(
            to_filter(query), order=order, limit=query.limit, offset=query.offset
        )
        for row in rows:
            if row.camera_id not in zones:
                found = self.store.get_camera(row.camera_id)
                zones[row.camera_id] = ZoneInfo(found.timezone if found else "UTC")
        hits = tuple(self._hit(r, zones[r.camera_id]) for r in rows)
        in_scope, analysed = self.store.analysed_span(query.cameras)
        return SearchResult(query, hits, in_scope, analysed)

    def _hit(self, row: TrackRow, tz: ZoneInfo) -> Hit:
        thumb = str(self.store.blobs.path_of(row.thumbnail)) if row.thumbnail else None
        return Hit(
            track_id=row.id, camera=row.camera_id, recording=row.recording_id,
            start=row.start.astimezone(tz), end=row.end.astimezone(tz), score=row.score,
            object=row.object, attributes=row.attributes, box=row.box,
            box_time=row.box_time.astimezone(tz),
            thumbnail=thumb,
        )
