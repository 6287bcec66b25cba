"""The store: the only code that talks to the database (SQLAlchemy Core) and the blob folder.

SQLite is the default (WAL journal, foreign keys on, busy timeout so a reader never fails
while the analysis writes); PostgreSQL works by changing ``database_url`` (extra
``postgres``). All datetimes in and out are timezone-aware.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, NoSuchModuleError, SQLAlchemyError

from retrouve.domain import (
    Box,
    Camera,
    PlateRead,
    Recording,
    Track,
    UnitResult,
    WorkUnit,
    fold_plate,
)
from retrouve.errors import DuplicateCameraError, MissingExtraError, StoreError, UnknownCameraError
from retrouve.store import schema as s
from retrouve.store.blobs import BlobStore, safe_name
from retrouve.store.migrate import upgrade

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AttributeFilter:
    """Require attribute ``name`` to have ``value`` with at least ``min_confidence``."""

    name: str
    value: str
    min_confidence: float = 0.0
    #: Also accept tracks of this object type without a matching value (factor 1.0): tracks
    #: stored before the attribute existed still match ``vehicle_type = car`` as cars.
    or_object: str | None = None


@dataclass(frozen=True)
class TrackFilter:
    """Store-level search filter. Times are aware; a track matches when its span overlaps."""

    cameras: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    time_from: datetime | None = None
    time_to: datetime | None = None
    attributes: tuple[AttributeFilter, ...] = ()
    #: Only tracks with a plate read whose confusion-folded text, or one of its folded
    #: runner-up reads, matches one of these SQL LIKE patterns.
    plate_likes: tuple[str, ...] = ()
    #: Only tracks with a plate read.
    with_plate: bool = False
    #: Only these track ids (``None``: no restriction).
    ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class TrackRow:
    """A stored track as search reads it. ``score`` = object confidence × matched attribute
    confidences (the filter's attributes only)."""

    id: int
    camera_id: str
    recording_id: str
    object: str
    object_conf: float
    start: datetime
    end: datetime
    best_t: float
    box: Box
    thumbnail: str | None
    attributes: dict[str, tuple[str, float]]
    score: float
    box_time: datetime
    plate: PlateRead | None = None


@dataclass(frozen=True)
class TrackSpan:
    """Where and when a ranked track was seen (UTC), for timelines; ``score`` as ranked."""

    id: int
    camera_id: str
    object: str
    start: datetime
    end: datetime
    score: float


@dataclass(frozen=True)
class TrackDetail:
    """One stored track in full (sequence view, API). ``start``/``end`` are aware UTC; ``t_*``
    recording seconds; ``observations`` are ``(t, x0, y0, x1, y1, confidence)`` in
    original-frame pixels; ``attributes`` the best value of each."""

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
    plate: PlateRead | None


@dataclass(frozen=True)
class UnitProgress:
    """Work units of one recording by status."""

    done: int = 0
    failed: int = 0
    total: int = 0


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Store:
    """Metadata in the database, files in the blob folder."""

    def __init__(self, url: str, blob_dir: Path) -> None:
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = create_engine(url, future=True)
        except (ModuleNotFoundError, NoSuchModuleError) as exc:
            if url.startswith("postgres"):
                raise MissingExtraError("postgres", "a PostgreSQL database_url") from exc
            raise StoreError(f"cannot open database {url!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.blobs = BlobStore(blob_dir)
        try:
            upgrade(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate database {self.engine.url}: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()

    # ----------------------------------------------------------------- cameras
    def add_camera(self, camera: Camera, now: datetime) -> bool:
        """Register ``camera``. Returns False if an identical camera exists; raises
        ``DuplicateCameraError`` if the id exists with different details."""
        existing = self.get_camera(camera.id)
        if existing is not None:
            if existing == camera:
                return False
            raise DuplicateCameraError(
                f"camera {camera.id!r} already exists with other details ({existing})"
            )
        with self.engine.begin() as conn:
            conn.execute(
                insert(s.cameras).values(
                    id=camera.id, name=camera.name, timezone=camera.timezone,
                    latitude=camera.latitude, longitude=camera.longitude,
                    address=camera.address, created_at=now,
                )
            )
        return True

    def get_camera(self, camera_id: str) -> Camera | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(s.cameras).where(s.cameras.c.id == camera_id)).first()
        return _camera(row._mapping) if row else None

    def require_camera(self, camera_id: str) -> Camera:
        cam = self.get_camera(camera_id)
        if cam is None:
            known = ", ".join(c.id for c in self.list_cameras()[:20]) or "none registered"
            raise UnknownCameraError(f"unknown camera {camera_id!r} (known: {known})")
        return cam

    def list_cameras(self) -> list[Camera]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.cameras).order_by(s.cameras.c.id)).all()
        return [_camera(r._mapping) for r in rows]

    # -------------------------------------------------------------- recordings
    def find_recording(self, camera_id: str, sha256: str) -> Recording | None:
        q = select(s.recordings).where(
            s.recordings.c.camera_id == camera_id, s.recordings.c.sha256 == sha256
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return _recording(row._mapping) if row else None

    def get_recording(self, recording_id: str) -> Recording | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.recordings).where(s.recordings.c.id == recording_id)
            ).first()
        return _recording(row._mapping) if row else None

    def add_recording(self, rec: Recording, now: datetime) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(s.recordings).values(
                        id=rec.id, camera_id=rec.camera_id, path=rec.path, sha256=rec.sha256,
                        size_bytes=rec.size_bytes, start_utc=rec.start, end_utc=rec.end,
                        duration_s=rec.duration_s, fps=rec.fps, width=rec.width,
                        height=rec.height, codec=rec.codec, frame_count=rec.frame_count,
                        is_image=rec.is_image, status="pending", ingested_at=now,
                    )
                )
        except IntegrityError as exc:
            raise StoreError(f"recording {rec.id} ({rec.path}) already registered") from exc

    def list_recordings(
        self, camera_id: str | None = None, status: Sequence[str] | None = None
    ) -> list[tuple[Recording, str, str | None]]:
        """Recordings with their analysis status and error, ordered by camera and start."""
        q = select(s.recordings).order_by(s.recordings.c.camera_id, s.recordings.c.start_utc)
        if camera_id:
            q = q.where(s.recordings.c.camera_id == camera_id)
        if status:
            q = q.where(s.recordings.c.status.in_(list(status)))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [(_recording(r._mapping), r.status, r.error) for r in rows]

    def set_recording_status(self, recording_id: str, status: str, error: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(s.recordings)
                .where(s.recordings.c.id == recording_id)
                .values(status=status, error=error)
            )

    # ------------------------------------------------------------ analysis runs
    def start_run(self, now: datetime, settings: dict[str, Any], models: dict[str, Any],
                  version: str) -> int:
        values = {
            "started_at": now, "status": "running", "software_version": version,
            "settings_json": json.dumps(settings, sort_keys=True, default=str),
            "models_json": json.dumps(models, sort_keys=True),
        }
        with self.engine.begin() as conn:
            res = conn.execute(insert(s.analysis_runs).values(**values))
            pk = res.inserted_primary_key
            assert pk is not None
            return int(pk[0])

    def finish_run(self, run_id: int, now: datetime, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(s.analysis_runs)
                .where(s.analysis_runs.c.id == run_id)
                .values(finished_at=now, status=status)
            )
        self.optimize()

    def optimize(self) -> None:
        """Refresh the query planner's statistics (after bulk writes such as an analysis run):
        without them SQLite may drive a search from a poorly selective index."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.begin() as conn:
                conn.exec_driver_sql("PRAGMA optimize=0x10002")
        else:
            with self.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")

    def list_runs(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.analysis_runs).order_by(s.analysis_runs.c.id)).all()
        return [dict(r._mapping) for r in rows]

    # -------------------------------------------------------------- work units
    def ensure_units(self, units: Iterable[WorkUnit]) -> int:
        """Insert units not yet known (idempotent). Returns how many were new."""
        units = list(units)
        if not units:
            return 0
        with self.engine.begin() as conn:
            known = set(
                conn.execute(
                    select(s.work_units.c.id).where(s.work_units.c.id.in_([u.id for u in units]))
                ).scalars()
            )
            new = [u for u in units if u.id not in known]
            if new:
                conn.execute(
                    insert(s.work_units),
                    [
                        {"id": u.id, "recording_id": u.recording_id, "t0": u.t0, "t1": u.t1,
                         "status": "pending", "attempts": 0}
                        for u in new
                    ],
                )
        return len(new)

    def unit_status(self, recording_ids: Sequence[str] | None = None) -> dict[str, str]:
        """Unit id → status for the given recordings (all when None)."""
        q = select(s.work_units.c.id, s.work_units.c.status)
        if recording_ids is not None:
            q = q.where(s.work_units.c.recording_id.in_(list(recording_ids)))
        with self.engine.connect() as conn:
            return {r.id: r.status for r in conn.execute(q)}

    def save_unit_result(self, run_id: int, result: UnitResult, now: datetime) -> int:
        """Store one unit's tracks and mark it done, atomically. Returns tracks written.

        Any tracks of an earlier, interrupted attempt of the same unit are replaced, so a
        resumed analysis never duplicates. Thumbnails are written first under deterministic
        keys: a crash before the commit leaves files that the retry overwrites.
        """
        keys = [self._put_thumbnail(t) for t in result.tracks]
        with self.engine.begin() as conn:
            conn.execute(delete(s.tracks).where(s.tracks.c.unit_id == result.unit_id))
            recs = self._recording_meta(conn, {t.recording_id for t in result.tracks})
            for track, key in zip(result.tracks, keys, strict=True):
                camera_id, start = recs[track.recording_id]
                track_id = _insert_track(conn, run_id, track, key, camera_id, start)
                _insert_attributes(conn, track_id, track)
                _insert_plate(conn, track_id, track)
                _insert_vectors(conn, track_id, track)
            conn.execute(
                update(s.work_units)
                .where(s.work_units.c.id == result.unit_id)
                .values(
                    status="done", error=None, run_id=run_id, finished_at=now,
                    attempts=s.work_units.c.attempts + 1,
                    stats_json=json.dumps(
                        {"frames_decoded": result.stats.frames_decoded,
                         "frames_sampled": result.stats.frames_sampled,
                         "frames_detected": result.stats.frames_detected,
                         "detector_passes": result.stats.detector_passes,
                         "seconds": result.stats.seconds}
                    ),
                )
            )
        return len(result.tracks)

    def mark_unit_failed(self, unit_id: str, run_id: int, error: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(s.work_units)
                .where(s.work_units.c.id == unit_id)
                .values(status="failed", error=error, run_id=run_id, finished_at=now,
                        attempts=s.work_units.c.attempts + 1)
            )

    def unit_errors(self, recording_id: str) -> list[str]:
        q = select(s.work_units.c.error).where(
            s.work_units.c.recording_id == recording_id, s.work_units.c.status == "failed"
        )
        with self.engine.connect() as conn:
            return [e for e in conn.execute(q).scalars() if e]

    def _put_thumbnail(self, track: Track) -> str | None:
        if not track.thumbnail_jpeg:
            return None
        key = (
            f"thumbs/{safe_name(track.recording_id)}/"
            f"{safe_name(track.unit_id)}-{track.local_id}.jpg"
        )
        self.blobs.put(key, track.thumbnail_jpeg)
        return key

    @staticmethod
    def _recording_meta(conn: Any, ids: set[str]) -> dict[str, tuple[str, datetime]]:
        if not ids:
            return {}
        rows = conn.execute(
            select(s.recordings.c.id, s.recordings.c.camera_id, s.recordings.c.start_utc)
            .where(s.recordings.c.id.in_(list(ids)))
        ).all()
        return {r.id: (r.camera_id, r.start_utc) for r in rows}

    # ------------------------------------------------------------------- search
    def count_tracks(self) -> int:
        with self.engine.connect() as conn:
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
        with self.engine.connect() as conn:
            # Rank on a few narrow columns, then read the page's rows: the sorter never
            # carries the wide columns (observations) of every match.
            ranked = [TrackSpan(int(r.id), r.camera_id, r.object, r.start_utc, r.end_utc,
                                float(r.score)) for r in conn.execute(q)]
            page = ranked[offset - first:offset - first + limit]
            rows = self._rows_of(conn, [r.id for r in page])
            attrs = self._attributes_of(conn, [r.id for r in page])
        tracks = [_track_row(rows[r.id], attrs.get(r.id, {}), r.score) for r in page
                  if r.id in rows]
        return tracks, ranked[:spans]

    @staticmethod
    def _rows_of(conn: Any, ids: list[int]) -> dict[int, Any]:
        """Track rows with their plate read (plate columns ``None`` when unread), by id."""
        if not ids:
            return {}
        t, p = s.tracks, s.plate_reads
        # Every column a TrackRow needs; not the observations (kilobytes per track).
        cols = [c for c in t.c if c.name != "observations_json"]
        q = (select(*cols).outerjoin(p, p.c.track_id == t.c.id).add_columns(
            p.c.text.label("plate_text"), p.c.confidence.label("plate_conf"),
            p.c.chars_json.label("plate_chars"), p.c.alternatives_json.label("plate_alts"),
            p.c.grammar.label("plate_grammar"), p.c.reads.label("plate_reads"),
            p.c.best_t.label("plate_t"),
        ).where(t.c.id.in_(ids)))
        return {int(r.id): r._mapping for r in conn.execute(q)}

    @staticmethod
    def _attributes_of(conn: Any, ids: list[int]) -> dict[int, dict[str, tuple[str, float]]]:
        """Best value (rank 1) of every attribute of the given tracks."""
        if not ids:
            return {}
        a = s.track_attributes
        rows = conn.execute(
            select(a.c.track_id, a.c.name, a.c.value, a.c.confidence)
            .where(a.c.track_id.in_(ids), a.c.rank == 1)
        ).all()
        out: dict[int, dict[str, tuple[str, float]]] = {}
        for r in rows:
            out.setdefault(r.track_id, {})[r.name] = (r.value, float(r.confidence))
        return out

    def vectors(self, kind: str, ids: Sequence[int]) -> dict[int, bytes]:
        """Stored appearance vectors (raw float32 bytes) of ``kind`` for the given tracks."""
        v = s.track_vectors
        out: dict[int, bytes] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 900):  # SQLite's bound-parameter limit
                chunk = list(ids[i:i + 900])
                for r in conn.execute(select(v.c.track_id, v.c.vector)
                                      .where(v.c.kind == kind, v.c.track_id.in_(chunk))):
                    out[int(r.track_id)] = bytes(r.vector)
        return out

    def track_detail(self, track_id: int) -> TrackDetail | None:
        """Track ``track_id`` with its observations, best attributes and plate, or None."""
        with self.engine.connect() as conn:
            row = self._rows_of(conn, [track_id]).get(track_id)
            if row is None:
                return None
            attrs = self._attributes_of(conn, [track_id]).get(track_id, {})
            obs_json = conn.execute(select(s.tracks.c.observations_json)
                                    .where(s.tracks.c.id == track_id)).scalar_one()
        track = _track_row(row, attrs, float(row["object_conf"]))
        obs = tuple((float(o[0]), float(o[1]), float(o[2]), float(o[3]), float(o[4]),
                     float(o[5])) for o in json.loads(obs_json))
        return TrackDetail(
            id=track.id, recording_id=track.recording_id, camera_id=track.camera_id,
            object=track.object, object_confidence=track.object_conf, start=track.start,
            end=track.end, t_start=float(row["t_start"]), t_end=float(row["t_end"]),
            best_t=track.best_t, box=track.box, thumbnail=track.thumbnail, observations=obs,
            attributes=attrs, plate=track.plate,
        )

    def track_times(self, track_id: int) -> tuple[str, float, float, float] | None:
        """``(recording id, t_start, t_end, best_t)`` of a track (recording seconds), or None:
        the light lookup that every range request of the player makes."""
        t = s.tracks
        q = select(t.c.recording_id, t.c.t_start, t.c.t_end, t.c.best_t).where(t.c.id == track_id)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            return None
        return str(row.recording_id), float(row.t_start), float(row.t_end), float(row.best_t)

    def thumbnail_key(self, track_id: int) -> str | None:
        """The blob key of a track's thumbnail (None: unknown track or no thumbnail)."""
        with self.engine.connect() as conn:
            key = conn.execute(
                select(s.tracks.c.thumbnail).where(s.tracks.c.id == track_id)
            ).scalar_one_or_none()
        return str(key) if key else None

    def unit_progress(self) -> dict[str, UnitProgress]:
        """Recording id → its work units done / failed / planned (recordings never planned
        are absent)."""
        w = s.work_units
        q = (select(w.c.recording_id, w.c.status, func.count())
             .group_by(w.c.recording_id, w.c.status))
        counts: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for rec_id, status, n in conn.execute(q):
                counts.setdefault(rec_id, {})[status] = int(n)
        return {
            rec: UnitProgress(c.get("done", 0), c.get("failed", 0), sum(c.values()))
            for rec, c in counts.items()
        }

    def get_track(self, track_id: int) -> TrackRow | None:
        """One stored track with its best attributes and plate, or ``None``."""
        rows = self.find_tracks(TrackFilter(ids=(track_id,)), limit=1)
        return rows[0] if rows else None

    def analysed_span(self, cameras: Sequence[str]) -> tuple[int, int]:
        """(recordings, recordings fully analysed) among ``cameras`` (all when empty)."""
        q = select(s.recordings.c.status)
        if cameras:
            q = q.where(s.recordings.c.camera_id.in_(list(cameras)))
        with self.engine.connect() as conn:
            statuses = list(conn.execute(q).scalars())
        return len(statuses), sum(1 for x in statuses if x == "done")

    # ------------------------------------------------------- users and API tokens
    # Operator accounts of the web application (``retrouve.legal.accounts`` holds the rules:
    # hashing, roles, token format). Rows come back as plain dicts of the ``users`` columns.
    def add_user(self, name: str, password_hash: str, role: str, now: datetime) -> int:
        """Insert a user; raises ``StoreError`` if the name is taken. Returns the new id."""
        try:
            with self.engine.begin() as conn:
                res = conn.execute(
                    insert(s.users).values(
                        name=name, password_hash=password_hash, role=role, disabled=False,
                        created_at=now, password_changed_at=now,
                    )
                )
                pk = res.inserted_primary_key
                assert pk is not None
                return int(pk[0])
        except IntegrityError as exc:
            raise StoreError(f"user {name!r} already exists") from exc

    def get_user(self, name: str | None = None, user_id: int | None = None
                 ) -> dict[str, Any] | None:
        """One user by name or by id (exactly one of them), or None."""
        q = select(s.users)
        q = q.where(s.users.c.id == user_id) if user_id is not None else q.where(
            s.users.c.name == name)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return dict(row._mapping) if row else None

    def list_users(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.users).order_by(s.users.c.name)).all()
        return [dict(r._mapping) for r in rows]

    def update_user(self, user_id: int, **values: Any) -> None:
        """Set columns of one user (``password_hash``, ``role``, ``disabled``…)."""
        with self.engine.begin() as conn:
            conn.execute(update(s.users).where(s.users.c.id == user_id).values(**values))

    def add_api_token(self, user_id: int, token_sha256: str, now: datetime) -> int:
        with self.engine.begin() as conn:
            res = conn.execute(
                insert(s.api_tokens).values(user_id=user_id, token_sha256=token_sha256,
                                            created_at=now)
            )
            pk = res.inserted_primary_key
            assert pk is not None
            return int(pk[0])

    def use_api_token(self, token_sha256: str, now: datetime) -> int | None:
        """The user id of a live (not revoked) token, stamping its last use; else None."""
        t = s.api_tokens
        with self.engine.begin() as conn:
            row = conn.execute(
                select(t.c.id, t.c.user_id)
                .where(t.c.token_sha256 == token_sha256, t.c.revoked_at.is_(None))
            ).first()
            if row is None:
                return None
            conn.execute(update(t).where(t.c.id == row.id).values(last_used_at=now))
            return int(row.user_id)

    def revoke_api_tokens(self, user_id: int, now: datetime) -> int:
        """Revoke every live token of a user. Returns how many were revoked."""
        t = s.api_tokens
        with self.engine.begin() as conn:
            res = conn.execute(
                update(t).where(t.c.user_id == user_id, t.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return int(res.rowcount)


def _camera(m: Any) -> Camera:
    return Camera(id=m["id"], name=m["name"], timezone=m["timezone"], latitude=m["latitude"],
                  longitude=m["longitude"], address=m["address"])


def _recording(m: Any) -> Recording:
    return Recording(
        id=m["id"], camera_id=m["camera_id"], path=m["path"], sha256=m["sha256"],
        size_bytes=m["size_bytes"], start=m["start_utc"], duration_s=m["duration_s"],
        fps=m["fps"], width=m["width"], height=m["height"], codec=m["codec"],
        frame_count=m["frame_count"], is_image=bool(m["is_image"]),
    )


def _insert_track(conn: Any, run_id: int, track: Track, thumb: str | None, camera_id: str,
                  rec_start: datetime) -> int:
    b = track.best_box
    res = conn.execute(
        insert(s.tracks).values(
            recording_id=track.recording_id, camera_id=camera_id, unit_id=track.unit_id,
            run_id=run_id, local_id=track.local_id, object=track.object,
            object_conf=track.object_confidence,
            start_utc=rec_start + timedelta(seconds=track.t_start),
            end_utc=rec_start + timedelta(seconds=track.t_end),
            t_start=track.t_start, t_end=track.t_end, best_t=track.best_t,
            box_x0=b.x0, box_y0=b.y0, box_x1=b.x1, box_y1=b.y1, thumbnail=thumb,
            observations_json=json.dumps(
                [[round(o.t, 3), *(round(v, 1) for v in o.box.as_list()), round(o.confidence, 3)]
                 for o in track.observations]
            ),
        )
    )
    return int(res.inserted_primary_key[0])


def _insert_attributes(conn: Any, track_id: int, track: Track) -> None:
    if not track.attributes:
        return
    ranks: dict[str, int] = {}
    rows = []
    for a in sorted(track.attributes, key=lambda a: (a.name, -a.confidence)):
        ranks[a.name] = ranks.get(a.name, 0) + 1
        rows.append({"track_id": track_id, "name": a.name, "value": a.value,
                     "confidence": a.confidence, "rank": ranks[a.name]})
    conn.execute(insert(s.track_attributes), rows)


def _insert_plate(conn: Any, track_id: int, track: Track) -> None:
    pr = track.plate
    if pr is None:
        return
    b = pr.box
    conn.execute(insert(s.plate_reads).values(
        # Folded here, from the domain's table: a caller's own folding is never trusted.
        track_id=track_id, text=pr.text, folded=fold_plate(pr.text),
        folded_alts="|" + "".join(fold_plate(a) + "|" for a, _ in pr.alternatives),
        confidence=pr.confidence, grammar=pr.grammar,
        chars_json=json.dumps([[c, round(p, 3)] for c, p in pr.chars]),
        alternatives_json=json.dumps([[a, round(p, 3)] for a, p in pr.alternatives]),
        reads=pr.reads, best_t=pr.best_t,
        box_x0=b.x0 if b else None, box_y0=b.y0 if b else None,
        box_x1=b.x1 if b else None, box_y1=b.y1 if b else None,
    ))


def _insert_vectors(conn: Any, track_id: int, track: Track) -> None:
    rows = [{"track_id": track_id, "kind": kind, "dim": int(vec.shape[0]),
             "vector": vec.astype("<f4").tobytes()} for kind, vec in track.vectors.items()]
    if rows:
        conn.execute(insert(s.track_vectors), rows)


def _plate_of(m: Any) -> PlateRead | None:
    if m["plate_text"] is None:
        return None
    return PlateRead(
        text=m["plate_text"], confidence=float(m["plate_conf"]),
        chars=tuple((str(c), float(p)) for c, p in json.loads(m["plate_chars"])),
        alternatives=tuple((str(a), float(p)) for a, p in json.loads(m["plate_alts"])),
        grammar=m["plate_grammar"], reads=int(m["plate_reads"]), best_t=float(m["plate_t"]),
    )


def _track_row(m: Any, attrs: dict[str, tuple[str, float]], score: float) -> TrackRow:
    return TrackRow(
        id=m["id"], camera_id=m["camera_id"], recording_id=m["recording_id"],
        object=m["object"], object_conf=m["object_conf"], start=m["start_utc"],
        end=m["end_utc"], best_t=m["best_t"],
        box=Box(m["box_x0"], m["box_y0"], m["box_x1"], m["box_y1"]),
        thumbnail=m["thumbnail"], attributes=attrs, score=score,
        # start_utc = recording start + t_start, so no join is needed for the box's time.
        box_time=m["start_utc"] + timedelta(seconds=m["best_t"] - m["t_start"]),
        plate=_plate_of(m),
    )
