"""Time ticks of the results timelines: which step suits a window, where the ticks fall, and
how they read, in the operator's zone. Pure functions (no I/O, no clock).

The step is the smallest of :data:`STEPS` that puts at most :data:`MAX_TICKS` ticks over the
window (about one every 120 px on a 1280 px screen, where a timeline is ~850 px wide), so
labels never overlap. Ticks fall on round *wall-clock* times of the operator's zone (every
15 minutes from midnight, every local midnight, the first of a month), not on round UTC
instants, so a Paris operator sees 14:00 and not 13:00 + 1 h. Across a daylight-saving change
the wall clock is stepped and each tick placed at its real instant: the skipped hour has no
tick, the repeated hour one tick (its first reading), and the spacing shows the change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

#: Most ticks on one axis (labels of ~6 characters at 0.75rem stay apart at 1280 px).
MAX_TICKS: Final = 8


class StepUnit(StrEnum):
    """What a step counts: seconds of wall-clock time, local days, or calendar months."""

    SECOND = "second"
    DAY = "day"
    MONTH = "month"


@dataclass(frozen=True)
class AxisStep:
    """``count`` units between two ticks. A ``SECOND`` step divides a day (ticks align on
    local midnight); a ``DAY`` step of 7 aligns on Mondays; ``MONTH`` steps on January."""

    unit: StepUnit
    count: int

    @property
    def approx_seconds(self) -> float:
        """The step's length in seconds (a month: 30 days), for choosing a step."""
        return float(
            self.count
            * {StepUnit.SECOND: 1, StepUnit.DAY: 86_400, StepUnit.MONTH: 30 * 86_400}[self.unit]
        )


def _s(n: int) -> AxisStep:
    return AxisStep(StepUnit.SECOND, n)


#: Candidate steps, shortest first: 1 s … 12 h, 1/2/7 days, 1/3/6/12 months. (A single
#: short sighting makes a window of a few seconds: it still gets several ticks.)
STEPS: Final[tuple[AxisStep, ...]] = (
    _s(1),
    _s(2),
    _s(5),
    _s(10),
    _s(15),
    _s(30),
    _s(60),
    _s(120),
    _s(300),
    _s(600),
    _s(900),
    _s(1800),
    _s(3600),
    _s(7200),
    _s(10_800),
    _s(21_600),
    _s(43_200),
    AxisStep(StepUnit.DAY, 1),
    AxisStep(StepUnit.DAY, 2),
    AxisStep(StepUnit.DAY, 7),
    AxisStep(StepUnit.MONTH, 1),
    AxisStep(StepUnit.MONTH, 3),
    AxisStep(StepUnit.MONTH, 6),
    AxisStep(StepUnit.MONTH, 12),
)


def tick_step(span_s: float, max_ticks: int = MAX_TICKS) -> AxisStep:
    """The shortest of :data:`STEPS` with at most ``max_ticks`` steps in ``span_s`` seconds
    (the longest when none fits)."""
    for step in STEPS:
        if span_s / step.approx_seconds <= max_ticks:
            return step
    return STEPS[-1]


def _aware(naive: datetime, zone: ZoneInfo) -> datetime | None:
    """``naive`` wall-clock time in ``zone``; None when the zone skips it (spring gap). A
    repeated time (autumn fold) reads as its first occurrence."""
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return None
    return aware


def _wall_times(start: datetime, step: AxisStep) -> Iterator[datetime]:
    """Round naive wall-clock times from the first at or after ``start`` (naive), forever."""
    if step.unit is StepUnit.SECOND:
        midnight = datetime.combine(start.date(), time())
        k = -(-int((start - midnight).total_seconds()) // step.count)  # ceiling
        t = midnight + timedelta(seconds=k * step.count)
        while True:
            yield t
            t += timedelta(seconds=step.count)
    elif step.unit is StepUnit.DAY:
        d = start.date() if start.time() == time() else start.date() + timedelta(days=1)
        if step.count == 7:
            d += timedelta(days=-d.weekday() % 7)  # the next Monday
        elif step.count > 1:
            d += timedelta(days=-d.toordinal() % step.count)
        while True:
            yield datetime.combine(d, time())
            d += timedelta(days=step.count)
    else:
        m = start.year * 12 + start.month - 1
        if start != datetime(start.year, start.month, 1):
            m += 1
        m += -m % step.count
        while True:
            yield datetime(m // 12, m % 12 + 1, 1)
            m += step.count


def axis_ticks(t0: datetime, t1: datetime, zone: ZoneInfo, step: AxisStep) -> list[datetime]:
    """The round wall-clock times of ``zone`` every ``step`` inside ``[t0, t1]`` (aware),
    as aware instants in ``zone``, in time order."""
    out: list[datetime] = []
    # Compared in UTC: aware datetimes sharing a zone compare as wall clocks (a fold's two
    # readings would tie).
    u0, u1 = t0.astimezone(UTC), t1.astimezone(UTC)
    for naive in _wall_times(t0.astimezone(zone).replace(tzinfo=None), step):
        when = _aware(naive, zone)
        if when is None:
            continue
        if when.astimezone(UTC) > u1:
            return out
        if when.astimezone(UTC) >= u0:
            out.append(when)
    return out  # pragma: no cover - the generator never ends


_MONTHS_EN: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def day_label(day: date, lang: str) -> str:
    """A short date: ``04/01`` in French, ``Jan 04`` in English (no locale involved)."""
    return f"{day:%d/%m}" if lang == "fr" else f"{_MONTHS_EN[day.month - 1]} {day:%d}"


def tick_label(when: datetime, step: AxisStep, lang: str) -> str:
    """How a tick reads (``when`` already in the operator's zone): ``14:05:30`` for steps
    under a minute, ``14:05`` under a day, ``04/01`` for days, ``01/2026`` for months."""
    if step.unit is StepUnit.MONTH:
        return f"{when:%m/%Y}" if lang == "fr" else f"{_MONTHS_EN[when.month - 1]} {when:%Y}"
    if step.unit is StepUnit.DAY:
        return day_label(when.date(), lang)
    return f"{when:%H:%M:%S}" if step.count < 60 else f"{when:%H:%M}"


@dataclass(frozen=True)
class Tick:
    """One tick: its instant (operator zone), position ``x`` in ``0..units``, its label, and
    the day (``04/01``) beside the first tick and each tick of a new day on a sub-day axis."""

    when: datetime
    x: float
    label: str
    day: str | None


def ticks(
    t0: datetime, t1: datetime, zone: ZoneInfo, lang: str, units: float, max_ticks: int = MAX_TICKS
) -> list[Tick]:
    """The labelled ticks of the window ``[t0, t1]`` drawn ``units`` wide, in ``zone``."""
    # In UTC: aware datetimes of one zone subtract as wall clocks (wrong across a DST change).
    u0 = t0.astimezone(UTC)
    span = (t1.astimezone(UTC) - u0).total_seconds()
    if span <= 0:
        return []
    step = tick_step(span, max_ticks)
    out: list[Tick] = []
    last_day: date | None = None
    for when in axis_ticks(t0, t1, zone, step):
        day = when.date()
        dated = step.unit is StepUnit.SECOND and day != last_day
        out.append(
            Tick(
                when,
                round((when.astimezone(UTC) - u0).total_seconds() / span * units, 2),
                tick_label(when, step, lang),
                day_label(day, lang) if dated else None,
            )
        )
        last_day = day
    return out
