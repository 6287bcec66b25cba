"""Tracks: saving a unit's results, finding and ranking tracks, details, vectors, thumbnails.

A unit's tracks and its ``done`` mark are written in one transaction, so a crash leaves a unit
either fully stored or still pending.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    update,
)

from retrouve.domain import ScopeWindow, Track, UnitResult
from retrouve.store import plate_filter
from retrouve.store import schema as s
from retrouve.store.base import StorePart
from retrouve.store.blobs import safe_name
from retrouve.store.claims import claim_refusal
from retrouve.store.join_order import loose_candidates, rarest
from retrouve.store.recordings import recording_anchors
from retrouve.store.records import (
    MatchCount,
    TrackDetail,
    TrackFilter,
    TrackRow,
    TrackSpan,
    TrackSummary,
    TrackTimes,
)
from retrouve.store.top_objects import top_objects
from retrouve.store.track_rows import (
    attributes_of,
    covered_seconds,
    insert_tracks,
    rows_of,
    summary_of,
    track_row,
)
from retrouve.store.work import mark_unit_done


def in_scope(t: Any, scope: tuple[ScopeWindow, ...]) -> Any:
    """SQL condition: the track overlaps one of the windows on its camera (``false`` for
    none). On the ``tracks`` table itself it is built once per scope (:func:`_tracks_in`)."""
    if t is s.tracks:
        return _tracks_in(scope)
    return _scope_condition(t, scope)


@functools.lru_cache(maxsize=64)
def _tracks_in(scope: tuple[ScopeWindow, ...]) -> Any:
    """:func:`in_scope` on ``tracks``, kept per scope: a search builds its filter five or
    six times (count, probes, score floors) and a 20-window case's condition took 0.9 ms to
    build each time, half of each statement's construction (measured at 1 M tracks with
    ``benchmarks/bench_web_request.py``). SQL expressions are immutable, and
    the key is the scope's windows themselves (frozen): an amended scope is a new key."""
    return _scope_condition(s.tracks, scope)


def _scope_condition(t: Any, scope: tuple[ScopeWindow, ...]) -> Any:
    if not scope:
        return false()
    # The camera list and the latest window end are implied by the OR below; stated first,
    # they let the database use the (camera, start) index instead of testing every track
    # against every window (a 20-window case made SQLite searches 4-11x slower).
    cameras = sorted({w.camera for w in scope})
    return and_(t.c.camera_id.in_(cameras), t.c.start_utc <= max(w.end for w in scope),
                or_(*(and_(t.c.camera_id == w.camera, t.c.end_utc >= w.start,
                           t.c.start_utc <= w.end) for w in scope)))


def _visible(conn: Connection, track_id: int, scope: tuple[ScopeWindow, ...] | None) -> bool:
    """Whether track ``track_id`` may be read: always without a scope, else when it lies in
    it (the unknown id reads as not visible too)."""
    if scope is None:
        return True
    t = s.tracks
    return conn.execute(select(t.c.id).where(t.c.id == track_id, in_scope(t, scope))
                        ).first() is not None


#: Added to the stored longest track when bounding a start (seconds): ``start_utc`` and
#: ``end_utc`` are the recording's start plus ``t_start``/``t_end`` rounded to microseconds.
_LONGEST_MARGIN_S = 1.0


#: The longest time window (SQLite) whose start bounds the tracks' starts from below.
#: SQLite's planner, without per-value statistics, takes a range bounded at both ends for a
#: small share of the table and prefers it to any other index: a week-long window (or a case
#: scope's, measured: every window of the 1 M bench case covered the whole index) made
#: "white cars" read every track of the week, 115 ms -> 3.9 s. A day or less is a small share
#: of a 30-day index. PostgreSQL estimates the range from its histogram: always bounded.
BOUNDED_WINDOW = timedelta(days=1)


def _earliest_start(flt: TrackFilter) -> datetime | None:
    """The earliest start a track overlapping ``flt``'s time window can have (UTC), from
    ``flt.longest_s``; None when nothing bounds it."""
    if flt.longest_s is None or flt.time_from is None:
        return None
    return flt.time_from - timedelta(seconds=flt.longest_s + _LONGEST_MARGIN_S)


def with_longest(conn: Connection, flt: TrackFilter) -> TrackFilter:
    """``flt`` with :attr:`TrackFilter.longest_s` read from ``track_duration_bounds`` when
    its time window is worth bounding (:data:`BOUNDED_WINDOW`): the longest track of its
    cameras (of every camera when it names none). One primary-key read; never cached, the
    bound grows with every write."""
    if flt.longest_s is not None or flt.time_from is None:
        return flt
    if conn.dialect.name == "sqlite" and (
            flt.time_to is None or flt.time_to - flt.time_from > BOUNDED_WINDOW):
        return flt
    b = s.track_duration_bounds
    q = select(func.max(b.c.longest_s))
    if flt.cameras:
        q = q.where(b.c.camera_id.in_(list(flt.cameras)))
    longest = conn.execute(q).scalar()
    # No row: no track of those cameras at all (the triggers write one with the first).
    return replace(flt, longest_s=float(longest) if longest is not None else 0.0)


@dataclass(frozen=True)
class _Matches:
    """The tracks matching a filter as one SQL select: ``query`` (one row per matching track:
    id, camera, object, UTC span, ``object_key``, ``score``, ``tier``, ``conf``,
    ``duration``), the ranking ``keys`` (best first) and the ``object_key`` expression (the
    object a track is a fragment of; itself when unlinked)."""

    query: Any
    keys: tuple[Any, ...]
    object_key: Any


def _matches(flt: TrackFilter, dialect: str, floor: float = 0.0,
             drive: int | None = None, scored: bool = True) -> _Matches:
    """The select of the tracks matching ``flt`` and their ranking (see
    :meth:`TracksPart.find_tracks_and_spans`): one definition for ranking and counting.
    ``dialect`` (``sqlite``, ``postgresql``) picks how a plate prefilter is answered
    (:mod:`.plate_filter`).

    ``floor`` > 0: only the matches whose object confidence, strict attribute confidences
    and score all reach it (:mod:`.top_objects`: the conditions the indexes serve).

    ``drive`` (SQLite, :func:`.join_order.rarest`): the attribute the database should
    start from; the strict attributes that do not drive are kept out of its index choice,
    and a loose one that drives adds the ids it can match (:func:`.join_order.
    loose_candidates`) as a condition the database reads first. Not with a ``floor``: the
    rarest value is not the one with the fewest rows above the floor, and each strict
    attribute's ``weighted`` range is then the planner's to choose from.

    ``scored=False`` (a count: no ranking): a loose attribute is a condition, ``object = X OR
    EXISTS (its row)``, instead of an outer join whose confidence scores the track, so a
    track of the class is not looked up in ``track_attributes`` at all (a car + colour count
    read 11,000 cars in 35 ms instead of 70 at 1 M tracks). The same tracks match: the outer
    join meets at most one row (the table's key is track, name, value). ``score``, ``tier``
    and the ranking keys then leave the loose attributes out."""
    if floor > 0:
        drive = None
    t = s.tracks
    score: Any = t.c.object_conf
    tier: Any = literal(0)
    conds: list[Any] = []
    if flt.cameras:
        conds.append(t.c.camera_id.in_(list(flt.cameras)))
    if flt.objects:
        conds.append(t.c.object.in_(list(flt.objects)))
    if flt.time_from is not None:
        conds.append(t.c.end_utc >= flt.time_from)
    if flt.time_to is not None:
        conds.append(t.c.start_utc <= flt.time_to)
    if flt.ids is not None:
        conds.append(t.c.id.in_(list(flt.ids)))
    if flt.scope is not None:
        conds.append(in_scope(t, flt.scope))
    earliest = _earliest_start(flt)
    if earliest is not None:
        # Implied by the overlap tests above, stated so that the start is a range of the
        # (camera, start) and (object, start) indexes from both ends (migration 0017).
        conds.append(t.c.start_utc >= earliest)
    if floor > 0 and all(af.or_object is not None for af in flt.attributes):
        # No strict attribute to bound the score: the object confidence does.
        conds.append(t.c.object_conf >= floor)
    object_key = func.coalesce(t.c.object_id, t.c.id)
    q = select(t.c.id, t.c.camera_id, t.c.object, t.c.start_utc, t.c.end_utc,
               object_key.label("object_key"))
    if flt.plate_likes:
        # The reads matching the patterns first, from a trigram index where one serves them
        # (a read per track), then their tracks by primary key.
        conds.append(t.c.id.in_(plate_filter.matching_tracks(dialect, flt.plate_likes)))
    elif flt.with_plate:
        p = s.plate_reads
        q = q.join(p, p.c.track_id == t.c.id)
    for i, af in enumerate(flt.attributes):
        a = s.track_attributes.alias(f"a{i}")
        strict = af.or_object is None
        name: Any = a.c.name
        value: Any = a.c.value
        if strict and drive not in (None, i):
            # ``|| ''``: the same tests (non-NULL text), but no index range on them: this
            # attribute is looked up per track (by ``track_id``), never read by value or,
            # worse, by name alone (every ``lower`` row, when only the value was hidden).
            name, value = name.concat(""), value.concat("")
        on = and_(a.c.track_id == t.c.id, name == af.name, value == af.value,
                  a.c.confidence >= af.min_confidence)
        if strict and floor > 0:
            # confidence × object confidence bounds the score: one index range.
            on = and_(on, a.c.weighted >= floor)
        if not strict and drive == i:
            conds.append(t.c.id.in_(loose_candidates(af)))
        if strict:
            q = q.join(a, on)
            score = score * a.c.confidence
            tier = tier + (a.c.rank - 1)
        elif not scored:
            # The class first: SQLite stops at the first true term of an OR.
            conds.append(or_(t.c.object == af.or_object,
                             select(a.c.track_id).where(on).exists()))
        else:
            q = q.outerjoin(a, on)
            conds.append(or_(a.c.track_id.is_not(None), t.c.object == af.or_object))
            score = score * func.coalesce(a.c.confidence, 1.0)
            tier = tier + (func.coalesce(a.c.rank, 1) - 1)
    q = q.add_columns(score.label("score"), tier.label("tier"),
                      t.c.object_conf.label("conf"),
                      (t.c.t_end - t.c.t_start).label("duration"))
    if floor > 0:
        conds.append(score >= floor)
    if conds:
        q = q.where(and_(*conds))
    keys: tuple[Any, ...] = (tier, score.desc(), t.c.object_conf.desc(),
                             (t.c.t_end - t.c.t_start).desc(), t.c.id)
    return _Matches(q, keys, object_key)


def _ranked(flt: TrackFilter, dialect: str, floor: float, drive: int | None = None) -> Any:
    """The matches of ``flt`` reaching ``floor`` (see :func:`_matches`), best first."""
    m = _matches(flt, dialect, floor, drive)
    return m.query.order_by(*m.keys)


class TracksPart(StorePart):
    """Stored tracks: writes per unit, ranked reads for search."""

    def save_unit_result(self, run_id: int, result: UnitResult, now: datetime) -> int:
        """Store one unit's tracks and mark it done, atomically. Returns tracks written.

        Only from the run holding the unit's claim (``store/claims.py``): the done mark is a
        conditional UPDATE written first in the transaction, and :class:`~retrouve.errors.
        ClaimLost` rolls everything back when another run took the unit over or stored it
        (a slow driver whose lease lapsed), so a unit is never stored twice. Tracks of an
        earlier attempt of the same unit by the same run are replaced. Thumbnails are written
        first under deterministic keys (a crash before the commit leaves files that the
        retry overwrites), after a read of the claim, so a refused result does not replace
        the files of the run that stored the unit.
        """
        with self._read(f"check the claim of unit {result.unit_id}") as conn:
            refused = claim_refusal(conn, result.unit_id, run_id)
        if refused is not None:
            raise refused
        keys = [self._put_thumbnail(t) for t in result.tracks]
        with self._begin(f"save unit {result.unit_id}") as conn:
            # The done mark first: it is the gate, and its row lock orders this save against
            # a concurrent claim of the unit by another driver.
            mark_unit_done(conn, result.unit_id, run_id, result.stats, now,
                           result.decoded_until, result.damage)
            # Fragments linked to the tracks being replaced become their own objects again
            # (the ids may be reused); the next linking regroups them.
            old = select(s.tracks.c.id).where(s.tracks.c.unit_id == result.unit_id)
            conn.execute(update(s.tracks).where(s.tracks.c.object_id.in_(old))
                         .values(object_id=s.tracks.c.id))
            conn.execute(delete(s.tracks).where(s.tracks.c.unit_id == result.unit_id))
            recs = recording_anchors(conn, {t.recording_id for t in result.tracks})
            # One bulk insert per recording (a unit's tracks all share one in practice).
            by_rec: dict[str, list[int]] = {}
            for i, track in enumerate(result.tracks):
                by_rec.setdefault(track.recording_id, []).append(i)
            for rec_id, idx in by_rec.items():
                anchor = recs[rec_id]
                insert_tracks(conn, run_id, [result.tracks[i] for i in idx],
                              [keys[i] for i in idx], anchor.camera_id, anchor.start)
            # Each new track is its own object until the recording's fragments are linked.
            conn.execute(update(s.tracks).where(s.tracks.c.unit_id == result.unit_id)
                         .values(object_id=s.tracks.c.id))
        return len(result.tracks)

    def _put_thumbnail(self, track: Track) -> str | None:
        if not track.thumbnail_jpeg:
            return None
        key = (
            f"thumbs/{safe_name(track.recording_id)}/"
            f"{safe_name(track.unit_id)}-{track.local_id}.jpg"
        )
        self.blobs.put(key, track.thumbnail_jpeg)
        return key

    # ------------------------------------------------------------------- search
    def count_tracks(self) -> int:
        with self._read("count tracks") as conn:
            return int(conn.execute(select(func.count()).select_from(s.tracks)).scalar_one())

    def count_objects(self, flt: TrackFilter) -> int:
        """How many objects have a fragment matching ``flt``: the number of rows that
        :meth:`find_tracks_and_spans` with ``group`` pages through, in either order (one
        per object, unlinked tracks counting as their own object).

        One ``COUNT(DISTINCT object)`` over the same filter and joins as the ranking, without
        its sort: cost measured by ``benchmarks/bench_result_count.py``."""
        with self._read("count matching objects") as conn:
            flt = with_longest(conn, flt)
            m = _matches(flt, self.engine.dialect.name, drive=rarest(conn, flt), scored=False)
            q = m.query.with_only_columns(func.count(func.distinct(m.object_key)),
                                          maintain_column_froms=True)
            return int(conn.execute(q).scalar_one())

    def count_objects_upto(self, flt: TrackFilter, cap: int) -> MatchCount:
        """:meth:`count_objects` reading at most ``cap`` matching tracks: the objects among
        the tracks read, how many tracks were read and whether the read stopped at ``cap``
        (the objects are then a lower bound). The read stops after ``cap`` rows on either
        database (a ``LIMIT`` in a subquery, no sort), so a broad search's count costs
        ``cap`` rows, not every match: measured on the 1 M index in
        ``benchmarks/README.md`` ("Search at 1 M tracks"). Passed to
        :meth:`find_tracks_and_spans` as ``counted``, it spares the ranking its own probe
        of how many tracks match."""
        with self._read("count matching objects") as conn:
            flt = with_longest(conn, flt)
            drive = rarest(conn, flt)
            m = _matches(flt, self.engine.dialect.name, drive=drive, scored=False)
            inner = (m.query.with_only_columns(m.object_key.label("k"),
                                               maintain_column_froms=True)
                     .limit(cap).subquery("first_matches"))
            q = select(func.count(func.distinct(inner.c.k)), func.count())
            objects, rows = conn.execute(q).one()
        return MatchCount(int(objects), int(rows), int(rows) >= cap, drive, drive_read=True)

    def find_tracks(
        self, flt: TrackFilter, *, order: str = "score", limit: int = 50, offset: int = 0,
        group: bool = False,
    ) -> list[TrackRow]:
        """Tracks matching ``flt``, best first (``order="score"``) or by start time; with
        ``group``, one row per object (see :meth:`find_tracks_and_spans`)."""
        return self.find_tracks_and_spans(flt, order=order, limit=limit, offset=offset,
                                          group=group)[0]

    def find_tracks_and_spans(
        self, flt: TrackFilter, *, order: str = "score", limit: int = 50, offset: int = 0,
        spans: int = 0, group: bool = False, counted: MatchCount | None = None,
    ) -> tuple[list[TrackRow], list[TrackSpan]]:
        """The page ``[offset, offset + limit)`` of :meth:`find_tracks`, plus the spans of the
        first ``spans`` matches in the same order, from one ranking (a results timeline
        needs no second search).

        Ranking (``order="score"``): first the *tier*, the sum over the filter's attributes
        of (rank of the matching value − 1), so a track matching only by a runner-up value
        never outranks one matching by first choices; then the score (object confidence ×
        matched attribute confidences), the object confidence, the duration, and the id
        (a total order: pages concatenate to the full list). Never the time.

        ``group``: one row per object (``object_id``), its best-ranked matching fragment,
        carrying the object's fragments, total duration and plate reads
        (:meth:`with_objects`); the ranking is the same, over best fragments. In time order
        objects come by their earliest matching fragment's start (then the best fragment's
        id), which is the start a result shows unless an earlier fragment does not match.

        ``counted``: :meth:`count_objects_upto` of the same ``flt`` when the caller counts
        too; the grouped score ranking then knows from it whether the search is broad
        (:func:`.top_objects.broad`) instead of reading the matches once more to find out.
        """
        with self._read("search tracks") as conn:
            tracks, ranked = self._find(conn, flt, order, limit, offset, spans, group, counted)
        if group:
            tracks = self.with_objects(tracks, flt.scope)
        return tracks, ranked

    def _find(self, conn: Connection, flt: TrackFilter, order: str, limit: int, offset: int,
              spans: int, group: bool, counted: MatchCount | None
              ) -> tuple[list[TrackRow], list[TrackSpan]]:
        """:meth:`find_tracks_and_spans` on ``conn``, before the objects' fragments."""
        dialect = self.engine.dialect.name
        flt = with_longest(conn, flt)
        drive = counted.drive if counted is not None and counted.drive_read else rarest(conn, flt)
        m = _matches(flt, dialect, drive=drive)
        t, q, object_key = s.tracks, m.query, m.object_key
        keys: tuple[Any, ...] = m.keys
        if group and order == "time":
            # The best fragment of each object by the ranking, the objects in the order they
            # were first seen (their earliest matching fragment's start: the time a card
            # shows, not the best fragment's, which may come later).
            best = func.row_number().over(partition_by=object_key, order_by=keys)
            seen = func.min(t.c.start_utc).over(partition_by=object_key)
            sub = q.add_columns(best.label("nth"), seen.label("first_seen")).subquery("ranked")
            c = sub.c
            q = (select(c.id, c.camera_id, c.object, c.start_utc, c.end_utc, c.object_key,
                        c.score).where(c.nth == 1).order_by(c.first_seen, c.id))
        else:
            q = q.order_by(*((t.c.start_utc, t.c.id) if order == "time" else keys))
        need = max(limit + offset, spans) if spans else limit + offset
        first = 0 if spans or (group and order != "time") else offset
        # Rank on a few narrow columns, then read the page's rows: the sorter never
        # carries the wide columns (observations) of every match.
        if group and order != "time":
            ranked = top_objects(conn, lambda floor: _ranked(flt, dialect, floor, drive), flt,
                                 need, counted).spans
        else:
            q = q.limit(need - first).offset(first)
            ranked = [TrackSpan(int(r.id), r.camera_id, r.object, r.start_utc,
                                r.end_utc, float(r.score)) for r in conn.execute(q)]
        page = ranked[offset - first:offset - first + limit]
        rows = rows_of(conn, [r.id for r in page])
        attrs = attributes_of(conn, [r.id for r in page])
        tracks = [track_row(rows[r.id], attrs.get(r.id, {}), r.score) for r in page
                  if r.id in rows]
        return tracks, ranked[:spans]

    def with_objects(self, rows: Sequence[TrackRow],
                     scope: tuple[ScopeWindow, ...] | None = None) -> list[TrackRow]:
        """``rows`` (one per object) with their objects' fragments: ``start``/``end`` become
        the object's span (its first fragment's start to its last one's end; the box, its
        time and the thumbnail stay the row's own), ``track_ids`` the fragments in start
        order, ``total_duration_s`` the seconds covered by the union of their spans and
        ``plates`` the distinct plate reads, most confident first. With ``scope``, only the
        fragments inside it count."""
        keys = sorted({r.object_id if r.object_id is not None else r.id for r in rows})
        if not keys:
            return list(rows)
        t, p = s.tracks, s.plate_reads
        frags: dict[int, list[tuple[datetime, datetime, int]]] = {}
        plates: dict[int, dict[str, float]] = {}
        with self._read("read objects of hits") as conn:
            for i in range(0, len(keys), 900):  # SQLite's bound-parameter limit
                chunk = keys[i:i + 900]
                q = (select(t.c.id, func.coalesce(t.c.object_id, t.c.id).label("key"),
                            t.c.camera_id, t.c.start_utc, t.c.end_utc, p.c.text,
                            p.c.confidence)
                     .outerjoin(p, p.c.track_id == t.c.id)
                     .where(or_(t.c.object_id.in_(chunk),
                                and_(t.c.object_id.is_(None), t.c.id.in_(chunk)))))
                for r in conn.execute(q):
                    # Fragments outside a case's scope never show, not even as an object's
                    # span or plate reads. Tested here on the few fragments of the hits:
                    # as SQL, the scope's OR made the planner scan the camera index
                    # instead of looking the objects up (10x slower on a 20-window case).
                    if scope is not None and not any(
                            w.camera == r.camera_id and r.end_utc >= w.start
                            and r.start_utc <= w.end for w in scope):
                        continue
                    key = int(r.key)
                    frags.setdefault(key, []).append((r.start_utc, r.end_utc, int(r.id)))
                    if r.text is not None:
                        seen = plates.setdefault(key, {})
                        seen[r.text] = max(seen.get(r.text, 0.0), float(r.confidence))
        out = []
        for row in rows:
            key = row.object_id if row.object_id is not None else row.id
            spans = sorted(frags.get(key, [(row.start, row.end, row.id)]))
            reads = plates.get(key, {})
            out.append(replace(
                row, start=min(a for a, _, _ in spans), end=max(b for _, b, _ in spans),
                track_ids=tuple(i for _, _, i in spans),
                total_duration_s=covered_seconds([(a, b) for a, b, _ in spans]),
                plates=tuple(sorted(reads, key=lambda x: (-reads[x], x)))))
        return out

    def track_summaries(self, camera_id: str, time_from: datetime,
                        time_to: datetime) -> list[TrackSummary]:
        """The tracks of ``camera_id`` overlapping ``[time_from, time_to]`` as linking needs
        them (:class:`TrackSummary`), in start order."""
        t, u, r, p = s.tracks, s.work_units, s.recordings, s.plate_reads
        q = (select(t.c.id, t.c.camera_id, t.c.recording_id, t.c.object, t.c.start_utc,
                    t.c.end_utc, t.c.t_start, t.c.observations_json, t.c.box_x0, t.c.box_y0,
                    t.c.box_x1, t.c.box_y1, t.c.best_t, u.c.t0, u.c.t1,
                    r.c.duration_s, p.c.text, p.c.confidence)
             # Outer: a unit row may be missing (tracks stored by hand); the slice is then
             # the whole recording.
             .outerjoin(u, u.c.id == t.c.unit_id).join(r, r.c.id == t.c.recording_id)
             .outerjoin(p, p.c.track_id == t.c.id)
             .where(t.c.camera_id == camera_id, t.c.end_utc >= time_from,
                    t.c.start_utc <= time_to)
             .order_by(t.c.start_utc, t.c.id))
        a = s.track_attributes
        with self._read(f"read tracks of camera {camera_id} for linking") as conn:
            rows = conn.execute(q).all()
            kinds: dict[int, set[str]] = {}
            ids = [int(x.id) for x in rows]
            for i in range(0, len(ids), 900):
                for k in conn.execute(select(a.c.track_id, a.c.value).where(
                        a.c.name == "vehicle_type", a.c.track_id.in_(ids[i:i + 900]))):
                    kinds.setdefault(int(k.track_id), set()).add(str(k.value))
        return [summary_of(x, kinds.get(int(x.id), set())) for x in rows]

    def set_objects(self, objects: dict[int, int]) -> int:
        """Store ``track id → object id`` (:func:`retrouve.analysis.objects.group_fragments`)
        in one transaction; returns how many tracks changed object."""
        if not objects:
            return 0
        t = s.tracks
        ids = sorted(objects)
        with self._begin("link track fragments into objects") as conn:
            current: dict[int, int | None] = {}
            for i in range(0, len(ids), 900):
                for r in conn.execute(select(t.c.id, t.c.object_id)
                                      .where(t.c.id.in_(ids[i:i + 900]))):
                    current[int(r.id)] = r.object_id
            changed = [{"tid": i, "oid": objects[i]} for i in ids
                       if i in current and current[i] != objects[i]]
            if changed:
                conn.execute(update(t).where(t.c.id == bindparam("tid"))
                             .values(object_id=bindparam("oid")), changed)
        return len(changed)

    def get_track(self, track_id: int, scope: tuple[ScopeWindow, ...] | None = None
                  ) -> TrackRow | None:
        """One stored track with its best attributes and plate, or ``None`` (also when
        ``scope`` is given and the track lies outside it)."""
        rows = self.find_tracks(TrackFilter(ids=(track_id,), scope=scope), limit=1)
        return rows[0] if rows else None

    # ------------------------------------------------------------------ details
    def vectors(self, kind: str, ids: Sequence[int]) -> dict[int, bytes]:
        """Stored appearance vectors (raw float32 bytes) of ``kind`` for the given tracks."""
        v = s.track_vectors
        out: dict[int, bytes] = {}
        with self._read(f"read {kind} vectors") as conn:
            for i in range(0, len(ids), 900):  # SQLite's bound-parameter limit
                chunk = list(ids[i:i + 900])
                for r in conn.execute(select(v.c.track_id, v.c.vector)
                                      .where(v.c.kind == kind, v.c.track_id.in_(chunk))):
                    out[int(r.track_id)] = bytes(r.vector)
        return out

    def track_detail(self, track_id: int, scope: tuple[ScopeWindow, ...] | None = None
                     ) -> TrackDetail | None:
        """Track ``track_id`` with its observations, best attributes and plate, or None (also
        when ``scope`` is given and the track lies outside it)."""
        with self._read(f"read track {track_id}") as conn:
            if not _visible(conn, track_id, scope):
                return None
            row = rows_of(conn, [track_id]).get(track_id)
            if row is None:
                return None
            attrs = attributes_of(conn, [track_id]).get(track_id, {})
            obs_json = conn.execute(select(s.tracks.c.observations_json)
                                    .where(s.tracks.c.id == track_id)).scalar_one()
        track = track_row(row, attrs, float(row["object_conf"]))
        obs = tuple((float(o[0]), float(o[1]), float(o[2]), float(o[3]), float(o[4]),
                     float(o[5])) for o in json.loads(obs_json))
        return TrackDetail(
            id=track.id, recording_id=track.recording_id, camera_id=track.camera_id,
            object=track.object, object_confidence=track.object_conf, start=track.start,
            end=track.end, t_start=float(row["t_start"]), t_end=float(row["t_end"]),
            best_t=track.best_t, box=track.box, thumbnail=track.thumbnail, observations=obs,
            attributes=attrs, plate=track.plate,
        )

    def track_times(self, track_id: int, scope: tuple[ScopeWindow, ...] | None = None
                    ) -> TrackTimes | None:
        """The recording and times (recording seconds) of a track, or None (also outside
        ``scope`` when given)."""
        t = s.tracks
        q = select(t.c.recording_id, t.c.t_start, t.c.t_end, t.c.best_t).where(t.c.id == track_id)
        if scope is not None:
            q = q.where(in_scope(t, scope))
        with self._read(f"read times of track {track_id}") as conn:
            row = conn.execute(q).first()
        if row is None:
            return None
        return TrackTimes(str(row.recording_id), float(row.t_start), float(row.t_end),
                          float(row.best_t))

    def thumbnail_key(self, track_id: int, scope: tuple[ScopeWindow, ...] | None = None
                      ) -> str | None:
        """The blob key of a track's thumbnail (None: unknown track, no thumbnail, or a track
        outside ``scope`` when given)."""
        q = select(s.tracks.c.thumbnail).where(s.tracks.c.id == track_id)
        if scope is not None:
            q = q.where(in_scope(s.tracks, scope))
        with self._read(f"read thumbnail of track {track_id}") as conn:
            key = conn.execute(q).scalar_one_or_none()
        return str(key) if key else None
