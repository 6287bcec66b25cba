"""Cases and the journal as services: each case action and its journal entry in one store
transaction (no action without its entry: if the entry cannot be written, the action is
rolled back), the journal's checkpoints, verification and export.

The acting user (:class:`~retrouve.legal.cases.Actor`) comes from :func:`resolve_actor`: a
user with an account acts with its role; on an installation with no accounts at all, the
local user at the console acts as a supervisor (it already holds the database file).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from retrouve.domain import CaseStatus, Role, ScopeWindow
from retrouve.errors import CaseError, NotPermitted, OutOfScope
from retrouve.legal import journal as j
from retrouve.legal.cases import (
    Actor,
    check_approver,
    check_fields,
    check_scope,
    check_transition,
    require_work,
    status_word,
    widens,
)
from retrouve.legal.coverage import CoverageReport, build_coverage
from retrouve.legal.permissions import Right, require
from retrouve.legal.signing import SigningKey, signature_checker
from retrouve.store.base import Tx
from retrouve.store.cases import AmendmentRecord, CaseFields, CaseRecord
from retrouve.store.db import Store
from retrouve.store.journal import CheckpointRow, EntryFilter, JournalRow
from retrouve.store.marks import Mark, MarkKind


def resolve_actor(store: Store, name: str) -> Actor:
    """The actor for user ``name``: its account's role; a supervisor when the installation
    has no account at all; else ``NotPermitted``."""
    user = store.get_user(name=name)
    if user is not None:
        if user.disabled:
            raise NotPermitted(key="account.disabled", params={"user": name})
        return Actor(name, user.role)
    if not store.list_users():
        return Actor(name, Role.SUPERVISOR)
    raise NotPermitted(key="account.none_here", params={"user": name})


class Journal:
    """Appends events, signs checkpoints, verifies and exports."""

    def __init__(self, store: Store, data_dir: Path, clock: Callable[[], datetime],
                 every: int = j.CHECKPOINT_EVERY) -> None:
        self.store, self.data_dir, self.clock, self.every = store, data_dir, clock, every
        self._key: SigningKey | None = None

    @property
    def key(self) -> SigningKey:
        """The installation's key, created on first use."""
        if self._key is None:
            self._key = SigningKey.load_or_create(self.data_dir)
        return self._key

    def record(self, tx: Tx, actor: Actor, event: j.Event) -> None:
        """Append ``event`` in ``tx``; sign a checkpoint every ``every`` entries."""
        self.record_as(tx, actor.name, actor.role.value, event)

    def record_as(self, tx: Tx, user: str, role: str, event: j.Event) -> None:
        """:meth:`record` for someone who is not (yet) an actor: a failed login records the
        name tried with role ``anonymous``."""
        row = self.store.append_entry(tx, j.seal(event, user, role, self.clock()))
        if row.seq % self.every == 0:
            self._checkpoint(tx, row.seq, row.hash)

    @contextmanager
    def action(self, actor: Actor, event: j.Event, what: str) -> Iterator[Tx]:
        """A transaction for an action recorded by ``event``: the block runs the action,
        then the entry is appended; both commit, or neither does."""
        with self.store.transaction(what) as tx:
            yield tx
            self.record(tx, actor, event)

    @contextmanager
    def action_as(self, user: str, role: str, event: j.Event, what: str) -> Iterator[Tx]:
        """:meth:`action` for someone who may have no account (the administrator at the
        server's shell: role ``system``)."""
        with self.store.transaction(what) as tx:
            yield tx
            self.record_as(tx, user, role, event)

    def _checkpoint(self, tx: Tx, seq: int, entry_hash: str) -> None:
        at, key = self.clock(), self.key
        sig = key.sign(j.checkpoint_message(seq, entry_hash, j.iso(at), key.key_id))
        self.store.add_checkpoint(tx, lambda n: CheckpointRow(
            n, seq, entry_hash, at, key.key_id, sig))

    def checkpoint(self) -> int | None:
        """Sign the current head now (unless the newest checkpoint already covers it).
        Returns the head's seq (None: empty journal)."""
        with self.store.transaction("sign a journal checkpoint") as tx:
            head = self.store.journal_head(tx)
            if head is None:
                return None
            last = self.store.last_checkpoint(tx)
            if last is None or last.entry_seq < head.seq:
                self._checkpoint(tx, head.seq, head.hash)
            return head.seq

    def verify(self) -> j.Verdict:
        """Check the whole stored journal against the chain and the signed checkpoints."""
        entries = (j.entry_json(r) for r in self.store.journal_entries())
        checkpoints = [j.checkpoint_json(c) for c in self.store.journal_checkpoints()]
        return j.verify_chain(entries, checkpoints, signature_checker(self.key.public))

    def read(self, actor: Actor, f: EntryFilter, *, before: int | None = None,
             limit: int = 50) -> list[JournalRow]:
        """A page of entries matching ``f``, newest first (auditor, supervisor); the reading
        is journalled with its filters (the entry is written after the page is read, so it
        is not on it)."""
        require(actor.name, actor.role, Right.READ_JOURNAL)
        rows = self.store.journal_page(f, before=before, limit=limit)
        filters = {k: (j.iso(v) if isinstance(v, datetime) else str(v))
                   for k, v in vars(f).items() if v is not None}
        if before is not None:
            filters["before"] = str(before)
        with self.action(actor, j.JournalRead(case=f.case, filters=filters, shown=len(rows)),
                         "journal a reading of the journal"):
            pass
        return rows

    def export(self, actor: Actor, case: str, out: Path, time_from: datetime | None = None,
               time_to: datetime | None = None) -> dict[str, Any]:
        """Write ``entries.jsonl`` (the case's entries in full, the others in the chain
        between them redacted to their hashes), ``checkpoints.json`` and
        ``public-key.pem`` to ``out``; the export itself is journalled and signed first."""
        require(actor.name, actor.role, Right.READ_JOURNAL)
        mine = [r for r in self.store.journal_entries(case=case)
                if (time_from is None or r.at >= time_from)
                and (time_to is None or r.at <= time_to)]
        with self.action(actor, j.JournalExported(case=case, entries=len(mine)),
                         f"export the journal of case {case}"):
            pass
        head = self.checkpoint()
        assert head is not None
        first = mine[0].seq if mine else head
        wanted = {r.seq for r in mine}
        out.mkdir(parents=True, exist_ok=True)
        n = 0
        with (out / "entries.jsonl").open("w", encoding="utf-8") as fh:
            for r in self.store.journal_entries(seq_from=first, seq_to=head):
                fh.write(j.canonical(j.entry_json(r, redacted=r.seq not in wanted)) + "\n")
                n += 1
        cps = [j.checkpoint_json(c) for c in self.store.journal_checkpoints()
               if first <= c.entry_seq <= head]
        (out / "checkpoints.json").write_text(json.dumps(cps, indent=1), encoding="utf-8")
        (out / "public-key.pem").write_text(self.key.public_pem(), encoding="ascii")
        return {"case": case, "entries": len(mine), "lines": n, "first_seq": first,
                "last_seq": head, "checkpoints": len(cps), "dir": str(out)}


class CaseDesk:
    """Create, amend, approve, assign, close and read cases; every change journalled."""

    def __init__(self, store: Store, journal: Journal, clock: Callable[[], datetime]) -> None:
        self.store, self.journal, self.clock = store, journal, clock

    def get(self, ref: str) -> CaseRecord:
        case = self.store.get_case(ref)
        if case is None:
            raise CaseError(key="case.unknown", params={"ref": ref})
        return case

    def create(self, actor: Actor, f: CaseFields, scope: tuple[ScopeWindow, ...],
               assign: tuple[str, ...] = ()) -> CaseRecord:
        require(actor.name, actor.role, Right.CREATE_CASE)
        check_fields(f)
        check_scope(f.ref, scope)
        for cam in {w.camera for w in scope}:
            self.store.require_camera(cam)
        if self.store.get_case(f.ref) is not None:
            raise CaseError(key="case.exists", params={"ref": f.ref})
        names = tuple(dict.fromkeys(assign))
        self._check_assignees(names)
        now = self.clock()
        event = j.CaseCreated(case=f.ref, basis=f.basis.value,
                              procedure_number=f.procedure_number, authority=f.authority,
                              scope=scope)
        with self.store.transaction(f"create case {f.ref}") as tx:
            case_id = self.store.insert_case(tx, f, scope, actor.name, now)
            self.journal.record(tx, actor, event)
            for name in names:
                self.store.assign(tx, case_id, name, actor.name, now)
                self.journal.record(tx, actor, j.CaseAssigned(case=f.ref, user=name))
        return self.get(f.ref)

    def _check_assignees(self, names: tuple[str, ...]) -> None:
        if not self.store.list_users():
            return  # no accounts: only the local user acts (see resolve_actor)
        for name in names:
            user = self.store.get_user(name=name)
            if user is None:
                raise CaseError(key="case.assign_unknown_user", params={"user": name})
            if user.role is Role.AUDITOR:
                raise CaseError(key="case.assign_auditor", params={"user": name})

    def assign(self, actor: Actor, ref: str, names: tuple[str, ...]) -> CaseRecord:
        require(actor.name, actor.role, Right.ASSIGN_CASE)
        case = self.get(ref)
        if case.status is not CaseStatus.OPEN:
            raise CaseError(key="case.no_new_assignments",
                            params={"ref": ref, "status": status_word(case.status)})
        self._check_assignees(names)
        with self.store.transaction(f"assign users to case {ref}") as tx:
            for name in dict.fromkeys(names):
                if self.store.assign(tx, case.id, name, actor.name, self.clock()):
                    self.journal.record(tx, actor, j.CaseAssigned(case=ref, user=name))
        return self.get(ref)

    def amend(self, actor: Actor, ref: str, scope: tuple[ScopeWindow, ...], reason: str
              ) -> AmendmentRecord:
        """Propose a new scope (the whole of it). Narrowing applies at once; widening waits
        for a second supervisor's :meth:`approve`. Both are journalled."""
        require(actor.name, actor.role, Right.AMEND_CASE)
        case = self.get(ref)
        if case.status is not CaseStatus.OPEN:
            raise CaseError(key="case.cannot_amend",
                            params={"ref": ref, "status": status_word(case.status)})
        if actor.role is Role.OPERATOR and actor.name not in case.assigned:
            raise NotPermitted(key="case.not_assigned", params={"user": actor.name, "ref": ref})
        check_scope(ref, scope)
        if not reason.strip():
            raise CaseError(key="case.amend_reason", params={"ref": ref})
        for cam in {w.camera for w in scope}:
            self.store.require_camera(cam)
        wider = widens(case.scope, scope)
        now = self.clock()
        with self.store.transaction(f"amend case {ref}") as tx:
            am_id = self.store.insert_amendment(tx, case.id, scope, reason, wider,
                                                actor.name, now)
            if not wider:
                self.store.set_scope(tx, case.id, scope)
                self.store.apply_amendment(tx, am_id, None, now)
            self.journal.record(tx, actor, j.CaseAmended(
                case=ref, amendment_id=am_id, scope=scope, reason=reason, widens=wider,
                applied=not wider))
        return next(a for a in self.store.amendments(ref) if a.id == am_id)

    def approve(self, actor: Actor, ref: str, amendment_id: int) -> CaseRecord:
        case = self.get(ref)
        pending = [a for a in self.store.amendments(ref) if a.id == amendment_id]
        if not pending or pending[0].state != "pending":
            raise CaseError(key="case.no_pending_amendment",
                            params={"ref": ref, "amendment": amendment_id})
        am = pending[0]
        check_approver(ref, am.requested_by, actor)
        if case.status is not CaseStatus.OPEN:
            raise CaseError(key="case.cannot_amend",
                            params={"ref": ref, "status": status_word(case.status)})
        event = j.AmendmentApproved(case=ref, amendment_id=am.id, requested_by=am.requested_by)
        with self.journal.action(actor, event, f"approve amendment {am.id} of case {ref}") as tx:
            self.store.set_scope(tx, case.id, am.scope)
            self.store.apply_amendment(tx, am.id, actor.name, self.clock())
        return self.get(ref)

    def set_status(self, actor: Actor, ref: str, status: CaseStatus) -> CaseRecord:
        require(actor.name, actor.role, Right.CLOSE_CASE)
        case = self.get(ref)
        check_transition(case, status)
        event = j.CaseStatusChanged(case=ref, status=status.value)
        with self.journal.action(actor, event, f"set case {ref} {status.value}") as tx:
            self.store.set_case_status(tx, case.id, status, self.clock())
        return self.get(ref)

    def coverage(self, actor: Actor, ref: str, fmt: str) -> CoverageReport:
        """The coverage report of case ``ref`` (auditor, supervisor), journalled with its
        format; it lists the marks in force (newest per track)."""
        require(actor.name, actor.role, Right.READ_COVERAGE)
        case = self.get(ref)
        marks = self.store.case_marks(case.id)
        cams = {w.camera for w in case.scope}
        recs = [e.recording for e in self.store.list_recordings() if e.recording.camera_id
                in cams]
        report = build_coverage(case, recs, self.store.units_of([r.id for r in recs]),
                                self.store.list_runs(), list(self.store.journal_entries(
                                    case=ref)), self.clock(), marks)
        event = j.ReportProduced(case=ref, format=fmt, windows=len(report.windows),
                                 searches=len(report.searches))
        with self.journal.action(actor, event, f"journal the coverage report of case {ref}"):
            pass
        return report

    def work(self, actor: Actor, ref: str) -> CaseRecord:
        """The case ``actor`` works in (analysis, search): open, assigned, allowed."""
        case = self.get(ref)
        require_work(case, actor)
        return case

    def mark(self, actor: Actor, ref: str, track_id: int, mark: MarkKind, note: str = ""
             ) -> Mark:
        """Mark a result of the case relevant or not, with a note; journalled. The track
        must lie inside the case's scope (else ``OutOfScope``, as for an unknown track)."""
        case = self.work(actor, ref)
        if self.store.get_track(track_id, scope=case.scope) is None:
            raise OutOfScope(key="case.track_out_of_scope", params={"track": track_id, "ref": ref})
        event = j.ResultMarked(case=ref, track_id=track_id, mark=mark.value, note=note)
        now = self.clock()
        with self.journal.action(actor, event, f"mark track {track_id} in case {ref}") as tx:
            self.store.add_mark(tx, case.id, track_id, mark, note, actor.name, now)
        return Mark(track_id, mark, note, actor.name, now)

    def marks(self, actor: Actor, ref: str) -> list[Mark]:
        """The marks in force in a case (newest per track), for whoever may read it."""
        [case] = self.read(actor, ref)
        return self.store.case_marks(case.id)

    def read(self, actor: Actor, ref: str | None = None) -> list[CaseRecord]:
        """Cases the actor may see: every case for supervisors and auditors, the assigned
        ones for the others."""
        require(actor.name, actor.role, Right.READ_CASES)
        cases = [self.get(ref)] if ref else self.store.list_cases()
        if actor.role in (Role.SUPERVISOR, Role.AUDITOR):
            return cases
        mine = [c for c in cases if actor.name in c.assigned]
        if ref and not mine:
            raise NotPermitted(key="case.not_assigned", params={"user": actor.name, "ref": ref})
        return mine


def case_json(case: CaseRecord, amendments: list[AmendmentRecord] | None = None
              ) -> dict[str, Any]:
    f = case.fields
    out: dict[str, Any] = {
        "ref": f.ref, "basis": f.basis.value, "procedure_number": f.procedure_number,
        "prosecutor_authorisation": f.prosecutor_authorisation,
        "authority": {"name": f.authority, "service": f.authority_service,
                      "contact": f.authority_contact},
        "received_at": j.iso(f.received_at),
        "deadline": j.iso(f.deadline) if f.deadline else None, "purpose": f.purpose,
        "status": case.status.value,
        "scope": [{"camera": w.camera, "from": j.iso(w.start), "to": j.iso(w.end)}
                  for w in case.scope],
        "assigned": list(case.assigned), "created_by": case.created_by,
        "created_at": j.iso(case.created_at),
        "closed_at": j.iso(case.closed_at) if case.closed_at else None,
    }
    if amendments is not None:
        out["amendments"] = [{
            "id": a.id, "state": a.state, "widens": a.widens, "reason": a.reason,
            "requested_by": a.requested_by, "requested_at": j.iso(a.requested_at),
            "approved_by": a.approved_by,
            "scope": [w.text() for w in a.scope]} for a in amendments]
    return out


__all__ = ["CaseDesk", "Journal", "case_json", "resolve_actor"]
