"""Retention in the store: the snapshot the purge plan reads, the purge of one recording and
everything derived from it, and the purge certificates.

What is "derived from a recording" is read from the schema's foreign keys, not listed by
hand: every table referencing ``recordings`` (work units, tracks), then every table
referencing those (track attributes, plate reads, vectors), and so on. A table added later
with a foreign key is purged too; :func:`dependent_tables` is what the tests check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlalchemy.sql.elements import ColumnElement

from retrouve.domain import RecordingStatus
from retrouve.store import schema as s
from retrouve.store.base import StorePart, Tx


@dataclass(frozen=True)
class RetentionRecording:
    """A recording as retention sees it (aware UTC span; ``analysed``: it has derived rows)."""

    id: str
    camera_id: str
    path: str
    sha256: str
    start: datetime
    end: datetime
    owned: bool
    analysed: bool


@dataclass(frozen=True)
class PurgedRows:
    """What one purge removed: rows per table, the blob keys (thumbnails) deleted."""

    rows: dict[str, int]
    blob_keys: tuple[str, ...]


@dataclass(frozen=True)
class CertificateRow:
    id: int
    at: datetime
    recording_id: str
    camera_id: str
    rule: str
    body_json: str
    key_id: str
    signature: str


def dependent_tables() -> list[tuple[Table, str, Table]]:
    """(table, its column, the referenced table) for every table reaching ``recordings``
    through foreign keys, parents first (so a child's rows are found before its parent's
    go: deletion runs in reverse)."""
    found: list[tuple[Table, str, Table]] = []
    frontier = [s.recordings]
    seen = {s.recordings.name}
    while frontier:
        parent = frontier.pop(0)
        for table in s.metadata.sorted_tables:
            for fk in table.foreign_keys:
                if fk.column.table is parent and table.name not in seen:
                    seen.add(table.name)
                    found.append((table, fk.parent.name, parent))
                    frontier.append(table)
    return found


def _keys_of(conn: Connection, table: Table, column: str, parent: Table,
             parent_keys: dict[str, ColumnElement[bool]]) -> ColumnElement[bool]:
    """A WHERE clause selecting ``table``'s rows that belong to the purged recording."""
    cond = parent_keys[parent.name]
    fk_target = next(fk.column for fk in table.foreign_keys if fk.parent.name == column)
    sub = select(fk_target).where(cond)
    return table.c[column].in_(sub)


class RetentionPart(StorePart):
    """Snapshot, purge, certificates."""

    def retention_recordings(self) -> list[RetentionRecording]:
        analysed = select(s.tracks.c.recording_id).union(select(s.work_units.c.recording_id))
        with self._read("read recordings for retention") as conn:
            done = set(conn.execute(analysed).scalars())
            rows = conn.execute(select(s.recordings)).all()
        return [RetentionRecording(r.id, r.camera_id, r.path, r.sha256, r.start_utc,
                                   r.end_utc, bool(r.owned), r.id in done) for r in rows]

    def purge_recording(self, tx: Tx, recording_id: str, *, derived_only: bool) -> PurgedRows:
        """Delete, in ``tx``, every row derived from the recording (and the recording itself
        unless ``derived_only``, which puts it back to pending). Blob files are deleted by
        the caller after this returns (keys in the result)."""
        conn = tx.conn
        deps = dependent_tables()
        where: dict[str, ColumnElement[bool]] = {
            s.recordings.name: s.recordings.c.id == recording_id}
        for table, column, parent in deps:
            where[table.name] = _keys_of(conn, table, column, parent, where)
        blob_keys = tuple(str(k) for k in conn.execute(
            select(s.tracks.c.thumbnail).where(where[s.tracks.name],
                                              s.tracks.c.thumbnail.is_not(None))).scalars())
        rows: dict[str, int] = {}
        for table, _column, _parent in deps:
            rows[table.name] = _count(conn, table, where[table.name])
        # Marks name tracks without a foreign key (a mark outlives a re-analysis), so they
        # are found by track id: a purged track's marks and notes go with it.
        marks = s.case_marks.c.track_id.in_(select(s.tracks.c.id).where(where[s.tracks.name]))
        rows[s.case_marks.name] = _count(conn, s.case_marks, marks)
        conn.execute(delete(s.case_marks).where(marks))
        # Children first: the foreign keys hold at each step, cascades or not.
        for table, _column, _parent in reversed(deps):
            conn.execute(delete(table).where(where[table.name]))
        if derived_only:
            conn.execute(update(s.recordings).where(s.recordings.c.id == recording_id)
                         .values(status=RecordingStatus.PENDING, error=None))
        else:
            rows[s.recordings.name] = int(conn.execute(
                delete(s.recordings).where(s.recordings.c.id == recording_id)).rowcount)
        return PurgedRows(rows, blob_keys)

    def insert_certificate(self, tx: Tx, at: datetime, recording_id: str, camera_id: str,
                           rule: str, body_json: str, key_id: str, signature: str) -> int:
        result = tx.conn.execute(insert(s.purge_certificates).values(
            at=at, recording_id=recording_id, camera_id=camera_id, rule=rule,
            body_json=body_json, key_id=key_id, signature=signature))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def list_certificates(self, ids: Sequence[int] | None = None) -> list[CertificateRow]:
        q = select(s.purge_certificates).order_by(s.purge_certificates.c.id)
        if ids is not None:
            q = q.where(s.purge_certificates.c.id.in_(list(ids)))
        with self._read("list purge certificates") as conn:
            rows = conn.execute(q).all()
        return [CertificateRow(r.id, r.at, r.recording_id, r.camera_id, r.rule, r.body_json,
                               r.key_id, r.signature) for r in rows]


def _count(conn: Connection, table: Table, cond: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(cond)).scalar_one())
