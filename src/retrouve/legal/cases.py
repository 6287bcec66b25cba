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
from retrouve.errors import CaseError, NotPermitted
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


def parse_when(text: str, what: str) -> datetime:
    """An ISO-8601 time with an offset (``Z`` allowed) → aware UTC; ``CaseError`` else."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CaseError(f"{what}: {text!r} is not an ISO-8601 time") from None
    if when.tzinfo is None:
        raise CaseError(f"{what}: {text!r} has no offset (add +01:00 or Z)")
    return when.astimezone(UTC)


def parse_scope(text: str) -> ScopeWindow:
    """``CAMERA:FROM/TO`` (ISO-8601 with offsets) → a window; ``CaseError`` naming the text."""
    cam, sep, window = text.partition(":")
    start, slash, end = window.partition("/")
    if not sep or not slash or not cam:
        raise CaseError(f"scope {text!r}: expected CAMERA:FROM/TO "
                        "(e.g. cam-12:2026-01-04T10:00+01:00/2026-01-04T12:00+01:00)")
    a, b = parse_when(start, f"scope {text!r}"), parse_when(end, f"scope {text!r}")
    if b <= a:
        raise CaseError(f"scope {text!r}: the window ends before it starts")
    return ScopeWindow(cam, a, b)


def check_fields(f: CaseFields) -> None:
    """A requisition's fields are complete; 77-1-1 names the prosecutor's authorisation."""
    if not _REF.match(f.ref):
        raise CaseError(f"case reference {f.ref!r}: letters, digits and . _ / - only "
                        "(at most 64)")
    for name in ("procedure_number", "authority", "purpose"):
        if not str(getattr(f, name)).strip():
            raise CaseError(f"case {f.ref}: the requisition's {name.replace('_', ' ')} "
                            "is required")
    if f.basis is LegalBasis.ART_77_1_1 and not (f.prosecutor_authorisation or "").strip():
        raise CaseError(f"case {f.ref}: a 77-1-1 requisition needs the prosecutor's "
                        "authorisation (--prosecutor-authorisation)")
    if f.deadline is not None and f.deadline < f.received_at:
        raise CaseError(f"case {f.ref}: deadline before the date received")


def check_scope(ref: str, scope: tuple[ScopeWindow, ...]) -> None:
    if not scope:
        raise CaseError(f"case {ref}: a scope is required (--scope CAMERA:FROM/TO)")


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
        raise NotPermitted(f"user {actor.name!r} is not assigned to case {case.ref} "
                           "(a supervisor runs `retrouve cases assign`)")
    if case.status is not CaseStatus.OPEN:
        raise CaseError(f"case {case.ref} is {case.status.value}: no more work in it")


def check_transition(case: CaseRecord, to: CaseStatus) -> None:
    if to not in TRANSITIONS[case.status]:
        raise CaseError(f"case {case.ref} is {case.status.value}: it cannot become "
                        f"{to.value}")


def check_approver(ref: str, requested_by: str, approver: Actor) -> None:
    """A widening is approved by a supervisor other than its requester."""
    require(approver.name, approver.role, Right.APPROVE_AMENDMENT)
    if approver.name == requested_by:
        raise NotPermitted(f"case {ref}: {approver.name!r} asked for this amendment and "
                           "cannot approve it too (a second supervisor must)")
