"""Analysis runs and work units: what was planned, what is done, what failed and why."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from retrouve.domain import RunStatus, StageStats, UnitStatus, WorkUnit
from retrouve.store import schema as s
from retrouve.store.base import StorePart
from retrouve.store.claims import gate_save
from retrouve.store.records import AnalysisRun, UnitFailure, UnitProgress, UnitRow


class WorkPart(StorePart):
    """Analysis runs and work units."""

    # ------------------------------------------------------------ analysis runs
    def start_run(self, now: datetime, settings: dict[str, Any], models: dict[str, Any],
                  version: str, *, host: str | None = None, pid: int | None = None,
                  lease_until: datetime | None = None) -> int:
        """Record a new run (status running) with its settings and models. Returns its id.

        ``host``/``pid``: the driver process; ``lease_until``: when the run counts as dead
        unless its heartbeat renews it (``store/claims.py``). A run without a lease (a store
        filled outside the runner) reads as dead to the next driver's recovery."""
        values = {
            "started_at": now, "status": RunStatus.RUNNING, "software_version": version,
            "settings_json": json.dumps(settings, sort_keys=True, default=str),
            "models_json": json.dumps(models, sort_keys=True),
            "host": host, "pid": pid, "lease_until": lease_until,
        }
        with self._begin("start an analysis run") as conn:
            res = conn.execute(insert(s.analysis_runs).values(**values))
            pk = res.inserted_primary_key
            assert pk is not None
            return int(pk[0])

    def finish_run(self, run_id: int, now: datetime, status: RunStatus) -> None:
        with self._begin(f"finish analysis run {run_id}") as conn:
            conn.execute(
                update(s.analysis_runs)
                .where(s.analysis_runs.c.id == run_id)
                .values(finished_at=now, status=status)
            )
        self.optimize()

    def optimize(self) -> None:
        """Refresh the query planner's statistics (after bulk writes such as an analysis run):
        without them SQLite may drive a search from a poorly selective index."""
        with self._begin("refresh the planner's statistics") as conn:
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA optimize=0x10002")
            else:
                conn.exec_driver_sql("ANALYZE")

    def list_runs(self) -> list[AnalysisRun]:
        """Every analysis run, oldest first."""
        with self._read("list analysis runs") as conn:
            rows = conn.execute(select(s.analysis_runs).order_by(s.analysis_runs.c.id)).all()
        return [AnalysisRun(id=int(r.id), started_at=r.started_at, finished_at=r.finished_at,
                            status=RunStatus(r.status), settings_json=r.settings_json,
                            models_json=r.models_json, software_version=r.software_version)
                for r in rows]

    # -------------------------------------------------------------- work units
    def ensure_units(self, units: Iterable[WorkUnit]) -> int:
        """Insert units not yet known (idempotent, also against another driver planning the
        same units at the same moment). Returns how many were not known yet."""
        units = list(units)
        if not units:
            return 0
        dialect = self.engine.dialect.name
        ins: Any = (sqlite_insert(s.work_units) if dialect == "sqlite"
                    else pg_insert(s.work_units))
        # ON CONFLICT DO NOTHING: a unit planned meanwhile by another driver is kept as it is
        # (a plain INSERT would fail the later of two drivers with an IntegrityError).
        stmt = ins.on_conflict_do_nothing(index_elements=["id"])
        new = 0
        with self._begin(f"plan work units of recording {units[0].recording_id}") as conn:
            for i in range(0, len(units), 500):
                chunk = units[i:i + 500]
                known = set(conn.execute(select(s.work_units.c.id).where(
                    s.work_units.c.id.in_([u.id for u in chunk]))).scalars())
                rows = [{"id": u.id, "recording_id": u.recording_id, "t0": u.t0, "t1": u.t1,
                         "status": UnitStatus.PENDING, "attempts": 0}
                        for u in chunk if u.id not in known]
                if rows:
                    conn.execute(stmt, rows)
                    new += len(rows)
        return new

    def unit_status(self, recording_ids: Sequence[str] | None = None) -> dict[str, UnitStatus]:
        """Unit id → status for the given recordings (all when None)."""
        q = select(s.work_units.c.id, s.work_units.c.status)
        if recording_ids is not None:
            q = q.where(s.work_units.c.recording_id.in_(list(recording_ids)))
        with self._read("read work unit statuses") as conn:
            return {r.id: UnitStatus(r.status) for r in conn.execute(q)}

    def mark_unit_failed(self, unit_id: str, run_id: int, error: str, now: datetime) -> None:
        """Record that run ``run_id`` failed unit ``unit_id``; :class:`~retrouve.errors.
        ClaimLost` when the run no longer holds it (another run took it over)."""
        with self._begin(f"mark unit {unit_id} failed") as conn:
            gate_save(conn, unit_id, run_id,
                      {"status": UnitStatus.FAILED, "error": error, "run_id": run_id,
                       "finished_at": now, "attempts": s.work_units.c.attempts + 1})

    def unit_errors(self, recording_id: str) -> list[UnitFailure]:
        """The failed units of a recording that recorded an error."""
        w = s.work_units
        q = select(w.c.id, w.c.error).where(
            w.c.recording_id == recording_id, w.c.status == UnitStatus.FAILED)
        with self._read(f"read unit errors of recording {recording_id}") as conn:
            return [UnitFailure(r.id, r.error) for r in conn.execute(q) if r.error]

    def units_of(self, recording_ids: Sequence[str]) -> list[UnitRow]:
        """Every stored unit of these recordings, by recording and ``t0``."""
        w = s.work_units
        q = (select(w.c.id, w.c.recording_id, w.c.t0, w.c.t1, w.c.status, w.c.error,
                    w.c.run_id, w.c.decoded_until_s)
             .where(w.c.recording_id.in_(list(recording_ids)))
             .order_by(w.c.recording_id, w.c.t0))
        with self._read("read work units") as conn:
            return [UnitRow(r.id, r.recording_id, float(r.t0), float(r.t1), r.status, r.error,
                            r.run_id, r.decoded_until_s) for r in conn.execute(q)]

    def unit_progress(self) -> dict[str, UnitProgress]:
        """Recording id → its work units done / failed / planned (recordings never planned
        are absent)."""
        w = s.work_units
        q = (select(w.c.recording_id, w.c.status, func.count())
             .group_by(w.c.recording_id, w.c.status))
        counts: dict[str, dict[str, int]] = {}
        with self._read("count work units") as conn:
            for rec_id, status, n in conn.execute(q):
                counts.setdefault(rec_id, {})[status] = int(n)
        return {
            rec: UnitProgress(c.get(UnitStatus.DONE, 0), c.get(UnitStatus.FAILED, 0),
                              sum(c.values()))
            for rec, c in counts.items()
        }


def mark_unit_done(conn: Connection, unit_id: str, run_id: int, stats: StageStats,
                   now: datetime, decoded_until: float | None = None,
                   damage: str | None = None) -> None:
    """Mark a unit done on ``conn`` (inside the transaction that stores its tracks, before
    writing them); ``decoded_until``: where its decoding stopped (recording seconds);
    ``damage``: the decoder's corrupt-data report, kept as the done unit's ``error`` (the
    recording is settled partial with it). :class:`~retrouve.errors.ClaimLost` when run
    ``run_id`` no longer holds the unit."""
    gate_save(conn, unit_id, run_id, {
        "status": UnitStatus.DONE, "error": damage[:2000] if damage else None,
        "run_id": run_id, "finished_at": now,
        "attempts": s.work_units.c.attempts + 1, "decoded_until_s": decoded_until,
        "stats_json": json.dumps(
            {"frames_decoded": stats.frames_decoded,
             "frames_sampled": stats.frames_sampled,
             "frames_detected": stats.frames_detected,
             "detector_passes": stats.detector_passes,
             "seconds": stats.seconds}),
    })
