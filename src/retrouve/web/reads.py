"""Read-only lookups the web pages need and the ``Store`` does not offer yet.

Kept here, over the store's engine and schema, so this issue did not widen ``Store`` beyond
accounts; each function is a plain read and can move into ``Store`` as is. They never write.
The playback route can use :func:`track_detail` to map a track id to its recording.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from retrouve.domain import Box
from retrouve.store import schema as s
from retrouve.store.db import Store


@dataclass(frozen=True)
class PlateInfo:
    """A track's consensus plate read (normalised text, confidence 0..1, runner-ups)."""

    text: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class TrackDetail:
    """One stored track. ``start``/``end`` are aware UTC; ``t_*`` recording seconds;
    ``observations`` are ``(t, x0, y0, x1, y1, confidence)`` in original-frame pixels."""

    id: int
    recording_id: str
    camera_id: str
    object: str
    object_confidence: float
    start: datetime
    end: datetime
    t_start: float
    t_end: float
    best_t: float
    box: Box
    thumbnail: str | None
    observations: tuple[tuple[float, float, float, float, float, float], ...]
    attributes: dict[str, tuple[str, float]]
    plate: PlateInfo | None


@dataclass(frozen=True)
class UnitProgress:
    """Work units of one recording by status."""

    done: int = 0
    failed: int = 0
    total: int = 0


def track_detail(store: Store, track_id: int) -> TrackDetail | None:
    t = s.tracks
    with store.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.id == track_id)).first()
        if row is None:
            return None
        a = s.track_attributes
        attrs = {
            r.name: (r.value, float(r.confidence))
            for r in conn.execute(
                select(a.c.name, a.c.value, a.c.confidence)
                .where(a.c.track_id == track_id, a.c.rank == 1)
            )
        }
        p = s.plate_reads
        plate_row = conn.execute(select(p).where(p.c.track_id == track_id)).first()
    plate = None
    if plate_row is not None:
        plate = PlateInfo(
            plate_row.text, float(plate_row.confidence),
            tuple((str(x), float(c)) for x, c in json.loads(plate_row.alternatives_json)),
        )
    obs = tuple(
        (float(o[0]), float(o[1]), float(o[2]), float(o[3]), float(o[4]), float(o[5]))
        for o in json.loads(row.observations_json)
    )
    return TrackDetail(
        id=row.id, recording_id=row.recording_id, camera_id=row.camera_id, object=row.object,
        object_confidence=float(row.object_conf), start=row.start_utc, end=row.end_utc,
        t_start=float(row.t_start), t_end=float(row.t_end), best_t=float(row.best_t),
        box=Box(row.box_x0, row.box_y0, row.box_x1, row.box_y1), thumbnail=row.thumbnail,
        observations=obs, attributes=attrs, plate=plate,
    )


def thumbnail_key(store: Store, track_id: int) -> str | None:
    """The blob key of a track's thumbnail (None: unknown track or no thumbnail)."""
    with store.engine.connect() as conn:
        key = conn.execute(
            select(s.tracks.c.thumbnail).where(s.tracks.c.id == track_id)
        ).scalar_one_or_none()
    return str(key) if key else None


def unit_progress(store: Store) -> dict[str, UnitProgress]:
    """Recording id → its work units done / failed / planned (recordings never planned are
    absent)."""
    w = s.work_units
    q = select(w.c.recording_id, w.c.status, func.count()).group_by(w.c.recording_id, w.c.status)
    counts: dict[str, dict[str, int]] = {}
    with store.engine.connect() as conn:
        for rec_id, status, n in conn.execute(q):
            counts.setdefault(rec_id, {})[status] = int(n)
    return {
        rec: UnitProgress(c.get("done", 0), c.get("failed", 0), sum(c.values()))
        for rec, c in counts.items()
    }
