"""Marks on search results inside a case (relevant / not relevant, with a note). Every mark
is a new row, so the history stays; the newest per (case, track) is the one in force.
``retrouve.legal.casework.CaseDesk.mark`` checks the scope and journals; writes here take a
:class:`~retrouve.store.base.Tx`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, insert, select

from retrouve.store import schema as s
from retrouve.store.base import StorePart, Tx


class MarkKind(StrEnum):
    RELEVANT = "relevant"
    NOT_RELEVANT = "not_relevant"


@dataclass(frozen=True)
class Mark:
    """One mark: the track, relevant or not, the note (may be empty), who, when (UTC)."""

    track_id: int
    mark: MarkKind
    note: str
    by: str
    at: datetime


class MarksPart(StorePart):
    """Per-result marks of a case."""

    def add_mark(self, tx: Tx, case_id: int, track_id: int, mark: MarkKind, note: str,
                 by: str, now: datetime) -> None:
        tx.conn.execute(insert(s.case_marks).values(
            case_id=case_id, track_id=track_id, mark=mark.value, note=note, by_user=by,
            at=now))

    def case_marks(self, case_id: int) -> list[Mark]:
        """The marks in force (newest per track), by track id."""
        m = s.case_marks
        newest = (select(func.max(m.c.id)).where(m.c.case_id == case_id)
                  .group_by(m.c.track_id).scalar_subquery())
        with self._read(f"read the marks of case {case_id}") as conn:
            rows = conn.execute(select(m).where(m.c.id.in_(newest))
                                .order_by(m.c.track_id)).all()
        return [_mark(r) for r in rows]

    def mark_history(self, case_id: int, track_id: int | None = None) -> list[Mark]:
        """Every mark of the case (of one track), oldest first."""
        m = s.case_marks
        q = select(m).where(m.c.case_id == case_id)
        if track_id is not None:
            q = q.where(m.c.track_id == track_id)
        with self._read(f"read the mark history of case {case_id}") as conn:
            rows = conn.execute(q.order_by(m.c.id)).all()
        return [_mark(r) for r in rows]

    def relevant_tracks(self, case_id: int) -> list[int]:
        """Ids of the tracks whose mark in force is ``relevant``."""
        return [k.track_id for k in self.case_marks(case_id) if k.mark is MarkKind.RELEVANT]


def _mark(r: object) -> Mark:
    m = r._mapping  # type: ignore[attr-defined]
    return Mark(int(m["track_id"]), MarkKind(m["mark"]), m["note"], m["by_user"], m["at"])
