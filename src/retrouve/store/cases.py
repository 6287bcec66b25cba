"""Cases (judicial requisitions) as rows: the case, its scope windows, its assigned users and
its amendments. ``retrouve.legal.cases`` holds the rules; every write here takes a
:class:`~retrouve.store.base.Tx`, so the case change and its journal entry are one
transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from retrouve.domain import CaseStatus, LegalBasis, ScopeWindow
from retrouve.store import schema as s
from retrouve.store.base import StorePart, Tx, storable


@dataclass(frozen=True)
class CaseFields:
    """What a requisition says (all times aware)."""

    ref: str
    basis: LegalBasis
    procedure_number: str
    authority: str
    authority_service: str
    authority_contact: str
    received_at: datetime
    purpose: str
    deadline: datetime | None = None
    prosecutor_authorisation: str | None = None


@dataclass(frozen=True)
class CaseRecord:
    """A stored case with its scope in force, its assigned users and its status."""

    id: int
    fields: CaseFields
    status: CaseStatus
    scope: tuple[ScopeWindow, ...]
    assigned: tuple[str, ...]
    created_by: str
    created_at: datetime
    closed_at: datetime | None

    @property
    def ref(self) -> str:
        return self.fields.ref


@dataclass(frozen=True)
class AmendmentRecord:
    """A proposed scope (the whole scope after it). ``state``: pending (a widening waiting for
    its second approver) or applied."""

    id: int
    case_ref: str
    scope: tuple[ScopeWindow, ...]
    reason: str
    widens: bool
    requested_by: str
    requested_at: datetime
    state: str
    approved_by: str | None
    approved_at: datetime | None


def scope_to_json(scope: tuple[ScopeWindow, ...]) -> str:
    return json.dumps([[w.camera, w.start.isoformat(), w.end.isoformat()] for w in scope])


def scope_from_json(text: str) -> tuple[ScopeWindow, ...]:
    return tuple(ScopeWindow(c, datetime.fromisoformat(a), datetime.fromisoformat(b))
                 for c, a, b in json.loads(text))


class CasesPart(StorePart):
    """Cases, scope windows, assignments, amendments."""

    def insert_case(self, tx: Tx, f: CaseFields, scope: tuple[ScopeWindow, ...],
                    created_by: str, now: datetime) -> int:
        """A new open case; ``StoreError`` when the reference is taken (raised at commit or
        here). Returns its id."""
        res = tx.conn.execute(insert(s.cases).values(
            ref=f.ref, basis=f.basis.value, procedure_number=f.procedure_number,
            prosecutor_authorisation=f.prosecutor_authorisation, authority=f.authority,
            authority_service=f.authority_service, authority_contact=f.authority_contact,
            received_at=f.received_at, deadline=f.deadline, purpose=f.purpose,
            status=CaseStatus.OPEN.value, created_by=created_by, created_at=now))
        pk = res.inserted_primary_key
        assert pk is not None
        case_id = int(pk[0])
        self.set_scope(tx, case_id, scope)
        return case_id

    def set_scope(self, tx: Tx, case_id: int, scope: tuple[ScopeWindow, ...]) -> None:
        """Replace the case's scope in force."""
        tx.conn.execute(delete(s.case_windows).where(s.case_windows.c.case_id == case_id))
        if scope:
            tx.conn.execute(insert(s.case_windows), [
                {"case_id": case_id, "camera_id": w.camera, "start_utc": w.start,
                 "end_utc": w.end} for w in scope])

    def assign(self, tx: Tx, case_id: int, user_name: str, by: str, now: datetime) -> bool:
        """Assign a user (idempotent). Returns whether they were new to the case."""
        a = s.case_assignments
        known = tx.conn.execute(select(a.c.user_name).where(
            a.c.case_id == case_id, a.c.user_name == user_name)).first()
        if known:
            return False
        tx.conn.execute(insert(a).values(case_id=case_id, user_name=user_name, assigned_by=by,
                                         assigned_at=now))
        return True

    def set_case_status(self, tx: Tx, case_id: int, status: CaseStatus,
                        now: datetime) -> None:
        values: dict[str, Any] = {"status": status.value}
        if status is CaseStatus.CLOSED:
            values["closed_at"] = now
        tx.conn.execute(update(s.cases).where(s.cases.c.id == case_id).values(**values))

    def insert_amendment(self, tx: Tx, case_id: int, scope: tuple[ScopeWindow, ...],
                         reason: str, widens: bool, by: str, now: datetime) -> int:
        res = tx.conn.execute(insert(s.case_amendments).values(
            case_id=case_id, scope_json=scope_to_json(scope), reason=reason, widens=widens,
            requested_by=by, requested_at=now, state="pending"))
        pk = res.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    def apply_amendment(self, tx: Tx, amendment_id: int, approved_by: str | None,
                        now: datetime) -> None:
        tx.conn.execute(update(s.case_amendments).where(s.case_amendments.c.id == amendment_id)
                        .values(state="applied", approved_by=approved_by,
                                approved_at=now if approved_by else None))

    # ------------------------------------------------------------------- reads
    def done_spans(self, recording_id: str) -> list[tuple[float, float]]:
        """The ``[t0, t1)`` (recording seconds) of a recording's analysed (done) units, so a
        case's planning leaves out footage another case already had analysed."""
        u = s.work_units
        with self._read(f"read analysed units of recording {recording_id}") as conn:
            return [(float(r.t0), float(r.t1)) for r in conn.execute(
                select(u.c.t0, u.c.t1).where(u.c.recording_id == recording_id,
                                             u.c.status == "done"))]

    def get_case(self, ref: str) -> CaseRecord | None:
        """One case by reference, or None."""
        if not storable(ref):
            return None
        with self._read(f"read case {ref!r}") as conn:
            row = conn.execute(select(s.cases).where(s.cases.c.ref == ref)).first()
            return _case(conn, row._mapping) if row else None

    def list_cases(self) -> list[CaseRecord]:
        with self._read("list cases") as conn:
            rows = conn.execute(select(s.cases).order_by(s.cases.c.ref)).all()
            return [_case(conn, r._mapping) for r in rows]

    def amendments(self, ref: str) -> list[AmendmentRecord]:
        """A case's amendments, oldest first."""
        am, c = s.case_amendments, s.cases
        with self._read(f"read amendments of case {ref!r}") as conn:
            rows = conn.execute(select(am, c.c.ref).join(c, c.c.id == am.c.case_id)
                                .where(c.c.ref == ref).order_by(am.c.id)).all()
        return [AmendmentRecord(
            int(r.id), r.ref, scope_from_json(r.scope_json), r.reason, bool(r.widens),
            r.requested_by, r.requested_at, r.state, r.approved_by, r.approved_at)
            for r in rows]


def _case(conn: Any, m: Any) -> CaseRecord:
    w, a = s.case_windows, s.case_assignments
    scope = tuple(ScopeWindow(r.camera_id, r.start_utc, r.end_utc) for r in conn.execute(
        select(w).where(w.c.case_id == m["id"]).order_by(w.c.camera_id, w.c.start_utc)))
    assigned = tuple(conn.execute(select(a.c.user_name).where(a.c.case_id == m["id"])
                                  .order_by(a.c.user_name)).scalars())
    fields = CaseFields(
        ref=m["ref"], basis=LegalBasis(m["basis"]), procedure_number=m["procedure_number"],
        authority=m["authority"], authority_service=m["authority_service"],
        authority_contact=m["authority_contact"], received_at=m["received_at"],
        purpose=m["purpose"], deadline=m["deadline"],
        prosecutor_authorisation=m["prosecutor_authorisation"])
    return CaseRecord(int(m["id"]), fields, CaseStatus(m["status"]), scope, assigned,
                      m["created_by"], m["created_at"], m["closed_at"])
