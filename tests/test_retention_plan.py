"""The pure retention plan: age boundaries, per-camera limits, legal holds, closed cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from retrouve.domain import CaseStatus, ScopeWindow
from retrouve.legal.retention import (
    CaseInfo,
    PurgeRule,
    RecordingInfo,
    RetentionState,
    plan_purge,
    planned_destruction,
)

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)  # a recording ends at T0 (DST change 29 March)


def rec(rid: str = "r1", cam: str = "cam-1", end: datetime = T0,
        analysed: bool = True) -> RecordingInfo:
    return RecordingInfo(rid, cam, end - timedelta(minutes=10), end, "ab" * 32, analysed)


def case(ref: str = "C1", status: CaseStatus = CaseStatus.OPEN, cam: str = "cam-1",
         received: datetime = T0, closed: datetime | None = None) -> CaseInfo:
    window = ScopeWindow(cam, T0 - timedelta(minutes=5), T0 + timedelta(minutes=5))
    return CaseInfo(ref, status, (window,), received, closed)


@pytest.mark.parametrize(("age", "purged"), [
    (timedelta(days=30) - timedelta(microseconds=1), False),
    (timedelta(days=30), True),  # exactly 30 days: purged
    (timedelta(days=31), True),
    (timedelta(days=1), False),
])
def test_age_boundary_at_thirty_days(age: timedelta, purged: bool) -> None:
    plan = plan_purge(T0 + age, RetentionState((rec(),), ()))
    assert [p.recording.id for p in plan.purges] == (["r1"] if purged else [])
    if purged:
        assert plan.purges[0].rule is PurgeRule.AGE and not plan.purges[0].derived_only


def test_utc_ages_ignore_daylight_saving() -> None:
    # 30 days spanning the 29 March change: still 30 × 24 h of UTC.
    plan = plan_purge(T0 + timedelta(days=30), RetentionState((rec(),), ()))
    assert len(plan.purges) == 1
    assert plan_purge(T0 + timedelta(days=29, hours=23, minutes=59),
                      RetentionState((rec(),), ())).purges == ()


def test_per_camera_limit_is_lower() -> None:
    state = RetentionState((rec("a", "cam-1"), rec("b", "cam-2")), (),
                           camera_max_age_days={"cam-2": 7})
    plan = plan_purge(T0 + timedelta(days=7), state)
    assert [p.recording.id for p in plan.purges] == ["b"]
    assert "7-day" in plan.purges[0].reason


def test_open_case_holds_until_its_review_date() -> None:
    state = RetentionState((rec(),), (case(received=T0),), hold_review_days=45)
    held = plan_purge(T0 + timedelta(days=31), state)
    assert held.purges == ()
    assert [(h.recording.id, h.case, h.until) for h in held.holds] == [
        ("r1", "C1", T0 + timedelta(days=45))]
    # The hold is never open-ended: past the review date the age rule applies.
    lapsed = plan_purge(T0 + timedelta(days=45), state)
    assert [p.rule for p in lapsed.purges] == [PurgeRule.AGE] and lapsed.holds == ()


def test_hold_needs_overlap_on_the_same_camera() -> None:
    other_cam = RetentionState((rec(),), (case(cam="cam-9"),), hold_review_days=90)
    assert len(plan_purge(T0 + timedelta(days=31), other_cam).purges) == 1
    before = rec(end=T0 - timedelta(minutes=6))  # ends one minute before the window
    assert len(plan_purge(T0 + timedelta(days=31),
                          RetentionState((before,), (case(),), hold_review_days=90)).purges) == 1


def test_overlapping_holds_keep_the_latest_review_date() -> None:
    state = RetentionState((rec(),), (case("A", received=T0), case("B", received=T0 +
                                                                   timedelta(days=10))),
                           hold_review_days=40)
    plan = plan_purge(T0 + timedelta(days=35), state)
    assert [(h.case, h.until) for h in plan.holds] == [("B", T0 + timedelta(days=50))]


def test_closed_case_purges_derived_data_only() -> None:
    closed = case(status=CaseStatus.CLOSED, closed=T0 + timedelta(days=2))
    state = RetentionState((rec(), rec("r2", analysed=False)), (closed,))
    plan = plan_purge(T0 + timedelta(days=3), state)
    assert [(p.recording.id, p.rule, p.derived_only, p.case) for p in plan.purges] == [
        ("r1", PurgeRule.CASE_CLOSED, True, "C1")]
    # Before the closing, nothing.
    assert plan_purge(T0 + timedelta(days=1), state).purges == ()


def test_closed_case_footage_also_held_by_an_open_case() -> None:
    state = RetentionState((rec(),), (case("old", CaseStatus.CLOSED, closed=T0),
                                      case("new", received=T0)))
    plan = plan_purge(T0 + timedelta(days=3), state)
    assert plan.purges == ()
    assert [(h.case, h.rule) for h in plan.holds] == [("new", PurgeRule.CASE_CLOSED)]


def test_archived_case_counts_as_closed_and_age_wins() -> None:
    archived = case(status=CaseStatus.ARCHIVED, closed=T0)
    plan = plan_purge(T0 + timedelta(days=30), RetentionState((rec(),), (archived,)))
    assert [(p.rule, p.derived_only) for p in plan.purges] == [(PurgeRule.AGE, False)]


def test_naive_now_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        plan_purge(datetime(2026, 1, 1), RetentionState((), ()))


def test_planned_destruction_date_is_the_age_limit_or_a_later_hold() -> None:
    now = T0 + timedelta(days=1)
    plain = RetentionState((rec("a", "cam-1"), rec("b", "cam-2")), (),
                           camera_max_age_days={"cam-2": 7})
    assert planned_destruction(rec("a", "cam-1"), plain, now) == T0 + timedelta(days=30)
    assert planned_destruction(rec("b", "cam-2"), plain, now) == T0 + timedelta(days=7)
    held = RetentionState((rec(),), (case(received=T0),), hold_review_days=45)
    assert planned_destruction(rec(), held, now) == T0 + timedelta(days=45)
    # A hold ending before the age limit does not shorten it; a closed case holds nothing.
    short = RetentionState((rec(),), (case(received=T0),), hold_review_days=10)
    assert planned_destruction(rec(), short, now) == T0 + timedelta(days=30)
    closed = RetentionState((rec(),), (case(status=CaseStatus.CLOSED, closed=T0),),
                            hold_review_days=45)
    assert planned_destruction(rec(), closed, now) == T0 + timedelta(days=30)
