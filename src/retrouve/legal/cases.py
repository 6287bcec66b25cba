"""The rules of a case (a judicial requisition), pure: the requisition's fields, the scope
syntax, what widens a scope, who may work in a case, the status transitions.

A case is the hard gate of every data action ("no case, no processing", ``../shared/LEGAL.md``
rows 1–3): analysis and search run only inside an open case's scope, by a user assigned to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from retrouve.domain import CaseStatus, LegalBasis, Role, ScopeWindow
from retrouve.errors import CaseError, NotPermitted, Word
from retrouve.legal.permissions import Right, require
from retrouve.store.cases import CaseFields, CaseRecord

_REF: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
#: Allowed transitions of a case's status.
TRANSITIONS: Final[dict[CaseStatus, frozenset[CaseStatus]]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.ARCHIVED}),
    CaseStatus.ARCHIVED: frozenset(),
}


@dataclass(frozen=True)
class Actor:
    """Who acts: a user name and the role it acts with (the journal records both)."""

    name: str
    role: Role


def parse_when(text: str, what: str | Word) -> datetime:
    """An ISO-8601 time with an offset (``Z`` allowed) → aware UTC; ``CaseError`` else."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CaseError(key="case.time_not_iso", params={"what": what, "text": text}) from None
    if when.tzinfo is None:
        raise CaseError(key="case.time_no_offset", params={"what": what, "text": text})
    return when.astimezone(UTC)


def status_word(status: CaseStatus) -> Word:
    """A case status as a message's vocabulary (``ouverte``/``open``…)."""
    return Word(f"case_status.{status.value}")


def parse_scope(text: str) -> ScopeWindow:
    """``CAMERA:FROM/TO`` (ISO-8601 with offsets) → a window; ``CaseError`` naming the text."""
    cam, sep, window = text.partition(":")
    start, slash, end = window.partition("/")
    if not sep or not slash or not cam:
        raise CaseError(key="case.scope_syntax", params={"text": text})
    what = Word.of("field.scope", text=text)
    a, b = parse_when(start, what), parse_when(end, what)
    if b <= a:
        raise CaseError(key="case.scope_reversed", params={"text": text})
    return ScopeWindow(cam, a, b)


def check_fields(f: CaseFields) -> None:
    """A requisition's fields are complete; 77-1-1 names the prosecutor's authorisation."""
    if not _REF.match(f.ref):
        raise CaseError(key="case.bad_ref", params={"ref": f.ref})
    for name in ("procedure_number", "authority", "purpose"):
        if not str(getattr(f, name)).strip():
            raise CaseError(key="case.field_required",
                            params={"ref": f.ref, "field": Word(f"field.{name}")})
    if f.basis is LegalBasis.ART_77_1_1 and not (f.prosecutor_authorisation or "").strip():
        raise CaseError(key="case.needs_authorisation", params={"ref": f.ref})
    if f.deadline is not None and f.deadline < f.received_at:
        raise CaseError(key="case.deadline_before_received", params={"ref": f.ref})


def check_scope(ref: str, scope: tuple[ScopeWindow, ...]) -> None:
    if not scope:
        raise CaseError(key="case.scope_required", params={"ref": ref})


def widens(old: tuple[ScopeWindow, ...], new: tuple[ScopeWindow, ...]) -> bool:
    """Whether ``new`` reaches footage ``old`` does not: some part of a new window lies
    outside the union of the old windows on its camera."""
    for w in new:
        t = w.start  # covered from w.start up to t
        for o in sorted((o for o in old if o.camera == w.camera), key=lambda o: o.start):
            if o.start > t:
                break  # a gap before this old window
            t = max(t, o.end)
        if t < w.end:
            return True
    return False


def require_work(case: CaseRecord, actor: Actor) -> None:
    """The actor may analyse, search and view footage in ``case``: role, assignment, open."""
    require(actor.name, actor.role, Right.WORK_IN_CASE)
    if actor.name not in case.assigned:
        raise NotPermitted(key="case.not_assigned_work",
                           params={"user": actor.name, "ref": case.ref})
    if case.status is not CaseStatus.OPEN:
        raise CaseError(key="case.no_more_work",
                        params={"ref": case.ref, "status": status_word(case.status)})


def check_transition(case: CaseRecord, to: CaseStatus) -> None:
    if to not in TRANSITIONS[case.status]:
        raise CaseError(key="case.cannot_become", params={
            "ref": case.ref, "status": status_word(case.status), "to": status_word(to)})


def check_approver(ref: str, requested_by: str, approver: Actor) -> None:
    """A widening is approved by a supervisor other than its requester."""
    require(approver.name, approver.role, Right.APPROVE_AMENDMENT)
    if approver.name == requested_by:
        raise NotPermitted(key="case.self_approve_amendment",
                           params={"ref": ref, "user": approver.name})
