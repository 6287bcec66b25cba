"""Evidence export requests as a service: who may ask, the second person's approval when the
site policy requires it (``export.require_approval``), and the journal of each step — who
asked, who approved, what, for whom (``ExportRequested``, ``ExportApproved``,
``ExportProduced``), each in the same transaction as its row.

The spec of a request (what is exported) is fixed when it is asked for, so what the approver
sees is what is built: ``{"tracks": [ids marked relevant or named], "named_tracks": [...],
"windows": [[camera, from, to]], "redact": bool}`` (times ISO-8601 UTC).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from retrouve.domain import ScopeWindow
from retrouve.errors import ExportError, NotPermitted, Word
from retrouve.legal import journal as j
from retrouve.legal.cases import Actor, require_work
from retrouve.legal.casework import CaseDesk, Journal
from retrouve.legal.permissions import Right, require
from retrouve.store.cases import CaseRecord, scope_from_json, scope_to_json
from retrouve.store.db import Store
from retrouve.store.exports import ExportRecord, ExportState


def state_word(state: ExportState) -> Word:
    """An export's state as a message's vocabulary (``approuvé``/``approved``…)."""
    return Word(f"export_state.{state.value}")

def make_spec(tracks: tuple[int, ...], named: tuple[int, ...],
              windows: tuple[ScopeWindow, ...], redact: bool) -> dict[str, Any]:
    return {"tracks": list(tracks), "named_tracks": list(named),
            "windows": json.loads(scope_to_json(windows)), "redact": redact}


def spec_windows(spec: dict[str, Any]) -> tuple[ScopeWindow, ...]:
    return scope_from_json(json.dumps(spec.get("windows", [])))


def check_export_approver(rec: ExportRecord, approver: Actor) -> None:
    """An export is approved by a supervisor other than the one who asked for it."""
    require(approver.name, approver.role, Right.APPROVE_EXPORT)
    if approver.name == rec.requested_by:
        raise NotPermitted(key="export.self_approve",
                           params={"export": rec.id, "user": approver.name})


class ExportDesk:
    """Requests, approvals and the record of bundles produced."""

    def __init__(self, store: Store, journal: Journal, cases: CaseDesk,
                 clock: Callable[[], datetime], require_approval: bool) -> None:
        self.store, self.journal, self.cases, self.clock = store, journal, cases, clock
        self.require_approval = require_approval

    def get(self, export_id: int) -> ExportRecord:
        rec = self.store.get_export(export_id)
        if rec is None:
            raise ExportError(key="export.unknown", params={"export": export_id})
        return rec

    def request(self, actor: Actor, case: CaseRecord, spec: dict[str, Any]) -> ExportRecord:
        """Record a request by ``actor`` (who works in ``case``); approved at once when the
        policy needs no second person. Journalled."""
        require_work(case, actor)
        state = ExportState.REQUESTED if self.require_approval else ExportState.APPROVED
        now = self.clock()
        with self.store.transaction(f"request an export in case {case.ref}") as tx:
            export_id = self.store.insert_export(tx, case.id, spec, actor.name, now, state)
            self.journal.record(tx, actor, j.ExportRequested(
                case=case.ref, export_id=export_id, track_ids=tuple(spec["tracks"]),
                windows=spec_windows(spec), redact=bool(spec["redact"]),
                authority=case.fields.authority, needs_approval=self.require_approval))
        return self.get(export_id)

    def approve(self, actor: Actor, export_id: int) -> ExportRecord:
        """The second person's approval of a pending request. Journalled."""
        rec = self.get(export_id)
        check_export_approver(rec, actor)
        if rec.state is not ExportState.REQUESTED:
            raise ExportError(key="export.nothing_to_approve",
                              params={"export": export_id, "state": state_word(rec.state)})
        event = j.ExportApproved(case=rec.case_ref, export_id=rec.id,
                                 requested_by=rec.requested_by)
        with self.journal.action(actor, event, f"approve export {rec.id}") as tx:
            self.store.approve_export(tx, rec.id, actor.name, self.clock())
        return self.get(export_id)

    def ready(self, actor: Actor, export_id: int) -> tuple[ExportRecord, CaseRecord]:
        """The approved request ``actor`` may build now, and its case."""
        rec = self.get(export_id)
        case = self.cases.get(rec.case_ref)
        require_work(case, actor)
        if rec.state is ExportState.REQUESTED:
            raise ExportError(key="export.awaits_approval",
                              params={"export": rec.id, "requester": rec.requested_by})
        if rec.state is not ExportState.APPROVED:
            where = f" ({rec.bundle_path})" if rec.bundle_path else ""
            raise ExportError(key="export.already", params={
                "export": rec.id, "state": state_word(rec.state), "where": where})
        return rec, case

    def produced(self, actor: Actor, rec: ExportRecord, case: CaseRecord, path: str,
                 sha256: str, exhibits: int) -> ExportRecord:
        """Record the bundle built for ``rec``. Journalled."""
        event = j.ExportProduced(case=case.ref, export_id=rec.id,
                                 requested_by=rec.requested_by, approved_by=rec.approved_by,
                                 authority=case.fields.authority, exhibits=exhibits,
                                 bundle=path, sha256=sha256)
        with self.journal.action(actor, event, f"record the bundle of export {rec.id}") as tx:
            self.store.produce_export(tx, rec.id, path, sha256)
        return self.get(rec.id)

    def list(self, actor: Actor, ref: str) -> list[ExportRecord]:
        """A case's exports, for whoever may read the case."""
        [case] = self.cases.read(actor, ref)
        return self.store.list_exports(case.id)


def export_json(rec: ExportRecord) -> dict[str, Any]:
    return {"id": rec.id, "case": rec.case_ref, "state": rec.state.value, "spec": rec.spec,
            "requested_by": rec.requested_by, "requested_at": j.iso(rec.requested_at),
            "approved_by": rec.approved_by,
            "approved_at": j.iso(rec.approved_at) if rec.approved_at else None,
            "bundle": rec.bundle_path, "sha256": rec.bundle_sha256}


__all__ = ["ExportDesk", "check_export_approver", "export_json", "make_spec", "spec_windows"]
