"""The results timelines' time axis (``web/timeline_axis.py``): which step suits a window,
where the ticks fall in the operator's zone (daylight-saving changes included), how they read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from retrouve.web.timeline_axis import (
    MAX_TICKS,
    STEPS,
    AxisStep,
    StepUnit,
    axis_ticks,
    tick_label,
    tick_step,
    ticks,
)

PARIS = ZoneInfo("Europe/Paris")
MIN, HOUR, DAY = 60, 3600, 86_400


def sec(n: int) -> AxisStep:
    return AxisStep(StepUnit.SECOND, n)


@pytest.mark.parametrize(
    ("span_s", "step"),
    [
        (5, sec(1)),  # one short sighting, an open window: every second
        (12, sec(2)),
        (30, sec(5)),  # a 30 s window: 5 s ticks
        (60, sec(10)),
        (80, sec(10)),  # 8 ticks of 10 s fit exactly
        (81, sec(15)),
        (5 * MIN, sec(60)),  # 5 minutes: every minute
        (10 * MIN, sec(2 * MIN)),
        (30 * MIN, sec(5 * MIN)),
        (HOUR, sec(10 * MIN)),  # the usual hour: 6 ticks of 10 minutes
        (2 * HOUR, sec(15 * MIN)),
        (3 * HOUR, sec(30 * MIN)),
        (8 * HOUR, sec(HOUR)),
        (12 * HOUR, sec(2 * HOUR)),
        (DAY, sec(3 * HOUR)),  # a day: every 3 hours
        (2 * DAY, sec(6 * HOUR)),
        (4 * DAY, sec(12 * HOUR)),
        (7 * DAY, AxisStep(StepUnit.DAY, 1)),
        (14 * DAY, AxisStep(StepUnit.DAY, 2)),
        (30 * DAY, AxisStep(StepUnit.DAY, 7)),
        (180 * DAY, AxisStep(StepUnit.MONTH, 1)),
        (2 * 365 * DAY, AxisStep(StepUnit.MONTH, 6)),
        (50 * 365 * DAY, AxisStep(StepUnit.MONTH, 12)),  # nothing fits: the longest
    ],
)
def test_tick_step_table(span_s: int, step: AxisStep) -> None:
    assert tick_step(span_s) == step


def test_steps_are_increasing_and_sub_day_steps_divide_a_day() -> None:
    lengths = [s.approx_seconds for s in STEPS]
    assert lengths == sorted(lengths) and len(set(lengths)) == len(lengths)
    assert all(DAY % s.count == 0 for s in STEPS if s.unit is StepUnit.SECOND)


def test_ticks_fall_on_round_wall_clock_times_of_the_zone() -> None:
    # 09:03–10:07 UTC is 10:03–11:07 in Paris: ticks at Paris's round 10 minutes.
    t0 = datetime(2026, 1, 4, 9, 3, tzinfo=UTC)
    got = axis_ticks(t0, t0 + timedelta(minutes=64), PARIS, sec(10 * MIN))
    assert [f"{t:%H:%M}" for t in got] == ["10:10", "10:20", "10:30", "10:40", "10:50", "11:00"]
    assert all(t.tzinfo == PARIS for t in got)
    # In Kathmandu (UTC+05:45) the same instants tick at Kathmandu's round times.
    ktm = axis_ticks(t0, t0 + timedelta(minutes=64), ZoneInfo("Asia/Kathmandu"), sec(HOUR))
    assert [f"{t:%H:%M}" for t in ktm] == ["15:00"]


def test_ticks_include_both_ends_when_round() -> None:
    t0 = datetime(2026, 1, 4, 9, 0, tzinfo=UTC)  # 10:00 Paris
    got = axis_ticks(t0, t0 + timedelta(hours=1), PARIS, sec(10 * MIN))
    assert len(got) == 7 and got[0] == t0 and got[-1] == t0 + timedelta(hours=1)


def test_spring_forward_has_no_tick_in_the_skipped_hour() -> None:
    # 29 March 2026 in Paris: 02:00 CET becomes 03:00 CEST. From 00:30 to 04:30 local.
    t0 = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    got = axis_ticks(t0, datetime(2026, 3, 29, 2, 30, tzinfo=UTC), PARIS, sec(HOUR))
    assert [f"{t:%H:%M %Z}" for t in got] == ["01:00 CET", "03:00 CEST", "04:00 CEST"]
    # Placed at their real instants: an hour apart, although the labels skip one (aware
    # datetimes of one zone subtract as wall clocks: compare in UTC).
    assert got[1].astimezone(UTC) - got[0].astimezone(UTC) == timedelta(hours=1)
    placed = ticks(t0, datetime(2026, 3, 29, 2, 30, tzinfo=UTC), PARIS, "fr", 180.0, max_ticks=3)
    assert [(k.label, k.x) for k in placed] == [("01:00", 30.0), ("03:00", 90.0), ("04:00", 150.0)]


def test_fall_back_ticks_the_repeated_hour_once_and_stay_in_order() -> None:
    # 25 October 2026 in Paris: 03:00 CEST becomes 02:00 CET. From 00:30 CEST to 03:30 CET.
    t0 = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)
    got = axis_ticks(t0, datetime(2026, 10, 25, 2, 30, tzinfo=UTC), PARIS, sec(HOUR))
    assert [f"{t:%H:%M %Z}" for t in got] == ["01:00 CEST", "02:00 CEST", "03:00 CET"]
    assert got == sorted(got)
    # A day step across the change still ticks at local midnights.
    days = axis_ticks(
        datetime(2026, 10, 20, tzinfo=UTC),
        datetime(2026, 10, 30, tzinfo=UTC),
        PARIS,
        AxisStep(StepUnit.DAY, 2),
    )
    assert {f"{t:%H:%M}" for t in days} == {"00:00"}
    assert [t.day for t in days] == [21, 23, 25, 27, 29]  # even days from the epoch ordinal


def test_week_and_month_steps_align_on_mondays_and_months() -> None:
    weeks = axis_ticks(
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 31, tzinfo=UTC),
        PARIS,
        AxisStep(StepUnit.DAY, 7),
    )
    assert [t.day for t in weeks] == [5, 12, 19, 26] and {t.weekday() for t in weeks} == {0}
    quarters = axis_ticks(
        datetime(2026, 1, 15, tzinfo=UTC),
        datetime(2027, 1, 15, tzinfo=UTC),
        PARIS,
        AxisStep(StepUnit.MONTH, 3),
    )
    assert [f"{t:%Y-%m-%d %H:%M}" for t in quarters] == [
        "2026-04-01 00:00",
        "2026-07-01 00:00",
        "2026-10-01 00:00",
        "2027-01-01 00:00",
    ]


@pytest.mark.parametrize(
    ("step", "fr", "en"),
    [
        (sec(15), "14:05:30", "14:05:30"),
        (sec(10 * MIN), "14:05", "14:05"),
        (AxisStep(StepUnit.DAY, 1), "04/01", "Jan 04"),
        (AxisStep(StepUnit.MONTH, 1), "01/2026", "Jan 2026"),
    ],
)
def test_tick_labels(step: AxisStep, fr: str, en: str) -> None:
    when = datetime(2026, 1, 4, 14, 5, 30, tzinfo=PARIS)
    assert (tick_label(when, step, "fr"), tick_label(when, step, "en")) == (fr, en)


def test_labelled_ticks_carry_position_and_the_day_where_it_changes() -> None:
    # 20:00 on the 4th to 08:00 on the 5th, Paris: 2-hour ticks, the date beside the first
    # tick and beside midnight.
    t0 = datetime(2026, 1, 4, 19, 0, tzinfo=UTC)
    got = ticks(t0, t0 + timedelta(hours=12), PARIS, "fr", 1000.0)
    assert [k.label for k in got] == ["20:00", "22:00", "00:00", "02:00", "04:00", "06:00", "08:00"]
    assert [k.day for k in got] == ["04/01", None, "05/01", None, None, None, None]
    assert [k.x for k in got] == [0.0, 166.67, 333.33, 500.0, 666.67, 833.33, 1000.0]
    assert len(got) <= MAX_TICKS
    assert ticks(t0, t0, PARIS, "fr", 1000.0) == []


def test_timeline_marks_are_placed_by_real_instants_across_a_dst_change() -> None:
    # Window 00:00–06:00 Paris on 29 March 2026 (5 real hours: 02:00–03:00 does not exist);
    # a sighting at 03:30 CEST is 2.5 real hours in, half-way: not 3.5 wall-clock hours.
    from retrouve.domain import Camera, Sighting
    from retrouve.web.views import TIMELINE_UNITS, timeline_window, timelines

    t0 = datetime(2026, 3, 29, 0, 0, tzinfo=PARIS)
    t1 = datetime(2026, 3, 29, 6, 0, tzinfo=PARIS)
    seen = datetime(2026, 3, 29, 3, 30, tzinfo=PARIS)
    hit = Sighting(1, "cam", "car", seen, seen + timedelta(seconds=30))
    (line,) = timelines(
        [hit], (t0, t1), {"cam": Camera("cam", "Nord", "Europe/Paris")}, lambda h: "", lambda h: ""
    )
    assert line.marks[0].x == TIMELINE_UNITS / 2
    # An open window takes its ends from the hits, by instant.
    assert timeline_window([hit], (None, None)) == (seen, seen + timedelta(seconds=30))
