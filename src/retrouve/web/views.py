"""View models of the pages, built by pure functions (no I/O): hit cards with the box to draw
on the thumbnail, and per-camera timelines."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from retrouve.domain import Box, Camera, Hit, Recording, Sighting

#: Context margin of thumbnails, as a share of the box (``analysis.track_builder`` crops the
#: best box plus this margin, clamped to the frame). Must follow that crop to draw the box.
THUMB_MARGIN = 0.15
#: Width of the timeline drawing in SVG user units.
TIMELINE_UNITS = 1000.0


@dataclass(frozen=True)
class Overlay:
    """The best box inside its thumbnail: ``viewBox`` size and the rectangle, in
    original-frame pixels relative to the crop (an SVG scales them with the image)."""

    width: float
    height: float
    x: float
    y: float
    w: float
    h: float

    def fitted(self, box_w: float, box_h: float) -> tuple[float, float, float, float]:
        """The object's rectangle ``(left, top, width, height)`` in CSS pixels of a
        ``box_w`` × ``box_h`` thumbnail container, where the crop is fitted whole and
        centred (``object-fit: contain`` for the image, ``preserveAspectRatio="xMidYMid
        meet"`` for the overlay: the same rule, so the box lies on the object for tall, wide
        and square crops alike, never stretched over the letterbox bars)."""
        scale = min(box_w / self.width, box_h / self.height)
        left = (box_w - self.width * scale) / 2
        top = (box_h - self.height * scale) / 2
        return (left + self.x * scale, top + self.y * scale, self.w * scale, self.h * scale)


def thumbnail_overlay(box: Box, frame_width: int, frame_height: int,
                      margin: float = THUMB_MARGIN) -> Overlay | None:
    """Where ``box`` lies in the thumbnail cropped around it (None if the frame size is
    unknown). Mirrors the crop arithmetic of the track builder."""
    if frame_width <= 0 or frame_height <= 0:
        return None
    mx, my = box.width * margin, box.height * margin
    x0, y0 = max(0, int(box.x0 - mx)), max(0, int(box.y0 - my))
    x1 = min(frame_width, int(box.x1 + mx) + 1)
    y1 = min(frame_height, int(box.y1 + my) + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    return Overlay(float(x1 - x0), float(y1 - y0), round(box.x0 - x0, 1),
                   round(box.y0 - y0, 1), round(box.width, 1), round(box.height, 1))


@dataclass(frozen=True)
class HitCard:
    """One result as the grid shows it. ``start`` is in the camera's zone."""

    track_id: int
    href: str
    thumb_url: str | None
    overlay: Overlay | None
    camera_id: str
    camera_name: str
    start: datetime
    duration_s: float
    object: str
    attributes: tuple[tuple[str, str, float], ...]
    plate: tuple[str, float] | None
    score: float
    #: The object's fragments (1: seen once), the seconds they cover, its other plate reads.
    seen_count: int = 1
    total_duration_s: float = 0.0
    other_plates: tuple[str, ...] = ()
    #: With a plate pattern that fitted only approximately: ``(edits, runner-up read or None)``
    #: (``edits`` characters differ from the pattern; the read when a runner-up matched).
    plate_approx: tuple[int, str | None] | None = None

    @property
    def frame_href(self) -> str:
        """The full-frame page of the hit (``/frame/ID``), with the search it came from (its
        way back to the sequence keeps previous/next)."""
        _, sep, query = self.href.partition("?")
        return f"/frame/{self.track_id}{sep}{query}"


def hit_card(hit: Hit, href: str, camera: Camera | None, recording: Recording | None
             ) -> HitCard:
    overlay = (thumbnail_overlay(hit.box, recording.width, recording.height)
               if recording is not None and hit.thumbnail else None)
    return HitCard(
        track_id=hit.track_id, href=href,
        thumb_url=f"/media/thumb/{hit.track_id}" if hit.thumbnail else None,
        overlay=overlay, camera_id=hit.camera,
        camera_name=camera.name if camera else hit.camera, start=hit.start,
        duration_s=max(0.0, (hit.end - hit.start).total_seconds()), object=hit.object,
        attributes=tuple((k, v, c) for k, (v, c) in sorted(hit.attributes.items())),
        plate=(hit.plate.text, hit.plate.confidence) if hit.plate else None, score=hit.score,
        seen_count=hit.seen_count,
        total_duration_s=(hit.total_duration_s if hit.total_duration_s is not None
                          else max(0.0, (hit.end - hit.start).total_seconds())),
        other_plates=tuple(p for p in hit.plates if not hit.plate or p != hit.plate.text),
        plate_approx=(None if (m := hit.plate_match) is None or not m.approximate
                      else (m.edits, m.read if m.alternative else None)),
    )


@dataclass(frozen=True)
class TimelineMark:
    """A hit on a timeline: ``x``/``w`` in SVG units of :data:`TIMELINE_UNITS`."""

    x: float
    w: float
    href: str
    title: str


@dataclass(frozen=True)
class Timeline:
    """One camera's hits over the window ``start``..``end`` (camera time zone)."""

    camera_id: str
    camera_name: str
    start: datetime
    end: datetime
    marks: tuple[TimelineMark, ...]


def timeline_window(hits: Sequence[Sighting],
                    window: tuple[datetime | None, datetime | None]
                    ) -> tuple[datetime, datetime]:
    """The span the timelines draw: the searched window, each open end taken from the
    ``hits`` (non-empty): the first start, the last end; a minute at least."""
    t0 = window[0] or min((h.start for h in hits), key=lambda d: d.astimezone(UTC))
    t1 = window[1] or max((h.end for h in hits), key=lambda d: d.astimezone(UTC))
    if t1.astimezone(UTC) <= t0.astimezone(UTC):
        t1 = t0 + timedelta(minutes=1)
    return t0, t1


def timelines(
    hits: Sequence[Sighting], window: tuple[datetime | None, datetime | None],
    cameras: Mapping[str, Camera], href_of: Callable[[Sighting], str],
    title_of: Callable[[Sighting], str],
) -> list[Timeline]:
    """Per-camera timelines over ``window`` (its open ends taken from the hits, see
    :func:`timeline_window`)."""
    if not hits:
        return []
    t0, t1 = timeline_window(hits, window)
    # Differences in UTC: aware datetimes of one zone subtract as wall clocks, an hour off
    # across a daylight-saving change.
    u0 = t0.astimezone(UTC)
    span = (t1.astimezone(UTC) - u0).total_seconds()
    by_camera: dict[str, list[TimelineMark]] = {}
    for h in hits:
        x = (h.start.astimezone(UTC) - u0).total_seconds() / span * TIMELINE_UNITS
        w = (h.end.astimezone(UTC) - h.start.astimezone(UTC)).total_seconds() / span \
            * TIMELINE_UNITS
        x = min(max(x, 0.0), TIMELINE_UNITS - 2.0)
        by_camera.setdefault(h.camera, []).append(
            TimelineMark(round(x, 2), round(max(2.0, min(w, TIMELINE_UNITS - x)), 2),
                         href_of(h), title_of(h)))
    out = []
    for cam_id in sorted(by_camera):
        cam = cameras.get(cam_id)
        zone = ZoneInfo(cam.timezone) if cam else t0.tzinfo
        out.append(Timeline(cam_id, cam.name if cam else cam_id, t0.astimezone(zone),
                            t1.astimezone(zone), tuple(by_camera[cam_id])))
    return out
