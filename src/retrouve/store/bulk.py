"""Bulk writing of a synthetic index (``retrouve.evaluation.synthetic``, benchmarks only): the
rows ``Store.save_unit_result`` writes, in batches. It lives in the store because it writes
tables directly (only ``retrouve.store`` talks to the database).

The store's write path costs one transaction (a claim check, the done mark, the inserts, the
status update) per work unit: about 250 tracks/s on the 2-core development machine, so 1 M
tracks would take over an hour. :class:`BulkWriter` writes the very same rows — built by the
store's own row builders in ``store/track_rows.py``, with the values the runner's calls leave
(recording and unit done, the unit's done mark of ``mark_unit_done``, each track its own
object) — a batch of about :data:`BATCH_TRACKS` tracks at a time:

- **SQLite**: ``executemany`` inserts, one transaction per batch, with
  ``PRAGMA synchronous=OFF`` on the loading connection only (set back to the store's
  ``NORMAL`` after each batch: a crash mid-load loses a benchmark index, never an analysed one);
- **PostgreSQL**: ``COPY … FROM STDIN`` through psycopg 3's copy API, one transaction per batch.

Track ids are numbered by the writer (one above the largest stored, in drawing order: the ids
the store's autoincrement gives the same inserts), and PostgreSQL's sequence is moved past
them at the end. A test (``tests/test_synthetic.py``) compares a bulk-written index with a
store-written one row by row.
"""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text

from retrouve.domain import (
    Recording,
    RecordingStatus,
    StageStats,
    UnitResult,
    UnitStatus,
    WorkUnit,
)
from retrouve.store import schema as s
from retrouve.store.db import Store
from retrouve.store.track_rows import _attribute_rows, _plate_row, _track_values, _vector_rows

#: Tracks per batch: a few hundred MB of rows at most, few enough commits to not matter.
BATCH_TRACKS = 50_000


def _copy_value(v: Any) -> Any:
    """A row value as PostgreSQL's COPY takes it: naive UTC times (the ``UTCDateTime``
    columns' storage), enum members as their text."""
    if isinstance(v, datetime):
        return v.astimezone(UTC).replace(tzinfo=None)
    if isinstance(v, enum.Enum):
        return v.value
    return v


def _stats_json(st: StageStats) -> str:
    """The unit's stats as ``mark_unit_done`` stores them."""
    return json.dumps(
        {
            "frames_decoded": st.frames_decoded,
            "frames_sampled": st.frames_sampled,
            "frames_detected": st.frames_detected,
            "detector_passes": st.detector_passes,
            "seconds": st.seconds,
        }
    )


class BulkWriter:
    """Accumulates units' results and writes them in batches (module docstring).

    Use: :meth:`add` per unit, then :meth:`close` once (writes the rest, restores settings)."""

    def __init__(self, store: Store, run_id: int, now: datetime) -> None:
        self.store, self.run_id, self.now = store, run_id, now
        self.pg = store.engine.dialect.name == "postgresql"
        with store.engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(s.tracks)).scalar_one():
                raise ValueError(
                    "bulk generation numbers tracks itself: the store must hold no tracks yet"
                )
        self.next_id = 1
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.pending = 0

    def _rows(self, table: Table) -> list[dict[str, Any]]:
        return self.rows.setdefault(table.name, [])

    def add(self, rec: Recording, unit: WorkUnit, result: UnitResult) -> bool:
        """Queue one recording, its unit and the unit's tracks; True when a batch was
        written."""
        self._rows(s.recordings).append(
            dict(
                id=rec.id,
                camera_id=rec.camera_id,
                path=rec.path,
                sha256=rec.sha256,
                size_bytes=rec.size_bytes,
                start_utc=rec.start,
                end_utc=rec.end,
                duration_s=rec.duration_s,
                fps=rec.fps,
                width=rec.width,
                height=rec.height,
                codec=rec.codec,
                frame_count=rec.frame_count,
                is_image=rec.is_image,
                status=RecordingStatus.DONE.value,
                error=None,
                analysed_until_s=None,
                ingested_at=self.now,
                owned=False,
                mtime_ns=rec.mtime_ns,
                sample_sha256=rec.sample_sha256,
            )
        )
        self._rows(s.work_units).append(
            dict(
                id=unit.id,
                recording_id=unit.recording_id,
                t0=unit.t0,
                t1=unit.t1,
                status=UnitStatus.DONE.value,
                error=None,
                run_id=self.run_id,
                attempts=1,
                finished_at=self.now,
                decoded_until_s=result.decoded_until,
                stats_json=_stats_json(result.stats),
                claimed_by=None,
                lease_until=None,
            )
        )
        tracks, attrs = self._rows(s.tracks), self._rows(s.track_attributes)
        plates, vectors = self._rows(s.plate_reads), self._rows(s.track_vectors)
        for track in result.tracks:
            tid = self.next_id
            self.next_id += 1
            row = _track_values(self.run_id, track, None, rec.camera_id, rec.start)
            row.update(id=tid, object_id=tid)
            tracks.append(row)
            attrs += _attribute_rows(tid, track)
            if track.plate is not None:
                plates.append(_plate_row(tid, track.plate))
            vectors += _vector_rows(tid, track)
        self.pending += len(result.tracks)
        if self.pending < BATCH_TRACKS:
            return False
        self.flush()
        return True

    def flush(self) -> None:
        """Write what is queued, parents first, in one transaction."""
        order = (
            s.recordings,
            s.work_units,
            s.tracks,
            s.track_attributes,
            s.plate_reads,
            s.track_vectors,
        )
        with self.store.engine.connect() as conn:
            if not self.pg:
                # This connection, this batch only: set back below, because the pool may
                # hand the connection to any later write.
                conn.exec_driver_sql("PRAGMA synchronous=OFF")
                conn.commit()
            try:
                with conn.begin():
                    for table in order:
                        rows = self.rows.pop(table.name, [])
                        if rows:
                            (self._copy if self.pg else self._insert)(conn, table, rows)
            finally:
                if not self.pg:
                    # What the store's connect hook sets (store/db.py).
                    conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                    conn.commit()
        self.pending = 0

    @staticmethod
    def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        conn.execute(insert(table), rows)

    @staticmethod
    def _copy(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        cols = list(rows[0])
        raw = conn.connection.driver_connection
        assert raw is not None
        names = ", ".join(f'"{c}"' for c in cols)
        with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as cp:
            for r in rows:
                cp.write_row([_copy_value(r[c]) for c in cols])

    def close(self) -> None:
        """Write the last batch; move PostgreSQL's track id sequence past the ids written
        (the next analysis numbers its tracks after them)."""
        self.flush()
        if self.pg and self.next_id > 1:
            with self.store.engine.begin() as conn:
                conn.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('tracks', 'id'), "
                        "(SELECT max(id) FROM tracks))"
                    )
                )
