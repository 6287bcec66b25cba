"""The retention rules, pure: which recordings are purged, why, and which a case holds.

:func:`plan_purge` reads an immutable snapshot (:class:`RetentionState`) and the time ``now``
(aware UTC) and touches nothing; ``retrouve.legal.purge`` applies the plan. Ages run from the
recording's UTC end, so daylight saving plays no part (``../shared/LEGAL.md`` rows 8-9):

* **age** - a recording whose end is ``max_age_days`` (at most 30) or more before ``now`` is
  purged with everything derived from it, and its file (per ownership);
* **legal hold** - an open case holds the recordings overlapping its scope (same camera, spans
  overlap) until its review date (received + ``hold_review_days``): never open-ended;
* **case closed** - the derived data (tracks, plate reads, vectors, thumbnails, work units) of
  an analysed recording in a closed case's scope is purged, unless an open case still holds
  it; the footage stays until its age rule (it is the NVR's record, not the case's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from retrouve.domain import CaseStatus, ScopeWindow


class PurgeRule(StrEnum):
    """Why something is purged: the rule a certificate names."""

    AGE = "age"
    CASE_CLOSED = "case-closed"


@dataclass(frozen=True)
class RecordingInfo:
    """What the rules need of a recording: its camera, UTC span, whether it has derived
    data (analysed), and its hash (carried to the certificate)."""

    id: str
    camera_id: str
    start: datetime
    end: datetime
    sha256: str
    analysed: bool


@dataclass(frozen=True)
class CaseInfo:
    """A case's status, scope, and the times its hold is counted from (aware UTC)."""

    ref: str
    status: CaseStatus
    scope: tuple[ScopeWindow, ...]
    received_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class RetentionState:
    """The snapshot :func:`plan_purge` decides on. ``camera_max_age_days`` overrides
    ``max_age_days`` (days, 1-30) per camera id; ``hold_review_days``: a hold's length."""

    recordings: tuple[RecordingInfo, ...]
    cases: tuple[CaseInfo, ...]
    max_age_days: int = 30
    camera_max_age_days: Mapping[str, int] = field(default_factory=dict)
    hold_review_days: int = 30

    def max_age(self, camera_id: str) -> timedelta:
        return timedelta(days=self.camera_max_age_days.get(camera_id, self.max_age_days))


@dataclass(frozen=True)
class Purge:
    """One recording to purge. ``derived_only``: keep the recording and its file, remove what
    was derived from it (the case-closed rule). ``case``: the closed case, for that rule."""

    recording: RecordingInfo
    rule: PurgeRule
    reason: str
    derived_only: bool = False
    case: str | None = None


@dataclass(frozen=True)
class Hold:
    """A recording a rule would purge, held by an open case until ``until`` (aware UTC)."""

    recording: RecordingInfo
    case: str
    until: datetime
    rule: PurgeRule


@dataclass(frozen=True)
class PurgePlan:
    """What :func:`plan_purge` decided at ``now``: purges and holds, in recording order."""

    now: datetime
    purges: tuple[Purge, ...]
    holds: tuple[Hold, ...]


def overlaps(rec: RecordingInfo, w: ScopeWindow) -> bool:
    """The recording's span meets the window on its camera (the scope's overlap rule)."""
    return rec.camera_id == w.camera and rec.start <= w.end and w.start <= rec.end


def review_date(case: CaseInfo, review_days: int) -> datetime:
    """When an open case's hold lapses: received + ``review_days`` (never open-ended)."""
    return case.received_at + timedelta(days=review_days)


def _holder(rec: RecordingInfo, state: RetentionState, now: datetime) -> Hold | None:
    """The open case holding ``rec`` longest at ``now`` (rule filled by the caller)."""
    best: tuple[datetime, str] | None = None
    for c in state.cases:
        if c.status is not CaseStatus.OPEN or not any(overlaps(rec, w) for w in c.scope):
            continue
        until = review_date(c, state.hold_review_days)
        if until > now and (best is None or until > best[0]):
            best = (until, c.ref)
    return None if best is None else Hold(rec, best[1], best[0], PurgeRule.AGE)


def plan_purge(now: datetime, state: RetentionState) -> PurgePlan:
    """Decide, at ``now`` (aware UTC), which recordings are purged and which are held.

    A recording is past retention when ``now >= end + max_age`` (exactly 30 days old is
    purged: a daily run then never keeps footage past the month by more than a day's run).
    """
    if now.tzinfo is None:
        raise ValueError("plan_purge needs an aware time (UTC)")
    purges: list[Purge] = []
    holds: list[Hold] = []
    for rec in sorted(state.recordings, key=lambda r: (r.camera_id, r.start, r.id)):
        hold = _holder(rec, state, now)
        limit = state.max_age(rec.camera_id)
        if now >= rec.end + limit:
            if hold is not None:
                holds.append(hold)
            else:
                days = limit.days
                purges.append(Purge(rec, PurgeRule.AGE,
                                    f"ended {rec.end.isoformat()}, past its {days}-day "
                                    "retention"))
            continue
        if not rec.analysed:
            continue
        closed = [c for c in state.cases
                  if c.status is not CaseStatus.OPEN and c.closed_at is not None
                  and c.closed_at <= now and any(overlaps(rec, w) for w in c.scope)]
        if not closed:
            continue
        first = min(closed, key=lambda c: (c.closed_at or now, c.ref))
        if hold is not None:
            holds.append(Hold(rec, hold.case, hold.until, PurgeRule.CASE_CLOSED))
        else:
            purges.append(Purge(rec, PurgeRule.CASE_CLOSED,
                                f"case {first.ref} closed, derived data purged",
                                derived_only=True, case=first.ref))
    return PurgePlan(now, tuple(purges), tuple(holds))


def planned_destruction(rec: RecordingInfo, state: RetentionState, now: datetime) -> datetime:
    """When ``rec``'s footage is due to go, as seen at ``now`` (aware UTC): its end plus its
    camera's max age, or the end of the open case's hold holding it then, if later. A date
    in the past means the next run purges it; the daily run keeps it at most a day more."""
    due = rec.end + state.max_age(rec.camera_id)
    hold = _holder(rec, state, now)
    return max(due, hold.until) if hold is not None else due
