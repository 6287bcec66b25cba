"""Which pieces of footage an export holds (pure): one exhibit per marked or named track and
per window the operator picked, each inside the case's scope and cut to its recording.

A track's exhibit runs from its first sighting minus ``margin_s`` to its last plus
``margin_s`` (wall clock), clipped to the scope windows it lies in and to its recording. A
picked window must lie entirely inside one scope window (else ``OutOfScope``); when it spans
several recordings of the camera it gives one exhibit per recording. Times: ``utc_*`` aware
UTC; ``t_*`` recording seconds (0 = the recording's first frame).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from retrouve.domain import Recording, ScopeWindow
from retrouve.errors import ExportError, OutOfScope
from retrouve.store.records import TrackDetail


@dataclass(frozen=True)
class Exhibit:
    """One exhibit: a span of one recording, from a track (``track`` set) or a window."""

    label: str  # E01, E02… (the exhibit's folder in the bundle)
    recording: Recording
    utc_from: datetime
    utc_to: datetime
    track: TrackDetail | None = None

    @property
    def camera_id(self) -> str:
        return self.recording.camera_id

    @property
    def t_from(self) -> float:
        return max(0.0, (self.utc_from - self.recording.start).total_seconds())

    @property
    def t_to(self) -> float:
        return min(self.recording.duration_s,
                   (self.utc_to - self.recording.start).total_seconds())


def _overlaps(w: ScopeWindow, camera: str, a: datetime, b: datetime) -> bool:
    return w.camera == camera and w.start <= b and a <= w.end


def track_span(track: TrackDetail, recording: Recording, scope: Sequence[ScopeWindow],
               margin_s: float) -> tuple[datetime, datetime]:
    """The wall-clock span of a track's exhibit (see the module's rule); ``OutOfScope`` when
    the track lies in no scope window."""
    inside = [w for w in scope if _overlaps(w, track.camera_id, track.start, track.end)]
    if not inside:
        raise OutOfScope(f"track {track.id} is not in the scope of the case")
    margin = timedelta(seconds=margin_s)
    lo = max(track.start - margin, min(w.start for w in inside), recording.start)
    hi = min(track.end + margin, max(w.end for w in inside), recording.end)
    return lo, max(lo, hi)


def window_pieces(window: ScopeWindow, recordings: Sequence[Recording],
                  scope: Sequence[ScopeWindow]) -> list[tuple[Recording, datetime, datetime]]:
    """The recordings (and their parts) a picked window covers; ``OutOfScope`` unless one
    scope window holds it all, ``ExportError`` when no footage lies in it."""
    if not any(w.covers(window) for w in scope):
        raise OutOfScope(f"window {window.text()} is not inside the case's scope")
    pieces = [(r, max(window.start, r.start), min(window.end, r.end))
              for r in sorted(recordings, key=lambda r: r.start)
              if r.camera_id == window.camera and not r.is_image
              and r.start < window.end and window.start < r.end]
    if not pieces:
        raise ExportError(f"window {window.text()}: no footage of camera {window.camera} in it")
    return pieces


def select_exhibits(scope: Sequence[ScopeWindow], tracks: Sequence[TrackDetail],
                    windows: Sequence[ScopeWindow], recordings: Sequence[Recording],
                    margin_s: float) -> list[Exhibit]:
    """Exhibits for ``tracks`` (each once, by start time) then ``windows`` (in order),
    labelled E01, E02…; ``ExportError`` when there is nothing to export."""
    by_id = {r.id: r for r in recordings}
    found: list[tuple[Recording, datetime, datetime, TrackDetail | None]] = []
    seen: set[int] = set()
    for track in sorted(tracks, key=lambda t: (t.start, t.id)):
        if track.id in seen:
            continue
        seen.add(track.id)
        rec = by_id.get(track.recording_id)
        if rec is None:
            raise ExportError(f"track {track.id}: its recording {track.recording_id} is gone")
        lo, hi = track_span(track, rec, scope, margin_s)
        found.append((rec, lo, hi, track))
    for window in windows:
        found += [(r, a, b, None) for r, a, b in window_pieces(window, recordings, scope)]
    if not found:
        raise ExportError("nothing to export: no track of the case is marked relevant and "
                          "no --track or --window was given")
    return [Exhibit(f"E{i:02d}", rec, lo, hi, track)
            for i, (rec, lo, hi, track) in enumerate(found, 1)]
