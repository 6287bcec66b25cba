"""Applying the retention plan: one transaction per recording (its rows, its purge
certificate and its journal entry commit together), then its files; the certificates and the
register of destructions (CSI R252-11).

A certificate is canonical JSON (``journal.canonical``) signed with the installation's
Ed25519 key (``legal/signing.py``, the journal's key): anyone with the public key
(`retrouve journal public-key`) checks it offline. Times are ISO-8601 UTC.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from retrouve.config import RetentionSettings
from retrouve.domain import CaseStatus, Role
from retrouve.legal import journal as j
from retrouve.legal.cases import Actor
from retrouve.legal.casework import Journal
from retrouve.legal.permissions import Right, require
from retrouve.legal.register_pdf import register_pdf
from retrouve.legal.retention import (
    CaseInfo,
    PurgePlan,
    PurgeRule,
    RecordingInfo,
    RetentionState,
    overlaps,
    plan_purge,
    planned_destruction,
)
from retrouve.legal.signing import signature_checker
from retrouve.store.db import Store
from retrouve.store.retention import CertificateRow, RetentionRecording

#: The actor of the scheduled purge inside `retrouve serve` (the journal names it).
SYSTEM: Final = Actor("retention", Role.ADMIN)
CERTIFICATE_KIND: Final = "retrouve-purge-certificate"
#: Columns of the register (CSV and PDF), in order.
REGISTER_COLUMNS: Final = ("certificate", "destroyed_at_utc", "recording", "camera",
                           "start_utc", "end_utc", "sha256", "rule", "case", "scope", "file",
                           "rows", "key_id")


@dataclass(frozen=True)
class PurgeDone:
    """One applied purge: its certificate id (None in a dry run) and its body."""

    certificate_id: int | None
    body: dict[str, Any]


@dataclass(frozen=True)
class RunReport:
    """What a run decided and did. ``held``: [recording, case, until iso, rule] rows."""

    at: datetime
    dry_run: bool
    purged: tuple[PurgeDone, ...]
    held: tuple[tuple[str, str, str, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {"at": j.iso(self.at), "dry_run": self.dry_run,
                "purged": [{"certificate": p.certificate_id, **p.body} for p in self.purged],
                "held": [{"recording": r, "case": c, "until": u, "rule": rule}
                         for r, c, u, rule in self.held]}


def verify_certificate(body_json: str, signature_hex: str, key_id: str,
                       public: Ed25519PublicKey) -> bool:
    """Whether ``body_json`` is signed by ``public`` (and names its key id)."""
    try:
        body = json.loads(body_json)
    except ValueError:
        return False
    if body.get("key_id") != key_id or j.canonical(body) != body_json:
        return False
    return signature_checker(public)(body_json.encode("utf-8"), signature_hex, key_id)


class Retention:
    """Plans and applies purges over one store, journal and clock."""

    def __init__(self, store: Store, journal: Journal, settings: RetentionSettings,
                 clock: Callable[[], datetime]) -> None:
        self.store, self.journal, self.settings, self.clock = store, journal, settings, clock

    def snapshot(self) -> tuple[RetentionState, dict[str, RetentionRecording]]:
        recs = {r.id: r for r in self.store.retention_recordings()}
        cases = tuple(CaseInfo(c.ref, c.status, c.scope, c.fields.received_at, c.closed_at)
                      for c in self.store.list_cases())
        state = RetentionState(
            tuple(RecordingInfo(r.id, r.camera_id, r.start, r.end, r.sha256, r.analysed)
                  for r in recs.values()),
            cases, self.settings.max_age_days, dict(self.settings.camera_max_age_days),
            self.settings.hold_review_days)
        return state, recs

    def plan(self) -> PurgePlan:
        return plan_purge(self.clock(), self.snapshot()[0])

    def run(self, actor: Actor, *, dry_run: bool = False) -> RunReport:
        """Apply the plan at the clock's time (nothing written when ``dry_run``). ``actor``
        needs ``run-purge`` (admin, supervisor; the scheduled run is :data:`SYSTEM`),
        else ``NotPermitted``."""
        require(actor.name, actor.role, Right.RUN_PURGE)
        state, recs = self.snapshot()
        plan = plan_purge(self.clock(), state)
        done: list[PurgeDone] = []
        for p in plan.purges:
            rec = recs[p.recording.id]
            if dry_run:
                done.append(PurgeDone(None, self._body(plan.now, p.rule.value, p.reason,
                                                       p.case, rec, p.derived_only,
                                                       self._file_fate(rec, p.derived_only),
                                                       {}, 0)))
                continue
            done.append(self._apply(actor, plan.now, p.rule.value, p.reason, p.case, rec,
                                    p.derived_only))
        held = tuple((h.recording.id, h.case, j.iso(h.until), h.rule.value) for h in plan.holds)
        return RunReport(plan.now, dry_run, tuple(done), held)

    def purge_case(self, actor: Actor, ref: str) -> RunReport:
        """Purge now the derived data that the closing of case ``ref`` releases: the
        case-closed purges of the plan whose recording lies in ``ref``'s scope (a recording
        another open case still holds stays, as in :meth:`run`; footage and its age rule
        are left to the scheduled run). Exported bundles are files outside the store and are
        never touched. Called right after the case is closed; if it fails, the scheduled
        run purges the same recordings later."""
        state, recs = self.snapshot()
        case = next((c for c in state.cases if c.ref == ref), None)
        if case is None or case.status is CaseStatus.OPEN:
            return RunReport(self.clock(), False, (), ())
        plan = plan_purge(self.clock(), state)

        def mine(rec: RecordingInfo) -> bool:
            return any(overlaps(rec, w) for w in case.scope)

        done = tuple(
            self._apply(actor, plan.now, p.rule.value, f"case {ref} closed, derived data "
                        "purged", ref, recs[p.recording.id], True)
            for p in plan.purges if p.rule is PurgeRule.CASE_CLOSED and mine(p.recording))
        held = tuple((h.recording.id, h.case, j.iso(h.until), h.rule.value)
                     for h in plan.holds
                     if h.rule is PurgeRule.CASE_CLOSED and mine(h.recording))
        return RunReport(plan.now, False, done, held)

    def _file_fate(self, rec: RetentionRecording, derived_only: bool) -> str:
        if derived_only:
            return "kept"
        if rec.owned or self.settings.unowned_files == "delete":
            return "deleted" if Path(rec.path).is_file() else "missing"
        return "forgotten"

    def _body(self, at: datetime, rule: str, reason: str, case: str | None,
              rec: RetentionRecording, derived_only: bool, file: str, rows: dict[str, int],
              blobs: int) -> dict[str, Any]:
        return {"kind": CERTIFICATE_KIND, "version": 1, "at": j.iso(at), "rule": rule,
                "reason": reason, "case": case, "derived_only": derived_only,
                "recording": {"id": rec.id, "camera": rec.camera_id, "sha256": rec.sha256,
                              "start_utc": j.iso(rec.start), "end_utc": j.iso(rec.end),
                              "path": rec.path, "owned": rec.owned},
                "file": file, "rows": dict(sorted(rows.items())), "blobs_deleted": blobs,
                "key_id": self.journal.key.key_id}

    def _apply(self, actor: Actor, at: datetime, rule: str, reason: str, case: str | None,
               rec: RetentionRecording, derived_only: bool) -> PurgeDone:
        file = self._file_fate(rec, derived_only)
        with self.store.transaction(f"purge recording {rec.id}") as tx:
            purged = self.store.purge_recording(tx, rec.id, derived_only=derived_only)
            body = self._body(at, rule, reason, case, rec, derived_only, file, purged.rows,
                              len(purged.blob_keys))
            text = j.canonical(body)
            key = self.journal.key
            cert = self.store.insert_certificate(tx, at, rec.id, rec.camera_id, rule, text,
                                                 key.key_id, key.sign(text.encode("utf-8")))
            self.journal.record(tx, actor, j.PurgeRun(
                case=case, recording_id=rec.id, certificate_id=cert, rule=rule,
                sha256=rec.sha256, derived_only=derived_only, rows=purged.rows, file=file))
            # Files last, inside the transaction: a failure here rolls the rows back, and the
            # next run purges again (deleting a missing file is not an error).
            for k in purged.blob_keys:
                self.store.blobs.delete(k)
            if file == "deleted":
                Path(rec.path).unlink(missing_ok=True)
        return PurgeDone(cert, body)

    # ---------------------------------------------------------------- register
    def certificates(self) -> list[CertificateRow]:
        return self.store.list_certificates()

    def verify(self, row: CertificateRow) -> bool:
        return verify_certificate(row.body_json, row.signature, row.key_id,
                                  self.journal.key.public)

    def register_rows(self) -> list[dict[str, str]]:
        """One row per destruction, oldest first (the CSI R252-11 register)."""
        out: list[dict[str, str]] = []
        for c in self.certificates():
            b = json.loads(c.body_json)
            r = b["recording"]
            out.append({"certificate": str(c.id), "destroyed_at_utc": b["at"],
                        "recording": r["id"], "camera": r["camera"],
                        "start_utc": r["start_utc"], "end_utc": r["end_utc"],
                        "sha256": r["sha256"], "rule": b["rule"], "case": b["case"] or "",
                        "scope": "derived data" if b["derived_only"] else "footage and derived",
                        "file": b["file"], "rows": str(sum(b["rows"].values())),
                        "key_id": c.key_id})
        return out

    def register_csv(self) -> str:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(REGISTER_COLUMNS), lineterminator="\n")
        w.writeheader()
        w.writerows(self.register_rows())
        return buf.getvalue()

    def kept_rows(self) -> list[dict[str, str]]:
        """The recordings kept now and the date each is due to be destroyed (by camera,
        then start): the other half of the register (CSI R252-11)."""
        now = self.clock()
        state, _recs = self.snapshot()
        return [{"recording": r.id, "camera": r.camera_id, "start_utc": j.iso(r.start),
                 "end_utc": j.iso(r.end), "sha256": r.sha256,
                 "destruction_due_utc": j.iso(planned_destruction(r, state, now))}
                for r in sorted(state.recordings, key=lambda r: (r.camera_id, r.start, r.id))]

    def register_pdf(self) -> bytes:
        """The register as a PDF (``legal/register_pdf.py``): the destructions, then the
        recordings kept with their due destruction date; dated by the clock."""
        return register_pdf(self.register_rows(), self.clock(), self.kept_rows())
