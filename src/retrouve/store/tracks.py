"""Tracks: saving a unit's results, finding and ranking tracks, details, vectors, thumbnails.

A unit's tracks and its ``done`` mark are written in one transaction, so a crash leaves a unit
either fully stored or still pending.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, false, func, or_, select

from retrouve.domain import ScopeWindow, Track, UnitResult
from retrouve.store import schema as s
from retrouve.store.base import StorePart
from retrouve.store.blobs import safe_name
from retrouve.store.recordings import recording_anchors
from retrouve.store.records import TrackDetail, TrackFilter, TrackRow, TrackSpan, TrackTimes
from retrouve.store.track_rows import attributes_of, insert_track, rows_of, track_row
from retrouve.store.work import mark_unit_done


def in_scope(t: Any, scope: tuple[ScopeWindow, ...]) -> Any:
    """SQL condition: the track overlaps one of the windows on its camera (``false`` for
    none)."""
    if not scope:
        return false()
    return or_(*(and_(t.c.camera_id == w.camera, t.c.end_utc >= w.start,
                      t.c.start_utc <= w.end) for w in scope))


class TracksPart(StorePart):
    """Stored tracks: writes per unit, ranked reads for search."""

    def save_unit_result(self, run_id: int, result: UnitResult, now: datetime) -> int:
        """Store one unit's tracks and mark it done, atomically. Returns tracks written.

        Any tracks of an earlier, interrupted attempt of the same unit are replaced, so a
        resumed analysis never duplicates. Thumbnails are written first under deterministic
        keys: a crash before the commit leaves files that the retry overwrites.
        """
        keys = [self._put_thumbnail(t) for t in result.tracks]
        with self._begin(f"save unit {result.unit_id}") as conn:
            conn.execute(delete(s.tracks).where(s.tracks.c.unit_id == result.unit_id))
            recs = recording_anchors(conn, {t.recording_id for t in result.tracks})
            for track, key in zip(result.tracks, keys, strict=True):
                anchor = recs[track.recording_id]
                insert_track(conn, run_id, track, key, anchor.camera_id, anchor.start)
            mark_unit_done(conn, result.unit_id, run_id, result.stats, now)
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

    def find_tracks(
        self, flt: TrackFilter, *, order: str = "score", limit: int = 50, offset: int = 0
    ) -> list[TrackRow]:
        """Tracks matching ``flt``, best score first (``order="score"``) or by start time."""
        return self.find_tracks_and_spans(flt, order=order, limit=limit, offset=offset)[0]

    def find_tracks_and_spans(
        self, flt: TrackFilter, *, order: str = "score", limit: int = 50, offset: int = 0,
        spans: int = 0,
    ) -> tuple[list[TrackRow], list[TrackSpan]]:
        """The page ``[offset, offset + limit)`` of :meth:`find_tracks`, plus the spans of the
        first ``spans`` matches in the same order, from one ranking (a results timeline
        needs no second search)."""
        t = s.tracks
        score: Any = t.c.object_conf
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
        q = select(t.c.id, t.c.camera_id, t.c.object, t.c.start_utc, t.c.end_utc)
        if flt.plate_likes or flt.with_plate:
            p = s.plate_reads
            q = q.join(p, p.c.track_id == t.c.id)
            if flt.plate_likes:
                conds.append(or_(*(
                    or_(p.c.folded.like(pat), p.c.folded_alts.like(f"%|{pat}|%"))
                    for pat in flt.plate_likes)))
        for i, af in enumerate(flt.attributes):
            a = s.track_attributes.alias(f"a{i}")
            on = and_(a.c.track_id == t.c.id, a.c.name == af.name, a.c.value == af.value,
                      a.c.confidence >= af.min_confidence)
            if af.or_object is None:
                q = q.join(a, on)
                score = score * a.c.confidence
            else:
                q = q.outerjoin(a, on)
                conds.append(or_(a.c.track_id.is_not(None), t.c.object == af.or_object))
                score = score * func.coalesce(a.c.confidence, 1.0)
        q = q.add_columns(score.label("score"))
        if conds:
            q = q.where(and_(*conds))
        if order == "time":
            q = q.order_by(t.c.start_utc, t.c.id)
        else:
            q = q.order_by(score.desc(), t.c.start_utc, t.c.id)
        first = 0 if spans else offset
        q = q.limit(max(limit + offset, spans) if spans else limit).offset(first)
        with self._read("search tracks") as conn:
            # Rank on a few narrow columns, then read the page's rows: the sorter never
            # carries the wide columns (observations) of every match.
            ranked = [TrackSpan(int(r.id), r.camera_id, r.object, r.start_utc, r.end_utc,
                                float(r.score)) for r in conn.execute(q)]
            page = ranked[offset - first:offset - first + limit]
            rows = rows_of(conn, [r.id for r in page])
            attrs = attributes_of(conn, [r.id for r in page])
        tracks = [track_row(rows[r.id], attrs.get(r.id, {}), r.score) for r in page
                  if r.id in rows]
        return tracks, ranked[:spans]

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

    def track_detail(self, track_id: int) -> TrackDetail | None:
        """Track ``track_id`` with its observations, best attributes and plate, or None."""
        with self._read(f"read track {track_id}") as conn:
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

    def track_times(self, track_id: int) -> TrackTimes | None:
        """The recording and times (recording seconds) of a track, or None."""
        t = s.tracks
        q = select(t.c.recording_id, t.c.t_start, t.c.t_end, t.c.best_t).where(t.c.id == track_id)
        with self._read(f"read times of track {track_id}") as conn:
            row = conn.execute(q).first()
        if row is None:
            return None
        return TrackTimes(str(row.recording_id), float(row.t_start), float(row.t_end),
                          float(row.best_t))

    def thumbnail_key(self, track_id: int) -> str | None:
        """The blob key of a track's thumbnail (None: unknown track or no thumbnail)."""
        with self._read(f"read thumbnail of track {track_id}") as conn:
            key = conn.execute(
                select(s.tracks.c.thumbnail).where(s.tracks.c.id == track_id)
            ).scalar_one_or_none()
        return str(key) if key else None
