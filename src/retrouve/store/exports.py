"""Evidence export requests as rows: what was asked (the spec, JSON), by whom, its approval,
its state (``requested`` → ``approved`` → ``produced``, or ``refused``) and the bundle built.
``retrouve.legal.exports`` holds the rules and journals; writes here take a
:class:`~retrouve.store.base.Tx`. Also the analysis run behind a track (the export's AI
provenance).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select, update

from retrouve.store import schema as s
from retrouve.store.base import StorePart, Tx


class ExportState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    PRODUCED = "produced"
    REFUSED = "refused"


@dataclass(frozen=True)
class ExportRecord:
    """One export request. ``spec``: what to export (JSON object, see
    :mod:`retrouve.legal.exports`); times aware UTC; ``approved_by`` None when the site
    policy needed no approval."""

    id: int
    case_id: int
    case_ref: str
    spec: dict[str, Any]
    requested_by: str
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    state: ExportState
    bundle_path: str | None
    bundle_sha256: str | None


class ExportsPart(StorePart):
    """Export requests and the provenance of tracks."""

    def insert_export(self, tx: Tx, case_id: int, spec: dict[str, Any], by: str,
                      now: datetime, state: ExportState) -> int:
        res = tx.conn.execute(insert(s.exports).values(
            case_id=case_id, spec_json=json.dumps(spec, sort_keys=True), requested_by=by,
            requested_at=now, state=state.value))
        pk = res.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    def approve_export(self, tx: Tx, export_id: int, by: str, now: datetime) -> None:
        tx.conn.execute(update(s.exports).where(s.exports.c.id == export_id).values(
            state=ExportState.APPROVED.value, approved_by=by, approved_at=now))

    def produce_export(self, tx: Tx, export_id: int, path: str, sha256: str) -> None:
        tx.conn.execute(update(s.exports).where(s.exports.c.id == export_id).values(
            state=ExportState.PRODUCED.value, bundle_path=path, bundle_sha256=sha256))

    def get_export(self, export_id: int) -> ExportRecord | None:
        with self._read(f"read export {export_id}") as conn:
            row = conn.execute(_query().where(s.exports.c.id == export_id)).first()
        return _record(row) if row else None

    def list_exports(self, case_id: int) -> list[ExportRecord]:
        """A case's exports, oldest first."""
        with self._read(f"list the exports of case {case_id}") as conn:
            rows = conn.execute(_query().where(s.exports.c.case_id == case_id)
                                .order_by(s.exports.c.id)).all()
        return [_record(r) for r in rows]

    def track_run_id(self, track_id: int) -> int | None:
        """The analysis run that produced a track (None: unknown track)."""
        with self._read(f"read the run of track {track_id}") as conn:
            run = conn.execute(select(s.tracks.c.run_id).where(s.tracks.c.id == track_id)
                               ).scalar_one_or_none()
        return None if run is None else int(run)


def _query() -> Any:
    return select(s.exports, s.cases.c.ref).join(s.cases, s.cases.c.id == s.exports.c.case_id)


def _record(r: Any) -> ExportRecord:
    m = r._mapping
    return ExportRecord(int(m["id"]), int(m["case_id"]), m["ref"], json.loads(m["spec_json"]),
                        m["requested_by"], m["requested_at"], m["approved_by"],
                        m["approved_at"], ExportState(m["state"]), m["bundle_path"],
                        m["bundle_sha256"])
