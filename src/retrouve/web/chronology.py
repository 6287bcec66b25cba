"""The chronology of a case's marked results, built by pure functions (no I/O): the sightings
in time order across cameras, and the per-camera lanes drawn beside them.

Time base: sightings are ordered by their instant (UTC), never by the wall-clock text of their
cameras, so a Paris camera at 10:00:50 CET comes before a London one at 09:01:40 GMT. Each
entry's ``start``/``end`` carry the camera's own zone, so the page's ``fmt_dt`` shows the
operator's time and the camera's beside it when they differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from retrouve.domain import Camera
from retrouve.store.marks import Mark, MarkKind
from retrouve.store.records import TrackDetail
from retrouve.web.views import Overlay, thumbnail_overlay

#: Attributes shown in a sighting's summary (the type is the object's own word already).
SUMMARY_SKIP = frozenset({"vehicle_type"})
#: Height of the lanes drawing (SVG units) per sighting, and the least gap between two
#: consecutive sightings on the time axis, so that their numbers never overlap.
LANE_ROW = 34.0
LANE_MIN_GAP = 22.0
#: Width of one camera's lane and of the times' column on the left (SVG units).
LANE_WIDTH = 120.0
LANE_LEFT = 64.0
LANE_TOP = 44.0


@dataclass(frozen=True)
class ChronoEntry:
    """One marked sighting: ``number`` 1-based in time order; ``start``/``end`` aware, in the
    camera's zone; ``attributes`` ``(name, value)`` best values; ``thumb_url`` the
    scope-checked thumbnail route (None when the track has none)."""

    number: int
    track_id: int
    camera_id: str
    camera_name: str
    start: datetime
    end: datetime
    object: str
    attributes: tuple[tuple[str, str], ...]
    plate: str | None
    thumb_url: str | None
    overlay: Overlay | None
    mark: Mark

    @property
    def relevant(self) -> bool:
        return self.mark.mark is MarkKind.RELEVANT


def chosen_marks(marks: Sequence[Mark], with_rejected: bool) -> list[Mark]:
    """The marks the chronology shows: relevant ones, and not-relevant ones on request."""
    return [m for m in marks if with_rejected or m.mark is MarkKind.RELEVANT]


def chronology(
    marks: Sequence[Mark],
    details: Mapping[int, TrackDetail],
    cameras: Mapping[str, Camera],
    frame_sizes: Mapping[str, tuple[int, int]],
) -> list[ChronoEntry]:
    """The entries of ``marks`` whose track is in ``details`` (the scope-checked lookups:
    a mark on a track now outside the case's scope has none and is left out), ordered by
    start instant, then camera id, then track id. ``frame_sizes``: recording id → (width,
    height) of its frames, to place the box on the thumbnail."""
    found = [(m, details[m.track_id]) for m in marks if m.track_id in details]
    found.sort(key=lambda md: (md[1].start, md[1].camera_id, md[1].id))
    out = []
    for n, (mark, d) in enumerate(found, start=1):
        cam = cameras.get(d.camera_id)
        zone = ZoneInfo(cam.timezone if cam else "UTC")
        size = frame_sizes.get(d.recording_id)
        out.append(
            ChronoEntry(
                number=n,
                track_id=d.id,
                camera_id=d.camera_id,
                camera_name=cam.name if cam else d.camera_id,
                start=d.start.astimezone(zone),
                end=d.end.astimezone(zone),
                object=d.object,
                attributes=tuple(
                    (k, v) for k, (v, _c) in sorted(d.attributes.items()) if k not in SUMMARY_SKIP
                ),
                plate=d.plate.text if d.plate else None,
                thumb_url=f"/media/thumb/{d.id}" if d.thumbnail else None,
                overlay=(thumbnail_overlay(d.box, *size) if size and d.thumbnail else None),
                mark=mark,
            )
        )
    return out


@dataclass(frozen=True)
class LaneDot:
    """A sighting on the lanes: centre ``x``/``y`` (SVG units), its number, track and start
    (aware, the camera's zone: the page writes it in the operator's)."""

    number: int
    track_id: int
    x: float
    y: float
    relevant: bool
    start: datetime


@dataclass(frozen=True)
class Lane:
    """One camera's column: its centre ``x`` and name."""

    camera_id: str
    camera_name: str
    x: float


@dataclass(frozen=True)
class Lanes:
    """A vertical time axis (earliest at the top) with one lane per camera, in order of
    each camera's first sighting; ``start``/``end`` the instants of the axis' ends."""

    lanes: tuple[Lane, ...]
    dots: tuple[LaneDot, ...]
    width: float
    height: float
    top: float
    bottom: float
    start: datetime
    end: datetime
    left: float = LANE_LEFT


def lanes(entries: Sequence[ChronoEntry]) -> Lanes | None:
    """The lanes of ``entries`` (None for none). A dot's height follows its start time over
    the span of the entries, except that two consecutive dots are kept at least
    :data:`LANE_MIN_GAP` apart (the axis is then stretched there, never reordered)."""
    if not entries:
        return None
    order: dict[str, int] = {}
    for e in entries:
        order.setdefault(e.camera_id, len(order))
    names = {e.camera_id: e.camera_name for e in entries}
    t0, t1 = entries[0].start, max(e.start for e in entries)
    span = max((t1 - t0).total_seconds(), 1e-9)
    height_axis = max(LANE_ROW * (len(entries) - 1), LANE_MIN_GAP)
    ys: list[float] = []
    for e in entries:
        y = LANE_TOP + (e.start - t0).total_seconds() / span * height_axis
        if ys and y < ys[-1] + LANE_MIN_GAP:
            y = ys[-1] + LANE_MIN_GAP
        ys.append(y)
    width = LANE_LEFT + LANE_WIDTH * len(order)

    def centre(cam: str) -> float:
        return LANE_LEFT + LANE_WIDTH * (order[cam] + 0.5)

    bottom = max(ys[-1], LANE_TOP + LANE_MIN_GAP)
    return Lanes(
        lanes=tuple(Lane(c, names[c], centre(c)) for c in order),
        dots=tuple(
            LaneDot(e.number, e.track_id, centre(e.camera_id), round(y, 1), e.relevant, e.start)
            for e, y in zip(entries, ys, strict=True)
        ),
        width=width,
        height=bottom + 24,
        top=LANE_TOP,
        bottom=round(bottom, 1),
        start=t0,
        end=t1,
    )


__all__ = ["ChronoEntry", "Lane", "LaneDot", "Lanes", "chosen_marks", "chronology", "lanes"]
